//! One exchange on a test host, the way Envoy's filter manager and an upstream would run it: the
//! request's events, then (while the filter holds the request) continues from other threads,
//! then — once the whole request went upstream — the [`echo_response`]'s events in two chunks of
//! several slices, then the continues of the response, then the stream's end. Before the request,
//! the stream gets the filter state every host presets ([`crate::PRESET_STRING`]). The Rust and the
//! C++ test hosts share this, so they are driven identically.

use std::time::Duration;

use crate::{CALLOUT_CLUSTER, ClientSaw, Observed, Request, Seen, echo_response};

/// How long a held direction may wait for a continue from another thread before the exchange
/// counts as stuck (the client then sees no response).
const CONTINUE_WAIT: Duration = Duration::from_secs(2);

/// The request or the response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    Request,
    Response,
}

/// A test host's stream, as [`simulate`] drives and reads it.
pub trait SimulatedStream {
    /// Gives the stream filter state as an earlier filter would have set it (read-only): a
    /// string, or (None) an object of the proxy's that is not a string.
    fn preset_filter_state(&mut self, key: &str, value: Option<&[u8]>);
    /// Gives the stream an object of the proxy's that is not a string (it reads as absent
    /// through `filter_state_get`) whose serialized form is `serialized`.
    fn preset_filter_state_object(&mut self, key: &str, serialized: &[u8]);
    fn headers(&mut self, side: Side, headers: &[(&str, &str)], end_of_stream: bool);
    fn body(&mut self, side: Side, slices: &[&str], end_of_stream: bool);
    fn trailers(&mut self, side: Side, trailers: &[(&str, &str)]);
    /// Waits up to `timeout` for continues from other threads and runs them; false on timeout.
    fn wait_scheduled(&mut self, timeout: Duration) -> bool;
    /// The module's complete hook.
    fn complete(&mut self);
    /// Reset, or answered locally: nothing more is delivered.
    fn ended(&self) -> bool;
    fn was_reset(&self) -> bool;
    /// The reset told the client the stream was refused (ENVOYX_RESET_REFUSED).
    fn reset_refused(&self) -> bool;
    /// The headers that went on past the filter (`None` while held).
    fn forwarded_headers(&self, side: Side) -> Option<Vec<(String, String)>>;
    /// The body that went on past the filter.
    fn forwarded_body(&self, side: Side) -> Vec<u8>;
    /// Bytes the filter holds buffered.
    fn buffered_len(&self, side: Side) -> usize;
    fn trailers_forwarded(&self, side: Side) -> bool;
    /// The trailers that went on past the filter (empty when none did).
    fn forwarded_trailers(&self, side: Side) -> Vec<(String, String)>;
    /// The module's own response (ABI 1.2 `send_response_*`) ended: the client has it whole.
    fn module_response_ended(&self) -> bool;
    /// Plays the proxy's flow-control news for the response (ABI 1.2): its buffer towards the
    /// client went above its high watermark (`above`) or below its low one.
    fn watermark(&mut self, above: bool);
    /// Plays a local reply made after the filter (the proxy's router: `status`, `details`,
    /// `body`): the module hears of it (ABI 1.2) and may have the stream reset instead; else it
    /// passes the filter's response hooks to the client.
    fn proxy_local_reply(&mut self, status: u16, details: &str, body: &str);
    /// The callouts the module started that are not answered yet.
    fn pending_callouts(&self) -> Vec<PendingCallout>;
    /// Answers one, as its cluster would (and carries out what the module then asks for).
    fn answer_callout(&mut self, id: u64, answer: CalloutReply);
    /// Plays one step of a streaming callout's cluster (and carries out what the module then
    /// asks for).
    fn callout_stream_event(&mut self, id: u64, event: StreamReply);
}

/// A callout the module started.
#[derive(Clone, Debug)]
pub struct PendingCallout {
    pub id: u64,
    pub cluster: String,
    /// Pseudo-headers included.
    pub headers: Vec<(String, String)>,
    /// The request body so far.
    pub body: Vec<u8>,
    /// A streaming callout (answered with [`StreamReply`] events).
    pub streaming: bool,
    /// Its request ended (always true when not streaming).
    pub request_ended: bool,
}

