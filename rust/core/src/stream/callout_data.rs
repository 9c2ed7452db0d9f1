//! What the stream's callouts are, as plain data: how one ended ([`CalloutStatus`]), what is in
//! flight ([`InFlight`]), the news of a streaming one ([`CalloutEvent`]) and the copies the core
//! queues of answers and news that arrive while the stream is busy. No rule and no stream state
//! here: `callout.rs` and `callout_stream.rs` hold those; the stream's cell holds these.

use envoyx_abi::{envoyx_bytes, envoyx_header};

/// How a callout ended. Mirrors `envoyx_callout_status`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum CalloutStatus {
    /// A response arrived; its `:status` is among the headers (a timeout arrives as the
    /// proxy's own 504).
    Response = envoyx_abi::ENVOYX_CALLOUT_RESPONSE,
    /// The proxy has no cluster of that name.
    NoCluster = envoyx_abi::ENVOYX_CALLOUT_NO_CLUSTER,
    /// The request could not be sent (for example no healthy host in the cluster).
    Unavailable = envoyx_abi::ENVOYX_CALLOUT_UNAVAILABLE,
    /// The connection failed or was reset before a whole response arrived.
    Reset = envoyx_abi::ENVOYX_CALLOUT_RESET,
    /// The response was larger than the proxy buffers for a callout.
    TooLarge = envoyx_abi::ENVOYX_CALLOUT_TOO_LARGE,
}

impl CalloutStatus {
    /// The status for an `envoyx_callout_status` value; an unknown one counts as a reset.
    pub fn from_abi(status: u32) -> Self {
        [Self::Response, Self::NoCluster, Self::Unavailable, Self::Reset, Self::TooLarge]
            .into_iter()
            .find(|s| *s as u32 == status)
            .unwrap_or(Self::Reset)
    }
}

/// Headers and body chunks copied out of the host's memory, to hand the module later as views:
/// what a queued answer and a queued streaming event both hold.
#[derive(Debug)]
pub(crate) struct OwnedViews {
    headers: Vec<(Vec<u8>, Vec<u8>)>,
    chunks: Vec<Vec<u8>>,
}

impl OwnedViews {
    /// Copies `headers` and `chunks`.
    ///
    /// # Safety
    /// Every view is readable now (the host's, during the call that handed them over).
    unsafe fn copy(headers: &[envoyx_header], chunks: &[envoyx_bytes]) -> Self {
        // Safety: per the caller.
        let headers =
            headers.iter().map(|h| unsafe { (h.key.as_slice().to_vec(), h.value.as_slice().to_vec()) });
        // Safety: per the caller.
        let chunks = chunks.iter().map(|c| unsafe { c.as_slice().to_vec() });
        Self { headers: headers.collect(), chunks: chunks.collect() }
    }

    /// Calls `f` with the headers and chunks as views of this copy.
    fn with_views<R>(&self, f: impl FnOnce(&[envoyx_header], &[envoyx_bytes]) -> R) -> R {
        let headers: Vec<envoyx_header> = self
            .headers
            .iter()
            .map(|(k, v)| envoyx_header {
                key: envoyx_bytes::from_slice(k),
                value: envoyx_bytes::from_slice(v),
            })
            .collect();
        let chunks: Vec<envoyx_bytes> = self.chunks.iter().map(|c| envoyx_bytes::from_slice(c)).collect();
        f(&headers, &chunks)
    }
}

/// A callout's answer copied out of the host's memory, for delivery after the call it arrived in
/// ([`crate::CalloutInbox::defer_answer`]).
#[derive(Debug)]
pub(crate) struct OwnedAnswer {
    pub status: CalloutStatus,
    views: OwnedViews,
}

impl OwnedAnswer {
    /// Copies the answer (whose views are valid now).
    pub(crate) fn copy(status: CalloutStatus, headers: &[envoyx_header], body: &[envoyx_bytes]) -> Self {
        // Safety: the host's views are valid during the call that handed them over
        // (`CalloutInbox::defer_answer`), inside which this copy is made.
        Self { status, views: unsafe { OwnedViews::copy(headers, body) } }
    }

    /// Calls `f` with the headers and body chunks as views of this copy.
    pub(crate) fn with_views<R>(&self, f: impl FnOnce(&[envoyx_header], &[envoyx_bytes]) -> R) -> R {
        self.views.with_views(f)
    }
}

/// A callout the module started and has not been told the end of.
#[derive(Clone, Copy, Debug)]
pub(crate) struct InFlight {
    pub id: u64,
    /// Started with `callout_stream_start` (its events go to the callout-event hook).
    pub streaming: bool,
    /// A streaming callout's request ended (end of stream or trailers sent).
    pub request_ended: bool,
}

