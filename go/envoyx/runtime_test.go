package envoyx_test

// RuntimeBool and RuntimeNumber (ABI 1.2) through the real core: the test host's runtime, which
// envoyxtest fills, read from a request hook.

import (
	"fmt"
	"testing"

	"github.com/envoyx/envoyx/go/envoyx"
	"github.com/envoyx/envoyx/go/envoyxtest"
)

type runtimeConfig struct{}

func (runtimeConfig) NewFilter() envoyx.Filter { return &runtimeFilter{} }

type runtimeFilter struct {
	envoyx.DefaultFilter
}

func (runtimeFilter) OnRequestHeaders(s *envoyx.Stream, _ bool) envoyx.HeadersStatus {
	enabled, known := envoyx.RuntimeBool("go_test.feature")
	percent, set := envoyx.RuntimeNumber("go_test.percent")
	s.RequestHeaders().Set("x-runtime", fmt.Sprintf("%t/%t %v/%t", enabled, known, percent, set))
	return envoyx.HeadersContinue
}

func init() {
	envoyx.Register("runtime", func(string, []byte) (envoyx.FilterConfig, error) { return runtimeConfig{}, nil })
}

func TestRuntimeValuesReachTheFilter(t *testing.T) {
	host := envoyxtest.New(t, "runtime", "")
	seen := func() string {
		stream := host.Stream()
		stream.RequestHeaders(envoyxtest.H(":method", "GET", ":path", "/"), true)
		value, _ := stream.UpstreamRequestHeaders().Get("x-runtime")
		stream.Complete()
		return value
	}
	envoyxtest.UnsetRuntime("go_test.feature")
	envoyxtest.UnsetRuntime("go_test.percent")
	if got := seen(); got != "false/false 0/false" {
		t.Fatalf("unset: x-runtime = %q", got)
	}
	envoyxtest.SetRuntimeBool("go_test.feature", true)
	envoyxtest.SetRuntimeNumber("go_test.percent", 12.5)
	if got := seen(); got != "true/true 12.5/true" {
		t.Fatalf("set: x-runtime = %q", got)
	}
}
