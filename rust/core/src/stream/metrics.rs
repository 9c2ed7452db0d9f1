//! Metrics (ABI 1.1): counters, gauges and histograms a module defines while its filter
//! configuration is created, and records from its streams on any worker thread.
//!
//! The rules, all here: names and label names are `[a-z0-9_]`, 1–64 bytes, starting with a
//! letter; a metric is defined once per configuration, only while it is created (the proxy
//! freezes its stats then); a record names a defined metric, an operation its kind allows and
//! exactly its label values, each text of at most [`MAX_LABEL_VALUE`] bytes (UTF-8 without
//! control characters: `validate::text`, as stats and Prometheus print it); and a
//! labelled metric takes at most [`MetricLimits::label_combinations`] label-value combinations
//! ([`LABEL_LIMIT`] unless the configuration's `metric_limits` says otherwise); a new one past
//! that is dropped, or recorded with the configuration's overflow value for every label, with one
//! warning per metric, and counted in EnvoyX's own counter [`OVERFLOW_COUNTER`] (labelled
//! `metric`). The host only registers and updates the proxy's stats
//! ([`crate::ConfigHost::define_metric`], [`crate::HostStream::metric_record`]).
//!
//! The hot path takes no lock: each thread remembers the combinations it has recorded, and only
//! a combination new to the thread checks (and counts) it in the metric's shared set.

use crate::sync::lock;
use std::cell::RefCell;
use std::collections::HashSet;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use crate::log::core_log;

/// How many label-value combinations one labelled metric takes (`ENVOYX_METRIC_LABEL_LIMIT`).
pub const LABEL_LIMIT: usize = envoyx_abi::ENVOYX_METRIC_LABEL_LIMIT as usize;

/// The longest label value, in bytes.
pub const MAX_LABEL_VALUE: usize = 256;

/// The most combinations a configuration may let one labelled metric take.
pub const MAX_LABEL_COMBINATIONS: u32 = 1_000_000;

/// EnvoyX's own counter of records past a metric's bound (`<filter>.envoyx_label_overflow`,
/// labelled `metric`), defined with the module's metrics when one of them has labels. Module
/// metric names may not start with `envoyx_`.
pub const OVERFLOW_COUNTER: &str = "envoyx_label_overflow";

/// A configuration's bounds on its labelled metrics: `x/config.proto`'s `MetricLimits`, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MetricLimits {
    /// Combinations per labelled metric (1 to [`MAX_LABEL_COMBINATIONS`]).
    pub label_combinations: u32,
    /// The value every label of a record past the bound is recorded with; None drops it.
    pub overflow_label: Option<String>,
}

impl Default for MetricLimits {
    fn default() -> Self {
        Self { label_combinations: envoyx_abi::ENVOYX_METRIC_LABEL_LIMIT, overflow_label: None }
    }
}

impl MetricLimits {
    /// Checks the configuration's fields: `(field, reason)` when refused. 0 combinations means
    /// the default; an empty overflow label means none.
    pub fn new(label_combinations: u32, overflow_label: &str) -> Result<Self, (&'static str, String)> {
        let label_combinations = match label_combinations {
            0 => envoyx_abi::ENVOYX_METRIC_LABEL_LIMIT,
            n if n > MAX_LABEL_COMBINATIONS => {
                return Err((
                    "metric_limits.label_combinations",
                    format!("{n} is over the most a metric may take, {MAX_LABEL_COMBINATIONS}"),
                ));
            }
            n => n,
        };
        let overflow_label = match overflow_label {
            "" => None,
            value => {
                crate::stream::validate::text("label value", value.as_bytes(), MAX_LABEL_VALUE)
                    .map_err(|refusal| ("metric_limits.overflow_label", refusal.to_string()))?;
                Some(value.to_string())
            }
        };
        Ok(Self { label_combinations, overflow_label })
    }
}

/// The longest metric or label name, in bytes.
const MAX_NAME: usize = 64;

/// A metric's kind. Mirrors `envoyx_metric_kind`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum MetricKind {
    Counter = envoyx_abi::ENVOYX_METRIC_COUNTER,
    Gauge = envoyx_abi::ENVOYX_METRIC_GAUGE,
    Histogram = envoyx_abi::ENVOYX_METRIC_HISTOGRAM,
}

