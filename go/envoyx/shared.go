package envoyx

/*
#include "host.h"

static inline envoyx_shared_status envoyxgo_shared_data_get(const char* key, size_t key_len,
    char* buf, size_t cap, size_t* len, uint64_t* cas) {
  if (envoyxgo_host == NULL) return ENVOYX_SHARED_REFUSED;
  envoyx_slice buffer = {(uint8_t*)buf, cap};
  return envoyxgo_host->shared_data_get(envoyxgo_bytes(key, key_len), buffer, len, cas);
}

static inline envoyx_shared_status envoyxgo_shared_data_set(const char* key, size_t key_len,
    const char* value, size_t value_len, uint64_t cas) {
  if (envoyxgo_host == NULL) return ENVOYX_SHARED_REFUSED;
  return envoyxgo_host->shared_data_set(envoyxgo_bytes(key, key_len),
                                        envoyxgo_bytes(value, value_len), cas);
}

static inline bool envoyxgo_function_register(const char* name, size_t name_len, void* function) {
  return envoyxgo_host != NULL &&
         envoyxgo_host->function_register(envoyxgo_bytes(name, name_len), (envoyx_function)function);
}

static inline void* envoyxgo_function_get(const char* name, size_t name_len) {
  if (envoyxgo_host == NULL) return NULL;
  return (void*)envoyxgo_host->function_get(envoyxgo_bytes(name, name_len));
}
*/
import "C"

import (
	"errors"
	"unsafe"
)

// What the modules of one proxy process share (ABI 1.2): values by key, read and changed with
// compare-and-set, and C functions by name. Any goroutine, from the module's init on.
//
// The shared data is the proxy's (the host keeps copies): a value outlives the module that set
// it, hot reloads included, until some module removes it. Keys are 1 to 256 bytes of printable
// ASCII without spaces; start them with your filter's name ("ratelimit.tenant.acme"). A value is
// at most SharedMaxValue bytes; the whole store is bounded (x/abi.h).

// SharedMaxValue is the longest shared value, in bytes.
const SharedMaxValue = C.ENVOYX_SHARED_MAX_VALUE

// What SharedSet expects under the key, besides a version SharedGet read.
const (
	// SharedAny sets whatever the key holds.
	SharedAny uint64 = C.ENVOYX_SHARED_CAS_ANY
	// SharedAbsent sets only where the key holds nothing: the first of many to set wins.
	SharedAbsent uint64 = C.ENVOYX_SHARED_CAS_ABSENT
)

var (
	// ErrSharedChanged says the key holds another value than SharedSet expected: read it again
	// and retry.
	ErrSharedChanged = errors.New("envoyx: the shared value changed since it was read")
	// ErrSharedRefused says the host refused the call: a bad key, a value over SharedMaxValue, a
	// full store, or no host yet (the proxy's log says which, once).
	ErrSharedRefused = errors.New("envoyx: the host refused the shared data call (its log says why)")
)

// SharedGet reads the shared value of key (a copy) and its version (for SharedSet); found is
// false when the key holds none.
func SharedGet(key string) (value []byte, version uint64, found bool, err error) {
	buf := make([]byte, 256)
	for {
		var n C.size_t
		var cas C.uint64_t
		status := C.envoyxgo_shared_data_get(cstr(key), C.size_t(len(key)), cbytes(buf), C.size_t(len(buf)), &n, &cas)
		switch status {
		case C.ENVOYX_SHARED_OK:
			return buf[:n], uint64(cas), true, nil
		case C.ENVOYX_SHARED_ABSENT:
			return nil, SharedAbsent, false, nil
		case C.ENVOYX_SHARED_TOO_SMALL:
			// Another goroutine or module may make it longer before the next read: loop.
			buf = make([]byte, n)
		default:
			return nil, 0, false, ErrSharedRefused
		}
	}
}

// SharedSet stores value under key if the key holds what expect says (SharedAny, SharedAbsent or
// a version SharedGet read); an empty value removes the key. ErrSharedChanged when it holds
// something else.
func SharedSet(key string, value []byte, expect uint64) error {
	switch C.envoyxgo_shared_data_set(cstr(key), C.size_t(len(key)), cbytes(value), C.size_t(len(value)), C.uint64_t(expect)) {
	case C.ENVOYX_SHARED_OK:
		return nil
	case C.ENVOYX_SHARED_CAS_MISMATCH:
		return ErrSharedChanged
	default:
		return ErrSharedRefused
	}
}

// SharedRemove removes key, whatever it holds.
func SharedRemove(key string) error { return SharedSet(key, nil, SharedAny) }

// SharedUpdate replaces the value of key by f of it (found false when absent), retrying while
// another goroutine or module changes it in between; returns what was stored. f may run more
// than once.
func SharedUpdate(key string, f func(old []byte, found bool) []byte) ([]byte, error) {
	for {
		old, version, found, err := SharedGet(key)
		if err != nil {
			return nil, err
		}
		next := f(old, found)
		switch err := SharedSet(key, next, version); err {
		case nil:
			return next, nil
		case ErrSharedChanged:
			continue
		default:
			return nil, err
		}
	}
}

// RegisterFunction shares the C function at fn (a cgo function of the module, or any loaded
// object's) with every module of the process under name (checked as a shared data key); the
// module file stays loaded from then on. True when registered or when name already holds fn;
// false when another function holds it (the first to register wins) or the host refused
// (logged). On stock Envoy modules on upstream's SDKs find it too. A Go function cannot be
// registered directly: register a C function (an //export-ed one, or one in the cgo preamble).
func RegisterFunction(name string, fn unsafe.Pointer) bool {
	return bool(C.envoyxgo_function_register(cstr(name), C.size_t(len(name)), fn))
}

// Function is the C function registered under name, or nil when none is (yet). Its signature
// is agreed between the modules, as with dlsym: call it through cgo with that type.
func Function(name string) unsafe.Pointer {
	return C.envoyxgo_function_get(cstr(name), C.size_t(len(name)))
}
