//! The conformance suite (`rust/conformance`) on the Rust test host: with the conformance module
//! built as a `.so`, and linked in (`TestHost::in_process`), so both loading paths hold to the
//! same cases; with the conformance module as the ABI 1.0 and 1.1 releases built it (their
//! sources and SDKs from git history), which must pass every case of their minor on this newer
//! host; and with the Go conformance module (`go/conformance`), the cases it implements.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use envoyx_build::build_released;
use envoyx_conformance::{
    CalloutReply, Case, Host, HostKind, Observed, PendingCallout, Side, SimulatedStream, StreamReply,
    simulate,
};
use envoyx_core::ModuleRegistry;
use envoyx_testhost::{
    CalloutAnswer, CalloutStatus, CalloutStreamEvent, Direction, RouteConfig, TestHost, TestStream,
    build_package, logged,
};

struct RustHost {
    kind: HostKind,
    /// The module file (None: linked in).
    module: Option<PathBuf>,
    /// The module is the Go conformance module.
    go: bool,
    /// One loaded filter per filter config.
    filters: HashMap<String, TestHost>,
    /// One per-route config per (filter config, per-route config).
    routes: HashMap<(String, String), Arc<RouteConfig>>,
}

impl RustHost {
    fn new(kind: HostKind) -> Self {
        let module = (kind != HostKind::InProcess).then(|| build_package("envoyx-test-module-conformance"));
        Self { kind, module, go: false, filters: HashMap::new(), routes: HashMap::new() }
    }

    fn load(&self, filter_config: &str) -> Result<TestHost, envoyx_core::Error> {
        let (flag, number) = (envoyx_conformance::RUNTIME_FLAG, envoyx_conformance::RUNTIME_NUMBER);
        envoyx_testhost::set_runtime(flag.0, Some(envoyx_testhost::RuntimeValue::Bool(flag.1)));
        envoyx_testhost::set_runtime(number.0, Some(envoyx_testhost::RuntimeValue::Number(number.1)));
        let host = self.load_module(filter_config)?;
        // As Envoy's router answers a cluster without healthy hosts: inside the callout's start.
        host.answer_inline(
            envoyx_conformance::UNHEALTHY_CLUSTER,
            503,
            envoyx_conformance::NO_HEALTHY_UPSTREAM.as_bytes(),
        );
        Ok(host)
    }

    /// The configuration declares the conformance secret (case `secret`), set first as the
    /// proxy's static secret.
    fn load_module(&self, filter_config: &str) -> Result<TestHost, envoyx_core::Error> {
        let (secret, value) = envoyx_conformance::SECRET;
        envoyx_testhost::set_secret(secret, Some(value.as_bytes()));
        let config = envoyx_core::ModuleConfig {
            filter_config: filter_config.to_string(),
            secrets: vec![envoyx_core::config::SecretRef {
                name: secret.to_string(),
                sds_config: String::new(),
            }],
            ..envoyx_core::ModuleConfig::in_process("conformance")
        };
        match &self.module {
            None => TestHost::in_process_with_config(
                envoyx_sdk::module_exports_with_routes::<
                    envoyx_test_module_conformance::ConformanceConfig,
                    envoyx_test_module_conformance::ConformanceRoute,
                >(),
                &config,
            ),
            Some(module) => TestHost::from_config(&envoyx_core::ModuleConfig {
                file_path: module.to_string_lossy().into_owned(),
                ..config
            }),
        }
    }
}

impl Host for RustHost {
    fn kind(&self) -> HostKind {
        self.kind
    }

    fn exchange(&mut self, case: &Case) -> Result<Observed, String> {
        let filter_config = case.filter_config;
        if !self.filters.contains_key(filter_config) {
            let host = self.load(filter_config).map_err(|e| e.to_string())?;
            self.filters.insert(filter_config.to_string(), host);
        }
        let host = &self.filters[filter_config];
        let route = match case.route_config {
            "" => None,
            route_config => {
                let key = (filter_config.to_string(), route_config.to_string());
                if !self.routes.contains_key(&key) {
                    let route = host.route_config("conformance", route_config).map_err(|e| e.to_string())?;
                    self.routes.insert(key.clone(), route);
                }
                Some(self.routes[&key].clone())
            }
        };
        let mut stream = Stream(host.stream_on_route(route));
        let observed = simulate(&mut stream, case.name, &case.request);
        // What Envoy would count in server.envoy_bug_failures: a set over existing filter state.
        match stream.0.envoy_bugs() {
            0 => Ok(observed),
            bugs => Err(format!("the core set filter state over an existing key {bugs} time(s)")),
        }
    }

