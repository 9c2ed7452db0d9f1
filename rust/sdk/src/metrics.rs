//! Metrics (ABI 1.1): counters, gauges and histograms, defined once in
//! [`FilterConfig::new`](crate::FilterConfig::new) and recorded from any stream on any worker
//! thread, with no lock and no allocation per record (up to [`INLINE_LABELS`] labels).
//!
//! Envoy shows them as `<filter>.<name>` (the filter configuration's `name`, or the module
//! file's stem), label names as tags: see docs/contract.md, "Metrics", for each proxy's prefix.
//! A labelled metric takes at most [`LABEL_LIMIT`] label-value combinations, or the bound the
//! filter configuration's `metric_limits` sets; a new one past that is refused (`false`) with one
//! warning, or recorded under the configuration's `overflow_label` (`true`).
//!
//! ```
//! use envoyx_sdk::{Counter, Filter, FilterConfig, HeadersStatus, Histogram, Stream};
//!
//! struct Config {
//!     requests: Counter,
//!     body_bytes: Histogram,
//! }
//!
//! impl FilterConfig for Config {
//!     type Filter = Observe;
//!     fn new(_name: &str, _config: &[u8]) -> Result<Self, String> {
//!         Ok(Config {
//!             requests: Counter::define("requests", &["method"]).ok_or("no counter")?,
//!             body_bytes: Histogram::define("body_bytes", &[]).ok_or("no histogram")?,
//!         })
//!     }
//!     fn new_filter(&self) -> Observe {
//!         Observe { requests: self.requests, body_bytes: self.body_bytes }
//!     }
//! }
//!
//! struct Observe {
//!     requests: Counter,
//!     body_bytes: Histogram,
//! }
//!
//! impl Filter for Observe {
//!     fn on_request_headers(&mut self, stream: &mut Stream, _end_of_stream: bool) -> HeadersStatus {
//!         let method = stream.request_headers().get_str(":method").unwrap_or("-").to_string();
//!         self.requests.increment(stream, &[&method]);
//!         HeadersStatus::Continue
//!     }
//! }
//! ```

use envoyx_abi::envoyx_bytes;

use crate::Stream;

/// How many label-value combinations one labelled metric takes unless the filter configuration's
/// `metric_limits.label_combinations` says otherwise.
pub const LABEL_LIMIT: u32 = envoyx_abi::ENVOYX_METRIC_LABEL_LIMIT;

/// Up to this many labels, a record builds its label views on the stack.
pub const INLINE_LABELS: usize = 8;

/// Defines a metric of the configuration being created; its id, if the host took it.
fn define(kind: u32, name: &str, label_names: &[&str]) -> Option<u64> {
    let host = crate::host::host()?;
    let creating = crate::handle::creating();
    if creating.is_null() {
        crate::log(
            crate::LogLevel::Error,
            &format!("metric `{name}` defined outside FilterConfig::new; refused"),
        );
        return None;
    }
    let names: Vec<envoyx_bytes> =
        label_names.iter().map(|l| envoyx_bytes::from_slice(l.as_bytes())).collect();
    // Safety: `creating` is the host's error argument of the `envoyx_on_filter_config_new` call
    // running on this thread; the views are valid during the call.
    let id = unsafe {
        (host.metric_define)(
            creating,
            kind,
            envoyx_bytes::from_slice(name.as_bytes()),
            names.as_ptr(),
            names.len(),
        )
    };
    (id != 0).then_some(id)
}

/// Records on metric `id` through the stream's host, with the label values as views built on
/// the stack when there are few.
fn record(stream: &mut Stream, id: u64, label_values: &[&str], op: u32, value: u64) -> bool {
    let view = |v: &&str| envoyx_bytes::from_slice(v.as_bytes());
    let mut inline = [envoyx_bytes::EMPTY; INLINE_LABELS];
    let heap: Vec<envoyx_bytes>;
    let views: &[envoyx_bytes] = if label_values.len() <= INLINE_LABELS {
        for (slot, v) in inline.iter_mut().zip(label_values) {
            *slot = view(v);
        }
        &inline[..label_values.len()]
    } else {
        heap = label_values.iter().map(view).collect();
        &heap
    };
    stream.metric_record(id, views, op, value)
}

macro_rules! metric {
    ($(#[$doc:meta])* $name:ident, $kind:expr) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub struct $name {
            id: u64,
        }

        impl $name {
            /// Inside [`FilterConfig::new`](crate::FilterConfig::new) only: defines it with
            /// these label names (`[a-z0-9_]`, starting with a letter; none for a plain one).
            /// `None` when refused (a warning names why: a bad or repeated name, outside
            /// `FilterConfig::new`, a host without metrics).
            pub fn define(name: &str, label_names: &[&str]) -> Option<Self> {
                define($kind, name, label_names).map(|id| Self { id })
            }

            /// The id the host gave it: `metric_record`'s `metric_id`, for a call through
            /// [`host_api`](crate::host_api).
            pub fn id(&self) -> u64 {
                self.id
            }
        }
    };
}

metric!(
    /// A count that only grows (requests, decisions, errors).
    Counter,
    envoyx_abi::ENVOYX_METRIC_COUNTER
);
metric!(
    /// A value that goes up and down (requests in flight, a queue's length).
    Gauge,
    envoyx_abi::ENVOYX_METRIC_GAUGE
);
metric!(
    /// A distribution of recorded values, in the module's unit (latency in milliseconds, sizes
    /// in bytes).
    Histogram,
    envoyx_abi::ENVOYX_METRIC_HISTOGRAM
);

impl Counter {
    /// Adds `value` for these label values (as many as defined). False when refused.
    pub fn add(&self, stream: &mut Stream, label_values: &[&str], value: u64) -> bool {
        record(stream, self.id, label_values, envoyx_abi::ENVOYX_METRIC_ADD, value)
    }

    /// Adds 1.
    pub fn increment(&self, stream: &mut Stream, label_values: &[&str]) -> bool {
        self.add(stream, label_values, 1)
    }
}

impl Gauge {
    /// Raises it by `value` for these label values. False when refused.
    pub fn add(&self, stream: &mut Stream, label_values: &[&str], value: u64) -> bool {
        record(stream, self.id, label_values, envoyx_abi::ENVOYX_METRIC_ADD, value)
    }

    /// Lowers it by `value`.
    pub fn sub(&self, stream: &mut Stream, label_values: &[&str], value: u64) -> bool {
        record(stream, self.id, label_values, envoyx_abi::ENVOYX_METRIC_SUBTRACT, value)
    }

    /// Sets it to `value`.
    pub fn set(&self, stream: &mut Stream, label_values: &[&str], value: u64) -> bool {
        record(stream, self.id, label_values, envoyx_abi::ENVOYX_METRIC_SET, value)
    }
}

impl Histogram {
    /// Records `value` for these label values.
    pub fn record(&self, stream: &mut Stream, label_values: &[&str], value: u64) -> bool {
        record(stream, self.id, label_values, envoyx_abi::ENVOYX_METRIC_RECORD, value)
    }
}
