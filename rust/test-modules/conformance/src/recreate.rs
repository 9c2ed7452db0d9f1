//! The `recreate*` cases (ABI 1.2): starting a request over.
//!
//! - `recreate`: a request whose headers end it; the first time through, the module marks it
//!   (`x-conf-recreated: 1`) and starts it over; the new stream sees the mark and lets it go on,
//!   so the upstream gets one request, marked once.
//! - `recreate-refused`: a request with a body: starting over is refused (told upstream in
//!   `x-conf-recreate`) and the request goes on.

use envoyx_sdk::{HeadersStatus, Stream};

/// The request headers hook of a `recreate*` case; None for other cases.
pub(crate) fn request_headers(case: &str, stream: &mut Stream) -> Option<HeadersStatus> {
    match case {
        "recreate" => {
            if stream.request_headers().get_str("x-conf-recreated").is_some() {
                return Some(HeadersStatus::Continue);
            }
            stream.request_headers().set("x-conf-recreated", "1");
            if stream.recreate_stream(&[(":status", "307"), ("location", "/")]) {
                Some(HeadersStatus::StopIteration)
            } else {
                stream.request_headers().set("x-conf-recreate", "false");
                Some(HeadersStatus::Continue)
            }
        }
        "recreate-refused" => {
            let started = stream.recreate_stream(&[]);
            stream.request_headers().set("x-conf-recreate", started.to_string());
            Some(HeadersStatus::Continue)
        }
        _ => None,
    }
}
