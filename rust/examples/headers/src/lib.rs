//! `headers`: reads, sets, adds and removes headers in both directions. The filter_config is
//! ignored.
//!
//! Request: sets `x-envoyx-seen: true`, adds one more value to `x-envoyx-multi` (existing values
//! stay), removes `x-envoyx-remove-me`, and remembers every value of `x-envoyx-echo`.
//! Response: sets `x-envoyx-response: ok`, removes `x-envoyx-secret`, and adds the remembered
//! `x-envoyx-echo` values, in order.

use envoyx_sdk::{Filter, FilterConfig, HeadersStatus, Stream};

/// The value this filter adds to `x-envoyx-multi`.
pub const MULTI_VALUE: &str = "added-by-envoyx";

/// The configuration: nothing to configure.
pub struct HeadersConfig;

/// One per stream: carries the echoed values from the request to the response.
pub struct HeadersFilter {
    echo: Vec<Vec<u8>>,
}

impl FilterConfig for HeadersConfig {
    type Filter = HeadersFilter;

    fn new(_name: &str, _config: &[u8]) -> Result<Self, String> {
        Ok(HeadersConfig)
    }

    fn new_filter(&self) -> HeadersFilter {
        HeadersFilter { echo: Vec::new() }
    }
}

impl Filter for HeadersFilter {
    fn on_request_headers(&mut self, stream: &mut Stream, _end_of_stream: bool) -> HeadersStatus {
        let mut headers = stream.request_headers();
        // `get_all` returns views into the host's map; copy them to keep them past this hook.
        self.echo = headers.get_all("x-envoyx-echo").into_iter().map(<[u8]>::to_vec).collect();
        headers.set("x-envoyx-seen", "true");
        headers.add("x-envoyx-multi", MULTI_VALUE);
        headers.remove("x-envoyx-remove-me");
        HeadersStatus::Continue
    }

    fn on_response_headers(&mut self, stream: &mut Stream, _end_of_stream: bool) -> HeadersStatus {
        let mut headers = stream.response_headers();
        headers.set("x-envoyx-response", "ok");
        headers.remove("x-envoyx-secret");
        for value in &self.echo {
            headers.add("x-envoyx-echo", value);
        }
        HeadersStatus::Continue
    }
}

envoyx_sdk::export_module!(HeadersConfig);

/// Unit tests in-process: the filter's own types run through the real EnvoyX core (same rules,
/// same validation) with no `.so` built; `tests/headers.rs` tests the built `.so` itself.
#[cfg(test)]
mod tests {
    use super::HeadersConfig;
    use envoyx_testhost::TestHost;

    #[test]
    fn echoes_and_hides_headers_in_process() {
        let host =
            TestHost::in_process(envoyx_sdk::module_exports::<HeadersConfig>(), "headers", "").unwrap();
        let mut stream = host.stream();
        stream
            .request_headers(&[(":path", "/"), ("x-envoyx-echo", "one"), ("x-envoyx-remove-me", "1")], true);
        assert_eq!(stream.upstream_request_headers().get("x-envoyx-remove-me"), None);
        assert_eq!(stream.upstream_request_headers().get("x-envoyx-seen").as_deref(), Some("true"));
        stream.response_headers(&[(":status", "200"), ("x-envoyx-secret", "s")], true);
        let client = stream.client_response_headers();
        assert_eq!(client.values("x-envoyx-echo"), vec!["one"]);
        assert_eq!(client.get("x-envoyx-secret"), None);
    }
}
