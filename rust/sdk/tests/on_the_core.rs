//! The SDK on the real core: a filter written here runs in process through `envoyx-core`
//! (`TestHost::in_process`), exactly as a module loaded from its file does — ABI check, program
//! init, the stream rules and validation — and each test checks what the upstream, the client
//! and the log saw. Each test has its own filter config name and its own message texts: tests
//! run in parallel in one process, and the log recorder and the record of hooks are global.

use std::io::Read;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use envoyx_sdk::abi::{ModuleExports, envoyx_slice};
use envoyx_sdk::abi::{envoyx_abi_version, envoyx_bytes, envoyx_error, envoyx_header, envoyx_host_api};
use envoyx_sdk::{
    BodyStatus, Filter, FilterConfig, HeadersStatus, Stream, StreamHandle, TrailersStatus, dispatch,
};
use envoyx_testhost::{BodyStatus as Body, Direction, HeadersStatus as Status, TestHost, logged, logs};

// ---- The module under test -------------------------------------------------------------------

/// Every hook each filter config's filters ran, as (config name, hook), in order.
static SEEN: Mutex<Vec<(String, String)>> = Mutex::new(Vec::new());

fn note(name: &str, hook: impl Into<String>) {
    SEEN.lock().unwrap().push((name.to_owned(), hook.into()));
}

/// The hooks the filters of config `name` ran, in order ("drop": the filter was destroyed).
fn seen(name: &str) -> Vec<String> {
    SEEN.lock().unwrap().iter().filter(|(n, _)| n == name).map(|(_, hook)| hook.clone()).collect()
}

/// How many log lines so far contain `needle`.
fn log_lines(needle: &str) -> usize {
    logs().iter().filter(|(_, message)| message.contains(needle)).count()
}

/// Behaviour is picked by the filter config bytes.
struct TestConfig {
    name: String,
    mode: String,
}

struct TestFilter {
    name: String,
    mode: String,
    echo: Vec<Vec<u8>>,
    /// A handle kept across hooks (`panic-response`).
    handle: Option<StreamHandle>,
}

impl FilterConfig for TestConfig {
    type Filter = TestFilter;

    fn new(name: &str, config: &[u8]) -> Result<Self, String> {
        match config {
            b"reject" => Err(format!("{name} rejects")),
            b"panic" => panic!("config boom"),
            _ => Ok(TestConfig { name: name.to_owned(), mode: String::from_utf8(config.to_vec()).unwrap() }),
        }
    }

    fn new_filter(&self) -> TestFilter {
        note(&self.name, "new_filter");
        if self.mode == "panic-new-filter" {
            panic!("new_filter boom");
        }
        TestFilter { name: self.name.clone(), mode: self.mode.clone(), echo: Vec::new(), handle: None }
    }
}

impl Drop for TestFilter {
    fn drop(&mut self) {
        note(&self.name, "drop");
    }
}

impl Filter for TestFilter {
    fn on_request_headers(&mut self, stream: &mut Stream, _end_of_stream: bool) -> HeadersStatus {
        note(&self.name, "on_request_headers");
        match self.mode.as_str() {
            "panic-request" => {
                // Queued before the panic: after it, the event must not reach the filter.
                assert!(stream.handle().schedule(1));
                panic!("request boom")
            }
            "panic-response" => {
                self.handle = Some(stream.handle());
                HeadersStatus::Continue
            }
            "panic-scheduled" => {
                let handle = stream.handle();
                std::thread::spawn(move || assert!(handle.schedule(7) && handle.schedule(8))).join().unwrap();
                HeadersStatus::StopIteration
            }
            "handle" => {
                let handle = stream.continue_handle();
                let clone = handle.clone();
                std::thread::spawn(move || assert!(clone.continue_request())).join().unwrap();
                assert!(handle.continue_response());
                HeadersStatus::StopIteration
            }
            "schedule" => {
                let handle = stream.handle();
                std::thread::spawn(move || assert!(handle.schedule(41))).join().unwrap();
                HeadersStatus::StopIteration
            }
            "headers" => {
                let mut headers = stream.request_headers();
                assert_eq!(headers.get("X-Multi"), Some(&b"1"[..]));
                assert_eq!(headers.get_str("missing"), None);
                assert!(headers.contains_key("x-multi"));
                let all: Vec<Vec<u8>> = headers.get_all("x-many").into_iter().map(<[u8]>::to_vec).collect();
                self.echo = all;
                assert_eq!(headers.len(), headers.iter().count());
                assert!(headers.set("x-set", "yes"));
                assert!(headers.add("x-multi", "2"));
                assert_eq!(headers.remove("x-remove-me"), 1);
                HeadersStatus::Continue
            }
            // Held until the body goes on, so that the body hooks may still change them.
            "body" | "many-slices" => HeadersStatus::StopIteration,
            "pass" => {
                assert!(stream.request_headers().set("x-passed", "yes"));
                HeadersStatus::Continue
            }
            _ => HeadersStatus::Continue,
        }
    }

