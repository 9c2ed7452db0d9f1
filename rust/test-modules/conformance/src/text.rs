//! The `text-*` cases: every entry point that hands the proxy a string, fed every control
//! character and (where the rule is UTF-8) invalid UTF-8, through the raw host table — the way a
//! C module could call it, since the SDK's `&str` arguments cannot carry invalid UTF-8. Each case
//! tells, per argument, how many of the bad strings the host refused out of how many it was
//! given (`x-conf-results`, e.g. `key=68/68`). The metadata and filter-state cases also try a
//! value forging a log line under [`FORGED_KEY`] and set a clean one under [`TEXT_KEY`], so that
//! an access log printing both shows whether anything bad got through.

use envoyx_abi::{envoyx_bytes, envoyx_header, envoyx_host_api, envoyx_stream, envoyx_value};
use envoyx_sdk::Stream;

use envoyx_conformance::{FORGED_KEY, TEXT_KEY, TEXT_VALUE};

/// What the module tries to set under [`FORGED_KEY`]: a value that would forge a log line.
const FORGED_VALUE: &[u8] = b"a\n[2026-01-01 00:00:00.000][1][info][main] forged line";

/// The control bytes of one byte: C0 (tab included) and DEL.
fn control_bytes() -> impl Iterator<Item = u8> {
    (0u8..0x20).chain([0x7f])
}

/// Every bad string of the UTF-8 rule, each between two letters: each C0 control and DEL, each
/// C1 control (as UTF-8), and three invalid UTF-8 sequences (a stray byte, a cut sequence, an
/// encoded surrogate).
fn bad_text() -> Vec<Vec<u8>> {
    let mut texts: Vec<Vec<u8>> = control_bytes().map(|b| vec![b'a', b, b'z']).collect();
    for c in '\u{80}'..='\u{9f}' {
        texts.push(format!("a{c}z").into_bytes());
    }
    texts.extend([b"a\xffz".to_vec(), b"a\xc3z".to_vec(), b"a\xed\xa0\x80z".to_vec()]);
    texts
}

fn bytes(b: &[u8]) -> envoyx_bytes {
    envoyx_bytes::from_slice(b)
}

/// `name=<refused>/<tried>`: how many of `texts` `call` refused (returned false for).
fn tally(name: &str, texts: &[Vec<u8>], mut call: impl FnMut(&[u8]) -> bool) -> String {
    let refused = texts.iter().filter(|text| !call(text)).count();
    format!("{name}={refused}/{}", texts.len())
}

/// Runs the text case `case` on `stream`: the results to tell back, or None for another case.
/// A `text-reply-details` case ends the stream with its own reply (the results go in it).
pub fn run(case: &str, stream: &mut Stream) -> Option<Vec<String>> {
    let host = envoyx_sdk::host_api()?;
    let raw = stream.as_raw();
    // Every host call below is safe for the same reason ("see `run`"): `raw` is the stream of
    // the running hook and `host` the table the host initialised the module with; every view
    // points at bytes alive during the call.
    let results = match case {
        "text-header-name" => header_name(host, raw),
        "text-header-value" => header_value(host, raw),
        "text-metadata" => metadata(host, raw),
        "text-filter-state" => filter_state(host, raw),
        "text-span-tag" => span_tag(host, raw),
        "text-metric-label" => metric_label(host, raw),
        "text-reply-details" => reply_details(host, raw),
        "text-log" => log(host),
        _ => return None,
    };
    Some(results)
}

/// Header names: every control byte refused (on set and on add).
fn header_name(host: &envoyx_host_api, raw: *mut envoyx_stream) -> Vec<String> {
    let names: Vec<Vec<u8>> = control_bytes().map(|b| vec![b'x', b'-', b, b'z']).collect();
    let map = envoyx_abi::ENVOYX_REQUEST_HEADERS;
    // Safety: see `run`.
    let set = |name: &[u8]| unsafe { (host.header_set)(raw, map, bytes(name), bytes(b"v")) };
    // Safety: see `run`.
    let add = |name: &[u8]| unsafe { (host.header_add)(raw, map, bytes(name), bytes(b"v")) };
    vec![tally("set", &names, set), tally("add", &names, add)]
}

/// Header values: every control byte but tab refused; tab (HTTP allows it) accepted.
fn header_value(host: &envoyx_host_api, raw: *mut envoyx_stream) -> Vec<String> {
    let values: Vec<Vec<u8>> = control_bytes().filter(|b| *b != b'\t').map(|b| vec![b'a', b, b'z']).collect();
    let map = envoyx_abi::ENVOYX_REQUEST_HEADERS;
    let key = bytes(b"x-conf-text");
    // Safety: see `run`.
    let set = |value: &[u8]| unsafe { (host.header_set)(raw, map, key, bytes(value)) };
    let mut results = vec![tally("set", &values, set)];
    results.push(format!("tab={}", crate::yes_no(set(b"a\tz"))));
    results
}

