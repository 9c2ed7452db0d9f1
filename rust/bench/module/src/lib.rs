//! The benchmarks' EnvoyX module for the jobs no example does exactly (the body job uses the
//! `body-rewrite` example as shipped).
//!
//! filter_config: `header` adds `x-bench-added: 1` to every response; `pass` implements no hook
//! at all, so it measures what the host path costs for a filter that changes nothing;
//! `observe` adds the header, increments the labelled counter `responses{class="2xx"}` and
//! writes the dynamic metadata `bench.decision: seen` (what an observability filter does per
//! request).

use envoyx_sdk::{Counter, Filter, FilterConfig, HeadersStatus, Stream};

/// The response header the `header` job adds, and its value.
pub const ADDED_HEADER: (&str, &str) = ("x-bench-added", "1");

/// What the filter does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Job {
    /// Adds [`ADDED_HEADER`] to the response.
    Header,
    /// Nothing.
    Pass,
    /// The header, a labelled counter and a metadata write.
    Observe,
}

impl Job {
    /// Parses the filter_config (surrounding whitespace ignored).
    pub fn parse(config: &[u8]) -> Result<Self, String> {
        match config.trim_ascii() {
            b"header" => Ok(Job::Header),
            b"pass" => Ok(Job::Pass),
            b"observe" => Ok(Job::Observe),
            other => Err(format!(
                "envoyx-bench-module: filter_config must be \"header\", \"pass\" or \"observe\", got {:?}",
                String::from_utf8_lossy(other)
            )),
        }
    }
}

/// The configuration: which job.
pub struct BenchConfig {
    job: Job,
    /// `observe`: `responses{class}`.
    responses: Option<Counter>,
}

/// One per stream.
pub struct BenchFilter {
    job: Job,
    responses: Option<Counter>,
}

impl FilterConfig for BenchConfig {
    type Filter = BenchFilter;

    fn new(_name: &str, config: &[u8]) -> Result<Self, String> {
        let job = Job::parse(config)?;
        let responses = match job {
            Job::Observe => Some(Counter::define("responses", &["class"]).ok_or("no metrics on this host")?),
            _ => None,
        };
        Ok(BenchConfig { job, responses })
    }

    fn new_filter(&self) -> BenchFilter {
        BenchFilter { job: self.job, responses: self.responses }
    }
}

impl Filter for BenchFilter {
    fn on_response_headers(&mut self, stream: &mut Stream, _end_of_stream: bool) -> HeadersStatus {
        if matches!(self.job, Job::Header | Job::Observe) {
            stream.response_headers().add(ADDED_HEADER.0, ADDED_HEADER.1);
        }
        if let Some(responses) = self.responses {
            responses.increment(stream, &["2xx"]);
            stream.set_metadata("bench", "decision", "seen");
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
