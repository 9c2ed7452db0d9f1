package envoyx

/*
#include "host.h"

static inline envoyx_config_handle* envoyxgo_config_handle_new(envoyx_error* creating) {
  return envoyxgo_host->config_handle_new(creating);
}

static inline bool envoyxgo_config_handle_schedule(envoyx_config_handle* handle,
    uint64_t event_id) {
  return envoyxgo_host->config_handle_schedule(handle, event_id);
}

static inline void envoyxgo_config_handle_release(envoyx_config_handle* handle) {
  envoyxgo_host->config_handle_release(handle);
}

static inline uint64_t envoyxgo_config_http_callout(envoyx_config_handle* handle,
    const char* cluster, size_t cluster_len, const char* buf, const size_t* lens, size_t count,
    const char* body, size_t body_len, uint64_t timeout_ms) {
  uint64_t id;
  ENVOYXGO_WITH_HEADERS(id, buf, lens, count,
      envoyxgo_host->config_http_callout(handle, envoyxgo_bytes(cluster, cluster_len), headers, count, envoyxgo_bytes(body, body_len), timeout_ms));
  return id;
}

static inline uint64_t envoyxgo_config_callout_stream_start(envoyx_config_handle* handle,
    const char* cluster, size_t cluster_len, const char* buf, const size_t* lens, size_t count,
    const char* body, size_t body_len, bool end, uint64_t timeout_ms) {
  uint64_t id;
  ENVOYXGO_WITH_HEADERS(id, buf, lens, count,
      envoyxgo_host->config_callout_stream_start(handle, envoyxgo_bytes(cluster, cluster_len), headers, count, envoyxgo_bytes(body, body_len), end, timeout_ms));
  return id;
}

static inline bool envoyxgo_config_callout_stream_send(envoyx_config_handle* handle, uint64_t id,
    const char* data, size_t len, bool end) {
  return envoyxgo_host->config_callout_stream_send(handle, id, envoyxgo_bytes(data, len), end);
}

static inline bool envoyxgo_config_callout_stream_send_trailers(envoyx_config_handle* handle,
    uint64_t id, const char* buf, const size_t* lens, size_t count) {
  bool sent;
  ENVOYXGO_WITH_HEADERS(sent, buf, lens, count,
      envoyxgo_host->config_callout_stream_send_trailers(handle, id, headers, count));
  return sent;
}

static inline bool envoyxgo_config_callout_stream_reset(envoyx_config_handle* handle, uint64_t id) {
  return envoyxgo_host->config_callout_stream_reset(handle, id);
}
*/
import "C"

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"
)

// ConfigHandle is a filter configuration's handle for background work that outlives streams
// (refreshing keys, reloading a policy, listening for updates): from any goroutine, Schedule runs
// a function on Envoy's main thread with a ConfigContext, where callouts through Envoy's clusters
// may start. It outlives the configuration safely: once the configuration is being destroyed,
// Schedule returns false and nothing more runs.
type ConfigHandle struct {
	mu             sync.Mutex // guards every field: goroutines schedule while the main thread runs
	raw            *C.envoyx_config_handle
	scheduled      map[uint64]func(*ConfigContext)
	next           uint64
	callouts       map[uint64]ConfigCalloutDone
	calloutStreams map[uint64]ConfigCalloutEvents
}

// ConfigCalloutDone receives a configuration's callout outcome on Envoy's main thread.
type ConfigCalloutDone func(c *ConfigContext, response *CalloutResponse, err error)

// ConfigCalloutEvents receives a configuration's streaming callout events on the main thread.
type ConfigCalloutEvents func(c *ConfigContext, id uint64, e CalloutEvent)

// configHandles maps a configuration's handle id (what the host holds) to its ConfigHandle.
var configHandles handles[*ConfigHandle]

