//! HTTP callouts and streaming callouts, of a stream (`EnvoyFilter`, worker thread) and of a
//! filter configuration (main thread), each beside the callback it wraps.

use super::*;

unsafe extern "C" {
    fn envoy_dynamic_module_callback_http_filter_config_http_callout(
        config: ConfigEnvoyPtr,
        callout_id: *mut u64,
        cluster: ModuleBuffer,
        headers: *mut HttpHeader,
        headers_size: usize,
        body: ModuleBuffer,
        timeout_ms: u64,
    ) -> CalloutInitResult;
    fn envoy_dynamic_module_callback_http_filter_http_callout(
        filter: FilterEnvoyPtr,
        callout_id: *mut u64,
        cluster: ModuleBuffer,
        headers: *mut HttpHeader,
        headers_size: usize,
        body: ModuleBuffer,
        timeout_ms: u64,
    ) -> CalloutInitResult;
    fn envoy_dynamic_module_callback_http_filter_start_http_stream(
        filter: FilterEnvoyPtr,
        stream_id: *mut u64,
        cluster: ModuleBuffer,
        headers: *mut HttpHeader,
        headers_size: usize,
        body: ModuleBuffer,
        end_stream: bool,
        timeout_ms: u64,
    ) -> CalloutInitResult;
    fn envoy_dynamic_module_callback_http_stream_send_data(
        filter: FilterEnvoyPtr,
        stream_id: u64,
        data: ModuleBuffer,
        end_stream: bool,
    ) -> bool;
    fn envoy_dynamic_module_callback_http_stream_send_trailers(
        filter: FilterEnvoyPtr,
        stream_id: u64,
        trailers: *mut HttpHeader,
        trailers_size: usize,
    ) -> bool;
    fn envoy_dynamic_module_callback_http_filter_reset_http_stream(filter: FilterEnvoyPtr, stream_id: u64);
    fn envoy_dynamic_module_callback_http_filter_config_start_http_stream(
        config: ConfigEnvoyPtr,
        stream_id: *mut u64,
        cluster: ModuleBuffer,
        headers: *mut HttpHeader,
        headers_size: usize,
        body: ModuleBuffer,
        end_stream: bool,
        timeout_ms: u64,
    ) -> CalloutInitResult;
    fn envoy_dynamic_module_callback_http_filter_config_stream_send_data(
        config: ConfigEnvoyPtr,
        stream_id: u64,
        data: ModuleBuffer,
        end_stream: bool,
    ) -> bool;
    fn envoy_dynamic_module_callback_http_filter_config_stream_send_trailers(
        config: ConfigEnvoyPtr,
        stream_id: u64,
        trailers: *mut HttpHeader,
        trailers_size: usize,
    ) -> bool;
    fn envoy_dynamic_module_callback_http_filter_config_reset_http_stream(
        config: ConfigEnvoyPtr,
        stream_id: u64,
    );
}

impl EnvoyFilter {
    /// Sends a local reply. Envoy may complete and destroy the filter before this returns.
    /// Starts an HTTP callout to `cluster`; Envoy's id for it, or the init result that refused
    /// it. Envoy answers through `on_http_filter_http_callout_done` on this worker thread, and
    /// cancels it if the filter is destroyed first.
    pub fn http_callout(
        self,
        cluster: &[u8],
        headers: &[(&[u8], &[u8])],
        body: &[u8],
        timeout_ms: u64,
    ) -> Result<u64, CalloutInitResult> {
        // Safety: live filter on its worker thread, inside one of its hooks (type contract).
        unsafe {
            callout(cluster, headers, body, timeout_ms, |id, cluster, headers, count, body, timeout| {
                envoy_dynamic_module_callback_http_filter_http_callout(
                    self.raw(),
                    id,
                    cluster,
                    headers,
                    count,
                    body,
                    timeout,
                )
            })
        }
    }

    /// Opens an HTTP stream to `cluster`: sends the headers, `body` if not empty, and ends the
    /// request if `end_stream`. Envoy's id for it, or the init result that refused it. Envoy
    /// reports on it through the `on_http_filter_http_stream_*` hooks on this worker thread,
    /// possibly inside this call (a request it fails at once), and resets it when the filter is
    /// destroyed (after the destroy hook, so no hook follows).
    pub fn start_http_stream(
        self,
        cluster: &[u8],
        headers: &[(&[u8], &[u8])],
        body: &[u8],
        end_stream: bool,
        timeout_ms: u64,
    ) -> Result<u64, CalloutInitResult> {
        // Safety: live filter on its worker thread, inside one of its hooks (type contract).
        unsafe {
            callout(cluster, headers, body, timeout_ms, |id, cluster, headers, count, body, timeout| {
                envoy_dynamic_module_callback_http_filter_start_http_stream(
                    self.raw(),
                    id,
                    cluster,
                    headers,
                    count,
                    body,
                    end_stream,
                    timeout,
                )
            })
        }
    }

    /// Sends request body bytes on Envoy's HTTP stream `stream_id`; false when Envoy no longer
    /// has it open. Envoy may report a reset inside this call.
    pub fn http_stream_send_data(self, stream_id: u64, data: &[u8], end_stream: bool) -> bool {
        // Safety: live filter on its worker thread; Envoy copies the data.
        unsafe {
            envoy_dynamic_module_callback_http_stream_send_data(
                self.raw(),
                stream_id,
                ModuleBuffer::new(data),
                end_stream,
            )
        }
    }

    /// Ends the request of Envoy's HTTP stream `stream_id` with trailers; false when Envoy no
    /// longer has it open.
    pub fn http_stream_send_trailers(self, stream_id: u64, trailers: &[(&[u8], &[u8])]) -> bool {
        let mut list = HttpHeader::list(trailers.iter().map(|(k, v)| (*k, *v)));
        // Safety: live filter on its worker thread; Envoy copies the trailers.
        unsafe {
            envoy_dynamic_module_callback_http_stream_send_trailers(
                self.raw(),
                stream_id,
                list.as_mut_ptr(),
                list.len(),
            )
        }
    }

    /// Resets Envoy's HTTP stream `stream_id` (Envoy reports the reset through its hook, inside
    /// this call).
    pub fn reset_http_stream(self, stream_id: u64) {
        // Safety: live filter on its worker thread.
        unsafe { envoy_dynamic_module_callback_http_filter_reset_http_stream(self.raw(), stream_id) }
    }
}

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
