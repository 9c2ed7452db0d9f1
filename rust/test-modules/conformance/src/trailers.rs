//! The `trailers-add*` cases (ABI 1.2): trailers for a direction that had none.
//!
//! - `trailers-add`: asked for in the request headers hook (refused: `early=false`), then added
//!   to the request in its last body chunk (`x-conf-added: request`, read back in the response
//!   headers hook as `request=request`) and to the response in its last body chunk
//!   (`x-conf-added: response`, which the client gets as a trailer).
//! - `trailers-add-stock`: the same without the early try, where the proxy cannot add them
//!   (`request=none`, no trailers).

use envoyx_sdk::Stream;

fn is_trailers_case(case: &str) -> bool {
    case == "trailers-add" || case == "trailers-add-stock"
}

/// The request headers hook: the early, refused try.
pub(crate) fn request_headers(case: &str, stream: &mut Stream, results: &mut Vec<String>) {
    if case == "trailers-add" {
        let early = stream.add_request_trailers().is_some();
        results.push(format!("early={early}"));
    }
}

/// A body hook of `direction` ("request" or "response"): the trailers, with the last chunk.
pub(crate) fn body(case: &str, stream: &mut Stream, end_of_stream: bool, response: bool) {
    if !is_trailers_case(case) || !end_of_stream {
        return;
    }
    let (added, value) = if response {
        (stream.add_response_trailers(), "response")
    } else {
        (stream.add_request_trailers(), "request")
    };
    if let Some(mut trailers) = added {
        trailers.set("x-conf-added", value);
    }
}

/// The response headers hook: what the request's trailers hold now.
pub(crate) fn response_headers(case: &str, stream: &mut Stream, results: &mut Vec<String>) {
    if is_trailers_case(case) {
        let request = stream.request_trailers().get_str("x-conf-added").unwrap_or("none").to_string();
        results.push(format!("request={request}"));
    }
}
