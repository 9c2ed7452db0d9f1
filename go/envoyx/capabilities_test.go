package envoyx_test

// The SDK's ABI 1.1 wrappers through the real core (envoyxtest): metrics, metadata, filter state,
// attributes, tracing, routing. The filter does what `x-do` asks and reports what it saw in the
// response header `x-saw`.

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/envoyx/envoyx/go/envoyx"
	"github.com/envoyx/envoyx/go/envoyxtest"
)

type capsConfig struct {
	requests envoyx.Counter
	inflight envoyx.Gauge
	sizes    envoyx.Histogram
}

func (c *capsConfig) NewFilter() envoyx.Filter { return &caps{config: c} }

type caps struct {
	envoyx.DefaultFilter
	config *capsConfig
	saw    []string
}

func (f *caps) note(format string, args ...any) { f.saw = append(f.saw, fmt.Sprintf(format, args...)) }

func (f *caps) OnRequestHeaders(s *envoyx.Stream, _ bool) envoyx.HeadersStatus {
	method, _ := s.RequestHeaders().Get(":method")
	entries := 0
	s.RequestHeaders().Range(func(key, value []byte) bool {
		entries++
		return string(key) != ":method" // stops at :method
	})
	var views []string
	s.RequestHeaders().ValuesView(":path", func(v []byte) { views = append(views, string(v)) })
	f.note("range=%d view=%s", entries, strings.Join(views, ","))
	f.note("counted=%v", f.config.requests.Add(s, 1, method))
	f.config.inflight.Add(s, 5)
	f.config.inflight.Sub(s, 2)
	f.config.sizes.Record(s, 42)
	f.config.sizes.Record(s, 7)
	f.note("wrong-labels=%v", f.config.requests.Add(s, 1))

	f.note("md-set=%v", s.SetMetadataString("envoyx.test", "user", "ann"))
	s.SetMetadataNumber("envoyx.test", "score", 0.5)
	s.SetMetadataBool("envoyx.test", "vip", true)
	user, _ := s.MetadataString(envoyx.MetadataDynamic, "envoyx.test", "user")
	score, _ := s.MetadataNumber(envoyx.MetadataDynamic, "envoyx.test", "score")
	vip, _ := s.MetadataBool(envoyx.MetadataDynamic, "envoyx.test", "vip")
	_, wrongKind := s.MetadataNumber(envoyx.MetadataDynamic, "envoyx.test", "user")
	f.note("md=%s/%v/%v/%v", user, score, vip, wrongKind)
	f.note("md-bad-ns=%v", s.SetMetadataString("", "k", "v"))

	f.note("fs-set=%v", s.SetFilterState("envoyx.test.tenant", []byte("acme")))
	f.note("fs-again=%v", s.SetFilterState("envoyx.test.tenant", []byte("other")))
	tenant, _ := s.FilterState("envoyx.test.tenant")
	f.note("fs=%s", tenant)

	source, _ := s.AttributeString(envoyx.AttributeSourceAddress)
	port, _ := s.AttributeNumber(envoyx.AttributeSourcePort)
	_, tls := s.AttributeString(envoyx.AttributeTLSVersion)
	f.note("attr=%s/%v/tls:%v", source, port, tls)
	f.note("span=%v", s.SetSpanTag("tenant", "acme"))
	f.note("route-cache=%v", s.ClearRouteCache())
	f.note("override=%v", s.OverrideUpstreamHost("10.0.0.7:8080", true))
	f.note("override-bad=%v", s.OverrideUpstreamHost("not a host", false))
	return envoyx.HeadersStopIteration
}

func (f *caps) OnResponseHeaders(s *envoyx.Stream, _ bool) envoyx.HeadersStatus {
	s.ResponseHeaders().Set("x-saw", strings.Join(f.saw, " "))
	return envoyx.HeadersContinue
}

