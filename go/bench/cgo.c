/* The C side of cgo.go's crossings. */
#include "_cgo_export.h"

void bench_c_noop(void) {}

void bench_call_go(int times) {
  for (int i = 0; i < times; i++) benchGoNoop();
}
