package envoyx_test

// MetadataNamespaces, MetadataKeys and MetadataTyped (ABI 1.2) through the real core: what the
// filter set is listed; the test host keeps no typed metadata for Go tests, so none is found.

import (
	"fmt"
	"strings"
	"testing"

	"github.com/envoyx/envoyx/go/envoyx"
	"github.com/envoyx/envoyx/go/envoyxtest"
)

type listConfig struct{}

func (listConfig) NewFilter() envoyx.Filter { return &listFilter{} }

type listFilter struct {
	envoyx.DefaultFilter
}

func (listFilter) OnRequestHeaders(s *envoyx.Stream, _ bool) envoyx.HeadersStatus {
	s.SetMetadataString("go_test.list", "b", "2")
	s.SetMetadataBool("go_test.list", "a", true)
	_, _, typed := s.MetadataTyped(envoyx.MetadataRoute, "go_test.list")
	s.RequestHeaders().Set("x-list", fmt.Sprintf("%s|%s|%t",
		strings.Join(s.MetadataNamespaces(envoyx.MetadataDynamic), ","),
		strings.Join(s.MetadataKeys(envoyx.MetadataDynamic, "go_test.list"), ","), typed))
	return envoyx.HeadersContinue
}

func init() {
	envoyx.Register("list", func(string, []byte) (envoyx.FilterConfig, error) { return listConfig{}, nil })
}

func TestMetadataListedAndTyped(t *testing.T) {
	host := envoyxtest.New(t, "list", "")
	stream := host.Stream()
	defer stream.Complete()
	stream.RequestHeaders(envoyxtest.H(":method", "GET", ":path", "/"), true)
	got, _ := stream.UpstreamRequestHeaders().Get("x-list")
	if got != "go_test.list|a,b|false" {
		t.Fatalf("x-list = %q", got)
	}
}
