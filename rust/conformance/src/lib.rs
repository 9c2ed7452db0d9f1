//! The conformance suite: one list of cases ([`CASES`]) that every EnvoyX host runs — the Rust
//! test host (a `.so` and in process), the C++ test host through `loader/`, and the stock host
//! inside official Envoy 1.38.3, 1.39.3 and 1.40.0 over HTTP/1.1 and HTTP/2 (or the Envoy that
//! `ENVOYX_E2E_ENVOY` names). A case is written once, here; a host says how to send a request
//! and what it saw ([`Host`]), and [`run`] checks every case against it. A host that cannot
//! support a case is named in the case ([`Case::unsupported`]) with the reason.
//!
//! Each case drives the module `rust/test-modules/conformance` (behaviour by the request header
//! `x-case`, or by filter config). The upstream behind every host answers as
//! [`echo_response`] says: 200 with the request body.

mod cases;
mod simulate;
mod stamp;

pub use cases::CASES;
pub use simulate::{CalloutReply, PendingCallout, Side, SimulatedStream, StreamReply, simulate};
pub use stamp::{install, install_stamped, stamp_version};

use std::fmt::Write as _;
use std::time::{Duration, Instant};

/// Which host runs the suite; cases name the hosts they cannot run on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HostKind {
    /// `envoyx-testhost` with the module as a `.so`.
    RustTestHost,
    /// `envoyx-testhost` with the module linked in (`TestHost::in_process`).
    InProcess,
    /// The C++ test host through the loader.
    CxxTestHost,
    /// The stock host inside a real Envoy; `http2`: the client speaks HTTP/2.
    Envoy { http2: bool },
}

/// The request a case sends: `POST /` with `x-case: <case name>`, these extra headers, this body
/// (chunks of slices: test hosts deliver them as given; over the network they are the bytes in
/// order) and trailers. Without trailers the request carries `content-length`; with them it is
/// chunked.
#[derive(Clone, Copy, Debug)]
pub struct Request {
    /// The path: `/`, or [`NO_UPSTREAM`] for a route whose cluster has no host (the proxy's
    /// router answers 503 itself).
    pub path: &'static str,
    pub headers: &'static [(&'static str, &'static str)],
    pub body: &'static [&'static [&'static str]],
    pub trailers: &'static [(&'static str, &'static str)],
    /// Once the request is in, the client stops reading and then reads again: the test hosts
    /// play the proxy's watermark news for the response twice above, then twice below
    /// ([`SimulatedStream::watermark`]).
    pub slow_client: bool,
}

/// The request most cases send: `abcdefghi` in two chunks of several slices.
pub const PLAIN: Request = Request {
    path: "/",
    headers: &[],
    body: &[&["ab", "cd"], &["efg", "h", "i"]],
    trailers: &[],
    slow_client: false,
};

/// The path of a route whose cluster has no healthy host: the proxy's router answers it with a
/// local reply, 503 [`NO_HEALTHY_UPSTREAM`] with details [`NO_HEALTHY_UPSTREAM_DETAILS`] (Envoy's
/// cluster `empty`; the test hosts play it, `SimulatedStream::proxy_local_reply`).
pub const NO_UPSTREAM: &str = "/no-upstream";
/// Envoy's response-code details of that reply.
pub const NO_HEALTHY_UPSTREAM_DETAILS: &str = "no_healthy_upstream";

impl Request {
    /// The body's bytes.
    pub fn body_bytes(&self) -> Vec<u8> {
        self.body.iter().flat_map(|chunk| chunk.iter().flat_map(|slice| slice.bytes())).collect()
    }

    /// The request's regular headers for case `case`: `x-case`, the extra headers and (without
    /// trailers) `content-length`. Hosts add the method, path and authority their way.
    pub fn headers_for(&self, case: &str) -> Vec<(String, String)> {
        let mut headers = vec![("x-case".to_string(), case.to_string())];
        headers.extend(self.headers.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        if self.trailers.is_empty() {
            headers.push(("content-length".to_string(), self.body_bytes().len().to_string()));
        }
        headers
    }
}

/// Header pairs, in order.
pub type Headers = Vec<(String, String)>;

/// A request or response as a host saw it pass: headers (lower-case names, in order), body,
/// trailers (recorded for the client's response only).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Seen {
    pub headers: Headers,
    pub body: Vec<u8>,
    pub trailers: Headers,
}

fn values<'a>(pairs: &'a Headers, name: &str) -> Vec<&'a str> {
    pairs.iter().filter(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str()).collect()
}

