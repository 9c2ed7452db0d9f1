//! The `buffer-limit` case (ABI 1.2): the stream's buffer limit read, set and read back, and
//! limits out of range refused; told upstream in `x-conf-limit`.

use envoyx_sdk::{HeadersStatus, Stream};

/// The request headers hook of a flow-control case; None for other cases.
pub(crate) fn request_headers(case: &str, stream: &mut Stream) -> Option<HeadersStatus> {
    if case != "buffer-limit" {
        return None;
    }
    let known = stream.buffer_limit().is_some();
    let set = stream.set_buffer_limit(65536);
    let after = stream.buffer_limit().unwrap_or(0);
    let zero = stream.set_buffer_limit(0);
    let huge = stream.set_buffer_limit(2 << 30);
    let results = format!("known={known},set={set},after={after},zero={zero},huge={huge}");
    stream.request_headers().set("x-conf-limit", results);
    Some(HeadersStatus::Continue)
}