// NewConfigHandle returns the handle of the configuration being created: call it in the Factory
// (a second call returns the same handle). Keep it in the FilterConfig, and Release it when done
// (the garbage collector releases it otherwise).
func NewConfigHandle() (*ConfigHandle, error) {
	c := creating.Load()
	if c == nil {
		return nil, errors.New("envoyx: a ConfigHandle is made inside a Factory only (while Envoy creates the configuration)")
	}
	if c.handle != nil {
		return c.handle, nil
	}
	raw := C.envoyxgo_config_handle_new(c.err)
	if raw == nil {
		return nil, errors.New("envoyx: this host delivers no configuration events")
	}
	c.handle = &ConfigHandle{raw: raw}
	runtime.SetFinalizer(c.handle, (*ConfigHandle).Release)
	return c.handle, nil
}

// Schedule runs `fn` on Envoy's main thread, later, never inside this call; functions run one at
// a time, in the order asked for. False (and `fn` never runs) once the configuration's destroy
// has started or after Release.
func (h *ConfigHandle) Schedule(fn func(c *ConfigContext)) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.raw == nil || fn == nil {
		return false
	}
	if h.scheduled == nil {
		h.scheduled = map[uint64]func(*ConfigContext){}
	}
	h.next++
	h.scheduled[h.next] = fn
	if !C.envoyxgo_config_handle_schedule(h.raw, C.uint64_t(h.next)) {
		delete(h.scheduled, h.next)
		return false
	}
	return true
}

// Release gives the handle back; later calls return false. Calling it again does nothing.
func (h *ConfigHandle) Release() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.raw != nil {
		C.envoyxgo_config_handle_release(h.raw)
		h.raw = nil
	}
}

// ConfigContext is a configuration's main-thread context: valid during the function it is
// passed to.
type ConfigContext struct{ h *ConfigHandle }

// HTTPCallout sends a request to Envoy's cluster `cluster` for the configuration, as
// Stream.HTTPCallout does; `done` runs later on the main thread, exactly once, unless the
// configuration is destroyed first. False (logged) when refused.
func (c *ConfigContext) HTTPCallout(cluster string, headers [][2]string, body []byte, timeout time.Duration, done ConfigCalloutDone) bool {
	if done == nil {
		return false
	}
	p := packHeaders(headers)
	h := c.h
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.raw == nil {
		return false
	}
	id := uint64(C.envoyxgo_config_http_callout(h.raw, cstr(cluster), C.size_t(len(cluster)), p.buf(), p.lens(),
		C.size_t(len(headers)), cbytes(body), C.size_t(len(body)), C.uint64_t(timeout.Milliseconds())))
	if id == 0 {
		return false
	}
	if h.callouts == nil {
		h.callouts = map[uint64]ConfigCalloutDone{}
	}
	h.callouts[id] = done
	return true
}

// StartCalloutStream opens a streaming callout for the configuration, as
// Stream.StartCalloutStream does; events run on the main thread. Returns its id, or 0 when
// refused (logged).
func (c *ConfigContext) StartCalloutStream(cluster string, headers [][2]string, body []byte, endOfStream bool, timeout time.Duration, events ConfigCalloutEvents) uint64 {
	if events == nil {
		return 0
	}
	p := packHeaders(headers)
	h := c.h
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.raw == nil {
		return 0
	}
	id := uint64(C.envoyxgo_config_callout_stream_start(h.raw, cstr(cluster), C.size_t(len(cluster)), p.buf(), p.lens(),
		C.size_t(len(headers)), cbytes(body), C.size_t(len(body)), C.bool(endOfStream), C.uint64_t(timeout.Milliseconds())))
	if id != 0 {
		if h.calloutStreams == nil {
			h.calloutStreams = map[uint64]ConfigCalloutEvents{}
		}
		h.calloutStreams[id] = events
	}
	return id
}

