//! A health gate: asks a gRPC health service (`grpc.health.v1.Health/Check`) whether the backend
//! service is serving before letting each request through.
//!
//! The request headers hook makes a gRPC unary call through an Envoy cluster (HTTP/2 to the
//! gRPC server), with the deadline `timeout_ms`, and holds the request (its body too). The
//! service checked is the request header `x-check-service`, or the configured `service`. When
//! the answer comes:
//! - SERVING: the request goes on, with `x-backend-health: serving` added;
//! - any other status (NOT_SERVING, UNKNOWN, …): 503 with `x-backend-health: not_serving`;
//! - a gRPC error (the health server's NOT_FOUND for a service it does not know, the deadline
//!   as DEADLINE_EXCEEDED, UNAVAILABLE for a cluster Envoy does not have): 503 with
//!   `x-grpc-error: <CODE>`.
//!
//! Filter config: space-separated `key=value`, each optional: `cluster=grpc`, `service=` (empty:
//! the server's overall health), `timeout_ms=500`.

use std::time::Duration;

use envoyx_sdk::grpc::{GrpcCall, GrpcUnary};
use envoyx_sdk::{BodyStatus, CalloutEvent, CalloutId, Filter, FilterConfig, HeadersStatus, Stream};

/// The method called.
pub const CHECK: &str = "/grpc.health.v1.Health/Check";

/// The filter configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GrpcCheckConfig {
    pub cluster: String,
    pub service: String,
    pub timeout: Duration,
}

impl FilterConfig for GrpcCheckConfig {
    type Filter = GrpcCheck;

    fn new(name: &str, config: &[u8]) -> Result<Self, String> {
        let text = std::str::from_utf8(config).map_err(|_| format!("{name}: config is not UTF-8"))?;
        let mut parsed = GrpcCheckConfig {
            cluster: "grpc".into(),
            service: String::new(),
            timeout: Duration::from_millis(500),
        };
        for item in text.split_whitespace() {
            let (key, value) =
                item.split_once('=').ok_or_else(|| format!("{name}: `{item}` is not key=value"))?;
            match key {
                "cluster" if !value.is_empty() => parsed.cluster = value.to_string(),
                "service" => parsed.service = check_service_name(name, value)?.to_string(),
                "timeout_ms" => {
                    let ms: u64 =
                        value.parse().map_err(|_| format!("{name}: timeout_ms `{value}` is not a number"))?;
                    if ms == 0 {
                        return Err(format!("{name}: timeout_ms must be above 0"));
                    }
                    parsed.timeout = Duration::from_millis(ms);
                }
                _ => {
                    return Err(format!(
                        "{name}: unknown or empty setting `{item}` (cluster, service, timeout_ms)"
                    ));
                }
            }
        }
        Ok(parsed)
    }

    fn new_filter(&self) -> GrpcCheck {
        GrpcCheck { config: self.clone(), call: None }
    }
}

/// A service name the request message can carry (a short protobuf string).
fn check_service_name<'a>(name: &str, service: &'a str) -> Result<&'a str, String> {
    if service.len() > 127 {
        return Err(format!(
            "{name}: service names are at most 127 bytes, `{service}` has {}",
            service.len()
        ));
    }
    Ok(service)
}

/// `HealthCheckRequest { service }`, encoded: field 1, length-delimited.
pub fn health_check_request(service: &str) -> Vec<u8> {
    let mut message = Vec::with_capacity(2 + service.len());
    if !service.is_empty() {
        message.extend_from_slice(&[0x0a, service.len() as u8]);
        message.extend_from_slice(service.as_bytes());
    }
    message
}

/// `HealthCheckResponse.status` of an encoded response: field 1, a varint (0 when absent:
/// UNKNOWN); `None` for bytes that are not such a response.
pub fn serving_status(response: &[u8]) -> Option<u64> {
    match response {
        [] => Some(0),
        [0x08, status] if *status < 0x80 => Some(u64::from(*status)),
        _ => None,
    }
}

/// `HealthCheckResponse.ServingStatus.SERVING`.
pub const SERVING: u64 = 1;

/// One request's check.
pub struct GrpcCheck {
    config: GrpcCheckConfig,
    /// The call in flight, while the request is held.
    call: Option<GrpcUnary>,
}

impl GrpcCheck {
    fn unavailable(stream: &mut Stream, headers: &[(&str, &str)], body: String) {
        stream.send_local_reply(503, headers, body.as_bytes(), "grpc_check_failed");
    }
}

impl Filter for GrpcCheck {
    fn on_request_headers(&mut self, stream: &mut Stream, _end_of_stream: bool) -> HeadersStatus {
        let asked = stream.request_headers().get_str("x-check-service").map(str::to_string);
        let service = match asked.as_deref().map(|s| check_service_name("x-check-service", s)) {
            Some(Ok(service)) => service.to_string(),
            Some(Err(reason)) => {
                stream.send_local_reply(400, &[], format!("{reason}\n").as_bytes(), "grpc_check_bad_request");
                return HeadersStatus::StopIteration;
            }
            None => self.config.service.clone(),
        };
        let message = health_check_request(&service);
        let call = GrpcCall::new(CHECK, &message, self.config.timeout);
        self.call = stream.start_grpc_call(&self.config.cluster, &call);
        if self.call.is_none() {
            // Refused at once (logged): no answer will come.
            Self::unavailable(stream, &[("x-grpc-error", "refused")], "health check refused\n".to_string());
        }
        HeadersStatus::StopIteration
    }

    fn on_request_body(&mut self, _stream: &mut Stream, _end_of_stream: bool) -> BodyStatus {
        // Hold the body with the headers until the health service has answered.
        if self.call.is_some() { BodyStatus::StopIterationAndBuffer } else { BodyStatus::Continue }
    }

    fn on_callout_event(&mut self, stream: &mut Stream, id: CalloutId, event: CalloutEvent<'_>) {
        let Some(call) = self.call.as_mut().filter(|call| call.id() == id) else { return };
        let Some(answer) = call.on_event(event) else { return };
        self.call = None;
        match answer.map(|response| serving_status(&response)) {
            Ok(Some(SERVING)) => {
                stream.request_headers().set("x-backend-health", "serving");
                stream.continue_request();
            }
            Ok(status) => {
                let status = status.map_or("unreadable".to_string(), |s| s.to_string());
                let body = format!("backend not serving (health status {status})\n");
                Self::unavailable(stream, &[("x-backend-health", "not_serving")], body);
            }
            Err(error) => {
                let code = error.code.to_string();
                Self::unavailable(
                    stream,
                    &[("x-grpc-error", &code)],
                    format!("health check failed: {error}\n"),
                );
            }
        }
    }
}

envoyx_sdk::export_module!(GrpcCheckConfig);
