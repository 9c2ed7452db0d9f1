//! `stream-response`: a terminal filter. It answers every request itself — no upstream cluster
//! is asked — with a stream of server-sent events produced over time, and pauses while the
//! client reads slower than it produces, so memory stays bounded however slow the client is.
//!
//! filter_config: `events=N,interval_ms=M,event_bytes=B` (each optional; defaults 5, 200, 0):
//! how many events, the time between two, and how many padding bytes each carries. A request
//! may ask for other numbers with the headers `x-envoyx-events`, `x-envoyx-interval-ms` and
//! `x-envoyx-event-bytes` (a bad value gets a 400).
//!
//! - The request headers hook sends the response headers (`content-type: text/event-stream`)
//!   and the first event, then returns `StopIteration`: the request goes nowhere else.
//! - Each next event is sent from [`Filter::on_scheduled`]: at once (`interval_ms=0`: as fast
//!   as the client takes them) or after the interval, from a timer thread.
//! - [`Filter::on_watermark`]: above the high watermark the filter stops producing; below the
//!   low one it goes on where it stopped.
//! - After the last event, trailers end the response: `x-envoyx-events-sent` and
//!   `x-envoyx-pauses` (how many times the client made it wait).

use std::time::Duration;

use envoyx_sdk::{Direction, Filter, FilterConfig, HeadersStatus, Stream};

/// The most events, padding bytes per event and interval a configuration or request may ask for.
pub const MAX_EVENTS: u64 = 1_000_000;
pub const MAX_EVENT_BYTES: u64 = 64 << 10;
pub const MAX_INTERVAL_MS: u64 = 60_000;

/// What to stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Plan {
    pub events: u64,
    pub interval: Duration,
    pub event_bytes: usize,
}

impl Default for Plan {
    fn default() -> Self {
        Plan { events: 5, interval: Duration::from_millis(200), event_bytes: 0 }
    }
}

fn number(name: &str, text: &str, max: u64) -> Result<u64, String> {
    let value: u64 = text.trim().parse().map_err(|e| format!("{name} {text:?}: {e}"))?;
    if value > max {
        return Err(format!("{name} {value} is over {max}"));
    }
    Ok(value)
}

impl Plan {
    /// Parses the filter_config (`events=N,interval_ms=M,event_bytes=B`).
    pub fn parse(config: &[u8]) -> Result<Plan, String> {
        let text = std::str::from_utf8(config).map_err(|_| "stream-response: filter_config is not UTF-8")?;
        let mut plan = Plan::default();
        for item in text.split(',').map(str::trim).filter(|item| !item.is_empty()) {
            let (key, value) =
                item.split_once('=').ok_or_else(|| format!("stream-response: {item:?} is not key=value"))?;
            plan.set(key.trim(), value).map_err(|reason| format!("stream-response: {reason}"))?;
        }
        Ok(plan)
    }

    fn set(&mut self, key: &str, value: &str) -> Result<(), String> {
        match key {
            "events" => self.events = number(key, value, MAX_EVENTS)?,
            "interval_ms" => self.interval = Duration::from_millis(number(key, value, MAX_INTERVAL_MS)?),
            "event_bytes" => self.event_bytes = number(key, value, MAX_EVENT_BYTES)? as usize,
            _ => return Err(format!("unknown key {key:?} (events, interval_ms, event_bytes)")),
        }
        Ok(())
    }

    /// This plan with what the request's headers ask for instead.
    fn for_request(mut self, stream: &mut Stream) -> Result<Plan, String> {
        let headers = stream.request_headers();
        for (header, key) in [
            ("x-envoyx-events", "events"),
            ("x-envoyx-interval-ms", "interval_ms"),
            ("x-envoyx-event-bytes", "event_bytes"),
        ] {
            if let Some(value) = headers.get_str(header) {
                self.set(key, value)?;
            }
        }
        Ok(self)
    }
}

/// Event `n` (from 1) of a stream, with `padding` bytes of `.`.
pub fn event(n: u64, padding: usize) -> Vec<u8> {
    let mut event = format!("id: {n}\ndata: event {n} ").into_bytes();
    event.resize(event.len() + padding, b'.');
    event.extend_from_slice(b"\n\n");
    event
}

pub struct StreamResponseConfig(Plan);

impl FilterConfig for StreamResponseConfig {
    type Filter = StreamResponse;

    fn new(_name: &str, config: &[u8]) -> Result<Self, String> {
        Plan::parse(config).map(StreamResponseConfig)
    }

    fn new_filter(&self) -> StreamResponse {
        StreamResponse { plan: self.0, sent: 0, paused: false, due: false, pauses: 0 }
    }
}

/// One stream's producer.
pub struct StreamResponse {
    plan: Plan,
    /// Events sent so far.
    sent: u64,
    /// The client is behind (above the high watermark).
    paused: bool,
    /// The next event's time came while paused.
    due: bool,
    pauses: u64,
}

/// The event id of "the next event is due".
const NEXT: u64 = 1;

impl StreamResponse {
    /// Sends the next event and arms the one after it, or ends the response.
    fn produce(&mut self, stream: &mut Stream) {
        self.sent += 1;
        stream.send_response_data(&event(self.sent, self.plan.event_bytes), false);
        if self.sent >= self.plan.events {
            let (sent, pauses) = (self.sent.to_string(), self.pauses.to_string());
            stream.send_response_trailers(&[("x-envoyx-events-sent", &sent), ("x-envoyx-pauses", &pauses)]);
            return;
        }
        let handle = stream.handle();
        if self.plan.interval.is_zero() {
            handle.schedule(NEXT);
        } else {
            let (interval, timer) = (self.plan.interval, handle.clone());
            // A timer thread per event keeps the example short; once the stream is gone the
            // schedule is refused and the thread ends. Without a thread, the next event goes now.
            let spawned = envoyx_sdk::thread::spawn(move || {
                std::thread::sleep(interval);
                timer.schedule(NEXT);
            });
            if spawned.is_err() {
                handle.schedule(NEXT);
            }
        }
    }
}

impl Filter for StreamResponse {
    fn on_request_headers(&mut self, stream: &mut Stream, _end_of_stream: bool) -> HeadersStatus {
        match self.plan.for_request(stream) {
            Ok(plan) => self.plan = plan,
            Err(reason) => {
                stream.send_local_reply(
                    400,
                    &[],
                    format!("{reason}\n").as_bytes(),
                    "stream_response_bad_request",
                );
                return HeadersStatus::StopIteration;
            }
        }
        let events = self.plan.events.to_string();
        let headers = [
            ("content-type", "text/event-stream"),
            ("cache-control", "no-cache"),
            ("x-envoyx-events", events.as_str()),
        ];
        if self.plan.events == 0 {
            stream.send_response_headers(200, &headers, true);
        } else if stream.send_response_headers(200, &headers, false) {
            self.produce(stream);
        }
        // The request stays here either way: this filter is its end.
        HeadersStatus::StopIteration
    }

    fn on_scheduled(&mut self, stream: &mut Stream, _event_id: u64) {
        if self.paused {
            self.due = true;
        } else {
            self.produce(stream);
        }
    }

    fn on_watermark(&mut self, stream: &mut Stream, direction: Direction, above: bool) {
        if direction != Direction::Response {
            return;
        }
        self.paused = above;
        if above {
            self.pauses += 1;
        } else if std::mem::take(&mut self.due) {
            self.produce(stream);
        }
    }
}

envoyx_sdk::export_module!(StreamResponseConfig);