/// How a simulated cluster answers a callout.
#[derive(Clone, Debug)]
pub enum CalloutReply {
    /// `headers` hold `:status`.
    Response { headers: Vec<(String, String)>, body: Vec<u8> },
    /// The proxy has no such cluster.
    NoCluster,
    /// The proxy reset it (as Envoy does a request without `:authority`).
    Reset,
}

/// One step of a streaming callout's cluster.
#[derive(Clone, Debug)]
pub enum StreamReply {
    /// `headers` hold `:status`.
    Headers {
        headers: Vec<(String, String)>,
        end_of_stream: bool,
    },
    Data {
        body: Vec<u8>,
        end_of_stream: bool,
    },
    /// The response trailers (after the last data, which then did not end the stream).
    Trailers(Vec<(String, String)>),
    Complete,
    /// The proxy has no such cluster.
    NoCluster,
}

/// Answers every pending callout the way Envoy would with the conformance clusters: the
/// [`CALLOUT_CLUSTER`] is an echo upstream ([`echo_response`]), any other name is no cluster, a
/// request without `:authority` is reset (a host must hand the proxy one). A
/// streaming callout is answered once its request ended, in events: headers, the body in two
/// chunks, the trailers if the echo has any, complete. Returns whether one was answered.
fn answer_callouts(stream: &mut impl SimulatedStream) -> bool {
    let pending = stream.pending_callouts();
    let mut answered = false;
    for callout in &pending {
        if callout.streaming {
            answered |= play_stream(stream, callout);
            continue;
        }
        answered = true;
        let reply = if !callout.headers.iter().any(|(k, _)| k == ":authority") {
            // Envoy's codec refuses a request without one.
            CalloutReply::Reset
        } else if callout.cluster == CALLOUT_CLUSTER {
            let request = Seen {
                headers: callout.headers.iter().filter(|(k, _)| !k.starts_with(':')).cloned().collect(),
                body: callout.body.clone(),
                trailers: Vec::new(),
            };
            let (headers, body, _) = echo_response(&request);
            CalloutReply::Response { headers, body }
        } else {
            CalloutReply::NoCluster
        };
        stream.answer_callout(callout.id, reply);
    }
    answered
}

/// Plays a streaming callout's cluster if it can answer now; whether it did.
fn play_stream(stream: &mut impl SimulatedStream, callout: &PendingCallout) -> bool {
    if callout.cluster != CALLOUT_CLUSTER {
        stream.callout_stream_event(callout.id, StreamReply::NoCluster);
        return true;
    }
    if !callout.request_ended {
        return false;
    }
    let request = Seen {
        headers: callout.headers.iter().filter(|(k, _)| !k.starts_with(':')).cloned().collect(),
        body: callout.body.clone(),
        trailers: Vec::new(),
    };
    let (headers, body, trailers) = echo_response(&request);
    let half = body.len() / 2;
    let body_ends = trailers.is_empty();
    let mut events = vec![
        StreamReply::Headers { headers, end_of_stream: body.is_empty() && body_ends },
        StreamReply::Data { body: body[..half].to_vec(), end_of_stream: false },
        StreamReply::Data { body: body[half..].to_vec(), end_of_stream: body_ends },
    ];
    if !body_ends {
        events.push(StreamReply::Trailers(trailers));
    }
    events.push(StreamReply::Complete);
    for event in events {
        // The module may have reset it, or the stream ended, after an event.
        let open = stream.pending_callouts().iter().any(|c| c.id == callout.id);
        if !open || stream.ended() {
            break;
        }
        if !matches!(&event, StreamReply::Data { .. }) || !body.is_empty() {
            stream.callout_stream_event(callout.id, event);
        }
    }
    true
}

