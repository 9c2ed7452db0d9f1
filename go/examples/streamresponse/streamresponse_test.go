package streamresponse

import (
	"strings"
	"testing"
	"time"

	"github.com/envoyx/envoyx/go/envoyx"
	"github.com/envoyx/envoyx/go/envoyxtest"
)

// ids is the first line of each event the client got.
func ids(s *envoyxtest.Stream) []string {
	var out []string
	for _, event := range strings.Split(string(s.ClientResponseBody()), "\n\n") {
		if event != "" {
			out = append(out, strings.SplitN(event, "\n", 2)[0])
		}
	}
	return out
}

func TestParsePlan(t *testing.T) {
	if plan, err := ParsePlan(nil); err != nil || plan != DefaultPlan {
		t.Fatalf("empty config: %+v, %v", plan, err)
	}
	if plan, err := ParsePlan([]byte("events=2, interval_ms=0")); err != nil || plan.Events != 2 || plan.Interval != 0 {
		t.Fatalf("%+v, %v", plan, err)
	}
	for bad, want := range map[string]string{
		"events=lots":    `stream-response: events "lots": not a number`,
		"events=2000000": "stream-response: events 2000000 is over 1000000",
		"speed=9":        `stream-response: unknown key "speed"`,
	} {
		if _, err := ParsePlan([]byte(bad)); err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("ParsePlan(%q) = %v, want %q", bad, err, want)
		}
	}
}

func TestTheFilterAnswersItselfOneEventAtATime(t *testing.T) {
	host := envoyxtest.New(t, "stream-response", "events=3,interval_ms=0")
	s := host.Stream()
	defer s.Close()
	if status := s.RequestHeaders(envoyxtest.H(":method", "GET", ":path", "/events"), true); status != envoyx.HeadersStopIteration {
		t.Fatalf("request headers: %v", status)
	}
	if s.Forwarded(envoyx.Request) {
		t.Fatal("the request went to an upstream")
	}
	if got, _ := s.ClientResponseHeaders().Get("content-type"); got != "text/event-stream" {
		t.Fatalf("content-type %q", got)
	}
	for s.RunScheduled(0) > 0 {
	}
	if got := strings.Join(ids(s), ","); got != "id: 1,id: 2,id: 3" {
		t.Fatalf("events %q", got)
	}
	if got, _ := s.ClientResponseTrailers().Get("x-envoyx-events-sent"); got != "3" {
		t.Fatalf("trailer x-envoyx-events-sent %q", got)
	}
}

func TestASlowClientPausesTheProducer(t *testing.T) {
	host := envoyxtest.New(t, "stream-response", "events=4,interval_ms=0")
	s := host.Stream()
	defer s.Close()
	s.RequestHeaders(envoyxtest.H(":method", "GET", ":path", "/events"), true)
	s.Watermark(envoyx.Response, true)
	// The event due and the news, then the event queued before the news: held.
	s.RunScheduled(0)
	s.RunScheduled(0)
	if n := s.RunScheduled(0); n != 0 || len(ids(s)) != 2 {
		t.Fatalf("paused, yet %d items ran and %d events went", n, len(ids(s)))
	}
	s.Watermark(envoyx.Response, false)
	for s.RunScheduled(0) > 0 {
	}
	if got := strings.Join(ids(s), ","); got != "id: 1,id: 2,id: 3,id: 4" {
		t.Fatalf("events %q", got)
	}
	if got, _ := s.ClientResponseTrailers().Get("x-envoyx-pauses"); got != "1" {
		t.Fatalf("trailer x-envoyx-pauses %q", got)
	}
}

func TestEventsComeOverTimeAndBadRequestsGet400(t *testing.T) {
	host := envoyxtest.New(t, "stream-response", "events=2,interval_ms=20")
	s := host.Stream()
	defer s.Close()
	s.RequestHeaders(envoyxtest.H(":method", "GET", ":path", "/events"), true)
	if s.RunScheduled(5*time.Second) != 1 || len(ids(s)) != 2 {
		t.Fatalf("the timer's event did not come: %q", ids(s))
	}
	bad := host.Stream()
	defer bad.Close()
	bad.RequestHeaders(envoyxtest.H(":method", "GET", ":path", "/", "x-envoyx-events", "-1"), true)
	if reply := bad.LocalReply(); reply == nil || reply.Status != 400 {
		t.Fatalf("a bad x-envoyx-events got %+v, want a 400", reply)
	}
}