/// News of a streaming callout, as the host hands it to [`crate::Stream::on_callout_event`]:
/// views into the host's memory, valid during that call.
#[derive(Clone, Copy, Debug)]
pub enum CalloutEvent<'a> {
    /// The response headers (`:status` among them).
    Headers { headers: &'a [envoyx_header], end_of_stream: bool },
    /// Response body chunks (possibly none when only the end is news).
    Data { chunks: &'a [envoyx_bytes], end_of_stream: bool },
    /// The response trailers: the response is over.
    Trailers { trailers: &'a [envoyx_header] },
    /// The request went whole and the response came whole: the last event.
    Complete,
    /// The exchange ended early: the last event.
    Failed(CalloutStatus),
}

impl<'a> CalloutEvent<'a> {
    /// The event for the ABI's values (`envoyx_callout_event`, `envoyx_callout_status`), as a
    /// host written against x/abi.h passes them; an unknown event counts as a reset.
    pub fn from_abi(
        event: u32,
        status: u32,
        headers: &'a [envoyx_header],
        data: &'a [envoyx_bytes],
        end_of_stream: bool,
    ) -> Self {
        use envoyx_abi::*;
        match event {
            ENVOYX_CALLOUT_EVENT_HEADERS => CalloutEvent::Headers { headers, end_of_stream },
            ENVOYX_CALLOUT_EVENT_DATA => CalloutEvent::Data { chunks: data, end_of_stream },
            ENVOYX_CALLOUT_EVENT_TRAILERS => CalloutEvent::Trailers { trailers: headers },
            ENVOYX_CALLOUT_EVENT_COMPLETE => CalloutEvent::Complete,
            ENVOYX_CALLOUT_EVENT_FAILED => CalloutEvent::Failed(CalloutStatus::from_abi(status)),
            _ => CalloutEvent::Failed(CalloutStatus::Reset),
        }
    }

    /// Whether nothing follows this event.
    pub fn is_last(&self) -> bool {
        matches!(self, CalloutEvent::Complete | CalloutEvent::Failed(_))
    }

    /// The ABI's `(event, status, headers, data, end_of_stream)` for the module's hook.
    pub(crate) fn abi(&self) -> (u32, u32, &[envoyx_header], &[envoyx_bytes], bool) {
        use envoyx_abi::*;
        let ok = ENVOYX_CALLOUT_RESPONSE;
        match *self {
            CalloutEvent::Headers { headers, end_of_stream } => {
                (ENVOYX_CALLOUT_EVENT_HEADERS, ok, headers, &[], end_of_stream)
            }
            CalloutEvent::Data { chunks, end_of_stream } => {
                (ENVOYX_CALLOUT_EVENT_DATA, ok, &[], chunks, end_of_stream)
            }
            CalloutEvent::Trailers { trailers } => (ENVOYX_CALLOUT_EVENT_TRAILERS, ok, trailers, &[], true),
            CalloutEvent::Complete => (ENVOYX_CALLOUT_EVENT_COMPLETE, ok, &[], &[], true),
            CalloutEvent::Failed(status) => (ENVOYX_CALLOUT_EVENT_FAILED, status as u32, &[], &[], true),
        }
    }
}

/// A [`CalloutEvent`] copied out of the host's memory, for delivery after the call it arrived in.
#[derive(Debug)]
pub(crate) struct OwnedCalloutEvent {
    kind: OwnedKind,
    views: OwnedViews,
}

#[derive(Clone, Copy, Debug)]
enum OwnedKind {
    Headers { end_of_stream: bool },
    Data { end_of_stream: bool },
    Trailers,
    Complete,
    Failed(CalloutStatus),
}

impl OwnedCalloutEvent {
    /// Copies `event` (whose views are valid now).
    pub(crate) fn copy(event: &CalloutEvent<'_>) -> Self {
        let (kind, headers, chunks): (_, &[envoyx_header], &[envoyx_bytes]) = match *event {
            CalloutEvent::Headers { headers, end_of_stream } => {
                (OwnedKind::Headers { end_of_stream }, headers, &[])
            }
            CalloutEvent::Data { chunks, end_of_stream } => (OwnedKind::Data { end_of_stream }, &[], chunks),
            CalloutEvent::Trailers { trailers } => (OwnedKind::Trailers, trailers, &[]),
            CalloutEvent::Complete => (OwnedKind::Complete, &[], &[]),
            CalloutEvent::Failed(status) => (OwnedKind::Failed(status), &[], &[]),
        };
        // Safety: the host's views are valid during the call that handed them over
        // (`CalloutInbox::defer`, or a configuration's hook), inside which this copy is made.
        Self { kind, views: unsafe { OwnedViews::copy(headers, chunks) } }
    }

    /// Calls `f` with the event as views of this copy.
    pub fn with_views<R>(&self, f: impl FnOnce(CalloutEvent<'_>) -> R) -> R {
        self.views.with_views(|headers, chunks| {
            f(match self.kind {
                OwnedKind::Headers { end_of_stream } => CalloutEvent::Headers { headers, end_of_stream },
                OwnedKind::Data { end_of_stream } => CalloutEvent::Data { chunks, end_of_stream },
                OwnedKind::Trailers => CalloutEvent::Trailers { trailers: headers },
                OwnedKind::Complete => CalloutEvent::Complete,
                OwnedKind::Failed(status) => CalloutEvent::Failed(status),
            })
        })
    }
}

/// Marks the request of streaming callout `id` ended in `callouts`.
pub(crate) fn ended_request(callouts: &mut [InFlight], id: u64) {
    if let Some(c) = callouts.iter_mut().find(|c| c.id == id) {
        c.request_ended = true;
    }
}

/// The rule for sending more of a streaming callout's request: `id` is one in `callouts` that
/// is still open, and its request has not ended. The reason when not.
pub(crate) fn sendable_in(callouts: &[InFlight], id: u64) -> Result<(), &'static str> {
    match callouts.iter().find(|c| c.id == id && c.streaming) {
        None => Err("it is not a streaming callout that is still open"),
        Some(c) if c.request_ended => Err("its request already ended"),
        Some(_) => Ok(()),
    }
}

/// The rule for resetting a streaming callout: `id` is one in `callouts` that is still open.
pub(crate) fn open_in(callouts: &[InFlight], id: u64) -> Result<(), &'static str> {
    if callouts.iter().any(|c| c.id == id && c.streaming) {
        Ok(())
    } else {
        Err("it is not a streaming callout that is still open")
    }
}
