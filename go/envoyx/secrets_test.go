package envoyx_test

// Stream.Secret (ABI 1.2) through the real core: a secret the configuration declares, set as the
// proxy's static secret first and rotated later; an undeclared name refused.

import (
	"testing"

	"github.com/envoyx/envoyx/go/envoyx"
	"github.com/envoyx/envoyx/go/envoyxtest"
)

type secretsConfig struct{}

func (secretsConfig) NewFilter() envoyx.Filter { return &secretsFilter{} }

type secretsFilter struct {
	envoyx.DefaultFilter
}

func (secretsFilter) OnRequestHeaders(s *envoyx.Stream, _ bool) envoyx.HeadersStatus {
	key, ok := s.Secret("go_test.api_key")
	_, other := s.Secret("go_test.undeclared")
	if ok && !other {
		s.RequestHeaders().Set("x-api-key", string(key))
	}
	return envoyx.HeadersContinue
}

func init() {
	envoyx.Register("secrets", func(string, []byte) (envoyx.FilterConfig, error) { return secretsConfig{}, nil })
}

func TestSecretsTheConfigurationDeclares(t *testing.T) {
	if _, err := envoyxtest.LoadDeclaring("secrets", "", "go_test.never_set"); err == nil {
		t.Fatal("a configuration declaring a static secret the proxy lacks was accepted")
	}
	envoyxtest.SetSecret("go_test.api_key", "first")
	host, err := envoyxtest.LoadDeclaring("secrets", "", "go_test.api_key")
	if err != nil {
		t.Fatal(err)
	}
	defer host.Close()
	seen := func() string {
		stream := host.Stream()
		defer stream.Complete()
		stream.RequestHeaders(envoyxtest.H(":method", "GET", ":path", "/"), true)
		value, _ := stream.UpstreamRequestHeaders().Get("x-api-key")
		return value
	}
	if got := seen(); got != "first" {
		t.Fatalf("x-api-key = %q, want first", got)
	}
	envoyxtest.SetSecret("go_test.api_key", "second")
	if got := seen(); got != "second" {
		t.Fatalf("after rotation: x-api-key = %q, want second", got)
	}
}
