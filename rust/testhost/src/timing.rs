//! The test host's stream timing (ABI 1.2 `timing_get`): the start as wall-clock time, and the
//! moments the test host itself sees — the request's headers and end, the response's first byte
//! (its headers) and end, the response's first byte on to the client, the stream's completion —
//! as offsets from the start; the test may set any moment ([`crate::TestStream::set_timing`]).

use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// How many `envoyx_timing` ids there are.
const COUNT: usize = envoyx_abi::ENVOYX_TIMING_DOWNSTREAM_CONNECTION_END as usize + 1;

pub(crate) struct Clock {
    start_unix_ns: i64,
    start: Instant,
    moments: [Option<i64>; COUNT],
}

impl Default for Clock {
    fn default() -> Self {
        let since_epoch = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
        Clock {
            start_unix_ns: i64::try_from(since_epoch.as_nanos()).unwrap_or(i64::MAX),
            start: Instant::now(),
            moments: [None; COUNT],
        }
    }
}

impl Clock {
    /// Records `timing` as now, the first time only (a FIRST_ moment).
    pub fn first(&mut self, timing: u32) {
        if self.moments[timing as usize].is_none() {
            self.last(timing);
        }
    }

    /// Records `timing` as now, again each time (a LAST_ moment).
    pub fn last(&mut self, timing: u32) {
        let offset = i64::try_from(self.start.elapsed().as_nanos()).unwrap_or(i64::MAX);
        self.moments[timing as usize] = Some(offset);
    }

    /// Sets `timing` to `ns` (the test's).
    pub fn set(&mut self, timing: u32, ns: i64) {
        if timing == envoyx_abi::ENVOYX_TIMING_START_UNIX {
            self.start_unix_ns = ns;
        } else if let Some(slot) = self.moments.get_mut(timing as usize) {
            *slot = Some(ns);
        }
    }

    /// The moment `timing`, if known.
    pub fn get(&self, timing: u32) -> Option<i64> {
        if timing == envoyx_abi::ENVOYX_TIMING_START_UNIX {
            return Some(self.start_unix_ns);
        }
        self.moments.get(timing as usize).copied().flatten()
    }
}
