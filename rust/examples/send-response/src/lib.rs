//! `send-response`: answers streams itself with local replies. The filter_config is ignored.
//!
//! - Request path: a request without an `authorization` header gets `401` with
//!   `www-authenticate: Bearer` and the body `unauthorized\n`; it never reaches upstream.
//! - Response path: when the request's `:path` starts with `/fail-response`, the upstream's
//!   response is replaced by `500` with the body `failed on response path\n`.

use envoyx_sdk::{Filter, FilterConfig, HeadersStatus, Stream, warn};

/// The configuration: nothing to configure.
pub struct SendResponseConfig;

/// One per stream.
pub struct SendResponseFilter {
    /// Set once this filter sent a reply, so that the reply itself is let through.
    replied: bool,
}

impl FilterConfig for SendResponseConfig {
    type Filter = SendResponseFilter;

    fn new(_name: &str, _config: &[u8]) -> Result<Self, String> {
        Ok(SendResponseConfig)
    }

    fn new_filter(&self) -> SendResponseFilter {
        SendResponseFilter { replied: false }
    }
}

impl Filter for SendResponseFilter {
    fn on_request_headers(&mut self, stream: &mut Stream, _end_of_stream: bool) -> HeadersStatus {
        if stream.request_headers().contains_key("authorization") {
            return HeadersStatus::Continue;
        }
        self.replied = true;
        stream.send_local_reply(
            401,
            &[("www-authenticate", "Bearer")],
            b"unauthorized\n",
            "envoyx_unauthorized",
        );
        HeadersStatus::StopIteration
    }

    fn on_response_headers(&mut self, stream: &mut Stream, _end_of_stream: bool) -> HeadersStatus {
        // Request headers stay readable on the response path.
        let fail =
            stream.request_headers().get(":path").is_some_and(|path| path.starts_with(b"/fail-response"));
        if !fail || self.replied {
            return HeadersStatus::Continue;
        }
        self.replied = true;
        if !stream.send_local_reply(500, &[], b"failed on response path\n", "envoyx_failed_on_response") {
            // Too late for a reply (the response already started): abort instead.
            warn!("send-response: response already started; resetting the stream");
            stream.reset();
        }
        HeadersStatus::StopIteration
    }
}

envoyx_sdk::export_module!(SendResponseConfig);
