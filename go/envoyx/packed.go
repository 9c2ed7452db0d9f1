package envoyx

/*
#include "host.h"
*/
import "C"

import (
	"unsafe"

	"github.com/envoyx/envoyx/go/internal/pack"
)

// packed is a list of strings handed to C for one call (see internal/pack; host.h unpacks).
type packed struct {
	bytes   []byte
	lengths []uint64
}

func packStrings(strs ...string) packed {
	b, l := pack.Strings(strs...)
	return packed{b, l}
}

func packHeaders(headers [][2]string) packed {
	b, l := pack.Headers(headers)
	return packed{b, l}
}

func (p packed) buf() *C.char { return (*C.char)(unsafe.Pointer(unsafe.SliceData(p.bytes))) }

// lens views the lengths as size_t, which is uint64 on the platforms EnvoyX runs on.
func (p packed) lens() *C.size_t { return (*C.size_t)(unsafe.Pointer(unsafe.SliceData(p.lengths))) }

// The assertion that C's size_t is 64 bits wide: an array of negative length does not compile.
var _ [unsafe.Sizeof(C.size_t(0)) - 8]byte
