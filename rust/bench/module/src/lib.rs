//! The benchmarks' EnvoyX module for the jobs no example does exactly (the body job uses the
//! `body-rewrite` example as shipped).
//!
//! filter_config: `header` adds `x-bench-added: 1` to every response; `pass` implements no hook
//! at all, so it measures what the host path costs for a filter that changes nothing.

use envoyx_sdk::{Filter, FilterConfig, HeadersStatus, Stream};

/// The response header the `header` job adds, and its value.
pub const ADDED_HEADER: (&str, &str) = ("x-bench-added", "1");

/// What the filter does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Job {
    /// Adds [`ADDED_HEADER`] to the response.
    Header,
    /// Nothing.
    Pass,
}

impl Job {
    /// Parses the filter_config (surrounding whitespace ignored).
    pub fn parse(config: &[u8]) -> Result<Self, String> {
        match config.trim_ascii() {
            b"header" => Ok(Job::Header),
            b"pass" => Ok(Job::Pass),
            other => Err(format!(
                "envoyx-bench-module: filter_config must be \"header\" or \"pass\", got {:?}",
                String::from_utf8_lossy(other)
            )),
        }
    }
}

/// The configuration: which job.
pub struct BenchConfig {
    job: Job,
}

/// One per stream.
pub struct BenchFilter {
    job: Job,
}

impl FilterConfig for BenchConfig {
    type Filter = BenchFilter;

    fn new(_name: &str, config: &[u8]) -> Result<Self, String> {
        Ok(BenchConfig { job: Job::parse(config)? })
    }

    fn new_filter(&self) -> BenchFilter {
        BenchFilter { job: self.job }
    }
}

impl Filter for BenchFilter {
    fn on_response_headers(&mut self, stream: &mut Stream, _end_of_stream: bool) -> HeadersStatus {
        if self.job == Job::Header {
            stream.response_headers().add(ADDED_HEADER.0, ADDED_HEADER.1);
        }
        HeadersStatus::Continue
    }
}

envoyx_sdk::export_module!(BenchConfig);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_jobs_and_names_a_bad_one() {
        assert_eq!(Job::parse(b" header\n"), Ok(Job::Header));
        assert_eq!(Job::parse(b"pass"), Ok(Job::Pass));
        let reason = Job::parse(b"upper").unwrap_err();
        assert!(reason.contains("\"upper\""), "{reason}");
    }
}
