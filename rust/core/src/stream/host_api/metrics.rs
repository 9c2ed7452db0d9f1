//! The table's metrics (`metric_define`, `metric_record`, ABI 1.1).

use super::{lent_sink, view, view_list, with_stream};
use crate::log::core_log;
use envoyx_abi::*;

pub(super) unsafe extern "C" fn metric_define(
    creating: *mut envoyx_error,
    kind: envoyx_metric_kind,
    name: envoyx_bytes,
    label_names: *const envoyx_bytes,
    label_names_len: usize,
) -> u64 {
    // Safety: used during this call only.
    let Some(sink) = (unsafe { lent_sink(creating, "metric_define") }) else { return 0 };
    let Some(shared) = &sink.creating else {
        core_log!(
            Error,
            "EnvoyX module called metric_define outside envoyx_on_filter_config_new (metrics are \
             defined while a configuration is created); refused"
        );
        return 0;
    };
    // Safety: the views are valid during this call.
    unsafe { shared.define_metric(kind, view(name), &view_list(label_names, label_names_len)) }
}

pub(super) unsafe extern "C" fn metric_record(
    stream: *mut envoyx_stream,
    metric_id: u64,
    label_values: *const envoyx_bytes,
    label_values_len: usize,
    op: envoyx_metric_op,
    value: u64,
) -> bool {
    // Safety: stream pointer per the ABI; the views are valid during the call.
    unsafe {
        with_stream(stream, "metric_record", false, |cell, _| {
            crate::stream::metric_record::record(
                cell,
                metric_id,
                &view_list(label_values, label_values_len),
                op,
                value,
            )
        })
    }
}
