//! The test host's C API (`include/envoyx_testhost.h`, one function here per declaration there):
//! a test in another language runs the module linked into its own program through the real core
//! ([`TestHost::in_process`]). Go's `envoyxtest` package loads this library.

use envoyx_abi::{
    ENVOYX_CALLOUT_EVENT_COMPLETE, ENVOYX_CALLOUT_EVENT_DATA, ENVOYX_CALLOUT_EVENT_HEADERS,
    ENVOYX_CALLOUT_EVENT_TRAILERS, ENVOYX_REQUEST_HEADERS, ENVOYX_REQUEST_TRAILERS, ENVOYX_RESPONSE_HEADERS,
    ENVOYX_RESPONSE_TRAILERS, envoyx_bytes, envoyx_header,
};
use envoyx_testhost::{
    CalloutAnswer, CalloutStatus, CalloutStreamEvent, Direction, HeaderMap, MetricValue, RecordedCallout,
    TestHost, TestStream,
};
use std::ffi::{CStr, c_char, c_void};
use std::time::Duration;

/// Bytes handed to the caller, who frees them with [`envoyx_testhost_owned_free`].
#[repr(C)]
pub struct envoyx_testhost_owned {
    ptr: *mut u8,
    len: usize,
}

impl envoyx_testhost_owned {
    fn from(bytes: Vec<u8>) -> Self {
        let boxed = bytes.into_boxed_slice();
        let len = boxed.len();
        Self { ptr: Box::into_raw(boxed).cast(), len }
    }
}

/// Stores `bytes` where `out` points (when it is not null).
fn give(out: Option<&mut envoyx_testhost_owned>, bytes: Vec<u8>) {
    if let Some(out) = out {
        *out = envoyx_testhost_owned::from(bytes);
    }
}

#[unsafe(no_mangle)]
pub extern "C" fn envoyx_testhost_owned_free(owned: envoyx_testhost_owned) {
    if !owned.ptr.is_null() {
        // Safety: `owned` came from `envoyx_testhost_owned::from` (a boxed slice of `len` bytes)
        // and the caller gives it back once.
        drop(unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(owned.ptr, owned.len)) });
    }
}

/// The bytes of a view.
///
/// # Safety
/// `b` must be readable for `b.len` bytes (or have `len` 0).
unsafe fn view<'a>(b: envoyx_bytes) -> &'a [u8] {
    if b.len == 0 {
        return &[];
    }
    // Safety: the caller's contract.
    unsafe { std::slice::from_raw_parts(b.ptr, b.len) }
}

/// `count` items at `ptr` (an empty list for a null pointer or 0).
///
/// # Safety
/// `ptr` must be readable for `count` items.
unsafe fn list<'a, T>(ptr: *const T, count: usize) -> &'a [T] {
    if ptr.is_null() || count == 0 {
        return &[];
    }
    // Safety: the caller's contract.
    unsafe { std::slice::from_raw_parts(ptr, count) }
}

/// # Safety
/// `names` and `functions` hold `count` items: NUL-terminated names and the addresses of the
/// x/abi.h functions of those names; the views are readable; `error` is null or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn envoyx_testhost_new(
    names: *const *const c_char,
    functions: *const *const c_void,
    count: usize,
    name: envoyx_bytes,
    filter_config: envoyx_bytes,
    error: Option<&mut envoyx_testhost_owned>,
) -> Option<Box<TestHost>> {
    // Safety: the caller's contract; no secrets.
    unsafe {
        envoyx_testhost_new_declaring(
            names,
            functions,
            count,
            name,
            filter_config,
            std::ptr::null(),
            0,
            error,
        )
    }
}

