// Package headers is the Go port of rust/examples/headers: it reads, sets, adds and removes
// headers in both directions. The filter_config is ignored.
//
// Request: sets `x-envoyx-seen: true`, adds one more value to `x-envoyx-multi` (existing values
// stay), removes `x-envoyx-remove-me`, and remembers every value of `x-envoyx-echo`.
// Response: sets `x-envoyx-response: ok`, removes `x-envoyx-secret`, and adds the remembered
// `x-envoyx-echo` values, in order.
package headers

import "github.com/envoyx/envoyx/go/envoyx"

// MultiValue is the value this filter adds to `x-envoyx-multi`.
const MultiValue = "added-by-envoyx"

type config struct{}

func (config) NewFilter() envoyx.Filter { return &filter{} }

type filter struct {
	envoyx.DefaultFilter
	echo []string
}

func (f *filter) OnRequestHeaders(s *envoyx.Stream, _ bool) envoyx.HeadersStatus {
	h := s.RequestHeaders()
	f.echo = h.Values("x-envoyx-echo") // copies: they outlive this hook
	h.Set("x-envoyx-seen", "true")
	h.Add("x-envoyx-multi", MultiValue)
	h.Remove("x-envoyx-remove-me")
	return envoyx.HeadersContinue
}

func (f *filter) OnResponseHeaders(s *envoyx.Stream, _ bool) envoyx.HeadersStatus {
	h := s.ResponseHeaders()
	h.Set("x-envoyx-response", "ok")
	h.Remove("x-envoyx-secret")
	for _, value := range f.echo {
		h.Add("x-envoyx-echo", value)
	}
	return envoyx.HeadersContinue
}

func init() {
	envoyx.Register("headers", func(string, []byte) (envoyx.FilterConfig, error) { return config{}, nil })
}
