//! The C++ test host (test_host.h, test_host.cc), driven from Rust tests through a small bridge,
//! and the modules the tests run.
#![allow(dead_code)]

use cxx::UniquePtr;
use envoyx_core::sync::lock;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

// The loader's C++ and Rust halves, which the C++ test host calls, live in this crate.
use envoyx_loader as _;

#[cxx::bridge(namespace = "envoyx::testhost")]
pub mod ffi {
    struct Header {
        key: String,
        value: String,
    }

    /// A callout the module started, not answered yet.
    struct PendingCall {
        id: u64,
        cluster: String,
        headers: Vec<Header>,
        /// The request body so far (a streaming callout's chunks, in order).
        body: Vec<u8>,
        /// A streaming callout, answered event by event (`callout_stream_event`).
        streaming: bool,
        /// Its request ended (always true when not streaming).
        request_ended: bool,
    }

    /// The local reply the module sent; `sent` is false when there is none.
    struct RecordedReply {
        sent: bool,
        status: u32,
        headers: Vec<Header>,
        body: Vec<u8>,
        details: String,
    }

    unsafe extern "C++" {
        include!("envoyx-loader/tests/host/test_host.h");

        type TestFilter;
        type TestStream;

        fn load_json(json: &str) -> Result<UniquePtr<TestFilter>>;
        fn load_proto(bytes: &[u8]) -> Result<UniquePtr<TestFilter>>;
        fn json_load_error(json: &str) -> String;
        fn proto_load_error(bytes: &[u8]) -> String;
        fn logged(needle: &str) -> bool;
        fn set_runtime_bool(key: &str, value: bool);
        fn set_runtime_number(key: &str, value: f64);
        fn set_secret(name: &str, value: &str);

        fn name(self: &TestFilter) -> String;
        fn module_path(self: &TestFilter) -> String;
        fn stream(self: &TestFilter) -> Result<UniquePtr<TestStream>>;
        fn streams_on_worker_threads(self: &TestFilter, workers: usize, streams_each: usize) -> usize;
        fn null_host_error(self: &TestFilter) -> String;
        fn run_config_scheduled(self: &TestFilter, timeout_ms: u64) -> usize;
        fn pending_config_callouts(self: &TestFilter) -> Vec<PendingCall>;
        fn answer_config_callout(self: &TestFilter, id: u64, status: u32, headers: &[Header], body: &[u8]);
        fn metric(self: &TestFilter, name: &str, label_values: &[String]) -> String;
        fn config_callout_stream_event(
            self: &TestFilter,
            id: u64,
            event: u32,
            status: u32,
            headers: &[Header],
            body: &[u8],
            end_of_stream: bool,
        );

        fn request_headers(
            self: Pin<&mut TestStream>,
            headers: &[Header],
            end_of_stream: bool,
        ) -> Result<u32>;
        fn request_body(self: Pin<&mut TestStream>, slices: &[String], end_of_stream: bool) -> Result<u32>;
        fn request_body_chunked(
            self: Pin<&mut TestStream>,
            data: &[u8],
            slice_len: usize,
            end_of_stream: bool,
        ) -> Result<u32>;
        fn request_trailers(self: Pin<&mut TestStream>, trailers: &[Header]) -> Result<u32>;
        fn response_headers(
            self: Pin<&mut TestStream>,
            headers: &[Header],
            end_of_stream: bool,
        ) -> Result<u32>;
        fn response_body(self: Pin<&mut TestStream>, slices: &[String], end_of_stream: bool) -> Result<u32>;
        fn response_trailers(self: Pin<&mut TestStream>, trailers: &[Header]) -> Result<u32>;
        fn complete(self: Pin<&mut TestStream>);
        fn set_route(self: Pin<&mut TestStream>, json: &str) -> Result<()>;
        fn preset_filter_state(self: Pin<&mut TestStream>, key: &str, value: &[u8], is_string: bool);
        fn envoy_bugs(self: &TestStream) -> u32;
        fn pending_callouts(self: &TestStream) -> Vec<PendingCall>;
        fn answer_callout(self: Pin<&mut TestStream>, id: u64, status: u32, headers: &[Header], body: &[u8]);
        /// One event of a streaming callout's cluster (`event` an `envoyx_callout_event`).
        fn callout_stream_event(
            self: Pin<&mut TestStream>,
            id: u64,
            event: u32,
            status: u32,
            headers: &[Header],
            body: &[u8],
            end_of_stream: bool,
        );
        fn run_scheduled(self: Pin<&mut TestStream>, timeout_ms: u64) -> usize;
        /// The proxy's flow-control news (`direction` an `envoyx_direction`).
        fn watermark(self: Pin<&mut TestStream>, direction: u32, above: bool);
        /// Plays a local reply made after this filter; false when the module had it reset.
        fn proxy_local_reply(self: Pin<&mut TestStream>, status: u32, details: &str, body: &str) -> bool;
        fn buffer_limit(self: &TestStream) -> u64;

        fn headers(self: &TestStream, map: u32) -> Vec<Header>;
        fn current_headers(self: &TestStream, map: u32) -> Vec<Header>;
        fn headers_forwarded(self: &TestStream, direction: u32) -> bool;
        fn trailers_forwarded(self: &TestStream, direction: u32) -> bool;
        fn body_forwarded(self: &TestStream, direction: u32) -> Vec<u8>;
        fn body_buffered(self: &TestStream, direction: u32) -> Vec<u8>;
        fn continues(self: &TestStream, direction: u32) -> u32;
        fn local_reply(self: &TestStream) -> RecordedReply;
        fn was_reset(self: &TestStream) -> bool;
        fn reset_refused(self: &TestStream) -> bool;
        /// The module's own response (ABI 1.2 `send_response_*`) was carried out to its end.
        fn module_response_ended(self: &TestStream) -> bool;
        fn body_bytes_copied(self: &TestStream) -> u64;
        fn last_chunk_kept_its_memory(self: &TestStream) -> bool;
    }
}

