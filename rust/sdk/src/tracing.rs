//! Tracing beyond a tag on the active span (ABI 1.2): child spans that live across hooks, their
//! tags, logs and sampling, baggage, and the trace id. Every call works inside any hook but
//! [`Filter::on_stream_complete`](crate::Filter::on_stream_complete), and does nothing (false,
//! None) without a tracer in the proxy. Spans the filter leaves open are finished when the stream
//! ends.

use crate::Stream;
use envoyx_abi::envoyx_bytes;

/// A span of the stream: [`SpanId::ACTIVE`] (the proxy's span of this request) or a child span the
/// filter started, valid until it is finished.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SpanId(u64);

impl SpanId {
    /// The stream's active span.
    pub const ACTIVE: SpanId = SpanId(0);
}

fn view(text: &str) -> envoyx_bytes {
    envoyx_bytes::from_slice(text.as_bytes())
}

impl Stream {
    /// Starts a child span of `parent` named `operation`, timed from now (at most 64 open per
    /// stream). None without a tracer, or when refused (logged).
    ///
    /// ```
    /// use envoyx_sdk::{Filter, HeadersStatus, SpanId, Stream};
    ///
    /// struct Timed { lookup: Option<SpanId> }
    ///
    /// impl Filter for Timed {
    ///     fn on_request_headers(&mut self, stream: &mut Stream, _end_of_stream: bool) -> HeadersStatus {
    ///         // Covers a lookup that answers in a later hook (e.g. a callout).
    ///         self.lookup = stream.start_child_span(SpanId::ACTIVE, "policy.lookup");
    ///         HeadersStatus::Continue
    ///     }
    ///     fn on_response_headers(&mut self, stream: &mut Stream, _end_of_stream: bool) -> HeadersStatus {
    ///         if let Some(span) = self.lookup.take() {
    ///             stream.span_tag(span, "policy.result", "allow");
    ///             stream.finish_span(span);
    ///         }
    ///         HeadersStatus::Continue
    ///     }
    /// }
    /// ```
    pub fn start_child_span(&mut self, parent: SpanId, operation: &str) -> Option<SpanId> {
        // Safety: inside a hook of this stream on its worker thread; the view lives for the call.
        let id = unsafe { (self.host().span_start_child)(self.as_raw(), parent.0, view(operation)) };
        (id != 0).then_some(SpanId(id))
    }

    /// Tags `span` with `key: value`. False without a tracer or when refused (logged).
    pub fn span_tag(&mut self, span: SpanId, key: &str, value: &str) -> bool {
        // Safety: inside a hook of this stream on its worker thread; the views live for the call.
        unsafe { (self.host().span_tag)(self.as_raw(), span.0, view(key), view(value)) }
    }

    /// Logs `event` on `span`, timed now.
    pub fn span_log(&mut self, span: SpanId, event: &str) -> bool {
        // Safety: inside a hook of this stream on its worker thread; the view lives for the call.
        unsafe { (self.host().span_log)(self.as_raw(), span.0, view(event)) }
    }

    /// Overrides the sampling decision of `span` (and of what it starts later).
    pub fn span_set_sampled(&mut self, span: SpanId, sampled: bool) -> bool {
        // Safety: inside a hook of this stream on its worker thread.
        unsafe { (self.host().span_set_sampled)(self.as_raw(), span.0, sampled) }
    }

    /// Finishes a child span: the tracer reports it. The active span is the proxy's to finish.
    pub fn finish_span(&mut self, span: SpanId) -> bool {
        // Safety: inside a hook of this stream on its worker thread.
        unsafe { (self.host().span_finish)(self.as_raw(), span.0) }
    }

    /// Sets baggage `key: value` on the active span, which carries it to the upstream and to
    /// every span after.
    pub fn set_baggage(&mut self, key: &str, value: &str) -> bool {
        // Safety: inside a hook of this stream on its worker thread; the views live for the call.
        unsafe { (self.host().span_baggage_set)(self.as_raw(), view(key), view(value)) }
    }

    /// Baggage `key` of the active span, copied.
    pub fn baggage(&mut self, key: &str) -> Option<String> {
        let mut value = envoyx_bytes::from_slice(b"");
        // Safety: inside a hook of this stream on its worker thread; `value` is writable, and the
        // view the host writes is read at once (valid until the next tracing call).
        let found = unsafe { (self.host().span_baggage_get)(self.as_raw(), view(key), &mut value) };
        // Safety: as above.
        found.then(|| String::from_utf8_lossy(unsafe { value.as_slice() }).into_owned())
    }

    /// The trace id of the active span (the tracer's form, e.g. 32 hex digits), for logs that
    /// point at the trace.
    pub fn trace_id(&mut self) -> Option<String> {
        let mut value = envoyx_bytes::from_slice(b"");
        // Safety: as in [`Stream::baggage`].
        let found = unsafe { (self.host().span_trace_id)(self.as_raw(), &mut value) };
        // Safety: as above.
        found.then(|| String::from_utf8_lossy(unsafe { value.as_slice() }).into_owned())
    }
}
