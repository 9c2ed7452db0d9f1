//! How many body bytes the EnvoyX path copies while the transform job runs, read inside Envoy.
//! The counter lives in the core's per-stream state (`Stream::body_bytes_copied`: what prepend,
//! append and replace bring in; in-place edits add nothing). The stock host logs it at debug
//! level when a stream ends, so for each body size this runs the EnvoyX transform in a fresh
//! Envoy with the `dynamic_modules` logger at debug (a separate run: debug logging would skew
//! the timed ones) and sums what every stream reported.

use crate::load::{self, RequestSpec};
use crate::run::{Setup, request_for, spawn_envoy};
use crate::variants::{Job, Variant};
use std::time::{Duration, Instant};

/// The filter config name the bench gives the EnvoyX filter (`variants::filter`).
const FILTER: &str = "bench";

/// What the EnvoyX transform copied in one Envoy run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Copied {
    pub size: usize,
    /// Streams that reported their counter (one per request).
    pub streams: usize,
    /// Body bytes copied, summed over those streams.
    pub bytes: u64,
}

/// Runs `requests` EnvoyX transform requests of each of `sizes` through Envoy and returns what
/// the streams reported; fails if a request went wrong or a stream did not report.
pub fn bytes_copied(setup: &Setup, sizes: &[usize], requests: usize) -> Result<Vec<Copied>, String> {
    let mut bodies = Vec::new();
    let mut out = Vec::new();
    for &size in sizes {
        let job = Job::Upper(size);
        let spec = request_for(job, Variant::EnvoyX, &mut bodies);
        out.push(Copied { size, streams: 0, bytes: 0 });
        let reported = in_envoy(setup, job, &spec, requests).map_err(|e| format!("{job}: {e}"))?;
        let last = out.last_mut().expect("pushed above");
        last.streams = reported.len();
        last.bytes = reported.iter().sum();
    }
    Ok(out)
}

/// One Envoy run: each stream's counter, in the order the streams ended.
fn in_envoy(setup: &Setup, job: Job, spec: &RequestSpec, requests: usize) -> Result<Vec<u64>, String> {
    let (mut envoy, listen_port, _) = spawn_envoy(setup, &setup.envoy, Variant::EnvoyX, job, None)?;
    envoy.wait_ready(Duration::from_secs(60))?;
    envoy.log_modules_at_debug()?;
    let result = load::run(listen_port, spec, requests, 1);
    if result.errors > 0 {
        return Err(format!("{} request(s) failed: {:?}", result.errors, result.first_error));
    }
    // A stream reports when Envoy destroys its filter, which can be just after the reply.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let reported = envoyx_harness::body_bytes_copied(&envoy.log(), FILTER);
        if reported.len() >= requests {
            let _ = envoy.stop(Duration::from_secs(5));
            return Ok(reported);
        }
        if Instant::now() >= deadline {
            return Err(format!(
                "only {} of {requests} streams reported body bytes copied:\n{}",
                reported.len(),
                envoy.log_tail()
            ));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