/// What the client got.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClientSaw {
    /// A complete response.
    Response { status: u16, seen: Seen },
    /// No complete response: the stream was reset. `how` says how it showed; `refused` whether
    /// the client was told the stream was refused (HTTP/2 REFUSED_STREAM), where the protocol
    /// can say (None over HTTP/1.1, which only closes the connection).
    Reset { how: String, refused: Option<bool> },
}

/// What one exchange showed: the requests the upstream received complete (none, one, or — if
/// framing broke — more), and what the client got.
#[derive(Clone, Debug)]
pub struct Observed {
    pub upstream: Vec<Seen>,
    pub client: ClientSaw,
}

/// Filter state every host gives each stream before the conformance filter runs, as earlier
/// filters (or the proxy) would have set it: a string under [`PRESET_STRING`] (its value
/// [`PRESET_STRING_VALUE`]) and, under [`PRESET_OBJECT`], an object of the proxy's that is not a
/// string (it exists, but reads as absent). In Envoy a `set_filter_state` filter in front sets
/// both (the object is Envoy's upstream-SNI object); the test hosts preset them.
pub const PRESET_STRING: &str = "envoyx.conformance.preset";
pub const PRESET_STRING_VALUE: &str = "set-by-the-proxy";
pub const PRESET_OBJECT: &str = "envoy.network.upstream_server_name";
/// The value Envoy's object under [`PRESET_OBJECT`] is made from.
pub const PRESET_OBJECT_VALUE: &str = "preset.example";

/// The runtime every test host gives its process (ABI 1.2 `runtime_get`, case `runtime`): a
/// boolean flag and a number, where Envoy's would come from its bootstrap layers or RTDS.
pub const RUNTIME_FLAG: (&str, bool) = ("envoyx.conformance.flag", true);
pub const RUNTIME_NUMBER: (&str, f64) = ("envoyx.conformance.percent", 12.5);

/// The generic secret every test host's conformance configuration declares (its `secrets`; ABI
/// 1.2 `secret_get`, case `secret`), and its value, set as the proxy's static secret first.
pub const SECRET: (&str, &str) = ("envoyx.conformance.secret", "s3cret-value");

/// The `text-*` cases' names: the key of every good call (metadata namespace and key `value`,
/// filter-state key, span tag key), the clean value set under it, and the key (metadata key in
/// that namespace, filter-state key) of a value with a line break that must be refused. Envoy's
/// access log in the suite prints all of them, and must stay one line per request.
pub const TEXT_KEY: &str = "envoyx.conformance.text";
pub const TEXT_VALUE: &str = "clean";
pub const FORGED_KEY: &str = "envoyx.conformance.forged";

/// The cluster the conformance module sends its callouts to: an echo upstream like the one
/// behind the filter ([`echo_response`]); Envoy gets a cluster of that name, the test hosts
/// answer for it ([`simulate`]). Callouts to any other cluster find none.
pub const CALLOUT_CLUSTER: &str = "callout";

/// A cluster without healthy hosts, which the proxy answers inside the call that starts the
/// callout (Envoy's router: 503 [`NO_HEALTHY_UPSTREAM`] before `send` returns), while the
/// stream is busy in the module's call: the `callout-unhealthy` case holds every host to
/// delivering that answer after the call. Envoy gets a cluster of that name with no endpoints;
/// the test hosts answer it inline (`TestHost::answer_inline`, the C++ test host's
/// `kUnhealthyCluster`).
pub const UNHEALTHY_CLUSTER: &str = "callout-unhealthy";
/// The body of Envoy's answer for [`UNHEALTHY_CLUSTER`].
pub const NO_HEALTHY_UPSTREAM: &str = "no healthy upstream";

