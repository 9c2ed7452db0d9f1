//! Flow control (ABI 1.2) under the core's rules, in process: the proxy's watermark news counted
//! and handed to the module as changes only (one above, one below), through the stream's queue;
//! a producer that pauses and resumes its own response with it; the buffer limit read and set.
//! The stream-response example's e2e test shows the same against a slow client in real Envoy.

use envoyx_sdk::{Direction, Filter, FilterConfig, HeadersStatus, Stream};
use envoyx_testhost::{DEFAULT_BUFFER_LIMIT, Direction as HostDirection, TestHost};

struct ProducerConfig;

/// Answers with its own response and sends one chunk per scheduled event while not paused.
struct Producer {
    paused: bool,
    sent: u32,
    news: Vec<String>,
}

impl FilterConfig for ProducerConfig {
    type Filter = Producer;

    fn new(_name: &str, _config: &[u8]) -> Result<Self, String> {
        Ok(ProducerConfig)
    }

    fn new_filter(&self) -> Producer {
        Producer { paused: false, sent: 0, news: Vec::new() }
    }
}

impl Producer {
    fn produce(&mut self, stream: &mut Stream) {
        self.sent += 1;
        stream.send_response_data(format!("chunk {}\n", self.sent).as_bytes(), false);
        stream.handle().schedule(1);
    }
}

impl Filter for Producer {
    fn on_request_headers(&mut self, stream: &mut Stream, _end_of_stream: bool) -> HeadersStatus {
        let limit = stream.buffer_limit().unwrap_or(0).to_string();
        stream.send_response_headers(200, &[("x-limit", &limit)], false);
        self.produce(stream);
        HeadersStatus::StopIteration
    }

    fn on_scheduled(&mut self, stream: &mut Stream, _event_id: u64) {
        if !self.paused {
            self.produce(stream);
        }
    }

    fn on_watermark(&mut self, stream: &mut Stream, direction: Direction, above: bool) {
        self.news.push(format!("{direction:?}:{above}"));
        stream.send_response_data(format!("news {}\n", self.news.join(",")).as_bytes(), false);
        self.paused = above;
        if !above {
            self.produce(stream);
        }
    }
}

fn host(name: &str) -> TestHost {
    TestHost::in_process(envoyx_sdk::module_exports::<ProducerConfig>(), name, "").unwrap()
}

fn lines(stream: &envoyx_testhost::TestStream) -> Vec<String> {
    String::from_utf8(stream.client_response_body()).unwrap().lines().map(str::to_string).collect()
}

#[test]
fn the_module_hears_each_change_once_and_pauses_its_response() {
    let host = host("flow-producer");
    let mut stream = host.stream();
    stream.request_headers(&[(":path", "/events")], true);
    assert_eq!(stream.client_response_headers().get("x-limit").as_deref(), Some("1048576"));
    // Producing: one chunk per scheduled event.
    assert_eq!(stream.run_scheduled(), 1);
    // The proxy says "above" twice (connection and stream): the module hears it once, after
    // the event queued before it.
    stream.watermark(HostDirection::Response, true);
    stream.watermark(HostDirection::Response, true);
    assert_eq!(stream.run_scheduled(), 2);
    assert_eq!(stream.run_scheduled(), 1, "the event queued before the news finds the producer paused");
    assert_eq!(stream.run_scheduled(), 0, "paused: nothing more is produced");
    assert_eq!(lines(&stream), ["chunk 1", "chunk 2", "chunk 3", "news Response:true"]);
    stream.watermark(HostDirection::Response, false);
    assert_eq!(stream.run_scheduled(), 0, "one below of two is no change");
    stream.watermark(HostDirection::Response, false);
    assert_eq!(stream.run_scheduled(), 1);
    assert_eq!(lines(&stream)[4..], ["news Response:true,Response:false", "chunk 4"]);
    assert_eq!(stream.run_scheduled(), 1);
    assert_eq!(lines(&stream).last().map(String::as_str), Some("chunk 5"), "producing again");
}

#[test]
fn the_default_watermark_hook_leaves_the_stream_alone() {
    struct Plain;
    struct PlainFilter;
    impl FilterConfig for Plain {
        type Filter = PlainFilter;
        fn new(_name: &str, _config: &[u8]) -> Result<Self, String> {
            Ok(Plain)
        }
        fn new_filter(&self) -> PlainFilter {
            PlainFilter
        }
    }
    impl Filter for PlainFilter {}
    let host = TestHost::in_process(envoyx_sdk::module_exports::<Plain>(), "flow-plain", "").unwrap();
    let mut stream = host.stream();
    stream.request_headers(&[(":path", "/")], true);
    stream.watermark(HostDirection::Response, true);
    // The SDK exports the hook for every filter; the default does nothing.
    assert_eq!(stream.run_scheduled(), 1);
    assert!(stream.request_headers_forwarded());
    assert_eq!(stream.buffer_limit(), DEFAULT_BUFFER_LIMIT);
}
