// Package helloworld is the Go port of rust/examples/helloworld: it logs every stream event at
// info level and changes nothing. Each line starts with `helloworld[<config name>]`.
package helloworld

import (
	"fmt"

	"github.com/envoyx/envoyx/go/envoyx"
)

type config struct{ name string }

func (c config) NewFilter() envoyx.Filter { return &filter{name: c.name} }

type filter struct {
	envoyx.DefaultFilter
	name string
}

func (f *filter) log(format string, args ...any) {
	if envoyx.LogEnabled(envoyx.LevelInfo) {
		envoyx.Log(envoyx.LevelInfo, fmt.Sprintf("helloworld[%s]: ", f.name)+fmt.Sprintf(format, args...))
	}
}

func (f *filter) OnRequestHeaders(s *envoyx.Stream, end bool) envoyx.HeadersStatus {
	method, _ := s.RequestHeaders().Get(":method")
	path, _ := s.RequestHeaders().Get(":path")
	f.log("request headers %s %s (end_of_stream=%v)", method, path, end)
	return envoyx.HeadersContinue
}

func (f *filter) OnResponseHeaders(s *envoyx.Stream, end bool) envoyx.HeadersStatus {
	status, _ := s.ResponseHeaders().Get(":status")
	f.log("response headers, status %s (end_of_stream=%v)", status, end)
	return envoyx.HeadersContinue
}

func (f *filter) OnComplete(*envoyx.Stream) { f.log("stream complete") }

func init() {
	envoyx.Register("helloworld", func(name string, _ []byte) (envoyx.FilterConfig, error) {
		envoyx.Log(envoyx.LevelInfo, fmt.Sprintf("helloworld[%s]: filter config created", name))
		return config{name: name}, nil
	})
}
