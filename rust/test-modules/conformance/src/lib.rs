//! The module behind the conformance suite (`rust/conformance`): every case of the suite is one
//! behaviour here, picked by the request header `x-case` (or, for what must happen before a
//! request exists, by the filter config). The suite's cases say what each host must then show;
//! this file only does what the case's name says. Results of calls a module can be refused are
//! told back in headers (`x-conf-results`), so every host, Envoy included, can be checked from
//! the outside.
//!
//! Filter config: `""` (cases by `x-case`), `panic=<hook>` (panic in that hook: `config_new`,
//! `new_filter`, `request_headers`, `request_body`, `request_trailers`, `response_headers`,
//! `response_body`, `response_trailers`, `stream_complete`, `scheduled`), `reject` (refused with
//! a reason), `background` (the configuration schedules event 7 for itself from a thread at
//! creation, calls out to the cluster `callout` when it arrives, then opens a streaming callout
//! there when that answer comes, and one more that it resets at once, which must stay silent;
//! every response then tells `x-conf-background`: the events it received, in order;
//! once dropped, it logs what a late schedule returned).
//!
//! The `answer*` cases answer the stream with the module's own response (`answer.rs`).
//!
//! The `scheduled-*` cases hold a direction, schedule an event from another thread at its end,
//! and decide in `on_scheduled` (event ids below).
//!
//! The `callout*` cases hold the request and, at its end, call out to the cluster `callout` (an
//! echo upstream: `x-upstream-respond-x-verdict: allow` comes back as `x-verdict: allow`) or to
//! a cluster that does not exist, and decide when the answer comes. The `callout-stream*` cases
//! do the same with a streaming callout: the request's body chunks go to the cluster as they
//! arrive, and its response's events are told back in `x-conf-callout-stream`.
//!
//! Per-route configuration ([`ConformanceRoute`]): any text but `reject`, which is refused; the
//! `route-config` case tells the one that applies in the request header `x-conf-route`.
//!
//! It is also an rlib, so the suite can run it in process ([`ConformanceConfig`]).

mod answer;
mod flow;
mod local_reply;
mod recreate;
mod shared;
mod text;
mod timing;
mod trailers;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use envoyx_sdk::{
    Attribute, Body, BodyKind, BodyStatus, ConfigHandle, Counter, Direction, Filter, FilterConfig, Gauge,
    HeadersStatus, Histogram, LocalReplyStatus, LogLevel, MetadataSource, MetadataValue, ResetReason,
    RouteConfig, SpanId, Stream, StreamHandle, TrailersStatus,
};

/// The per-route configuration: its text.
pub struct ConformanceRoute(String);

impl RouteConfig for ConformanceRoute {
    fn new(name: &str, config: &[u8]) -> Result<Self, String> {
        let stamp = version_stamp();
        if stamp.starts_with("rtrefuse") {
            return Err(format!("conformance: this build ({stamp}) refuses every per-route config"));
        }
        match String::from_utf8_lossy(config).as_ref() {
            "reject" => Err(format!("conformance: per-route config `{name}` says reject")),
            text => Ok(ConformanceRoute(text.to_string())),
        }
    }
}

/// Event ids of the `scheduled-*` cases: the request, or the response, has fully arrived.
const REQUEST_DONE: u64 = 1;
const RESPONSE_DONE: u64 = 2;

/// The metrics every configuration defines (when the host keeps metrics): `requests` by
/// `case`, recorded by every stream; `in_flight` and `body_bytes`, recorded by the `metrics`
/// case.
#[derive(Clone, Copy)]
struct Metrics {
    requests: Counter,
    in_flight: Gauge,
    body_bytes: Histogram,
}

impl Metrics {
    fn define() -> Option<Self> {
        Some(Metrics {
            requests: Counter::define("requests", &["case"])?,
            in_flight: Gauge::define("in_flight", &[])?,
            body_bytes: Histogram::define("body_bytes", &[])?,
        })
    }
}

/// The filter config: which hook panics, if any.
pub struct ConformanceConfig {
    panic_in: Option<String>,
    metrics: Option<Metrics>,
    /// `background`: the configuration's name, handle and the events it received.
    background: Option<(String, ConfigHandle, Events)>,
    /// `background`: what its streaming callout's events brought so far (head, body, kinds).
    stream_seen: Mutex<(String, Vec<u8>, Vec<&'static str>)>,
}

/// What a `background` configuration received (events, its callout's answer), shared with its
/// streams.
type Events = Arc<Mutex<Vec<String>>>;

/// The cluster of the `callout*` cases (an echo upstream on every host).
const CALLOUT_CLUSTER: &str = "callout";
/// The cluster of the `callout-unhealthy` case: the proxy answers it 503 inside the call.
const UNHEALTHY_CLUSTER: &str = "callout-unhealthy";

/// The `stream-info` case's metadata namespace and filter-state key (Envoy's access log prints
/// them as `%DYNAMIC_METADATA(envoyx.conformance:decision)%` and
/// `%FILTER_STATE(envoyx.conformance.verdict:PLAIN)%`).
pub const STREAM_INFO_NS: &str = "envoyx.conformance";
pub const STREAM_INFO_STATE: &str = "envoyx.conformance.verdict";

/// The event the `background` configuration schedules for itself.
const BACKGROUND_EVENT: u64 = 7;

/// This build's version, for the hot-reload tests: they copy the built file and write another
/// version over the 11 bytes after the `envoyx-stamp:` marker (`_` pads). Every response of the
/// `version` cases carries it as `x-envoyx-version`; a build stamped `refuse…` refuses every
/// configuration, one stamped `rtrefuse…` every per-route configuration (broken replacements).
#[used]
static VERSION_STAMP: [u8; 24] = *b"envoyx-stamp:v0_________";

fn version_stamp() -> String {
    // black_box: the tests change the bytes in the file, so they must be read, not folded.
    let stamp = std::hint::black_box(&VERSION_STAMP);
    String::from_utf8_lossy(&stamp[13..]).trim_end_matches(['_', '\0']).to_string()
}

/// One stream's case.
#[derive(Default)]
pub struct Conformance {
    case: String,
    panic_in: Option<String>,
    /// What refusable calls returned, told back as `x-conf-results`.
    results: Vec<String>,
    /// Kept for the `continue-after-end` case.
    handle: Option<StreamHandle>,
    /// `background`: the configuration's events so far.
    background: Option<Events>,
    /// `callout-two`: the ids answered so far.
    answered: Vec<u64>,
    /// The configuration's metrics.
    metrics: Option<Metrics>,
    /// `callout-stream`: the streaming callout, and what its events brought so far.
    callout_stream: Option<envoyx_sdk::CalloutId>,
    stream_events: Vec<&'static str>,
    stream_head: String,
    stream_body: Vec<u8>,
    /// `grpc-unary`: the calls (id, name, answer so far) and their outcomes, as `name=...`.
    grpc_calls: Vec<(&'static str, envoyx_sdk::grpc::GrpcUnary)>,
    grpc_results: Vec<String>,
    /// `local-reply-seen`: what the local-reply hook heard.
    local_reply: Option<String>,
    /// `span-child-traced`: the child span, open until the response headers.
    child_span: Option<SpanId>,
}

impl FilterConfig for ConformanceConfig {
    type Filter = Conformance;

