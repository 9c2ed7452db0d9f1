//! `body-rewrite`: ASCII upper-cases request and/or response bodies in place, chunk by chunk as
//! they arrive: no buffering and no copies (each chunk's slices are written where the host keeps
//! them). The length never changes, so `content-length` stays right.
//!
//! filter_config: `request`, `response` or `both`; empty means `both`. Anything else rejects the
//! configuration.

use envoyx_sdk::{Body, BodyStatus, Filter, FilterConfig, Stream};

/// Which bodies to rewrite.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Directions {
    /// Only the request body.
    Request,
    /// Only the response body.
    Response,
    /// Both bodies.
    Both,
}

impl Directions {
    /// Parses the filter_config (surrounding whitespace ignored).
    pub fn parse(config: &[u8]) -> Result<Self, String> {
        match config.trim_ascii() {
            b"" | b"both" => Ok(Directions::Both),
            b"request" => Ok(Directions::Request),
            b"response" => Ok(Directions::Response),
            other => Err(format!(
                "body-rewrite: filter_config must be \"request\", \"response\" or \"both\" (or empty for both), \
                 got {:?}",
                String::from_utf8_lossy(other)
            )),
        }
    }

    fn request(self) -> bool {
        matches!(self, Directions::Request | Directions::Both)
    }

    fn response(self) -> bool {
        matches!(self, Directions::Response | Directions::Both)
    }
}

/// The configuration: which bodies to rewrite.
pub struct RewriteConfig {
    directions: Directions,
}

/// One per stream; holds no state of its own.
pub struct RewriteFilter {
    directions: Directions,
}

impl FilterConfig for RewriteConfig {
    type Filter = RewriteFilter;

    fn new(_name: &str, config: &[u8]) -> Result<Self, String> {
        Ok(RewriteConfig { directions: Directions::parse(config)? })
    }

    fn new_filter(&self) -> RewriteFilter {
        RewriteFilter { directions: self.directions }
    }
}

/// Upper-cases the ASCII letters of `body` where the host keeps it.
fn upper_case_in_place(mut body: Body<'_>) {
    for chunk in body.chunks_mut() {
        chunk.make_ascii_uppercase();
    }
}

impl Filter for RewriteFilter {
    fn on_request_body(&mut self, stream: &mut Stream, _end_of_stream: bool) -> BodyStatus {
        if self.directions.request() {
            upper_case_in_place(stream.request_body());
        }
        BodyStatus::Continue
    }

    fn on_response_body(&mut self, stream: &mut Stream, _end_of_stream: bool) -> BodyStatus {
        if self.directions.response() {
            upper_case_in_place(stream.response_body());
        }
        BodyStatus::Continue
    }
}

envoyx_sdk::export_module!(RewriteConfig);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_directions() {
        assert_eq!(Directions::parse(b""), Ok(Directions::Both));
        assert_eq!(Directions::parse(b" both\n"), Ok(Directions::Both));
        assert_eq!(Directions::parse(b"request"), Ok(Directions::Request));
        assert_eq!(Directions::parse(b"response"), Ok(Directions::Response));
    }

    #[test]
    fn rejects_anything_else_naming_it() {
        let reason = Directions::parse(b"sideways").unwrap_err();
        assert!(reason.contains("\"sideways\"") && reason.contains("request"), "{reason}");
        assert!(Directions::parse(b"REQUEST").is_err());
    }
}
