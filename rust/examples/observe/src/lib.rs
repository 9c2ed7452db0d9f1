//! An observability filter: what a team adds to see and steer its traffic.
//!
//! - A labelled counter `requests{route, class}`: every response, by the route's name (or
//!   `none`) and its class (`2xx`, `4xx`, ...). A histogram `latency_ms`: the time from the
//!   request headers to the end of the stream.
//! - Dynamic metadata in the namespace `envoyx.observe`: `client` (the client's address) and
//!   `decision` (`rerouted` or `passed`), which Envoy's access log prints with
//!   `%DYNAMIC_METADATA(envoyx.observe:client)%`.
//! - Re-routing: a path containing `from` (default `/v1/`) gets it replaced by `to` (default
//!   `/v2/`) and the route cache cleared, so Envoy picks the route of the new path; the original
//!   path goes on as `x-observe-rerouted-from`.
//!
//! Filter config: space-separated `key=value`, each optional: `from=/v1/`, `to=/v2/`.

use std::time::Instant;

use envoyx_sdk::{Attribute, Counter, Filter, FilterConfig, HeadersStatus, Histogram, Stream};

/// The dynamic-metadata namespace the filter writes.
pub const NAMESPACE: &str = "envoyx.observe";

/// The filter configuration: the re-route rule and the metrics, defined once.
pub struct ObserveConfig {
    pub from: String,
    pub to: String,
    requests: Counter,
    latency_ms: Histogram,
}

impl FilterConfig for ObserveConfig {
    type Filter = Observe;

    fn new(name: &str, config: &[u8]) -> Result<Self, String> {
        let text = std::str::from_utf8(config).map_err(|_| format!("{name}: config is not UTF-8"))?;
        let (mut from, mut to) = ("/v1/".to_string(), "/v2/".to_string());
        for item in text.split_whitespace() {
            match item.split_once('=') {
                Some(("from", v)) if v.starts_with('/') => from = v.to_string(),
                Some(("to", v)) if v.starts_with('/') => to = v.to_string(),
                _ => return Err(format!("{name}: `{item}` is not from=/path/ or to=/path/")),
            }
        }
        let requests = Counter::define("requests", &["route", "class"])
            .ok_or_else(|| format!("{name}: the host refused the metric `requests`"))?;
        let latency_ms = Histogram::define("latency_ms", &[])
            .ok_or_else(|| format!("{name}: the host refused the metric `latency_ms`"))?;
        Ok(ObserveConfig { from, to, requests, latency_ms })
    }

    fn new_filter(&self) -> Observe {
        Observe {
            from: self.from.clone(),
            to: self.to.clone(),
            requests: self.requests,
            latency_ms: self.latency_ms,
            started: Instant::now(),
        }
    }
}

/// One stream.
pub struct Observe {
    from: String,
    to: String,
    requests: Counter,
    latency_ms: Histogram,
    started: Instant,
}

impl Filter for Observe {
    fn on_request_headers(&mut self, stream: &mut Stream, _end_of_stream: bool) -> HeadersStatus {
        self.started = Instant::now();
        let client = stream.attribute_str(Attribute::SourceAddress).unwrap_or("unknown").to_string();
        stream.set_metadata(NAMESPACE, "client", client.as_str());
        let path = stream.request_headers().get_str(":path").unwrap_or("/").to_string();
        let decision = match path.find(&self.from) {
            Some(at) => {
                let new_path = format!("{}{}{}", &path[..at], self.to, &path[at + self.from.len()..]);
                let mut headers = stream.request_headers();
                headers.set(":path", new_path);
                headers.set("x-observe-rerouted-from", path);
                // Envoy picked the route from the old path; have it pick again.
                stream.clear_route_cache();
                "rerouted"
            }
            None => "passed",
        };
        stream.set_metadata(NAMESPACE, "decision", decision);
        HeadersStatus::Continue
    }

    fn on_response_headers(&mut self, stream: &mut Stream, _end_of_stream: bool) -> HeadersStatus {
        let route = stream.attribute_str(Attribute::RouteName).unwrap_or("none").to_string();
        let class = match stream.attribute_u64(Attribute::ResponseCode) {
            Some(code) => format!("{}xx", code / 100),
            None => "none".to_string(),
        };
        self.requests.increment(stream, &[&route, &class]);
        HeadersStatus::Continue
    }

    fn on_stream_complete(&mut self, stream: &mut Stream) {
        let elapsed = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.latency_ms.record(stream, &[], elapsed);
    }
}

envoyx_sdk::export_module!(ObserveConfig);
