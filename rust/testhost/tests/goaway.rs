//! Closing the client's connection (ABI 1.2 `send_goaway_and_close`) in process: the stream ends
//! as by a reset, the test host records whether gracefully, and nothing reaches the upstream;
//! outside an event hook it is refused as a reset would be. Envoy: `stock-host/tests/http2.rs`.

use envoyx_sdk::{Filter, FilterConfig, HeadersStatus, Stream};
use envoyx_testhost::TestHost;

struct Config(bool);

struct Leave(bool);

impl FilterConfig for Config {
    type Filter = Leave;

    fn new(_name: &str, config: &[u8]) -> Result<Self, String> {
        Ok(Config(config == b"graceful"))
    }

    fn new_filter(&self) -> Leave {
        Leave(self.0)
    }
}

impl Filter for Leave {
    fn on_request_headers(&mut self, stream: &mut Stream, _end_of_stream: bool) -> HeadersStatus {
        assert!(stream.send_goaway_and_close(self.0));
        HeadersStatus::StopIteration
    }
}

#[test]
fn the_stream_ends_with_its_connection() {
    for (config, graceful) in [("", false), ("graceful", true)] {
        let host = TestHost::in_process(envoyx_sdk::module_exports::<Config>(), "leave", config).unwrap();
        let mut stream = host.stream();
        stream.request_headers(&[(":method", "GET"), (":path", "/"), (":authority", "app")], true);
        assert_eq!(stream.goaway(), Some(graceful));
        assert!(stream.was_reset());
        assert!(!stream.request_headers_forwarded(), "nothing went upstream");
    }
}