    fn new(name: &str, config: &[u8]) -> Result<Self, String> {
        let config = String::from_utf8_lossy(config);
        let stamp = version_stamp();
        if stamp.starts_with("refuse") {
            return Err(format!("conformance: this build ({stamp}) refuses every configuration"));
        }
        let metrics = Metrics::define();
        // The runtime keys the `runtime` case reads per request, read once here (the main
        // thread): where a proxy serves its runtime only there (stock Envoy 1.40), the workers'
        // copy has them from the first request.
        let _ = envoyx_sdk::runtime_bool(envoyx_conformance::RUNTIME_FLAG.0);
        let _ = envoyx_sdk::runtime_number(envoyx_conformance::RUNTIME_NUMBER.0);
        if config.is_empty() {
            return Ok(Self { panic_in: None, metrics, background: None, stream_seen: Mutex::default() });
        }
        if config == "strict" {
            // Hot reload of several configurations of one file: this one refuses `lenient…` builds.
            if stamp.starts_with("lenient") {
                return Err(format!("conformance: a strict configuration refuses this build ({stamp})"));
            }
            return Ok(Self { panic_in: None, metrics, background: None, stream_seen: Mutex::default() });
        }
        if config == "background" {
            let handle = ConfigHandle::for_new_config().ok_or("conformance: no configuration handle")?;
            let thread_handle = handle.clone();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(10));
                thread_handle.schedule(BACKGROUND_EVENT);
            });
            let background = Some((name.to_string(), handle, Arc::default()));
            return Ok(Self { panic_in: None, metrics, background, stream_seen: Mutex::default() });
        }
        if let Some(hook) = config.strip_prefix("panic=") {
            if hook == "config_new" {
                panic!("conformance: boom in config_new");
            }
            return Ok(Self {
                panic_in: Some(hook.to_string()),
                metrics,
                background: None,
                stream_seen: Mutex::default(),
            });
        }
        Err(format!("conformance: filter config `{config}` is refused (use \"\" or panic=<hook>)"))
    }

    fn new_filter(&self) -> Conformance {
        if self.panic_in.as_deref() == Some("new_filter") {
            panic!("conformance: boom in new_filter");
        }
        Conformance {
            panic_in: self.panic_in.clone(),
            metrics: self.metrics,
            background: self.background.as_ref().map(|(_, _, events)| events.clone()),
            ..Conformance::default()
        }
    }

    fn on_scheduled(&self, event_id: u64) {
        if let Some((_, handle, events)) = &self.background {
            events.lock().unwrap().push(event_id.to_string());
            // Background work that outlives streams: a callout of the configuration's own.
            let headers = [
                (":method", "POST"),
                (":path", "/keys"),
                (":authority", "callout"),
                ("x-upstream-respond-x-verdict", "allow"),
            ];
            if handle.http_callout(CALLOUT_CLUSTER, &headers, b"key", Duration::from_secs(5)).is_none() {
                events.lock().unwrap().push("callout refused".to_string());
            }
        }
    }

    fn on_callout_done(
        &self,
        _id: envoyx_sdk::CalloutId,
        result: Result<envoyx_sdk::CalloutResponse<'_>, envoyx_sdk::CalloutError>,
    ) {
        if let Some((_, handle, events)) = &self.background {
            let seen = match result {
                Ok(response) => format!(
                    "callout {} {} {}",
                    response.status().unwrap_or(0),
                    response.header_str("x-verdict").unwrap_or("-"),
                    String::from_utf8_lossy(&response.body())
                ),
                Err(error) => format!("callout error {error}"),
            };
            events.lock().unwrap().push(seen);
            // Then a streaming callout: its body in two pieces, the second ending it. And one
            // reset at once, of which nothing may come back.
            let headers = [
                (":method", "POST"),
                (":path", "/updates"),
                (":authority", "callout"),
                ("x-upstream-respond-x-verdict", "allow"),
            ];
            let timeout = Duration::from_secs(5);
            match handle.start_callout_stream(CALLOUT_CLUSTER, &headers, b"k", false, timeout) {
                Some(id) => drop(handle.callout_stream_send(id, b"ey", true)),
                None => events.lock().unwrap().push("stream refused".to_string()),
            }
            if let Some(id) = handle.start_callout_stream(CALLOUT_CLUSTER, &headers, b"", false, timeout) {
                handle.callout_stream_reset(id);
            }
        }
    }

    fn on_callout_event(&self, _id: envoyx_sdk::CalloutId, event: envoyx_sdk::CalloutEvent<'_>) {
        use envoyx_sdk::CalloutEvent;
        let Some((_, _, events)) = &self.background else { return };
        let mut seen = self.stream_seen.lock().unwrap();
        let (head, body, kinds) = &mut *seen;
        let kind = match &event {
            CalloutEvent::Headers { .. } => "headers",
            CalloutEvent::Data { .. } => "data",
            CalloutEvent::Trailers(_) => "trailers",
            CalloutEvent::Complete => "complete",
            CalloutEvent::Failed(_) => "failed",
        };
        if kinds.last() != Some(&kind) {
            kinds.push(kind);
        }
        match event {
            CalloutEvent::Headers { headers, .. } => {
                *head = format!(
                    "{} {}",
                    headers.status().unwrap_or(0),
                    headers.get_str("x-verdict").unwrap_or("-")
                );
            }
            CalloutEvent::Data { body: data, .. } => body.extend(data.chunks().flatten()),
            CalloutEvent::Trailers(_) => {}
            CalloutEvent::Complete | CalloutEvent::Failed(_) => {
                let line = format!("stream {head} {} {}", String::from_utf8_lossy(body), kinds.join(" "));
                events.lock().unwrap().push(line);
            }
        }
    }
}

/// Every attribute, by the name the `attributes-dump` behaviour gives its response header.
const ATTRIBUTE_NAMES: [(&str, Attribute); 54] = [
    ("source-address", Attribute::SourceAddress),
    ("source-port", Attribute::SourcePort),
    ("destination-address", Attribute::DestinationAddress),
    ("destination-port", Attribute::DestinationPort),
    ("request-id", Attribute::RequestId),
    ("protocol", Attribute::Protocol),
    ("route-name", Attribute::RouteName),
    ("cluster-name", Attribute::ClusterName),
    ("upstream-address", Attribute::UpstreamAddress),
    ("response-code", Attribute::ResponseCode),
    ("connection-id", Attribute::ConnectionId),
    ("tls-version", Attribute::TlsVersion),
    ("tls-peer-subject", Attribute::TlsPeerSubject),
    ("tls-peer-dns-san", Attribute::TlsPeerDnsSan),
    ("tls-peer-uri-san", Attribute::TlsPeerUriSan),
    ("tls-peer-sha256", Attribute::TlsPeerSha256),
    ("request-path", Attribute::RequestPath),
    ("request-url-path", Attribute::RequestUrlPath),
    ("request-host", Attribute::RequestHost),
    ("request-scheme", Attribute::RequestScheme),
    ("request-method", Attribute::RequestMethod),
    ("request-referer", Attribute::RequestReferer),
    ("request-useragent", Attribute::RequestUserAgent),
    ("request-query", Attribute::RequestQuery),
    ("request-size", Attribute::RequestSize),
    ("request-total-size", Attribute::RequestTotalSize),
    ("response-code-details", Attribute::ResponseCodeDetails),
    ("response-flags", Attribute::ResponseFlags),
    ("response-grpc-status", Attribute::ResponseGrpcStatus),
    ("response-size", Attribute::ResponseSize),
    ("response-total-size", Attribute::ResponseTotalSize),
    ("connection-mtls", Attribute::ConnectionMtls),
    ("connection-requested-server-name", Attribute::ConnectionSni),
    ("connection-subject-local-certificate", Attribute::TlsLocalSubject),
    ("connection-dns-san-local-certificate", Attribute::TlsLocalDnsSan),
    ("connection-uri-san-local-certificate", Attribute::TlsLocalUriSan),
    ("connection-transport-failure-reason", Attribute::ConnectionTransportFailure),
    ("connection-termination-details", Attribute::ConnectionTerminationDetails),
    ("upstream-port", Attribute::UpstreamPort),
    ("upstream-tls-version", Attribute::UpstreamTlsVersion),
    ("upstream-subject-local-certificate", Attribute::UpstreamTlsLocalSubject),
    ("upstream-subject-peer-certificate", Attribute::UpstreamTlsPeerSubject),
    ("upstream-dns-san-local-certificate", Attribute::UpstreamTlsLocalDnsSan),
    ("upstream-dns-san-peer-certificate", Attribute::UpstreamTlsPeerDnsSan),
    ("upstream-uri-san-local-certificate", Attribute::UpstreamTlsLocalUriSan),
    ("upstream-uri-san-peer-certificate", Attribute::UpstreamTlsPeerUriSan),
    ("upstream-sha256-peer-certificate-digest", Attribute::UpstreamTlsPeerSha256),
    ("upstream-local-address", Attribute::UpstreamLocalAddress),
    ("upstream-transport-failure-reason", Attribute::UpstreamTransportFailure),
    ("upstream-request-attempt-count", Attribute::UpstreamAttempts),
    ("xds-listener-direction", Attribute::ListenerDirection),
    ("xds-virtual-host-name", Attribute::VirtualHostName),
    ("xds-filter-chain-name", Attribute::FilterChainName),
    ("health-check", Attribute::HealthCheck),
];

