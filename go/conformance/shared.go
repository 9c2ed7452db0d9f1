package main

/*
#include <stdint.h>

static uint64_t conformance_double(uint64_t x) { return x * 2; }
static void* conformance_double_ptr(void) { return (void*)conformance_double; }
static uint64_t conformance_call_u64(void* f, uint64_t x) { return ((uint64_t (*)(uint64_t))f)(x); }
*/
import "C"

import (
	"fmt"
	"os"
	"sync/atomic"

	"github.com/envoyx/envoyx/go/envoyx"
)

// The `shared` case (ABI 1.2: data and functions shared across the process's modules), as
// rust/test-modules/conformance/src/shared.rs does it: a key of the stream's own set where absent
// and not again, read back, refused over a stale version, updated, removed; a key with a space
// refused; the function "envoyx.conformance.double" (u64 -> u64; whichever module registers it
// first) found and called.

const sharedDouble = "envoyx.conformance.double"

var sharedNext atomic.Uint64

func sharedShown(err error) string {
	switch err {
	case nil:
		return "ok"
	case envoyx.ErrSharedChanged:
		return "changed"
	default:
		return "refused"
	}
}

func sharedCase() string {
	key := fmt.Sprintf("envoyx.conformance.shared.go.%d.%d", os.Getpid(), sharedNext.Add(1))
	_, _, found, _ := envoyx.SharedGet(key)
	first := sharedShown(envoyx.SharedSet(key, []byte("one"), envoyx.SharedAbsent))
	again := sharedShown(envoyx.SharedSet(key, []byte("two"), envoyx.SharedAbsent))
	value, version, _, _ := envoyx.SharedGet(key)
	_ = envoyx.SharedSet(key, []byte("two"), version)
	stale := sharedShown(envoyx.SharedSet(key, []byte("three"), version))
	updated, err := envoyx.SharedUpdate(key, func(old []byte, _ bool) []byte { return append(old, '+') })
	update := string(updated)
	if err != nil {
		update = "refused"
	}
	_ = envoyx.SharedRemove(key)
	_, _, stillThere, _ := envoyx.SharedGet(key)
	bad := sharedShown(envoyx.SharedSet("has space", []byte("v"), envoyx.SharedAny))
	function := "unregistered"
	if envoyx.RegisterFunction(sharedDouble, C.conformance_double_ptr()) || envoyx.Function(sharedDouble) != nil {
		function = fmt.Sprint(uint64(C.conformance_call_u64(envoyx.Function(sharedDouble), 21)))
	}
	return fmt.Sprintf("absent=%t,first=%s,again=%s,read=%s,stale=%s,update=%s,removed=%t,bad=%s,function=%s",
		!found, first, again, value, stale, update, !stillThere, bad, function)
}
