//! The SDK against a minimal in-test host: a hand-written `envoyx_host_api` whose stream pointer
//! is a `MockStream`. Drives the dispatcher functions the way a host drives the exports, and
//! checks what the filter saw and did.

use std::io::Read;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use envoyx_sdk::abi::*;
use envoyx_sdk::dispatch;
use envoyx_sdk::{BodyStatus, Filter, FilterConfig, HeadersStatus, Stream, TrailersStatus};

// ---- The mock host ---------------------------------------------------------------------------

type Headers = Vec<(Vec<u8>, Vec<u8>)>;

#[derive(Default)]
struct HandleLog {
    created: AtomicUsize,
    released: AtomicUsize,
    continues: Mutex<Vec<u32>>,
    events: Mutex<Vec<u64>>,
}

/// One stream: four header maps and four bodies (each a list of chunks; `None` = unavailable).
#[derive(Default)]
struct MockStream {
    maps: [Option<Headers>; 4],
    bodies: [Option<Vec<Vec<u8>>>; 4],
    /// Local replies the SDK sent (the tests here only count them).
    local_replies: usize,
    resets: usize,
    /// The reasons of the failed hooks the SDK reported (`hook_failed`).
    failures: Vec<String>,
    handles: Arc<HandleLog>,
    /// Directions `continue_stream` was called with.
    continued: Vec<u32>,
}

struct MockHandle(Arc<HandleLog>);

static LOGS: Mutex<Vec<(u32, String)>> = Mutex::new(Vec::new());

fn bytes(view: envoyx_bytes) -> Vec<u8> {
    // Safety: the SDK passes views that are valid during the call.
    unsafe { view.as_slice() }.to_vec()
}

unsafe fn mock<'a>(stream: *mut envoyx_stream) -> &'a mut MockStream {
    // Safety: every stream pointer in these tests is a live `MockStream`, and the SDK calls the
    // host from the test thread, one call at a time.
    unsafe { &mut *stream.cast::<MockStream>() }
}