func init() {
	envoyx.Register("caps", func(string, []byte) (envoyx.FilterConfig, error) {
		c := &capsConfig{}
		var errs [3]error
		c.requests, errs[0] = envoyx.DefineCounter("requests", "method")
		c.inflight, errs[1] = envoyx.DefineGauge("inflight")
		c.sizes, errs[2] = envoyx.DefineHistogram("sizes")
		if _, err := envoyx.DefineCounter("Bad-Name"); err == nil {
			return nil, errors.New("a bad metric name must be refused")
		}
		return c, errors.Join(errs[:]...)
	})
}

func TestTheABI11CapabilitiesThroughTheCore(t *testing.T) {
	host := envoyxtest.New(t, "caps", "")
	s := host.Stream()
	defer s.Close()
	s.RequestHeaders(envoyxtest.H(":method", "PUT", ":path", "/"), true)
	s.ResponseHeaders(envoyxtest.H(":status", "200"), true)
	saw, _ := s.ClientResponseHeaders().Get("x-saw")
	for _, want := range []string{
		"range=1", "view=/", "counted=true", "wrong-labels=false",
		"md-set=true", "md=ann/0.5/true/false", "md-bad-ns=false",
		"fs-set=true", "fs-again=false", "fs=acme",
		"attr=127.0.0.1:50000/50000/tls:false", "span=false",
		"route-cache=true", "override=true", "override-bad=false",
	} {
		if !strings.Contains(" "+saw+" ", " "+want+" ") {
			t.Errorf("missing %q in %q", want, saw)
		}
	}
	if v, ok := host.Metric("requests", "PUT"); !ok || v.Counter == nil || *v.Counter != 1 {
		t.Errorf("requests{PUT} = %+v", v)
	}
	if v, ok := host.Metric("inflight"); !ok || v.Gauge == nil || *v.Gauge != 3 {
		t.Errorf("inflight = %+v", v)
	}
	if v, ok := host.Metric("sizes"); !ok || fmt.Sprint(v.Histogram) != "[42 7]" {
		t.Errorf("sizes = %+v", v)
	}
}

func TestMetricsOutsideAFactoryAreRefused(t *testing.T) {
	if _, err := envoyx.DefineCounter("late"); err == nil || !strings.Contains(err.Error(), "inside a Factory only") {
		t.Errorf("got %v", err)
	}
}

// scheduler holds the request and has three goroutines schedule functions on it; the third
// continues it. Run with -race, it checks the SDK's cross-goroutine paths.
type scheduler struct{ envoyx.DefaultFilter }

func (scheduler) OnRequestHeaders(s *envoyx.Stream, _ bool) envoyx.HeadersStatus {
	h := s.Handle()
	var first sync.WaitGroup // the first two are scheduled before the third, which continues
	first.Add(2)
	for i := range 3 {
		go func() {
			if i == 2 {
				first.Wait()
			}
			h.Schedule(func(s *envoyx.Stream) {
				s.RequestHeaders().Add("x-from-goroutine", fmt.Sprint(i))
				if i == 2 {
					s.Continue(envoyx.Request)
					h.Release()
				}
			})
			if i < 2 {
				first.Done()
			}
		}()
	}
	return envoyx.HeadersStopIteration
}

type schedulerConfig struct{}

func (schedulerConfig) NewFilter() envoyx.Filter { return scheduler{} }

func init() {
	envoyx.Register("scheduler", func(string, []byte) (envoyx.FilterConfig, error) { return schedulerConfig{}, nil })
}

func TestFunctionsScheduledFromGoroutines(t *testing.T) {
	s := envoyxtest.New(t, "scheduler", "").Stream()
	defer s.Close()
	s.RequestHeaders(envoyxtest.H(":path", "/"), true)
	for i := 0; i < 50 && !s.Forwarded(envoyx.Request); i++ {
		s.RunScheduled(100 * time.Millisecond)
	}
	if !s.Forwarded(envoyx.Request) {
		t.Fatal("the request was not continued")
	}
	if got := s.UpstreamRequestHeaders().Values("x-from-goroutine"); len(got) != 3 || got[2] != "2" {
		t.Errorf("x-from-goroutine %q: three functions, the continuing one last", got)
	}
}