/// # Safety
/// As [`envoyx_testhost_new`]; `secrets` holds `secrets_len` readable views.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn envoyx_testhost_new_declaring(
    names: *const *const c_char,
    functions: *const *const c_void,
    count: usize,
    name: envoyx_bytes,
    filter_config: envoyx_bytes,
    secrets: *const envoyx_bytes,
    secrets_len: usize,
    error: Option<&mut envoyx_testhost_owned>,
) -> Option<Box<TestHost>> {
    // Safety: the caller's contract for the list and its views.
    let secrets: Vec<String> = unsafe { list(secrets, secrets_len) }
        .iter()
        .map(|s| String::from_utf8_lossy(unsafe { view(*s) }).into_owned())
        .collect();
    // Safety: the caller's contract for each list.
    let (names, functions) = unsafe { (list(names, count), list(functions, count)) };
    let table: Vec<(&CStr, *const c_void)> = names
        .iter()
        .zip(functions)
        // Safety: each name is NUL-terminated (the caller's contract).
        .map(|(name, function)| (unsafe { CStr::from_ptr(*name) }, *function))
        .collect();
    let lookup =
        |wanted: &str| table.iter().find(|(n, _)| n.to_bytes() == wanted.as_bytes()).map(|(_, f)| *f);
    // Safety: the caller's contract for the views.
    let (name, filter_config) = unsafe { (view(name), view(filter_config)) };
    let (name, filter_config) = (String::from_utf8_lossy(name), String::from_utf8_lossy(filter_config));
    let config = envoyx_core::ModuleConfig {
        filter_config: filter_config.into_owned(),
        secrets: secrets
            .iter()
            .map(|s| envoyx_core::config::SecretRef { name: s.clone(), sds_config: String::new() })
            .collect(),
        ..envoyx_core::ModuleConfig::in_process(&name)
    };
    let host = envoyx_core::resolve_exports(lookup)
        .map_err(|missing| missing.at(std::path::Path::new("<linked into the test program>")).into())
        .and_then(|exports| TestHost::in_process_with_config(exports, &config));
    match host {
        Ok(host) => Some(Box::new(host)),
        Err(e) => {
            give(error, e.to_string().into_bytes());
            None
        }
    }
}

#[unsafe(no_mangle)]
pub extern "C" fn envoyx_testhost_free(host: Option<Box<TestHost>>) {
    drop(host);
}

#[unsafe(no_mangle)]
pub extern "C" fn envoyx_testhost_stream(host: &TestHost) -> Box<TestStream> {
    Box::new(host.stream())
}

/// # Safety
/// The views are readable; `error` is null or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn envoyx_testhost_stream_on_route(
    host: &TestHost,
    name: envoyx_bytes,
    filter_config: envoyx_bytes,
    error: Option<&mut envoyx_testhost_owned>,
) -> Option<Box<TestStream>> {
    // Safety: the caller's contract for the views.
    let (name, filter_config) = unsafe { (view(name), view(filter_config)) };
    let route = host.route_config(&String::from_utf8_lossy(name), &String::from_utf8_lossy(filter_config));
    match route {
        Ok(route) => Some(Box::new(host.stream_on_route(Some(route)))),
        Err(e) => {
            give(error, e.to_string().into_bytes());
            None
        }
    }
}

/// # Safety
/// The views are readable; `labels` holds `count` views.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn envoyx_testhost_metric(
    host: &TestHost,
    name: envoyx_bytes,
    labels: *const envoyx_bytes,
    count: usize,
    out: Option<&mut envoyx_testhost_owned>,
) -> bool {
    // Safety: the caller's contract for the views.
    let name = String::from_utf8_lossy(unsafe { view(name) }).into_owned();
    // Safety: the caller's contract for the list and its views.
    let labels: Vec<String> = unsafe { list(labels, count) }
        .iter()
        .map(|l| String::from_utf8_lossy(unsafe { view(*l) }).into_owned())
        .collect();
    let labels: Vec<&str> = labels.iter().map(String::as_str).collect();
    let Some(value) = host.metric(&name, &labels) else { return false };
    let json = match value {
        MetricValue::Counter(n) => serde_json::json!({ "counter": n }),
        MetricValue::Gauge(n) => serde_json::json!({ "gauge": n }),
        MetricValue::Histogram(values) => serde_json::json!({ "histogram": values }),
    };
    give(out, json.to_string().into_bytes());
    true
}

#[unsafe(no_mangle)]
pub extern "C" fn envoyx_teststream_free(stream: Option<Box<TestStream>>) {
    drop(stream); // completes the stream if needed, then destroys it
}

