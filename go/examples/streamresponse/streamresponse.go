// Package streamresponse is the Go port of rust/examples/stream-response: a terminal filter. It
// answers every request itself — no upstream cluster is asked — with a stream of server-sent
// events produced over time, and pauses while the client reads slower than it produces, so
// memory stays bounded however slow the client is.
//
// filter_config: `events=N,interval_ms=M,event_bytes=B` (each optional; defaults 5, 200, 0): how
// many events, the time between two, and how many padding bytes each carries. A request may ask
// for other numbers with the headers x-envoyx-events, x-envoyx-interval-ms and
// x-envoyx-event-bytes (a bad value gets a 400).
//
//   - OnRequestHeaders sends the response headers (content-type: text/event-stream) and the first
//     event, then returns HeadersStopIteration: the request goes nowhere else.
//   - Each next event is sent from a function scheduled on the stream: at once (interval_ms=0:
//     as fast as the client takes them) or after the interval, from a timer.
//   - OnWatermark: above the high watermark the filter stops producing; below the low one it goes
//     on where it stopped.
//   - After the last event, trailers end the response: x-envoyx-events-sent and x-envoyx-pauses
//     (how many times the client made it wait).
package streamresponse

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/envoyx/envoyx/go/envoyx"
)

// The most events, padding bytes per event and interval a configuration or request may ask for.
const (
	MaxEvents     = 1_000_000
	MaxEventBytes = 64 << 10
	MaxIntervalMs = 60_000
)

// Plan is what to stream.
type Plan struct {
	Events     uint64
	Interval   time.Duration
	EventBytes int
}

// DefaultPlan is the plan of an empty filter_config.
var DefaultPlan = Plan{Events: 5, Interval: 200 * time.Millisecond}

func number(name, text string, max uint64) (uint64, error) {
	value, err := strconv.ParseUint(strings.TrimSpace(text), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s %q: not a number", name, text)
	}
	if value > max {
		return 0, fmt.Errorf("%s %d is over %d", name, value, max)
	}
	return value, nil
}

func (p *Plan) set(key, value string) error {
	switch key {
	case "events":
		n, err := number(key, value, MaxEvents)
		p.Events = n
		return err
	case "interval_ms":
		n, err := number(key, value, MaxIntervalMs)
		p.Interval = time.Duration(n) * time.Millisecond
		return err
	case "event_bytes":
		n, err := number(key, value, MaxEventBytes)
		p.EventBytes = int(n)
		return err
	}
	return fmt.Errorf("unknown key %q (events, interval_ms, event_bytes)", key)
}

// ParsePlan reads the filter_config (`events=N,interval_ms=M,event_bytes=B`).
func ParsePlan(config []byte) (Plan, error) {
	plan := DefaultPlan
	for _, item := range strings.Split(string(config), ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		key, value, ok := strings.Cut(item, "=")
		if !ok {
			return plan, fmt.Errorf("stream-response: %q is not key=value", item)
		}
		if err := plan.set(strings.TrimSpace(key), value); err != nil {
			return plan, fmt.Errorf("stream-response: %w", err)
		}
	}
	return plan, nil
}

// forRequest is the plan with what the request's headers ask for instead.
func (p Plan) forRequest(headers envoyx.Headers) (Plan, error) {
	for _, h := range [][2]string{{"x-envoyx-events", "events"}, {"x-envoyx-interval-ms", "interval_ms"}, {"x-envoyx-event-bytes", "event_bytes"}} {
		if value, ok := headers.Get(h[0]); ok {
			if err := p.set(h[1], value); err != nil {
				return p, err
			}
		}
	}
	return p, nil
}

// Event is event n (from 1) of a stream, with `padding` bytes of '.'.
func Event(n uint64, padding int) []byte {
	event := fmt.Appendf(nil, "id: %d\ndata: event %d ", n, n)
	event = append(event, strings.Repeat(".", padding)...)
	return append(event, "\n\n"...)
}

type config struct{ plan Plan }

func (c config) NewFilter() envoyx.Filter { return &filter{plan: c.plan} }

// filter is one stream's producer. Its fields are used on the stream's thread only (hooks and
// scheduled functions); the timer goroutines touch nothing but the handle.
type filter struct {
	envoyx.DefaultFilter
	plan         Plan
	sent, pauses uint64
	// paused: the client is behind (above the high watermark); due: the next event's time came
	// while paused.
	paused, due bool
	handle      *envoyx.StreamHandle
}

func (f *filter) OnRequestHeaders(s *envoyx.Stream, _ bool) envoyx.HeadersStatus {
	plan, err := f.plan.forRequest(s.RequestHeaders())
	if err != nil {
		s.SendLocalReply(400, nil, []byte(err.Error()+"\n"), "stream_response_bad_request")
		return envoyx.HeadersStopIteration
	}
	f.plan = plan
	headers := [][2]string{{"content-type", "text/event-stream"}, {"cache-control", "no-cache"},
		{"x-envoyx-events", strconv.FormatUint(plan.Events, 10)}}
	if plan.Events == 0 {
		s.SendResponseHeaders(200, headers, true)
	} else if s.SendResponseHeaders(200, headers, false) {
		f.handle = s.Handle()
		f.produce(s)
	}
	// The request stays here either way: this filter is its end.
	return envoyx.HeadersStopIteration
}

// produce sends the next event and arms the one after it, or ends the response.
func (f *filter) produce(s *envoyx.Stream) {
	f.sent++
	s.SendResponseData(Event(f.sent, f.plan.EventBytes), false)
	if f.sent >= f.plan.Events {
		s.SendResponseTrailers([][2]string{{"x-envoyx-events-sent", strconv.FormatUint(f.sent, 10)},
			{"x-envoyx-pauses", strconv.FormatUint(f.pauses, 10)}})
		f.handle.Release()
		return
	}
	if f.plan.Interval == 0 {
		f.handle.Schedule(f.next)
		return
	}
	// Once the stream is gone the schedule is refused and the timer's work ends.
	handle := f.handle
	time.AfterFunc(f.plan.Interval, func() { handle.Schedule(f.next) })
}

// next runs on the stream's thread when the next event is due.
func (f *filter) next(s *envoyx.Stream) {
	if f.paused {
		f.due = true
		return
	}
	f.produce(s)
}

func (f *filter) OnWatermark(s *envoyx.Stream, d envoyx.Direction, above bool) {
	if d != envoyx.Response {
		return
	}
	f.paused = above
	if above {
		f.pauses++
	} else if f.due {
		f.due = false
		f.produce(s)
	}
}

func (f *filter) OnComplete(*envoyx.Stream) {
	if f.handle != nil {
		f.handle.Release()
	}
}

func init() {
	envoyx.Register("stream-response", func(_ string, cfg []byte) (envoyx.FilterConfig, error) {
		plan, err := ParsePlan(cfg)
		if err != nil {
			return nil, err
		}
		return config{plan: plan}, nil
	})
}