    fn on_request_body(&mut self, stream: &mut Stream, end_of_stream: bool) -> BodyStatus {
        note(&self.name, format!("on_request_body {end_of_stream}"));
        if self.mode == "many-slices" {
            if !end_of_stream {
                return BodyStatus::StopIterationAndBuffer;
            }
            let mut body = stream.request_body();
            let count = body.chunks().len();
            let mut seen = 0;
            for chunk in body.chunks_mut() {
                chunk.make_ascii_uppercase();
                seen += 1;
            }
            let lengths: Vec<String> = body.chunks().map(|chunk| chunk.len().to_string()).collect();
            let mut whole = String::new();
            stream.whole_request_body().read_to_string(&mut whole).unwrap();
            let mut headers = stream.request_headers();
            assert!(headers.set("x-chunks", format!("{count} {seen}")));
            assert!(headers.set("x-lengths", lengths.join(",")));
            assert!(headers.set("x-whole", whole));
            return BodyStatus::Continue;
        }
        if self.mode != "body" {
            return BodyStatus::Continue;
        }
        for chunk in stream.request_body().chunks_mut() {
            chunk.make_ascii_uppercase();
        }
        if !end_of_stream {
            return BodyStatus::StopIterationAndBuffer;
        }
        let mut text = String::new();
        stream.whole_request_body().read_to_string(&mut text).unwrap();
        assert!(stream.request_headers().set("x-whole-body", text));
        let mut body = stream.request_body();
        assert!(body.replace(0..1, b"<"));
        assert!(body.append(b">"));
        assert!(!body.replace(5..100, b""));
        BodyStatus::Continue
    }

    fn on_request_trailers(&mut self, _stream: &mut Stream) -> TrailersStatus {
        note(&self.name, "on_request_trailers");
        TrailersStatus::Continue
    }

    fn on_scheduled(&mut self, stream: &mut Stream, event_id: u64) {
        note(&self.name, format!("on_scheduled {event_id}"));
        match self.mode.as_str() {
            "panic-scheduled" => panic!("scheduled boom"),
            _ => {
                // The whole stream API: read and change the held headers, then resume.
                let method = stream.request_headers().get_str(":method").unwrap_or("-").to_owned();
                assert!(stream.request_headers().set("x-event", format!("{event_id} {method}")));
                assert!(stream.continue_request());
            }
        }
    }

    fn on_response_headers(&mut self, stream: &mut Stream, _end_of_stream: bool) -> HeadersStatus {
        note(&self.name, "on_response_headers");
        match self.mode.as_str() {
            "panic-response" => {
                // Queued before the panic: after it, the event must not reach the filter.
                assert!(self.handle.as_ref().unwrap().schedule(9));
                panic!("response boom")
            }
            "headers" => {
                let mut headers = stream.response_headers();
                for value in &self.echo {
                    assert!(headers.add("x-echo", value));
                }
                HeadersStatus::Continue
            }
            _ => HeadersStatus::Continue,
        }
    }

    fn on_stream_complete(&mut self, _stream: &mut Stream) {
        note(&self.name, "on_stream_complete");
    }
}

/// A host running `TestConfig` with filter config `mode`, named `name`.
fn host(name: &str, mode: &str) -> TestHost {
    TestHost::in_process(envoyx_sdk::module_exports::<TestConfig>(), name, mode).unwrap()
}

