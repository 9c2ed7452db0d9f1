//! `json-validate`: lets a request through only if its body is a JSON object with a required
//! top-level field; otherwise answers `400` with a short JSON error such as
//! `{"error":"missing field \"user\""}`.
//!
//! filter_config: the name of the required field (e.g. `user`); empty rejects the configuration.
//!
//! The request headers are held (`StopIteration`) and the body buffered
//! (`StopIterationAndBuffer`) until the request ends, so nothing reaches upstream before the
//! check. The whole body (buffered, then the last chunk) is parsed in place through a reader over
//! the host's slices. A request without a body gets `400` too.

use std::io::Read;

use envoyx_sdk::{BodyStatus, Filter, FilterConfig, HeadersStatus, Stream, TrailersStatus};

/// Checks that `body` is a JSON object with the top-level `field`; `Err` says what is wrong.
pub fn check_body(body: impl Read, field: &str) -> Result<(), String> {
    let value: serde_json::Value =
        serde_json::from_reader(body).map_err(|error| format!("body is not JSON: {error}"))?;
    let object = value.as_object().ok_or_else(|| "body is not a JSON object".to_owned())?;
    if object.contains_key(field) { Ok(()) } else { Err(format!("missing field {field:?}")) }
}

/// The JSON body of a 400 reply for `reason`.
pub fn error_body(reason: &str) -> String {
    let mut body = serde_json::json!({ "error": reason }).to_string();
    body.push('\n');
    body
}

/// The configuration: the required field.
pub struct ValidateConfig {
    field: String,
}

/// One per stream.
pub struct ValidateFilter {
    field: String,
}

impl FilterConfig for ValidateConfig {
    type Filter = ValidateFilter;

    fn new(_name: &str, config: &[u8]) -> Result<Self, String> {
        let field = std::str::from_utf8(config)
            .map_err(|_| "json-validate: filter_config (the required field's name) is not UTF-8".to_owned())?
            .trim();
        if field.is_empty() {
            return Err(
                "json-validate: filter_config must name the required top-level JSON field, e.g. \"user\"; \
                        it is empty"
                    .to_owned(),
            );
        }
        Ok(ValidateConfig { field: field.to_owned() })
    }

    fn new_filter(&self) -> ValidateFilter {
        ValidateFilter { field: self.field.clone() }
    }
}

impl ValidateFilter {
    /// Validates the complete request body; true when the request may go on.
    fn validate(&self, stream: &mut Stream) -> bool {
        match check_body(stream.whole_request_body(), &self.field) {
            Ok(()) => true,
            Err(reason) => {
                reject(stream, &reason);
                false
            }
        }
    }
}

/// Answers 400 with `reason` as a JSON error.
fn reject(stream: &mut Stream, reason: &str) {
    let body = error_body(reason);
    let headers = [("content-type", "application/json")];
    if !stream.send_local_reply(400, &headers, body.as_bytes(), "envoyx_invalid_json") {
        stream.reset(); // the response already started: too late for a 400
    }
}

impl Filter for ValidateFilter {
    fn on_request_headers(&mut self, stream: &mut Stream, end_of_stream: bool) -> HeadersStatus {
        if end_of_stream {
            reject(stream, "request has no body");
        }
        // Hold the headers until the body is checked.
        HeadersStatus::StopIteration
    }

    fn on_request_body(&mut self, stream: &mut Stream, end_of_stream: bool) -> BodyStatus {
        if !end_of_stream {
            return BodyStatus::StopIterationAndBuffer;
        }
        // Continue releases the held headers and the buffered body.
        if self.validate(stream) { BodyStatus::Continue } else { BodyStatus::StopIterationNoBuffer }
    }

    fn on_request_trailers(&mut self, stream: &mut Stream) -> TrailersStatus {
        if self.validate(stream) { TrailersStatus::Continue } else { TrailersStatus::StopIteration }
    }
}

envoyx_sdk::export_module!(ValidateConfig);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_an_object_with_the_field() {
        assert_eq!(check_body(&br#"{"user": "ann", "n": 1}"#[..], "user"), Ok(()));
        assert_eq!(check_body(&br#" {"user": null} "#[..], "user"), Ok(()));
    }

    #[test]
    fn explains_what_is_wrong() {
        assert_eq!(check_body(&br#"{"name": "ann"}"#[..], "user"), Err("missing field \"user\"".to_owned()));
        assert_eq!(check_body(&b"[1, 2]"[..], "user"), Err("body is not a JSON object".to_owned()));
        assert!(check_body(&b"not json"[..], "user").unwrap_err().starts_with("body is not JSON: "));
        assert!(check_body(&b""[..], "user").unwrap_err().starts_with("body is not JSON: "));
        assert!(check_body(&br#"{"user": 1} trailing"#[..], "user").is_err());
    }

    #[test]
    fn error_body_is_json() {
        let body = error_body("missing field \"user\"");
        assert_eq!(body, "{\"error\":\"missing field \\\"user\\\"\"}\n");
        let parsed: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(parsed["error"], "missing field \"user\"");
    }

    #[test]
    fn config_needs_a_field_name() {
        assert_eq!(ValidateConfig::new("v", b" user\n").unwrap().field, "user");
        assert!(ValidateConfig::new("v", b"").is_err());
        assert!(ValidateConfig::new("v", b"  ").is_err());
        assert!(ValidateConfig::new("v", b"\xff").is_err());
    }
}
