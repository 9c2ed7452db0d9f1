//! Counts of the lifecycles the core runs — configuration versions and their streams — so that an
//! operator, a test or a soak can see that everything begun was also ended: each version counts
//! its own streams, and the process keeps totals of both. The core logs a version's counts, with
//! the process totals, when the version is destroyed (`config_version.rs`).
//!
//! A stream is *started* when its module stream is created, *completed* when the host reports the
//! stream complete (Envoy's stream-complete; the core completes a stream the host destroys
//! without it, which is then not counted here) and *destroyed* when it is dropped. Once a version
//! is destroyed all three are equal unless the host destroyed streams it never completed.

use std::sync::atomic::{AtomicU64, Ordering};

/// How many streams of one configuration version (or of the process) started, were completed by
/// the host, and were destroyed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StreamCounts {
    pub started: u64,
    pub completed: u64,
    pub destroyed: u64,
}

impl StreamCounts {
    /// Whether every stream started was completed and destroyed.
    pub fn balanced(&self) -> bool {
        self.started == self.completed && self.completed == self.destroyed
    }
}

impl std::fmt::Display for StreamCounts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} started, {} completed, {} destroyed", self.started, self.completed, self.destroyed)
    }
}

/// The process's totals since it started.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LifecycleTotals {
    /// Configuration versions created (a hot reload creates one more) and destroyed.
    pub configs_created: u64,
    pub configs_destroyed: u64,
    pub streams: StreamCounts,
}

impl std::fmt::Display for LifecycleTotals {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "configurations {} created, {} destroyed; streams {}",
            self.configs_created, self.configs_destroyed, self.streams
        )
    }
}

/// Stream counters, shared by the worker threads that run the streams.
#[derive(Default)]
pub(crate) struct StreamCounters {
    started: AtomicU64,
    completed: AtomicU64,
    destroyed: AtomicU64,
}

static PROCESS_STREAMS: StreamCounters =
    StreamCounters { started: AtomicU64::new(0), completed: AtomicU64::new(0), destroyed: AtomicU64::new(0) };
static CONFIGS_CREATED: AtomicU64 = AtomicU64::new(0);
static CONFIGS_DESTROYED: AtomicU64 = AtomicU64::new(0);

/// What a stream went through, counted for its version and the process.
#[derive(Clone, Copy)]
pub(crate) enum StreamEvent {
    Started,
    Completed,
    Destroyed,
}

impl StreamCounters {
    pub(crate) fn count(&self, event: StreamEvent) {
        for counters in [self, &PROCESS_STREAMS] {
            let counter = match event {
                StreamEvent::Started => &counters.started,
                StreamEvent::Completed => &counters.completed,
                StreamEvent::Destroyed => &counters.destroyed,
            };
            counter.fetch_add(1, Ordering::AcqRel);
        }
    }

    pub(crate) fn counts(&self) -> StreamCounts {
        // Destroyed first: a stream counted destroyed was counted started before it, so a read
        // racing with streams never shows more destroyed than started.
        let destroyed = self.destroyed.load(Ordering::Acquire);
        let completed = self.completed.load(Ordering::Acquire);
        let started = self.started.load(Ordering::Acquire);
        StreamCounts { started, completed, destroyed }
    }
}

pub(crate) fn config_created() {
    CONFIGS_CREATED.fetch_add(1, Ordering::AcqRel);
}

pub(crate) fn config_destroyed() {
    CONFIGS_DESTROYED.fetch_add(1, Ordering::AcqRel);
}

/// The process's totals now.
pub fn totals() -> LifecycleTotals {
    let configs_destroyed = CONFIGS_DESTROYED.load(Ordering::Acquire);
    LifecycleTotals {
        configs_created: CONFIGS_CREATED.load(Ordering::Acquire),
        configs_destroyed,
        streams: PROCESS_STREAMS.counts(),
    }
}

/// What a version's destroy log line says (`config_version.rs` writes it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DestroyedLine {
    /// The filter configuration's name.
    pub filter: String,
    /// The version's streams.
    pub streams: StreamCounts,
    /// The process's totals right after it.
    pub totals: LifecycleTotals,
}

/// The start of the line a version's destroy logs, before the name.
pub(crate) const DESTROYED_PREFIX: &str = "EnvoyX: filter `";
/// What follows the module's path in that line.
pub(crate) const DESTROYED_MARK: &str = "): configuration destroyed; its streams: ";

/// Reads a version's destroy line back (from a log line that contains one, with anything around
/// it), for tools that check a process's logs: None for any other line.
pub fn parse_destroyed_line(line: &str) -> Option<DestroyedLine> {
    let (head, rest) = line.split_once(DESTROYED_MARK)?;
    let filter = head.split_once(DESTROYED_PREFIX)?.1.split_once('`')?.0.to_string();
    let (streams, totals) = rest.split_once("; in this process: configurations ")?;
    let (configs, process_streams) = totals.split_once("; streams ")?;
    let (created, destroyed) = configs.split_once(" created, ")?;
    let destroyed = destroyed.strip_suffix(" destroyed")?;
    Some(DestroyedLine {
        filter,
        streams: parse_counts(streams)?,
        totals: LifecycleTotals {
            configs_created: created.trim().parse().ok()?,
            configs_destroyed: destroyed.trim().parse().ok()?,
            streams: parse_counts(process_streams)?,
        },
    })
}

/// Reads `A started, B completed, C destroyed` (what [`StreamCounts`] displays), with anything
/// after it.
fn parse_counts(text: &str) -> Option<StreamCounts> {
    let mut numbers = text.split(", ").map(|part| part.split(' ').next()?.parse::<u64>().ok());
    Some(StreamCounts { started: numbers.next()??, completed: numbers.next()??, destroyed: numbers.next()?? })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_destroy_line_reads_back_what_it_was_written_from() {
        let streams = StreamCounts { started: 7, completed: 6, destroyed: 7 };
        let totals = LifecycleTotals {
            configs_created: 3,
            configs_destroyed: 2,
            streams: StreamCounts { started: 100, completed: 99, destroyed: 98 },
        };
        let line = format!(
            "[2026-11-30 19:00:00.000][12][info][dynamic_modules] {DESTROYED_PREFIX}a b`c (module /m/lib x.so{DESTROYED_MARK}{streams}; in this process: {totals}"
        );
        // A backquote ends the name: EnvoyX names are the filter config's, which Envoy's log shows.
        let read = parse_destroyed_line(&line).unwrap();
        assert_eq!(read, DestroyedLine { filter: "a b".to_string(), streams, totals });
        assert!(!streams.balanced());
        assert!(parse_destroyed_line("EnvoyX: filter `x` (module m): ready").is_none());
        assert!(parse_destroyed_line(&line.replace("98 destroyed", "many destroyed")).is_none());
    }
}