fn strings(values: &[&str]) -> Vec<String> {
    values.iter().map(|v| v.to_string()).collect()
}

// ---- Configuration and program init ----------------------------------------------------------

#[test]
fn config_errors_reach_the_refusal() {
    let refused = TestHost::in_process(envoyx_sdk::module_exports::<TestConfig>(), "cfg-reject", "reject");
    let refused = refused.err().expect("the module rejects the config").to_string();
    assert!(refused.contains("cfg-reject rejects"), "{refused}");

    let refused = TestHost::in_process(envoyx_sdk::module_exports::<TestConfig>(), "cfg-panic", "panic");
    let refused = refused.err().expect("a panic in FilterConfig::new refuses the config").to_string();
    assert!(refused.contains("panicked: config boom"), "{refused}");
    assert!(logged("envoyx module panicked in FilterConfig::new: config boom"));
}

/// `envoyx_on_program_init` as the SDK's, but handing the SDK a copy of the host's table whose
/// `size` stops before `body_length`: a host of an older ABI.
///
/// # Safety
/// As `envoyx_on_program_init` (the core calls it with its table and a lent error handle).
unsafe extern "C" fn init_with_a_short_table(
    table: *const envoyx_host_api,
    error: *mut envoyx_error,
) -> bool {
    // Safety: the core passes its table, which is valid (and whole) during this call.
    let mut short = unsafe { *table };
    short.size = std::mem::offset_of!(envoyx_host_api, body_length) as u32;
    // Kept for the whole run, as a host keeps its table (the SDK must not store it, though).
    let short: &'static envoyx_host_api = Box::leak(Box::new(short));
    // Safety: a table that lives for the whole run, and the core's error handle for this call.
    unsafe { dispatch::on_program_init(short, error) }
}

#[test]
fn program_init_rejects_a_short_table() {
    // Through the core: the SDK's reason reaches the refusal, through the table's `error_set`.
    let exports = ModuleExports {
        on_program_init: init_with_a_short_table,
        ..envoyx_sdk::module_exports::<TestConfig>()
    };
    let refused = TestHost::in_process(exports, "short-table", "pass").err().expect("init refused");
    let refused = refused.to_string();
    assert!(refused.contains("program init failed"), "{refused}");
    assert!(refused.contains("body_length") && refused.contains("stream_handle_release"), "{refused}");
    assert!(!refused.contains("header_remove"), "{refused}");
    assert!(seen("short-table").is_empty(), "no configuration was made: {:?}", seen("short-table"));

    // Directly, once a host has initialised the SDK with the core's (whole) table: a short copy
    // is refused (no error handle: the core refuses `error_set` on NULL, and logs that) ...
    let host = host("short-table-after", "pass");
    let good = envoyx_sdk::host_api().expect("the core's table is installed");
    let mut short = *good;
    short.size = std::mem::offset_of!(envoyx_host_api, body_length) as u32;
    // Safety: `short` outlives the call (and is not stored: it is refused); a NULL error handle
    // is one the core refuses without touching it.
    assert!(!unsafe { dispatch::on_program_init(&short, std::ptr::null_mut()) });
    assert!(logged("EnvoyX module called error_set with an error argument that is not the one"));
    // ... and the SDK goes on with the good one.
    let table = envoyx_sdk::host_api().unwrap();
    assert!(std::ptr::eq(table, good), "the SDK still holds the core's table");
    assert_eq!(table.size as usize, size_of::<envoyx_host_api>());
    assert_eq!(table.version, envoyx_abi_version::CURRENT);
    let mut stream = host.stream();
    assert_eq!(stream.request_headers(&[(":path", "/")], true), Status::Continue);
    assert_eq!(stream.upstream_request_headers().get("x-passed").as_deref(), Some("yes"));
}

// ---- Headers, bodies, handles, scheduled events ----------------------------------------------

