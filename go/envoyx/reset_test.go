package envoyx_test

// ResetWithReason (ABI 1.2) through the real core (envoyxtest): the host records the reason; a
// call with details that are not one token is refused and leaves the stream going.

import (
	"fmt"
	"testing"

	"github.com/envoyx/envoyx/go/envoyx"
	"github.com/envoyx/envoyx/go/envoyxtest"
)

type shedConfig struct{}

func (shedConfig) NewFilter() envoyx.Filter { return &shed{} }

type shed struct{ envoyx.DefaultFilter }

func (shed) OnRequestHeaders(s *envoyx.Stream, _ bool) envoyx.HeadersStatus {
	details, _ := s.RequestHeaders().Get("x-details")
	reset := s.ResetWithReason(envoyx.ResetRefused, details)
	s.RequestHeaders().Set("x-reset", fmt.Sprint(reset))
	if reset {
		return envoyx.HeadersStopIteration
	}
	return envoyx.HeadersContinue
}

func init() {
	envoyx.Register("shed", func(string, []byte) (envoyx.FilterConfig, error) { return shedConfig{}, nil })
}

func TestResetWithReasonTellsTheHostItRefusedTheStream(t *testing.T) {
	host := envoyxtest.New(t, "shed", "")
	refused := host.Stream()
	refused.RequestHeaders(envoyxtest.H(":method", "GET", ":path", "/", "x-details", "envoyx_shed"), true)
	if !refused.WasReset() || !refused.ResetRefused() {
		t.Fatalf("reset=%v refused=%v, want both", refused.WasReset(), refused.ResetRefused())
	}
	refused.Complete()

	spaced := host.Stream()
	spaced.RequestHeaders(envoyxtest.H(":method", "GET", ":path", "/", "x-details", "two words"), true)
	if spaced.WasReset() || spaced.ResetRefused() {
		t.Fatalf("details with a space reset the stream")
	}
	if got, _ := spaced.UpstreamRequestHeaders().Get("x-reset"); got != "false" {
		t.Fatalf("ResetWithReason with details %q returned %q, want false", "two words", got)
	}
	spaced.Complete()
}
