// The Go conformance module: the cases of the conformance suite (rust/conformance) marked
// `go()`, written with the Go SDK as rust/test-modules/conformance writes them with the Rust one,
// so that both SDKs are held to the same list on every host.
//
// Filter config: "" passes every request through; `panic=<hook>` panics in that hook with
// "conformance: boom in <hook>" (config_new, new_filter, request_headers, request_body,
// request_trailers, response_headers, response_body, response_trailers, scheduled,
// stream_complete); `reject` (or anything else) is refused. A panic in a later request hook or
// the scheduled function holds the request, so nothing reaches the upstream.
package main

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/envoyx/envoyx/go/envoyx"
)

type config struct{ panicIn string }

func (c *config) NewFilter() envoyx.Filter {
	if c.panicIn == "new_filter" {
		panic("conformance: boom in new_filter")
	}
	return &filter{panicIn: c.panicIn}
}

type filter struct {
	envoyx.DefaultFilter
	panicIn string
	// grpc-unary: the calls' outcomes so far, as name=..., and whether the request waits for them.
	grpcResults []string
	grpcPending bool
	// The answer* case the filter answers itself (ABI 1.2 SendResponse*), if any.
	answer string
	// local-reply-seen: what OnLocalReply heard.
	localReply string
	// trailers-add*: the case, and what its calls returned (told back as x-conf-results).
	trailersCase    string
	trailersResults []string
}

// addTrailers is the trailers-add* cases' body hooks: trailers for a direction that had none,
// with its last chunk.
func (f *filter) addTrailers(s *envoyx.Stream, end bool, response bool) {
	if f.trailersCase == "" || !end {
		return
	}
	add, value := s.AddRequestTrailers, "request"
	if response {
		add, value = s.AddResponseTrailers, "response"
	}
	if trailers, ok := add(); ok {
		trailers.Set("x-conf-added", value)
	}
}

func (f *filter) maybePanic(hook string) {
	if f.panicIn == hook {
		panic("conformance: boom in " + hook)
	}
}

// holdsRequest: the request must not reach the upstream before the hook that panics.
func (f *filter) holdsRequest() bool {
	return f.panicIn == "request_body" || f.panicIn == "request_trailers" || f.panicIn == "scheduled"
}

// startGrpcCalls: the grpc-unary case's two calls to the echo cluster, which answers the framed
// message back with the grpc-status (and grpc-message) its x-upstream-respond-trailer-* headers
// ask for; once both answered, their outcomes go upstream as x-conf-grpc.
func (f *filter) startGrpcCalls(s *envoyx.Stream) {
	calls := []struct {
		name     string
		metadata [][2]string
	}{
		{"ok", [][2]string{{"x-upstream-respond-trailer-grpc-status", "0"}}},
		{"error", [][2]string{{"x-upstream-respond-trailer-grpc-status", "5"}, {"x-upstream-respond-trailer-grpc-message", "not%20here"}}},
	}
	for _, c := range calls {
		name := c.name
		call := envoyx.GrpcCall{Path: "/conformance.Echo/Unary", Message: []byte("ping"), Timeout: 5 * time.Second, Metadata: c.metadata}
		started := s.StartGrpcCall("callout", call, func(s *envoyx.Stream, response []byte, err *envoyx.GrpcError) {
			if err != nil {
				f.grpcResults = append(f.grpcResults, name+"="+err.Error())
			} else {
				f.grpcResults = append(f.grpcResults, name+"="+string(response))
			}
			if len(f.grpcResults) == 2 {
				f.grpcPending = false
				sort.Strings(f.grpcResults)
				s.RequestHeaders().Set("x-conf-grpc", strings.Join(f.grpcResults, ","))
				s.Continue(envoyx.Request)
			}
		})
		if !started {
			f.grpcResults = append(f.grpcResults, name+"=refused")
		}
	}
}

