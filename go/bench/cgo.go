package bench

// What one crossing between Go and C costs, for bench_test.go (cgo is not allowed in test
// files): a call from Go into an empty C function, and a call from C into an empty exported Go
// function (how Envoy's host reaches a Go module's hooks).

/*
void bench_c_noop(void);
void bench_call_go(int times);
*/
import "C"

// CallC calls the empty C function `times` times.
func CallC(times int) {
	for range times {
		C.bench_c_noop()
	}
}

// CallGoFromC has C call the empty Go function `times` times (one Go→C call in all).
func CallGoFromC(times int) { C.bench_call_go(C.int(times)) }

//export benchGoNoop
func benchGoNoop() {}