impl MetricKind {
    pub fn from_abi(kind: u32) -> Option<Self> {
        [Self::Counter, Self::Gauge, Self::Histogram].into_iter().find(|k| *k as u32 == kind)
    }
}

/// What a record does. Mirrors `envoyx_metric_op`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum MetricOp {
    Add = envoyx_abi::ENVOYX_METRIC_ADD,
    Subtract = envoyx_abi::ENVOYX_METRIC_SUBTRACT,
    Set = envoyx_abi::ENVOYX_METRIC_SET,
    Record = envoyx_abi::ENVOYX_METRIC_RECORD,
}

impl MetricOp {
    pub fn from_abi(op: u32) -> Option<Self> {
        [Self::Add, Self::Subtract, Self::Set, Self::Record].into_iter().find(|o| *o as u32 == op)
    }

    /// Whether a metric of `kind` takes this operation.
    pub(crate) fn suits(self, kind: MetricKind) -> bool {
        matches!(
            (kind, self),
            (MetricKind::Counter, MetricOp::Add)
                | (MetricKind::Gauge, MetricOp::Add | MetricOp::Subtract | MetricOp::Set)
                | (MetricKind::Histogram, MetricOp::Record)
        )
    }
}

/// A metric as the host registers it with the proxy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MetricDef {
    pub kind: MetricKind,
    /// `<filter>.<name>`: the configuration's name (or the module file's stem) and the
    /// module's metric name.
    pub full_name: String,
    /// The module's metric name alone.
    pub name: String,
    pub label_names: Vec<String>,
}

/// One defined metric of a configuration.
pub(crate) struct Metric {
    pub def: MetricDef,
    /// The host's id for it.
    pub(crate) host_id: u64,
    /// Unique in the process, so threads' caches never confuse two configurations' metrics.
    uid: u64,
    /// The label-value combinations recorded so far (labelled metrics only).
    combinations: Mutex<HashSet<Box<[u8]>>>,
    /// The limit was reached and said so (once).
    pub(crate) warned: AtomicBool,
    /// How many combinations it takes.
    limit: usize,
    /// The value each label of a record past the limit is recorded with, if any.
    pub(crate) overflow_label: Option<Box<[u8]>>,
    /// The host's id of the configuration's [`OVERFLOW_COUNTER`] (labelled metrics, when the
    /// host defined it).
    pub(crate) overflow_counter: Option<u64>,
}

static NEXT_UID: AtomicU64 = AtomicU64::new(1);

/// What one thread remembers of the combinations it recorded.
#[derive(Default)]
struct ThreadSeen {
    /// Each as the metric's uid and its length-prefixed values.
    known: HashSet<Box<[u8]>>,
    /// The key being looked up, reused so a known combination costs no allocation.
    key: Vec<u8>,
}

/// Checks a metric or label name.
fn check_name(what: &str, name: &[u8]) -> Result<String, String> {
    let ok = !name.is_empty()
        && name.len() <= MAX_NAME
        && name[0].is_ascii_lowercase()
        && name.iter().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'_');
    if ok {
        Ok(String::from_utf8_lossy(name).into_owned())
    } else {
        Err(format!(
            "{what} `{}` must be 1-{MAX_NAME} bytes of [a-z0-9_] starting with a letter",
            crate::log::Shown(name)
        ))
    }
}

/// Checks a definition against `defined` (the configuration's metrics so far): the reason when
/// refused.
pub(crate) fn check_def(
    filter: &str,
    defined: &[Metric],
    kind: u32,
    name: &[u8],
    label_names: &[&[u8]],
) -> Result<MetricDef, String> {
    let kind = MetricKind::from_abi(kind).ok_or_else(|| format!("unknown metric kind {kind}"))?;
    let name = check_name("the metric name", name)?;
    let label_names =
        label_names.iter().map(|l| check_name("the label name", l)).collect::<Result<Vec<_>, _>>()?;
    if let Some(dup) =
        label_names.iter().enumerate().find_map(|(at, l)| label_names[..at].contains(l).then_some(l))
    {
        return Err(format!("the label name `{dup}` appears twice"));
    }
    if name.starts_with("envoyx_") {
        return Err(format!("metric names starting with `envoyx_` are EnvoyX's own (`{name}`)"));
    }
    if defined.iter().any(|m| m.def.name == name) {
        return Err(format!("a metric named `{name}` is already defined"));
    }
    Ok(MetricDef { kind, full_name: format!("{filter}.{name}"), name, label_names })
}

