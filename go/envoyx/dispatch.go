package envoyx

// The Go side of the module's exports (exports.c calls these): each looks up the Go value behind
// the handle the host holds and runs one hook with panic recovery.

/*
// abi.h is x/abi.h, copied into the module (a published Go module holds only its own files;
// rust/build/tests/go_sources.rs checks the copy).
#include "host.h"

static inline void envoyxgo_error_set(envoyx_error* error, const char* message, size_t len) {
  envoyxgo_host->error_set(error, envoyxgo_bytes(message, len));
}

static inline bool envoyxgo_hook_failed(envoyx_stream* stream, const char* reason,
    size_t reason_len) {
  return envoyxgo_host->hook_failed(stream, envoyxgo_bytes(reason, reason_len));
}
*/
import "C"

import (
	"fmt"
	"runtime/debug"
	"sync"
	"unsafe"
)

// streamState is one stream's Go side: its filter and the functions scheduled on it.
type streamState struct {
	filter Filter
	// stream is what each hook is passed: one per stream rather than one per hook (no
	// allocation per hook); its raw pointer is set for the hook's duration only.
	stream Stream

	mu        sync.Mutex // guards what other goroutines touch: the scheduled functions
	scheduled map[uint64]func(*Stream)
	nextEvent uint64
	callouts  map[uint64]CalloutDone // by callout id; guarded by mu as well
	// calloutStreams are the open streaming callouts' handlers, by id; guarded by mu.
	calloutStreams map[uint64]CalloutEvents
}

var (
	configs handles[FilterConfig]
	streams handles[*streamState]
)

//export envoyxGoConfigNew
func envoyxGoConfigNew(name *C.char, nameLen C.size_t, config *C.char, configLen C.size_t, err *C.envoyx_error) C.uintptr_t {
	return create(name, nameLen, config, configLen, err, "factory", func(name string, config []byte) (uintptr, error) {
		factory, e := factoryFor(name)
		if e != nil {
			return 0, e
		}
		c := &creation{err: err} // metrics and a ConfigHandle may be made while the factory runs
		creating.Store(c)
		defer creating.Store(nil)
		cfg, e := factory(name, config)
		if e != nil {
			return 0, e
		}
		id := configs.add(cfg)
		if c.handle != nil {
			configHandles.set(id, c.handle)
		}
		return id, nil
	})
}

// create runs a factory on Envoy's main thread for the `name` and `config` the host passed: its
// handle, or 0 with the error (or a recovered panic) reported through `err`.
func create(name *C.char, nameLen C.size_t, config *C.char, configLen C.size_t, err *C.envoyx_error, what string, build func(string, []byte) (uintptr, error)) (handle C.uintptr_t) {
	fail := func(message string) {
		C.envoyxgo_error_set(err, cstr(message), C.size_t(len(message)))
		handle = 0
	}
	defer func() {
		if p := recover(); p != nil {
			fail(fmt.Sprintf("the Go module panicked in its %s: %v", what, p))
		}
	}()
	made, e := build(C.GoStringN(name, C.int(nameLen)), C.GoBytes(unsafe.Pointer(config), C.int(configLen)))
	if e != nil {
		fail(e.Error())
		return 0
	}
	return C.uintptr_t(made)
}

//export envoyxGoConfigDestroy
func envoyxGoConfigDestroy(handle C.uintptr_t) {
	configs.remove(uintptr(handle))
	configHandles.remove(uintptr(handle))
}

//export envoyxGoStreamNew
func envoyxGoStreamNew(config C.uintptr_t, stream *C.envoyx_stream) (handle C.uintptr_t) {
	defer func() {
		if p := recover(); p != nil {
			hookFailed(stream, "NewFilter", p)
			handle = 0 // the host answers the stream with a 500
		}
	}()
	cfg, ok := configs.get(uintptr(config))
	if !ok {
		return 0
	}
	state := &streamState{filter: cfg.NewFilter()}
	id := streams.add(state)
	state.stream.state = id
	return C.uintptr_t(id)
}

//export envoyxGoStreamDestroy
func envoyxGoStreamDestroy(handle C.uintptr_t) { streams.remove(uintptr(handle)) }

// run calls one hook of the stream's filter. A panic is recovered and reported to the host
// (`hook_failed`), which ends the stream as the contract decides (a 500 before the response
// started on the request side, else a reset) and calls no further hook of the filter; run then
// returns `stopped`.
func run[R ~uint32](s *C.envoyx_stream, handle C.uintptr_t, hook string, stopped R, call func(*streamState, *Stream) R) (status R) {
	state, ok := streams.get(uintptr(handle))
	if !ok {
		return stopped
	}
	stream := &state.stream
	stream.raw = s
	defer func() {
		if p := recover(); p != nil {
			hookFailed(s, hook, p)
			status = stopped
		}
		stream.raw = nil // a Stream used past its hook is refused (the host logs a NULL stream)
	}()
	return call(state, stream)
}

//export envoyxGoHeaders
func envoyxGoHeaders(s *C.envoyx_stream, handle C.uintptr_t, response C.int, end C.bool) C.uint32_t {
	if response != 0 {
		return C.uint32_t(run(s, handle, "OnResponseHeaders", HeadersStopIteration, func(st *streamState, s *Stream) HeadersStatus {
			return st.filter.OnResponseHeaders(s, bool(end))
		}))
	}
	return C.uint32_t(run(s, handle, "OnRequestHeaders", HeadersStopIteration, func(st *streamState, s *Stream) HeadersStatus {
		return st.filter.OnRequestHeaders(s, bool(end))
	}))
}