/// # Safety
/// `headers` holds `count` readable headers.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn envoyx_teststream_headers(
    stream: &mut TestStream,
    map: u32,
    headers: *const envoyx_header,
    count: usize,
    end_of_stream: bool,
) -> u32 {
    // Safety: the caller's contract.
    let headers = unsafe { list(headers, count) };
    let owned: Vec<(String, String)> = headers
        .iter()
        .map(|h| {
            // Safety: the caller's contract for each header's views.
            let (k, v) = unsafe { (view(h.key), view(h.value)) };
            (String::from_utf8_lossy(k).into_owned(), String::from_utf8_lossy(v).into_owned())
        })
        .collect();
    let pairs: Vec<(&str, &str)> = owned.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    match map {
        ENVOYX_REQUEST_HEADERS => stream.request_headers(&pairs, end_of_stream).into(),
        ENVOYX_RESPONSE_HEADERS => stream.response_headers(&pairs, end_of_stream).into(),
        ENVOYX_REQUEST_TRAILERS => stream.request_trailers(&pairs).into(),
        ENVOYX_RESPONSE_TRAILERS => stream.response_trailers(&pairs).into(),
        other => panic!("envoyx_teststream_headers: no header map {other}"),
    }
}

/// # Safety
/// `slices` holds `count` readable views.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn envoyx_teststream_body(
    stream: &mut TestStream,
    direction: u32,
    slices: *const envoyx_bytes,
    count: usize,
    end_of_stream: bool,
) -> u32 {
    // Safety: the caller's contract.
    let slices: Vec<&[u8]> = unsafe { list(slices, count) }.iter().map(|s| unsafe { view(*s) }).collect();
    match direction_of(direction) {
        Direction::Request => stream.request_body(&slices, end_of_stream).into(),
        Direction::Response => stream.response_body(&slices, end_of_stream).into(),
    }
}

fn direction_of(direction: u32) -> Direction {
    if direction == envoyx_abi::ENVOYX_DIRECTION_RESPONSE { Direction::Response } else { Direction::Request }
}

#[unsafe(no_mangle)]
pub extern "C" fn envoyx_teststream_complete(stream: &mut TestStream) {
    stream.complete();
}

#[unsafe(no_mangle)]
pub extern "C" fn envoyx_teststream_run_scheduled(stream: &mut TestStream, wait_ms: u64) -> usize {
    let ran = stream.wait_and_run_scheduled(Duration::from_millis(wait_ms));
    ran + stream.run_scheduled()
}

/// "key\0value\0" pairs.
fn pairs_bytes(map: &HeaderMap) -> Vec<u8> {
    let mut out = Vec::new();
    for (k, v) in map.pairs() {
        for text in [k, v] {
            out.extend_from_slice(text.as_bytes());
            out.push(0);
        }
    }
    out
}

#[unsafe(no_mangle)]
pub extern "C" fn envoyx_teststream_seen_headers(
    stream: &TestStream,
    map: u32,
    out: Option<&mut envoyx_testhost_owned>,
) -> bool {
    let seen = match map {
        ENVOYX_REQUEST_HEADERS => Some(stream.upstream_request_headers()),
        ENVOYX_RESPONSE_HEADERS => Some(stream.client_response_headers()),
        ENVOYX_REQUEST_TRAILERS => stream.upstream_request_trailers(),
        ENVOYX_RESPONSE_TRAILERS => stream.client_response_trailers(),
        _ => None,
    };
    seen.map(|map| give(out, pairs_bytes(&map))).is_some()
}

#[unsafe(no_mangle)]
pub extern "C" fn envoyx_teststream_seen_body(
    stream: &TestStream,
    direction: u32,
    out: Option<&mut envoyx_testhost_owned>,
) {
    let body = match direction_of(direction) {
        Direction::Request => stream.upstream_request_body(),
        Direction::Response => stream.client_response_body(),
    };
    give(out, body);
}

#[unsafe(no_mangle)]
pub extern "C" fn envoyx_teststream_forwarded(stream: &TestStream, direction: u32) -> bool {
    match direction_of(direction) {
        Direction::Request => stream.request_headers_forwarded(),
        Direction::Response => stream.response_headers_forwarded(),
    }
}

#[unsafe(no_mangle)]
pub extern "C" fn envoyx_teststream_local_reply(
    stream: &TestStream,
    status: Option<&mut u32>,
    headers: Option<&mut envoyx_testhost_owned>,
    body: Option<&mut envoyx_testhost_owned>,
    details: Option<&mut envoyx_testhost_owned>,
) -> bool {
    let Some(reply) = stream.local_reply() else { return false };
    if let Some(status) = status {
        *status = reply.status;
    }
    give(headers, pairs_bytes(&reply.headers));
    give(body, reply.body);
    give(details, reply.details.into_bytes());
    true
}

