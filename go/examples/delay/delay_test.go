package delay

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/envoyx/envoyx/go/envoyx"
	"github.com/envoyx/envoyx/go/envoyxtest"
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

func TestHoldsTheRequestThenATimerContinuesIt(t *testing.T) {
	host := envoyxtest.New(t, "delay", "50")
	s := host.Stream()
	defer s.Close()
	if status := s.RequestHeaders(envoyxtest.H(":path", "/", "x-envoyx-delay-response", "20"), false); status != envoyx.HeadersStopIteration {
		t.Fatalf("request headers: %v", status)
	}
	if status := s.RequestBody(false, "held"); status != envoyx.BodyStopAndBuffer {
		t.Fatalf("a body chunk during the hold is buffered, got %v", status)
	}
	if s.Forwarded(envoyx.Request) {
		t.Fatal("forwarded before the delay")
	}
	if s.RunScheduled(5*time.Second) == 0 || !s.Forwarded(envoyx.Request) {
		t.Fatal("the timer's continue did not arrive")
	}
	if status := s.ResponseHeaders(envoyxtest.H(":status", "200"), true); status != envoyx.HeadersStopIteration {
		t.Fatalf("the response is held as the header asks, got %v", status)
	}
	if s.RunScheduled(5*time.Second) == 0 || !s.Forwarded(envoyx.Response) {
		t.Fatal("the response was not continued")
	}
	waited, _ := s.ClientResponseHeaders().Get("x-envoyx-delayed-ms")
	if ms, err := strconv.Atoi(waited); err != nil || ms < 50 {
		t.Errorf("x-envoyx-delayed-ms = %q", waited)
	}
}

func TestARefusedConfigNamesTheReason(t *testing.T) {
	_, err := envoyxtest.Load("delay", "soon")
	if err == nil || !strings.Contains(err.Error(), `delay: bad filter_config: "soon" is not a number of milliseconds`) {
		t.Errorf("got %v", err)
	}
}