#[test]
fn headers_are_read_and_changed() {
    let host = host("headers", "headers");
    let mut stream = host.stream();
    let many: Vec<String> = (0..20).map(|i| i.to_string()).collect();
    let mut request = vec![(":path", "/"), ("x-multi", "1"), ("x-remove-me", "bye")];
    request.extend(many.iter().map(|value| ("x-many", value.as_str())));
    assert_eq!(stream.request_headers(&request, true), Status::Continue);
    let upstream = stream.upstream_request_headers();
    assert_eq!(upstream.get("x-set").as_deref(), Some("yes"));
    assert_eq!(upstream.values("x-multi"), strings(&["1", "2"]));
    assert_eq!(upstream.get("x-remove-me"), None);

    assert_eq!(stream.response_headers(&[(":status", "200")], true), Status::Continue);
    assert_eq!(stream.client_response_headers().values("x-echo"), many, "every value, in order");
    assert_eq!(stream.local_reply(), None, "no assertion inside the filter failed");
    drop(stream);
    assert_eq!(
        seen("headers"),
        strings(&["new_filter", "on_request_headers", "on_response_headers", "on_stream_complete", "drop"])
    );
}

#[test]
fn body_is_changed_in_place_and_read_whole() {
    let host = host("body", "body");
    let mut stream = host.stream();
    assert_eq!(stream.request_headers(&[(":path", "/"), (":method", "POST")], false), Status::StopIteration);
    assert_eq!(stream.request_body(&["ab", "cd"], false), Body::StopIterationAndBuffer);
    assert_eq!(stream.buffered_body(Direction::Request), b"ABCD", "upper-cased in place, then buffered");
    assert!(stream.upstream_request_body().is_empty());
    assert_eq!(stream.request_body(&["e", "f"], true), Body::Continue);
    assert_eq!(stream.upstream_request_body(), b"ABCD<F>");
    assert_eq!(stream.upstream_request_headers().get("x-whole-body").as_deref(), Some("ABCDEF"));
    assert_eq!(stream.local_reply(), None, "no assertion inside the filter failed");
}

/// More slices than the SDK keeps inline (8): `chunks`, `chunks_mut` and the whole-body reader
/// fall back to the heap and still see every slice, in order.
#[test]
fn many_slices_are_all_seen_in_order() {
    let host = host("many-slices", "many-slices");
    let mut stream = host.stream();
    let received: Vec<Vec<u8>> = (0..20u8).map(|i| vec![b'a' + i; usize::from(i % 3) + 1]).collect();
    let buffered: Vec<&[u8]> = vec![b"x", b"yy", b"z"];
    assert_eq!(stream.request_headers(&[(":path", "/")], false), Status::StopIteration);
    assert_eq!(stream.request_body(&buffered, false), Body::StopIterationAndBuffer);
    assert_eq!(stream.request_body(&received, true), Body::Continue);
    let upper = received.concat().to_ascii_uppercase();
    let whole = [buffered.concat(), upper].concat();
    assert_eq!(stream.upstream_request_body(), whole);
    let lengths: Vec<String> = received.iter().map(|chunk| chunk.len().to_string()).collect();
    let upstream = stream.upstream_request_headers();
    assert_eq!(upstream.get("x-chunks").as_deref(), Some("20 20"));
    assert_eq!(upstream.get("x-lengths"), Some(lengths.join(",")));
    assert_eq!(upstream.get("x-whole").as_deref(), Some(std::str::from_utf8(&whole).unwrap()));
}

/// A host that has nothing but a scheduler, whose `Arc` the test counts: the core keeps it in
/// the stream's handle state, which lives as long as the stream or a handle the module has not
/// released.
struct BareHost {
    scheduler: Arc<Wakes>,
}

#[derive(Default)]
struct Wakes(AtomicUsize);

