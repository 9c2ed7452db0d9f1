//! Panics in the hook named by its `filter_config` (`config_new`, `new_filter`,
//! `request_headers`, `request_body`, `request_trailers`, `response_headers`, `response_body`,
//! `response_trailers`, `stream_complete`), to test that panics never cross the FFI boundary.
//! Any other hook passes through; a request header `x-panic: no` turns the panic off.

use envoyx_sdk::{BodyStatus, Filter, FilterConfig, HeadersStatus, Stream, TrailersStatus};

pub struct PanickyConfig {
    hook: String,
}

pub struct PanickyFilter {
    hook: String,
    spared: bool,
}

impl FilterConfig for PanickyConfig {
    type Filter = PanickyFilter;

    fn new(_name: &str, config: &[u8]) -> Result<Self, String> {
        let hook = String::from_utf8_lossy(config).into_owned();
        if hook == "config_new" {
            panic!("panicky: boom in config_new");
        }
        Ok(Self { hook })
    }

    fn new_filter(&self) -> PanickyFilter {
        if self.hook == "new_filter" {
            panic!("panicky: boom in new_filter");
        }
        PanickyFilter { hook: self.hook.clone(), spared: false }
    }
}

impl PanickyFilter {
    fn maybe_panic(&self, hook: &str) {
        if self.hook == hook && !self.spared {
            panic!("panicky: boom in {hook}");
        }
    }
}

impl Filter for PanickyFilter {
    fn on_request_headers(&mut self, stream: &mut Stream, _end_of_stream: bool) -> HeadersStatus {
        self.spared = stream.request_headers().get_str("x-panic") == Some("no");
        self.maybe_panic("request_headers");
        HeadersStatus::Continue
    }
    fn on_request_body(&mut self, _stream: &mut Stream, _end_of_stream: bool) -> BodyStatus {
        self.maybe_panic("request_body");
        BodyStatus::Continue
    }
    fn on_request_trailers(&mut self, _stream: &mut Stream) -> TrailersStatus {
        self.maybe_panic("request_trailers");
        TrailersStatus::Continue
    }
    fn on_response_headers(&mut self, _stream: &mut Stream, _end_of_stream: bool) -> HeadersStatus {
        self.maybe_panic("response_headers");
        HeadersStatus::Continue
    }
    fn on_response_body(&mut self, _stream: &mut Stream, _end_of_stream: bool) -> BodyStatus {
        self.maybe_panic("response_body");
        BodyStatus::Continue
    }
    fn on_response_trailers(&mut self, _stream: &mut Stream) -> TrailersStatus {
        self.maybe_panic("response_trailers");
        TrailersStatus::Continue
    }
    fn on_stream_complete(&mut self, _stream: &mut Stream) {
        self.maybe_panic("stream_complete");
    }
}

envoyx_sdk::export_module!(PanickyConfig);
