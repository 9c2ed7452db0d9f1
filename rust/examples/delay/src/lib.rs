//! `delay`: holds each request for a configured time, then resumes it from another thread
//! through a [`ContinueHandle`](envoyx_sdk::ContinueHandle).
//!
//! filter_config: the delay in milliseconds (e.g. `250`); empty means 1000. Anything else rejects
//! the configuration.
//!
//! - Request headers return `StopIteration`, and a timer thread calls `continue_request()` after
//!   the delay. Body chunks and trailers that arrive meanwhile are held too (buffered), so that
//!   nothing overtakes the delay.
//! - A request header `x-envoyx-delay-response: <ms>` likewise holds the response headers for
//!   that long (`continue_response()`); a malformed value is ignored.
//! - The response gets `x-envoyx-delayed-ms: <ms>`: how long the request was actually held.
//!
//! A timer thread can outlive its stream, so load this module with `do_not_dlclose: true`: its
//! code must stay mapped while a thread still sleeps in it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use envoyx_sdk::{BodyStatus, Direction, Filter, FilterConfig, HeadersStatus, Stream, TrailersStatus, warn};

/// The delay when the filter_config is empty.
pub const DEFAULT_DELAY: Duration = Duration::from_millis(1000);

/// Parses a number of milliseconds (surrounding whitespace ignored).
pub fn parse_millis(text: &[u8]) -> Result<Duration, String> {
    let text = std::str::from_utf8(text).map_err(|_| "not UTF-8".to_owned())?.trim();
    let millis: u64 = text.parse().map_err(|e| format!("{text:?} is not a number of milliseconds: {e}"))?;
    Ok(Duration::from_millis(millis))
}

/// Parses the filter_config: empty means [`DEFAULT_DELAY`].
pub fn parse_config(config: &[u8]) -> Result<Duration, String> {
    if config.trim_ascii().is_empty() {
        return Ok(DEFAULT_DELAY);
    }
    parse_millis(config).map_err(|reason| format!("delay: bad filter_config: {reason}"))
}

/// The configuration: how long to hold requests.
pub struct DelayConfig {
    delay: Duration,
}

/// One per stream.
pub struct DelayFilter {
    delay: Duration,
    /// How long to hold the response, from `x-envoyx-delay-response`.
    response_delay: Option<Duration>,
    request_timer: Option<Arc<Timer>>,
    response_timer: Option<Arc<Timer>>,
}

/// What a timer thread reports back to the filter.
#[derive(Default)]
struct Timer {
    /// The thread has asked the host to resume.
    fired: AtomicBool,
    /// How long the thread actually waited.
    waited_ms: AtomicU64,
}

impl Timer {
    /// Whether `timer` (if any) is still holding its direction.
    fn holding(timer: &Option<Arc<Timer>>) -> bool {
        timer.as_ref().is_some_and(|timer| !timer.fired.load(Ordering::Acquire))
    }
}

/// Starts a thread that resumes `direction` of `stream` after `delay`. `None` if no thread could
/// be started (then the caller lets the stream through).
fn start_timer(stream: &Stream, direction: Direction, delay: Duration) -> Option<Arc<Timer>> {
    let handle = stream.continue_handle();
    let timer = Arc::new(Timer::default());
    let reported = timer.clone();
    let spawned = std::thread::Builder::new().name("envoyx-delay".to_owned()).spawn(move || {
        let start = Instant::now();
        std::thread::sleep(delay);
        reported.waited_ms.store(start.elapsed().as_millis() as u64, Ordering::Relaxed);
        reported.fired.store(true, Ordering::Release);
        // False when the stream ended meanwhile; nothing to do then.
        handle.continue_direction(direction);
    });
    match spawned {
        Ok(_) => Some(timer),
        Err(error) => {
            warn!("delay: cannot start a timer thread ({error}); not delaying");
            None
        }
    }
}

impl FilterConfig for DelayConfig {
    type Filter = DelayFilter;

    fn new(_name: &str, config: &[u8]) -> Result<Self, String> {
        Ok(DelayConfig { delay: parse_config(config)? })
    }

    fn new_filter(&self) -> DelayFilter {
        DelayFilter { delay: self.delay, response_delay: None, request_timer: None, response_timer: None }
    }
}

impl Filter for DelayFilter {
    fn on_request_headers(&mut self, stream: &mut Stream, _end_of_stream: bool) -> HeadersStatus {
        if let Some(value) = stream.request_headers().get("x-envoyx-delay-response") {
            match parse_millis(value) {
                Ok(delay) => self.response_delay = Some(delay),
                Err(reason) => warn!("delay: ignoring x-envoyx-delay-response: {reason}"),
            }
        }
        self.request_timer = start_timer(stream, Direction::Request, self.delay);
        if self.request_timer.is_some() { HeadersStatus::StopIteration } else { HeadersStatus::Continue }
    }

    fn on_request_body(&mut self, _stream: &mut Stream, _end_of_stream: bool) -> BodyStatus {
        // While held, returning Continue here would resume the request early.
        if Timer::holding(&self.request_timer) {
            BodyStatus::StopIterationAndBuffer
        } else {
            BodyStatus::Continue
        }
    }

    fn on_request_trailers(&mut self, _stream: &mut Stream) -> TrailersStatus {
        if Timer::holding(&self.request_timer) {
            TrailersStatus::StopIteration
        } else {
            TrailersStatus::Continue
        }
    }

    fn on_response_headers(&mut self, stream: &mut Stream, _end_of_stream: bool) -> HeadersStatus {
        if let Some(timer) = &self.request_timer {
            let waited = timer.waited_ms.load(Ordering::Relaxed);
            stream.response_headers().set("x-envoyx-delayed-ms", waited.to_string());
        }
        let Some(delay) = self.response_delay else { return HeadersStatus::Continue };
        self.response_timer = start_timer(stream, Direction::Response, delay);
        if self.response_timer.is_some() { HeadersStatus::StopIteration } else { HeadersStatus::Continue }
    }

    fn on_response_body(&mut self, _stream: &mut Stream, _end_of_stream: bool) -> BodyStatus {
        if Timer::holding(&self.response_timer) {
            BodyStatus::StopIterationAndBuffer
        } else {
            BodyStatus::Continue
        }
    }

    fn on_response_trailers(&mut self, _stream: &mut Stream) -> TrailersStatus {
        if Timer::holding(&self.response_timer) {
            TrailersStatus::StopIteration
        } else {
            TrailersStatus::Continue
        }
    }
}

envoyx_sdk::export_module!(DelayConfig);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_config() {
        assert_eq!(parse_config(b""), Ok(DEFAULT_DELAY));
        assert_eq!(parse_config(b" \n"), Ok(DEFAULT_DELAY));
        assert_eq!(parse_config(b"250"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_config(b" 0 "), Ok(Duration::ZERO));
    }

    #[test]
    fn rejects_malformed_config_naming_it() {
        for bad in [&b"soon"[..], b"-5", b"1.5", b"10ms", b"\xff"] {
            let reason = parse_config(bad).unwrap_err();
            assert!(reason.starts_with("delay: bad filter_config"), "{reason}");
        }
        assert!(parse_config(b"soon").unwrap_err().contains("\"soon\""));
    }
}
