package envoyx

/*
#include "host.h"

static inline uint64_t envoyxgo_metric_define(envoyx_error* creating, uint32_t kind,
    const char* name, size_t name_len, const char* buf, const size_t* lens, size_t count) {
  uint64_t id;
  ENVOYXGO_WITH_VIEWS(id, buf, lens, count,
      envoyxgo_host->metric_define(creating, kind, envoyxgo_bytes(name, name_len), views, count));
  return id;
}

static inline bool envoyxgo_metric_record(envoyx_stream* stream, uint64_t metric, const char* buf,
    const size_t* lens, size_t count, uint32_t op, uint64_t value) {
  bool recorded;
  ENVOYXGO_WITH_VIEWS(recorded, buf, lens, count,
      envoyxgo_host->metric_record(stream, metric, views, count, op, value));
  return recorded;
}
*/
import "C"

import (
	"errors"
	"fmt"
	"sync/atomic"
)

// creating is the configuration being created (its `error` argument identifies it to the host)
// while a Factory runs on Envoy's main thread; nil otherwise.
var creating atomic.Pointer[creation]

// creation is the configuration being created: the host's `error` pointer (wrapped: an
// incomplete C type cannot be a type argument) and the ConfigHandle made for it, if any.
type creation struct {
	err    *C.envoyx_error
	handle *ConfigHandle
}

// Metric kinds and operations, as x/abi.h numbers them.
const (
	kindCounter   = 0
	kindGauge     = 1
	kindHistogram = 2

	opAdd      = 0
	opSubtract = 1
	opSet      = 2
	opRecord   = 3
)

// metric is a metric of one filter configuration: its id and how many label values it takes.
type metric struct {
	id     uint64
	labels int
}

func define(kind uint32, name string, labels []string) (metric, error) {
	c := creating.Load()
	if c == nil {
		return metric{}, errors.New("envoyx: metrics are defined inside a Factory only (while Envoy creates the configuration)")
	}
	p := packStrings(labels...)
	id := uint64(C.envoyxgo_metric_define(c.err, C.uint32_t(kind), cstr(name), C.size_t(len(name)), p.buf(), p.lens(), C.size_t(len(labels))))
	if id == 0 {
		return metric{}, fmt.Errorf("envoyx: metric %q refused (the proxy's log says why)", name)
	}
	return metric{id, len(labels)}, nil
}

func (m metric) record(s *Stream, op uint32, value uint64, labelValues []string) bool {
	if m.id == 0 {
		return false
	}
	p := packStrings(labelValues...)
	return bool(C.envoyxgo_metric_record(s.raw, C.uint64_t(m.id), p.buf(), p.lens(), C.size_t(len(labelValues)), C.uint32_t(op), C.uint64_t(value)))
}

// Counter only grows. Envoy shows it as `<prefix>.<filter name>.<name>` with the label names as
// tags (docs/contract.md, "Metrics", gives each host's prefix).
type Counter struct{ m metric }

// Gauge goes up and down.
type Gauge struct{ m metric }

// Histogram is a distribution of recorded values (in the module's unit: ms, bytes, ...).
type Histogram struct{ m metric }

// DefineCounter defines a counter of the configuration being created: call it in the Factory.
// `name` and the label names are 1-64 bytes of [a-z0-9_] starting with a letter.
func DefineCounter(name string, labelNames ...string) (Counter, error) {
	m, err := define(kindCounter, name, labelNames)
	return Counter{m}, err
}

// DefineGauge defines a gauge (see DefineCounter).
func DefineGauge(name string, labelNames ...string) (Gauge, error) {
	m, err := define(kindGauge, name, labelNames)
	return Gauge{m}, err
}

// DefineHistogram defines a histogram (see DefineCounter).
func DefineHistogram(name string, labelNames ...string) (Histogram, error) {
	m, err := define(kindHistogram, name, labelNames)
	return Histogram{m}, err
}

// Add adds `value` for the label values (as many as the metric has label names, each at most
// 256 bytes without control bytes); inside a hook of `s`. False when refused (logged), also for
// a new label combination past x/abi.h's ENVOYX_METRIC_LABEL_LIMIT or the filter configuration's
// `metric_limits` bound, unless that names an `overflow_label` (then recorded under it: true).
func (c Counter) Add(s *Stream, value uint64, labelValues ...string) bool {
	return c.m.record(s, opAdd, value, labelValues)
}

// Add raises the gauge (as Counter.Add).
func (g Gauge) Add(s *Stream, value uint64, labelValues ...string) bool {
	return g.m.record(s, opAdd, value, labelValues)
}

// Sub lowers the gauge.
func (g Gauge) Sub(s *Stream, value uint64, labelValues ...string) bool {
	return g.m.record(s, opSubtract, value, labelValues)
}

// Set sets the gauge.
func (g Gauge) Set(s *Stream, value uint64, labelValues ...string) bool {
	return g.m.record(s, opSet, value, labelValues)
}

// Record records one value.
func (h Histogram) Record(s *Stream, value uint64, labelValues ...string) bool {
	return h.m.record(s, opRecord, value, labelValues)
}
