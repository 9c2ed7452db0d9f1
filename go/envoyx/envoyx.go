// Package envoyx writes EnvoyX filters in Go: a module is a Go `main` package built with
// `go build -buildmode=c-shared` that imports this package (which exports the `envoyx_*`
// functions of x/abi.h) and registers its filters by name in init functions. This first cut
// speaks ABI 1.0: headers, local replies, resets and logging; bodies, continues and the ABI 1.1
// capabilities come next.
//
//	func init() { envoyx.Register("my_filter", func(name string, config []byte) (envoyx.FilterConfig, error) { ... }) }
//
// One module, many filters: an Envoy process can hold one Go runtime, so every Go filter it runs
// must be in one module. The configuration's `name` picks the filter; a module that registers
// one filter takes any name.
//
// Threads: a filter configuration is shared by Envoy's worker threads (it must be safe for
// concurrent use); a Filter belongs to one stream and is called on that stream's thread, one
// hook at a time. A Stream is valid only during the hook it is passed to.
//
// cgo: nothing the host is given points into Go memory after the call returns, and the host's
// views (header values) are copied into Go strings before the hook returns. A panic in a hook is
// recovered: the stream gets a 500 on the request path and is reset on the response path, and
// the filter gets no further hooks; Envoy keeps serving.
package envoyx

/*
#cgo CFLAGS: -I${SRCDIR}/../../x
#include <stdlib.h>
#include "abi.h"
void envoyx_go_error_set(envoyx_error* error, const char* message, size_t len);
bool envoyx_go_log_enabled(uint32_t level);
void envoyx_go_log(uint32_t level, const char* message, size_t len);
size_t envoyx_go_header_get(envoyx_stream* stream, uint32_t map, const char* key, size_t key_len, envoyx_bytes* values, size_t cap);
size_t envoyx_go_header_all(envoyx_stream* stream, uint32_t map, envoyx_header* headers, size_t cap);
bool envoyx_go_header_set(envoyx_stream* stream, uint32_t map, const char* key, size_t key_len, const char* value, size_t value_len, bool add);
size_t envoyx_go_header_remove(envoyx_stream* stream, uint32_t map, const char* key, size_t key_len);
bool envoyx_go_send_local_reply(envoyx_stream* stream, uint32_t status, const char** strings, const size_t* lens, size_t count, const char* body, size_t body_len, const char* details, size_t details_len);
void envoyx_go_reset(envoyx_stream* stream);
*/
import "C"

import (
	"errors"
	"fmt"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"unsafe"
)

// HeadersStatus, BodyStatus and TrailersStatus are what hooks return (Envoy's own values).
type (
	HeadersStatus  uint32
	BodyStatus     uint32
	TrailersStatus uint32
)

const (
	HeadersContinue      HeadersStatus  = 0
	HeadersStopIteration HeadersStatus  = 1
	BodyContinue         BodyStatus     = 0
	BodyStopAndBuffer    BodyStatus     = 1
	TrailersContinue     TrailersStatus = 0
)

// Filter is one stream's filter. Embed DefaultFilter for the hooks you do not need.
type Filter interface {
	OnRequestHeaders(s *Stream, endOfStream bool) HeadersStatus
	OnRequestBody(s *Stream, endOfStream bool) BodyStatus
	OnRequestTrailers(s *Stream) TrailersStatus
	OnResponseHeaders(s *Stream, endOfStream bool) HeadersStatus
	OnResponseBody(s *Stream, endOfStream bool) BodyStatus
	OnResponseTrailers(s *Stream) TrailersStatus
	// OnComplete is called once when the stream is over (finished, reset or answered locally).
	OnComplete(s *Stream)
}

// DefaultFilter lets everything through; embed it and override what you need.
type DefaultFilter struct{}

func (DefaultFilter) OnRequestHeaders(*Stream, bool) HeadersStatus  { return HeadersContinue }
func (DefaultFilter) OnRequestBody(*Stream, bool) BodyStatus        { return BodyContinue }
func (DefaultFilter) OnRequestTrailers(*Stream) TrailersStatus      { return TrailersContinue }
func (DefaultFilter) OnResponseHeaders(*Stream, bool) HeadersStatus { return HeadersContinue }
func (DefaultFilter) OnResponseBody(*Stream, bool) BodyStatus       { return BodyContinue }
func (DefaultFilter) OnResponseTrailers(*Stream) TrailersStatus     { return TrailersContinue }
func (DefaultFilter) OnComplete(*Stream)                            {}

