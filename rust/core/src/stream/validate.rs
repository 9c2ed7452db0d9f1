//! The one check of everything a module hands the host: header names and values, local-reply
//! statuses and details. Every host runs these (they sit in the host table), so a module that
//! passes its tests on the test host behaves the same inside Envoy.
//!
//! The rules:
//! - A header name is an HTTP token (RFC 9110 `tchar`s), non-empty. Upper-case letters are
//!   lower-cased, as Envoy and HTTP/2 keep names; every other byte outside `tchar` is refused.
//! - A pseudo-header (`:name`) may only be set, never added or removed, and only where Envoy has
//!   it: `:method`, `:path`, `:authority`, `:scheme`, `:protocol` in request headers, `:status`
//!   (three digits, 100–599) in response headers; never in trailers or a local reply.
//! - A header value is non-empty and holds no control byte other than horizontal tab (so no NUL,
//!   CR or LF, which would split or end a header on the wire). Empty values are refused on every
//!   host because stock Envoy's dynamic-modules ABI treats an empty value as "remove".
//! - A local reply's status is 200–599; its details are UTF-8 without whitespace or control
//!   characters (Envoy's response-code details are one token, printed by access logs).
//! - Text a module hands the proxy that logs, access logs, stats or traces print — a metadata
//!   namespace, key or string value, a filter-state key or value, a span tag's key or value, a
//!   metric label value — is UTF-8 without control characters (C0 including tab, DEL, C1),
//!   since those print it raw (`%DYNAMIC_METADATA%`, `%FILTER_STATE(key:PLAIN)%`): a line break
//!   copied from a request would forge an access-log line. Names are 1–[`MAX_NAME`] bytes, values
//!   at most [`MAX_VALUE`] ([`text`], [`name`]). Header values are HTTP's bytes instead (tab and
//!   obs-text allowed), checked as above.
//! - Bounds a module cannot pass by mistake (a loop that never ends, a buffer sent whole): a
//!   header name of at most [`MAX_HEADER_NAME`] bytes, a value of at most [`MAX_HEADER_VALUE`];
//!   at most [`MAX_HEADER_WRITES`] header sets and adds per stream; a local reply with at most
//!   [`MAX_REPLY_HEADERS`] headers, a body of at most [`MAX_REPLY_BODY`] bytes and details of at
//!   most [`MAX_REPLY_DETAILS`]; the module's own response likewise per call, and at most
//!   [`MAX_ANSWER_QUEUED`] bytes of it from one hook; a callout timeout of 1 to [`MAX_CALLOUT_TIMEOUT_MS`]
//!   milliseconds. Each is refused like any other bad input (false, logged).

use crate::vocab::HeaderMapKind;
use std::borrow::Cow;

/// The longest header name a module may hand in, in bytes.
pub const MAX_HEADER_NAME: usize = 1 << 10;
/// The longest header value, in bytes (Envoy's whole default header block is 60 KiB).
pub const MAX_HEADER_VALUE: usize = 64 << 10;
/// How many header sets and adds one stream's module may make, over every map.
pub const MAX_HEADER_WRITES: u32 = 1024;
/// How many headers a local reply may carry.
pub const MAX_REPLY_HEADERS: usize = 64;
/// The largest local reply body, in bytes.
pub const MAX_REPLY_BODY: usize = 1 << 20;
/// The most response data one hook may send (ABI 1.2 `send_response_data`), in bytes: it waits
/// in memory until the hook returns.
pub const MAX_ANSWER_QUEUED: usize = 16 << 20;
/// The longest local reply details, in bytes.
pub const MAX_REPLY_DETAILS: usize = 256;
/// The longest callout timeout, in milliseconds: a day. Envoy turns it into a signed duration; a
/// callout that must live longer (a stream of updates) reconnects.
pub const MAX_CALLOUT_TIMEOUT_MS: usize = 24 * 60 * 60 * 1000;
/// The longest metadata namespace or key, filter-state key or span tag key, in bytes.
pub const MAX_NAME: usize = 256;
/// The longest metadata string value, filter-state value or span tag value, in bytes.
pub const MAX_VALUE: usize = 64 << 10;