// CalloutSend sends the next request body chunk on the configuration's streaming callout `id`.
func (c *ConfigContext) CalloutSend(id uint64, data []byte, endOfStream bool) bool {
	return c.withRaw(func(raw *C.envoyx_config_handle) bool {
		return bool(C.envoyxgo_config_callout_stream_send(raw, C.uint64_t(id), cbytes(data), C.size_t(len(data)), C.bool(endOfStream)))
	})
}

// CalloutSendTrailers ends the request of the configuration's streaming callout `id`.
func (c *ConfigContext) CalloutSendTrailers(id uint64, trailers [][2]string) bool {
	p := packHeaders(trailers)
	return c.withRaw(func(raw *C.envoyx_config_handle) bool {
		return bool(C.envoyxgo_config_callout_stream_send_trailers(raw, C.uint64_t(id), p.buf(), p.lens(), C.size_t(len(trailers))))
	})
}

// CalloutReset abandons the configuration's streaming callout `id`.
func (c *ConfigContext) CalloutReset(id uint64) bool {
	return c.withRaw(func(raw *C.envoyx_config_handle) bool {
		delete(c.h.calloutStreams, id)
		return bool(C.envoyxgo_config_callout_stream_reset(raw, C.uint64_t(id)))
	})
}

// withRaw calls `f` with the host's handle under the lock; false after Release.
func (c *ConfigContext) withRaw(f func(*C.envoyx_config_handle) bool) bool {
	c.h.mu.Lock()
	defer c.h.mu.Unlock()
	return c.h.raw != nil && f(c.h.raw)
}

// onMain runs `call` for configuration `config` on the main thread, logging a panic (there is no
// stream to answer).
func onMain(config C.uintptr_t, what string, call func(h *ConfigHandle)) {
	h, ok := configHandles.get(uintptr(config))
	if !ok {
		return
	}
	defer func() {
		if p := recover(); p != nil {
			logPanic(what, p)
		}
	}()
	call(h)
}

// take removes and returns the entry `id` of `m` under the handle's lock.
func take[F any](h *ConfigHandle, m map[uint64]F, id uint64, last bool) F {
	h.mu.Lock()
	defer h.mu.Unlock()
	f := m[id]
	if last {
		delete(m, id)
	}
	return f
}

//export envoyxGoConfigScheduled
func envoyxGoConfigScheduled(config C.uintptr_t, event C.uint64_t) {
	onMain(config, "a ConfigHandle's scheduled function", func(h *ConfigHandle) {
		if fn := take(h, h.scheduled, uint64(event), true); fn != nil {
			fn(&ConfigContext{h})
		}
	})
}

//export envoyxGoConfigCalloutDone
func envoyxGoConfigCalloutDone(config C.uintptr_t, id C.uint64_t, status C.uint32_t, headers *C.envoyx_header, headersLen C.size_t, body *C.envoyx_bytes, bodyLen C.size_t) {
	onMain(config, "a configuration's ConfigCalloutDone", func(h *ConfigHandle) {
		if done := take(h, h.callouts, uint64(id), true); done != nil {
			response, err := calloutResponse(status, headers, headersLen, body, bodyLen)
			done(&ConfigContext{h}, response, err)
		}
	})
}

//export envoyxGoConfigCalloutEvent
func envoyxGoConfigCalloutEvent(config C.uintptr_t, id C.uint64_t, kind C.uint32_t, status C.uint32_t, headers *C.envoyx_header, headersLen C.size_t, data *C.envoyx_bytes, dataLen C.size_t, end C.bool) {
	onMain(config, fmt.Sprintf("streaming callout %d's ConfigCalloutEvents", id), func(h *ConfigHandle) {
		e := calloutEvent(kind, status, headers, headersLen, data, dataLen, end)
		last := e.Kind == CalloutEventComplete || e.Kind == CalloutEventFailed
		if events := take(h, h.calloutStreams, uint64(id), last); events != nil {
			events(&ConfigContext{h}, uint64(id), e)
		}
	})
}
