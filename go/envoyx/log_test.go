package envoyx_test

// Logging with a source location (ABI 1.2) through the real core: the test host writes the
// location as a `[file:line] ` prefix, as Envoy before 1.40 shows it.

import (
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/envoyx/envoyx/go/envoyx"
	"github.com/envoyx/envoyx/go/envoyxtest"
)

func logged(t *testing.T, want string) {
	t.Helper()
	for _, line := range envoyxtest.Logs() {
		if line.Level == envoyx.LevelWarn && strings.Contains(line.Message, want) {
			return
		}
	}
	t.Errorf("no warning %q among %v", want, envoyxtest.Logs())
}

func TestLogAtAndLogHereCarryTheSourceLocation(t *testing.T) {
	envoyxtest.New(t, "shed", "") // the host's table is installed once a configuration loads
	envoyx.LogAt(envoyx.LevelWarn, "filters/auth.go", 12, "explicit location")
	logged(t, "[filters/auth.go:12] explicit location")

	_, _, line, _ := runtime.Caller(0)
	envoyx.LogHere(envoyx.LevelWarn, "the caller's location")
	logged(t, fmt.Sprintf("[envoyx/log_test.go:%d] the caller's location", line+1))
}