// startHealthCheck: the grpc-health behaviour (a real gRPC server's test, as in the Rust module):
// one grpc.health.v1.Health/Check call for the service x-grpc-service to the cluster
// x-grpc-cluster (default grpc) with the deadline x-grpc-timeout-ms (default 2000); the outcome
// goes upstream as x-conf-grpc (check=<response in hex> or the error). False when refused.
func (f *filter) startHealthCheck(s *envoyx.Stream) bool {
	headers := s.RequestHeaders()
	cluster, ok := headers.Get("x-grpc-cluster")
	if !ok {
		cluster = "grpc"
	}
	service, _ := headers.Get("x-grpc-service")
	timeout := 2000 * time.Millisecond
	if ms, ok := headers.Get("x-grpc-timeout-ms"); ok {
		if n, err := time.ParseDuration(ms + "ms"); err == nil {
			timeout = n
		}
	}
	// HealthCheckRequest { service }: field 1, length-delimited (names shorter than 128).
	request := append([]byte{0x0a, byte(len(service))}, service...)
	call := envoyx.GrpcCall{Path: "/grpc.health.v1.Health/Check", Message: request, Timeout: timeout}
	return s.StartGrpcCall(cluster, call, func(s *envoyx.Stream, response []byte, err *envoyx.GrpcError) {
		outcome := fmt.Sprintf("check=%x", response)
		if err != nil {
			outcome = "check=" + err.Error()
		}
		f.grpcPending = false
		s.RequestHeaders().Set("x-conf-grpc", outcome)
		s.Continue(envoyx.Request)
	})
}

