package envoyx

/*
#include "host.h"

static inline bool envoyxgo_log_enabled(uint32_t level) { return envoyxgo_host != NULL && envoyxgo_host->log_enabled(level); }

static inline void envoyxgo_log(uint32_t level, const char* message, size_t len) {
  if (envoyxgo_host != NULL) envoyxgo_host->log(level, envoyxgo_bytes(message, len));
}
*/
import "C"

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

// LogEnabled tells whether Log at `level` writes anything.
func LogEnabled(level Level) bool { return bool(C.envoyxgo_log_enabled(C.uint32_t(level))) }