// FilterConfig is one filter configuration: shared by every stream, on every worker thread.
type FilterConfig interface {
	NewFilter() Filter
}

// Factory parses a filter configuration (`name` and the `filter_config` bytes); an error
// refuses it, and the host reports the error's text.
type Factory func(name string, config []byte) (FilterConfig, error)

var factories = map[string]Factory{}

// Register adds the filter `name` to the module; call it from an init function.
func Register(name string, f Factory) { factories[name] = f }

// factoryFor picks the filter a configuration names (any name when the module has one filter).
func factoryFor(name string) (Factory, error) {
	if f, ok := factories[name]; ok {
		return f, nil
	}
	names := make([]string, 0, len(factories))
	for n, f := range factories {
		if len(factories) == 1 {
			return f, nil
		}
		names = append(names, n)
	}
	sort.Strings(names)
	if len(names) == 0 {
		return nil, errors.New("the Go module registered no filter (call envoyx.Register in an init function)")
	}
	return nil, fmt.Errorf("the Go module has no filter named %q (it has %s)", name, strings.Join(names, ", "))
}

// handles maps the integers the host holds to Go values (the host never holds a Go pointer).
type handles[T any] struct {
	mu     sync.Mutex
	values map[uintptr]T
	next   uintptr
}

func (h *handles[T]) add(value T) uintptr {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.values == nil {
		h.values = map[uintptr]T{}
	}
	h.next++
	h.values[h.next] = value
	return h.next
}

func (h *handles[T]) get(handle uintptr) (T, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	value, ok := h.values[handle]
	return value, ok
}

func (h *handles[T]) remove(handle uintptr) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.values, handle)
}

type streamState struct {
	filter   Filter
	panicked bool
}

var (
	configs handles[FilterConfig]
	streams handles[*streamState]
)

//export envoyxGoConfigNew
func envoyxGoConfigNew(name *C.char, nameLen C.size_t, config *C.char, configLen C.size_t, err *C.envoyx_error) (handle C.uintptr_t) {
	fail := func(message string) {
		text := C.CString(message)
		defer C.free(unsafe.Pointer(text))
		C.envoyx_go_error_set(err, text, C.size_t(len(message)))
		handle = 0
	}
	defer func() {
		if p := recover(); p != nil {
			fail(fmt.Sprintf("the Go module panicked in its factory: %v", p))
		}
	}()
	filterName := C.GoStringN(name, C.int(nameLen))
	factory, e := factoryFor(filterName)
	if e != nil {
		fail(e.Error())
		return 0
	}
	cfg, e := factory(filterName, C.GoBytes(unsafe.Pointer(config), C.int(configLen)))
	if e != nil {
		fail(e.Error())
		return 0
	}
	return C.uintptr_t(configs.add(cfg))
}

//export envoyxGoConfigDestroy
func envoyxGoConfigDestroy(handle C.uintptr_t) { configs.remove(uintptr(handle)) }

//export envoyxGoStreamNew
func envoyxGoStreamNew(config C.uintptr_t, stream *C.envoyx_stream) (handle C.uintptr_t) {
	defer func() {
		if p := recover(); p != nil {
			logPanic("NewFilter", p)
			handle = 0 // the host answers the stream with a 500
		}
	}()
	cfg, ok := configs.get(uintptr(config))
	if !ok {
		return 0
	}
	return C.uintptr_t(streams.add(&streamState{filter: cfg.NewFilter()}))
}

//export envoyxGoStreamDestroy
func envoyxGoStreamDestroy(handle C.uintptr_t) { streams.remove(uintptr(handle)) }

// run calls one hook of the stream's filter; after a panic, ends the stream (500 on the request
// path, reset on the response path) and returns `stopped`.
func run[R ~uint32](s *C.envoyx_stream, handle C.uintptr_t, hook string, response bool, stopped R, call func(Filter, *Stream) R) (status R) {
	state, ok := streams.get(uintptr(handle))
	if !ok || state.panicked {
		return stopped
	}
	stream := &Stream{raw: s}
	defer func() {
		if p := recover(); p != nil {
			state.panicked = true
			logPanic(hook, p)
			if response || !stream.SendLocalReply(500, nil, nil, "envoyx_module_panic") {
				stream.Reset()
			}
			status = stopped
		}
		stream.raw = nil
	}()
	return call(state.filter, stream)
}