pub use envoyx_abi::{ENVOYX_DIRECTION_REQUEST as REQUEST, ENVOYX_DIRECTION_RESPONSE as RESPONSE};

/// A filter loaded through the C++ host.
pub struct Filter(UniquePtr<ffi::TestFilter>);

impl Filter {
    /// Loads a module file with a config name and `filter_config`, through the JSON form.
    pub fn load(module: &Path, name: &str, filter_config: &str) -> Result<Self, cxx::Exception> {
        Self::from_json(&config_json(module, name, filter_config))
    }

    pub fn from_json(json: &str) -> Result<Self, cxx::Exception> {
        ffi::load_json(json).map(Self)
    }

    pub fn from_proto(bytes: &[u8]) -> Result<Self, cxx::Exception> {
        ffi::load_proto(bytes).map(Self)
    }

    pub fn name(&self) -> String {
        self.0.name()
    }

    pub fn module_path(&self) -> String {
        self.0.module_path()
    }

    pub fn stream(&self) -> Stream {
        Stream(self.0.stream().expect("the C++ host starts a stream"))
    }

    /// Streams on `workers` C++ threads at once; returns how many passed their headers.
    pub fn streams_on_worker_threads(&self, workers: usize, streams_each: usize) -> usize {
        self.0.streams_on_worker_threads(workers, streams_each)
    }

    pub fn null_host_error(&self) -> String {
        self.0.null_host_error()
    }

    /// Runs the configuration events the module scheduled, waiting up to `timeout_ms` for the
    /// first; returns how many ran.
    pub fn run_config_scheduled(&self, timeout_ms: u64) -> usize {
        self.0.run_config_scheduled(timeout_ms)
    }

    /// The configuration's callouts not answered yet.
    pub fn pending_config_callouts(&self) -> Vec<ffi::PendingCall> {
        self.0.pending_config_callouts()
    }

    /// Answers the configuration's callout `id` (on this, the "main", thread).
    pub fn answer_config_callout(&self, id: u64, status: u32, headers: &[(&str, &str)], body: &[u8]) {
        self.0.answer_config_callout(id, status, &header_list(headers), body)
    }

    /// "<kind> <value>" the module recorded on its metric `name` (full name: `<filter>.<metric>`)
    /// for these label values ("" when nothing): "counter 3", "gauge 1", "histogram 9,42".
    pub fn metric(&self, name: &str, label_values: &[&str]) -> String {
        let labels: Vec<String> = label_values.iter().map(|v| v.to_string()).collect();
        self.0.metric(name, &labels)
    }

    /// Plays one event of the configuration's streaming callout `id` (on this, the "main",
    /// thread; `event` an `envoyx_callout_event`).
    pub fn config_callout_stream_event(
        &self,
        id: u64,
        event: u32,
        status: u32,
        headers: &[(&str, &str)],
        body: &[u8],
        end_of_stream: bool,
    ) {
        self.0.config_callout_stream_event(id, event, status, &header_list(headers), body, end_of_stream)
    }
}