/// The callouts `list` as the header's JSON.
fn callouts_json(list: Vec<RecordedCallout>) -> Vec<u8> {
    let callouts: Vec<serde_json::Value> = list
        .into_iter()
        .map(|c| {
            serde_json::json!({
                "id": c.id,
                "cluster": c.cluster,
                "headers": c.headers,
                "body": String::from_utf8_lossy(&c.body),
                "timeout_ms": c.timeout.as_millis() as u64,
                "streaming": c.streaming,
                "request_ended": c.request_ended,
                "trailers": c.trailers,
            })
        })
        .collect();
    serde_json::Value::from(callouts).to_string().into_bytes()
}

#[unsafe(no_mangle)]
pub extern "C" fn envoyx_teststream_pending_callouts(
    stream: &TestStream,
    out: Option<&mut envoyx_testhost_owned>,
) {
    give(out, callouts_json(stream.pending_callouts()));
}

#[unsafe(no_mangle)]
pub extern "C" fn envoyx_testhost_pending_config_callouts(
    host: &TestHost,
    out: Option<&mut envoyx_testhost_owned>,
) {
    give(out, callouts_json(host.pending_config_callouts()));
}

/// Header pairs from `count` views.
///
/// # Safety
/// `headers` holds `count` readable headers.
unsafe fn pairs_of(headers: *const envoyx_header, count: usize) -> Vec<(String, String)> {
    // Safety: the caller's contract for the list and its views.
    unsafe { list(headers, count) }
        .iter()
        .map(|h| unsafe { (lossy(view(h.key)), lossy(view(h.value))) })
        .collect()
}

/// Body chunks from `count` views.
///
/// # Safety
/// `chunks` holds `count` readable views.
unsafe fn chunks_of(chunks: *const envoyx_bytes, count: usize) -> Vec<Vec<u8>> {
    // Safety: the caller's contract for the list and its views.
    unsafe { list(chunks, count) }.iter().map(|c| unsafe { view(*c) }.to_vec()).collect()
}

/// A callout's answer from the header's arguments.
///
/// # Safety
/// As [`pairs_of`] and [`chunks_of`].
unsafe fn answer_of(
    failed: u32,
    status: u32,
    headers: *const envoyx_header,
    headers_count: usize,
    chunks: *const envoyx_bytes,
    chunks_count: usize,
) -> CalloutAnswer {
    if failed != 0 {
        return CalloutAnswer::Failed(CalloutStatus::from_abi(failed));
    }
    // Safety: the caller's contract.
    let (headers, body) = unsafe { (pairs_of(headers, headers_count), chunks_of(chunks, chunks_count)) };
    CalloutAnswer::Response { status: u16::try_from(status).unwrap_or(u16::MAX), headers, body }
}

/// A streaming callout's event from the header's arguments.
///
/// # Safety
/// As [`pairs_of`] and [`chunks_of`].
#[allow(clippy::too_many_arguments)]
unsafe fn event_of(
    kind: u32,
    failed: u32,
    status: u32,
    headers: *const envoyx_header,
    headers_count: usize,
    chunks: *const envoyx_bytes,
    chunks_count: usize,
    end_of_stream: bool,
) -> CalloutStreamEvent {
    // Safety: the caller's contract.
    let (headers, chunks) = unsafe { (pairs_of(headers, headers_count), chunks_of(chunks, chunks_count)) };
    match kind {
        ENVOYX_CALLOUT_EVENT_HEADERS => CalloutStreamEvent::Headers {
            status: u16::try_from(status).unwrap_or(u16::MAX),
            headers,
            end_of_stream,
        },
        ENVOYX_CALLOUT_EVENT_DATA => CalloutStreamEvent::Data { chunks, end_of_stream },
        ENVOYX_CALLOUT_EVENT_TRAILERS => CalloutStreamEvent::Trailers(headers),
        ENVOYX_CALLOUT_EVENT_COMPLETE => CalloutStreamEvent::Complete,
        _ => CalloutStreamEvent::Failed(CalloutStatus::from_abi(failed)),
    }
}

/// # Safety
/// `headers` and `chunks` hold `headers_count` and `chunks_count` readable items.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn envoyx_teststream_answer_callout(
    stream: &mut TestStream,
    id: u64,
    failed: u32,
    status: u32,
    headers: *const envoyx_header,
    headers_count: usize,
    chunks: *const envoyx_bytes,
    chunks_count: usize,
) {
    // Safety: the caller's contract.
    let answer = unsafe { answer_of(failed, status, headers, headers_count, chunks, chunks_count) };
    stream.answer_callout(id, answer);
}