unsafe extern "C" fn log_enabled(_level: envoyx_log_level) -> bool {
    true
}
unsafe extern "C" fn log(level: envoyx_log_level, message: envoyx_bytes) {
    let message = String::from_utf8(bytes(message)).unwrap();
    LOGS.lock().unwrap().push((level, message));
}
unsafe extern "C" fn error_set(error: *mut envoyx_error, message: envoyx_bytes) {
    // Safety: the tests pass a `*mut Option<String>` as the error handle.
    unsafe { *error.cast::<Option<String>>() = Some(String::from_utf8(bytes(message)).unwrap()) };
}
unsafe extern "C" fn header_get(
    stream: *mut envoyx_stream,
    map: envoyx_header_map,
    key: envoyx_bytes,
    values: *mut envoyx_bytes,
    values_cap: usize,
) -> usize {
    let key = bytes(key);
    // Safety: `stream` is a live `MockStream` (see `mock`).
    let Some(map) = &unsafe { mock(stream) }.maps[map as usize] else { return 0 };
    let found: Vec<&Vec<u8>> =
        map.iter().filter(|(k, _)| k.eq_ignore_ascii_case(&key)).map(|(_, v)| v).collect();
    for (i, value) in found.iter().take(values_cap).enumerate() {
        // Safety: `i` is below the capacity the SDK gave for this buffer.
        unsafe { *values.add(i) = envoyx_bytes::from_slice(value) };
    }
    found.len()
}
unsafe extern "C" fn header_all(
    stream: *mut envoyx_stream,
    map: envoyx_header_map,
    headers: *mut envoyx_header,
    headers_cap: usize,
) -> usize {
    // Safety: `stream` is a live `MockStream` (see `mock`).
    let Some(map) = &unsafe { mock(stream) }.maps[map as usize] else { return 0 };
    for (i, (key, value)) in map.iter().take(headers_cap).enumerate() {
        let entry =
            envoyx_header { key: envoyx_bytes::from_slice(key), value: envoyx_bytes::from_slice(value) };
        // Safety: `i` is below the capacity the SDK gave for this buffer.
        unsafe { *headers.add(i) = entry };
    }
    map.len()
}
unsafe extern "C" fn header_remove(
    stream: *mut envoyx_stream,
    map: envoyx_header_map,
    key: envoyx_bytes,
) -> usize {
    let key = bytes(key);
    // Safety: `stream` is a live `MockStream` (see `mock`).
    let Some(map) = &mut unsafe { mock(stream) }.maps[map as usize] else { return 0 };
    let before = map.len();
    map.retain(|(k, _)| !k.eq_ignore_ascii_case(&key));
    before - map.len()
}
unsafe extern "C" fn header_set(
    stream: *mut envoyx_stream,
    map: envoyx_header_map,
    key: envoyx_bytes,
    value: envoyx_bytes,
) -> bool {
    // Safety: `stream` is a live `MockStream` (see `mock`).
    if unsafe { mock(stream) }.maps[map as usize].is_none() {
        return false;
    }
    // Safety: same arguments as this call's.
    unsafe { header_remove(stream, map, key) };
    // Safety: same arguments as this call's.
    unsafe { header_add(stream, map, key, value) }
}
unsafe extern "C" fn header_add(
    stream: *mut envoyx_stream,
    map: envoyx_header_map,
    key: envoyx_bytes,
    value: envoyx_bytes,
) -> bool {
    // Safety: `stream` is a live `MockStream` (see `mock`).
    let Some(map) = &mut unsafe { mock(stream) }.maps[map as usize] else { return false };
    map.push((bytes(key), bytes(value)));
    true
}
fn flat(chunks: &[Vec<u8>]) -> Vec<u8> {
    chunks.concat()
}
unsafe extern "C" fn body_length(stream: *mut envoyx_stream, body: envoyx_body_kind) -> usize {
    // Safety: `stream` is a live `MockStream` (see `mock`).
    unsafe { mock(stream) }.bodies[body as usize].as_deref().map_or(0, |c| flat(c).len())
}
unsafe extern "C" fn body_slices(
    stream: *mut envoyx_stream,
    body: envoyx_body_kind,
    slices: *mut envoyx_slice,
    slices_cap: usize,
) -> usize {
    // Safety: `stream` is a live `MockStream` (see `mock`).
    let Some(chunks) = &mut unsafe { mock(stream) }.bodies[body as usize] else { return 0 };
    let mut chunks: Vec<&mut Vec<u8>> = chunks.iter_mut().filter(|c| !c.is_empty()).collect();
    for (i, chunk) in chunks.iter_mut().take(slices_cap).enumerate() {
        // Safety: `i` is below the capacity the SDK gave for this buffer.
        unsafe { *slices.add(i) = envoyx_slice { ptr: chunk.as_mut_ptr(), len: chunk.len() } };
    }
    chunks.len()
}
/// Applies `edit` to the flattened body; keeps it as one chunk afterwards.
unsafe fn edit_body(
    stream: *mut envoyx_stream,
    body: envoyx_body_kind,
    edit: impl FnOnce(&mut Vec<u8>) -> bool,
) -> bool {
    // Safety: `stream` is a live `MockStream` (see `mock`).
    let Some(chunks) = &mut unsafe { mock(stream) }.bodies[body as usize] else { return false };
    let mut whole = flat(chunks);
    if !edit(&mut whole) {
        return false;
    }
    *chunks = vec![whole];
    true
}
unsafe extern "C" fn body_drain(stream: *mut envoyx_stream, body: envoyx_body_kind, len: usize) -> bool {
    // Safety: same stream as this call's.
    unsafe {
        edit_body(stream, body, |b| {
            b.drain(..len.min(b.len()));
            true
        })
    }
}
unsafe extern "C" fn body_prepend(
    stream: *mut envoyx_stream,
    body: envoyx_body_kind,
    data: envoyx_bytes,
) -> bool {
    let data = bytes(data);
    // Safety: same stream as this call's.
    unsafe {
        edit_body(stream, body, |b| {
            b.splice(0..0, data);
            true
        })
    }
}
unsafe extern "C" fn body_append(
    stream: *mut envoyx_stream,
    body: envoyx_body_kind,
    data: envoyx_bytes,
) -> bool {
    let data = bytes(data);
    // Safety: same stream as this call's.
    unsafe {
        edit_body(stream, body, |b| {
            b.extend(data);
            true
        })
    }
}
unsafe extern "C" fn body_replace(
    stream: *mut envoyx_stream,
    body: envoyx_body_kind,
    offset: usize,
    len: usize,
    data: envoyx_bytes,
) -> bool {
    let data = bytes(data);
    // Safety: same stream as this call's.
    unsafe {
        edit_body(stream, body, |b| {
            if offset + len > b.len() {
                return false;
            }
            b.splice(offset..offset + len, data);
            true
        })
    }
}
unsafe extern "C" fn send_local_reply(
    stream: *mut envoyx_stream,
    _status: u32,
    _headers: *const envoyx_header,
    _headers_len: usize,
    _body: envoyx_bytes,
    _details: envoyx_bytes,
) -> bool {
    // Safety: `stream` is a live `MockStream` (see `mock`).
    unsafe { mock(stream) }.local_replies += 1;
    true
}
unsafe extern "C" fn reset_stream(stream: *mut envoyx_stream) {
    // Safety: `stream` is a live `MockStream` (see `mock`).
    unsafe { mock(stream) }.resets += 1;
}
unsafe extern "C" fn stream_handle_new(stream: *mut envoyx_stream) -> *mut envoyx_stream_handle {
    // Safety: `stream` is a live `MockStream` (see `mock`).
    let handles = unsafe { mock(stream) }.handles.clone();
    handles.created.fetch_add(1, Ordering::SeqCst);
    Box::into_raw(Box::new(MockHandle(handles))).cast()
}
unsafe extern "C" fn stream_handle_continue(
    handle: *mut envoyx_stream_handle,
    direction: envoyx_direction,
) -> bool {
    // Safety: handles are `MockHandle` boxes from `stream_handle_new`, released once.
    let handle = unsafe { &*handle.cast::<MockHandle>() };
    handle.0.continues.lock().unwrap().push(direction);
    true
}
unsafe extern "C" fn stream_handle_release(handle: *mut envoyx_stream_handle) {
    // Safety: handles are `MockHandle` boxes from `stream_handle_new`, released once.
    let handle = unsafe { Box::from_raw(handle.cast::<MockHandle>()) };
    handle.0.released.fetch_add(1, Ordering::SeqCst);
}