//export envoyxGoBody
func envoyxGoBody(s *C.envoyx_stream, handle C.uintptr_t, response C.int, end C.bool) C.uint32_t {
	if response != 0 {
		return C.uint32_t(run(s, handle, "OnResponseBody", BodyStopNoBuffer, func(st *streamState, s *Stream) BodyStatus {
			return st.filter.OnResponseBody(s, bool(end))
		}))
	}
	return C.uint32_t(run(s, handle, "OnRequestBody", BodyStopNoBuffer, func(st *streamState, s *Stream) BodyStatus {
		return st.filter.OnRequestBody(s, bool(end))
	}))
}

//export envoyxGoTrailers
func envoyxGoTrailers(s *C.envoyx_stream, handle C.uintptr_t, response C.int) C.uint32_t {
	if response != 0 {
		return C.uint32_t(run(s, handle, "OnResponseTrailers", TrailersStopIteration, func(st *streamState, s *Stream) TrailersStatus {
			return st.filter.OnResponseTrailers(s)
		}))
	}
	return C.uint32_t(run(s, handle, "OnRequestTrailers", TrailersStopIteration, func(st *streamState, s *Stream) TrailersStatus {
		return st.filter.OnRequestTrailers(s)
	}))
}

//export envoyxGoComplete
func envoyxGoComplete(s *C.envoyx_stream, handle C.uintptr_t) {
	run(s, handle, "OnComplete", uint32(0), func(st *streamState, s *Stream) uint32 {
		st.filter.OnComplete(s)
		return 0
	})
}

// envoyxGoScheduled runs a function StreamHandle.Schedule queued. A panic in it is treated as
// on the request path: a 500 while the response has not started, else a reset.
//
//export envoyxGoScheduled
func envoyxGoScheduled(s *C.envoyx_stream, handle C.uintptr_t, event C.uint64_t) {
	run(s, handle, "a scheduled function", uint32(0), func(st *streamState, s *Stream) uint32 {
		if fn := st.take(uint64(event)); fn != nil {
			fn(s)
		}
		return 0
	})
}

// envoyxGoWatermark hands the host's flow-control news (ABI 1.2) to a filter that implements
// WatermarkFilter. A panic in it is treated as on the request path, as a scheduled function's.
//
//export envoyxGoWatermark
func envoyxGoWatermark(s *C.envoyx_stream, handle C.uintptr_t, direction C.uint32_t, above C.bool) {
	run(s, handle, "OnWatermark", uint32(0), func(st *streamState, s *Stream) uint32 {
		if f, ok := st.filter.(WatermarkFilter); ok {
			f.OnWatermark(s, Direction(direction), bool(above))
		}
		return 0
	})
}

// envoyxGoLocalReply hands the news of a local reply (ABI 1.2) to a filter that implements
// LocalReplyFilter; a panic in it lets the reply go on.
//
//export envoyxGoLocalReply
func envoyxGoLocalReply(s *C.envoyx_stream, handle C.uintptr_t, status C.uint32_t, details *C.char, detailsLen C.size_t, resetImminent C.bool) C.uint32_t {
	text := C.GoStringN(details, C.int(detailsLen))
	return C.uint32_t(run(s, handle, "OnLocalReply", LocalReplyContinue, func(st *streamState, s *Stream) LocalReplyStatus {
		if f, ok := st.filter.(LocalReplyFilter); ok {
			return f.OnLocalReply(s, int(status), text, bool(resetImminent))
		}
		return LocalReplyContinue
	}))
}

// queue keeps `fn` under a new event id.
func (st *streamState) queue(fn func(*Stream)) uint64 {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.scheduled == nil {
		st.scheduled = map[uint64]func(*Stream){}
	}
	st.nextEvent++
	st.scheduled[st.nextEvent] = fn
	return st.nextEvent
}

// take removes and returns the function of `event` (nil when it is gone).
func (st *streamState) take(event uint64) func(*Stream) {
	st.mu.Lock()
	defer st.mu.Unlock()
	fn := st.scheduled[event]
	delete(st.scheduled, event)
	return fn
}

func logPanic(hook string, p any) {
	Log(LevelError, fmt.Sprintf("envoyx Go module panicked in %s: %v\n%s", hook, p, debug.Stack()))
}

// hookFailed reports a panic recovered in `hook` of stream `s` to the host, which logs it (one
// line) and ends the stream; the stack goes to the debug log. If the host refuses (it cannot on
// a stream whose hook runs), the panic is logged here.
func hookFailed(s *C.envoyx_stream, hook string, p any) {
	reason := fmt.Sprintf("panicked in %s: %v", hook, p)
	if LogEnabled(LevelDebug) {
		Log(LevelDebug, fmt.Sprintf("envoyx Go module: the stack of the panic in %s: %s", hook, debug.Stack()))
	}
	if !bool(C.envoyxgo_hook_failed(s, cstr(reason), C.size_t(len(reason)))) {
		logPanic(hook, p)
	}
}

// cstr points C at a Go string's bytes for the duration of one call (the host copies what it
// keeps; string bytes hold no Go pointers, as cgo's rules require).
func cstr(s string) *C.char { return (*C.char)(unsafe.Pointer(unsafe.StringData(s))) }

// cbytes points C at a Go byte slice for the duration of one call (as cstr).
func cbytes(b []byte) *C.char { return (*C.char)(unsafe.Pointer(unsafe.SliceData(b))) }
