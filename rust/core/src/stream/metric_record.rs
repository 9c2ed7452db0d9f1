//! The rule of `metric_record`: which metric, which operation, which label values a stream may
//! record (`metrics.rs` holds the metrics themselves, which the stream's configuration defined).

use crate::log::core_log;
use crate::stream::cell::StreamCell;
use crate::stream::metrics::{LABEL_LIMIT, MAX_LABEL_VALUE, MetricOp};
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
    if !values.is_empty() && !metric.admit(values) {
        if !metric.warned.swap(true, Ordering::Relaxed) {
            let labels = cell.labels();
            core_log!(
                Warn,
                "EnvoyX module {} (filter `{}`): metric `{}` reached {LABEL_LIMIT} label-value combinations; \
                 new combinations are not recorded (first refused: {:?})",
                labels.module,
                labels.filter,
                def.name,
                values.iter().map(|v| crate::log::Shown(v).to_string()).collect::<Vec<_>>()
            );
        }
        return false;
    }
    let op = MetricOp::from_abi(op).expect("checked above");
    cell.host.borrow_mut().metric_record(metric.host_id, def.kind, op, values, value)
}
