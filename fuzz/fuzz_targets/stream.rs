//! The stream engine: random streams (headers, body chunks over random slice layouts, trailers,
//! in both directions, in an order Envoy could deliver) through the real core on the test host,
//! to a module (this file, in-process) whose every hook runs a random script of host calls with
//! random, also invalid, arguments: header names and values of any bytes, body ranges past the
//! end, local replies with any status and details, resets, continues from other threads and from
//! scheduled events, panics.
//!
//! The module also hands the host strings of any bytes through every entry point that takes one
//! (metadata, filter state, span tags, log messages), through the raw host table as a C module
//! could; the stream starts with filter state another filter set.
//!
//! Invariants: no panic escapes (the core's, the test host's or the SDK's); every filter made is
//! destroyed exactly once, and none is called after it; the request body upstream receives is
//! the bytes sent when nothing changed it and the stream was neither answered nor reset; every
//! log line is one line of text (no control character, valid UTF-8); no filter state is ever set
//! over a key the stream had (what Envoy counts as its own bug).

#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use envoyx_sdk::{
    BodyKind, BodyStatus, Direction, Filter, FilterConfig, HeaderMapKind, HeadersStatus, Stream,
    TrailersStatus,
};
use envoyx_testhost::TestHost;
use libfuzzer_sys::fuzz_target;
use std::cell::RefCell;
use std::collections::VecDeque;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

#[derive(Arbitrary, Debug)]
enum Action {
    SetHeader { map: u8, key: Vec<u8>, value: Vec<u8> },
    AddHeader { map: u8, key: Vec<u8>, value: Vec<u8> },
    RemoveHeader { map: u8, key: Vec<u8> },
    Drain { kind: u8, len: u16 },
    Prepend { kind: u8, data: Vec<u8> },
    Append { kind: u8, data: Vec<u8> },
    Replace { kind: u8, start: u16, end: u16, data: Vec<u8> },
    UpperInPlace { kind: u8 },
    LocalReply { status: u16, details: String, body: Vec<u8> },
    Reset,
    ContinueFromThread { response: bool },
    Schedule { event: u8 },
    RemoveContentLength,
    SetMetadata { ns: Vec<u8>, key: Vec<u8>, value: Vec<u8> },
    SetFilterState { preset: bool, key: Vec<u8>, value: Vec<u8> },
    SpanTag { key: Vec<u8>, value: Vec<u8> },
    Log { message: Vec<u8> },
    Panic,
}

/// The filter state every stream starts with, as another filter would have set it (a string,
/// and an object with no string form).
const PRESET: [(&str, Option<&[u8]>); 2] = [("fuzz.preset", Some(b"set-before")), ("fuzz.object", None)];

/// One hook's script: the host calls, then the status (taken modulo the hook's statuses).
#[derive(Arbitrary, Debug)]
struct Script {
    actions: Vec<Action>,
    status: u8,
}

#[derive(Arbitrary, Debug)]
enum Step {
    RequestBody { slices: Vec<Vec<u8>>, end: bool },
    RequestTrailers,
    ResponseHeaders { end: bool },
    ResponseBody { slices: Vec<Vec<u8>>, end: bool },
    ResponseTrailers,
    RunScheduled,
}

thread_local! {
    /// The scripts the module's hooks run, in order; an empty queue does nothing.
    static SCRIPTS: RefCell<VecDeque<Script>> = const { RefCell::new(VecDeque::new()) };
}
static MADE: AtomicU64 = AtomicU64::new(0);
static DESTROYED: AtomicU64 = AtomicU64::new(0);
/// Whether a script touched a request body, or a request body hook dropped its chunk
/// (StopIterationNoBuffer): then the bytes need not add up.
static REQUEST_BODY_CHANGED: AtomicBool = AtomicBool::new(false);

struct FuzzConfig;

struct FuzzFilter {
    destroyed: bool,
}

impl Drop for FuzzFilter {
    fn drop(&mut self) {
        assert!(!self.destroyed, "a filter destroyed twice");
        self.destroyed = true;
        DESTROYED.fetch_add(1, Ordering::SeqCst);
    }
}

impl FilterConfig for FuzzConfig {
    type Filter = FuzzFilter;
    fn new(_name: &str, _config: &[u8]) -> Result<Self, String> {
        Ok(FuzzConfig)
    }
    fn new_filter(&self) -> FuzzFilter {
        MADE.fetch_add(1, Ordering::SeqCst);
        FuzzFilter { destroyed: false }
    }
}

const MAPS: [HeaderMapKind; 4] = [
    HeaderMapKind::RequestHeaders,
    HeaderMapKind::RequestTrailers,
    HeaderMapKind::ResponseHeaders,
    HeaderMapKind::ResponseTrailers,
];
const BODIES: [BodyKind; 4] = [
    BodyKind::RequestReceived,
    BodyKind::RequestBuffered,
    BodyKind::ResponseReceived,
    BodyKind::ResponseBuffered,
];