impl Metric {
    /// The host's id for it.
    pub fn host_id(&self) -> u64 {
        self.host_id
    }

    pub fn new(def: MetricDef, host_id: u64, limits: &MetricLimits) -> Self {
        Self {
            def,
            host_id,
            uid: NEXT_UID.fetch_add(1, Ordering::Relaxed),
            combinations: Mutex::default(),
            warned: AtomicBool::new(false),
            limit: limits.label_combinations as usize,
            overflow_label: limits.overflow_label.as_ref().map(|v| v.as_bytes().into()),
            overflow_counter: None,
        }
    }

    /// How many label-value combinations it takes.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Whether this combination of label values may be recorded: one this thread has recorded
    /// before (no lock), or one the metric has seen or still has room for.
    pub(crate) fn admit(&self, values: &[&[u8]]) -> bool {
        thread_local! {
            static SEEN: RefCell<ThreadSeen> = RefCell::default();
        }
        SEEN.with(|seen| {
            let ThreadSeen { known, key } = &mut *seen.borrow_mut();
            key.clear();
            key.extend_from_slice(&self.uid.to_le_bytes());
            for value in values {
                // Length-prefixed, so ("ab", "c") and ("a", "bc") differ.
                key.extend_from_slice(&(value.len() as u32).to_le_bytes());
                key.extend_from_slice(value);
            }
            if known.contains(key.as_slice()) {
                return true;
            }
            let mut shared = lock(&self.combinations);
            if !shared.contains(key.as_slice()) {
                if shared.len() >= self.limit {
                    return false;
                }
                shared.insert(key.clone().into_boxed_slice());
            }
            known.insert(key.clone().into_boxed_slice());
            true
        })
    }
}

/// The definition of a configuration's [`OVERFLOW_COUNTER`].
pub(crate) fn overflow_counter_def(filter: &str) -> MetricDef {
    MetricDef {
        kind: MetricKind::Counter,
        full_name: format!("{filter}.{OVERFLOW_COUNTER}"),
        name: OVERFLOW_COUNTER.to_string(),
        label_names: vec!["metric".to_string()],
    }
}

/// The metrics being defined while a configuration is created (then frozen into the
/// configuration).
#[derive(Default)]
pub(crate) struct Defining {
    pub metrics: Mutex<Vec<Metric>>,
    limits: MetricLimits,
}

impl Defining {
    pub fn new(limits: MetricLimits) -> Self {
        Self { metrics: Mutex::default(), limits }
    }

    /// `metric_define`: the id, or 0 (logged).
    pub fn define(
        &self,
        filter: &str,
        host: Option<&dyn crate::ConfigHost>,
        kind: u32,
        name: &[u8],
        label_names: &[&[u8]],
    ) -> u64 {
        let mut metrics = lock(&self.metrics);
        let defined = check_def(filter, &metrics, kind, name, label_names).and_then(|def| {
            let host = host.ok_or_else(|| "this host keeps no metrics".to_string())?;
            let host_id = host.define_metric(&def)?;
            Ok(Metric::new(def, host_id, &self.limits))
        });
        match defined {
            Ok(metric) => {
                metrics.push(metric);
                metrics.len() as u64
            }
            Err(reason) => {
                core_log!(
                    Warn,
                    "EnvoyX module: metric_define of `{}` (filter `{filter}`) refused: {reason}",
                    crate::log::Shown(name)
                );
                0
            }
        }
    }

