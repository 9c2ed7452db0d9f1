package envoyx_test

// The shared data and functions (ABI 1.2) through the real core: goroutines updating one key
// with compare-and-set lose no update; versions refuse a stale write; a value longer than the
// first read's buffer comes back whole; a function registers once by name.

import (
	"bytes"
	"fmt"
	"reflect"
	"strconv"
	"sync"
	"testing"
	"unsafe"

	"github.com/envoyx/envoyx/go/envoyx"
	"github.com/envoyx/envoyx/go/envoyxtest"
)

func init() {
	envoyx.Register("shared", func(string, []byte) (envoyx.FilterConfig, error) { return runtimeConfig{}, nil })
}

func TestSharedUpdatesFromManyGoroutinesAreAllKept(t *testing.T) {
	envoyxtest.New(t, "shared", "") // loads the module: the host table is there from now on
	const key, goroutines, each = "go_test.shared.counter", 8, 50
	if err := envoyx.SharedRemove(key); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				_, err := envoyx.SharedUpdate(key, func(old []byte, _ bool) []byte {
					n, _ := strconv.Atoi(string(old))
					return []byte(strconv.Itoa(n + 1))
				})
				if err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	value, _, found, err := envoyx.SharedGet(key)
	if err != nil || !found || string(value) != fmt.Sprint(goroutines*each) {
		t.Fatalf("counter = %q (found %t, %v), want %d", value, found, err, goroutines*each)
	}
}

func TestSharedVersionsAndLongValues(t *testing.T) {
	envoyxtest.New(t, "shared", "")
	const key = "go_test.shared.versions"
	_ = envoyx.SharedRemove(key)
	if err := envoyx.SharedSet(key, []byte("a"), envoyx.SharedAbsent); err != nil {
		t.Fatal(err)
	}
	if err := envoyx.SharedSet(key, []byte("b"), envoyx.SharedAbsent); err != envoyx.ErrSharedChanged {
		t.Fatalf("set where present: %v", err)
	}
	_, version, _, _ := envoyx.SharedGet(key)
	long := bytes.Repeat([]byte("x"), 10000)
	if err := envoyx.SharedSet(key, long, version); err != nil {
		t.Fatal(err)
	}
	if err := envoyx.SharedSet(key, []byte("c"), version); err != envoyx.ErrSharedChanged {
		t.Fatalf("stale set: %v", err)
	}
	if value, _, _, _ := envoyx.SharedGet(key); !bytes.Equal(value, long) {
		t.Fatalf("long value came back as %d bytes", len(value))
	}
	if err := envoyx.SharedSet("has space", []byte("v"), envoyx.SharedAny); err != envoyx.ErrSharedRefused {
		t.Fatalf("bad key: %v", err)
	}
	if err := envoyx.SharedSet(key, make([]byte, envoyx.SharedMaxValue+1), envoyx.SharedAny); err != envoyx.ErrSharedRefused {
		t.Fatalf("value over the bound: %v", err)
	}
}

func TestFunctionsRegisterOnceByName(t *testing.T) {
	envoyxtest.New(t, "shared", "")
	// Code of this test binary (a loaded object): registered and looked up, never called here.
	code := unsafe.Pointer(reflect.ValueOf(TestFunctionsRegisterOnceByName).Pointer())
	other := unsafe.Pointer(reflect.ValueOf(TestSharedVersionsAndLongValues).Pointer())
	const name = "go_test.function"
	if envoyx.Function(name) != nil {
		t.Fatal("found before registration")
	}
	if !envoyx.RegisterFunction(name, code) || !envoyx.RegisterFunction(name, code) {
		t.Fatal("registration (or the same again) refused")
	}
	if envoyx.RegisterFunction(name, other) {
		t.Fatal("another function took a registered name")
	}
	if envoyx.Function(name) != code {
		t.Fatal("lookup did not give the registered function")
	}
	heap := unsafe.Pointer(&[8]byte{})
	if envoyx.RegisterFunction("go_test.heap", heap) || envoyx.RegisterFunction("go_test.nil", nil) {
		t.Fatal("a pointer into no loaded object, or nil, was registered")
	}
}
