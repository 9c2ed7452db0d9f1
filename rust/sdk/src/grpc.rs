//! gRPC unary calls over a streaming callout: the request message framed as gRPC frames it,
//! `grpc-timeout` from the deadline, and the answer's frames, `grpc-status` and `grpc-message`
//! (from the trailers, or from the headers of a trailers-only answer) turned into
//! `Result<Vec<u8>, GrpcError>`.
//!
//! The messages are bytes: encode and decode them with the protobuf library of your choice
//! (prost, …). The proxy's cluster must speak HTTP/2 to the gRPC server (in Envoy,
//! `typed_extension_protocol_options` with `explicit_http_config.http2_protocol_options`).
//!
//! ```
//! use std::time::Duration;
//!
//! use envoyx_sdk::grpc::{GrpcCall, GrpcCode, GrpcUnary};
//! use envoyx_sdk::{CalloutEvent, CalloutId, Filter, HeadersStatus, Stream};
//!
//! /// Lets a request through only while the `backend` service reports SERVING
//! /// (grpc.health.v1.Health/Check).
//! #[derive(Default)]
//! struct HealthGate {
//!     call: Option<GrpcUnary>,
//! }
//!
//! impl Filter for HealthGate {
//!     fn on_request_headers(&mut self, stream: &mut Stream, _end_of_stream: bool) -> HeadersStatus {
//!         // HealthCheckRequest { service: "backend" }: field 1, length-delimited.
//!         let request = [&[0x0a, 7][..], b"backend"].concat();
//!         let call = GrpcCall::new("/grpc.health.v1.Health/Check", &request, Duration::from_millis(500));
//!         self.call = stream.start_grpc_call("health", &call);
//!         match self.call {
//!             Some(_) => HeadersStatus::StopIteration,
//!             None => HeadersStatus::Continue,
//!         }
//!     }
//!
//!     fn on_callout_event(&mut self, stream: &mut Stream, id: CalloutId, event: CalloutEvent<'_>) {
//!         let Some(call) = self.call.as_mut().filter(|call| call.id() == id) else { return };
//!         match call.on_event(event) {
//!             None => {} // more to come
//!             // HealthCheckResponse { status: SERVING (1) }
//!             Some(Ok(response)) if response == [0x08, 0x01] => {
//!                 stream.continue_request();
//!             }
//!             Some(Ok(_)) => {
//!                 stream.send_local_reply(503, &[], b"backend not serving\n", "health_gate");
//!             }
//!             Some(Err(error)) if error.code == GrpcCode::NotFound => {
//!                 stream.send_local_reply(404, &[], b"no such service\n", "health_gate");
//!             }
//!             Some(Err(error)) => {
//!                 stream.send_local_reply(503, &[], error.to_string().as_bytes(), "health_gate");
//!             }
//!         }
//!     }
//! }
//! ```

use std::fmt;
use std::time::{Duration, Instant};

use crate::{CalloutError, CalloutEvent, CalloutHeaders, CalloutId};

/// A unary call: the method's path (`/package.Service/Method`), the serialized request message,
/// the deadline, and extra request metadata (lower-case names, no pseudo-headers).
#[derive(Clone, Copy, Debug)]
pub struct GrpcCall<'a> {
    /// The method: `/package.Service/Method`.
    pub path: &'a str,
    /// The serialized request message (framed by the SDK).
    pub message: &'a [u8],
    /// Sent as `grpc-timeout` and used as the callout's timeout: an answer that fails once it has
    /// passed (the proxy's own timeout reply, a reset) is [`GrpcCode::DeadlineExceeded`], as a
    /// gRPC client reports its deadline.
    pub timeout: Duration,
    /// Extra request headers (custom metadata).
    pub metadata: &'a [(&'a str, &'a str)],
    /// `:authority`; the cluster's name when `None`.
    pub authority: Option<&'a str>,
}

impl<'a> GrpcCall<'a> {
    /// A call with no extra metadata, to the cluster's name as its authority.
    pub fn new(path: &'a str, message: &'a [u8], timeout: Duration) -> Self {
        Self { path, message, timeout, metadata: &[], authority: None }
    }

    /// The deadline in whole milliseconds, as the callout's timeout rounds it (at least 1).
    fn timeout_ms(&self) -> u64 {
        u64::try_from(self.timeout.as_millis()).unwrap_or(u64::MAX).max(1)
    }

