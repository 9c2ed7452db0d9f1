//! Metrics: a configuration's definitions (main thread) and a stream's records, each beside the
//! callback it wraps.

use super::*;

unsafe extern "C" {
    fn envoy_dynamic_module_callback_http_filter_config_define_counter(
        config: ConfigEnvoyPtr,
        name: ModuleBuffer,
        label_names: *mut ModuleBuffer,
        label_names_length: usize,
        id: *mut usize,
    ) -> MetricsResult;
    fn envoy_dynamic_module_callback_http_filter_config_define_gauge(
        config: ConfigEnvoyPtr,
        name: ModuleBuffer,
        label_names: *mut ModuleBuffer,
        label_names_length: usize,
        id: *mut usize,
    ) -> MetricsResult;
    fn envoy_dynamic_module_callback_http_filter_config_define_histogram(
        config: ConfigEnvoyPtr,
        name: ModuleBuffer,
        label_names: *mut ModuleBuffer,
        label_names_length: usize,
        id: *mut usize,
    ) -> MetricsResult;
    fn envoy_dynamic_module_callback_http_filter_increment_counter(
        filter: FilterEnvoyPtr,
        id: usize,
        label_values: *mut ModuleBuffer,
        label_values_length: usize,
        value: u64,
    ) -> MetricsResult;
    fn envoy_dynamic_module_callback_http_filter_increment_gauge(
        filter: FilterEnvoyPtr,
        id: usize,
        label_values: *mut ModuleBuffer,
        label_values_length: usize,
        value: u64,
    ) -> MetricsResult;
    fn envoy_dynamic_module_callback_http_filter_decrement_gauge(
        filter: FilterEnvoyPtr,
        id: usize,
        label_values: *mut ModuleBuffer,
        label_values_length: usize,
        value: u64,
    ) -> MetricsResult;
    fn envoy_dynamic_module_callback_http_filter_set_gauge(
        filter: FilterEnvoyPtr,
        id: usize,
        label_values: *mut ModuleBuffer,
        label_values_length: usize,
        value: u64,
    ) -> MetricsResult;
    fn envoy_dynamic_module_callback_http_filter_record_histogram_value(
        filter: FilterEnvoyPtr,
        id: usize,
        label_values: *mut ModuleBuffer,
        label_values_length: usize,
        value: u64,
    ) -> MetricsResult;
}

/// Defines a metric of the filter config `config` (main thread, inside Envoy's config-new hook:
/// Envoy freezes stat creation after it): Envoy's id for it, or Envoy's refusal.
///
/// # Safety
/// `config` is Envoy's live filter config, being created; called on the main thread.
pub unsafe fn config_define_metric(
    config: ConfigEnvoyPtr,
    kind: envoyx_core::MetricKind,
    name: &[u8],
    label_names: &[&[u8]],
) -> Result<usize, MetricsResult> {
    use envoyx_core::MetricKind;
    let mut labels: Vec<ModuleBuffer> = label_names.iter().map(|l| ModuleBuffer::new(l)).collect();
    let define = match kind {
        MetricKind::Counter => envoy_dynamic_module_callback_http_filter_config_define_counter,
        MetricKind::Gauge => envoy_dynamic_module_callback_http_filter_config_define_gauge,
        MetricKind::Histogram => envoy_dynamic_module_callback_http_filter_config_define_histogram,
    };
    let mut id = 0usize;
    // Safety: per the caller; Envoy copies the names.
    let result =
        unsafe { define(config, ModuleBuffer::new(name), labels.as_mut_ptr(), labels.len(), &mut id) };
    if result == METRICS_SUCCESS { Ok(id) } else { Err(result) }
}

impl EnvoyFilter {
    /// Applies `op` to Envoy's metric `id` (of `kind`) of this filter's config for these label
    /// values (as many as it was defined with); Envoy's refusal otherwise.
    pub fn record_metric(
        self,
        kind: envoyx_core::MetricKind,
        op: envoyx_core::MetricOp,
        id: usize,
        label_values: &[&[u8]],
        value: u64,
    ) -> Result<(), MetricsResult> {
        use envoyx_core::{MetricKind as K, MetricOp as O};
        let call = match (kind, op) {
            (K::Counter, O::Add) => envoy_dynamic_module_callback_http_filter_increment_counter,
            (K::Gauge, O::Add) => envoy_dynamic_module_callback_http_filter_increment_gauge,
            (K::Gauge, O::Subtract) => envoy_dynamic_module_callback_http_filter_decrement_gauge,
            (K::Gauge, O::Set) => envoy_dynamic_module_callback_http_filter_set_gauge,
            (K::Histogram, O::Record) => envoy_dynamic_module_callback_http_filter_record_histogram_value,
            // The core passes only operations that suit the kind.
            _ => return Err(METRICS_INVALID_LABELS),
        };
        let mut labels: Vec<ModuleBuffer> = label_values.iter().map(|l| ModuleBuffer::new(l)).collect();
        // Safety: live filter on its worker thread; Envoy copies the label values.
        let result = unsafe { call(self.raw(), id, labels.as_mut_ptr(), labels.len(), value) };
        if result == METRICS_SUCCESS { Ok(()) } else { Err(result) }
    }
}
