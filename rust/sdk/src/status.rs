//! The ABI's fixed-width enumerations as Rust enums. Each variant's value is the header's
//! constant, so `status as u32` is what crosses the ABI.

use envoyx_abi as abi;

/// What a headers hook returns. Values equal `ENVOYX_HEADERS_*` (and Envoy's
/// `Http::FilterHeadersStatus`).
///
/// ```
/// use envoyx_sdk::HeadersStatus;
///
/// assert_eq!(HeadersStatus::Continue as u32, envoyx_sdk::abi::ENVOYX_HEADERS_CONTINUE);
/// ```
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HeadersStatus {
    /// Pass the headers on to the next filter.
    Continue = abi::ENVOYX_HEADERS_CONTINUE,
    /// Hold the headers; body chunks still arrive. Resume with a [`ContinueHandle`] or by
    /// returning [`BodyStatus::Continue`] from a later body hook.
    ///
    /// [`ContinueHandle`]: crate::ContinueHandle
    StopIteration = abi::ENVOYX_HEADERS_STOP_ITERATION,
    /// Pass the headers on, but do not end the stream even if they ended it.
    ContinueAndDontEndStream = abi::ENVOYX_HEADERS_CONTINUE_AND_DONT_END_STREAM,
    /// Hold the headers and buffer the body and trailers until resumed.
    StopAllIterationAndBuffer = abi::ENVOYX_HEADERS_STOP_ALL_ITERATION_AND_BUFFER,
    /// Like `StopAllIterationAndBuffer`, but with flow control instead of an unbounded buffer.
    StopAllIterationAndWatermark = abi::ENVOYX_HEADERS_STOP_ALL_ITERATION_AND_WATERMARK,
}

/// What a body hook returns. Values equal `ENVOYX_BODY_*` (and Envoy's `Http::FilterDataStatus`).
///
/// ```
/// use envoyx_sdk::BodyStatus;
///
/// assert_eq!(
///     BodyStatus::StopIterationAndBuffer as u32,
///     envoyx_sdk::abi::ENVOYX_BODY_STOP_ITERATION_AND_BUFFER
/// );
/// ```
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BodyStatus {
    /// Pass the chunk on (after whatever was buffered before it); also resumes held headers.
    Continue = abi::ENVOYX_BODY_CONTINUE,
    /// Keep this chunk in the buffered body and stop until the end of the stream or a continue.
    StopIterationAndBuffer = abi::ENVOYX_BODY_STOP_ITERATION_AND_BUFFER,
    /// Like `StopIterationAndBuffer`, but with flow control instead of an unbounded buffer.
    StopIterationAndWatermark = abi::ENVOYX_BODY_STOP_ITERATION_AND_WATERMARK,
    /// Stop without keeping this chunk.
    StopIterationNoBuffer = abi::ENVOYX_BODY_STOP_ITERATION_NO_BUFFER,
}

/// What a trailers hook returns. Values equal `ENVOYX_TRAILERS_*`.
///
/// ```
/// use envoyx_sdk::TrailersStatus;
///
/// assert_eq!(TrailersStatus::StopIteration as u32, envoyx_sdk::abi::ENVOYX_TRAILERS_STOP_ITERATION);
/// ```
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TrailersStatus {
    /// Pass the trailers on.
    Continue = abi::ENVOYX_TRAILERS_CONTINUE,
    /// Hold the trailers until resumed with a [`ContinueHandle`](crate::ContinueHandle).
    StopIteration = abi::ENVOYX_TRAILERS_STOP_ITERATION,
}

