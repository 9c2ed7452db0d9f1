// Package delay is the Go port of rust/examples/delay: it holds each request for a configured
// time, then resumes it from a timer goroutine through a StreamHandle.
//
// filter_config: the delay in milliseconds (e.g. "250"); empty means 1000. Anything else refuses
// the configuration.
//
//   - Request headers return HeadersStopIteration, and a timer continues the request after the
//     delay. Body chunks and trailers that arrive meanwhile are held too (buffered), so that
//     nothing overtakes the delay.
//   - A request header `x-envoyx-delay-response: <ms>` likewise holds the response headers for
//     that long; a malformed value is ignored (with a warning).
//   - The response gets `x-envoyx-delayed-ms: <ms>`: how long the request was actually held.
package delay

import (
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/envoyx/envoyx/go/envoyx"
)

// DefaultDelay is the delay when the filter_config is empty.
const DefaultDelay = time.Second

// ParseMillis parses a number of milliseconds (surrounding whitespace ignored).
func ParseMillis(text string) (time.Duration, error) {
	text = strings.TrimSpace(text)
	millis, err := strconv.ParseUint(text, 10, 63)
	if err != nil {
		return 0, fmt.Errorf("%q is not a number of milliseconds", text)
	}
	return time.Duration(millis) * time.Millisecond, nil
}

// ParseConfig reads the filter_config.
func ParseConfig(config []byte) (time.Duration, error) {
	if strings.TrimSpace(string(config)) == "" {
		return DefaultDelay, nil
	}
	d, err := ParseMillis(string(config))
	if err != nil {
		return 0, fmt.Errorf("delay: bad filter_config: %w", err)
	}
	return d, nil
}

// timer holds one direction and resumes it from its goroutine.
type timer struct {
	fired    atomic.Bool
	waitedMs atomic.Int64
}

func start(s *envoyx.Stream, d envoyx.Direction, delay time.Duration) *timer {
	t, handle, started := &timer{}, s.Handle(), time.Now()
	time.AfterFunc(delay, func() {
		defer handle.Release()
		t.waitedMs.Store(time.Since(started).Milliseconds())
		t.fired.Store(true)
		handle.Continue(d)
	})
	return t
}

// holding tells whether `t` still holds its direction (then later events are held too).
func (t *timer) holding() bool { return t != nil && !t.fired.Load() }

// body is what a body hook returns: buffer while held (continuing would resume early).
func (t *timer) body() envoyx.BodyStatus {
	if t.holding() {
		return envoyx.BodyStopAndBuffer
	}
	return envoyx.BodyContinue
}

// trailers is what a trailers hook returns.
func (t *timer) trailers() envoyx.TrailersStatus {
	if t.holding() {
		return envoyx.TrailersStopIteration
	}
	return envoyx.TrailersContinue
}

type config struct{ delay time.Duration }

func (c config) NewFilter() envoyx.Filter { return &filter{delay: c.delay} }

type filter struct {
	envoyx.DefaultFilter
	delay                 time.Duration
	responseDelay         *time.Duration
	request, responseHold *timer
}

func (f *filter) OnRequestHeaders(s *envoyx.Stream, _ bool) envoyx.HeadersStatus {
	if value, ok := s.RequestHeaders().Get("x-envoyx-delay-response"); ok {
		if d, err := ParseMillis(value); err == nil {
			f.responseDelay = &d
		} else {
			envoyx.Log(envoyx.LevelWarn, "delay: ignoring x-envoyx-delay-response: "+err.Error())
		}
	}
	f.request = start(s, envoyx.Request, f.delay)
	return envoyx.HeadersStopIteration
}

func (f *filter) OnRequestBody(*envoyx.Stream, bool) envoyx.BodyStatus   { return f.request.body() }
func (f *filter) OnRequestTrailers(*envoyx.Stream) envoyx.TrailersStatus { return f.request.trailers() }

func (f *filter) OnResponseHeaders(s *envoyx.Stream, _ bool) envoyx.HeadersStatus {
	if f.request != nil {
		s.ResponseHeaders().Set("x-envoyx-delayed-ms", strconv.FormatInt(f.request.waitedMs.Load(), 10))
	}
	if f.responseDelay == nil {
		return envoyx.HeadersContinue
	}
	f.responseHold = start(s, envoyx.Response, *f.responseDelay)
	return envoyx.HeadersStopIteration
}

func (f *filter) OnResponseBody(*envoyx.Stream, bool) envoyx.BodyStatus {
	return f.responseHold.body()
}
func (f *filter) OnResponseTrailers(*envoyx.Stream) envoyx.TrailersStatus {
	return f.responseHold.trailers()
}

func init() {
	envoyx.Register("delay", func(_ string, cfg []byte) (envoyx.FilterConfig, error) {
		d, err := ParseConfig(cfg)
		return config{d}, err
	})
}