    /// Why the call cannot be made, if it cannot: a path that is not `/Service/Method`, or a
    /// message a gRPC frame cannot hold (4 GiB or more).
    pub(crate) fn refusal(&self) -> Option<String> {
        let method = self.path.strip_prefix('/').and_then(|rest| rest.split_once('/'));
        if !method
            .is_some_and(|(service, name)| !service.is_empty() && !name.is_empty() && !name.contains('/'))
        {
            return Some(format!(
                "gRPC call refused: the path {:?} is not /package.Service/Method",
                self.path
            ));
        }
        if u32::try_from(self.message.len()).is_err() {
            return Some(format!(
                "gRPC call to {:?} refused: the message of {} bytes does not fit a gRPC frame (under 4 GiB)",
                self.path,
                self.message.len()
            ));
        }
        None
    }

    /// The request headers and the framed body of this call to `cluster`.
    pub(crate) fn request(&self, cluster: &'a str) -> (Vec<(&'a str, String)>, Vec<u8>) {
        let timeout_ms = self.timeout_ms();
        let mut headers = vec![
            (":method", "POST".to_string()),
            (":path", self.path.to_string()),
            (":authority", self.authority.unwrap_or(cluster).to_string()),
            ("content-type", "application/grpc".to_string()),
            ("te", "trailers".to_string()),
            // gRPC allows at most 8 digits per unit.
            (
                "grpc-timeout",
                if timeout_ms < 100_000_000 {
                    format!("{timeout_ms}m")
                } else {
                    format!("{}S", (timeout_ms / 1000).min(99_999_999))
                },
            ),
        ];
        headers.extend(self.metadata.iter().map(|(k, v)| (*k, v.to_string())));
        (headers, frame(self.message))
    }
}

/// Starts `call` to `cluster` through `start_stream` (the stream's or the configuration's
/// streaming callout: headers, body, end of stream, timeout); the call in flight, or `None` when
/// refused (the SDK's own refusals logged here, the host's by the host).
pub(crate) fn start(
    cluster: &str,
    call: &GrpcCall<'_>,
    start_stream: impl FnOnce(&[(&str, &str)], &[u8]) -> Option<CalloutId>,
) -> Option<GrpcUnary> {
    if let Some(refusal) = call.refusal() {
        crate::log(crate::LogLevel::Warn, &refusal);
        return None;
    }
    let (headers, body) = call.request(cluster);
    let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let started = Instant::now();
    let id = start_stream(&headers, &body)?;
    Some(GrpcUnary::started(id, call, started))
}

/// `message` as one gRPC length-prefixed message: a zero byte (not compressed), the length as
/// 4 big-endian bytes, the message.
pub fn frame(message: &[u8]) -> Vec<u8> {
    let mut framed = Vec::with_capacity(5 + message.len());
    framed.push(0);
    framed.extend_from_slice(&u32::try_from(message.len()).unwrap_or(u32::MAX).to_be_bytes());
    framed.extend_from_slice(message);
    framed
}

/// The one message of a unary answer's body: exactly one uncompressed frame, whole.
pub fn unframe(body: &[u8]) -> Result<Vec<u8>, GrpcError> {
    let internal = |message: String| Err(GrpcError { code: GrpcCode::Internal, message });
    let Some((header, rest)) = body.split_first_chunk::<5>() else {
        return internal(format!("the answer's body has {} bytes, not a whole gRPC message", body.len()));
    };
    if header[0] != 0 {
        return internal("the answer's message is compressed, and none was asked for".to_string());
    }
    let len = u32::from_be_bytes([header[1], header[2], header[3], header[4]]) as usize;
    match rest.len().cmp(&len) {
        std::cmp::Ordering::Less => {
            internal(format!("the answer's message is cut short: {} of {len} bytes", rest.len()))
        }
        std::cmp::Ordering::Greater => internal("a unary answer holds more than one message".to_string()),
        std::cmp::Ordering::Equal => Ok(rest.to_vec()),
    }
}