func (f *filter) OnRequestHeaders(s *envoyx.Stream, end bool) envoyx.HeadersStatus {
	f.maybePanic("request_headers")
	if c, _ := s.RequestHeaders().Get("x-case"); c == "trailers-add" || c == "trailers-add-stock" {
		f.trailersCase = c
		if c == "trailers-add" {
			_, early := s.AddRequestTrailers() // refused: not the last request body chunk
			f.trailersResults = append(f.trailersResults, fmt.Sprintf("early=%t", early))
		}
		return envoyx.HeadersContinue
	}
	if c, _ := s.RequestHeaders().Get("x-case"); c == "grpc-health" {
		if !f.startHealthCheck(s) {
			s.RequestHeaders().Set("x-conf-grpc", "check=refused")
			return envoyx.HeadersContinue
		}
		f.grpcPending = true
		return envoyx.HeadersStopIteration
	}
	if c, _ := s.RequestHeaders().Get("x-case"); c == "grpc-unary" {
		f.grpcPending = true
		f.startGrpcCalls(s)
		if len(f.grpcResults) == 2 { // both refused: nothing to wait for
			f.grpcPending = false
			s.RequestHeaders().Set("x-conf-grpc", strings.Join(f.grpcResults, ","))
			return envoyx.HeadersContinue
		}
		return envoyx.HeadersStopIteration
	}
	switch c, _ := s.RequestHeaders().Get("x-case"); c {
	case "answer":
		// The filter answers the stream itself; the request stays here whatever the hook returns.
		f.answer = c
		s.SendResponseHeaders(200, [][2]string{{"content-type", "text/plain"}, {"x-conf-answer", "request-headers"}}, false)
		return envoyx.HeadersContinue
	case "answer-scheduled":
		f.answer = c
		return envoyx.HeadersStopIteration
	case "watermark":
		f.answer = c
		s.SendResponseHeaders(200, nil, false)
		return envoyx.HeadersStopIteration
	case "buffer-limit":
		_, known := s.BufferLimit()
		set := s.SetBufferLimit(65536)
		after, _ := s.BufferLimit()
		zero := s.SetBufferLimit(0)
		huge := s.SetBufferLimit(2 << 30)
		s.RequestHeaders().Set("x-conf-limit", fmt.Sprintf("known=%t,set=%t,after=%d,zero=%t,huge=%t", known, set, after, zero, huge))
		return envoyx.HeadersContinue
	case "metadata-struct":
		const ns = "envoyx.conformance.struct"
		bad := s.SetMetadataStruct(ns, "[1, 2]")
		set := s.SetMetadataStruct(ns, `{"user": "ada", "score": 0.5, "checked": true}`)
		user, ok := s.MetadataString(envoyx.MetadataDynamic, ns, "user")
		if !ok {
			user = "none"
		}
		score, ok := s.MetadataNumber(envoyx.MetadataDynamic, ns, "score")
		if !ok {
			score = -1
		}
		checked, _ := s.MetadataBool(envoyx.MetadataDynamic, ns, "checked")
		s.RequestHeaders().Set("x-conf-struct", fmt.Sprintf("set=%t,user=%s,score=%v,checked=%t,bad=%t", set, user, score, checked, bad))
		return envoyx.HeadersContinue
	case "filter-state-typed":
		serialized := func(key string) string {
			if v, ok := s.FilterStateSerialized(key); ok {
				return v
			}
			return "none"
		}
		str, obj := serialized("envoyx.conformance.preset"), serialized("envoy.network.upstream_server_name")
		unknown := s.SetFilterStateTyped("envoyx.no.such.factory", "x")
		set := s.SetFilterStateTyped("envoy.tcp_proxy.cluster", "c1")
		read := serialized("envoy.tcp_proxy.cluster")
		taken := s.SetFilterStateTyped("envoy.network.upstream_server_name", "other.example")
		s.RequestHeaders().Set("x-conf-typed", fmt.Sprintf("string=%s,object=%s,unknown=%t,set=%t,read=%s,taken=%t", str, obj, unknown, set, read, taken))
		return envoyx.HeadersContinue
	case "metadata-list":
		const ns = "envoyx.conformance.list"
		s.SetMetadataNumber(ns, "b", 2)
		s.SetMetadataString(ns, "a", "one")
		keys := s.MetadataKeys(envoyx.MetadataDynamic, ns)
		sort.Strings(keys)
		listed := false
		for _, n := range s.MetadataNamespaces(envoyx.MetadataDynamic) {
			listed = listed || n == ns
		}
		absent := len(s.MetadataKeys(envoyx.MetadataDynamic, "envoyx.conformance.absent"))
		unknown := len(s.MetadataNamespaces(envoyx.MetadataSource(9)))
		s.RequestHeaders().Set("x-conf-list", fmt.Sprintf("keys=%s,listed=%t,absent=%d,unknown=%d", strings.Join(keys, ","), listed, absent, unknown))
		return envoyx.HeadersContinue
	case "secret":
		shown := func(v []byte, ok bool) string {
			if !ok {
				return "refused"
			}
			return string(v)
		}
		declared, declaredOK := s.Secret("envoyx.conformance.secret")
		_, undeclaredOK := s.Secret("envoyx.conformance.other")
		undeclared := "refused"
		if undeclaredOK {
			undeclared = "read"
		}
		s.RequestHeaders().Set("x-conf-secret", "declared="+shown(declared, declaredOK)+",undeclared="+undeclared)
		return envoyx.HeadersContinue
	case "goaway":
		s.SendGoAwayAndClose(false)
		return envoyx.HeadersStopIteration
	case "metadata-set-typed":
		// A google.protobuf.StringValue "hello" (field 1, length 5).
		const url = "type.googleapis.com/google.protobuf.StringValue"
		set := s.SetMetadataTyped("envoyx.conformance.typed", url, []byte("\x0a\x05hello"))
		read := "none"
		if u, v, ok := s.MetadataTyped(envoyx.MetadataDynamic, "envoyx.conformance.typed"); ok {
			read = fmt.Sprintf("%s:%x", u, v)
		}
		bad := s.SetMetadataTyped("envoyx.conformance.typed", "no-slash", nil)
		s.RequestHeaders().Set("x-conf-results", fmt.Sprintf("set=%t,read=%s,bad=%t", set, read, bad))
		return envoyx.HeadersContinue
	case "shared":
		s.RequestHeaders().Set("x-conf-results", sharedCase())
		return envoyx.HeadersContinue
	case "runtime":
		shown := func(v any, ok bool) string {
			if !ok {
				return "none"
			}
			return fmt.Sprint(v)
		}
		flag, flagOK := envoyx.RuntimeBool("envoyx.conformance.flag")
		percent, percentOK := envoyx.RuntimeNumber("envoyx.conformance.percent")
		unset, unsetOK := envoyx.RuntimeBool("envoyx.conformance.never_set")
		asNumber, asNumberOK := envoyx.RuntimeNumber("envoyx.conformance.flag")
		s.RequestHeaders().Set("x-conf-runtime", fmt.Sprintf("flag=%s,percent=%s,unset=%s,flag-as-number=%s",
			shown(flag, flagOK), shown(percent, percentOK), shown(unset, unsetOK), shown(asNumber, asNumberOK)))
		return envoyx.HeadersContinue
	case "recreate":
		// The first time through: mark the request and start it over; the new stream lets it go.
		if _, marked := s.RequestHeaders().Get("x-conf-recreated"); marked {
			return envoyx.HeadersContinue
		}
		s.RequestHeaders().Set("x-conf-recreated", "1")
		if s.RecreateStream([][2]string{{":status", "307"}, {"location", "/"}}) {
			return envoyx.HeadersStopIteration
		}
		s.RequestHeaders().Set("x-conf-recreate", "false")
		return envoyx.HeadersContinue
	case "span-untraced":
		// No tracer on any host of the suite: every span call does nothing.
		_, child := s.StartChildSpan(envoyx.ActiveSpan, "envoyx.lookup")
		tag := s.SpanTag(envoyx.ActiveSpan, "envoyx.step", "lookup")
		_, baggage := s.Baggage("envoyx-tenant")
		_, trace := s.TraceID()
		_, unnamed := s.StartChildSpan(envoyx.ActiveSpan, "")
		finishActive := s.FinishSpan(envoyx.ActiveSpan)
		s.RequestHeaders().Set("x-conf-results", fmt.Sprintf("child=%t,tag=%t,baggage=%t,trace=%t,unnamed=%t,finish-active=%t",
			child, tag, baggage, trace, unnamed, finishActive))
		return envoyx.HeadersContinue
	case "reset-refused":
		s.ResetWithReason(envoyx.ResetRefused, "envoyx_conformance_shed")
		return envoyx.HeadersStopIteration
	case "refresh-cluster":
		s.RequestHeaders().Set("x-conf-cluster", "upstream")
		s.RequestHeaders().Set("x-conf-weight", "0")
		s.RequestHeaders().Set("x-conf-refreshed", fmt.Sprint(s.RefreshRouteCluster()))
		return envoyx.HeadersContinue
	case "filter-state-has":
		// The keys rust/conformance presets (PRESET_STRING, PRESET_OBJECT).
		s.RequestHeaders().Set("x-conf-has", fmt.Sprintf("string=%t,object=%t,missing=%t,bad=%t",
			s.HasFilterState("envoyx.conformance.preset"), s.HasFilterState("envoy.network.upstream_server_name"),
			s.HasFilterState("envoyx.conformance.never_set"), s.HasFilterState("")))
		return envoyx.HeadersContinue
	case "workers":
		count, known := envoyx.WorkerCount()
		index, indexed := s.WorkerIndex()
		s.RequestHeaders().Set("x-conf-workers", fmt.Sprintf("in-range=%t", known && indexed && index < count))
		return envoyx.HeadersContinue
	case "log-at":
		envoyx.LogAt(envoyx.LevelInfo, "conformance/located.rs", 42, "conformance: a located line")
		envoyx.LogAt(envoyx.LevelInfo, "conformance/two\nlines.rs", 7, "conformance: a file name with a line break")
		return envoyx.HeadersContinue
	case "reset-reason-refused":
		unknown := s.ResetWithReason(envoyx.ResetReason(7), "")
		spaced := s.ResetWithReason(envoyx.ResetRefused, "not one token")
		s.RequestHeaders().Set("x-conf-results", fmt.Sprintf("unknown=%t,spaced=%t", unknown, spaced))
		return envoyx.HeadersContinue
	}
	if f.holdsRequest() {
		return envoyx.HeadersStopIteration
	}
	return envoyx.HeadersContinue
}

