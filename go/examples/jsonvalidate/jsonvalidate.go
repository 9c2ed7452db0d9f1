// Package jsonvalidate is the Go port of rust/examples/json-validate: it lets a request through
// only if its body is a JSON object with a required top-level field; otherwise it answers 400
// with a short JSON error such as {"error":"missing field \"user\""}.
//
// filter_config: the name of the required field (e.g. "user"); empty refuses the configuration.
//
// The request headers are held and the body buffered until the request ends, so nothing reaches
// upstream before the check. The whole body (buffered, then the last chunk) is decoded through a
// reader over Envoy's slices. A request without a body gets 400 too.
package jsonvalidate

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/envoyx/envoyx/go/envoyx"
)

// CheckBody checks that `body` is a JSON object with the top-level `field`.
func CheckBody(body io.Reader, field string) error {
	var value any
	if err := json.NewDecoder(body).Decode(&value); err != nil {
		return fmt.Errorf("body is not JSON: %v", err)
	}
	object, ok := value.(map[string]any)
	if !ok {
		return errors.New("body is not a JSON object")
	}
	if _, ok := object[field]; !ok {
		return fmt.Errorf("missing field %q", field)
	}
	return nil
}

// ErrorBody is the JSON body of a 400 reply for `reason`.
func ErrorBody(reason string) []byte {
	body, _ := json.Marshal(map[string]string{"error": reason})
	return append(body, '\n')
}

type config struct{ field string }

func (c config) NewFilter() envoyx.Filter { return &filter{field: c.field} }

type filter struct {
	envoyx.DefaultFilter
	field string
}

func reject(s *envoyx.Stream, reason string) {
	headers := [][2]string{{"content-type", "application/json"}}
	if !s.SendLocalReply(400, headers, ErrorBody(reason), "envoyx_invalid_json") {
		s.Reset() // the response already started: too late for a 400
	}
}

func (f *filter) validate(s *envoyx.Stream) bool {
	if err := CheckBody(s.WholeRequestBody(), f.field); err != nil {
		reject(s, err.Error())
		return false
	}
	return true
}

func (f *filter) OnRequestHeaders(s *envoyx.Stream, end bool) envoyx.HeadersStatus {
	if end {
		reject(s, "request has no body")
	}
	return envoyx.HeadersStopIteration
}

func (f *filter) OnRequestBody(s *envoyx.Stream, end bool) envoyx.BodyStatus {
	if !end {
		return envoyx.BodyStopAndBuffer
	}
	if f.validate(s) {
		return envoyx.BodyContinue
	}
	return envoyx.BodyStopNoBuffer
}

func (f *filter) OnRequestTrailers(s *envoyx.Stream) envoyx.TrailersStatus {
	if f.validate(s) {
		return envoyx.TrailersContinue
	}
	return envoyx.TrailersStopIteration
}

func init() {
	envoyx.Register("json-validate", func(_ string, cfg []byte) (envoyx.FilterConfig, error) {
		field := strings.TrimSpace(string(cfg))
		if field == "" {
			return nil, errors.New(`json-validate: filter_config must name the required top-level JSON field, e.g. "user"; it is empty`)
		}
		return config{field}, nil
	})
}