/// The status codes of gRPC (`grpc-status`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GrpcCode {
    /// 0: not an error.
    Ok,
    /// 1: the call was cancelled.
    Cancelled,
    /// 2: an unknown error (also an unparsable `grpc-status`).
    Unknown,
    /// 3: the request was invalid.
    InvalidArgument,
    /// 4: the deadline passed (also the proxy's 504 for the callout's timeout).
    DeadlineExceeded,
    /// 5: something requested was not found.
    NotFound,
    /// 6: what was to be created exists.
    AlreadyExists,
    /// 7: the caller may not.
    PermissionDenied,
    /// 8: a resource ran out (also a callout answer too large to buffer).
    ResourceExhausted,
    /// 9: the system is not in the state the call needs.
    FailedPrecondition,
    /// 10: aborted, typically by a concurrency conflict.
    Aborted,
    /// 11: past the valid range.
    OutOfRange,
    /// 12: the method is not implemented (also HTTP 404).
    Unimplemented,
    /// 13: an internal error (also a malformed answer).
    Internal,
    /// 14: the service is unavailable (also a failed callout, HTTP 502/503/429).
    Unavailable,
    /// 15: unrecoverable data loss.
    DataLoss,
    /// 16: no valid credentials (also HTTP 401).
    Unauthenticated,
    /// A code gRPC does not define (yet).
    Other(u32),
}

const NAMED_CODES: [GrpcCode; 17] = [
    GrpcCode::Ok,
    GrpcCode::Cancelled,
    GrpcCode::Unknown,
    GrpcCode::InvalidArgument,
    GrpcCode::DeadlineExceeded,
    GrpcCode::NotFound,
    GrpcCode::AlreadyExists,
    GrpcCode::PermissionDenied,
    GrpcCode::ResourceExhausted,
    GrpcCode::FailedPrecondition,
    GrpcCode::Aborted,
    GrpcCode::OutOfRange,
    GrpcCode::Unimplemented,
    GrpcCode::Internal,
    GrpcCode::Unavailable,
    GrpcCode::DataLoss,
    GrpcCode::Unauthenticated,
];

impl GrpcCode {
    /// The code of the number `grpc-status` carries.
    pub fn from_u32(code: u32) -> Self {
        NAMED_CODES.get(code as usize).copied().unwrap_or(Self::Other(code))
    }

    /// The number `grpc-status` carries.
    pub fn as_u32(self) -> u32 {
        match self {
            Self::Other(code) => code,
            named => NAMED_CODES.iter().position(|c| *c == named).expect("a named code") as u32,
        }
    }

    /// The code a gRPC client gives an answer without `grpc-status`, from its HTTP status (the
    /// gRPC spec's "HTTP to gRPC status code mapping"). A 504 is the proxy's own answer when the
    /// callout's timeout (the call's deadline) passed.
    pub fn from_http_status(status: u16) -> Self {
        match status {
            400 => Self::Internal,
            401 => Self::Unauthenticated,
            403 => Self::PermissionDenied,
            404 => Self::Unimplemented,
            504 => Self::DeadlineExceeded,
            429 | 502 | 503 => Self::Unavailable,
            _ => Self::Unknown,
        }
    }
}

impl fmt::Display for GrpcCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Other(code) => write!(f, "CODE_{code}"),
            named => {
                let name = format!("{named:?}");
                // CamelCase to the spec's UPPER_SNAKE names.
                let mut upper = String::new();
                for (i, c) in name.chars().enumerate() {
                    if c.is_ascii_uppercase() && i > 0 {
                        upper.push('_');
                    }
                    upper.push(c.to_ascii_uppercase());
                }
                f.write_str(&upper)
            }
        }
    }
}

/// A call that did not end with `grpc-status: 0` and one message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GrpcError {
    /// `grpc-status`, or the code that stands for what went wrong.
    pub code: GrpcCode,
    /// `grpc-message`, percent-decoded; or what went wrong on the way.
    pub message: String,
}

impl fmt::Display for GrpcError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for GrpcError {}

/// How early (by this module's clock) a timeout reply may arrive and still be the deadline's:
/// Envoy times from its event loop's cached clock, which runs behind while the loop is busy.
const DEADLINE_SLACK: Duration = Duration::from_millis(25);

/// A unary call in flight, as [`Stream::start_grpc_call`](crate::Stream::start_grpc_call)
/// returned it: it collects the answer from the events of the call's callout
/// ([`Filter::on_callout_event`](crate::Filter::on_callout_event), for its [`id`](Self::id)).
/// `on_event` returns `None` until the answer is whole, then the message or the error, once.
#[derive(Debug)]
pub struct GrpcUnary {
    id: CalloutId,
    /// When the call's deadline passes.
    deadline: Instant,
    http_status: Option<u16>,
    /// `grpc-status` and `grpc-message` when seen (headers of a trailers-only answer, or trailers).
    status: Option<(u32, String)>,
    body: Vec<u8>,
    done: bool,
}