unsafe extern "C" fn stream_handle_schedule(handle: *mut envoyx_stream_handle, event_id: u64) -> bool {
    // Safety: handles are `MockHandle` boxes from `stream_handle_new`, released once.
    let handle = unsafe { &*handle.cast::<MockHandle>() };
    handle.0.events.lock().unwrap().push(event_id);
    true
}
unsafe extern "C" fn continue_stream(stream: *mut envoyx_stream, direction: envoyx_direction) -> bool {
    // Safety: see `mock`.
    unsafe { mock(stream) }.continued.push(direction);
    true
}

unsafe extern "C" fn config_handle_new(_creating: *mut envoyx_error) -> *mut envoyx_config_handle {
    // This host delivers no configuration events.
    std::ptr::null_mut()
}
unsafe extern "C" fn config_handle_schedule(_handle: *mut envoyx_config_handle, _event_id: u64) -> bool {
    false
}
unsafe extern "C" fn config_handle_release(_handle: *mut envoyx_config_handle) {}
unsafe extern "C" fn http_callout(
    _stream: *mut envoyx_stream,
    _cluster: envoyx_bytes,
    _headers: *const envoyx_header,
    _headers_len: usize,
    _body: envoyx_bytes,
    _timeout_ms: u64,
) -> u64 {
    // This host sends no callouts (refused).
    0
}
unsafe extern "C" fn config_http_callout(
    _handle: *mut envoyx_config_handle,
    _cluster: envoyx_bytes,
    _headers: *const envoyx_header,
    _headers_len: usize,
    _body: envoyx_bytes,
    _timeout_ms: u64,
) -> u64 {
    0
}
unsafe extern "C" fn callout_stream_start(
    _stream: *mut envoyx_stream,
    _cluster: envoyx_bytes,
    _headers: *const envoyx_header,
    _headers_len: usize,
    _body: envoyx_bytes,
    _end_of_stream: bool,
    _timeout_ms: u64,
) -> u64 {
    // This host opens no streaming callouts (refused), so none can be sent on or reset.
    0
}
unsafe extern "C" fn callout_stream_send(
    _stream: *mut envoyx_stream,
    _callout_id: u64,
    _data: envoyx_bytes,
    _end_of_stream: bool,
) -> bool {
    false
}
unsafe extern "C" fn callout_stream_send_trailers(
    _stream: *mut envoyx_stream,
    _callout_id: u64,
    _trailers: *const envoyx_header,
    _trailers_len: usize,
) -> bool {
    false
}
unsafe extern "C" fn callout_stream_reset(_stream: *mut envoyx_stream, _callout_id: u64) -> bool {
    false
}
unsafe extern "C" fn config_callout_stream_start(
    _handle: *mut envoyx_config_handle,
    _cluster: envoyx_bytes,
    _headers: *const envoyx_header,
    _headers_len: usize,
    _body: envoyx_bytes,
    _end_of_stream: bool,
    _timeout_ms: u64,
) -> u64 {
    0
}
unsafe extern "C" fn config_callout_stream_send(
    _handle: *mut envoyx_config_handle,
    _callout_id: u64,
    _data: envoyx_bytes,
    _end_of_stream: bool,
) -> bool {
    false
}
unsafe extern "C" fn config_callout_stream_send_trailers(
    _handle: *mut envoyx_config_handle,
    _callout_id: u64,
    _trailers: *const envoyx_header,
    _trailers_len: usize,
) -> bool {
    false
}
unsafe extern "C" fn config_callout_stream_reset(
    _handle: *mut envoyx_config_handle,
    _callout_id: u64,
) -> bool {
    false
}
unsafe extern "C" fn metric_define(
    _creating: *mut envoyx_error,
    _kind: envoyx_metric_kind,
    _name: envoyx_bytes,
    _label_names: *const envoyx_bytes,
    _label_names_len: usize,
) -> u64 {
    // This host keeps no metrics.
    0
}
unsafe extern "C" fn metric_record(
    _stream: *mut envoyx_stream,
    _metric_id: u64,
    _label_values: *const envoyx_bytes,
    _label_values_len: usize,
    _op: envoyx_metric_op,
    _value: u64,
) -> bool {
    false
}
unsafe extern "C" fn metadata_set(
    _stream: *mut envoyx_stream,
    _ns: envoyx_bytes,
    _key: envoyx_bytes,
    _value: envoyx_value,
) -> bool {
    // This host keeps no metadata, filter state or routes.
    false
}
unsafe extern "C" fn metadata_get(
    _stream: *mut envoyx_stream,
    _source: envoyx_metadata_source,
    _ns: envoyx_bytes,
    _key: envoyx_bytes,
    _kind: envoyx_value_kind,
    _out: *mut envoyx_value,
) -> bool {
    false
}
unsafe extern "C" fn filter_state_set(
    _stream: *mut envoyx_stream,
    _key: envoyx_bytes,
    _value: envoyx_bytes,
) -> bool {
    false
}
unsafe extern "C" fn filter_state_get(
    _stream: *mut envoyx_stream,
    _key: envoyx_bytes,
    _out: *mut envoyx_bytes,
) -> bool {
    false
}
unsafe extern "C" fn clear_route_cache(_stream: *mut envoyx_stream) -> bool {
    false
}
unsafe extern "C" fn upstream_override_host(
    _stream: *mut envoyx_stream,
    _host: envoyx_bytes,
    _strict: bool,
) -> bool {
    false
}
unsafe extern "C" fn attribute_get(
    _stream: *mut envoyx_stream,
    _attribute: envoyx_attribute,
    _out: *mut envoyx_value,
) -> bool {
    false
}
unsafe extern "C" fn span_set_tag(
    _stream: *mut envoyx_stream,
    _key: envoyx_bytes,
    _value: envoyx_bytes,
) -> bool {
    false
}
unsafe extern "C" fn hook_failed(stream: *mut envoyx_stream, reason: envoyx_bytes) -> bool {
    // Safety: see `mock`. (The core decides how the stream ends; this host only records.)
    unsafe { mock(stream) }.failures.push(String::from_utf8(bytes(reason)).unwrap());
    true
}
unsafe extern "C" fn route_config(_stream: *mut envoyx_stream) -> *const envoyx_module_route_config {
    // No route of this host carries a per-route configuration.
    std::ptr::null()
}