/// # Safety
/// As [`envoyx_teststream_answer_callout`].
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn envoyx_testhost_answer_config_callout(
    host: &TestHost,
    id: u64,
    failed: u32,
    status: u32,
    headers: *const envoyx_header,
    headers_count: usize,
    chunks: *const envoyx_bytes,
    chunks_count: usize,
) {
    // Safety: the caller's contract.
    let answer = unsafe { answer_of(failed, status, headers, headers_count, chunks, chunks_count) };
    host.answer_config_callout(id, answer);
}

/// # Safety
/// `headers` and `chunks` hold `headers_count` and `chunks_count` readable items.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn envoyx_teststream_callout_event(
    stream: &mut TestStream,
    id: u64,
    kind: u32,
    failed: u32,
    status: u32,
    headers: *const envoyx_header,
    headers_count: usize,
    chunks: *const envoyx_bytes,
    chunks_count: usize,
    end_of_stream: bool,
) {
    // Safety: the caller's contract.
    let event = unsafe {
        event_of(kind, failed, status, headers, headers_count, chunks, chunks_count, end_of_stream)
    };
    stream.callout_stream_event(id, event);
}

/// # Safety
/// As [`envoyx_teststream_callout_event`].
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn envoyx_testhost_config_callout_event(
    host: &TestHost,
    id: u64,
    kind: u32,
    failed: u32,
    status: u32,
    headers: *const envoyx_header,
    headers_count: usize,
    chunks: *const envoyx_bytes,
    chunks_count: usize,
    end_of_stream: bool,
) {
    // Safety: the caller's contract.
    let event = unsafe {
        event_of(kind, failed, status, headers, headers_count, chunks, chunks_count, end_of_stream)
    };
    host.config_callout_stream_event(id, event);
}

#[unsafe(no_mangle)]
pub extern "C" fn envoyx_testhost_run_config_scheduled(host: &TestHost, wait_ms: u64) -> usize {
    host.run_config_scheduled(Duration::from_millis(wait_ms))
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[unsafe(no_mangle)]
pub extern "C" fn envoyx_teststream_was_reset(stream: &TestStream) -> bool {
    stream.was_reset()
}

#[unsafe(no_mangle)]
pub extern "C" fn envoyx_teststream_reset_refused(stream: &TestStream) -> bool {
    stream.reset_reason() == Some(envoyx_testhost::ResetReason::Refused)
}

#[unsafe(no_mangle)]
pub extern "C" fn envoyx_teststream_watermark(stream: &mut TestStream, direction: u32, above: bool) {
    stream.watermark(direction_of(direction), above);
}

#[unsafe(no_mangle)]
pub extern "C" fn envoyx_teststream_buffer_limit(stream: &TestStream) -> u64 {
    stream.buffer_limit()
}

/// # Safety
/// `details` and `body` are readable views for the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn envoyx_teststream_proxy_local_reply(
    stream: &mut TestStream,
    status: u32,
    details: envoyx_bytes,
    body: envoyx_bytes,
) -> bool {
    // Safety: per the caller.
    let (details, body) = unsafe { (view(details), view(body)) };
    stream.proxy_local_reply(status, &String::from_utf8_lossy(details), body)
}

/// # Safety
/// `name` and `value` are readable views for the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn envoyx_testhost_set_secret(name: envoyx_bytes, value: envoyx_bytes) {
    // Safety: per the caller.
    let (name, value) = unsafe { (view(name), view(value)) };
    envoyx_testhost::set_secret(&String::from_utf8_lossy(name), Some(value));
}

/// # Safety
/// `key` is a readable view for the call; `value` is NULL or readable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn envoyx_testhost_set_runtime(
    key: envoyx_bytes,
    value: Option<&envoyx_abi::envoyx_value>,
) {
    // Safety: per the caller.
    let key = String::from_utf8_lossy(unsafe { view(key) }).into_owned();
    let value = value.and_then(|v| match v.kind {
        envoyx_abi::ENVOYX_VALUE_BOOL => Some(envoyx_testhost::RuntimeValue::Bool(v.boolean)),
        envoyx_abi::ENVOYX_VALUE_NUMBER => Some(envoyx_testhost::RuntimeValue::Number(v.number)),
        _ => None,
    });
    envoyx_testhost::set_runtime(&key, value);
}