func (f *filter) OnRequestBody(s *envoyx.Stream, end bool) envoyx.BodyStatus {
	f.maybePanic("request_body")
	f.addTrailers(s, end, false)
	switch f.answer {
	case "answer":
		// Each chunk goes back as it arrives; trailers end the response.
		s.SendResponseData(s.RequestBody().Bytes(), false)
		if end {
			s.SendResponseTrailers([][2]string{{"x-conf-trailer", "done"}})
		}
		return envoyx.BodyContinue
	case "answer-scheduled":
		if end {
			f.answerLater(s)
		}
		return envoyx.BodyStopAndBuffer
	case "watermark":
		return envoyx.BodyStopNoBuffer
	}
	if f.grpcPending {
		return envoyx.BodyStopAndBuffer
	}
	if !f.holdsRequest() {
		return envoyx.BodyContinue
	}
	if end && f.panicIn == "scheduled" {
		handle := s.Handle()
		go func() {
			defer handle.Release()
			time.Sleep(10 * time.Millisecond)
			handle.Schedule(func(*envoyx.Stream) { f.maybePanic("scheduled") })
		}()
	}
	return envoyx.BodyStopAndBuffer
}

// answerLater: the answer-scheduled case's response over time, from two functions scheduled
// from a goroutine: the headers (content-length 9) and "abc", then "defghi", which ends it.
func (f *filter) answerLater(s *envoyx.Stream) {
	handle := s.Handle()
	go func() {
		defer handle.Release()
		time.Sleep(10 * time.Millisecond)
		handle.Schedule(func(s *envoyx.Stream) {
			s.SendResponseHeaders(200, [][2]string{{"content-length", "9"}, {"x-conf-answer", "scheduled"}}, false)
			s.SendResponseData([]byte("abc"), false)
		})
		time.Sleep(10 * time.Millisecond)
		handle.Schedule(func(s *envoyx.Stream) { s.SendResponseData([]byte("defghi"), true) })
	}()
}

