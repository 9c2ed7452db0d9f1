//! How many body bytes the EnvoyX path copies while the transform job runs. The counter lives in
//! the core's per-stream state (`Stream::body_bytes_copied`: what prepend, append and replace
//! bring in); the stock host neither logs nor exposes it inside Envoy, so it is read here by
//! driving the very module `.so` the benchmark loads through the core on the in-process test
//! host, with each body split into 16 KiB slices as Envoy hands them over.

use crate::pattern;
use envoyx_testhost::{SliceBuffer, TestHost};
use std::path::Path;

/// Body bytes copied for each of `sizes`; fails if the module did not deliver the upper-cased
/// body.
pub fn bytes_copied(module: &Path, sizes: &[usize]) -> Result<Vec<(usize, u64)>, String> {
    let host = TestHost::load(module, "bench", "request").map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    for &size in sizes {
        let mut stream = host.stream();
        let length = size.to_string();
        stream
            .request_headers(&[(":method", "POST"), (":path", "/bench"), ("content-length", &length)], false);
        stream.request_body_buffer(SliceBuffer::chunked(&pattern::body(size), 16 << 10), true);
        if stream.upstream_request_body() != pattern::upper(size) {
            return Err(format!("the module did not upper-case a {size}-byte body on the test host"));
        }
        out.push((size, stream.body_bytes_copied()));
    }
    Ok(out)
}