#[unsafe(no_mangle)]
pub extern "C" fn envoyx_testhost_logs(out: Option<&mut envoyx_testhost_owned>) {
    let mut bytes = Vec::new();
    for (level, message) in envoyx_testhost::logs() {
        bytes.extend_from_slice((level as u32).to_string().as_bytes());
        bytes.push(0);
        bytes.extend_from_slice(message.as_bytes());
        bytes.push(0);
    }
    give(out, bytes);
}

// The stream facts a proxy would know, as the Rust test host's setters give them (client address
// and the other attributes, metadata, upstream attempts, timing): what a Go test sets.

/// A value the caller passed, as the test host stores it (a string copied).
///
/// # Safety
/// A string value's view is readable for the call.
unsafe fn stored(value: &envoyx_abi::envoyx_value) -> Option<envoyx_testhost::StoredValue> {
    use envoyx_testhost::StoredValue;
    Some(match value.kind {
        envoyx_abi::ENVOYX_VALUE_STRING => {
            // Safety: per the caller.
            let bytes = unsafe { view(value.string) };
            StoredValue::String(String::from_utf8_lossy(bytes).into_owned())
        }
        envoyx_abi::ENVOYX_VALUE_NUMBER => StoredValue::Number(value.number),
        envoyx_abi::ENVOYX_VALUE_BOOL => StoredValue::Bool(value.boolean),
        _ => return None,
    })
}

/// # Safety
/// A string value's view is readable for the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn envoyx_teststream_set_attribute(
    stream: &mut TestStream,
    attribute: u32,
    value: &envoyx_abi::envoyx_value,
) -> bool {
    let Some(attribute) = envoyx_testhost::Attribute::from_abi(attribute) else { return false };
    // Safety: per the caller.
    let Some(value) = (unsafe { stored(value) }) else { return false };
    stream.set_attribute(attribute, value);
    true
}

/// # Safety
/// `ns`, `key` and a string value's view are readable for the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn envoyx_teststream_set_metadata(
    stream: &mut TestStream,
    source: u32,
    ns: envoyx_bytes,
    key: envoyx_bytes,
    value: &envoyx_abi::envoyx_value,
) -> bool {
    let Some(source) = envoyx_testhost::MetadataSource::ALL.into_iter().find(|s| *s as u32 == source) else {
        return false;
    };
    // Safety: per the caller.
    let (ns, key, value) = unsafe { (view(ns), view(key), stored(value)) };
    let Some(value) = value else { return false };
    stream.set_source_metadata(source, &String::from_utf8_lossy(ns), &String::from_utf8_lossy(key), value);
    true
}

/// # Safety
/// The views are readable for the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn envoyx_teststream_set_typed_metadata(
    stream: &mut TestStream,
    source: u32,
    ns: envoyx_bytes,
    type_url: envoyx_bytes,
    value: envoyx_bytes,
) -> bool {
    let Some(source) = envoyx_testhost::MetadataSource::ALL.into_iter().find(|s| *s as u32 == source) else {
        return false;
    };
    // Safety: per the caller.
    let (ns, url, value) = unsafe { (view(ns), view(type_url), view(value)) };
    stream.set_typed_metadata(source, &String::from_utf8_lossy(ns), &String::from_utf8_lossy(url), value);
    true
}

/// # Safety
/// `hosts` points at `count` views readable for the call (or is NULL with `count` 0).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn envoyx_teststream_set_upstream_hosts_attempted(
    stream: &mut TestStream,
    hosts: *const envoyx_bytes,
    count: usize,
) {
    let views: &[envoyx_bytes] = if count == 0 || hosts.is_null() {
        &[]
    } else {
        // Safety: per the caller.
        unsafe { std::slice::from_raw_parts(hosts, count) }
    };
    let owned: Vec<String> = views
        .iter()
        .map(|h| {
            // Safety: per the caller.
            let bytes = unsafe { view(*h) };
            String::from_utf8_lossy(bytes).into_owned()
        })
        .collect();
    let hosts: Vec<&str> = owned.iter().map(String::as_str).collect();
    stream.set_upstream_hosts_attempted(&hosts);
}

#[unsafe(no_mangle)]
pub extern "C" fn envoyx_teststream_set_timing(stream: &mut TestStream, timing: u32, ns: i64) {
    stream.set_timing(timing, ns);
}
