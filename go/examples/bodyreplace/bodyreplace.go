// Package bodyreplace is the Go port of rust/examples/body-replace: it edits the request body as
// a whole, as the request headers instruct:
//
//   - `x-envoyx-prepend: X` inserts X before the body;
//   - `x-envoyx-append: Y` adds Y after it;
//   - `x-envoyx-replace: FROM=TO` replaces the first occurrence of FROM (searched in the original
//     body, before prepending and appending) by TO.
//
// To see the whole body the filter buffers it; at the end it is the buffered body followed by
// the received (last) chunk, and an occurrence of FROM may straddle the two. Requests without
// these headers, or without a body, pass through untouched and unbuffered. When an edit is asked
// for, the headers hook removes content-length (WillChangeRequestBodyLength) so that Envoy
// re-frames the request. The filter_config is ignored.
package bodyreplace

import (
	"bytes"
	"io"

	"github.com/envoyx/envoyx/go/envoyx"
)

// Edits are the edits one request asks for (nil: not asked for).
type Edits struct {
	Prepend, Append []byte
	From, To        []byte
}

// EditsFrom reads the edits from the request headers.
func EditsFrom(h envoyx.Headers) Edits {
	var e Edits
	if v, ok := h.Get("x-envoyx-prepend"); ok {
		e.Prepend = []byte(v)
	}
	if v, ok := h.Get("x-envoyx-append"); ok {
		e.Append = []byte(v)
	}
	if v, ok := h.Get("x-envoyx-replace"); ok {
		e.From, e.To, _ = ParseReplace(v)
	}
	return e
}

// Empty tells whether nothing is asked for.
func (e Edits) Empty() bool { return e.Prepend == nil && e.Append == nil && e.From == nil }

// ParseReplace splits FROM=TO at the first '='; FROM must not be empty.
func ParseReplace(value string) (from, to []byte, ok bool) {
	at := bytes.IndexByte([]byte(value), '=')
	if at <= 0 {
		return nil, nil, false
	}
	return []byte(value[:at]), []byte(value[at+1:]), true
}

// Range is a half-open byte range.
type Range struct{ Start, End int }

// Occurrence is where a needle lies: in the buffered part, the received part, or across both
// (nil: not in that part), as offsets within each part.
type Occurrence struct{ Buffered, Received *Range }

// Locate finds the first `needle` in `whole`, whose first `bufferedLen` bytes are buffered.
func Locate(whole, needle []byte, bufferedLen int) (Occurrence, bool) {
	if len(needle) == 0 {
		return Occurrence{}, false
	}
	start := bytes.Index(whole, needle)
	if start < 0 {
		return Occurrence{}, false
	}
	end := start + len(needle)
	var o Occurrence
	if start < bufferedLen {
		o.Buffered = &Range{start, min(end, bufferedLen)}
	}
	if end > bufferedLen {
		o.Received = &Range{max(start-bufferedLen, 0), end - bufferedLen}
	}
	return o, true
}

type config struct{}

func (config) NewFilter() envoyx.Filter { return &filter{} }

type filter struct {
	envoyx.DefaultFilter
	edits *Edits
}

// apply edits the whole body; `received` says whether the last chunk is in this hook.
func apply(s *envoyx.Stream, e Edits, received bool) {
	buffered, chunk := s.RequestBufferedBody(), s.RequestBody()
	if e.From != nil {
		whole, _ := io.ReadAll(s.WholeRequestBody())
		if found, ok := Locate(whole, e.From, buffered.Len()); ok {
			toInReceived := e.To
			if r := found.Buffered; r != nil {
				buffered.Replace(r.Start, r.End-r.Start, e.To)
				toInReceived = nil // the replacement went in the buffered part
			}
			if r := found.Received; r != nil {
				chunk.Replace(r.Start, r.End-r.Start, toInReceived)
			}
		}
	}
	if e.Prepend != nil {
		if received && buffered.Len() == 0 {
			chunk.Prepend(e.Prepend)
		} else {
			buffered.Prepend(e.Prepend)
		}
	}
	if e.Append != nil {
		if received {
			chunk.Append(e.Append)
		} else {
			buffered.Append(e.Append)
		}
	}
}

func (f *filter) OnRequestHeaders(s *envoyx.Stream, end bool) envoyx.HeadersStatus {
	edits := EditsFrom(s.RequestHeaders())
	if edits.Empty() || end {
		return envoyx.HeadersContinue
	}
	s.WillChangeRequestBodyLength()
	f.edits = &edits
	return envoyx.HeadersContinue
}

func (f *filter) OnRequestBody(s *envoyx.Stream, end bool) envoyx.BodyStatus {
	if f.edits == nil {
		return envoyx.BodyContinue
	}
	if !end {
		return envoyx.BodyStopAndBuffer
	}
	apply(s, *f.edits, true)
	f.edits = nil
	return envoyx.BodyContinue
}

func (f *filter) OnRequestTrailers(s *envoyx.Stream) envoyx.TrailersStatus {
	if f.edits != nil {
		apply(s, *f.edits, false)
		f.edits = nil
	}
	return envoyx.TrailersContinue
}

func init() {
	envoyx.Register("body-replace", func(string, []byte) (envoyx.FilterConfig, error) { return config{}, nil })
}
