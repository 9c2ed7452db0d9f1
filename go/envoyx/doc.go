// Package envoyx writes EnvoyX filters in Go: a module is a Go `main` package built with
// `go build -buildmode=c-shared` that imports this package (which exports the `envoyx_*`
// functions of x/abi.h, ABI 1.2) and registers its filters by name in init functions.
//
//	func init() { envoyx.Register("my_filter", func(name string, config []byte) (envoyx.FilterConfig, error) { ... }) }
//
// One module, many filters: an Envoy process can hold one Go runtime, so every Go filter it runs
// must be in one module. The configuration's `name` picks the filter; a module that registers
// one filter takes any name.
//
// # Threads
//
// A FilterConfig is shared by Envoy's worker threads: it must be safe for concurrent use. A
// Filter belongs to one stream and is called on that stream's worker thread, one hook at a time.
// A *Stream is valid only during the hook (or scheduled function) it is passed to. To act after
// work on another goroutine, return a Stop status, keep a StreamHandle, and Continue or Schedule
// from that goroutine.
//
// # GOMAXPROCS
//
// Envoy's worker threads call into Go and keep a Go processor (P) between calls. At program init
// the SDK raises GOMAXPROCS to the proxy's worker count plus one, so a P stays idle and the
// runtime does not hand a worker's P away between calls (the CPU count alone, as in a pod
// limited to one CPU, gives one P: measured twice the context switches and about 20 µs more
// Envoy CPU per request; docs/benchmarks.md). GOMAXPROCS set in Envoy's environment is used as
// it is. The log says when the SDK changed it. A worker calling in steadily also lets the Go
// scheduler run once every 9 ms, before a stream hook, so the runtime does not take its P back
// for a goroutine that never yields (without it, most of a Go filter's extra cost per request;
// nothing for a filter to do or set).
//
// # Memory and cgo
//
// Header values are copied into Go strings. Body slices ([Body.Slices]) are views straight into
// Envoy's buffers, writable in place, valid until the body is changed or the hook returns; copy
// what must outlive that. Nothing the host is given points into Go memory after the call it is
// passed to returns, and no Go memory holding Go pointers is ever passed (cgo's rules; the tests
// run with GODEBUG=cgocheck=1).
//
// # Panics
//
// A panic in a hook is recovered and reported to the host (x/abi.h's hook_failed), which ends
// the stream as it does for every module: a 500 on the request path while the response has not
// started, a reset otherwise; it logs one line with the panic's value (the stack goes to the
// debug log), calls no further hook of the filter, and Envoy keeps serving.
package envoyx