/// The `attributes` case's checks at the request headers: each connection attribute present and
/// consistent (an address's port is the port attribute), no TLS, no response code yet.
fn attribute_checks(stream: &Stream) -> Vec<String> {
    let consistent = |address: Attribute, port: Attribute| {
        let parsed = stream.attribute_str(address).and_then(|a| a.parse::<std::net::SocketAddr>().ok());
        match (parsed, stream.attribute_u64(port)) {
            (Some(a), Some(p)) if u64::from(a.port()) == p => "ok".to_string(),
            (a, p) => format!("{a:?}/{p:?}"),
        }
    };
    let present = |text: Option<&str>, ok: bool| if ok { "ok".to_string() } else { format!("{text:?}") };
    let protocol = stream.attribute_str(Attribute::Protocol);
    let request_id = stream.attribute_str(Attribute::RequestId);
    vec![
        format!("source={}", consistent(Attribute::SourceAddress, Attribute::SourcePort)),
        format!("destination={}", consistent(Attribute::DestinationAddress, Attribute::DestinationPort)),
        format!("protocol={}", present(protocol, protocol.is_some_and(|p| p.starts_with("HTTP/")))),
        format!("request-id={}", present(request_id, request_id.is_some_and(|r| !r.is_empty()))),
        format!(
            "connection={}",
            if stream.attribute_u64(Attribute::ConnectionId).is_some() { "ok" } else { "absent" }
        ),
        format!("tls={}", stream.attribute_str(Attribute::TlsVersion).unwrap_or("absent")),
        format!(
            "code-before={}",
            stream.attribute_u64(Attribute::ResponseCode).map_or("absent".into(), |c| c.to_string())
        ),
    ]
}

fn yes_no(result: bool) -> &'static str {
    if result { "true" } else { "false" }
}

/// The edits of the `*-edit-*` cases, on the whole body at its end (`buffered` then `received`,
/// wherever the host's chunking put the bytes): drop the first byte, put `<` before it, replace
/// the last byte with itself upper-cased plus `J`, append `>`. `abcdefghi` becomes
/// `<bcdefghIJ>`. A same-length replace (`i` → `I`) is tried last when the length-changing ones
/// were refused. Returns what each call returned.
fn edit_whole_body(stream: &mut Stream, buffered: BodyKind, received: BodyKind) -> Vec<String> {
    let holds_start = if stream.body(buffered).is_empty() { received } else { buffered };
    let holds_end = if stream.body(received).is_empty() { buffered } else { received };
    let mut results = Vec::new();
    let mut note = |op: &str, ok: bool| results.push(format!("{op}={}", yes_no(ok)));
    note("drain", stream.body(holds_start).drain(1));
    note("prepend", stream.body(holds_start).prepend(b"<"));
    let mut end: Body<'_> = stream.body(holds_end);
    let last = end.len() - 1;
    let upper = end.to_vec()[last].to_ascii_uppercase();
    let grown = end.replace(last..last + 1, &[upper, b'J']);
    note("replace", grown);
    note("append", stream.body(holds_end).append(b">"));
    if !grown {
        note("replace-same", stream.body(holds_end).replace(last..last + 1, &[upper]));
    }
    results
}

impl Conformance {
    /// A panic in a later request hook (or the scheduled one) must leave nothing upstream: the
    /// request is held.
    fn holds_request(&self) -> bool {
        matches!(self.panic_in.as_deref(), Some("request_body" | "request_trailers" | "scheduled"))
            || self.case.starts_with("scheduled-") && self.case != "scheduled-response"
            || matches!(
                self.case.as_str(),
                "callout"
                    | "callout-host"
                    | "callout-unhealthy"
                    | "callout-no-cluster"
                    | "callout-two"
                    | "callout-stream"
                    | "callout-stream-no-cluster"
                    | "callout-stream-unhealthy"
                    | "grpc-unary"
                    | "grpc-health"
            )
    }

    /// The `grpc-unary` case's calls to the echo cluster, which answers the framed message back
    /// with the `grpc-status` (and `grpc-message`) its `x-upstream-respond-trailer-*` headers
    /// ask for: one that succeeds, one the server fails with NOT_FOUND.
    fn start_grpc_calls(&mut self, stream: &mut Stream) {
        use envoyx_sdk::grpc::GrpcCall;
        let ok: &[(&str, &str)] = &[("x-upstream-respond-trailer-grpc-status", "0")];
        let not_found: &[(&str, &str)] = &[
            ("x-upstream-respond-trailer-grpc-status", "5"),
            ("x-upstream-respond-trailer-grpc-message", "not%20here"),
        ];
        for (name, metadata) in [("ok", ok), ("error", not_found)] {
            let call = GrpcCall {
                metadata,
                ..GrpcCall::new("/conformance.Echo/Unary", b"ping", Duration::from_secs(5))
            };
            match stream.start_grpc_call(CALLOUT_CLUSTER, &call) {
                Some(pending) => self.grpc_calls.push((name, pending)),
                None => self.grpc_results.push(format!("{name}=refused")),
            }
        }
    }

    /// The `grpc-health` behaviour (a real gRPC server's test, not a conformance case): one
    /// `grpc.health.v1.Health/Check` call for the service `x-grpc-service` to the cluster
    /// `x-grpc-cluster`, with the deadline `x-grpc-timeout-ms`; the outcome goes upstream as
    /// `x-conf-grpc` (`ok=<response bytes in hex>` or the error).
    /// False (and `x-conf-grpc: check=refused` set) when the call is refused: nothing to wait for.
    fn start_health_check(&mut self, stream: &mut Stream) -> bool {
        use envoyx_sdk::grpc::GrpcCall;
        let headers = stream.request_headers();
        let cluster = headers.get_str("x-grpc-cluster").unwrap_or("grpc").to_string();
        let service = headers.get_str("x-grpc-service").unwrap_or_default().to_string();
        let timeout_ms = headers.get_str("x-grpc-timeout-ms").and_then(|t| t.parse().ok()).unwrap_or(2000);
        // HealthCheckRequest { service }: field 1, length-delimited (names shorter than 128).
        let mut request = vec![0x0a, service.len() as u8];
        request.extend_from_slice(service.as_bytes());
        let call = GrpcCall::new("/grpc.health.v1.Health/Check", &request, Duration::from_millis(timeout_ms));
        match stream.start_grpc_call(&cluster, &call) {
            Some(pending) => self.grpc_calls.push(("check", pending)),
            None => {
                stream.request_headers().set("x-conf-grpc", "check=refused");
            }
        }
        !self.grpc_calls.is_empty()
    }

    /// Feeds a `grpc-unary` call's event; once both answered, tells their outcomes upstream.
    fn grpc_event(
        &mut self,
        stream: &mut Stream,
        id: envoyx_sdk::CalloutId,
        event: envoyx_sdk::CalloutEvent<'_>,
    ) {
        let Some((name, call)) = self.grpc_calls.iter_mut().find(|(_, call)| call.id() == id) else {
            return;
        };
        let Some(result) = call.on_event(event) else { return };
        let health = self.case == "grpc-health";
        self.grpc_results.push(match result {
            Ok(message) if health => {
                format!("{name}={}", message.iter().map(|b| format!("{b:02x}")).collect::<String>())
            }
            Ok(message) => format!("{name}={}", String::from_utf8_lossy(&message)),
            Err(error) => format!("{name}={error}"),
        });
        if self.grpc_results.len() == if health { 1 } else { 2 } {
            self.grpc_results.sort();
            stream.request_headers().set("x-conf-grpc", self.grpc_results.join(","));
            stream.continue_request();
        }
    }