/// The upstream's answer to `request` on every host: 200, the request body, `content-length`
/// (unless trailers are asked for); each request header `x-upstream-respond-<h>: v` becomes
/// the response header `h: v`, and `x-upstream-respond-trailer-<h>: v` the response trailer
/// `h: v` (the harness's echo upstream behind Envoy does the same). Returns headers (with
/// `:status`), body and trailers.
pub fn echo_response(request: &Seen) -> (Headers, Vec<u8>, Headers) {
    let mut headers = vec![(":status".to_string(), "200".to_string())];
    let mut trailers = Vec::new();
    for (name, value) in &request.headers {
        if let Some(name) = name.strip_prefix("x-upstream-respond-trailer-") {
            trailers.push((name.to_string(), value.clone()));
        } else if let Some(name) = name.strip_prefix("x-upstream-respond-") {
            headers.push((name.to_string(), value.clone()));
        }
    }
    if trailers.is_empty() {
        headers.push(("content-length".to_string(), request.body.len().to_string()));
    }
    (headers, request.body.clone(), trailers)
}

/// What a header must be.
#[derive(Clone, Copy, Debug)]
pub enum Want {
    /// Present with exactly this one value.
    Is(&'static str),
    /// Present with these values, in order.
    Values(&'static [&'static str]),
    /// Not present.
    Absent,
    /// This value if present (a protocol may drop the header, e.g. `content-length` of an
    /// HTTP/2 response), never another.
    IfPresent(&'static str),
}

/// What a request or response must look like: the named headers, then the body exactly.
#[derive(Clone, Copy, Debug)]
pub struct Message {
    pub headers: &'static [(&'static str, Want)],
    pub body: &'static [u8],
}

/// What the client must get.
#[derive(Clone, Copy, Debug)]
pub enum Client {
    Response {
        status: u16,
        message: Message,
    },
    /// A response as [`Client::Response`] whose trailers hold these too.
    WithTrailers {
        status: u16,
        message: Message,
        trailers: &'static [(&'static str, Want)],
    },
    /// A reset that says nothing more (Envoy's LocalReset; HTTP/2 INTERNAL_ERROR).
    Reset,
    /// A reset telling the client the stream was refused, so it may retry it (ABI 1.2
    /// ENVOYX_RESET_REFUSED; HTTP/2 REFUSED_STREAM) — on the test hosts, which record the reason.
    /// In Envoy 1.38-1.40 a plain reset: its connection manager drops a filter's reset reason.
    Refused,
}

/// What a case must show.
#[derive(Clone, Copy, Debug)]
pub enum Expect {
    /// A request goes through the filter: the upstream gets `upstream` (or nothing), the client
    /// `client`, and each of `logs` shows in the host's log.
    Exchange { upstream: Option<Message>, client: Client, logs: &'static [&'static str] },
    /// The filter config is refused when loaded, with an error holding each of these.
    Rejected(&'static [&'static str]),
}

/// One case of the suite.
#[derive(Clone, Copy, Debug)]
pub struct Case {
    /// Sent as `x-case`; the module's behaviour.
    pub name: &'static str,
    /// The rule the case holds a host to.
    pub about: &'static str,
    pub filter_config: &'static str,
    pub request: Request,
    pub expect: Expect,
    /// Hosts that cannot run the case, and why.
    pub unsupported: &'static [(HostKind, &'static str)],
    /// The ABI minor (1.N) whose capabilities the case needs: a module built for an earlier
    /// minor (the compatibility tests run one) is not asked to pass it.
    pub since_minor: u32,
    /// The per-route configuration (its `filter_config`) on the route the request takes; empty
    /// for none. Hosts attach it their way (Envoy: a route `/route/<it>` with
    /// `typed_per_filter_config`; test hosts: the stream's route).
    pub route_config: &'static str,
    /// What a module built before ABI 1.2 logs instead of the expectation's `logs` (its SDK
    /// ended the stream and logged the panic itself; since 1.2 the core does, `hook_failed`).
    /// Empty: the same `logs`.
    pub older_logs: &'static [&'static str],
    /// The Go conformance module (`go/conformance`) implements this case too, so it runs with
    /// that module on every host as well.
    pub go: bool,
}

impl Case {
    const fn new(name: &'static str, about: &'static str, expect: Expect) -> Self {
        Case {
            name,
            about,
            filter_config: "",
            request: PLAIN,
            expect,
            unsupported: &[],
            since_minor: 0,
            route_config: "",
            older_logs: &[],
            go: false,
        }
    }