// OnWatermark: the watermark case tells each flow-control change in its response, which the
// change back below ends.
func (f *filter) OnWatermark(s *envoyx.Stream, _ envoyx.Direction, above bool) {
	if f.answer != "watermark" {
		return
	}
	if above {
		s.SendResponseData([]byte("above;"), false)
	} else {
		s.SendResponseData([]byte("below;"), true)
	}
}

func (f *filter) OnRequestTrailers(s *envoyx.Stream) envoyx.TrailersStatus {
	f.maybePanic("request_trailers")
	return envoyx.TrailersContinue
}

// OnLocalReply: local-reply-seen notes what it heard (the router's 503 passes the response
// headers hook next, where it is told and changed to 502).
func (f *filter) OnLocalReply(s *envoyx.Stream, status int, details string, resetImminent bool) envoyx.LocalReplyStatus {
	if c, _ := s.RequestHeaders().Get("x-case"); c == "local-reply-seen" && f.localReply == "" {
		f.localReply = fmt.Sprintf("%d %s %t", status, details, resetImminent)
	}
	return envoyx.LocalReplyContinue
}

func (f *filter) OnResponseHeaders(s *envoyx.Stream, end bool) envoyx.HeadersStatus {
	f.maybePanic("response_headers")
	if f.localReply != "" {
		s.ResponseHeaders().Set("x-conf-local-reply", f.localReply)
		s.ResponseHeaders().Set(":status", "502")
	}
	if c, _ := s.RequestHeaders().Get("x-case"); c == "timing" {
		start, known := s.StartTime()
		plausible := "implausible"
		if apart := time.Since(start); known && apart < time.Minute && apart > -time.Minute {
			plausible = "plausible"
		}
		_, unknown := s.Timing(envoyx.Timing(99))
		s.ResponseHeaders().Set("x-conf-results", fmt.Sprintf("start=%s,unknown=%t,hosts=%d", plausible, unknown, len(s.UpstreamHostsAttempted())))
	}
	if f.trailersCase != "" {
		request, ok := s.RequestTrailers().Get("x-conf-added")
		if !ok {
			request = "none"
		}
		f.trailersResults = append(f.trailersResults, "request="+request)
		s.ResponseHeaders().Set("x-conf-results", strings.Join(f.trailersResults, ","))
	}
	return envoyx.HeadersContinue
}

func (f *filter) OnResponseBody(s *envoyx.Stream, end bool) envoyx.BodyStatus {
	f.maybePanic("response_body")
	f.addTrailers(s, end, true)
	return envoyx.BodyContinue
}

func (f *filter) OnResponseTrailers(s *envoyx.Stream) envoyx.TrailersStatus {
	f.maybePanic("response_trailers")
	return envoyx.TrailersContinue
}

func (f *filter) OnComplete(s *envoyx.Stream) { f.maybePanic("stream_complete") }

func init() {
	envoyx.Register("conformance", func(name string, cfg []byte) (envoyx.FilterConfig, error) {
		text := string(cfg)
		if text == "" {
			return &config{}, nil
		}
		if hook, ok := strings.CutPrefix(text, "panic="); ok {
			if hook == "config_new" {
				panic("conformance: boom in config_new")
			}
			return &config{panicIn: hook}, nil
		}
		return nil, fmt.Errorf("conformance: filter config `%s` is refused (use \"\" or panic=<hook>)", text)
	})
}

func main() {}