    /// Opens the `callout-stream*` cases' streaming callout to `cluster`, with `body` as the
    /// first chunk.
    fn open_stream(stream: &mut Stream, cluster: &str, end_of_stream: bool) -> Option<envoyx_sdk::CalloutId> {
        let headers = [
            (":method", "POST"),
            (":path", "/stream"),
            (":authority", "callout"),
            ("x-upstream-respond-x-verdict", "allow"),
        ];
        stream.start_callout_stream(cluster, &headers, b"", end_of_stream, Duration::from_secs(5))
    }

    /// Calls out to `cluster` as the `callout*` cases do.
    fn call_out(stream: &mut Stream, cluster: &str) -> Option<envoyx_sdk::CalloutId> {
        Self::call_out_as(stream, cluster, ":authority")
    }

    /// A callout naming its authority under `authority` (`:authority`, or HTTP/1's `host`).
    fn call_out_as(stream: &mut Stream, cluster: &str, authority: &str) -> Option<envoyx_sdk::CalloutId> {
        let headers = [
            (":method", "POST"),
            (":path", "/check"),
            (authority, "callout"),
            ("x-upstream-respond-x-verdict", "allow"),
        ];
        stream.http_callout(cluster, &headers, b"ping", Duration::from_secs(5))
    }

    fn maybe_panic(&self, hook: &str) {
        if self.panic_in.as_deref() == Some(hook) {
            panic!("conformance: boom in {hook}");
        }
    }

    /// Schedules `event_id` from another thread after a short wait.
    fn schedule_later(stream: &Stream, event_id: u64) {
        let handle = stream.handle();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(10));
            handle.schedule(event_id);
        });
    }

    /// Resumes `direction` from another thread after a short wait, twice (the second is ignored).
    fn continue_later(stream: &Stream, direction: Direction) {
        let handle = stream.continue_handle();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(10));
            handle.continue_direction(direction);
            handle.continue_direction(direction);
        });
    }
}