//export envoyxGoHeaders
func envoyxGoHeaders(s *C.envoyx_stream, handle C.uintptr_t, response C.int, end C.bool) C.uint32_t {
	if response != 0 {
		return C.uint32_t(run(s, handle, "OnResponseHeaders", true, HeadersStopIteration, func(f Filter, st *Stream) HeadersStatus {
			return f.OnResponseHeaders(st, bool(end))
		}))
	}
	return C.uint32_t(run(s, handle, "OnRequestHeaders", false, HeadersStopIteration, func(f Filter, st *Stream) HeadersStatus {
		return f.OnRequestHeaders(st, bool(end))
	}))
}

//export envoyxGoBody
func envoyxGoBody(s *C.envoyx_stream, handle C.uintptr_t, response C.int, end C.bool) C.uint32_t {
	const stop = BodyStatus(3) // stop, keep nothing: the stream is being ended
	if response != 0 {
		return C.uint32_t(run(s, handle, "OnResponseBody", true, stop, func(f Filter, st *Stream) BodyStatus {
			return f.OnResponseBody(st, bool(end))
		}))
	}
	return C.uint32_t(run(s, handle, "OnRequestBody", false, stop, func(f Filter, st *Stream) BodyStatus {
		return f.OnRequestBody(st, bool(end))
	}))
}

//export envoyxGoTrailers
func envoyxGoTrailers(s *C.envoyx_stream, handle C.uintptr_t, response C.int) C.uint32_t {
	const stop = TrailersStatus(1)
	if response != 0 {
		return C.uint32_t(run(s, handle, "OnResponseTrailers", true, stop, func(f Filter, st *Stream) TrailersStatus {
			return f.OnResponseTrailers(st)
		}))
	}
	return C.uint32_t(run(s, handle, "OnRequestTrailers", false, stop, func(f Filter, st *Stream) TrailersStatus {
		return f.OnRequestTrailers(st)
	}))
}

//export envoyxGoComplete
func envoyxGoComplete(s *C.envoyx_stream, handle C.uintptr_t) {
	run(s, handle, "OnComplete", true, uint32(0), func(f Filter, st *Stream) uint32 {
		f.OnComplete(st)
		return 0
	})
}

func logPanic(hook string, p any) {
	Log(LevelError, fmt.Sprintf("envoyx Go module panicked in %s: %v\n%s", hook, p, debug.Stack()))
}

// Level is a log level (x/abi.h's ENVOYX_LOG_*).
type Level uint32

const (
	LevelTrace Level = iota
	LevelDebug
	LevelInfo
	LevelWarn
	LevelError
)

// Log writes `message` to Envoy's log (nothing is formatted when the level is off: check
// LogEnabled first for costly messages).
func Log(level Level, message string) {
	if !bool(C.envoyx_go_log_enabled(C.uint32_t(level))) {
		return
	}
	C.envoyx_go_log(C.uint32_t(level), cstr(message), C.size_t(len(message)))
}

// LogEnabled tells whether Log at `level` writes anything.
func LogEnabled(level Level) bool { return bool(C.envoyx_go_log_enabled(C.uint32_t(level))) }

// cstr points C at a Go string's bytes for the duration of one call (the host copies what it
// keeps; string bytes hold no Go pointers, as cgo's rules require).
func cstr(s string) *C.char { return (*C.char)(unsafe.Pointer(unsafe.StringData(s))) }

// Stream is the stream a hook runs for; valid during that hook only.
type Stream struct{ raw *C.envoyx_stream }

// RequestHeaders, ResponseHeaders, RequestTrailers and ResponseTrailers are the stream's header
// maps (available from the hook of that map on).
func (s *Stream) RequestHeaders() Headers   { return Headers{s, 0} }
func (s *Stream) RequestTrailers() Headers  { return Headers{s, 1} }
func (s *Stream) ResponseHeaders() Headers  { return Headers{s, 2} }
func (s *Stream) ResponseTrailers() Headers { return Headers{s, 3} }