    fn load_error(&mut self, filter_config: &str) -> Result<String, String> {
        match self.load(filter_config) {
            Ok(_) => Err("the filter config was accepted".to_string()),
            Err(error) => Ok(error.to_string()),
        }
    }

    fn logged(&mut self, needle: &str) -> bool {
        logged(needle)
    }

    fn go_module(&self) -> bool {
        self.go
    }

    fn module_abi_minor(&self) -> u32 {
        match &self.module {
            Some(module) => {
                ModuleRegistry::global().load(module, false).map_or(u32::MAX, |m| m.abi_version().minor)
            }
            None => u32::MAX,
        }
    }
}

struct Stream(TestStream);

fn direction(side: Side) -> Direction {
    match side {
        Side::Request => Direction::Request,
        Side::Response => Direction::Response,
    }
}

impl SimulatedStream for Stream {
    fn preset_filter_state(&mut self, key: &str, value: Option<&[u8]>) {
        self.0.preset_filter_state(key, value)
    }
    fn preset_filter_state_object(&mut self, key: &str, serialized: &[u8]) {
        self.0.preset_filter_state_object(key, serialized)
    }
    fn headers(&mut self, side: Side, headers: &[(&str, &str)], end_of_stream: bool) {
        match side {
            Side::Request => self.0.request_headers(headers, end_of_stream),
            Side::Response => self.0.response_headers(headers, end_of_stream),
        };
    }
    fn body(&mut self, side: Side, slices: &[&str], end_of_stream: bool) {
        match side {
            Side::Request => self.0.request_body(slices, end_of_stream),
            Side::Response => self.0.response_body(slices, end_of_stream),
        };
    }
    fn trailers(&mut self, side: Side, trailers: &[(&str, &str)]) {
        match side {
            Side::Request => self.0.request_trailers(trailers),
            Side::Response => self.0.response_trailers(trailers),
        };
    }
    fn wait_scheduled(&mut self, timeout: Duration) -> bool {
        // Stretched under valgrind (`ci/memcheck.sh` sets ENVOYX_TEST_SLOWDOWN), where the
        // module's thread can take longer than the case's wait.
        self.0.wait_scheduled(envoyx_testhost::patience(timeout))
    }
    fn complete(&mut self) {
        self.0.complete()
    }
    fn ended(&self) -> bool {
        self.0.was_reset() || self.0.local_reply().is_some()
    }
    fn was_reset(&self) -> bool {
        self.0.was_reset()
    }
    fn reset_refused(&self) -> bool {
        self.0.reset_reason() == Some(envoyx_testhost::ResetReason::Refused)
    }
    fn forwarded_headers(&self, side: Side) -> Option<Vec<(String, String)>> {
        match side {
            Side::Request => {
                self.0.request_headers_forwarded().then(|| self.0.upstream_request_headers().pairs())
            }
            Side::Response => {
                self.0.response_headers_forwarded().then(|| self.0.client_response_headers().pairs())
            }
        }
    }
    fn forwarded_body(&self, side: Side) -> Vec<u8> {
        match side {
            Side::Request => self.0.upstream_request_body(),
            Side::Response => self.0.client_response_body(),
        }
    }
    fn buffered_len(&self, side: Side) -> usize {
        self.0.buffered_body(direction(side)).len()
    }
    fn trailers_forwarded(&self, side: Side) -> bool {
        self.0.trailers_forwarded(direction(side))
    }
    fn forwarded_trailers(&self, side: Side) -> Vec<(String, String)> {
        let trailers = match side {
            _ if !self.0.trailers_forwarded(direction(side)) => None,
            Side::Request => self.0.upstream_request_trailers(),
            Side::Response => self.0.client_response_trailers(),
        };
        trailers.map(|t| t.pairs()).unwrap_or_default()
    }
    fn watermark(&mut self, above: bool) {
        self.0.watermark(envoyx_testhost::Direction::Response, above)
    }
    fn proxy_local_reply(&mut self, status: u16, details: &str, body: &str) {
        self.0.proxy_local_reply(u32::from(status), details, body.as_bytes());
    }
    fn module_response_ended(&self) -> bool {
        self.0.module_response().last().is_some_and(|part| part.ends())
    }
    fn pending_callouts(&self) -> Vec<PendingCallout> {
        self.0
            .pending_callouts()
            .into_iter()
            .map(|c| PendingCallout {
                id: c.id,
                cluster: c.cluster,
                headers: c.headers,
                body: c.body,
                streaming: c.streaming,
                request_ended: c.request_ended,
            })
            .collect()
    }
    fn callout_stream_event(&mut self, id: u64, event: StreamReply) {
        let event = match event {
            StreamReply::Headers { headers, end_of_stream } => {
                let status = headers.iter().find(|(k, _)| k == ":status").and_then(|(_, v)| v.parse().ok());
                let headers = headers.into_iter().filter(|(k, _)| !k.starts_with(':')).collect();
                CalloutStreamEvent::Headers { status: status.unwrap_or(200), headers, end_of_stream }
            }
            StreamReply::Data { body, end_of_stream } => {
                CalloutStreamEvent::Data { chunks: vec![body], end_of_stream }
            }
            StreamReply::Trailers(trailers) => CalloutStreamEvent::Trailers(trailers),
            StreamReply::Complete => CalloutStreamEvent::Complete,
            StreamReply::NoCluster => CalloutStreamEvent::Failed(CalloutStatus::NoCluster),
        };
        self.0.callout_stream_event(id, event);
    }
    fn answer_callout(&mut self, id: u64, reply: CalloutReply) {
        let answer = match reply {
            CalloutReply::NoCluster => CalloutAnswer::Failed(CalloutStatus::NoCluster),
            CalloutReply::Reset => CalloutAnswer::Failed(CalloutStatus::Reset),
            CalloutReply::Response { headers, body } => {
                let status = headers.iter().find(|(k, _)| k == ":status").and_then(|(_, v)| v.parse().ok());
                let headers = headers.into_iter().filter(|(k, _)| !k.starts_with(':')).collect();
                CalloutAnswer::Response { status: status.unwrap_or(200), headers, body: vec![body] }
            }
        };
        self.0.answer_callout(id, answer);
    }
}

