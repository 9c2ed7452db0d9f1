//! `body-replace`: edits the request body as a whole, as the request headers instruct:
//!
//! - `x-envoyx-prepend: X` inserts `X` before the body;
//! - `x-envoyx-append: Y` adds `Y` after it;
//! - `x-envoyx-replace: FROM=TO` replaces the first occurrence of `FROM` (searched in the original
//!   body, before prepending and appending) by `TO`.
//!
//! To see the whole body the filter buffers it (`StopIterationAndBuffer` until the end of the
//! request); at the end it is the *buffered* body followed by the *received* (last) chunk, and an
//! occurrence of `FROM` may straddle the two. Requests without any of these headers, or without a
//! body, pass through untouched and unbuffered. Only the request is edited; the response passes
//! through.
//!
//! Content length: when an edit is asked for, the filter calls
//! `Stream::will_change_request_body_length()` in the headers hook (before the body is known),
//! which removes `content-length` and lets the proxy re-frame the request (chunked on HTTP/1.1).
//! Without it EnvoyX would refuse the length-changing edits once the headers went on. The filter_config is ignored.

use std::ops::Range;

use envoyx_sdk::{BodyStatus, Filter, FilterConfig, HeaderMap, HeadersStatus, Stream, TrailersStatus, debug};

/// The edits one request asks for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Edits {
    /// Inserted before the body.
    pub prepend: Option<Vec<u8>>,
    /// Added after the body.
    pub append: Option<Vec<u8>>,
    /// `(FROM, TO)`: the first `FROM` becomes `TO`.
    pub replace: Option<(Vec<u8>, Vec<u8>)>,
}

impl Edits {
    /// Reads the edits from the request headers. A `x-envoyx-replace` without `=`, or with an
    /// empty `FROM`, is ignored.
    pub fn from_headers(headers: &HeaderMap<'_>) -> Self {
        Edits {
            prepend: headers.get("x-envoyx-prepend").map(<[u8]>::to_vec),
            append: headers.get("x-envoyx-append").map(<[u8]>::to_vec),
            replace: headers.get("x-envoyx-replace").and_then(parse_replace),
        }
    }

    /// Whether there is nothing to do.
    pub fn is_empty(&self) -> bool {
        self.prepend.is_none() && self.append.is_none() && self.replace.is_none()
    }
}

/// Splits `FROM=TO` at the first `=`; `None` when there is no `=` or `FROM` is empty.
pub fn parse_replace(value: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
    let split = value.iter().position(|&b| b == b'=')?;
    let (from, to) = (&value[..split], &value[split + 1..]);
    (!from.is_empty()).then(|| (from.to_vec(), to.to_vec()))
}

/// Where the first occurrence of a needle lies in a body made of a buffered part followed by a
/// received part: the range in each part it covers (one or both).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Occurrence {
    /// The bytes of the occurrence in the buffered part.
    pub buffered: Option<Range<usize>>,
    /// The bytes of the occurrence in the received part (offsets within that part).
    pub received: Option<Range<usize>>,
}

/// Finds the first `needle` in `whole` (= buffered part of `buffered_len` bytes, then received
/// part) and splits its range between the two parts.
pub fn locate(whole: &[u8], needle: &[u8], buffered_len: usize) -> Option<Occurrence> {
    if needle.is_empty() {
        return None;
    }
    let start = whole.windows(needle.len()).position(|window| window == needle)?;
    let end = start + needle.len();
    Some(Occurrence {
        buffered: (start < buffered_len).then(|| start..end.min(buffered_len)),
        received: (end > buffered_len).then(|| start.saturating_sub(buffered_len)..end - buffered_len),
    })
}

/// The configuration: nothing to configure.
pub struct ReplaceConfig;

/// One per stream: the edits asked for, if any.
pub struct ReplaceFilter {
    edits: Option<Edits>,
}

impl FilterConfig for ReplaceConfig {
    type Filter = ReplaceFilter;

    fn new(_name: &str, _config: &[u8]) -> Result<Self, String> {
        Ok(ReplaceConfig)
    }

