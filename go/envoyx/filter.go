package envoyx

// HeadersStatus, BodyStatus and TrailersStatus are what hooks return (Envoy's own values).
type (
	HeadersStatus  uint32
	BodyStatus     uint32
	TrailersStatus uint32
)

const (
	HeadersContinue HeadersStatus = 0
	// HeadersStopIteration holds the headers; body chunks still arrive. Resume with a
	// StreamHandle or by returning BodyContinue from a later body hook.
	HeadersStopIteration HeadersStatus = 1
	// HeadersStopAllIterationAndBuffer holds the headers and buffers the body until resumed.
	HeadersStopAllIterationAndBuffer HeadersStatus = 3

	BodyContinue BodyStatus = 0
	// BodyStopAndBuffer keeps this chunk in the buffered body and stops until the end of the
	// stream or a continue.
	BodyStopAndBuffer BodyStatus = 1
	// BodyStopNoBuffer stops without keeping the chunk (after a local reply or reset).
	BodyStopNoBuffer BodyStatus = 3

	TrailersContinue      TrailersStatus = 0
	TrailersStopIteration TrailersStatus = 1
)

// Direction is a direction of a stream: the request (decoding) or the response (encoding).
type Direction uint32

const (
	Request  Direction = 0
	Response Direction = 1
)

// Filter is one stream's filter. Embed DefaultFilter for the hooks you do not need.
//
// Phases, per direction: headers once, then zero or more body chunks (the last with
// endOfStream), then trailers at most once; OnComplete once at the end.
type Filter interface {
	OnRequestHeaders(s *Stream, endOfStream bool) HeadersStatus
	OnRequestBody(s *Stream, endOfStream bool) BodyStatus
	OnRequestTrailers(s *Stream) TrailersStatus
	OnResponseHeaders(s *Stream, endOfStream bool) HeadersStatus
	OnResponseBody(s *Stream, endOfStream bool) BodyStatus
	OnResponseTrailers(s *Stream) TrailersStatus
	// OnComplete is called once when the stream is over (finished, reset or answered locally).
	// Header functions still work here; body functions do not.
	OnComplete(s *Stream)
}

// WatermarkFilter is a Filter that hears of flow control (ABI 1.2): for the Response direction,
// the client reads slower than the response is produced — the proxy's buffer towards it went
// above its high watermark (above: stop producing) or back below its low one (produce again).
// One above, then one below, however often the proxy said so in between. OnWatermark runs on
// the stream's worker between hooks, with everything a scheduled function can do
// (SendResponseData, Continue). The Request direction is reserved (Envoy tells filters nothing
// of it). A filter that streams its own response pauses here to keep memory bounded.
type WatermarkFilter interface {
	Filter
	OnWatermark(s *Stream, d Direction, above bool)
}

// LocalReplyStatus is what OnLocalReply says of a local reply (ABI 1.2; Envoy's
// LocalErrorStatus).
type LocalReplyStatus uint32

const (
	// LocalReplyContinue lets the reply go on (change it in the response hooks as it passes).
	LocalReplyContinue LocalReplyStatus = 0
	// LocalReplyReset resets the stream instead: the client gets no response.
	LocalReplyReset LocalReplyStatus = 1
)

// LocalReplyFilter is a Filter that hears of local replies (ABI 1.2): the proxy's own (Envoy's
// router: 503 no_healthy_upstream, 504 upstream_response_timeout; 413 past the buffer limit),
// another filter's, or its own, with the status, the response-code details and whether the
// proxy resets instead (the response already started). Return LocalReplyReset to reset the
// stream instead of sending the reply; change the reply in the response hooks (a reply made
// after this filter passes through them). OnLocalReply runs inside the proxy's call that makes
// the reply: reads, metadata, filter state, metrics and logs work; what would end or resume the
// stream is refused.
type LocalReplyFilter interface {
	Filter
	OnLocalReply(s *Stream, status int, details string, resetImminent bool) LocalReplyStatus
}

// DefaultFilter lets everything through; embed it and override what you need.
type DefaultFilter struct{}

func (DefaultFilter) OnRequestHeaders(*Stream, bool) HeadersStatus  { return HeadersContinue }
func (DefaultFilter) OnRequestBody(*Stream, bool) BodyStatus        { return BodyContinue }
func (DefaultFilter) OnRequestTrailers(*Stream) TrailersStatus      { return TrailersContinue }
func (DefaultFilter) OnResponseHeaders(*Stream, bool) HeadersStatus { return HeadersContinue }
func (DefaultFilter) OnResponseBody(*Stream, bool) BodyStatus       { return BodyContinue }
func (DefaultFilter) OnResponseTrailers(*Stream) TrailersStatus     { return TrailersContinue }
func (DefaultFilter) OnComplete(*Stream)                            {}

// FilterConfig is one filter configuration: shared by every stream, on every worker thread.
type FilterConfig interface {
	NewFilter() Filter
}