/// Why the core refused something a module handed it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    EmptyName,
    /// The byte that is not allowed in a header name.
    NameByte(u8),
    /// A pseudo-header this map or operation does not allow.
    PseudoHeader,
    /// `:status` that is not three digits in 100–599.
    StatusHeader,
    EmptyValue,
    /// The control byte found in a header value.
    ValueByte(u8),
    ReplyStatus(u32),
    /// The byte that is not allowed in details (a local reply's, a reset's): which, and the byte.
    DetailsByte(&'static str, u8),
    /// A bound passed: what, its length or count, and the bound.
    TooLarge(&'static str, usize, usize),
    /// Text longer than its bound: what, its length and the bound, in bytes.
    TextTooLong(&'static str, usize, usize),
    /// Text that must not be empty is.
    EmptyText(&'static str),
    /// Text that is not UTF-8: what, the first bad byte and its offset.
    NotUtf8(&'static str, u8, usize),
    /// Text holding a control character: what, the character and its byte offset.
    ControlChar(&'static str, char, usize),
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            Refusal::EmptyName => f.write_str("the header name is empty"),
            Refusal::NameByte(b) => {
                write!(f, "byte {} is not allowed in a header name (HTTP token characters only)", show(b))
            }
            Refusal::PseudoHeader => f.write_str(
                "pseudo-headers may only be set, and only :method/:path/:authority/:scheme/:protocol in \
                 request headers and :status in response headers",
            ),
            Refusal::StatusHeader => f.write_str(":status must be three digits between 100 and 599"),
            Refusal::EmptyValue => {
                f.write_str("empty header values are refused (stock Envoy would remove the header instead)")
            }
            Refusal::ValueByte(b) => write!(
                f,
                "byte {} is not allowed in a header value (no control bytes: NUL, CR and LF would corrupt \
                 the message)",
                show(b)
            ),
            Refusal::ReplyStatus(s) => write!(f, "local reply status {s} is outside 200-599"),
            Refusal::DetailsByte(what, b) => write!(
                f,
                "byte {} is not allowed in {what} (one token: no whitespace or control bytes)",
                show(b)
            ),
            Refusal::TooLarge(what, got, bound) => {
                write!(f, "{what} is {got}, more than the bound of {bound}")
            }
            Refusal::TextTooLong(what, got, bound) => {
                write!(f, "the {what} is {got} bytes long, more than the bound of {bound}")
            }
            Refusal::EmptyText(what) => write!(f, "the {what} is empty"),
            Refusal::NotUtf8(what, byte, at) => {
                write!(f, "the {what} is not UTF-8 (byte {} at offset {at})", show(byte))
            }
            Refusal::ControlChar(what, c, at) => write!(
                f,
                "the {what} holds the control character {} at offset {at} (text the proxy's logs, \
                 access logs, stats or traces print must have none)",
                crate::log::Shown(c.encode_utf8(&mut [0; 4]).as_bytes())
            ),
        }
    }
}

fn show(b: u8) -> String {
    match b {
        b'\r' => "\\r".into(),
        b'\n' => "\\n".into(),
        0x21..=0x7e => format!("'{}'", b as char),
        _ => format!("0x{b:02x}"),
    }
}

/// A byte's class in a header name, as bits so that a name's classes can be OR-ed together: a
/// token byte (no bit), an upper-case letter, not a token byte.
const TOKEN: u8 = 0;
const UPPER: u8 = 1;
const NOT_TOKEN: u8 = 2;

/// [`NOT_TOKEN`], [`TOKEN`] or [`UPPER`] for every byte (RFC 9110 `tchar`): one table lookup per
/// byte, as names are checked on every header call.
static NAME_BYTE: [u8; 256] = {
    let mut table = [NOT_TOKEN; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = if c.is_ascii_uppercase() {
            UPPER
        } else if c.is_ascii_alphanumeric() {
            TOKEN
        } else {
            match c {
                b'!' | b'#' | b'$' | b'%' | b'&' | b'\'' | b'*' | b'+' | b'-' | b'.' | b'^' | b'_' | b'`'
                | b'|' | b'~' => TOKEN,
                _ => NOT_TOKEN,
            }
        };
        b += 1;
    }
    table
};

/// Checks that every byte of `name` is a token byte; returns whether any is upper case. The
/// classes are OR-ed without a branch per byte; the bad byte is looked for only when there is one.
fn token_bytes(name: &[u8]) -> Result<bool, Refusal> {
    let classes = name.iter().fold(TOKEN, |seen, &b| seen | NAME_BYTE[usize::from(b)]);
    if classes & NOT_TOKEN != 0 {
        let bad = name.iter().find(|&&b| NAME_BYTE[usize::from(b)] == NOT_TOKEN).copied().unwrap_or(0);
        return Err(Refusal::NameByte(bad));
    }
    Ok(classes & UPPER != 0)
}

/// What a module does with a header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeaderOp {
    Set,
    Add,
    Remove,
}

/// Checks a header name for `op` on `map` and returns it lower-cased (borrowed when it already
/// is).
pub fn header_name(map: Option<HeaderMapKind>, op: HeaderOp, name: &[u8]) -> Result<Cow<'_, [u8]>, Refusal> {
    let Some((&first, rest)) = name.split_first() else { return Err(Refusal::EmptyName) };
    bounded("the header name's length in bytes", name.len(), MAX_HEADER_NAME)?;
    if first == b':' {
        let allowed: &[&[u8]] = match map {
            Some(HeaderMapKind::RequestHeaders) => {
                &[b":method", b":path", b":authority", b":scheme", b":protocol"]
            }
            Some(HeaderMapKind::ResponseHeaders) => &[b":status"],
            _ => &[],
        };
        if op != HeaderOp::Set || !allowed.iter().any(|a| a.eq_ignore_ascii_case(name)) {
            return Err(Refusal::PseudoHeader);
        }
    }
    let upper = token_bytes(if first == b':' { rest } else { name })?;
    Ok(if upper { Cow::Owned(name.to_ascii_lowercase()) } else { Cow::Borrowed(name) })
}

/// Checks a header value (for the already checked, lower-cased `name`).
pub fn header_value(name: &[u8], value: &[u8]) -> Result<(), Refusal> {
    if value.is_empty() {
        return Err(Refusal::EmptyValue);
    }
    bounded("the header value's length in bytes", value.len(), MAX_HEADER_VALUE)?;
    // No branch per byte (the compiler can check many at once); the bad byte is looked for only
    // when there is one.
    if value.iter().fold(false, |bad, &b| bad | value_byte_bad(b)) {
        let bad = value.iter().find(|&&b| value_byte_bad(b)).copied().unwrap_or(0);
        return Err(Refusal::ValueByte(bad));
    }
    if name == b":status" {
        let digits = value.len() == 3 && value.iter().all(u8::is_ascii_digit);
        if !digits || !(&b"100"[..]..=&b"599"[..]).contains(&value) {
            return Err(Refusal::StatusHeader);
        }
    }
    Ok(())
}

/// A control byte other than tab (NUL, CR, LF among them) or DEL: never in a header value.
fn value_byte_bad(b: u8) -> bool {
    (b < 0x20 && b != b'\t') | (b == 0x7f)
}

/// Checks a local reply's status.
pub fn reply_status(status: u32) -> Result<(), Refusal> {
    if (200..=599).contains(&status) { Ok(()) } else { Err(Refusal::ReplyStatus(status)) }
}

/// Checks a bound: `got` may be at most `bound`.
pub fn bounded(what: &'static str, got: usize, bound: usize) -> Result<(), Refusal> {
    if got <= bound { Ok(()) } else { Err(Refusal::TooLarge(what, got, bound)) }
}

/// Checks one more header set or add on a stream that made `made` so far.
pub fn header_write(made: u32) -> Result<(), Refusal> {
    bounded(
        "the number of header sets and adds on this stream",
        made as usize + 1,
        MAX_HEADER_WRITES as usize,
    )
}

/// Checks a local reply's size: its header count and body length.
pub fn reply_size(headers: usize, body: usize) -> Result<(), Refusal> {
    bounded("the local reply's number of headers", headers, MAX_REPLY_HEADERS)?;
    bounded("the local reply's body length in bytes", body, MAX_REPLY_BODY)
}

/// Checks a local reply's details: one token of UTF-8 without whitespace or control characters.
pub fn reply_details(details: &[u8]) -> Result<(), Refusal> {
    bounded("the local reply details' length in bytes", details.len(), MAX_REPLY_DETAILS)?;
    token_details("local reply details", details)
}

/// Checks a reset's details (ABI 1.2, `reset_stream_with_reason`), as a local reply's.
pub fn reset_details(details: &[u8]) -> Result<(), Refusal> {
    bounded("the reset details' length in bytes", details.len(), MAX_REPLY_DETAILS)?;
    token_details("reset details", details)
}

fn token_details(what: &'static str, details: &[u8]) -> Result<(), Refusal> {
    if let Some(&bad) = details.iter().find(|&&b| b <= 0x20 || b == 0x7f) {
        return Err(Refusal::DetailsByte(what, bad));
    }
    text(what, details, MAX_REPLY_DETAILS).map(|_| ())
}

/// Checks text the proxy prints (see the module's rules): UTF-8, no control character, at most
/// `max` bytes (`what` names it in the refusal: "string value", "label value").
pub fn text<'a>(what: &'static str, bytes: &'a [u8], max: usize) -> Result<&'a str, Refusal> {
    if bytes.len() > max {
        return Err(Refusal::TextTooLong(what, bytes.len(), max));
    }
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let at = e.valid_up_to();
        Refusal::NotUtf8(what, bytes[at], at)
    })?;
    match text.char_indices().find(|(_, c)| c.is_control()) {
        Some((at, c)) => Err(Refusal::ControlChar(what, c, at)),
        None => Ok(text),
    }
}

