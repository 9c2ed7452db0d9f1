//! A filter configuration's own calls (main thread): callouts, streaming callouts and metric
//! definitions.

use super::*;

/// Starts an HTTP callout for the filter configuration `config` (main thread): Envoy's id for
/// it, or the init result that refused it. Envoy answers through
/// `on_http_filter_config_http_callout_done` on the main thread and cancels it with the config.
///
/// # Safety
/// `config` is Envoy's live filter config; called on the main thread.
pub unsafe fn config_http_callout(
    config: ConfigEnvoyPtr,
    cluster: &[u8],
    headers: &[(&[u8], &[u8])],
    body: &[u8],
    timeout_ms: u64,
) -> Result<u64, CalloutInitResult> {
    // Safety: per the caller.
    unsafe {
        callout(cluster, headers, body, timeout_ms, |id, cluster, headers, count, body, timeout| {
            envoy_dynamic_module_callback_http_filter_config_http_callout(
                config, id, cluster, headers, count, body, timeout,
            )
        })
    }
}

/// Opens an HTTP stream for the filter config `config` (main thread), as
/// [`EnvoyFilter::start_http_stream`] does for a filter; Envoy reports on it through the optional
/// `on_http_filter_config_http_stream_*` hooks and resets it when it destroys the config.
///
/// # Safety
/// `config` is Envoy's live filter config; called on the main thread.
pub unsafe fn config_start_http_stream(
    config: ConfigEnvoyPtr,
    cluster: &[u8],
    headers: &[(&[u8], &[u8])],
    body: &[u8],
    end_stream: bool,
    timeout_ms: u64,
) -> Result<u64, CalloutInitResult> {
    // Safety: per the caller.
    unsafe {
        callout(cluster, headers, body, timeout_ms, |id, cluster, headers, count, body, timeout| {
            envoy_dynamic_module_callback_http_filter_config_start_http_stream(
                config, id, cluster, headers, count, body, end_stream, timeout,
            )
        })
    }
}

/// Sends request body bytes on the config's HTTP stream `stream_id`.
///
/// # Safety
/// As for [`config_start_http_stream`].
pub unsafe fn config_stream_send_data(
    config: ConfigEnvoyPtr,
    stream_id: u64,
    data: &[u8],
    end_stream: bool,
) -> bool {
    // Safety: per the caller; Envoy copies the data.
    unsafe {
        envoy_dynamic_module_callback_http_filter_config_stream_send_data(
            config,
            stream_id,
            ModuleBuffer::new(data),
            end_stream,
        )
    }
}

/// Ends the request of the config's HTTP stream `stream_id` with trailers.
///
/// # Safety
/// As for [`config_start_http_stream`].
pub unsafe fn config_stream_send_trailers(
    config: ConfigEnvoyPtr,
    stream_id: u64,
    trailers: &[(&[u8], &[u8])],
) -> bool {
    let mut list = HttpHeader::list(trailers.iter().map(|(k, v)| (*k, *v)));
    // Safety: per the caller; Envoy copies the trailers.
    unsafe {
        envoy_dynamic_module_callback_http_filter_config_stream_send_trailers(
            config,
            stream_id,
            list.as_mut_ptr(),
            list.len(),
        )
    }
}

/// Resets the config's HTTP stream `stream_id` (Envoy reports it inside this call).
///
/// # Safety
/// As for [`config_start_http_stream`].
pub unsafe fn config_reset_http_stream(config: ConfigEnvoyPtr, stream_id: u64) {
    // Safety: per the caller.
    unsafe { envoy_dynamic_module_callback_http_filter_config_reset_http_stream(config, stream_id) }
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

/// One callout through `call` (Envoy's filter or config callout): the views it needs, Envoy's id.
///
/// # Safety
/// `call` must be callable now (a live filter or config on its thread).
pub(super) unsafe fn callout(
    cluster: &[u8],
    headers: &[(&[u8], &[u8])],
    body: &[u8],
    timeout_ms: u64,
    call: impl FnOnce(*mut u64, ModuleBuffer, *mut HttpHeader, usize, ModuleBuffer, u64) -> CalloutInitResult,
) -> Result<u64, CalloutInitResult> {
    let mut headers = HttpHeader::list(headers.iter().map(|(k, v)| (*k, *v)));
    let mut id = 0u64;
    // Envoy copies the cluster name, headers and body, which outlive the call; `id` is writable.
    let result = call(
        &mut id,
        ModuleBuffer::new(cluster),
        headers.as_mut_ptr(),
        headers.len(),
        ModuleBuffer::new(body),
        timeout_ms,
    );
    if result == CALLOUT_INIT_SUCCESS { Ok(id) } else { Err(result) }
}
