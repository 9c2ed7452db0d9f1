//! `helloworld`: the smallest useful EnvoyX module. It logs every stream event at info level and
//! changes nothing. The filter_config is ignored.

use envoyx_sdk::{BodyStatus, Filter, FilterConfig, HeadersStatus, Stream, TrailersStatus, info};

/// The configuration: only its name, to tell filters apart in the log.
pub struct HelloWorldConfig {
    name: String,
}

/// One per stream: logs each event.
pub struct HelloWorldFilter {
    name: String,
}

impl FilterConfig for HelloWorldConfig {
    type Filter = HelloWorldFilter;

    fn new(name: &str, _config: &[u8]) -> Result<Self, String> {
        info!("helloworld[{name}]: filter config created");
        Ok(HelloWorldConfig { name: name.to_owned() })
    }

    fn new_filter(&self) -> HelloWorldFilter {
        HelloWorldFilter { name: self.name.clone() }
    }
}

impl Filter for HelloWorldFilter {
    fn on_request_headers(&mut self, stream: &mut Stream, end_of_stream: bool) -> HeadersStatus {
        let headers = stream.request_headers();
        let method = headers.get_str(":method").unwrap_or("-");
        let path = headers.get_str(":path").unwrap_or("-");
        info!("helloworld[{}]: request headers {method} {path} (end_of_stream={end_of_stream})", self.name);
        HeadersStatus::Continue
    }

    fn on_request_body(&mut self, stream: &mut Stream, end_of_stream: bool) -> BodyStatus {
        let len = stream.request_body().len();
        info!("helloworld[{}]: request body chunk of {len} bytes (end_of_stream={end_of_stream})", self.name);
        BodyStatus::Continue
    }

    fn on_request_trailers(&mut self, stream: &mut Stream) -> TrailersStatus {
        let count = stream.request_trailers().len();
        info!("helloworld[{}]: request trailers, {count} entries", self.name);
        TrailersStatus::Continue
    }

    fn on_response_headers(&mut self, stream: &mut Stream, end_of_stream: bool) -> HeadersStatus {
        let headers = stream.response_headers();
        let status = headers.get_str(":status").unwrap_or("-");
        info!("helloworld[{}]: response headers, status {status} (end_of_stream={end_of_stream})", self.name);
        HeadersStatus::Continue
    }

    fn on_response_body(&mut self, stream: &mut Stream, end_of_stream: bool) -> BodyStatus {
        let len = stream.response_body().len();
        info!(
            "helloworld[{}]: response body chunk of {len} bytes (end_of_stream={end_of_stream})",
            self.name
        );
        BodyStatus::Continue
    }

    fn on_response_trailers(&mut self, stream: &mut Stream) -> TrailersStatus {
        let count = stream.response_trailers().len();
        info!("helloworld[{}]: response trailers, {count} entries", self.name);
        TrailersStatus::Continue
    }

    fn on_stream_complete(&mut self, _stream: &mut Stream) {
        info!("helloworld[{}]: stream complete", self.name);
    }
}

envoyx_sdk::export_module!(HelloWorldConfig);