// SendLocalReply answers the stream from the filter; false when refused (the host logs why).
func (s *Stream) SendLocalReply(status int, headers [][2]string, body []byte, details string) bool {
	n := len(headers)
	// The header list goes to the host in C memory: Go memory holding pointers may not.
	stringsC := (**C.char)(C.malloc(C.size_t(2*n+1) * C.size_t(unsafe.Sizeof((*C.char)(nil)))))
	lensC := (*C.size_t)(C.malloc(C.size_t(2*n+1) * C.size_t(unsafe.Sizeof(C.size_t(0)))))
	defer C.free(unsafe.Pointer(stringsC))
	defer C.free(unsafe.Pointer(lensC))
	texts, lens := unsafe.Slice(stringsC, 2*n), unsafe.Slice(lensC, 2*n)
	for i, h := range headers {
		texts[i], lens[i] = C.CString(h[0]), C.size_t(len(h[0]))
		texts[n+i], lens[n+i] = C.CString(h[1]), C.size_t(len(h[1]))
	}
	defer func() {
		for _, text := range texts {
			C.free(unsafe.Pointer(text))
		}
	}()
	var bodyC *C.char
	if len(body) > 0 {
		bodyC = (*C.char)(C.CBytes(body))
		defer C.free(unsafe.Pointer(bodyC))
	}
	return bool(C.envoyx_go_send_local_reply(s.raw, C.uint32_t(status), stringsC, lensC, C.size_t(n),
		bodyC, C.size_t(len(body)), cstr(details), C.size_t(len(details))))
}

// Reset resets the stream.
func (s *Stream) Reset() { C.envoyx_go_reset(s.raw) }

// Headers is one of the stream's header maps. Names are case-insensitive; values are copied out
// of Envoy's memory into Go strings.
type Headers struct {
	s     *Stream
	which uint32
}

// Values returns every value of `key`, in order.
func (h Headers) Values(key string) []string {
	var views [8]C.envoyx_bytes
	total := int(C.envoyx_go_header_get(h.s.raw, C.uint32_t(h.which), cstr(key), C.size_t(len(key)), &views[0], 8))
	buf := views[:]
	if total > len(views) {
		buf = make([]C.envoyx_bytes, total)
		total = int(C.envoyx_go_header_get(h.s.raw, C.uint32_t(h.which), cstr(key), C.size_t(len(key)), &buf[0], C.size_t(total)))
	}
	values := make([]string, 0, total)
	for _, v := range buf[:min(total, len(buf))] {
		values = append(values, C.GoStringN((*C.char)(unsafe.Pointer(v.ptr)), C.int(v.len)))
	}
	return values
}

// Get returns the first value of `key`.
func (h Headers) Get(key string) (string, bool) {
	values := h.Values(key)
	if len(values) == 0 {
		return "", false
	}
	return values[0], true
}

// Set replaces every value of `key`; false when the host refuses the header (and logs why).
func (h Headers) Set(key, value string) bool {
	return bool(C.envoyx_go_header_set(h.s.raw, C.uint32_t(h.which), cstr(key), C.size_t(len(key)), cstr(value), C.size_t(len(value)), false))
}

// Add adds one more value of `key`.
func (h Headers) Add(key, value string) bool {
	return bool(C.envoyx_go_header_set(h.s.raw, C.uint32_t(h.which), cstr(key), C.size_t(len(key)), cstr(value), C.size_t(len(value)), true))
}

// Remove removes every value of `key`; returns how many there were.
func (h Headers) Remove(key string) int {
	return int(C.envoyx_go_header_remove(h.s.raw, C.uint32_t(h.which), cstr(key), C.size_t(len(key))))
}

// All returns every entry, in order (a key with two values appears twice).
func (h Headers) All() [][2]string {
	var first [32]C.envoyx_header
	total := int(C.envoyx_go_header_all(h.s.raw, C.uint32_t(h.which), &first[0], 32))
	buf := first[:]
	if total > len(first) {
		buf = make([]C.envoyx_header, total)
		total = int(C.envoyx_go_header_all(h.s.raw, C.uint32_t(h.which), &buf[0], C.size_t(total)))
	}
	all := make([][2]string, 0, total)
	for _, e := range buf[:min(total, len(buf))] {
		all = append(all, [2]string{
			C.GoStringN((*C.char)(unsafe.Pointer(e.key.ptr)), C.int(e.key.len)),
			C.GoStringN((*C.char)(unsafe.Pointer(e.value.ptr)), C.int(e.value.len)),
		})
	}
	return all
}