/// The JSON `DynamicModuleConfig` for a module file.
pub fn config_json(module: &Path, name: &str, filter_config: &str) -> String {
    format!(
        r#"{{"name": {}, "file_path": {}, "filter_config": {}}}"#,
        json_string(name),
        json_string(&module.to_string_lossy()),
        json_string(filter_config)
    )
}

fn json_string(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

/// One stream on the C++ host. Event methods panic when the C++ side throws (a test drove the
/// stream out of order); `core_*` methods return the error instead.
pub struct Stream(UniquePtr<ffi::TestStream>);

fn header_list(pairs: &[(&str, &str)]) -> Vec<ffi::Header> {
    pairs.iter().map(|(k, v)| ffi::Header { key: k.to_string(), value: v.to_string() }).collect()
}

fn slice_list<S: AsRef<str>>(slices: &[S]) -> Vec<String> {
    slices.iter().map(|s| s.as_ref().to_string()).collect()
}

fn ok<T>(result: Result<T, cxx::Exception>) -> T {
    result.unwrap_or_else(|e| panic!("the C++ host threw: {}", e.what()))
}

/// A header map as (key, value) pairs, with lookups.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Headers(pub Vec<(String, String)>);

impl Headers {
    fn from_ffi(headers: Vec<ffi::Header>) -> Self {
        Self(headers.into_iter().map(|h| (h.key, h.value)).collect())
    }
    pub fn values(&self, key: &str) -> Vec<&str> {
        self.0.iter().filter(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v.as_str()).collect()
    }
    pub fn get(&self, key: &str) -> Option<&str> {
        self.values(key).first().copied()
    }
}

impl Stream {
    pub fn request_headers(&mut self, headers: &[(&str, &str)], end_of_stream: bool) -> u32 {
        ok(self.core_request_headers(headers, end_of_stream))
    }
    pub fn core_request_headers(
        &mut self,
        headers: &[(&str, &str)],
        end_of_stream: bool,
    ) -> Result<u32, cxx::Exception> {
        self.0.pin_mut().request_headers(&header_list(headers), end_of_stream)
    }
    pub fn request_body<S: AsRef<str>>(&mut self, slices: &[S], end_of_stream: bool) -> u32 {
        ok(self.core_request_body(slices, end_of_stream))
    }
    pub fn core_request_body<S: AsRef<str>>(
        &mut self,
        slices: &[S],
        end_of_stream: bool,
    ) -> Result<u32, cxx::Exception> {
        self.0.pin_mut().request_body(&slice_list(slices), end_of_stream)
    }
    /// One request body chunk: `data` cut into slices of `slice_len` bytes.
    pub fn request_body_chunked(&mut self, data: &[u8], slice_len: usize, end_of_stream: bool) -> u32 {
        ok(self.0.pin_mut().request_body_chunked(data, slice_len, end_of_stream))
    }
    pub fn request_trailers(&mut self, trailers: &[(&str, &str)]) -> u32 {
        ok(self.core_request_trailers(trailers))
    }
    pub fn core_request_trailers(&mut self, trailers: &[(&str, &str)]) -> Result<u32, cxx::Exception> {
        self.0.pin_mut().request_trailers(&header_list(trailers))
    }
    pub fn response_headers(&mut self, headers: &[(&str, &str)], end_of_stream: bool) -> u32 {
        ok(self.0.pin_mut().response_headers(&header_list(headers), end_of_stream))
    }
    pub fn response_body<S: AsRef<str>>(&mut self, slices: &[S], end_of_stream: bool) -> u32 {
        ok(self.0.pin_mut().response_body(&slice_list(slices), end_of_stream))
    }
    pub fn response_trailers(&mut self, trailers: &[(&str, &str)]) -> u32 {
        ok(self.0.pin_mut().response_trailers(&header_list(trailers)))
    }
    pub fn complete(&mut self) {
        self.0.pin_mut().complete()
    }
    /// The callouts the module started that are not answered yet.
    pub fn pending_callouts(&self) -> Vec<ffi::PendingCall> {
        self.0.pending_callouts()
    }
    /// Answers callout `id` with `status` (an `envoyx_callout_status`), and for a response its
    /// headers (`:status` among them) and body; carries out what the module then asks for.
    pub fn answer_callout(&mut self, id: u64, status: u32, headers: &[(&str, &str)], body: &[u8]) {
        self.0.pin_mut().answer_callout(id, status, &header_list(headers), body)
    }
    /// Plays one event of streaming callout `id`'s cluster (`event` an `envoyx_callout_event`,
    /// `status` an `envoyx_callout_status`); carries out what the module then asks for.
    pub fn callout_stream_event(
        &mut self,
        id: u64,
        event: u32,
        status: u32,
        headers: &[(&str, &str)],
        body: &[u8],
        end_of_stream: bool,
    ) {
        self.0.pin_mut().callout_stream_event(id, event, status, &header_list(headers), body, end_of_stream)
    }
    /// Gives the stream filter state as an earlier filter would have set it: a string, or (None)
    /// an object of the proxy's that is not a string.
    pub fn preset_filter_state(&mut self, key: &str, value: Option<&[u8]>) {
        self.0.pin_mut().preset_filter_state(key, value.unwrap_or_default(), value.is_some())
    }
    /// Gives the stream an object of the proxy's that is not a string, whose serialized form
    /// is `serialized` (ABI 1.2 `filter_state_get_serialized`).
    pub fn preset_filter_state_object(&mut self, key: &str, serialized: &[u8]) {
        self.0.pin_mut().preset_filter_state(key, serialized, false)
    }
    /// Sets over an existing filter-state key so far (Envoy's own bug; the core keeps it at 0).
    pub fn envoy_bugs(&self) -> u32 {
        self.0.envoy_bugs()
    }
    /// Puts the stream on a route carrying the per-route config `json`.
    pub fn set_route(&mut self, json: &str) -> Result<(), cxx::Exception> {
        self.0.pin_mut().set_route(json)
    }
    /// Runs the continues posted so far on this thread; returns how many.
    pub fn run_scheduled(&mut self) -> usize {
        self.0.pin_mut().run_scheduled(0)
    }
    /// Waits up to `timeout_ms` for a continue from another thread and runs it (and any others
    /// pending); false on timeout.
    pub fn wait_scheduled(&mut self, timeout_ms: u64) -> bool {
        self.0.pin_mut().run_scheduled(timeout_ms) > 0
    }

    /// The request headers upstream got: as they were when they went on past the filter, or as
    /// they are now while the filter holds them.
    pub fn upstream_request_headers(&self) -> Headers {
        Headers::from_ffi(self.0.headers(envoyx_abi::ENVOYX_REQUEST_HEADERS))
    }
    /// The response headers the client got (as [`Stream::upstream_request_headers`]).
    pub fn client_response_headers(&self) -> Headers {
        Headers::from_ffi(self.0.headers(envoyx_abi::ENVOYX_RESPONSE_HEADERS))
    }
    /// The request headers as the host's map holds them now, with changes made after they went
    /// on (which upstream never sees).
    pub fn current_request_headers(&self) -> Headers {
        Headers::from_ffi(self.0.current_headers(envoyx_abi::ENVOYX_REQUEST_HEADERS))
    }
    pub fn upstream_request_trailers(&self) -> Headers {
        Headers::from_ffi(self.0.headers(envoyx_abi::ENVOYX_REQUEST_TRAILERS))
    }
    /// The response trailers as the host holds them (what the client got once they went on).
    pub fn client_response_trailers(&self) -> Headers {
        Headers::from_ffi(self.0.headers(envoyx_abi::ENVOYX_RESPONSE_TRAILERS))
    }
    pub fn module_response_ended(&self) -> bool {
        self.0.module_response_ended()
    }
    /// Plays the proxy's flow-control news; the module hears of a change through
    /// `run_scheduled`.
    pub fn watermark(&mut self, direction: u32, above: bool) {
        self.0.pin_mut().watermark(direction, above)
    }
    pub fn buffer_limit(&self) -> u64 {
        self.0.buffer_limit()
    }
    /// Plays a local reply made after this filter; false when the module had it reset.
    pub fn proxy_local_reply(&mut self, status: u32, details: &str, body: &str) -> bool {
        self.0.pin_mut().proxy_local_reply(status, details, body)
    }
    pub fn headers_forwarded(&self, direction: u32) -> bool {
        self.0.headers_forwarded(direction)
    }
    pub fn trailers_forwarded(&self, direction: u32) -> bool {
        self.0.trailers_forwarded(direction)
    }
    pub fn upstream_request_body(&self) -> Vec<u8> {
        self.0.body_forwarded(REQUEST)
    }
    pub fn client_response_body(&self) -> Vec<u8> {
        self.0.body_forwarded(RESPONSE)
    }
    pub fn buffered_body(&self, direction: u32) -> Vec<u8> {
        self.0.body_buffered(direction)
    }
    pub fn continues(&self, direction: u32) -> u32 {
        self.0.continues(direction)
    }
    pub fn local_reply(&self) -> Option<LocalReply> {
        let reply = self.0.local_reply();
        reply.sent.then(|| LocalReply {
            status: reply.status,
            headers: Headers::from_ffi(reply.headers),
            body: reply.body,
            details: reply.details,
        })
    }
    pub fn was_reset(&self) -> bool {
        self.0.was_reset()
    }
    /// The reset was ENVOYX_RESET_REFUSED.
    pub fn reset_refused(&self) -> bool {
        self.0.reset_refused()
    }
    pub fn body_bytes_copied(&self) -> u64 {
        self.0.body_bytes_copied()
    }
    pub fn last_chunk_kept_its_memory(&self) -> bool {
        self.0.last_chunk_kept_its_memory()
    }
}

#[derive(Debug)]
pub struct LocalReply {
    pub status: u32,
    pub headers: Headers,
    pub body: Vec<u8>,
    pub details: String,
}

/// The message of the `rust::Error` the C++ host caught loading this JSON config ("" if none).
pub fn json_load_error(json: &str) -> String {
    ffi::json_load_error(json)
}

/// The same for a protobuf config.
pub fn proto_load_error(bytes: &[u8]) -> String {
    ffi::proto_load_error(bytes)
}

/// Whether any log message so far (through the loader's C++ LogSink) contains `needle`.
pub fn logged(needle: &str) -> bool {
    ffi::logged(needle)
}

/// Sets runtime `key` to a boolean for every module of the process (the C++ host's runtime).
pub fn set_runtime_bool(key: &str, value: bool) {
    ffi::set_runtime_bool(key, value)
}

/// Sets the process's generic secret `name` (the C++ host's; a static one before a configuration
/// declares it).
pub fn set_secret(name: &str, value: &str) {
    ffi::set_secret(name, value)
}

/// Sets runtime `key` to a number, as [`set_runtime_bool`].
pub fn set_runtime_number(key: &str, value: f64) {
    ffi::set_runtime_number(key, value)
}

// ---- Modules ------------------------------------------------------------------------------------

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").canonicalize().unwrap()
}

