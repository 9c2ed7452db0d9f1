package envoyx

/*
#include "processors.h"
*/
import "C"

import (
	"fmt"
	"os"
	"runtime"
	"sync/atomic"
)

// Sizing the Go runtime for a proxy's threads. Envoy's worker threads are not Go's: each call into
// the module borrows a P (a Go processor) and, between calls, the thread keeps it the way a
// goroutine in a system call does. When no other P is idle, the runtime's sysmon takes it back
// after 20 µs and wakes another thread to run it, which finds no work and sleeps; the next call
// then waits to get a P back. That costs context switches and CPU on every request
// (golang/go#57103; measured in docs/benchmarks.md). With one idle P more than the threads
// calling in, sysmon leaves a P with its thread and backs off. The runtime's own default counts
// CPUs (the affinity mask and the cgroup limit), which says nothing of how many Envoy threads
// call in: a proxy pinned to one CPU gets one P for its worker, the worst case. Even with a P to
// spare, sysmon takes a worker's P back every 10 ms because it never schedules a goroutine: a
// worker yields once in a while to prevent that (envoyxGoYield).

// sizeProcessors raises GOMAXPROCS to the proxy's worker count plus one (the main thread's
// configuration hooks and the module's own goroutines share the spare), unless the operator set
// GOMAXPROCS in the environment, which the runtime then honours as it is. Called once, from
// program init, where the host knows its workers.
func sizeProcessors() {
	workers, _ := WorkerCount()
	have := runtime.GOMAXPROCS(0)
	if want := processorsFor(have, workers, os.Getenv("GOMAXPROCS") != ""); want != have {
		runtime.GOMAXPROCS(want)
		Log(LevelInfo, fmt.Sprintf("EnvoyX Go SDK: GOMAXPROCS %d -> %d: the proxy's %d worker thread(s) each keep "+
			"a Go processor between calls, and one spare spares each call a handoff (set GOMAXPROCS to choose)",
			have, want, workers))
	}
}

// processorsFor is the GOMAXPROCS to run with: `have` raised to `workers` + 1, unless the
// operator set GOMAXPROCS or the host does not say how many workers it has (0).
func processorsFor(have int, workers uint32, operatorSet bool) int {
	if operatorSet || workers == 0 || have > int(workers) {
		return have
	}
	return int(workers) + 1
}

//export envoyxGoProgramInit
func envoyxGoProgramInit() {
	sizeProcessors()
}

// envoyxGoYield keeps a worker thread's P (exports.c calls it before a stream hook when
// processors.h says it is due). A P that only ever runs cgo callbacks never schedules a
// goroutine, so its scheduling tick stands still; after 10 ms of that (forcePreemptNS) sysmon
// takes the thread for one running a goroutine too long and retakes the P from the "system call"
// the thread is in between calls, even with a P to spare (Go's runtime/proc.go, retake). Each
// retake hands the P to another thread and resets sysmon's back-off to 20 µs: thousands of
// wake-ups a second (docs/benchmarks.md). Yielding runs this goroutine again on the same P, which
// advances the tick. It costs one handoff (the callback's goroutine is locked to its thread, so
// another M passes the P back), once every 9 ms per busy worker instead of a retake every ~20 ms
// and its train of wake-ups. The goroutine waits its turn in the global run queue: a module whose
// own goroutines keep every P busy delays the hook by up to their time slice, as the exit from a
// retaken "system call" waits for a P without the yield.
//
//export envoyxGoYield
func envoyxGoYield() {
	yields.Add(1)
	runtime.Gosched()
}

// yields counts envoyxGoYield's calls in this process, for the tests.
var yields atomic.Uint64

// yieldCadence and yieldDue are processors.h's record and decision, for the tests.
type yieldCadence = C.envoyxgo_cadence

func yieldDue(cadence *yieldCadence, nowNs int64) bool {
	return bool(C.envoyxgo_yield_due(cadence, C.int64_t(nowNs)))
}