fn body_kind(kind: u8) -> BodyKind {
    let body = BODIES[kind as usize % 4];
    if matches!(body, BodyKind::RequestReceived | BodyKind::RequestBuffered) {
        REQUEST_BODY_CHANGED.store(true, Ordering::SeqCst);
    }
    body
}

impl FuzzFilter {
    /// Runs the next script; returns its status byte.
    fn run(&mut self, stream: &mut Stream) -> u8 {
        assert!(!self.destroyed, "a hook called after destroy");
        let Some(script) = SCRIPTS.with(|s| s.borrow_mut().pop_front()) else { return 0 };
        for action in script.actions {
            match action {
                Action::SetHeader { map, key, value } => {
                    stream.header_map(MAPS[map as usize % 4]).set(&key, &value);
                }
                Action::AddHeader { map, key, value } => {
                    stream.header_map(MAPS[map as usize % 4]).add(&key, &value);
                }
                Action::RemoveHeader { map, key } => {
                    stream.header_map(MAPS[map as usize % 4]).remove(&key);
                }
                Action::Drain { kind, len } => {
                    stream.body(body_kind(kind)).drain(len as usize);
                }
                Action::Prepend { kind, data } => {
                    stream.body(body_kind(kind)).prepend(&data);
                }
                Action::Append { kind, data } => {
                    stream.body(body_kind(kind)).append(&data);
                }
                Action::Replace { kind, start, end, data } => {
                    stream.body(body_kind(kind)).replace(start as usize..end as usize, &data);
                }
                Action::UpperInPlace { kind } => {
                    for chunk in stream.body(body_kind(kind)).chunks_mut() {
                        chunk.make_ascii_uppercase();
                    }
                }
                Action::LocalReply { status, details, body } => {
                    stream.send_local_reply(status, &[("x-fuzz", "1")], &body, &details);
                }
                Action::Reset => stream.reset(),
                Action::ContinueFromThread { response } => {
                    let handle = stream.handle();
                    let direction = if response { Direction::Response } else { Direction::Request };
                    let _ = std::thread::spawn(move || handle.continue_direction(direction)).join();
                }
                Action::Schedule { event } => {
                    stream.handle().schedule(u64::from(event));
                }
                Action::RemoveContentLength => {
                    stream.will_change_request_body_length();
                }
                Action::SetMetadata { ns, key, value } => {
                    let host = envoyx_sdk::host_api().expect("initialised");
                    let value = envoyx_abi::envoyx_value::string(&value);
                    // Safety: the stream of the running hook; the views live during the call.
                    unsafe { (host.metadata_set)(stream.as_raw(), bytes(&ns), bytes(&key), value) };
                }
                Action::SetFilterState { preset, key, value } => {
                    let host = envoyx_sdk::host_api().expect("initialised");
                    let key = if preset { PRESET[key.len() % 2].0.as_bytes().to_vec() } else { key };
                    // Safety: as above.
                    unsafe { (host.filter_state_set)(stream.as_raw(), bytes(&key), bytes(&value)) };
                }
                Action::SpanTag { key, value } => {
                    let host = envoyx_sdk::host_api().expect("initialised");
                    // Safety: as above.
                    unsafe { (host.span_set_tag)(stream.as_raw(), bytes(&key), bytes(&value)) };
                }
                Action::Log { message } => {
                    let host = envoyx_sdk::host_api().expect("initialised");
                    // Safety: the table the host initialised the module with; the view is alive.
                    unsafe { (host.log)(envoyx_abi::ENVOYX_LOG_WARN, bytes(&message)) };
                }
                Action::Panic => std::panic::panic_any(MODULE_PANIC),
            }
        }
        script.status
    }
}

fn bytes(b: &[u8]) -> envoyx_abi::envoyx_bytes {
    envoyx_abi::envoyx_bytes::from_slice(b)
}

fn headers_status(b: u8) -> HeadersStatus {
    [HeadersStatus::Continue, HeadersStatus::StopIteration, HeadersStatus::StopAllIterationAndBuffer]
        [b as usize % 3]
}
fn body_status(b: u8) -> BodyStatus {
    [BodyStatus::Continue, BodyStatus::StopIterationAndBuffer, BodyStatus::StopIterationNoBuffer]
        [b as usize % 3]
}
fn trailers_status(b: u8) -> TrailersStatus {
    [TrailersStatus::Continue, TrailersStatus::StopIteration][b as usize % 2]
}

impl Filter for FuzzFilter {
    fn on_request_headers(&mut self, stream: &mut Stream, _end: bool) -> HeadersStatus {
        headers_status(self.run(stream))
    }
    fn on_request_body(&mut self, stream: &mut Stream, _end: bool) -> BodyStatus {
        let status = body_status(self.run(stream));
        if status == BodyStatus::StopIterationNoBuffer {
            REQUEST_BODY_CHANGED.store(true, Ordering::SeqCst);
        }
        status
    }
    fn on_request_trailers(&mut self, stream: &mut Stream) -> TrailersStatus {
        trailers_status(self.run(stream))
    }
    fn on_response_headers(&mut self, stream: &mut Stream, _end: bool) -> HeadersStatus {
        headers_status(self.run(stream))
    }
    fn on_response_body(&mut self, stream: &mut Stream, _end: bool) -> BodyStatus {
        body_status(self.run(stream))
    }
    fn on_response_trailers(&mut self, stream: &mut Stream) -> TrailersStatus {
        trailers_status(self.run(stream))
    }
    fn on_scheduled(&mut self, stream: &mut Stream, _event_id: u64) {
        if self.run(stream) % 2 == 1 {
            stream.continue_request();
        }
    }
    fn on_stream_complete(&mut self, stream: &mut Stream) {
        self.run(stream);
    }
}