/// Checks a name the proxy prints: [`text`] of 1-[`MAX_NAME`] bytes ("namespace", "key").
pub fn name<'a>(what: &'static str, bytes: &'a [u8]) -> Result<&'a str, Refusal> {
    if bytes.is_empty() {
        return Err(Refusal::EmptyText(what));
    }
    text(what, bytes, MAX_NAME)
}

/// The longest key of the process-wide vocabulary a module names things in: a runtime key, a
/// shared data key, a shared function's name.
pub const MAX_PROCESS_KEY: usize = 256;

/// Checks such a key: 1 to [`MAX_PROCESS_KEY`] bytes of printable ASCII without spaces (Envoy's
/// runtime keys are dotted names; anything else could not be one and would only reach the log).
pub fn process_key(key: &[u8]) -> Result<&str, String> {
    if key.is_empty() || key.len() > MAX_PROCESS_KEY {
        return Err(format!("a key is 1 to {MAX_PROCESS_KEY} bytes, this one {}", key.len()));
    }
    if !key.iter().all(|b| b.is_ascii_graphic()) {
        return Err("a key is printable ASCII without spaces".to_string());
    }
    Ok(std::str::from_utf8(key).expect("printable ASCII is UTF-8"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use HeaderMapKind::*;

    #[test]
    fn names_are_tokens_lower_cased() {
        assert_eq!(header_name(Some(RequestHeaders), HeaderOp::Set, b"X-Foo").unwrap().as_ref(), b"x-foo");
        assert!(matches!(
            header_name(Some(RequestHeaders), HeaderOp::Add, b"x-foo").unwrap(),
            Cow::Borrowed(_)
        ));
        assert_eq!(header_name(None, HeaderOp::Set, b""), Err(Refusal::EmptyName));
        assert_eq!(header_name(None, HeaderOp::Set, b"x foo"), Err(Refusal::NameByte(b' ')));
        assert_eq!(header_name(None, HeaderOp::Set, b"x:foo"), Err(Refusal::NameByte(b':')));
        assert_eq!(header_name(None, HeaderOp::Set, b"x\r\nfoo"), Err(Refusal::NameByte(b'\r')));
    }

    #[test]
    fn the_name_table_is_rfc_9110_tchar() {
        // RFC 9110 5.6.2: tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." /
        // "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA
        let tchar = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
        for b in 0..=255u8 {
            let name = [b'x', b];
            let expected = if !tchar.as_bytes().contains(&b) {
                Err(Refusal::NameByte(b))
            } else {
                Ok(vec![b'x', b.to_ascii_lowercase()])
            };
            assert_eq!(header_name(None, HeaderOp::Set, &name).map(|n| n.into_owned()), expected, "byte {b}");
        }
    }

    #[test]
    fn pseudo_headers_only_set_and_only_where_envoy_has_them() {
        assert!(header_name(Some(RequestHeaders), HeaderOp::Set, b":path").is_ok());
        assert!(header_name(Some(ResponseHeaders), HeaderOp::Set, b":status").is_ok());
        for (map, op, name) in [
            (Some(RequestHeaders), HeaderOp::Add, &b":path"[..]),
            (Some(RequestHeaders), HeaderOp::Remove, b":path"),
            (Some(RequestHeaders), HeaderOp::Set, b":status"),
            (Some(ResponseHeaders), HeaderOp::Set, b":path"),
            (Some(RequestTrailers), HeaderOp::Set, b":path"),
            (Some(RequestHeaders), HeaderOp::Set, b":x-custom"),
            (None, HeaderOp::Set, b":status"),
        ] {
            assert_eq!(
                header_name(map, op, name),
                Err(Refusal::PseudoHeader),
                "{:?}",
                String::from_utf8_lossy(name)
            );
        }
    }

    #[test]
    fn values_refuse_control_bytes_and_empty() {
        assert!(header_value(b"x", b"a b\tc \x80").is_ok());
        assert_eq!(header_value(b"x", b""), Err(Refusal::EmptyValue));
        assert_eq!(header_value(b"x", b"a\r\nb"), Err(Refusal::ValueByte(b'\r')));
        assert_eq!(header_value(b"x", b"a\nb"), Err(Refusal::ValueByte(b'\n')));
        assert_eq!(header_value(b"x", b"a\0"), Err(Refusal::ValueByte(0)));
        assert_eq!(header_value(b"x", b"\x7f"), Err(Refusal::ValueByte(0x7f)));
        assert!(header_value(b":status", b"204").is_ok());
        for bad in [&b"99"[..], b"600", b"2x4", b"1000", b"099"] {
            assert_eq!(header_value(b":status", bad), Err(Refusal::StatusHeader));
        }
    }

    #[test]
    fn bounds_are_refused_with_the_figures() {
        let long_name = vec![b'a'; MAX_HEADER_NAME + 1];
        assert_eq!(
            header_name(None, HeaderOp::Add, &long_name),
            Err(Refusal::TooLarge("the header name's length in bytes", MAX_HEADER_NAME + 1, MAX_HEADER_NAME))
        );
        assert!(header_name(None, HeaderOp::Add, &long_name[1..]).is_ok(), "the bound itself is fine");
        let long_value = vec![b'v'; MAX_HEADER_VALUE + 1];
        assert!(matches!(header_value(b"x", &long_value), Err(Refusal::TooLarge(_, _, MAX_HEADER_VALUE))));
        assert!(header_value(b"x", &long_value[1..]).is_ok());
        assert!(header_write(MAX_HEADER_WRITES - 1).is_ok());
        let refusal = header_write(MAX_HEADER_WRITES).unwrap_err();
        assert_eq!(
            refusal.to_string(),
            "the number of header sets and adds on this stream is 1025, more than the bound of 1024"
        );
        assert!(reply_size(MAX_REPLY_HEADERS, MAX_REPLY_BODY).is_ok());
        assert!(reply_size(MAX_REPLY_HEADERS + 1, 0).is_err() && reply_size(0, MAX_REPLY_BODY + 1).is_err());
        assert!(reply_details(&vec![b'd'; MAX_REPLY_DETAILS + 1]).is_err());
    }

    #[test]
    fn reply_status_and_details() {
        assert!(reply_status(200).is_ok() && reply_status(599).is_ok());
        assert_eq!(reply_status(199), Err(Refusal::ReplyStatus(199)));
        assert_eq!(reply_status(600), Err(Refusal::ReplyStatus(600)));
        assert!(reply_details(b"envoyx_unauthorized").is_ok() && reply_details(b"").is_ok());
        assert_eq!(reply_details(b"not allowed"), Err(Refusal::DetailsByte("local reply details", b' ')));
        assert_eq!(reset_details(b"shed\tload"), Err(Refusal::DetailsByte("reset details", b'\t')));
        assert!(
            reset_details(b"envoyx_shed").is_ok() && reset_details(&[b'd'; MAX_REPLY_DETAILS + 1]).is_err()
        );
        assert_eq!(reply_details(b"ok\xff"), Err(Refusal::NotUtf8("local reply details", 0xff, 2)));
        assert!(Refusal::ValueByte(b'\r').to_string().contains("\\r"));
    }

    #[test]
    fn text_is_utf8_without_control_characters() {
        assert_eq!(text("string value", "caf\u{e9} ok".as_bytes(), 64), Ok("caf\u{e9} ok"));
        assert_eq!(text("string value", b"", 64), Ok(""));
        for b in (0u8..0x20).chain([0x7f]) {
            let bytes = [b'a', b];
            assert_eq!(
                text("string value", &bytes, 64),
                Err(Refusal::ControlChar("string value", b as char, 1)),
                "byte {b:#x}"
            );
        }
        // C1 controls are characters of two bytes.
        assert_eq!(text("key", "a\u{85}".as_bytes(), 64), Err(Refusal::ControlChar("key", '\u{85}', 1)));
        assert_eq!(text("key", b"ab\xff", 64), Err(Refusal::NotUtf8("key", 0xff, 2)));
        assert_eq!(text("key", b"ab\xc3", 64), Err(Refusal::NotUtf8("key", 0xc3, 2)), "cut sequence");
        assert_eq!(
            text("label value", &[b'v'; 257], 256),
            Err(Refusal::TextTooLong("label value", 257, 256))
        );
        assert_eq!(name("namespace", b""), Err(Refusal::EmptyText("namespace")));
        assert!(name("key", &[b'k'; MAX_NAME + 1]).is_err() && name("key", &[b'k'; MAX_NAME]).is_ok());
        let shown = Refusal::ControlChar("string value", '\n', 3).to_string();
        assert!(shown.contains("control character \\n at offset 3") && !shown.contains('\n'), "{shown}");
    }
}
