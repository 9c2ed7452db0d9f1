package envoyx_test

// The stream facts a Go test sets with envoyxtest (the client's address and other attributes,
// metadata, typed metadata, the upstream hosts attempted, timing), read by a filter through the
// real core as it would read what Envoy knows.

import (
	"fmt"
	"strings"
	"testing"

	"github.com/envoyx/envoyx/go/envoyx"
	"github.com/envoyx/envoyx/go/envoyxtest"
)

type factsConfig struct{}

func (factsConfig) NewFilter() envoyx.Filter { return &factsFilter{} }

type factsFilter struct{ envoyx.DefaultFilter }

func (factsFilter) OnResponseHeaders(s *envoyx.Stream, _ bool) envoyx.HeadersStatus {
	client, _ := s.AttributeString(envoyx.AttributeSourceAddress)
	port, _ := s.AttributeNumber(envoyx.AttributeSourcePort)
	tier, _ := s.MetadataString(envoyx.MetadataRoute, "facts", "tier")
	weight, _ := s.MetadataNumber(envoyx.MetadataHost, "facts", "weight")
	url, value, _ := s.MetadataTyped(envoyx.MetadataCluster, "facts")
	rx, _ := s.Timing(envoyx.TimingFirstUpstreamRx)
	facts := []string{
		"client=" + client, fmt.Sprintf("port=%v", port), "tier=" + tier, fmt.Sprintf("weight=%v", weight),
		fmt.Sprintf("typed=%s:%x", url, value), "hosts=" + strings.Join(s.UpstreamHostsAttempted(), ";"),
		fmt.Sprintf("first-byte=%d", rx),
	}
	s.ResponseHeaders().Set("x-facts", strings.Join(facts, ","))
	return envoyx.HeadersContinue
}

func init() {
	envoyx.Register("facts", func(string, []byte) (envoyx.FilterConfig, error) { return factsConfig{}, nil })
}

func TestATestSetsTheStreamFactsAFilterReads(t *testing.T) {
	host := envoyxtest.New(t, "facts", "")
	s := host.Stream()
	for _, err := range []error{
		s.SetClientAddress("203.0.113.7:4711"),
		s.SetMetadata(envoyx.MetadataRoute, "facts", "tier", "gold"),
		s.SetMetadata(envoyx.MetadataHost, "facts", "weight", 3),
		s.SetTypedMetadata(envoyx.MetadataCluster, "facts", "type.googleapis.com/google.protobuf.StringValue", []byte("\x0a\x02hi")),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	s.SetUpstreamHostsAttempted("10.0.0.1:80", "10.0.0.2:80")
	s.SetTiming(envoyx.TimingFirstUpstreamRx, 1500)
	s.RequestHeaders(envoyxtest.H(":method", "GET", ":path", "/"), true)
	s.ResponseHeaders(envoyxtest.H(":status", "200"), true)
	got, _ := s.ClientResponseHeaders().Get("x-facts")
	want := "client=203.0.113.7:4711,port=4711,tier=gold,weight=3," +
		"typed=type.googleapis.com/google.protobuf.StringValue:0a026869,hosts=10.0.0.1:80;10.0.0.2:80,first-byte=1500"
	if got != want {
		t.Fatalf("x-facts = %q\nwant       %q", got, want)
	}
	if err := s.SetAttribute(envoyx.AttributeSourcePort, []int{1}); err == nil {
		t.Fatal("a value of another type was taken")
	}
	s.Complete()
}