#[test]
fn conformance_with_the_module_as_a_shared_object() {
    envoyx_conformance::run(&mut RustHost::new(HostKind::RustTestHost), "Rust test host");
}

/// The conformance module as ABI 1.`minor` released it (its sources and SDK from git history),
/// which must pass every case of its minor on this newer host.
fn released_module_passes(minor: u32) {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let scratch = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let module = build_released(&repo, minor, "envoyx-test-module-conformance", scratch)
        .unwrap_or_else(|e| panic!("{e}"));
    let loaded = ModuleRegistry::global().load(&module, false).unwrap();
    assert_eq!(
        (loaded.abi_version().major, loaded.abi_version().minor),
        (1, minor),
        "a real 1.{minor} module"
    );
    if minor == 0 {
        assert!(loaded.optional_exports().is_empty(), "a 1.0 module has no 1.1 exports");
    }
    let mut host = RustHost {
        kind: HostKind::RustTestHost,
        module: Some(module),
        go: false,
        filters: HashMap::new(),
        routes: HashMap::new(),
    };
    envoyx_conformance::run(&mut host, &format!("Rust test host, module built for ABI 1.{minor}"));
}

#[test]
fn conformance_of_the_module_built_with_the_abi_1_0_sdk() {
    released_module_passes(0);
}

#[test]
fn conformance_of_the_module_built_with_the_abi_1_1_sdk() {
    released_module_passes(1);
}

/// The Go conformance module (`go/conformance`, built with the Go toolchain EnvoyX installs): the
/// cases marked `go`, so both SDKs are held to the same rules (a panic in every hook).
#[test]
fn conformance_of_the_go_module() {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../go/conformance");
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("go-conformance");
    let module =
        envoyx_build::build_go_module(&source, "go_conformance", &out).unwrap_or_else(|e| panic!("{e}"));
    let mut host = RustHost {
        kind: HostKind::RustTestHost,
        module: Some(module),
        go: true,
        filters: HashMap::new(),
        routes: HashMap::new(),
    };
    envoyx_conformance::run(&mut host, "Rust test host, Go module");
}

#[test]
fn conformance_with_the_module_in_process() {
    envoyx_conformance::run(&mut RustHost::new(HostKind::InProcess), "Rust test host, in process");
}

/// `reset_stream_with_reason` (ABI 1.2) beyond what the suite's client sees: the test host
/// records the reason, and the core writes the module's details to the log at debug level,
/// naming the module and the filter.
#[test]
fn a_reset_with_a_reason_is_recorded_and_its_details_logged() {
    let module = build_package("envoyx-test-module-conformance");
    let host = TestHost::load(&module, "shedder", "").unwrap();
    let mut stream = host.stream();
    stream.request_headers(&[(":method", "GET"), (":path", "/"), ("x-case", "reset-refused")], true);
    assert_eq!(stream.reset_reason(), Some(envoyx_testhost::ResetReason::Refused));
    assert!(logged("(filter `shedder`) reset the stream (Refused): envoyx_conformance_shed"));
    let mut stream = host.stream();
    stream.request_headers(&[(":method", "GET"), (":path", "/"), ("x-case", "reset-request")], true);
    assert_eq!(stream.reset_reason(), Some(envoyx_testhost::ResetReason::Local), "reset_stream's reason");
}