/// Compiles the C test module (rust/test-modules/c/module.c) with `defines` into a file named
/// after `variant`, as rust/testhost's tests do; returns its path.
pub fn c_module(variant: &str, defines: &[&str]) -> PathBuf {
    compile_c(&format!("c_module_{variant}"), defines)
}

/// The C test module as the probe (`-DPROBE`): it calls the host functions the example modules
/// leave out and reports what it saw in request headers.
pub fn probe_module() -> PathBuf {
    compile_c("probe", &["-DPROBE"])
}

/// Compiles rust/test-modules/c/module.c with `defines` into `lib<name>.so`, once per test
/// process.
fn compile_c(name: &str, defines: &[&str]) -> PathBuf {
    static BUILT: Mutex<BTreeMap<String, PathBuf>> = Mutex::new(BTreeMap::new());
    // Tests run in parallel: compiling a module twice would rewrite a file another test loads.
    let mut built = lock(&BUILT);
    if let Some(path) = built.get(name) {
        return path.clone();
    }
    let out_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("loader-c-modules");
    std::fs::create_dir_all(&out_dir).unwrap();
    let out = out_dir.join(format!("lib{name}.so"));
    let status = Command::new("cc")
        .args(["-shared", "-fPIC", "-std=c11", "-Wall", "-Wextra", "-Werror", "-O1", "-I"])
        .arg(repo_root().join("x"))
        .args(defines)
        .arg(repo_root().join("rust/test-modules/c/module.c"))
        .arg("-o")
        .arg(&out)
        .status()
        .expect("run cc");
    assert!(status.success(), "cc failed for {name}");
    built.insert(name.to_string(), out.clone());
    out
}

/// Builds a cdylib package of the workspace (an example or a test module); returns its `.so`.
pub fn package(name: &str) -> PathBuf {
    envoyx_testhost::build_package(name)
}