/// Metadata: the namespace, the key and a string value each refuse every bad string; a good
/// value is set last.
///
/// `raw` and `host` as in `run`.
fn metadata(host: &envoyx_host_api, raw: *mut envoyx_stream) -> Vec<String> {
    let texts = bad_text();
    let (ns, key, value) =
        (bytes(TEXT_KEY.as_bytes()), bytes(b"value"), envoyx_value::string(TEXT_VALUE.as_bytes()));
    // Safety: see `run`.
    unsafe {
        let mut results = vec![
            tally("ns", &texts, |bad| (host.metadata_set)(raw, bytes(bad), key, value)),
            tally("key", &texts, |bad| (host.metadata_set)(raw, ns, bytes(bad), value)),
            tally("value", &texts, |bad| (host.metadata_set)(raw, ns, key, envoyx_value::string(bad))),
        ];
        let forged =
            (host.metadata_set)(raw, ns, bytes(FORGED_KEY.as_bytes()), envoyx_value::string(FORGED_VALUE));
        results.push(format!("forged={}", crate::yes_no(forged)));
        results.push(format!("good={}", crate::yes_no((host.metadata_set)(raw, ns, key, value))));
        results
    }
}

/// Filter state: the key and the value each refuse every bad string; a good one is set last.
///
/// `raw` and `host` as in `run`.
fn filter_state(host: &envoyx_host_api, raw: *mut envoyx_stream) -> Vec<String> {
    let texts = bad_text();
    let (key, value) = (bytes(TEXT_KEY.as_bytes()), bytes(TEXT_VALUE.as_bytes()));
    // Safety: see `run`.
    unsafe {
        let mut results = vec![
            tally("key", &texts, |bad| (host.filter_state_set)(raw, bytes(bad), value)),
            tally("value", &texts, |bad| (host.filter_state_set)(raw, key, bytes(bad))),
        ];
        let forged = (host.filter_state_set)(raw, bytes(FORGED_KEY.as_bytes()), bytes(FORGED_VALUE));
        results.push(format!("forged={}", crate::yes_no(forged)));
        results.push(format!("good={}", crate::yes_no((host.filter_state_set)(raw, key, value))));
        results
    }
}

/// Span tags: the key and the value each refuse every bad string, whether or not the stream
/// has a span (no host of the suite has one).
///
/// `raw` and `host` as in `run`.
fn span_tag(host: &envoyx_host_api, raw: *mut envoyx_stream) -> Vec<String> {
    let texts = bad_text();
    let (key, value) = (bytes(TEXT_KEY.as_bytes()), bytes(TEXT_VALUE.as_bytes()));
    // Safety: see `run`.
    unsafe {
        vec![
            tally("key", &texts, |bad| (host.span_set_tag)(raw, bytes(bad), value)),
            tally("value", &texts, |bad| (host.span_set_tag)(raw, key, bytes(bad))),
        ]
    }
}

/// Metric label values (of the configuration's `requests` counter, metric 1, one label): every
/// bad string refused; a good one recorded.
///
/// `raw` and `host` as in `run`.
fn metric_label(host: &envoyx_host_api, raw: *mut envoyx_stream) -> Vec<String> {
    let texts = bad_text();
    let record = |label: &[u8]| {
        let labels = [bytes(label)];
        // Safety: see `run`.
        unsafe { (host.metric_record)(raw, 1, labels.as_ptr(), 1, envoyx_abi::ENVOYX_METRIC_ADD, 1) }
    };
    vec![tally("label", &texts, record), format!("good={}", crate::yes_no(record(b"text-metric-label")))]
}

/// Local-reply details: every bad string refused (and no reply sent); then a reply with good
/// details, carrying the results.
///
/// `raw` and `host` as in `run`.
fn reply_details(host: &envoyx_host_api, raw: *mut envoyx_stream) -> Vec<String> {
    let texts = bad_text();
    let reply = |details: &[u8], headers: &[envoyx_header]| {
        // Safety: see `run`.
        unsafe {
            (host.send_local_reply)(
                raw,
                400,
                headers.as_ptr(),
                headers.len(),
                bytes(b"details checked\n"),
                bytes(details),
            )
        }
    };
    let refused = tally("details", &texts, |bad| reply(bad, &[]));
    let results = format!("{refused},good=true");
    let header = [envoyx_header { key: bytes(b"x-conf-results"), value: bytes(results.as_bytes()) }];
    reply(b"envoyx_conformance_text", &header);
    Vec::new()
}

/// Log messages: never refused, written on one line with every control character and bad byte
/// escaped (the case's expected log lines name a few).
fn log(host: &envoyx_host_api) -> Vec<String> {
    for (i, text) in bad_text().iter().enumerate() {
        let mut message = format!("conformance text-log {i}: <").into_bytes();
        message.extend_from_slice(text);
        message.push(b'>');
        // Safety: the table the host initialised the module with; the view is alive.
        unsafe { (host.log)(envoyx_abi::ENVOYX_LOG_INFO, bytes(&message)) };
    }
    vec!["logged=true".to_string()]
}
