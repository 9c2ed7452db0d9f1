//! The conformance suite (`rust/conformance`) on the C++ test host, through the loader: the same
//! cases as every other host, driven the same way (`envoyx_conformance::simulate`).

mod host;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use envoyx_conformance::{
    CalloutReply, Case, Host, HostKind, Observed, PendingCallout, Side, SimulatedStream, StreamReply,
    simulate,
};
use host::{Filter, REQUEST, RESPONSE, config_json, logged, package};

struct CxxHost {
    /// The module file.
    module: PathBuf,
    /// The module is the Go conformance module (`go/conformance`).
    go: bool,
    /// One loaded filter per filter config.
    filters: HashMap<String, Filter>,
}

impl CxxHost {
    fn load(&self, filter_config: &str) -> Result<Filter, cxx::Exception> {
        host::set_runtime_bool(envoyx_conformance::RUNTIME_FLAG.0, envoyx_conformance::RUNTIME_FLAG.1);
        host::set_runtime_number(envoyx_conformance::RUNTIME_NUMBER.0, envoyx_conformance::RUNTIME_NUMBER.1);
        // The configuration declares the conformance secret (case `secret`), set first as the
        // proxy's static secret.
        let (secret, value) = envoyx_conformance::SECRET;
        host::set_secret(secret, value);
        let config = host::config_json(&self.module, "conformance", filter_config);
        let config = format!(r#"{}, "secrets": [{{"name": "{secret}"}}]}}"#, config.trim_end_matches('}'));
        Filter::from_json(&config)
    }
}

impl Host for CxxHost {
    fn kind(&self) -> HostKind {
        HostKind::CxxTestHost
    }

    fn exchange(&mut self, case: &Case) -> Result<Observed, String> {
        let filter_config = case.filter_config;
        if !self.filters.contains_key(filter_config) {
            let filter = self.load(filter_config).map_err(|e| e.what().to_string())?;
            self.filters.insert(filter_config.to_string(), filter);
        }
        let mut stream = Stream(self.filters[filter_config].stream());
        if !case.route_config.is_empty() {
            let route = config_json(&self.module, "conformance-route", case.route_config);
            stream.0.set_route(&route).map_err(|e| e.what().to_string())?;
        }
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
            Err(error) => Ok(error.what().to_string()),
        }
    }

    fn logged(&mut self, needle: &str) -> bool {
        logged(needle)
    }

    fn go_module(&self) -> bool {
        self.go
    }
}

struct Stream(host::Stream);

fn direction(side: Side) -> u32 {
    match side {
        Side::Request => REQUEST,
        Side::Response => RESPONSE,
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
        // Stretched under valgrind, as on the Rust test host.
        let timeout = envoyx_testhost::patience(timeout);
        self.0.wait_scheduled(u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX))
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
        self.0.reset_refused()
    }
    fn forwarded_headers(&self, side: Side) -> Option<Vec<(String, String)>> {
        if !self.0.headers_forwarded(direction(side)) {
            return None;
        }
        Some(match side {
            Side::Request => self.0.upstream_request_headers().0,
            Side::Response => self.0.client_response_headers().0,
        })
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
        match side {
            _ if !self.0.trailers_forwarded(direction(side)) => Vec::new(),
            Side::Request => self.0.upstream_request_trailers().0,
            Side::Response => self.0.client_response_trailers().0,
        }
    }
    fn watermark(&mut self, above: bool) {
        self.0.watermark(RESPONSE, above)
    }
    fn proxy_local_reply(&mut self, status: u16, details: &str, body: &str) {
        self.0.proxy_local_reply(u32::from(status), details, body);
    }
    fn module_response_ended(&self) -> bool {
        self.0.module_response_ended()
    }
    fn pending_callouts(&self) -> Vec<PendingCallout> {
        self.0
            .pending_callouts()
            .into_iter()
            .map(|c| PendingCallout {
                id: c.id,
                cluster: c.cluster,
                headers: c.headers.into_iter().map(|h| (h.key, h.value)).collect(),
                body: c.body,
                streaming: c.streaming,
                request_ended: c.request_ended,
            })
            .collect()
    }
    fn callout_stream_event(&mut self, id: u64, event: StreamReply) {
        use envoyx_abi::*;
        let (kind, status, headers, body, end) = match event {
            StreamReply::Headers { headers, end_of_stream } => {
                (ENVOYX_CALLOUT_EVENT_HEADERS, ENVOYX_CALLOUT_RESPONSE, headers, Vec::new(), end_of_stream)
            }
            StreamReply::Data { body, end_of_stream } => {
                (ENVOYX_CALLOUT_EVENT_DATA, ENVOYX_CALLOUT_RESPONSE, Vec::new(), body, end_of_stream)
            }
            StreamReply::Trailers(trailers) => {
                (ENVOYX_CALLOUT_EVENT_TRAILERS, ENVOYX_CALLOUT_RESPONSE, trailers, Vec::new(), true)
            }
            StreamReply::Complete => {
                (ENVOYX_CALLOUT_EVENT_COMPLETE, ENVOYX_CALLOUT_RESPONSE, Vec::new(), Vec::new(), true)
            }
            StreamReply::NoCluster => {
                (ENVOYX_CALLOUT_EVENT_FAILED, ENVOYX_CALLOUT_NO_CLUSTER, Vec::new(), Vec::new(), true)
            }
        };
        let pairs: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        self.0.callout_stream_event(id, kind, status, &pairs, &body, end);
    }
    fn answer_callout(&mut self, id: u64, reply: CalloutReply) {
        match reply {
            CalloutReply::NoCluster => {
                self.0.answer_callout(id, envoyx_abi::ENVOYX_CALLOUT_NO_CLUSTER, &[], b"")
            }
            CalloutReply::Reset => self.0.answer_callout(id, envoyx_abi::ENVOYX_CALLOUT_RESET, &[], b""),
            CalloutReply::Response { headers, body } => {
                let pairs: Vec<(&str, &str)> =
                    headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                self.0.answer_callout(id, envoyx_abi::ENVOYX_CALLOUT_RESPONSE, &pairs, &body)
            }
        }
    }
}

#[test]
fn conformance_on_the_cxx_test_host() {
    let module = package("envoyx-test-module-conformance");
    envoyx_conformance::run(&mut CxxHost { module, go: false, filters: HashMap::new() }, "C++ test host");
}

/// The Go conformance module (`go/conformance`): the cases marked `go`.
#[test]
fn conformance_of_the_go_module_on_the_cxx_test_host() {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("../go/conformance");
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("go-conformance-cxx");
    let module =
        envoyx_build::build_go_module(&source, "go_conformance", &out).unwrap_or_else(|e| panic!("{e}"));
    envoyx_conformance::run(
        &mut CxxHost { module, go: true, filters: HashMap::new() },
        "C++ test host, Go module",
    );
}
