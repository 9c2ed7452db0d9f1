package helloworld

import (
	"testing"

	"github.com/envoyx/envoyx/go/envoyxtest"
)

func TestLogsEveryEventThroughTheHost(t *testing.T) {
	s := envoyxtest.New(t, "hello", "").Stream()
	s.RequestHeaders(envoyxtest.H(":method", "GET", ":path", "/hi"), true)
	s.ResponseHeaders(envoyxtest.H(":status", "204"), true)
	s.Close()
	for _, line := range []string{"helloworld[hello]: filter config created", "helloworld[hello]: request headers GET /hi (end_of_stream=true)",
		"helloworld[hello]: response headers, status 204", "helloworld[hello]: stream complete"} {
		if !envoyxtest.Logged(line) {
			t.Errorf("not logged: %q (logs: %v)", line, envoyxtest.Logs())
		}
	}
}
