//! The conformance suite (`rust/conformance`) on the Rust test host: with the conformance module
//! built as a `.so`, and linked in (`TestHost::in_process`), so both loading paths hold to the
//! same cases.

use std::collections::HashMap;
use std::time::Duration;

use envoyx_conformance::{Host, HostKind, Observed, Request, Side, SimulatedStream, simulate};
use envoyx_testhost::{Direction, TestHost, TestStream, build_package, logged};

struct RustHost {
    kind: HostKind,
    /// One loaded filter per filter config.
    filters: HashMap<String, TestHost>,
}

impl RustHost {
    fn new(kind: HostKind) -> Self {
        Self { kind, filters: HashMap::new() }
    }

    fn load(&self, filter_config: &str) -> Result<TestHost, envoyx_core::Error> {
        match self.kind {
            HostKind::InProcess => TestHost::in_process(
                envoyx_sdk::module_exports::<envoyx_test_module_conformance::ConformanceConfig>(),
                "conformance",
                filter_config,
            ),
            _ => {
                TestHost::load(build_package("envoyx-test-module-conformance"), "conformance", filter_config)
            }
        }
    }
}

impl Host for RustHost {
    fn kind(&self) -> HostKind {
        self.kind
    }

    fn exchange(&mut self, filter_config: &str, case: &str, request: &Request) -> Result<Observed, String> {
        if !self.filters.contains_key(filter_config) {
            let host = self.load(filter_config).map_err(|e| e.to_string())?;
            self.filters.insert(filter_config.to_string(), host);
        }
        let mut stream = Stream(self.filters[filter_config].stream());
        Ok(simulate(&mut stream, case, request))
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
}

struct Stream(TestStream);

fn direction(side: Side) -> Direction {
    match side {
        Side::Request => Direction::Request,
        Side::Response => Direction::Response,
    }
}

impl SimulatedStream for Stream {
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
        self.0.wait_scheduled(timeout)
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
}

#[test]
fn conformance_with_the_module_as_a_shared_object() {
    envoyx_conformance::run(&mut RustHost::new(HostKind::RustTestHost), "Rust test host");
}

#[test]
fn conformance_with_the_module_in_process() {
    envoyx_conformance::run(&mut RustHost::new(HostKind::InProcess), "Rust test host, in process");
}
