package envoyx

import "C"

import (
	"fmt"
	"os"
	"runtime"
)

// Sizing the Go runtime for a proxy's threads. Envoy's worker threads are not Go's: each call into
// the module borrows a P (a Go processor) and, between calls, the thread keeps it the way a
// goroutine in a system call does. When no other P is idle, the runtime's sysmon takes it back
// after 20 µs and wakes another thread to run it, which finds no work and sleeps; the next call
// then waits to get a P back. That costs context switches and CPU on every request
// (golang/go#57103; measured in docs/benchmarks.md). With one idle P more than the threads
// calling in, sysmon leaves a P with its thread and backs off. The runtime's own default counts
// CPUs (the affinity mask and the cgroup limit), which says nothing of how many Envoy threads
// call in: a proxy pinned to one CPU gets one P for its worker, the worst case.

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
