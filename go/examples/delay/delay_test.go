package delay

import (
	"strings"
	"testing"
	"time"
)

func TestParseConfig(t *testing.T) {
	for text, want := range map[string]time.Duration{"": DefaultDelay, " \n": DefaultDelay, "250": 250 * time.Millisecond, " 0 ": 0} {
		if got, err := ParseConfig([]byte(text)); err != nil || got != want {
			t.Errorf("ParseConfig(%q) = %v, %v; want %v", text, got, err, want)
		}
	}
	for _, bad := range []string{"-1", "1s", "ten"} {
		_, err := ParseConfig([]byte(bad))
		if err == nil || !strings.HasPrefix(err.Error(), "delay: bad filter_config: ") {
			t.Errorf("ParseConfig(%q) must be refused with a clear error, got %v", bad, err)
		}
	}
}