impl GrpcUnary {
    /// The call `id`, started at `start` with `call`'s deadline.
    pub(crate) fn started(id: CalloutId, call: &GrpcCall<'_>, start: Instant) -> Self {
        let deadline = start + Duration::from_millis(call.timeout_ms());
        Self { id, deadline, http_status: None, status: None, body: Vec::new(), done: false }
    }

    /// The id of the call's callout: the events [`on_event`](Self::on_event) takes are the ones
    /// for this id.
    pub fn id(&self) -> CalloutId {
        self.id
    }

    /// Takes the next event of the call's callout; the result once the answer is whole.
    pub fn on_event(&mut self, event: CalloutEvent<'_>) -> Option<Result<Vec<u8>, GrpcError>> {
        if self.done {
            return None;
        }
        match event {
            CalloutEvent::Headers { headers, end_of_stream } => {
                self.http_status = headers.status();
                self.take_status(&headers);
                end_of_stream.then(|| self.finish())
            }
            CalloutEvent::Data { body, end_of_stream } => {
                body.chunks().for_each(|chunk| self.body.extend_from_slice(chunk));
                end_of_stream.then(|| self.finish())
            }
            CalloutEvent::Trailers(trailers) => {
                self.take_status(&trailers);
                Some(self.finish())
            }
            // Everything arrived; `finish` answered already unless nothing ended the response.
            CalloutEvent::Complete => Some(self.finish()),
            CalloutEvent::Failed(error) => {
                self.done = true;
                Some(Err(self.past_deadline(failed(error))))
            }
        }
    }

    /// `error` as DEADLINE_EXCEEDED when it is how the proxy ends a call whose deadline passed
    /// (its timeout reply, UNAVAILABLE for a gRPC request or a plain 504, or a reset) and the
    /// deadline has passed.
    fn past_deadline(&self, error: GrpcError) -> GrpcError {
        let how_a_timeout_ends = matches!(error.code, GrpcCode::Unavailable | GrpcCode::DeadlineExceeded);
        if how_a_timeout_ends && Instant::now() + DEADLINE_SLACK >= self.deadline {
            return GrpcError {
                code: GrpcCode::DeadlineExceeded,
                message: format!("the deadline passed ({})", error.message),
            };
        }
        error
    }

    fn take_status(&mut self, headers: &CalloutHeaders<'_>) {
        if let Some(code) = headers.get_str("grpc-status") {
            let message = headers.get("grpc-message").map(percent_decode).unwrap_or_default();
            // A status that is not a number is Unknown, as gRPC clients take it.
            self.status = Some((code.trim().parse().unwrap_or(GrpcCode::Unknown.as_u32()), message));
        }
    }

    fn finish(&mut self) -> Result<Vec<u8>, GrpcError> {
        self.done = true;
        self.answer().map_err(|error| self.past_deadline(error))
    }

    fn answer(&self) -> Result<Vec<u8>, GrpcError> {
        match (&self.status, self.http_status) {
            (Some((0, _)), Some(200)) => unframe(&self.body),
            (Some((code, message)), Some(200)) => {
                Err(GrpcError { code: GrpcCode::from_u32(*code), message: message.clone() })
            }
            (_, Some(status)) if status != 200 => Err(GrpcError {
                code: GrpcCode::from_http_status(status),
                message: format!("HTTP status {status}: {}", String::from_utf8_lossy(&self.body).trim()),
            }),
            _ => Err(GrpcError {
                code: GrpcCode::Internal,
                message: "the answer carried no grpc-status".to_string(),
            }),
        }
    }
}

/// The gRPC code of a callout that ended without an answer.
fn failed(error: CalloutError) -> GrpcError {
    let code = match error {
        CalloutError::NoCluster | CalloutError::Unavailable | CalloutError::Reset => GrpcCode::Unavailable,
        CalloutError::TooLarge => GrpcCode::ResourceExhausted,
        CalloutError::Other(_) => GrpcCode::Unknown,
    };
    GrpcError { code, message: format!("the callout failed: {error}") }
}