impl Filter for Conformance {
    fn on_request_headers(&mut self, stream: &mut Stream, end_of_stream: bool) -> HeadersStatus {
        self.maybe_panic("request_headers");
        self.case = stream.request_headers().get_str("x-case").unwrap_or_default().to_string();
        if let Some(metrics) = self.metrics {
            let case = if self.case.is_empty() { "-".to_string() } else { self.case.clone() };
            metrics.requests.increment(stream, &[&case]);
        }
        if let Some(status) = answer::request_headers(&self.case, stream) {
            return status;
        }
        if let Some(status) = flow::request_headers(&self.case, stream) {
            return status;
        }
        if let Some(status) = recreate::request_headers(&self.case, stream) {
            return status;
        }
        trailers::request_headers(&self.case, stream, &mut self.results);
        if self.holds_request() {
            match self.case.clone().as_str() {
                "callout-stream" => {
                    self.callout_stream = Self::open_stream(stream, CALLOUT_CLUSTER, end_of_stream)
                }
                "callout-stream-no-cluster" => drop(Self::open_stream(stream, "no-such-cluster", true)),
                "grpc-unary" => {
                    self.start_grpc_calls(stream);
                    if self.grpc_calls.is_empty() {
                        // Both refused: nothing to wait for.
                        stream.request_headers().set("x-conf-grpc", self.grpc_results.join(","));
                        return HeadersStatus::Continue;
                    }
                }
                // Refused: nothing to wait for.
                "grpc-health" if !self.start_health_check(stream) => return HeadersStatus::Continue,
                _ => {}
            }
            if self.case == "scheduled-continue" {
                // Refused: an event hook resumes by its status.
                let in_hook = stream.continue_request();
                self.results.push(format!("in_hook={}", yes_no(in_hook)));
            }
            return HeadersStatus::StopIteration;
        }
        if let Some(results) = text::run(&self.case, stream) {
            self.results.extend(results);
            // `text-reply-details` answered the request itself.
            return HeadersStatus::Continue;
        }
        let mut headers = stream.request_headers();
        match self.case.as_str() {
            "headers" => {
                let iterated: Vec<String> = headers
                    .iter()
                    .filter(|(name, _)| *name == b"x-multi")
                    .map(|(_, value)| String::from_utf8_lossy(value).into_owned())
                    .collect();
                let all: Vec<String> = headers
                    .get_all("x-multi")
                    .into_iter()
                    .map(|value| String::from_utf8_lossy(value).into_owned())
                    .collect();
                let removed = headers.remove("x-conf-remove-me");
                headers.set("x-conf-iterated", iterated.join(","));
                headers.set("x-conf-get-all", all.join(","));
                headers.set("x-conf-removed", removed.to_string());
                headers.add("x-conf-added", "a");
                headers.add("x-conf-added", "b");
                HeadersStatus::Continue
            }
            "req-edit-held" | "reply-request-body" => HeadersStatus::StopIteration,
            "version-held" => {
                // Held 1 s in the module: long enough to straddle a hot reload. The SDK's
                // thread leaves nothing on Envoy's thread that would pin the module in memory.
                let handle = stream.continue_handle();
                let spawned = envoyx_sdk::thread::spawn(move || {
                    std::thread::sleep(Duration::from_secs(1));
                    handle.continue_direction(Direction::Request);
                });
                if spawned.is_err() {
                    return HeadersStatus::Continue;
                }
                HeadersStatus::StopIteration
            }
            "req-edit-declared" => {
                stream.will_change_request_body_length();
                HeadersStatus::Continue
            }
            "async-request" => {
                headers.set("x-conf-async", "request");
                HeadersStatus::StopIteration
            }
            "bad-headers" => {
                let results = [
                    ("crlf", headers.set("x-bad", "a\r\nb")),
                    ("empty", headers.set("x-empty", "")),
                    ("upper", headers.set("X-Upper", "yes")),
                    ("pseudo", headers.add(":path", "/other")),
                ];
                self.results.extend(results.iter().map(|(call, ok)| format!("{call}={}", yes_no(*ok))));
                HeadersStatus::Continue
            }
            "bounds" => {
                let long = headers.set("x-long", "v".repeat((64 << 10) + 1));
                let writes = (0..1100).filter(|i| headers.set("x-count", i.to_string())).count();
                let last = headers.get_str("x-count").unwrap_or_default().to_string();
                let many: Vec<(String, String)> =
                    (0..65).map(|i| (format!("x-h{i}"), "v".to_string())).collect();
                let many: Vec<(&str, &str)> = many.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                let headers65 = stream.send_local_reply(200, &many, b"", "too_many");
                let results = format!(
                    "long={},writes={writes},last={last},headers65={}",
                    yes_no(long),
                    yes_no(headers65)
                );
                stream.send_local_reply(200, &[("x-conf-results", &results)], b"bounded\n", "bounded");
                HeadersStatus::StopIteration
            }
            "reply-request-headers" => {
                stream.send_local_reply(
                    403,
                    &[("x-conf-reply", "headers")],
                    b"denied\n",
                    "conformance_denied",
                );
                HeadersStatus::StopIteration
            }
            "bad-reply" => {
                let low = stream.send_local_reply(99, &[], b"low", "conformance");
                let crlf = stream.send_local_reply(418, &[("x-bad", "a\r\nb")], b"crlf", "conformance");
                let results = format!("status99={},crlf={}", yes_no(low), yes_no(crlf));
                stream.send_local_reply(
                    418,
                    &[("x-conf-results", &results)],
                    b"teapot\n",
                    "conformance_teapot",
                );
                HeadersStatus::StopIteration
            }
            "reset-request" => {
                stream.reset();
                HeadersStatus::StopIteration
            }
            "goaway" => {
                stream.send_goaway_and_close(false);
                HeadersStatus::StopIteration
            }
            "secret" => {
                let declared = stream
                    .secret(envoyx_conformance::SECRET.0)
                    .map(|v| String::from_utf8_lossy(v).into_owned());
                let undeclared = stream.secret("envoyx.conformance.other").is_some();
                let results = format!(
                    "declared={},undeclared={}",
                    declared.as_deref().unwrap_or("refused"),
                    if undeclared { "read" } else { "refused" }
                );
                stream.request_headers().set("x-conf-secret", results);
                HeadersStatus::Continue
            }
            "metadata-struct" => {
                const NS: &str = "envoyx.conformance.struct";
                let bad = stream.set_metadata_struct(NS, "[1, 2]");
                let set = stream.set_metadata_struct(NS, r#"{"user": "ada", "score": 0.5, "checked": true}"#);
                let user =
                    stream.metadata_str(MetadataSource::Dynamic, NS, "user").unwrap_or("none").to_string();
                let score = stream.metadata_number(MetadataSource::Dynamic, NS, "score").unwrap_or(-1.0);
                let checked = stream.metadata_bool(MetadataSource::Dynamic, NS, "checked").unwrap_or(false);
                let results = format!("set={set},user={user},score={score},checked={checked},bad={bad}");
                stream.request_headers().set("x-conf-struct", results);
                HeadersStatus::Continue
            }
            "metadata-struct-nested" => {
                // Envoy-only (rust/stock-host/tests/stream_info.rs): a nested object.
                let set = stream.set_metadata_struct(
                    "envoyx.conformance.nested",
                    r#"{"flat": "x", "inner": {"list": [1, "two", null]}}"#,
                );
                let mut keys = stream.metadata_keys(MetadataSource::Dynamic, "envoyx.conformance.nested");
                keys.sort();
                stream.request_headers().set("x-conf-struct", format!("set={set},keys={}", keys.join(",")));
                HeadersStatus::Continue
            }
            "filter-state-typed" => {
                use envoyx_conformance::{PRESET_OBJECT, PRESET_STRING};
                let serialized = |stream: &mut Stream, key: &str| {
                    stream
                        .filter_state_serialized(key)
                        .map_or("none".to_string(), |v| String::from_utf8_lossy(v).into_owned())
                };
                let (string, object) = (serialized(stream, PRESET_STRING), serialized(stream, PRESET_OBJECT));
                let unknown = stream.set_filter_state_typed("envoyx.no.such.factory", "x");
                let set = stream.set_filter_state_typed("envoy.tcp_proxy.cluster", "c1");
                let read = serialized(stream, "envoy.tcp_proxy.cluster");
                let taken = stream.set_filter_state_typed(PRESET_OBJECT, "other.example");
                let results = format!(
                    "string={string},object={object},unknown={unknown},set={set},read={read},taken={taken}"
                );
                stream.request_headers().set("x-conf-typed", results);
                HeadersStatus::Continue
            }
            "metadata-list" => {
                const NS: &str = "envoyx.conformance.list";
                stream.set_metadata(NS, "b", 2.0);
                stream.set_metadata(NS, "a", "one");
                let mut keys = stream.metadata_keys(MetadataSource::Dynamic, NS);
                keys.sort();
                let listed = stream.metadata_namespaces(MetadataSource::Dynamic).iter().any(|ns| ns == NS);
                let absent = stream.metadata_keys(MetadataSource::Dynamic, "envoyx.conformance.absent").len();
                // The raw table, for a source no version defines (the SDK's enum cannot name one).
                let unknown = envoyx_sdk::host_api().map_or(0, |api| {
                    // Safety: inside a hook of this stream on its worker thread; no room asked.
                    unsafe { (api.metadata_namespaces)(stream.as_raw(), 9, std::ptr::null_mut(), 0) }
                });
                let results =
                    format!("keys={},listed={listed},absent={absent},unknown={unknown}", keys.join(","));
                stream.request_headers().set("x-conf-list", results);
                HeadersStatus::Continue
            }
            "secret-sds" => {
                // Envoy-only (rust/stock-host/tests/secrets.rs): a secret SDS delivers and rotates.
                let value =
                    stream.secret("envoyx.conformance.sds").map(|v| String::from_utf8_lossy(v).into_owned());
                stream.request_headers().set("x-conf-secret", value.as_deref().unwrap_or("refused"));
                HeadersStatus::Continue
            }
            "metadata-set-typed" => {
                // A google.protobuf.StringValue "hello" (field 1, length 5).
                const URL: &str = "type.googleapis.com/google.protobuf.StringValue";
                let set = stream.set_metadata_typed("envoyx.conformance.typed", URL, b"\x0a\x05hello");
                let read = stream.metadata_typed(MetadataSource::Dynamic, "envoyx.conformance.typed").map_or(
                    "none".to_string(),
                    |(url, value)| {
                        format!("{url}:{}", value.iter().map(|b| format!("{b:02x}")).collect::<String>())
                    },
                );
                let bad = stream.set_metadata_typed("envoyx.conformance.typed", "no-slash", b"");
                stream.request_headers().set("x-conf-results", format!("set={set},read={read},bad={bad}"));
                HeadersStatus::Continue
            }
            "shared" => {
                stream.request_headers().set("x-conf-results", shared::shared_case());
                HeadersStatus::Continue
            }
            "shared-cross" => {
                let set = stream.request_headers().get_str("x-conf-set").map(str::to_string);
                stream.request_headers().set("x-conf-shared", shared::shared_cross(set.as_deref()));
                HeadersStatus::Continue
            }
            "runtime" => {
                use envoyx_conformance::{RUNTIME_FLAG, RUNTIME_NUMBER};
                let shown = |v: Option<String>| v.unwrap_or_else(|| "none".to_string());
                let results = format!(
                    "flag={},percent={},unset={},flag-as-number={}",
                    shown(envoyx_sdk::runtime_bool(RUNTIME_FLAG.0).map(|b| b.to_string())),
                    shown(envoyx_sdk::runtime_number(RUNTIME_NUMBER.0).map(|n| n.to_string())),
                    shown(envoyx_sdk::runtime_bool("envoyx.conformance.never_set").map(|b| b.to_string())),
                    shown(envoyx_sdk::runtime_number(RUNTIME_FLAG.0).map(|n| n.to_string())),
                );
                stream.request_headers().set("x-conf-runtime", results);
                HeadersStatus::Continue
            }
            "filter-state-has" => {
                use envoyx_conformance::{PRESET_OBJECT, PRESET_STRING};
                let results = format!(
                    "string={},object={},missing={},bad={}",
                    stream.has_filter_state(PRESET_STRING),
                    stream.has_filter_state(PRESET_OBJECT),
                    stream.has_filter_state("envoyx.conformance.never_set"),
                    stream.has_filter_state(""),
                );
                stream.request_headers().set("x-conf-has", results);
                HeadersStatus::Continue
            }
            "workers" => {
                let in_range = match (envoyx_sdk::worker_count(), stream.worker_index()) {
                    (Some(count), Some(index)) => index < count,
                    _ => false,
                };
                stream.request_headers().set("x-conf-workers", format!("in-range={in_range}"));
                let (count, index) = (envoyx_sdk::worker_count(), stream.worker_index());
                stream.request_headers().set("x-conf-worker-count", format!("{count:?}"));
                stream.request_headers().set("x-conf-worker-index", format!("{index:?}"));
                HeadersStatus::Continue
            }
            "log-at" => {
                envoyx_sdk::log_at(
                    LogLevel::Info,
                    "conformance/located.rs",
                    42,
                    "conformance: a located line",
                );
                envoyx_sdk::log_at(
                    LogLevel::Info,
                    "conformance/two\nlines.rs",
                    7,
                    "conformance: a file name with a line break",
                );
                HeadersStatus::Continue
            }
            "reset-refused" => {
                stream.reset_with_reason(ResetReason::Refused, "envoyx_conformance_shed");
                HeadersStatus::StopIteration
            }
            "reset-reason-refused" => {
                let host = envoyx_sdk::host_api().expect("initialised");
                // Safety: inside a hook of this stream; the details view lives for the call.
                let unknown = unsafe {
                    (host.reset_stream_with_reason)(
                        stream.as_raw(),
                        7,
                        envoyx_abi::envoyx_bytes::from_slice(b""),
                    )
                };
                let spaced = stream.reset_with_reason(ResetReason::Refused, "not one token");
                let results = format!("unknown={unknown},spaced={spaced}");
                stream.request_headers().set("x-conf-results", results);
                HeadersStatus::Continue
            }
            "callout-refused" => {
                // No :path: refused at once, and the request goes on.
                let refused = stream
                    .http_callout("callout", &[(":method", "GET")], b"", Duration::from_secs(1))
                    .is_none();
                stream.request_headers().set("x-conf-callout-refused", yes_no(refused));
                HeadersStatus::Continue
            }
            "metrics" => {
                let Some(metrics) = self.metrics else {
                    self.results.push("metrics=none".to_string());
                    return HeadersStatus::Continue;
                };
                let results = [
                    (
                        "in_flight",
                        metrics.in_flight.add(stream, &[], 2) && metrics.in_flight.sub(stream, &[], 1),
                    ),
                    ("body_bytes", metrics.body_bytes.record(stream, &[], 9)),
                    ("too_few", metrics.requests.increment(stream, &[])),
                    ("control", metrics.requests.increment(stream, &["a\rb"])),
                ];
                self.results.extend(results.iter().map(|(call, ok)| format!("{call}={}", yes_no(*ok))));
                HeadersStatus::Continue
            }
            "span-tag" => {
                // No host of the suite has a tracer: no span, nothing tagged.
                let tagged = stream.set_span_tag("envoyx.case", "span-tag");
                self.results.push(format!("tag={}", yes_no(tagged)));
                HeadersStatus::Continue
            }
            "span-untraced" => {
                // No tracer on any host of the suite: every span call does nothing.
                let child = stream.start_child_span(SpanId::ACTIVE, "envoyx.lookup");
                let tag = stream.span_tag(SpanId::ACTIVE, "envoyx.step", "lookup");
                let baggage = stream.baggage("envoyx-tenant");
                let trace = stream.trace_id();
                let unnamed = stream.start_child_span(SpanId::ACTIVE, "");
                let finish_active = stream.finish_span(SpanId::ACTIVE);
                let results = format!(
                    "child={},tag={tag},baggage={},trace={},unnamed={},finish-active={finish_active}",
                    child.is_some(),
                    baggage.is_some(),
                    trace.is_some(),
                    unnamed.is_some()
                );
                stream.request_headers().set("x-conf-results", results);
                HeadersStatus::Continue
            }
            // Envoy-only (rust/stock-host/tests/stream_info.rs): a listener with a tracer. A child
            // span lives from the request headers to the response headers.
            "span-child-traced" => {
                self.child_span = stream.start_child_span(SpanId::ACTIVE, "envoyx.lookup");
                if let Some(span) = self.child_span {
                    stream.span_tag(span, "envoyx.step", "lookup");
                    stream.span_log(span, "looked up");
                }
                stream.set_baggage("envoyx-tenant", "acme");
                let baggage = stream.baggage("envoyx-tenant").unwrap_or_default();
                let trace = stream.trace_id().unwrap_or_default();
                self.results
                    .push(format!("child={},baggage={baggage},trace={trace}", self.child_span.is_some()));
                HeadersStatus::Continue
            }
            // Envoy-only (rust/stock-host/tests/stream_info.rs): a listener with a tracer.
            "span-tag-traced" => {
                let tagged = stream.set_span_tag("envoyx.decision", "traced");
                self.results.push(format!("tag={}", yes_no(tagged)));
                HeadersStatus::Continue
            }
            "attributes-request-line" => {
                // ABI 1.2: the request line, on every host and Envoy version.
                let line = [Attribute::RequestMethod, Attribute::RequestPath, Attribute::RequestScheme]
                    .map(|attribute| stream.attribute_str(attribute).unwrap_or("absent").to_string());
                let results = format!("method={},path={},scheme={}", line[0], line[1], line[2]);
                stream.request_headers().set("x-conf-results", results);
                HeadersStatus::Continue
            }
            "attributes" => {
                let results = attribute_checks(stream);
                self.results.extend(results);
                HeadersStatus::Continue
            }
            "filter-state-taken" => {
                use envoyx_conformance::{PRESET_OBJECT, PRESET_STRING};
                let preset = stream.set_filter_state(PRESET_STRING, b"overwritten");
                let object = stream.set_filter_state(PRESET_OBJECT, b"overwritten.example");
                let value =
                    stream.filter_state(PRESET_STRING).map(|v| String::from_utf8_lossy(v).into_owned());
                let mine = stream.set_filter_state(STREAM_INFO_STATE, b"mine");
                let again = stream.set_filter_state(STREAM_INFO_STATE, b"again");
                self.results.push(format!(
                    "preset={},object={},value={},mine={},mine-again={}",
                    yes_no(preset),
                    yes_no(object),
                    value.as_deref().unwrap_or("none"),
                    yes_no(mine),
                    yes_no(again)
                ));
                HeadersStatus::Continue
            }
            "stream-info" => {
                let ns = STREAM_INFO_NS;
                let mut note = |call: &str, result: String| self.results.push(format!("{call}={result}"));
                for (key, value) in [
                    ("decision", MetadataValue::String("allow")),
                    ("score", MetadataValue::Number(0.5)),
                    ("cached", MetadataValue::Bool(true)),
                ] {
                    note("set", yes_no(stream.set_metadata(ns, key, value)).to_string());
                }
                let dynamic = MetadataSource::Dynamic;
                note("get", stream.metadata_str(dynamic, ns, "decision").unwrap_or("none").to_string());
                note(
                    "number",
                    stream.metadata_number(dynamic, ns, "score").map_or("none".into(), |n| n.to_string()),
                );
                note(
                    "bool",
                    stream.metadata_bool(dynamic, ns, "cached").map_or("none".into(), |b| b.to_string()),
                );
                note(
                    "wrong-kind",
                    stream.metadata_number(dynamic, ns, "decision").map_or("none".into(), |n| n.to_string()),
                );
                note("nan", yes_no(stream.set_metadata(ns, "bad", f64::NAN)).to_string());
                note("state", yes_no(stream.set_filter_state(STREAM_INFO_STATE, b"ok")).to_string());
                note("state-again", yes_no(stream.set_filter_state(STREAM_INFO_STATE, b"again")).to_string());
                let state =
                    stream.filter_state(STREAM_INFO_STATE).map(|v| String::from_utf8_lossy(v).into_owned());
                note("state-get", state.unwrap_or_else(|| "none".into()));
                note("route", yes_no(stream.clear_route_cache()).to_string());
                note("bad-host", yes_no(stream.set_upstream_host("not-an-ip", false)).to_string());
                HeadersStatus::Continue
            }
            // Envoy-only behaviours (rust/stock-host/tests/stream_info.rs): routing needs routes.
            "refresh-cluster" | "refresh-cluster-skipped" => {
                // Where a route picks its cluster from a header (rust/stock-host/tests/
                // stream_info.rs: `x-conf-weight` chooses among weighted clusters, 0 the
                // upstream): point it at the upstream, then refresh (or, skipped, not: the
                // cluster picked with the route stands).
                stream.request_headers().set("x-conf-cluster", "upstream");
                stream.request_headers().set("x-conf-weight", "0");
                if self.case == "refresh-cluster" {
                    let refreshed = stream.refresh_route_cluster();
                    stream.request_headers().set("x-conf-refreshed", refreshed.to_string());
                }
                HeadersStatus::Continue
            }
            "reroute" | "reroute-no-clear" => {
                let tier =
                    stream.metadata_str(MetadataSource::Route, STREAM_INFO_NS, "tier").unwrap_or("none");
                self.results.push(format!("tier={tier}"));
                let path = stream.request_headers().get_str(":path").unwrap_or("/").to_string();
                if let Some(rest) = path.strip_prefix("/v1/") {
                    stream.request_headers().set(":path", format!("/v2/{rest}"));
                    if self.case == "reroute" {
                        let cleared = stream.clear_route_cache();
                        self.results.push(format!("cleared={}", yes_no(cleared)));
                    }
                }
                HeadersStatus::Continue
            }
            "override-host" => {
                let host = stream.request_headers().get_str("x-conf-host").unwrap_or_default().to_string();
                let strict = stream.request_headers().get_str("x-conf-strict") == Some("true");
                let set = stream.set_upstream_host(&host, strict);
                self.results.push(format!("override={}", yes_no(set)));
                HeadersStatus::Continue
            }
            "callout-stream-reset" => {
                // Reset at once: no news of it may reach on_callout_event, and it takes no more.
                let id = Self::open_stream(stream, CALLOUT_CLUSTER, false).unwrap_or(0);
                let results = [
                    ("started", id != 0),
                    ("reset", stream.callout_stream_reset(id)),
                    ("send", stream.callout_stream_send(id, b"late", true)),
                    ("reset-again", stream.callout_stream_reset(id)),
                ];
                self.results.extend(results.iter().map(|(call, ok)| format!("{call}={}", yes_no(*ok))));
                HeadersStatus::Continue
            }
            "route-config" | "route-config-none" => {
                let route =
                    stream.route_config::<ConformanceRoute>().map_or("none", |r| r.0.as_str()).to_string();
                stream.request_headers().set("x-conf-route", route);
                HeadersStatus::Continue
            }
            "continue-after-end" | "schedule-after-end" => {
                self.handle = Some(stream.handle());
                HeadersStatus::Continue
            }
            _ => HeadersStatus::Continue,
        }
    }

    fn on_request_body(&mut self, stream: &mut Stream, end_of_stream: bool) -> BodyStatus {
        self.maybe_panic("request_body");
        if let Some(status) = answer::request_body(&self.case, stream, end_of_stream) {
            return status;
        }
        trailers::body(&self.case, stream, end_of_stream, false);
        match self.case.as_str() {
            "headers-late" => {
                // The request headers went on: a change now is refused.
                stream.request_headers().set("x-conf-late", "request-body");
                BodyStatus::Continue
            }
            _ if self.holds_request() => {
                if let Some(id) = self.callout_stream {
                    // Each chunk goes on to the cluster as it arrives.
                    let chunk = stream.body(BodyKind::RequestReceived).to_vec();
                    stream.callout_stream_send(id, &chunk, end_of_stream);
                }
                if end_of_stream {
                    match self.case.as_str() {
                        "callout" => drop(Self::call_out(stream, CALLOUT_CLUSTER)),
                        "callout-host" => drop(Self::call_out_as(stream, CALLOUT_CLUSTER, "host")),
                        "callout-unhealthy" => drop(Self::call_out(stream, UNHEALTHY_CLUSTER)),
                        "callout-stream-unhealthy" => {
                            Self::open_stream(stream, UNHEALTHY_CLUSTER, true);
                        }
                        "callout-no-cluster" => drop(Self::call_out(stream, "no-such-cluster")),
                        "callout-two" => {
                            Self::call_out(stream, CALLOUT_CLUSTER);
                            Self::call_out(stream, CALLOUT_CLUSTER);
                        }
                        _ if self.case.starts_with("scheduled-")
                            || self.panic_in.as_deref() == Some("scheduled") =>
                        {
                            Self::schedule_later(stream, REQUEST_DONE)
                        }
                        _ => {}
                    }
                }
                BodyStatus::StopIterationAndBuffer
            }
            "body-in-place" => {
                for chunk in stream.request_body().chunks_mut() {
                    chunk.make_ascii_uppercase();
                }
                BodyStatus::Continue
            }
            "req-edit-held" | "req-edit-forwarded" | "req-edit-declared" if end_of_stream => {
                let results = edit_whole_body(stream, BodyKind::RequestBuffered, BodyKind::RequestReceived);
                self.results.extend(results);
                BodyStatus::Continue
            }
            "req-edit-held" | "req-edit-forwarded" | "req-edit-declared" => {
                BodyStatus::StopIterationAndBuffer
            }
            "reply-request-body" if end_of_stream => {
                stream.send_local_reply(
                    413,
                    &[("x-conf-reply", "body")],
                    b"too big\n",
                    "conformance_too_big",
                );
                BodyStatus::StopIterationNoBuffer
            }
            "reply-request-body" => BodyStatus::StopIterationAndBuffer,
            "async-request" => {
                if end_of_stream {
                    Self::continue_later(stream, Direction::Request);
                }
                BodyStatus::StopIterationAndBuffer
            }
            _ => BodyStatus::Continue,
        }
    }

    fn on_request_trailers(&mut self, _stream: &mut Stream) -> TrailersStatus {
        self.maybe_panic("request_trailers");
        TrailersStatus::Continue
    }

    fn on_response_headers(&mut self, stream: &mut Stream, _end_of_stream: bool) -> HeadersStatus {
        self.maybe_panic("response_headers");
        local_reply::passing(&self.case, self.local_reply.as_deref(), stream);
        if self.case == "metadata-typed" {
            // Envoy-only (rust/stock-host/tests/stream_info.rs): the route's typed metadata.
            let typed = stream.metadata_typed(MetadataSource::Route, STREAM_INFO_NS).map(|(url, value)| {
                let hex: String = value.iter().map(|b| format!("{b:02x}")).collect();
                format!("type={url},value={hex}")
            });
            self.results.push(typed.unwrap_or_else(|| "typed=none".to_string()));
        }
        if self.case == "host-metadata" {
            // Envoy-only (rust/stock-host/tests/stream_info.rs): the endpoint and its locality
            // carry metadata; the host is chosen by now.
            let rack = stream.metadata_str(MetadataSource::Host, STREAM_INFO_NS, "rack").unwrap_or("none");
            let zone =
                stream.metadata_str(MetadataSource::HostLocality, STREAM_INFO_NS, "zone").unwrap_or("none");
            self.results.push(format!("rack={rack},zone={zone}"));
        }
        if let Some(span) = self.child_span.take() {
            stream.finish_span(span);
        }
        if self.case == "attributes" {
            let code =
                stream.attribute_u64(Attribute::ResponseCode).map_or("absent".into(), |c| c.to_string());
            self.results.push(format!("code={code}"));
        }
        if self.case == "attributes-dump" {
            // Envoy-only (rust/stock-host/tests/stream_info.rs): every attribute, one header each.
            for (name, attribute) in ATTRIBUTE_NAMES {
                let value = stream
                    .attribute_str(attribute)
                    .map(str::to_string)
                    .or_else(|| stream.attribute_u64(attribute).map(|n| n.to_string()))
                    .or_else(|| stream.attribute_bool(attribute).map(|b| b.to_string()))
                    .unwrap_or_else(|| "-".to_string());
                stream.response_headers().set(format!("x-attr-{name}"), value);
            }
        }
        if self.case == "stream-info" {
            // The request went on, and with it the route was picked.
            let late = stream.clear_route_cache();
            self.results.push(format!("late-route={}", yes_no(late)));
        }
        trailers::response_headers(&self.case, stream, &mut self.results);
        if let Some(results) = timing::response_headers(&self.case, stream) {
            self.results.extend(results);
        }
        let mut headers = stream.response_headers();
        if let Some(events) = &self.background {
            headers.set("x-conf-background", format!("[{}]", events.lock().unwrap().join(",")));
        }
        if !self.results.is_empty() {
            headers.set("x-conf-results", self.results.join(","));
        }
        if self.case.starts_with("version") {
            headers.set("x-envoyx-version", version_stamp());
        }
        match self.case.as_str() {
            "headers" => {
                headers.set("x-conf-response", "seen");
                HeadersStatus::Continue
            }
            "resp-edit-held" | "scheduled-response" => HeadersStatus::StopIteration,
            "resp-edit-declared" => {
                stream.will_change_response_body_length();
                HeadersStatus::Continue
            }
            "async-response" => {
                headers.set("x-conf-async", "response");
                HeadersStatus::StopIteration
            }
            "reply-response-headers" => {
                stream.send_local_reply(
                    502,
                    &[("x-conf-reply", "response")],
                    b"replaced\n",
                    "conformance_replaced",
                );
                HeadersStatus::StopIteration
            }
            _ => HeadersStatus::Continue,
        }
    }

    fn on_response_body(&mut self, stream: &mut Stream, end_of_stream: bool) -> BodyStatus {
        self.maybe_panic("response_body");
        trailers::body(&self.case, stream, end_of_stream, true);
        match self.case.as_str() {
            "headers-late" => {
                // Both directions' headers went on: every change is refused.
                let late = [
                    stream.request_headers().set("x-conf-late", "request"),
                    stream.response_headers().set("x-conf-late", "response"),
                    stream.response_headers().add("x-conf-late", "added"),
                    stream.response_headers().remove("content-length") > 0,
                ];
                if late.iter().any(|changed| *changed) {
                    envoyx_sdk::error!("conformance: a late header change was not refused: {late:?}");
                }
                BodyStatus::Continue
            }
            "body-in-place" => {
                for chunk in stream.response_body().chunks_mut() {
                    chunk.make_ascii_lowercase();
                }
                BodyStatus::Continue
            }
            "resp-edit-held" if end_of_stream => {
                let results = edit_whole_body(stream, BodyKind::ResponseBuffered, BodyKind::ResponseReceived);
                // The headers are still held here, so the results can still be told in them.
                stream.response_headers().set("x-conf-results", results.join(","));
                BodyStatus::Continue
            }
            "resp-edit-forwarded" | "resp-edit-declared" if end_of_stream => {
                edit_whole_body(stream, BodyKind::ResponseBuffered, BodyKind::ResponseReceived);
                BodyStatus::Continue
            }
            "resp-edit-held" | "resp-edit-forwarded" | "resp-edit-declared" => {
                BodyStatus::StopIterationAndBuffer
            }
            "scheduled-response" => {
                if end_of_stream {
                    Self::schedule_later(stream, RESPONSE_DONE);
                }
                BodyStatus::StopIterationAndBuffer
            }
            "async-response" => {
                if end_of_stream {
                    Self::continue_later(stream, Direction::Response);
                }
                BodyStatus::StopIterationAndBuffer
            }
            "late-reply" => {
                stream.send_local_reply(500, &[], b"too late", "conformance_late");
                BodyStatus::Continue
            }
            "reset-response" => {
                stream.reset();
                BodyStatus::StopIterationNoBuffer
            }
            _ => BodyStatus::Continue,
        }
    }

    fn on_response_trailers(&mut self, _stream: &mut Stream) -> TrailersStatus {
        self.maybe_panic("response_trailers");
        TrailersStatus::Continue
    }

    fn on_scheduled(&mut self, stream: &mut Stream, event_id: u64) {
        self.maybe_panic("scheduled");
        if answer::scheduled(&self.case, stream, event_id) {
            return;
        }
        match (self.case.as_str(), event_id) {
            ("scheduled-continue", REQUEST_DONE) => {
                stream.request_headers().set("x-conf-scheduled", "request");
                let first = stream.continue_request();
                let second = stream.continue_request();
                let response = stream.continue_response();
                self.results.push(format!(
                    "first={},second={},response={}",
                    yes_no(first),
                    yes_no(second),
                    yes_no(response)
                ));
            }
            ("scheduled-reply", REQUEST_DONE) => {
                stream.send_local_reply(
                    401,
                    &[("x-conf-reply", "scheduled")],
                    b"unauthorized\n",
                    "conformance_unauthorized",
                );
            }
            ("scheduled-body", REQUEST_DONE) => {
                // A length change while the headers are held: EnvoyX sets content-length.
                let appended = stream.buffered_request_body().append(b"+async");
                stream.request_headers().set("x-conf-appended", yes_no(appended));
                stream.continue_request();
            }
            ("scheduled-reset", REQUEST_DONE) => stream.reset(),
            ("scheduled-response", RESPONSE_DONE) => {
                stream.response_headers().set("x-conf-scheduled", "response");
                stream.continue_response();
            }
            (case, id) => {
                envoyx_sdk::log(LogLevel::Error, &format!("conformance: unexpected event {id} in {case}"))
            }
        }
    }

    fn on_callout_done(
        &mut self,
        stream: &mut Stream,
        id: envoyx_sdk::CalloutId,
        result: Result<envoyx_sdk::CalloutResponse<'_>, envoyx_sdk::CalloutError>,
    ) {
        match result {
            Err(error) => {
                let error = error.to_string();
                stream.send_local_reply(
                    503,
                    &[("x-conf-callout-error", &error)],
                    format!("callout failed: {error}\n").as_bytes(),
                    "conformance_callout_failed",
                );
            }
            Ok(response) => {
                let seen = format!(
                    "{} {} {}",
                    response.status().unwrap_or(0),
                    response.header_str("x-verdict").unwrap_or("-"),
                    String::from_utf8_lossy(&response.body())
                );
                stream.request_headers().add("x-conf-callout", seen);
                self.answered.push(id);
                if self.case != "callout-two" || self.answered.len() == 2 {
                    self.answered.sort_unstable();
                    let ids: Vec<String> = self.answered.iter().map(u64::to_string).collect();
                    stream.request_headers().set("x-conf-callout-ids", ids.join(","));
                    stream.continue_request();
                }
            }
        }
    }

    fn on_callout_event(
        &mut self,
        stream: &mut Stream,
        id: envoyx_sdk::CalloutId,
        event: envoyx_sdk::CalloutEvent<'_>,
    ) {
        use envoyx_sdk::CalloutEvent;
        if self.case.starts_with("grpc-") {
            return self.grpc_event(stream, id, event);
        }
        if self.case == "callout-stream-reset" {
            panic!("conformance: news of a streaming callout the module reset");
        }
        let kind = match &event {
            CalloutEvent::Headers { .. } => "headers",
            CalloutEvent::Data { .. } => "data",
            CalloutEvent::Trailers(_) => "trailers",
            CalloutEvent::Complete => "complete",
            CalloutEvent::Failed(_) => "failed",
        };
        // How the proxy splits the body into data events varies; their order does not.
        if self.stream_events.last() != Some(&kind) {
            self.stream_events.push(kind);
        }
        match event {
            CalloutEvent::Headers { headers, .. } => {
                self.stream_head = format!(
                    "{} {}",
                    headers.status().unwrap_or(0),
                    headers.get_str("x-verdict").unwrap_or("-")
                );
            }
            CalloutEvent::Data { body, .. } => self.stream_body.extend(body.chunks().flatten()),
            CalloutEvent::Trailers(_) => {}
            CalloutEvent::Complete => {
                let seen = format!(
                    "{} {} {}",
                    self.stream_head,
                    String::from_utf8_lossy(&self.stream_body),
                    self.stream_events.join(",")
                );
                stream.request_headers().set("x-conf-callout-stream", seen);
                stream.continue_request();
            }
            CalloutEvent::Failed(error) => {
                let error = error.to_string();
                stream.send_local_reply(
                    503,
                    &[("x-conf-callout-error", &error)],
                    format!("callout stream failed: {error}\n").as_bytes(),
                    "conformance_callout_failed",
                );
            }
        }
    }

    fn on_local_reply(
        &mut self,
        _stream: &mut Stream,
        status: u16,
        details: &str,
        reset_imminent: bool,
    ) -> LocalReplyStatus {
        let (noted, answer) = local_reply::heard(&self.case, status, details, reset_imminent);
        self.local_reply = self.local_reply.take().or(noted);
        answer
    }

    fn on_watermark(&mut self, stream: &mut Stream, _direction: Direction, above: bool) {
        answer::watermark(&self.case, stream, above);
    }

    fn on_stream_complete(&mut self, _stream: &mut Stream) {
        self.maybe_panic("stream_complete");
        if let Some(handle) = self.handle.take() {
            // The stream is gone once this hook returns: both continues must be refused.
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(10));
                let request = handle.continue_request();
                let response = handle.continue_response();
                let scheduled = handle.schedule(REQUEST_DONE);
                envoyx_sdk::log(
                    LogLevel::Warn,
                    &format!(
                        "conformance: continue after the stream ended: request {request}, response {response}"
                    ),
                );
                envoyx_sdk::log(
                    LogLevel::Warn,
                    &format!("conformance: schedule after the stream ended: {scheduled}"),
                );
            });
        }
    }
}

impl Drop for ConformanceConfig {
    fn drop(&mut self) {
        if let Some((name, handle, _)) = self.background.take() {
            // The configuration is going: scheduling now must be refused.
            let scheduled = handle.schedule(BACKGROUND_EVENT);
            envoyx_sdk::log(
                LogLevel::Warn,
                &format!("conformance: config `{name}` schedule while dropped: {scheduled}"),
            );
        }
    }
}

envoyx_sdk::export_module!(ConformanceConfig, route = ConformanceRoute);
