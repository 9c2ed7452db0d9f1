/* When a worker thread lets the Go scheduler run once (processors.go, envoyxGoYield, says why):
 * a thread calling in steadily does it every ENVOYXGO_YIELD_EVERY_NS, under the 10 ms after which
 * the runtime's sysmon takes a processor that scheduled nothing; a thread whose previous call was
 * more than ENVOYXGO_STEADY_GAP_NS ago does not (its processor is the runtime's to take back, and
 * a yield would only cost a handoff). One cadence per thread: exports.c keeps it thread-local. */
#ifndef ENVOYXGO_PROCESSORS_H
#define ENVOYXGO_PROCESSORS_H

#include <stdbool.h>
#include <stdint.h>

enum { ENVOYXGO_YIELD_EVERY_NS = 9000000, ENVOYXGO_STEADY_GAP_NS = 5000000 };

typedef struct {
  int64_t last_yield_ns; /* when the thread last yielded, or let a yield pass for a gap */
  int64_t last_call_ns;  /* when the thread last called in */
} envoyxgo_cadence;

/* Whether a call at `now_ns` (a monotonic clock) yields; records the call. */
static inline bool envoyxgo_yield_due(envoyxgo_cadence* cadence, int64_t now_ns) {
  bool due = false;
  if (now_ns - cadence->last_yield_ns >= ENVOYXGO_YIELD_EVERY_NS) {
    due = now_ns - cadence->last_call_ns < ENVOYXGO_STEADY_GAP_NS;
    cadence->last_yield_ns = now_ns;
  }
  cadence->last_call_ns = now_ns;
  return due;
}

#endif