static HOST: envoyx_host_api = envoyx_host_api {
    size: size_of::<envoyx_host_api>() as u32,
    version: envoyx_abi_version::CURRENT,
    log_enabled,
    log,
    error_set,
    header_get,
    header_all,
    header_set,
    header_add,
    header_remove,
    body_length,
    body_slices,
    body_drain,
    body_prepend,
    body_append,
    body_replace,
    send_local_reply,
    reset_stream,
    stream_handle_new,
    stream_handle_continue,
    stream_handle_release,
    stream_handle_schedule,
    continue_stream,
    config_handle_new,
    config_handle_schedule,
    config_handle_release,
    route_config,
    http_callout,
    config_http_callout,
    callout_stream_start,
    callout_stream_send,
    callout_stream_send_trailers,
    callout_stream_reset,
    config_callout_stream_start,
    config_callout_stream_send,
    config_callout_stream_send_trailers,
    config_callout_stream_reset,
    metric_define,
    metric_record,
    metadata_set,
    metadata_get,
    filter_state_set,
    filter_state_get,
    clear_route_cache,
    upstream_override_host,
    attribute_get,
    span_set_tag,
    hook_failed,
};

fn init() {
    let mut error: Option<String> = None;
    // Safety: a table that lives for the whole run, and an `Option<String>` error handle.
    assert!(unsafe { dispatch::on_program_init(&HOST, (&raw mut error).cast()) }, "{error:?}");
}

