// The Go test module: a minimal EnvoyX module built with `go build -buildmode=c-shared`, so the
// core's handling of Go-built modules (never unloaded: a Go runtime cannot leave a process) is
// tested on a real one. It sets the response header `x-go` to its filter_config (or "hello from
// go"). The EnvoyX exports are in exports.c.
package main

/*
#cgo CFLAGS: -I${SRCDIR}/../../../x
#include <stdlib.h>
#include "abi.h"
void gohello_set_response_header(envoyx_stream* stream, char* key, size_t key_len, char* value, size_t value_len);
*/
import "C"

import (
	"sync"
	"unsafe"
)

var (
	mu      sync.Mutex
	configs         = map[uintptr]string{}
	next    uintptr = 1
)

//export goConfigNew
func goConfigNew(config *C.char, length C.long) C.uintptr_t {
	value := C.GoStringN(config, C.int(length))
	if value == "" {
		value = "hello from go"
	}
	mu.Lock()
	defer mu.Unlock()
	handle := next
	next++
	configs[handle] = value
	return C.uintptr_t(handle)
}

//export goConfigDestroy
func goConfigDestroy(handle C.uintptr_t) {
	mu.Lock()
	defer mu.Unlock()
	delete(configs, uintptr(handle))
}

//export goResponseHeaders
func goResponseHeaders(stream *C.envoyx_stream, handle C.uintptr_t) {
	mu.Lock()
	value := configs[uintptr(handle)]
	mu.Unlock()
	// C memory for the call: cgo forbids passing Go memory that C keeps, and the host copies.
	key, val := C.CString("x-go"), C.CString(value)
	defer C.free(unsafe.Pointer(key))
	defer C.free(unsafe.Pointer(val))
	C.gohello_set_response_header(stream, key, 4, val, C.size_t(len(value)))
}

func main() {}
