//! The benchmarks' EnvoyX module for the jobs no example does exactly (the body job uses the
//! `body-rewrite` example as shipped).
//!
//! filter_config: `header` adds `x-bench-added: 1` to every response; `pass` implements no hook
//! at all, so it measures what the host path costs for a filter that changes nothing;
//! `observe` adds the header, increments the labelled counter `responses{class="2xx"}` and
//! writes the dynamic metadata `bench.decision: seen` (what an observability filter does per
//! request); `respond` answers the request itself, no upstream asked: status 200 and a 64 KiB
//! body streamed as 16 data frames of 4 KiB ([`RESPONSE_BODY`]), `send_response_headers` then
//! `send_response_data` from the request-headers hook.

use envoyx_sdk::{Counter, Filter, FilterConfig, HeadersStatus, Stream};

/// The response header the `header` job adds, and its value.
pub const ADDED_HEADER: (&str, &str) = ("x-bench-added", "1");

/// The respond job's data frames and the bytes in each.
pub const RESPONSE_CHUNKS: usize = 16;
pub const RESPONSE_CHUNK_BYTES: usize = 4 << 10;

/// The respond job's body (the bench's `pattern::response_body`): chunk `i` is
/// [`RESPONSE_CHUNK_BYTES`] of the letter `a` + i. Made at compile time, so a stream allocates
/// nothing for it.
pub static RESPONSE_BODY: [u8; RESPONSE_CHUNKS * RESPONSE_CHUNK_BYTES] = {
    let mut body = [0; RESPONSE_CHUNKS * RESPONSE_CHUNK_BYTES];
    let mut i = 0;
    while i < body.len() {
        body[i] = b'a' + (i / RESPONSE_CHUNK_BYTES) as u8;
        i += 1;
    }
    body
};

/// What the filter does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Job {
    /// Adds [`ADDED_HEADER`] to the response.
    Header,
    /// Nothing.
    Pass,
    /// The header, a labelled counter and a metadata write.
    Observe,
    /// Answers with status 200 and [`RESPONSE_BODY`] in [`RESPONSE_CHUNKS`] data frames.
    Respond,
}

impl Job {
    /// Parses the filter_config (surrounding whitespace ignored).
    pub fn parse(config: &[u8]) -> Result<Self, String> {
        match config.trim_ascii() {
            b"header" => Ok(Job::Header),
            b"pass" => Ok(Job::Pass),
            b"observe" => Ok(Job::Observe),
            b"respond" => Ok(Job::Respond),
            other => Err(format!(
                "envoyx-bench-module: filter_config must be \"header\", \"pass\", \"observe\" or \"respond\", \
                 got {:?}",
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
    fn on_request_headers(&mut self, stream: &mut Stream, _end_of_stream: bool) -> HeadersStatus {
        if self.job != Job::Respond {
            return HeadersStatus::Continue;
        }
        // Each call is a data frame of its own; the host sends them when this hook returns.
        if stream.send_response_headers(200, &[], false) {
            let mut chunks = RESPONSE_BODY.chunks(RESPONSE_CHUNK_BYTES).peekable();
            while let Some(chunk) = chunks.next() {
                stream.send_response_data(chunk, chunks.peek().is_none());
            }
        }
        // The request stays here: this filter answered it.
        HeadersStatus::StopIteration
    }

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
    fn the_response_body_is_16_chunks_of_one_letter_each() {
        for (i, chunk) in RESPONSE_BODY.chunks(RESPONSE_CHUNK_BYTES).enumerate() {
            assert!(chunk.iter().all(|&b| b == b'a' + i as u8), "chunk {i}");
        }
        assert_eq!(RESPONSE_BODY.len(), 64 << 10);
    }

    #[test]
    fn parses_jobs_and_names_a_bad_one() {
        assert_eq!(Job::parse(b" header\n"), Ok(Job::Header));
        assert_eq!(Job::parse(b"pass"), Ok(Job::Pass));
        assert_eq!(Job::parse(b"respond"), Ok(Job::Respond));
        let reason = Job::parse(b"upper").unwrap_err();
        assert!(reason.contains("\"upper\""), "{reason}");
    }
}