impl envoyx_core::StreamScheduler for Wakes {
    fn wake(&self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

impl envoyx_core::HostStream for BareHost {
    fn header_values(
        &mut self,
        _map: envoyx_core::HeaderMapKind,
        _key: &[u8],
        _out: &mut [envoyx_bytes],
    ) -> Option<usize> {
        None
    }
    fn header_entries(
        &mut self,
        _map: envoyx_core::HeaderMapKind,
        _out: &mut [envoyx_header],
    ) -> Option<usize> {
        None
    }
    fn header_set(&mut self, _map: envoyx_core::HeaderMapKind, _key: &[u8], _value: &[u8]) -> bool {
        false
    }
    fn header_add(&mut self, _map: envoyx_core::HeaderMapKind, _key: &[u8], _value: &[u8]) -> bool {
        false
    }
    fn header_remove(&mut self, _map: envoyx_core::HeaderMapKind, _key: &[u8]) -> usize {
        0
    }
    fn body_length(&mut self, _body: envoyx_core::BodyKind) -> Option<usize> {
        None
    }
    fn body_slices(&mut self, _body: envoyx_core::BodyKind, _out: &mut [envoyx_slice]) -> Option<usize> {
        None
    }
    fn body_drain(&mut self, _body: envoyx_core::BodyKind, _len: usize) -> bool {
        false
    }
    fn body_append(&mut self, _body: envoyx_core::BodyKind, _data: &[u8]) -> bool {
        false
    }
    fn scheduler(&self) -> Arc<dyn envoyx_core::StreamScheduler> {
        self.scheduler.clone()
    }
}

#[test]
fn continue_handle_is_released_once_after_clones() {
    let host = host("handle", "handle");
    // What the stream sees: the request continues once (by the clone, from another thread), the
    // response's continue is ignored (it was not stopped).
    let mut stream = host.stream();
    assert_eq!(stream.request_headers(&[(":path", "/")], true), Status::StopIteration);
    assert!(!stream.request_headers_forwarded(), "held until the continue runs");
    assert_eq!(stream.run_scheduled(), 2);
    assert!(stream.request_headers_forwarded());
    assert_eq!((stream.continues(Direction::Request), stream.continues(Direction::Response)), (1, 0));
    assert_eq!(stream.core().continues_ignored(), 1);
    assert_eq!(stream.response_headers(&[(":status", "204")], true), Status::Continue);
    assert_eq!(stream.run_scheduled(), 0);
    drop(stream);

    // How many handles are live: the stream's handle state (which holds the scheduler) outlives
    // the stream while the module still holds a handle, and goes with it once every one is
    // released. Released twice, it would go while the stream still uses it.
    let wakes = Arc::new(Wakes::default());
    let mut core = host.filter_config().new_stream(Box::new(BareHost { scheduler: wakes.clone() }));
    assert_eq!(core.on_request_headers(true).unwrap().status, Status::StopIteration);
    assert_eq!(wakes.0.load(Ordering::SeqCst), 2, "one wake per continue");
    assert_eq!(Arc::strong_count(&wakes), 3, "the test's, the host's, the stream's handle state's");
    let effects: Vec<envoyx_core::Action> = core.on_scheduled().chain(core.on_scheduled()).collect();
    assert_eq!(effects, [envoyx_core::Action::Continue(Direction::Request)]);
    drop(core);
    assert_eq!(Arc::strong_count(&wakes), 1, "the module released its handle: the handle state is gone");
}

#[test]
fn scheduled_events_reach_on_scheduled_with_the_whole_stream_api() {
    let host = host("schedule", "schedule");
    let mut stream = host.stream();
    assert_eq!(stream.request_headers(&[(":path", "/"), (":method", "GET")], true), Status::StopIteration);
    assert!(!stream.request_headers_forwarded());
    assert_eq!(stream.run_scheduled(), 1);
    assert!(stream.request_headers_forwarded(), "continue_stream in on_scheduled resumed the request");
    assert_eq!(stream.continues(Direction::Request), 1);
    assert_eq!(stream.upstream_request_headers().get("x-event").as_deref(), Some("41 GET"));
    assert_eq!(stream.local_reply(), None, "no assertion inside the filter failed");
    drop(stream);
    assert_eq!(
        seen("schedule"),
        strings(&["new_filter", "on_request_headers", "on_scheduled 41", "on_stream_complete", "drop"])
    );
}

// ---- Panics ------------------------------------------------------------------------------------
//
// A panic in a hook is reported to the core with its hook and message (`hook_failed`): the core
// logs it once, ends the stream as its rule decides (500 on the request side, a reset on the
// response side) and calls no further hook of the stream but destroy.

#[test]
fn a_request_panic_is_answered_500_and_the_filter_gets_no_further_hook() {
    let host = host("panic-request", "panic-request");
    let mut stream = host.stream();
    assert_eq!(stream.request_headers(&[(":path", "/")], true), Status::StopIteration);
    let reply = stream.local_reply().expect("the core answered the stream");
    assert_eq!((reply.status, reply.details.as_str()), (500, "envoyx_module_panic"));
    assert!(!stream.request_headers_forwarded());
    assert_eq!(stream.client_response_headers().get(":status").as_deref(), Some("500"));
    // The event the filter queued before it panicked is taken, and does not reach it.
    assert_eq!(stream.run_scheduled(), 1);
    drop(stream);
    assert_eq!(seen("panic-request"), strings(&["new_filter", "on_request_headers", "drop"]));
    assert!(logged(
        "(filter `panic-request`): the request_headers hook failed: panicked in on_request_headers: \
         request boom; the stream is answered 500"
    ));
    assert_eq!(log_lines("request boom"), 1, "the core logs the reason, once; the SDK does not");
}

#[test]
fn a_response_panic_resets_the_stream_and_the_filter_gets_no_further_hook() {
    let host = host("panic-response", "panic-response");
    let mut stream = host.stream();
    assert_eq!(stream.request_headers(&[(":path", "/")], true), Status::Continue);
    assert_eq!(stream.response_headers(&[(":status", "200")], false), Status::StopIteration);
    assert!(stream.was_reset());
    assert_eq!(stream.local_reply(), None);
    assert!(!stream.response_headers_forwarded());
    assert_eq!(stream.run_scheduled(), 1);
    drop(stream);
    assert_eq!(
        seen("panic-response"),
        strings(&["new_filter", "on_request_headers", "on_response_headers", "drop"])
    );
    assert!(logged(
        "(filter `panic-response`): the response_headers hook failed: panicked in \
         on_response_headers: response boom; the stream is reset"
    ));
    assert_eq!(log_lines("response boom"), 1);
}

#[test]
fn a_panic_in_on_scheduled_is_answered_500_and_the_next_event_does_not_reach_the_filter() {
    let host = host("panic-scheduled", "panic-scheduled");
    let mut stream = host.stream();
    assert_eq!(stream.request_headers(&[(":path", "/")], true), Status::StopIteration);
    assert_eq!(stream.local_reply(), None);
    assert_eq!(stream.run_scheduled(), 2, "both events were taken");
    let reply = stream.local_reply().expect("the core answered the stream");
    assert_eq!((reply.status, reply.details.as_str()), (500, "envoyx_module_panic"));
    assert!(!stream.request_headers_forwarded());
    drop(stream);
    assert_eq!(
        seen("panic-scheduled"),
        strings(&["new_filter", "on_request_headers", "on_scheduled 7", "drop"]),
        "event 8 did not reach the filter"
    );
    assert!(logged(
        "(filter `panic-scheduled`): the scheduled hook failed: panicked in on_scheduled: scheduled \
         boom; the stream is answered 500"
    ));
    assert_eq!(log_lines("scheduled boom"), 1);
}

#[test]
fn a_new_filter_panic_is_answered_500_and_no_stream_state_made() {
    let host = host("panic-new-filter", "panic-new-filter");
    let mut stream = host.stream();
    assert_eq!(stream.request_headers(&[(":path", "/")], true), Status::StopIteration);
    let reply = stream.local_reply().expect("the core answered the stream");
    assert_eq!(reply.status, 500);
    assert_eq!(reply.body, b"EnvoyX module failed to create its stream state\n");
    assert_eq!(stream.client_response_body(), reply.body);
    drop(stream);
    assert_eq!(seen("panic-new-filter"), strings(&["new_filter"]), "no filter, so no hook");
    assert!(logged(
        "(filter `panic-new-filter`): the stream_new hook failed: panicked in \
         FilterConfig::new_filter: new_filter boom"
    ));
    assert!(
        !logged("stream-new hook of filter `panic-new-filter` returned NULL"),
        "the SDK reported why, so the core does not log a NULL without reason"
    );
    assert_eq!(log_lines("new_filter boom"), 1);
}