    const fn older_logs(self, older_logs: &'static [&'static str]) -> Self {
        Case { older_logs, ..self }
    }

    const fn unsupported(self, unsupported: &'static [(HostKind, &'static str)]) -> Self {
        Case { unsupported, ..self }
    }

    const fn go(self) -> Self {
        Case { go: true, ..self }
    }

    const fn route(self, route_config: &'static str) -> Self {
        Case { route_config, ..self }
    }

    const fn since(self, minor: u32) -> Self {
        Case { since_minor: minor, ..self }
    }

    const fn config(self, filter_config: &'static str) -> Self {
        Case { filter_config, ..self }
    }

    const fn request(self, request: Request) -> Self {
        Case { request, ..self }
    }
}

/// A host the suite runs on.
pub trait Host {
    /// Which host this is (cases name the hosts they cannot run on).
    fn kind(&self) -> HostKind;

    /// Sends the case's request (its name as `x-case`) through the filter loaded with the case's
    /// filter config, on a route carrying the case's per-route config if any, and reports what
    /// the upstream and the client saw. An error means the host could not run the exchange.
    fn exchange(&mut self, case: &Case) -> Result<Observed, String>;

    /// Loads the filter with `filter_config` expecting a refusal: `Ok(error text)` if refused,
    /// `Err` if it loaded (or the host failed otherwise).
    fn load_error(&mut self, filter_config: &str) -> Result<String, String>;

    /// Whether the host's log holds `needle` so far.
    fn logged(&mut self, needle: &str) -> bool;

    /// The ABI minor the module under test was built for: cases that need a later one are left
    /// out. The conformance module of this tree is built for the current minor.
    fn module_abi_minor(&self) -> u32 {
        u32::MAX
    }

    /// Whether the module under test is the Go conformance module (`go/conformance`), which
    /// implements only the cases marked [`Case::go`].
    fn go_module(&self) -> bool {
        false
    }

    /// How many times each exchange runs on the same filter: twice, so a filter is seen to keep
    /// working after a panic or a refusal, and (in Envoy) the second request goes over the
    /// upstream connection the first used, where framing errors show.
    fn repeats(&self) -> usize {
        2
    }
}

/// Runs every case of [`CASES`] on `host` (only those whose name contains
/// `ENVOYX_CONFORMANCE_CASE`, when it is set) and panics listing every case that failed. Prints
/// one line per case: `ok`, `unsupported: reason`, or the failure.
pub fn run(host: &mut impl Host, host_name: &str) {
    let only = std::env::var("ENVOYX_CONFORMANCE_CASE").unwrap_or_default();
    let mut failures = Vec::new();
    for case in CASES.iter().filter(|case| case.name.contains(only.as_str())) {
        let label = format!("{host_name} / {} ({})", case.name, case.filter_config);
        if let Some((_, reason)) = case.unsupported.iter().find(|(kind, _)| *kind == host.kind()) {
            println!("{label}: unsupported: {reason}");
            continue;
        }
        if host.go_module() && !case.go {
            continue;
        }
        if case.since_minor > host.module_abi_minor() {
            println!(
                "{label}: not asked: needs ABI 1.{}, the module is 1.{}",
                case.since_minor,
                host.module_abi_minor()
            );
            continue;
        }
        match check(host, case) {
            Ok(()) => println!("{label}: ok"),
            Err(why) => {
                println!("{label}: FAILED: {why}");
                failures.push(format!("{label}: {}\n    {why}", case.about));
            }
        }
    }
    assert!(failures.is_empty(), "{} conformance case(s) failed:\n{}", failures.len(), failures.join("\n"));
}

