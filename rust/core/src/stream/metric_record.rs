//! The rule of `metric_record`: which metric, which operation, which label values a stream may
//! record (`metrics.rs` holds the metrics themselves, which the stream's configuration defined).

use crate::log::core_log;
use crate::stream::cell::StreamCell;
use crate::stream::metrics::{MAX_LABEL_VALUE, MetricKind, MetricOp};
use std::sync::atomic::Ordering;

/// `metric_record`: checks the call and has the host apply it; false (logged) when refused.
pub(crate) fn record(cell: &StreamCell, id: u64, values: &[&[u8]], op: u32, value: u64) -> bool {
    let metrics = cell.metrics();
    let Some(metric) =
        usize::try_from(id).ok().and_then(|id| id.checked_sub(1)).and_then(|at| metrics.get(at))
    else {
        cell.refuse(
            format_args!("metric_record of metric {id}"),
            &"its configuration defined no such metric",
        );
        return false;
    };
    let def = &metric.def;
    let refusal = match MetricOp::from_abi(op) {
        None => Some(format!("unknown operation {op}")),
        Some(op) if !op.suits(def.kind) => Some(format!("{op:?} does not apply to a {:?}", def.kind)),
        Some(_) if values.len() != def.label_names.len() => Some(format!(
            "it has {} label(s) ({}), {} value(s) given",
            def.label_names.len(),
            def.label_names.join(", "),
            values.len()
        )),
        Some(_) => values.iter().find_map(|v| {
            crate::stream::validate::text("label value", v, MAX_LABEL_VALUE)
                .err()
                .map(|refusal| format!("label value `{}`: {refusal}", crate::log::Shown(v)))
        }),
    };
    if let Some(reason) = refusal {
        cell.refuse(format_args!("metric_record of `{}`", def.name), &reason);
        return false;
    }
    let op = MetricOp::from_abi(op).expect("checked above");
    let mut host = cell.host.borrow_mut();
    if values.is_empty() || metric.admit(values) {
        return host.metric_record(metric.host_id, def.kind, op, values, value);
    }
    // Past the metric's bound: counted, said once, then dropped or recorded as the overflow.
    if let Some(counter) = metric.overflow_counter {
        host.metric_record(counter, MetricKind::Counter, MetricOp::Add, &[def.name.as_bytes()], 1);
    }
    if !metric.warned.swap(true, Ordering::Relaxed) {
        let labels = cell.labels();
        let becomes = match &metric.overflow_label {
            Some(overflow) => format!("recorded as `{}` for every label", crate::log::Shown(overflow)),
            None => "not recorded".to_string(),
        };
        core_log!(
            Warn,
            "EnvoyX module {} (filter `{}`): metric `{}` reached {} label-value combinations; \
             new combinations are {becomes} (first: {:?})",
            labels.module,
            labels.filter,
            def.name,
            metric.limit(),
            values.iter().map(|v| crate::log::Shown(v).to_string()).collect::<Vec<_>>()
        );
    }
    match &metric.overflow_label {
        Some(overflow) => {
            let folded = vec![&overflow[..]; values.len()];
            host.metric_record(metric.host_id, def.kind, op, &folded, value)
        }
        None => false,
    }
}