fn host() -> &'static TestHost {
    static HOST: OnceLock<TestHost> = OnceLock::new();
    HOST.get_or_init(|| {
        TestHost::in_process(envoyx_sdk::module_exports::<FuzzConfig>(), "fuzz", "")
            .expect("the fuzz module loads")
    })
}

fn slices(list: &[Vec<u8>]) -> Vec<&[u8]> {
    list.iter().take(8).map(|s| &s[..s.len().min(4096)]).collect()
}

fn drive(u: &mut Unstructured<'_>) -> arbitrary::Result<()> {
    let scripts: Vec<Script> = u.arbitrary()?;
    let request_end: bool = u.arbitrary()?;
    let steps: Vec<Step> = u.arbitrary()?;
    SCRIPTS.with(|s| *s.borrow_mut() = scripts.into_iter().take(32).collect());
    REQUEST_BODY_CHANGED.store(false, Ordering::SeqCst);
    let before = (MADE.load(Ordering::SeqCst), DESTROYED.load(Ordering::SeqCst));

    let mut stream = host().stream();
    for (key, value) in PRESET {
        stream.preset_filter_state(key, value);
    }
    let mut sent = Vec::new();
    stream.request_headers(&[(":method", "POST"), (":path", "/fuzz"), ("content-length", "5")], request_end);
    // What Envoy may still deliver, per direction: (headers seen, ended).
    let (mut request_ended, mut response_started, mut response_ended) = (request_end, false, false);
    for step in steps.into_iter().take(24) {
        if stream.local_reply().is_some() || stream.was_reset() {
            break; // the stream is over: Envoy delivers nothing more
        }
        match step {
            Step::RequestBody { slices: list, end } if !request_ended => {
                let list = slices(&list);
                sent.extend(list.iter().flat_map(|s| s.iter().copied()));
                stream.request_body(&list, end);
                request_ended = end;
            }
            Step::RequestTrailers if !request_ended => {
                stream.request_trailers(&[("x-trailer", "t")]);
                request_ended = true;
            }
            Step::ResponseHeaders { end } if !response_started => {
                stream.response_headers(&[(":status", "200")], end);
                response_started = true;
                response_ended = end;
            }
            Step::ResponseBody { slices: list, end } if response_started && !response_ended => {
                stream.response_body(&slices(&list), end);
                response_ended = end;
            }
            Step::ResponseTrailers if response_started && !response_ended => {
                stream.response_trailers(&[("x-trailer", "t")]);
                response_ended = true;
            }
            Step::RunScheduled => {
                stream.wait_scheduled(Duration::ZERO);
            }
            _ => {}
        }
    }
    stream.run_scheduled();
    assert_eq!(stream.envoy_bugs(), 0, "filter state set over a key the stream had");
    assert_eq!(
        stream.filter_state("fuzz.preset").as_deref(),
        Some(&b"set-before"[..]),
        "a preset value changed"
    );
    let answered = stream.local_reply().is_some() || stream.was_reset();
    let changed = REQUEST_BODY_CHANGED.load(Ordering::SeqCst);
    if !answered && !changed {
        // Every byte sent went upstream or is still held, in order.
        let mut seen = stream.upstream_request_body();
        seen.extend(stream.buffered_body(envoyx_testhost::Direction::Request));
        assert_eq!(seen, sent, "body bytes lost or changed with no module change");
    }
    drop(stream);
    let after = (MADE.load(Ordering::SeqCst), DESTROYED.load(Ordering::SeqCst));
    assert_eq!(after.0 - before.0, after.1 - before.1, "every filter made is destroyed once");
    for (_, line) in envoyx_testhost::logs() {
        assert!(
            !line.chars().any(|c| c.is_control() || c == '\u{2028}' || c == '\u{2029}'),
            "a log line split or holding a control character: {line:?}"
        );
    }
    Ok(())
}

/// The module's own panics (`Action::Panic`) are the SDK's to catch (a 500 or a reset);
/// libFuzzer's panic hook would abort on them, so they skip it. Every other panic still aborts.
fn let_module_panics_through() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        let fuzzer_hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if info.payload().downcast_ref::<&str>() != Some(&MODULE_PANIC) {
                fuzzer_hook(info);
            }
        }));
    });
}

const MODULE_PANIC: &str = "fuzz: a module panic";

fuzz_target!(|data: &[u8]| {
    let_module_panics_through();
    envoyx_testhost::clear_logs(); // the test host records every line; keep memory flat
    let _ = drive(&mut Unstructured::new(data));
});