fn check(host: &mut impl Host, case: &Case) -> Result<(), String> {
    match case.expect {
        Expect::Rejected(needles) => {
            let error = host.load_error(case.filter_config)?;
            match needles.iter().find(|needle| !error.contains(*needle)) {
                Some(missing) => Err(format!("the refusal does not say {missing:?}: {error}")),
                None => Ok(()),
            }
        }
        Expect::Exchange { upstream, client, logs } => {
            let logs = if host.module_abi_minor() < 2 && !case.older_logs.is_empty() {
                case.older_logs
            } else {
                logs
            };
            for round in 1..=host.repeats() {
                let observed = host.exchange(case)?;
                compare(upstream, client, &observed, host.kind())
                    .map_err(|why| format!("exchange {round}: {why}"))?;
            }
            // Logs may reach the log file (or a module's thread may log) a moment later.
            let deadline = Instant::now() + Duration::from_secs(5);
            for needle in logs {
                while !host.logged(needle) {
                    if Instant::now() > deadline {
                        return Err(format!("the log does not hold {needle:?}"));
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
            }
            Ok(())
        }
    }
}

fn compare(
    upstream: Option<Message>,
    client: Client,
    observed: &Observed,
    kind: HostKind,
) -> Result<(), String> {
    match (upstream, observed.upstream.as_slice()) {
        (None, []) => {}
        (None, got) => {
            return Err(format!("the upstream got {} request(s), expected none: {got:?}", got.len()));
        }
        (Some(want), [got]) => match_message("upstream request", &want, got)?,
        (Some(_), got) => {
            return Err(format!("the upstream got {} requests, expected one: {got:?}", got.len()));
        }
    }
    match (client, &observed.client) {
        (Client::Reset, ClientSaw::Reset { refused: Some(true), how }) => {
            Err(format!("the client was told the stream was refused ({how}), expected a plain reset"))
        }
        // Envoy 1.38-1.40's connection manager drops the reason a filter resets with
        // (`ActiveStream::resetStream(Http::StreamResetReason, absl::string_view)` ignores both),
        // so its client sees a plain reset; this holds Envoy to that, so a version that starts
        // telling the client is noticed (and the contract's note updated).
        (Client::Refused, ClientSaw::Reset { refused: Some(true), how })
            if matches!(kind, HostKind::Envoy { .. }) =>
        {
            Err(format!("Envoy told the client the stream was refused ({how}); x/abi.h says it does not"))
        }
        (Client::Refused, ClientSaw::Reset { refused: Some(false), how })
            if !matches!(kind, HostKind::Envoy { .. }) =>
        {
            Err(format!("the client saw a reset that did not say refused ({how}), expected a refused stream"))
        }
        (Client::Reset | Client::Refused, ClientSaw::Reset { .. }) => Ok(()),
        (Client::Reset | Client::Refused, ClientSaw::Response { status, seen }) => Err(format!(
            "the client got {status} {:?}, expected a reset",
            String::from_utf8_lossy(&seen.body)
        )),
        (
            Client::Response { status, .. } | Client::WithTrailers { status, .. },
            ClientSaw::Reset { how, .. },
        ) => Err(format!("the client got no response ({how}), expected {status}")),
        (Client::Response { status, message }, ClientSaw::Response { status: got, seen }) => {
            match_response(status, &message, *got, seen)
        }
        (Client::WithTrailers { status, message, trailers }, ClientSaw::Response { status: got, seen }) => {
            match_response(status, &message, *got, seen)?;
            let errors = match_pairs("client response trailer", trailers, &seen.trailers);
            if errors.is_empty() { Ok(()) } else { Err(errors) }
        }
    }
}

fn match_response(status: u16, message: &Message, got: u16, seen: &Seen) -> Result<(), String> {
    if status != got {
        return Err(format!(
            "the client got status {got}, expected {status} (body {:?})",
            String::from_utf8_lossy(&seen.body)
        ));
    }
    match_message("client response", message, seen)
}

/// What of `want` the pairs `got` miss, one clause per header (empty when none).
fn match_pairs(what: &str, want: &[(&str, Want)], got: &Headers) -> String {
    let mut errors = String::new();
    for (name, wanted) in want {
        let values = values(got, name);
        let ok = match wanted {
            Want::Is(value) => values == [*value],
            Want::Values(expected) => values == *expected,
            Want::Absent => values.is_empty(),
            Want::IfPresent(value) => values.is_empty() || values == [*value],
        };
        if !ok {
            let _ = write!(errors, "{what} {name}: {values:?}, expected {wanted:?}; ");
        }
    }
    errors
}

fn match_message(what: &str, want: &Message, got: &Seen) -> Result<(), String> {
    let mut errors = match_pairs(&format!("{what} header"), want.headers, &got.headers);
    if got.body != want.body {
        let _ = write!(
            errors,
            "{what} body {:?}, expected {:?}",
            String::from_utf8_lossy(&got.body),
            String::from_utf8_lossy(want.body)
        );
    }
    if errors.is_empty() { Ok(()) } else { Err(errors) }
}