fn pairs(headers: &[(String, String)]) -> Vec<(&str, &str)> {
    headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

/// Delivers a message's headers, body chunks and trailers on `side`.
fn deliver(
    stream: &mut impl SimulatedStream,
    side: Side,
    headers: &[(String, String)],
    chunks: &[Vec<&str>],
    trailers: &[(String, String)],
) {
    let body_ends = trailers.is_empty();
    stream.headers(side, &pairs(headers), chunks.is_empty() && body_ends);
    for (i, chunk) in chunks.iter().enumerate() {
        stream.body(side, chunk, body_ends && i + 1 == chunks.len());
    }
    if !trailers.is_empty() {
        stream.trailers(side, &pairs(trailers));
    }
}

/// Whether everything delivered on `side` went on (nothing held), running continues from other
/// threads while the filter holds it. False when it stays held.
fn let_through(stream: &mut impl SimulatedStream, side: Side, had_trailers: bool) -> bool {
    loop {
        if stream.ended() || stream.module_response_ended() {
            return false;
        }
        let through = stream.forwarded_headers(side).is_some()
            && stream.buffered_len(side) == 0
            && (!had_trailers || stream.trailers_forwarded(side));
        if through {
            return true;
        }
        if answer_callouts(stream) {
            continue;
        }
        if !stream.wait_scheduled(CONTINUE_WAIT) {
            return false;
        }
    }
}

/// Splits `body` into two chunks of slices of at most 2 bytes (empty: no chunks).
fn chunks_of(body: &str) -> Vec<Vec<&str>> {
    let half = body.len() / 2;
    [&body[..half], &body[half..]]
        .into_iter()
        .filter(|part| !part.is_empty())
        .map(|part| {
            let bytes = part.as_bytes();
            (0..bytes.len()).step_by(2).map(|i| &part[i..(i + 2).min(bytes.len())]).collect()
        })
        .collect()
}

/// Runs one exchange of `request` (for case `case`) on `stream` and reports what the upstream
/// and the client saw. Bodies must be UTF-8 (the C++ test host takes slices as strings).
pub fn simulate(stream: &mut impl SimulatedStream, case: &str, request: &Request) -> Observed {
    let mut headers = vec![
        (":method".to_string(), "POST".to_string()),
        (":path".to_string(), request.path.to_string()),
        (":authority".to_string(), "conformance".to_string()),
        (":scheme".to_string(), "http".to_string()),
    ];
    headers.extend(request.headers_for(case));
    stream.preset_filter_state(crate::PRESET_STRING, Some(crate::PRESET_STRING_VALUE.as_bytes()));
    stream.preset_filter_state_object(crate::PRESET_OBJECT, crate::PRESET_OBJECT_VALUE.as_bytes());
    let chunks: Vec<Vec<&str>> = request.body.iter().map(|chunk| chunk.to_vec()).collect();
    let trailers: Vec<(String, String)> =
        request.trailers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    deliver(stream, Side::Request, &headers, &chunks, &trailers);
    if request.slow_client {
        // As Envoy says it for the connection and for an HTTP/2 stream alike.
        for above in [true, true, false, false] {
            stream.watermark(above);
        }
    }
    let mut upstream = Vec::new();
    if request.path.starts_with(crate::NO_UPSTREAM) {
        // The route's cluster has no healthy host: the router answers once the request is in.
        if let_through(stream, Side::Request, !trailers.is_empty()) {
            stream.proxy_local_reply(503, crate::NO_HEALTHY_UPSTREAM_DETAILS, crate::NO_HEALTHY_UPSTREAM);
            let_through(stream, Side::Response, false);
        }
    } else if let_through(stream, Side::Request, !trailers.is_empty()) {
        let got = Seen {
            headers: stream.forwarded_headers(Side::Request).unwrap_or_default(),
            body: stream.forwarded_body(Side::Request),
            trailers: Vec::new(),
        };
        let (headers, body, trailers) = echo_response(&got);
        upstream.push(got);
        let body = String::from_utf8(body).expect("conformance bodies are UTF-8");
        deliver(stream, Side::Response, &headers, &chunks_of(&body), &trailers);
        let_through(stream, Side::Response, !trailers.is_empty());
    }
    let client = match stream.forwarded_headers(Side::Response) {
        _ if stream.was_reset() => ClientSaw::Reset {
            how: "the stream was reset".to_string(),
            refused: Some(stream.reset_refused()),
        },
        Some(headers) if stream.buffered_len(Side::Response) == 0 => {
            let status =
                headers.iter().find(|(k, _)| k == ":status").and_then(|(_, v)| v.parse().ok()).unwrap_or(0);
            let headers = headers.into_iter().filter(|(k, _)| !k.starts_with(':')).collect();
            ClientSaw::Response {
                status,
                seen: Seen {
                    headers,
                    body: stream.forwarded_body(Side::Response),
                    trailers: stream.forwarded_trailers(Side::Response),
                },
            }
        }
        _ => ClientSaw::Reset {
            how: "no complete response reached the client".to_string(),
            refused: Some(false),
        },
    };
    stream.complete();
    Observed { upstream, client }
}
