package envoyx

/*
#include "host.h"

static inline bool envoyxgo_log_enabled(uint32_t level) { return envoyxgo_host != NULL && envoyxgo_host->log_enabled(level); }

static inline void envoyxgo_log(uint32_t level, const char* message, size_t len) {
  if (envoyxgo_host != NULL) envoyxgo_host->log(level, envoyxgo_bytes(message, len));
}

static inline void envoyxgo_log_at(uint32_t level, const char* message, size_t len,
    const char* file, size_t file_len, uint32_t line) {
  if (envoyxgo_host != NULL) {
    envoyxgo_host->log_at(level, envoyxgo_bytes(message, len), envoyxgo_bytes(file, file_len), line);
  }
}
*/
import "C"

import (
	"path/filepath"
	"runtime"
)

// Level is a log level (x/abi.h's ENVOYX_LOG_*).
type Level uint32

const (
	LevelTrace Level = iota
	LevelDebug
	LevelInfo
	LevelWarn
	LevelError
)

// Log writes `message` to Envoy's log (nothing is formatted when the level is off: check
// LogEnabled first for costly messages).
func Log(level Level, message string) {
	if !bool(C.envoyxgo_log_enabled(C.uint32_t(level))) {
		return
	}
	C.envoyxgo_log(C.uint32_t(level), cstr(message), C.size_t(len(message)))
}

// LogAt writes `message` as Log does, as from line `line` of the module's source `file` (ABI 1.2):
// Envoy 1.40 shows the location in its own log format's source field, other hosts as a
// `[file:line] ` prefix.
func LogAt(level Level, file string, line int, message string) {
	if !bool(C.envoyxgo_log_enabled(C.uint32_t(level))) {
		return
	}
	C.envoyxgo_log_at(C.uint32_t(level), cstr(message), C.size_t(len(message)), cstr(file), C.size_t(len(file)),
		C.uint32_t(line))
}

// LogHere writes `message` as Log does, with its caller's location (`package/file.go` and the
// line), which it looks up only when the level is enabled.
func LogHere(level Level, message string) {
	if !bool(C.envoyxgo_log_enabled(C.uint32_t(level))) {
		return
	}
	_, file, line, ok := runtime.Caller(1)
	if !ok {
		Log(level, message)
		return
	}
	LogAt(level, filepath.Join(filepath.Base(filepath.Dir(file)), filepath.Base(file)), line, message)
}

// LogEnabled tells whether Log at `level` writes anything.
func LogEnabled(level Level) bool { return bool(C.envoyxgo_log_enabled(C.uint32_t(level))) }