    /// The metrics defined, frozen for the configuration's life; when one has labels, with the
    /// configuration's [`OVERFLOW_COUNTER`] defined on `host` (still inside the creation).
    pub fn freeze(&self, filter: &str, host: Option<&dyn crate::ConfigHost>) -> Box<[Metric]> {
        let mut metrics = std::mem::take(&mut *lock(&self.metrics));
        let labelled = metrics.iter().any(|m| !m.def.label_names.is_empty());
        if let (true, Some(host)) = (labelled, host) {
            match host.define_metric(&overflow_counter_def(filter)) {
                Ok(id) => {
                    for metric in metrics.iter_mut().filter(|m| !m.def.label_names.is_empty()) {
                        metric.overflow_counter = Some(id);
                    }
                }
                Err(reason) => core_log!(
                    Warn,
                    "EnvoyX: the counter `{filter}.{OVERFLOW_COUNTER}` could not be defined ({reason}); \
                     records past a metric's label bound go uncounted"
                ),
            }
        }
        metrics.into_boxed_slice()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_lower_case_identifiers() {
        let check = |name: &[u8], labels: &[&[u8]]| check_def("f", &[], 0, name, labels).map(|d| d.full_name);
        assert_eq!(check(b"requests_total", &[b"route"]), Ok("f.requests_total".to_string()));
        for bad in [&b""[..], b"Requests", b"1st", b"a-b", b"a.b", &[b'a'; 65]] {
            assert!(check(bad, &[]).is_err(), "{bad:?}");
        }
        assert!(check(b"ok", &[b"route", b"route"]).unwrap_err().contains("twice"));
        assert!(check_def("f", &[], 9, b"ok", &[]).unwrap_err().contains("unknown metric kind 9"));
    }

    #[test]
    fn operations_suit_kinds() {
        use MetricKind::*;
        use MetricOp::*;
        assert!(Add.suits(Counter) && !Set.suits(Counter) && !Record.suits(Counter));
        assert!(Add.suits(Gauge) && Subtract.suits(Gauge) && Set.suits(Gauge) && !Record.suits(Gauge));
        assert!(Record.suits(Histogram) && !Add.suits(Histogram));
    }

    #[test]
    fn a_metric_takes_at_most_the_limit_of_combinations_from_every_thread() {
        let def = check_def("f", &[], 0, b"m", &[b"l"]).unwrap();
        let metric = std::sync::Arc::new(Metric::new(def, 1, &MetricLimits::default()));
        // Half the limit on each of two threads, then the rest on this one.
        let threads: Vec<_> = (0..2)
            .map(|t| {
                let metric = metric.clone();
                std::thread::spawn(move || {
                    (0..LABEL_LIMIT / 2).all(|i| metric.admit(&[format!("{t}-{i}").as_bytes()]))
                })
            })
            .collect();
        assert!(threads.into_iter().all(|t| t.join().unwrap()));
        assert!(!metric.admit(&[b"one-more"]), "past the limit");
        assert!(metric.admit(&[b"0-1"]), "a combination another thread recorded is still taken");
        assert!(metric.admit(&[b"0-1"]), "and then from this thread's cache");
        assert_eq!(metric.combinations.lock().unwrap().len(), LABEL_LIMIT);
    }

    #[test]
    fn a_configuration_sets_its_own_bound_and_overflow_value() {
        let limits = MetricLimits::new(2, "other").unwrap();
        let metric = Metric::new(check_def("f", &[], 0, b"m", &[b"l"]).unwrap(), 1, &limits);
        assert!(metric.admit(&[b"a"]) && metric.admit(&[b"b"]) && !metric.admit(&[b"c"]));
        assert_eq!((metric.limit(), metric.overflow_label.as_deref()), (2, Some(&b"other"[..])));
        assert_eq!(MetricLimits::new(0, "").unwrap(), MetricLimits::default());
        let (field, reason) = MetricLimits::new(1_000_001, "").unwrap_err();
        assert_eq!(field, "metric_limits.label_combinations");
        assert!(reason.contains("1000001 is over the most a metric may take, 1000000"), "{reason}");
        let (field, reason) = MetricLimits::new(5, "a\nb").unwrap_err();
        assert_eq!(field, "metric_limits.overflow_label");
        assert!(reason.contains("control"), "{reason}");
        let reserved = check_def("f", &[], 0, b"envoyx_label_overflow", &[]).unwrap_err();
        assert!(reserved.contains("starting with `envoyx_` are EnvoyX's own"), "{reserved}");
    }
}
