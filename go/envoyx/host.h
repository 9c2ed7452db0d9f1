/* What every Go file of the package that calls the host includes in its cgo preamble: the host's
 * table and the helpers its C wrappers share. cgo can call neither through x/abi.h's
 * function-pointer table nor with its exact types (const pointers), so each Go file defines, in
 * its own preamble, one `static inline` wrapper per host function it calls (next to the Go
 * method that calls it) — a new host function costs that Go file only. Pointers into Go memory
 * passed to a wrapper are used only for the duration of the call.
 *
 * Lists of strings (headers, label values) come from Go packed: the bytes end to end in one Go
 * buffer and their lengths in another (packed.go), turned into views here for the duration of
 * one call, so that no memory C is given holds a Go pointer (cgo's rule) and nothing is copied
 * twice.
 *
 * Only declarations and `static inline` definitions here: the preambles of files with //export
 * are compiled twice (cgo's rule), and a static inline definition makes no duplicate symbol. */
#ifndef ENVOYX_GO_HOST_H
#define ENVOYX_GO_HOST_H
#include <stdlib.h>
#include "abi.h"

/* The host's table, set once by envoyx_on_program_init (exports.c) before any other call. */
extern const envoyx_host_api* envoyxgo_host;

static inline envoyx_bytes envoyxgo_bytes(const char* ptr, size_t len) {
  envoyx_bytes b = {(const uint8_t*)ptr, len};
  return b;
}

/* Packed lists this long or shorter are turned into views on the stack. */
#define ENVOYXGO_STACK 16

/* Views of `count` packed strings. `stack` holds up to `cap`; more are allocated, and the
 * caller frees what is not `stack`. */
static inline envoyx_bytes* envoyxgo_unpack(const char* buf, const size_t* lens, size_t count,
                                            envoyx_bytes* stack, size_t cap) {
  envoyx_bytes* views = count <= cap ? stack : malloc(count * sizeof(envoyx_bytes));
  for (size_t i = 0, at = 0; i < count; at += lens[i], i++) views[i] = envoyxgo_bytes(buf + at, lens[i]);
  return views;
}

/* Headers from `count` packed pairs: key, value, key, value, ... (2 * count lengths). */
static inline envoyx_header* envoyxgo_unpack_headers(const char* buf, const size_t* lens, size_t count,
                                                     envoyx_header* stack, size_t cap) {
  envoyx_header* headers = count <= cap ? stack : malloc(count * sizeof(envoyx_header));
  for (size_t i = 0, at = 0; i < count; i++) {
    headers[i].key = envoyxgo_bytes(buf + at, lens[2 * i]);
    at += lens[2 * i];
    headers[i].value = envoyxgo_bytes(buf + at, lens[2 * i + 1]);
    at += lens[2 * i + 1];
  }
  return headers;
}

/* Evaluates `call` into `result` with the `count` packed header pairs of `buf`/`lens` unpacked
 * as `headers` (on the stack when they fit), then frees what was allocated. */
#define ENVOYXGO_WITH_HEADERS(result, buf, lens, count, call)                                     \
  do {                                                                                            \
    envoyx_header envoyxgo_stack_[ENVOYXGO_STACK];                                                \
    envoyx_header* headers =                                                                      \
        envoyxgo_unpack_headers((buf), (lens), (count), envoyxgo_stack_, ENVOYXGO_STACK);          \
    (result) = (call);                                                                            \
    if (headers != envoyxgo_stack_) free(headers);                                                \
  } while (0)

/* The same for `count` packed strings, unpacked as `views`. */
#define ENVOYXGO_WITH_VIEWS(result, buf, lens, count, call)                                       \
  do {                                                                                            \
    envoyx_bytes envoyxgo_stack_[ENVOYXGO_STACK];                                                 \
    envoyx_bytes* views = envoyxgo_unpack((buf), (lens), (count), envoyxgo_stack_, ENVOYXGO_STACK); \
    (result) = (call);                                                                            \
    if (views != envoyxgo_stack_) free(views);                                                    \
  } while (0)

/* The module's exports by name, for a test host in the same program (envoyxtest; exports.c). */
size_t envoyxgo_export_table(const char* const** names, const void* const** functions);
#endif
