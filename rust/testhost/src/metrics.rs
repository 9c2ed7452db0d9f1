//! Metrics on the test host: what the module defined and every value it recorded, kept as a
//! proxy's stats would hold them, for the test to assert on ([`crate::TestHost::metric`]).

use envoyx_core::sync::lock;
use std::collections::HashMap;
use std::sync::Mutex;

use envoyx_core::{MetricDef, MetricKind, MetricOp};

/// A metric's value for one combination of label values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MetricValue {
    Counter(u64),
    Gauge(i64),
    /// Every recorded value, in order.
    Histogram(Vec<u64>),
}

/// The definitions (host id = index + 1) and the values by (host id, label values).
#[derive(Default)]
pub(crate) struct MetricStore {
    defs: Mutex<Vec<MetricDef>>,
    values: Mutex<HashMap<(u64, Vec<String>), MetricValue>>,
}

impl MetricStore {
    pub fn define(&self, def: &MetricDef) -> u64 {
        let mut defs = lock(&self.defs);
        defs.push(def.clone());
        defs.len() as u64
    }

    pub fn record(&self, host_id: u64, kind: MetricKind, op: MetricOp, labels: &[&[u8]], value: u64) -> bool {
        let labels = labels.iter().map(|l| String::from_utf8_lossy(l).into_owned()).collect();
        let mut values = lock(&self.values);
        let entry = values.entry((host_id, labels)).or_insert(match kind {
            MetricKind::Counter => MetricValue::Counter(0),
            MetricKind::Gauge => MetricValue::Gauge(0),
            MetricKind::Histogram => MetricValue::Histogram(Vec::new()),
        });
        let signed = i64::try_from(value).unwrap_or(i64::MAX);
        match (entry, op) {
            (MetricValue::Counter(n), MetricOp::Add) => *n = n.saturating_add(value),
            (MetricValue::Gauge(n), MetricOp::Add) => *n = n.saturating_add(signed),
            (MetricValue::Gauge(n), MetricOp::Subtract) => *n = n.saturating_sub(signed),
            (MetricValue::Gauge(n), MetricOp::Set) => *n = signed,
            (MetricValue::Histogram(recorded), MetricOp::Record) => recorded.push(value),
            // The core only passes operations that suit the kind.
            (value, op) => panic!("test host: {op:?} on {value:?}"),
        }
        true
    }

    /// The value of metric `name` (the module's name, without the filter's) for these label
    /// values; None when nothing was recorded for them.
    pub fn value(&self, name: &str, labels: &[&str]) -> Option<MetricValue> {
        let defs = lock(&self.defs);
        let host_id = defs.iter().position(|d| d.name == name)? as u64 + 1;
        let labels: Vec<String> = labels.iter().map(|l| l.to_string()).collect();
        lock(&self.values).get(&(host_id, labels)).cloned()
    }

    /// The definitions, in order.
    pub fn defs(&self) -> Vec<MetricDef> {
        lock(&self.defs).clone()
    }
}