/// `grpc-message`'s percent-encoding undone (invalid sequences kept as they are).
fn percent_decode(raw: &[u8]) -> String {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if raw[i] == b'%'
            && let (Some(hi), Some(lo)) =
                (raw.get(i + 1).and_then(|b| hex(*b)), raw.get(i + 2).and_then(|b| hex(*b)))
        {
            out.push((hi * 16 + lo) as u8);
            i += 3;
            continue;
        }
        out.push(raw[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CalloutBody;
    use crate::callout::header_views as views;
    use envoyx_abi::envoyx_bytes;

    /// Feeds a whole answer (headers, body chunks, trailers) as the host's events would come.
    fn answer(
        headers: &[(&'static str, &'static str)],
        chunks: &[&'static [u8]],
        trailers: &[(&'static str, &'static str)],
    ) -> Result<Vec<u8>, GrpcError> {
        let mut call =
            GrpcUnary::started(1, &GrpcCall::new("/t.T/M", b"", Duration::from_secs(60)), Instant::now());
        let headers = views(headers);
        let only_headers = chunks.is_empty() && trailers.is_empty();
        // Safety: the views point into `headers` (and below `data`, `trailers`), which
        // outlive the events.
        let header_views = unsafe { CalloutHeaders::new(&headers) };
        let event = CalloutEvent::Headers { headers: header_views, end_of_stream: only_headers };
        if let Some(result) = call.on_event(event) {
            return result;
        }
        for (i, chunk) in chunks.iter().enumerate() {
            let data = [envoyx_bytes::from_slice(chunk)];
            let end = trailers.is_empty() && i + 1 == chunks.len();
            // Safety: as above.
            let body = unsafe { CalloutBody::new(&data) };
            if let Some(result) = call.on_event(CalloutEvent::Data { body, end_of_stream: end }) {
                return result;
            }
        }
        let trailers = views(trailers);
        // Safety: as above.
        let trailers = unsafe { CalloutHeaders::new(&trailers) };
        let result = call.on_event(CalloutEvent::Trailers(trailers)).expect("trailers end it");
        assert!(call.on_event(CalloutEvent::Complete).is_none(), "one result per call");
        result
    }

    #[test]
    fn frames_round_trip() {
        assert_eq!(frame(b"hi"), [0, 0, 0, 0, 2, b'h', b'i']);
        assert_eq!(unframe(&frame(b"hello")).unwrap(), b"hello");
        assert_eq!(unframe(&frame(b"")).unwrap(), b"");
    }

    #[test]
    fn bad_frames_are_internal_errors_saying_why() {
        let short = unframe(&[0, 0, 0]).unwrap_err();
        assert_eq!(short.code, GrpcCode::Internal);
        assert!(short.message.contains("3 bytes"), "{short}");
        assert!(unframe(&[0, 0, 0, 0, 5, 1]).unwrap_err().message.contains("cut short: 1 of 5"));
        assert!(unframe(&[1, 0, 0, 0, 0]).unwrap_err().message.contains("compressed"));
        let two = [frame(b"a"), frame(b"b")].concat();
        assert!(unframe(&two).unwrap_err().message.contains("more than one message"));
    }

    #[test]
    fn an_ok_answer_gives_its_message_across_chunks() {
        let framed: &'static [u8] = Box::leak(frame(b"response").into_boxed_slice());
        let (a, b) = framed.split_at(3);
        let ok = answer(
            &[(":status", "200"), ("content-type", "application/grpc")],
            &[a, b],
            &[("grpc-status", "0")],
        );
        assert_eq!(ok.unwrap(), b"response");
    }

    #[test]
    fn a_status_in_the_trailers_or_a_trailers_only_answer_is_the_error() {
        let not_found = answer(
            &[(":status", "200")],
            &[],
            &[("grpc-status", "5"), ("grpc-message", "no%20such%20service")],
        );
        assert_eq!(not_found, Err(GrpcError { code: GrpcCode::NotFound, message: "no such service".into() }));
        let trailers_only = answer(
            &[(":status", "200"), ("grpc-status", "12"), ("grpc-message", "unknown method")],
            &[],
            &[],
        );
        assert_eq!(trailers_only.unwrap_err().code, GrpcCode::Unimplemented);
        let garbled = answer(&[(":status", "200")], &[], &[("grpc-status", "x")]).unwrap_err();
        assert_eq!(garbled.code, GrpcCode::Unknown);
    }

    #[test]
    fn http_errors_and_failed_callouts_map_to_grpc_codes() {
        let timeout = answer(&[(":status", "504")], &[b"upstream request timeout"], &[]).unwrap_err();
        assert_eq!(timeout.code, GrpcCode::DeadlineExceeded);
        assert!(timeout.message.contains("504: upstream request timeout"), "{timeout}");
        assert_eq!(answer(&[(":status", "503")], &[], &[]).unwrap_err().code, GrpcCode::Unavailable);
        let no_status = answer(&[(":status", "200")], &[], &[("x", "y")]).unwrap_err();
        assert_eq!(no_status.code, GrpcCode::Internal);
        let mut call =
            GrpcUnary::started(1, &GrpcCall::new("/t.T/M", b"", Duration::from_secs(60)), Instant::now());
        let failed = call.on_event(CalloutEvent::Failed(CalloutError::NoCluster)).unwrap().unwrap_err();
        assert_eq!(failed.code, GrpcCode::Unavailable);
        assert!(failed.message.contains("no_cluster"));
    }

    #[test]
    fn an_unavailable_answer_past_the_deadline_is_deadline_exceeded() {
        // The proxy's timeout reply to a gRPC request: trailers-only, UNAVAILABLE.
        let timeout_reply =
            [(":status", "200"), ("grpc-status", "14"), ("grpc-message", "upstream request timeout")];
        let headers = views(&timeout_reply);
        let event = || {
            // Safety: the views point into `headers`, which outlives the event.
            CalloutEvent::Headers { headers: unsafe { CalloutHeaders::new(&headers) }, end_of_stream: true }
        };
        let mut late =
            GrpcUnary::started(1, &GrpcCall::new("/t.T/M", b"", Duration::from_millis(1)), Instant::now());
        std::thread::sleep(Duration::from_millis(5));
        let error = late.on_event(event()).unwrap().unwrap_err();
        assert_eq!(error.code, GrpcCode::DeadlineExceeded);
        assert_eq!(error.message, "the deadline passed (upstream request timeout)");
        // Before the deadline, the server's own UNAVAILABLE stays what it is.
        let mut early =
            GrpcUnary::started(2, &GrpcCall::new("/t.T/M", b"", Duration::from_secs(60)), Instant::now());
        assert_eq!(early.on_event(event()).unwrap().unwrap_err().code, GrpcCode::Unavailable);
    }

    #[test]
    fn codes_print_and_number_as_the_spec_names_them() {
        assert_eq!(GrpcCode::from_u32(4), GrpcCode::DeadlineExceeded);
        assert_eq!(GrpcCode::DeadlineExceeded.to_string(), "DEADLINE_EXCEEDED");
        assert_eq!(GrpcCode::Unauthenticated.as_u32(), 16);
        assert_eq!(GrpcCode::from_u32(42), GrpcCode::Other(42));
        assert_eq!(GrpcCode::Other(42).to_string(), "CODE_42");
    }

    #[test]
    fn a_path_that_is_not_a_method_is_refused_saying_so() {
        for path in ["pkg.Svc/Do", "/pkg.Svc", "//Do", "/pkg.Svc/", "/a/b/c"] {
            let refusal = GrpcCall::new(path, b"", Duration::from_secs(1)).refusal().expect(path);
            assert!(
                refusal.contains(&format!("the path {path:?} is not /package.Service/Method")),
                "{refusal}"
            );
        }
        assert_eq!(GrpcCall::new("/pkg.Svc/Do", b"", Duration::from_secs(1)).refusal(), None);
    }

    #[test]
    fn the_request_carries_grpc_headers_and_the_framed_message() {
        let call = GrpcCall {
            metadata: &[("x-tenant", "a")],
            ..GrpcCall::new("/pkg.Svc/Do", b"m", Duration::from_millis(250))
        };
        let (headers, body) = call.request("backend");
        let get = |name: &str| headers.iter().find(|(k, _)| *k == name).map(|(_, v)| v.as_str());
        assert_eq!(get(":path"), Some("/pkg.Svc/Do"));
        assert_eq!(get(":authority"), Some("backend"));
        assert_eq!(get("content-type"), Some("application/grpc"));
        assert_eq!(get("te"), Some("trailers"));
        assert_eq!(get("grpc-timeout"), Some("250m"));
        assert_eq!(get("x-tenant"), Some("a"));
        assert_eq!(body, frame(b"m"));
    }
}