fn logged(needle: &str) -> bool {
    LOGS.lock().unwrap().iter().any(|(_, message)| message.contains(needle))
}

// ---- The module under test -------------------------------------------------------------------

/// Behaviour is picked by the filter config bytes.
struct TestConfig {
    mode: String,
}

struct TestFilter {
    mode: String,
    echo: Vec<Vec<u8>>,
}

impl FilterConfig for TestConfig {
    type Filter = TestFilter;

    fn new(name: &str, config: &[u8]) -> Result<Self, String> {
        match config {
            b"reject" => Err(format!("{name} rejects")),
            b"panic" => panic!("config boom"),
            _ => Ok(TestConfig { mode: String::from_utf8(config.to_vec()).unwrap() }),
        }
    }

    fn new_filter(&self) -> TestFilter {
        if self.mode == "panic-new-filter" {
            panic!("new_filter boom");
        }
        TestFilter { mode: self.mode.clone(), echo: Vec::new() }
    }
}

impl Filter for TestFilter {
    fn on_request_headers(&mut self, stream: &mut Stream, _end_of_stream: bool) -> HeadersStatus {
        match self.mode.as_str() {
            "panic-request" => panic!("request boom"),
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
            _ => HeadersStatus::Continue,
        }
    }

    fn on_request_body(&mut self, stream: &mut Stream, end_of_stream: bool) -> BodyStatus {
        if self.mode == "many-slices" {
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
            headers.set("x-chunks", format!("{count} {seen}"));
            headers.set("x-lengths", lengths.join(","));
            headers.set("x-whole", whole);
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
        stream.request_headers().set("x-whole-body", text);
        let mut body = stream.request_body();
        assert!(body.replace(0..1, b"<"));
        assert!(body.append(b">"));
        assert!(!body.replace(5..100, b""));
        BodyStatus::Continue
    }

    fn on_request_trailers(&mut self, _stream: &mut Stream) -> TrailersStatus {
        TrailersStatus::Continue
    }

    fn on_scheduled(&mut self, stream: &mut Stream, event_id: u64) {
        match self.mode.as_str() {
            "panic-scheduled" => panic!("scheduled boom"),
            _ => {
                stream.request_headers().set("x-event", event_id.to_string());
                assert!(stream.continue_request());
            }
        }
    }

    fn on_response_headers(&mut self, stream: &mut Stream, _end_of_stream: bool) -> HeadersStatus {
        match self.mode.as_str() {
            "panic-response" => panic!("response boom"),
            "headers" => {
                let mut headers = stream.response_headers();
                for value in &self.echo {
                    headers.add("x-echo", value);
                }
                HeadersStatus::Continue
            }
            _ => HeadersStatus::Continue,
        }
    }
}

envoyx_sdk::export_module!(TestConfig);

// ---- Driving it ------------------------------------------------------------------------------

fn new_config(config: &str) -> Result<*mut envoyx_module_config, String> {
    init();
    let mut error: Option<String> = None;
    // Safety: the views and the error handle are valid during the call.
    let raw = unsafe {
        dispatch::on_filter_config_new::<TestConfig>(
            envoyx_bytes::from_slice(b"test"),
            envoyx_bytes::from_slice(config.as_bytes()),
            (&raw mut error).cast(),
        )
    };
    if raw.is_null() { Err(error.expect("error_set before NULL")) } else { Ok(raw) }
}

fn header(key: &str, value: &str) -> (Vec<u8>, Vec<u8>) {
    (key.as_bytes().to_vec(), value.as_bytes().to_vec())
}

fn as_raw(stream: &mut MockStream) -> *mut envoyx_stream {
    (stream as *mut MockStream).cast()
}

#[test]
fn config_errors_reach_error_set() {
    assert_eq!(new_config("reject").unwrap_err(), "test rejects");
    assert_eq!(new_config("panic").unwrap_err(), "panicked: config boom");
    assert!(logged("config boom"));
}

#[test]
fn program_init_rejects_a_short_table() {
    let mut short = HOST;
    short.size = std::mem::offset_of!(envoyx_host_api, body_length) as u32;
    let mut error: Option<String> = None;
    // Safety: a table that lives for the whole run, and an `Option<String>` error handle.
    assert!(!unsafe { dispatch::on_program_init(&short, (&raw mut error).cast()) });
    let error = error.unwrap();
    assert!(error.contains("body_length") && error.contains("stream_handle_release"), "{error}");
    assert!(!error.contains("header_remove"), "{error}");
}

#[test]
fn headers_are_read_and_changed() {
    let config = new_config("headers").unwrap();
    let mut stream = MockStream::default();
    let many: Vec<_> = (0..20).map(|i| header("x-many", &i.to_string())).collect();
    let mut request = vec![header("x-multi", "1"), header("x-remove-me", "bye")];
    request.extend(many);
    stream.maps[ENVOYX_REQUEST_HEADERS as usize] = Some(request);
    let raw = as_raw(&mut stream);
    // Safety: the dispatcher is driven as a host would: a live `MockStream`, the objects the
    // dispatcher returned, each destroyed once.
    unsafe {
        let module_stream = dispatch::on_stream_new::<TestConfig>(config, raw);
        assert_eq!(
            dispatch::on_request_headers::<TestConfig>(raw, module_stream, true),
            ENVOYX_HEADERS_CONTINUE
        );
        (*raw.cast::<MockStream>()).maps[ENVOYX_RESPONSE_HEADERS as usize] = Some(vec![]);
        assert_eq!(
            dispatch::on_response_headers::<TestConfig>(raw, module_stream, true),
            ENVOYX_HEADERS_CONTINUE
        );
        dispatch::on_stream_complete::<TestConfig>(raw, module_stream);
        dispatch::on_stream_destroy::<TestConfig>(module_stream);
        dispatch::on_filter_config_destroy::<TestConfig>(config);
    }
    let request = stream.maps[ENVOYX_REQUEST_HEADERS as usize].as_ref().unwrap();
    assert!(request.contains(&header("x-set", "yes")));
    assert!(request.contains(&header("x-multi", "1")) && request.contains(&header("x-multi", "2")));
    assert!(!request.iter().any(|(k, _)| k == b"x-remove-me"));
    let response = stream.maps[ENVOYX_RESPONSE_HEADERS as usize].as_ref().unwrap();
    let echoed: Vec<&[u8]> = response.iter().map(|(_, v)| &v[..]).collect();
    let expected: Vec<String> = (0..20).map(|i| i.to_string()).collect();
    assert_eq!(echoed, expected.iter().map(|s| s.as_bytes()).collect::<Vec<_>>());
}

#[test]
fn body_is_changed_in_place_and_read_whole() {
    let config = new_config("body").unwrap();
    let mut stream = MockStream::default();
    stream.maps[ENVOYX_REQUEST_HEADERS as usize] = Some(vec![]);
    let raw = as_raw(&mut stream);
    // Safety: the dispatcher is driven as a host would: a live `MockStream`, the objects the
    // dispatcher returned, each destroyed once.
    unsafe {
        let module_stream = dispatch::on_stream_new::<TestConfig>(config, raw);
        let s = &mut *raw.cast::<MockStream>();
        s.bodies[ENVOYX_BODY_REQUEST_RECEIVED as usize] = Some(vec![b"ab".to_vec(), b"cd".to_vec()]);
        assert_eq!(
            dispatch::on_request_body::<TestConfig>(raw, module_stream, false),
            ENVOYX_BODY_STOP_ITERATION_AND_BUFFER
        );
        // The host moves the received chunk into the buffer, then brings the last chunk.
        let s = &mut *raw.cast::<MockStream>();
        s.bodies[ENVOYX_BODY_REQUEST_BUFFERED as usize] =
            s.bodies[ENVOYX_BODY_REQUEST_RECEIVED as usize].take();
        s.bodies[ENVOYX_BODY_REQUEST_RECEIVED as usize] = Some(vec![b"e".to_vec(), b"f".to_vec()]);
        assert_eq!(dispatch::on_request_body::<TestConfig>(raw, module_stream, true), ENVOYX_BODY_CONTINUE);
        dispatch::on_stream_destroy::<TestConfig>(module_stream);
        dispatch::on_filter_config_destroy::<TestConfig>(config);
    }
    let request = stream.maps[ENVOYX_REQUEST_HEADERS as usize].as_ref().unwrap();
    assert_eq!(request, &vec![header("x-whole-body", "ABCDEF")]);
    assert_eq!(stream.bodies[ENVOYX_BODY_REQUEST_BUFFERED as usize].as_ref().unwrap().concat(), b"ABCD");
    assert_eq!(stream.bodies[ENVOYX_BODY_REQUEST_RECEIVED as usize].as_ref().unwrap().concat(), b"<F>");
}

/// More slices than the SDK keeps inline (8): `chunks`, `chunks_mut` and the whole-body reader
/// fall back to the heap and still see every slice, in order.
#[test]
fn many_slices_are_all_seen_in_order() {
    let config = new_config("many-slices").unwrap();
    let mut stream = MockStream::default();
    stream.maps[ENVOYX_REQUEST_HEADERS as usize] = Some(vec![]);
    let received: Vec<Vec<u8>> = (0..20u8).map(|i| vec![b'a' + i; usize::from(i % 3) + 1]).collect();
    let buffered: Vec<Vec<u8>> = vec![b"x".to_vec(), b"yy".to_vec(), b"z".to_vec()];
    stream.bodies[ENVOYX_BODY_REQUEST_RECEIVED as usize] = Some(received.clone());
    stream.bodies[ENVOYX_BODY_REQUEST_BUFFERED as usize] = Some(buffered.clone());
    let raw = as_raw(&mut stream);
    // Safety: driven as a host would: a live `MockStream`, the objects the dispatcher returned,
    // each destroyed once.
    unsafe {
        let module_stream = dispatch::on_stream_new::<TestConfig>(config, raw);
        assert_eq!(dispatch::on_request_body::<TestConfig>(raw, module_stream, true), ENVOYX_BODY_CONTINUE);
        dispatch::on_stream_destroy::<TestConfig>(module_stream);
        dispatch::on_filter_config_destroy::<TestConfig>(config);
    }
    let upper = received.concat().to_ascii_uppercase();
    assert_eq!(stream.bodies[ENVOYX_BODY_REQUEST_RECEIVED as usize].as_ref().unwrap().concat(), upper);
    let lengths: Vec<String> = received.iter().map(|chunk| chunk.len().to_string()).collect();
    let whole = [buffered.concat(), upper].concat();
    let request = stream.maps[ENVOYX_REQUEST_HEADERS as usize].as_ref().unwrap();
    assert_eq!(
        request,
        &vec![
            header("x-chunks", "20 20"),
            header("x-lengths", &lengths.join(",")),
            header("x-whole", std::str::from_utf8(&whole).unwrap()),
        ]
    );
}

#[test]
fn continue_handle_is_released_once_after_clones() {
    let config = new_config("handle").unwrap();
    let mut stream = MockStream::default();
    let raw = as_raw(&mut stream);
    // Safety: the dispatcher is driven as a host would: a live `MockStream`, the objects the
    // dispatcher returned, each destroyed once.
    unsafe {
        let module_stream = dispatch::on_stream_new::<TestConfig>(config, raw);
        assert_eq!(
            dispatch::on_request_headers::<TestConfig>(raw, module_stream, true),
            ENVOYX_HEADERS_STOP_ITERATION
        );
        dispatch::on_stream_destroy::<TestConfig>(module_stream);
        dispatch::on_filter_config_destroy::<TestConfig>(config);
    }
    assert_eq!(stream.handles.created.load(Ordering::SeqCst), 1);
    assert_eq!(stream.handles.released.load(Ordering::SeqCst), 1);
    assert_eq!(
        *stream.handles.continues.lock().unwrap(),
        vec![ENVOYX_DIRECTION_REQUEST, ENVOYX_DIRECTION_RESPONSE]
    );
}

#[test]
fn scheduled_events_reach_on_scheduled_with_the_whole_stream_api() {
    let config = new_config("schedule").unwrap();
    let mut stream = MockStream::default();
    stream.maps[ENVOYX_REQUEST_HEADERS as usize] = Some(vec![]);
    let raw = as_raw(&mut stream);
    // Safety: the dispatcher is driven as a host would: a live `MockStream`, the objects the
    // dispatcher returned, each destroyed once.
    unsafe {
        let module_stream = dispatch::on_stream_new::<TestConfig>(config, raw);
        assert_eq!(
            dispatch::on_request_headers::<TestConfig>(raw, module_stream, true),
            ENVOYX_HEADERS_STOP_ITERATION
        );
        let events = stream.handles.events.lock().unwrap().clone();
        assert_eq!(events, vec![41]);
        dispatch::on_stream_scheduled::<TestConfig>(raw, module_stream, events[0]);
        dispatch::on_stream_destroy::<TestConfig>(module_stream);
        dispatch::on_filter_config_destroy::<TestConfig>(config);
    }
    assert_eq!(stream.continued, vec![ENVOYX_DIRECTION_REQUEST]);
    assert_eq!(stream.maps[ENVOYX_REQUEST_HEADERS as usize], Some(vec![header("x-event", "41")]));
}

// A panic in a hook is reported to the host with its hook and message (`hook_failed`):
// the core ends the stream and stops calling the filter (its rule, checked by the conformance
// cases `panic-*` on every host); the SDK only reports it and returns a stop status.

#[test]
fn a_panic_in_on_scheduled_is_reported_to_the_host() {
    let config = new_config("panic-scheduled").unwrap();
    let mut stream = MockStream::default();
    let raw = as_raw(&mut stream);
    // Safety: as above.
    unsafe {
        let module_stream = dispatch::on_stream_new::<TestConfig>(config, raw);
        dispatch::on_stream_scheduled::<TestConfig>(raw, module_stream, 1);
        dispatch::on_stream_destroy::<TestConfig>(module_stream);
        dispatch::on_filter_config_destroy::<TestConfig>(config);
    }
    assert_eq!(stream.failures.len(), 1, "{:?}", stream.failures);
    assert!(
        stream.failures[0].starts_with("panicked in on_scheduled: scheduled boom"),
        "{:?}",
        stream.failures
    );
    assert!(stream.local_replies == 0 && stream.resets == 0, "the host, not the SDK, ends the stream");
}

#[test]
fn a_request_panic_is_reported_and_the_hook_stops() {
    let config = new_config("panic-request").unwrap();
    let mut stream = MockStream::default();
    let raw = as_raw(&mut stream);
    // Safety: the dispatcher is driven as a host would: a live `MockStream`, the objects the
    // dispatcher returned, each destroyed once.
    unsafe {
        let module_stream = dispatch::on_stream_new::<TestConfig>(config, raw);
        assert_eq!(
            dispatch::on_request_headers::<TestConfig>(raw, module_stream, true),
            ENVOYX_HEADERS_STOP_ITERATION
        );
        dispatch::on_stream_destroy::<TestConfig>(module_stream);
        dispatch::on_filter_config_destroy::<TestConfig>(config);
    }
    assert_eq!(stream.failures.len(), 1, "{:?}", stream.failures);
    let reason = &stream.failures[0];
    // (Where it happened follows the message in a module loaded from a file, whose exported
    // program init installs the SDK's panic hook; the conformance cases check it.)
    assert!(reason.starts_with("panicked in on_request_headers: request boom"), "{reason}");
    assert!(stream.local_replies == 0 && stream.resets == 0, "the host, not the SDK, ends the stream");
    assert!(!logged("request boom"), "the host logs the reason, once");
}

#[test]
fn a_response_panic_is_reported_and_the_hook_stops() {
    let config = new_config("panic-response").unwrap();
    let mut stream = MockStream::default();
    let raw = as_raw(&mut stream);
    // Safety: the dispatcher is driven as a host would: a live `MockStream`, the objects the
    // dispatcher returned, each destroyed once.
    unsafe {
        let module_stream = dispatch::on_stream_new::<TestConfig>(config, raw);
        assert_eq!(
            dispatch::on_response_headers::<TestConfig>(raw, module_stream, false),
            ENVOYX_HEADERS_STOP_ITERATION
        );
        dispatch::on_stream_destroy::<TestConfig>(module_stream);
        dispatch::on_filter_config_destroy::<TestConfig>(config);
    }
    assert_eq!(stream.failures.len(), 1, "{:?}", stream.failures);
    assert!(
        stream.failures[0].starts_with("panicked in on_response_headers: response boom"),
        "{:?}",
        stream.failures
    );
}

#[test]
fn a_new_filter_panic_is_reported_and_no_stream_state_made() {
    let config = new_config("panic-new-filter").unwrap();
    let mut stream = MockStream::default();
    let raw = as_raw(&mut stream);
    // Safety: the dispatcher is driven as a host would: a live `MockStream`, the objects the
    // dispatcher returned, each destroyed once.
    unsafe {
        assert!(dispatch::on_stream_new::<TestConfig>(config, raw).is_null());
        dispatch::on_filter_config_destroy::<TestConfig>(config);
    }
    assert_eq!(stream.failures.len(), 1, "{:?}", stream.failures);
    assert!(
        stream.failures[0].starts_with("panicked in FilterConfig::new_filter: new_filter boom"),
        "{:?}",
        stream.failures
    );
}