    fn new_filter(&self) -> ReplaceFilter {
        ReplaceFilter { edits: None }
    }
}

/// Applies `edits` to the complete request body. `received` says whether there is a received
/// chunk (in the last body hook) or the whole body is buffered (in the trailers hook).
fn apply(stream: &mut Stream, edits: &Edits, received: bool) {
    if let Some((from, to)) = &edits.replace {
        // Searching needs one contiguous copy of the body; the edits themselves happen in place.
        let whole = stream.whole_request_body().to_vec();
        let buffered_len = stream.buffered_request_body().len();
        if let Some(found) = locate(&whole, from, buffered_len) {
            debug!("body-replace: replacing {found:?}");
            // When the occurrence straddles both parts, `TO` goes where it starts.
            let to_in_received: &[u8] = if found.buffered.is_some() { b"" } else { to };
            if let Some(range) = found.buffered {
                stream.buffered_request_body().replace(range, to);
            }
            if let Some(range) = found.received {
                stream.request_body().replace(range, to_in_received);
            }
        }
    }
    if let Some(prefix) = &edits.prepend {
        if received && stream.buffered_request_body().is_empty() {
            stream.request_body().prepend(prefix);
        } else {
            stream.buffered_request_body().prepend(prefix);
        }
    }
    if let Some(suffix) = &edits.append {
        if received {
            stream.request_body().append(suffix);
        } else {
            stream.buffered_request_body().append(suffix);
        }
    }
}

impl Filter for ReplaceFilter {
    fn on_request_headers(&mut self, stream: &mut Stream, end_of_stream: bool) -> HeadersStatus {
        let edits = Edits::from_headers(&stream.request_headers());
        if edits.is_empty() || end_of_stream {
            return HeadersStatus::Continue;
        }
        // The new length is unknown until the whole body is here: let the proxy re-frame.
        stream.will_change_request_body_length();
        self.edits = Some(edits);
        HeadersStatus::Continue
    }

    fn on_request_body(&mut self, stream: &mut Stream, end_of_stream: bool) -> BodyStatus {
        if self.edits.is_none() {
            return BodyStatus::Continue;
        }
        if !end_of_stream {
            return BodyStatus::StopIterationAndBuffer;
        }
        if let Some(edits) = self.edits.take() {
            apply(stream, &edits, true);
        }
        BodyStatus::Continue
    }

    fn on_request_trailers(&mut self, stream: &mut Stream) -> TrailersStatus {
        // Trailers end the request: everything is in the buffered body now.
        if let Some(edits) = self.edits.take() {
            apply(stream, &edits, false);
        }
        TrailersStatus::Continue
    }
}

envoyx_sdk::export_module!(ReplaceConfig);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_replace_at_the_first_equals() {
        assert_eq!(parse_replace(b"a=b"), Some((b"a".to_vec(), b"b".to_vec())));
        assert_eq!(parse_replace(b"a=b=c"), Some((b"a".to_vec(), b"b=c".to_vec())));
        assert_eq!(parse_replace(b"a="), Some((b"a".to_vec(), b"".to_vec())));
        assert_eq!(parse_replace(b"=b"), None);
        assert_eq!(parse_replace(b"ab"), None);
    }

    #[test]
    fn locates_in_either_part_or_across_both() {
        let whole = b"hello, cruel world";
        // Buffered "hello, cr" (9 bytes), received "uel world".
        assert_eq!(locate(whole, b"hello", 9), Some(Occurrence { buffered: Some(0..5), received: None }));
        assert_eq!(locate(whole, b"world", 9), Some(Occurrence { buffered: None, received: Some(4..9) }));
        assert_eq!(
            locate(whole, b"cruel", 9),
            Some(Occurrence { buffered: Some(7..9), received: Some(0..3) })
        );
        assert_eq!(locate(whole, b"cruel", 0), Some(Occurrence { buffered: None, received: Some(7..12) }));
        assert_eq!(locate(whole, b"kind", 9), None);
        assert_eq!(locate(whole, b"", 9), None);
    }
}