/// Which header map a [`HeaderMap`](crate::HeaderMap) works on. Values equal the header's
/// `ENVOYX_REQUEST_HEADERS` .. `ENVOYX_RESPONSE_TRAILERS`.
///
/// ```
/// use envoyx_sdk::HeaderMapKind;
///
/// assert_eq!(HeaderMapKind::ResponseHeaders as u32, envoyx_sdk::abi::ENVOYX_RESPONSE_HEADERS);
/// ```
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HeaderMapKind {
    /// The request headers, available from the request headers hook on.
    RequestHeaders = abi::ENVOYX_REQUEST_HEADERS,
    /// The request trailers, available from the request trailers hook on.
    RequestTrailers = abi::ENVOYX_REQUEST_TRAILERS,
    /// The response headers, available from the response headers hook on.
    ResponseHeaders = abi::ENVOYX_RESPONSE_HEADERS,
    /// The response trailers, available from the response trailers hook on.
    ResponseTrailers = abi::ENVOYX_RESPONSE_TRAILERS,
}

/// Which body a [`Body`](crate::Body) works on. Values equal `ENVOYX_BODY_REQUEST_RECEIVED` ..
/// `ENVOYX_BODY_RESPONSE_BUFFERED`.
///
/// *Received* is the chunk the current body hook carries (only inside a body hook of that
/// direction). *Buffered* is what earlier hooks of that direction asked the host to keep by
/// returning a `*Buffer` status. At the end of a buffered stream the whole body is the buffered
/// part followed by the received part.
///
/// ```
/// use envoyx_sdk::BodyKind;
///
/// assert_eq!(BodyKind::RequestBuffered as u32, envoyx_sdk::abi::ENVOYX_BODY_REQUEST_BUFFERED);
/// ```
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BodyKind {
    /// The request chunk of the current request body hook.
    RequestReceived = abi::ENVOYX_BODY_REQUEST_RECEIVED,
    /// What earlier request body hooks buffered.
    RequestBuffered = abi::ENVOYX_BODY_REQUEST_BUFFERED,
    /// The response chunk of the current response body hook.
    ResponseReceived = abi::ENVOYX_BODY_RESPONSE_RECEIVED,
    /// What earlier response body hooks buffered.
    ResponseBuffered = abi::ENVOYX_BODY_RESPONSE_BUFFERED,
}

/// A direction of a stream. Values equal `ENVOYX_DIRECTION_*`.
///
/// ```
/// use envoyx_sdk::Direction;
///
/// assert_eq!(Direction::Response as u32, envoyx_sdk::abi::ENVOYX_DIRECTION_RESPONSE);
/// ```
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    /// The request (Envoy's decoding path).
    Request = abi::ENVOYX_DIRECTION_REQUEST,
    /// The response (Envoy's encoding path).
    Response = abi::ENVOYX_DIRECTION_RESPONSE,
}

/// What [`Stream::reset_with_reason`](crate::Stream::reset_with_reason) tells the client (ABI
/// 1.2, `envoyx_reset_reason`).
///
/// ```
/// use envoyx_sdk::ResetReason;
///
/// assert_eq!(ResetReason::Refused as u32, envoyx_sdk::abi::ENVOYX_RESET_REFUSED);
/// ```
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ResetReason {
    /// Aborted, as [`Stream::reset`](crate::Stream::reset) does (HTTP/2 INTERNAL_ERROR).
    Local = abi::ENVOYX_RESET_LOCAL,
    /// Refused before any of it was processed (HTTP/2 REFUSED_STREAM, HTTP/3
    /// H3_REQUEST_REJECTED): the client may safely retry it elsewhere. For load shedding.
    Refused = abi::ENVOYX_RESET_REFUSED,
}

/// What [`Filter::on_local_reply`](crate::Filter::on_local_reply) says of a local reply (ABI
/// 1.2). Values equal `ENVOYX_LOCAL_REPLY_*` (Envoy's `LocalErrorStatus`).
///
/// ```
/// use envoyx_sdk::LocalReplyStatus;
///
/// assert_eq!(LocalReplyStatus::Reset as u32, envoyx_sdk::abi::ENVOYX_LOCAL_REPLY_RESET);
/// ```
#[repr(u32)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum LocalReplyStatus {
    /// The reply goes on (change it in the response hooks as it passes).
    #[default]
    Continue = abi::ENVOYX_LOCAL_REPLY_CONTINUE,
    /// Reset the stream instead: the client gets no response.
    Reset = abi::ENVOYX_LOCAL_REPLY_RESET,
}
