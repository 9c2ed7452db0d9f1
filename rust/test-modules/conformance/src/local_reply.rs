//! The `local-reply-*` cases (ABI 1.2): the request goes to a route whose cluster has no host,
//! so the proxy's router answers 503 `no_healthy_upstream` itself, and the module hears of it.
//!
//! - `local-reply-seen`: the module notes what it heard and, as the reply passes its response
//!   headers hook, tells it in `x-conf-local-reply` and changes the status to 502.
//! - `local-reply-reset`: the module has the stream reset instead of the reply.

use envoyx_sdk::{LocalReplyStatus, Stream};

/// The local-reply hook of a `local-reply-*` case: what to note, and what to answer.
pub(crate) fn heard(
    case: &str,
    status: u16,
    details: &str,
    reset_imminent: bool,
) -> (Option<String>, LocalReplyStatus) {
    match case {
        "local-reply-seen" => {
            (Some(format!("{status} {details} {reset_imminent}")), LocalReplyStatus::Continue)
        }
        "local-reply-reset" => (None, LocalReplyStatus::Reset),
        _ => (None, LocalReplyStatus::Continue),
    }
}

/// The response headers hook of `local-reply-seen`: the reply passes; the module changes it.
pub(crate) fn passing(case: &str, noted: Option<&str>, stream: &mut Stream) {
    if case == "local-reply-seen" {
        let mut headers = stream.response_headers();
        headers.set("x-conf-local-reply", noted.unwrap_or("not heard"));
        headers.set(":status", "502");
    }
}
