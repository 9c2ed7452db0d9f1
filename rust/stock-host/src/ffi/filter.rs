//! Envoy's side of one stream ([`EnvoyFilter`]): headers, bodies, replies, continues, callouts,
//! metrics, metadata, filter state, attributes and tracing, each a safe method over a callback.

use std::ffi::c_void;
use std::ptr::NonNull;

use super::*;

/// Envoy's side of one stream (`filter_envoy_ptr`), with safe methods.
///
/// Made only by [`EnvoyFilter::new`], whose contract every method relies on: the pointer is the
/// one Envoy passed to this stream's hooks, Envoy has not yet destroyed the filter, and the call
/// happens on the stream's worker thread.
#[derive(Clone, Copy, Debug)]
pub struct EnvoyFilter(NonNull<c_void>);

impl EnvoyFilter {
    /// # Safety
    /// `ptr` must be a `filter_envoy_ptr` Envoy passed to a hook, and the value (and its copies)
    /// may be used only on that stream's worker thread and only until Envoy calls
    /// `on_http_filter_destroy` for it.
    pub unsafe fn new(ptr: FilterEnvoyPtr) -> Option<Self> {
        NonNull::new(ptr).map(Self)
    }

    fn raw(self) -> FilterEnvoyPtr {
        self.0.as_ptr()
    }

    /// Value `index` of `key` (or `None`), and how many values `key` has.
    pub fn header(self, map: HeaderType, key: &[u8], index: usize) -> (Option<EnvoyBuffer>, usize) {
        let mut value = EnvoyBuffer::EMPTY;
        let mut count = 0usize;
        // Safety: live filter on its worker thread (type contract); `value` and `count` are
        // writable for the call.
        let found = unsafe {
            envoy_dynamic_module_callback_http_get_header(
                self.raw(),
                map,
                ModuleBuffer::new(key),
                &mut value,
                index,
                &mut count,
            )
        };
        (found.then_some(value), count)
    }

    /// Number of entries (one per value) of a header map; 0 when the map is absent.
    pub fn headers_size(self, map: HeaderType) -> usize {
        // Safety: live filter on its worker thread (type contract).
        unsafe { envoy_dynamic_module_callback_http_get_headers_size(self.raw(), map) }
    }

    /// Fills `out` with the map's entries, which must number exactly `out.len()` (the value
    /// [`EnvoyFilter::headers_size`] just returned); false when they do not or the map is absent.
    pub fn headers(self, map: HeaderType, out: &mut [HttpHeader]) -> bool {
        if self.headers_size(map) != out.len() {
            return false;
        }
        // Safety: live filter on its worker thread; `out` has room for every entry (checked).
        unsafe { envoy_dynamic_module_callback_http_get_headers(self.raw(), map, out.as_mut_ptr()) }
    }

    /// Replaces every value of `key` with `value`, which must not be empty (Envoy treats an
    /// empty value as "remove").
    pub fn set_header(self, map: HeaderType, key: &[u8], value: &[u8]) -> bool {
        if value.is_empty() {
            return false;
        }
        // Safety: live filter on its worker thread; Envoy copies both buffers.
        unsafe {
            envoy_dynamic_module_callback_http_set_header(
                self.raw(),
                map,
                ModuleBuffer::new(key),
                ModuleBuffer::new(value),
            )
        }
    }

    /// Removes every value of `key` (a NULL value makes set_header remove).
    pub fn remove_header(self, map: HeaderType, key: &[u8]) -> bool {
        // Safety: live filter on its worker thread; Envoy copies the key.
        unsafe {
            envoy_dynamic_module_callback_http_set_header(
                self.raw(),
                map,
                ModuleBuffer::new(key),
                ModuleBuffer::NULL,
            )
        }
    }

    /// Adds one value of `key`; Envoy refuses an empty value.
    pub fn add_header(self, map: HeaderType, key: &[u8], value: &[u8]) -> bool {
        // Safety: live filter on its worker thread; Envoy copies both buffers.
        unsafe {
            envoy_dynamic_module_callback_http_add_header(
                self.raw(),
                map,
                ModuleBuffer::new(key),
                ModuleBuffer::new(value),
            )
        }
    }

    pub fn body_size(self, body: BodyType) -> usize {
        // Safety: live filter on its worker thread (type contract).
        unsafe { envoy_dynamic_module_callback_http_get_body_size(self.raw(), body) }
    }

    /// Number of slices of a body, empty ones included; 0 when the body is absent.
    pub fn body_chunks_size(self, body: BodyType) -> usize {
        // Safety: live filter on its worker thread (type contract).
        unsafe { envoy_dynamic_module_callback_http_get_body_chunks_size(self.raw(), body) }
    }

    /// Fills `out` with views of the body's slices, which must number exactly `out.len()` (the
    /// value [`EnvoyFilter::body_chunks_size`] just returned); false when they do not or the body
    /// is absent.
    pub fn body_chunks(self, body: BodyType, out: &mut [EnvoyBuffer]) -> bool {
        if self.body_chunks_size(body) != out.len() {
            return false;
        }
        // Safety: live filter on its worker thread; `out` has room for every slice (checked).
        unsafe { envoy_dynamic_module_callback_http_get_body_chunks(self.raw(), body, out.as_mut_ptr()) }
    }

    pub fn drain_body(self, body: BodyType, len: usize) -> bool {
        // Safety: live filter on its worker thread (type contract).
        unsafe { envoy_dynamic_module_callback_http_drain_body(self.raw(), body, len) }
    }

    pub fn append_body(self, body: BodyType, data: &[u8]) -> bool {
        // Safety: live filter on its worker thread; Envoy copies the data.
        unsafe { envoy_dynamic_module_callback_http_append_body(self.raw(), body, ModuleBuffer::new(data)) }
    }

    /// The stream's `attribute` through Envoy's attribute callbacks (`envoy_dynamic_module_type_
    /// attribute_id` values; the cluster's name through its own callback); a string is a view of
    /// Envoy's memory.
    pub fn attribute(self, attribute: envoyx_core::Attribute) -> Option<envoyx_abi::envoyx_value> {
        use envoyx_core::Attribute as A;
        let id: u32 = match attribute {
            A::RequestId => 9,
            A::Protocol => 10,
            A::ResponseCode => 15,
            A::SourceAddress => 24,
            A::SourcePort => 25,
            A::DestinationAddress => 26,
            A::DestinationPort => 27,
            A::ConnectionId => 28,
            A::TlsVersion => 31,
            A::TlsPeerSubject => 33,
            A::TlsPeerDnsSan => 35,
            A::TlsPeerUriSan => 37,
            A::TlsPeerSha256 => 38,
            A::UpstreamAddress => 41,
            A::RouteName => 61,
            A::ClusterName => {
                let mut out = EnvoyBuffer::EMPTY;
                // Safety: live filter on its worker thread; `out` is written only on success.
                let found =
                    unsafe { envoy_dynamic_module_callback_http_get_cluster_name(self.raw(), &mut out) };
                return found.then(|| envoyx_abi::envoyx_value {
                    string: out.view(),
                    ..envoyx_abi::envoyx_value::string(b"")
                });
            }
        };
        // Safety: live filter on its worker thread; the results are written only on success.
        unsafe {
            match attribute.kind() {
                envoyx_core::ValueKind::Number => {
                    let mut out = 0u64;
                    envoy_dynamic_module_callback_http_filter_get_attribute_int(self.raw(), id, &mut out)
                        .then(|| envoyx_abi::envoyx_value::number(out as f64))
                }
                _ => {
                    let mut out = EnvoyBuffer::EMPTY;
                    envoy_dynamic_module_callback_http_filter_get_attribute_string(self.raw(), id, &mut out)
                        .then(|| envoyx_abi::envoyx_value {
                            string: out.view(),
                            ..envoyx_abi::envoyx_value::string(b"")
                        })
                }
            }
        }
    }

    /// Adds a tag to the stream's active span; false when there is none (no tracer: Envoy's
    /// null span).
    pub fn set_span_tag(self, key: &str, value: &str) -> bool {
        // Safety: live filter on its worker thread; the span lives as long as the stream; Envoy
        // copies the tag.
        unsafe {
            let span = envoy_dynamic_module_callback_http_get_active_span(self.raw());
            if span.is_null() {
                return false;
            }
            envoy_dynamic_module_callback_http_span_set_tag(
                span,
                ModuleBuffer::new(key.as_bytes()),
                ModuleBuffer::new(value.as_bytes()),
            );
        }
        true
    }

    /// Sets `key` of namespace `ns` in the stream's dynamic metadata.
    pub fn set_metadata(self, ns: &str, key: &str, value: envoyx_core::MetadataValue<'_>) {
        use envoyx_core::MetadataValue as V;
        let (ns, key) = (ModuleBuffer::new(ns.as_bytes()), ModuleBuffer::new(key.as_bytes()));
        // Safety: live filter on its worker thread; Envoy copies the names and the value.
        unsafe {
            match value {
                V::String(s) => envoy_dynamic_module_callback_http_set_dynamic_metadata_string(
                    self.raw(),
                    ns,
                    key,
                    ModuleBuffer::new(s.as_bytes()),
                ),
                V::Number(n) => {
                    envoy_dynamic_module_callback_http_set_dynamic_metadata_number(self.raw(), ns, key, n)
                }
                V::Bool(b) => {
                    envoy_dynamic_module_callback_http_set_dynamic_metadata_bool(self.raw(), ns, key, b)
                }
            }
        }
    }

    /// `key` of namespace `ns` from `source` when it is of `kind` (a string: a view of Envoy's
    /// metadata, valid until it changes or the hook returns).
    pub fn metadata(
        self,
        source: envoyx_core::MetadataSource,
        ns: &str,
        key: &str,
        kind: envoyx_core::ValueKind,
    ) -> Option<envoyx_abi::envoyx_value> {
        use envoyx_abi::envoyx_value as V;
        use envoyx_core::ValueKind as K;
        // EnvoyX's metadata sources equal Envoy's.
        let (source, ns, key) =
            (source as u32, ModuleBuffer::new(ns.as_bytes()), ModuleBuffer::new(key.as_bytes()));
        // Safety: live filter on its worker thread; the results are written only on success.
        unsafe {
            match kind {
                K::String => {
                    let mut out = EnvoyBuffer::EMPTY;
                    envoy_dynamic_module_callback_http_get_metadata_string(
                        self.raw(),
                        source,
                        ns,
                        key,
                        &mut out,
                    )
                    .then(|| V { string: out.view(), ..V::string(b"") })
                }
                K::Number => {
                    let mut out = 0.0;
                    envoy_dynamic_module_callback_http_get_metadata_number(
                        self.raw(),
                        source,
                        ns,
                        key,
                        &mut out,
                    )
                    .then(|| V::number(out))
                }
                K::Bool => {
                    let mut out = false;
                    envoy_dynamic_module_callback_http_get_metadata_bool(
                        self.raw(),
                        source,
                        ns,
                        key,
                        &mut out,
                    )
                    .then(|| V::boolean(out))
                }
            }
        }
    }

    /// Sets the stream's filter state `key` (read-only) to `value`.
    pub fn set_filter_state(self, key: &str, value: &[u8]) -> bool {
        // Safety: live filter on its worker thread; Envoy copies both.
        unsafe {
            envoy_dynamic_module_callback_http_set_filter_state_bytes(
                self.raw(),
                ModuleBuffer::new(key.as_bytes()),
                ModuleBuffer::new(value),
            )
        }
    }

    /// The stream's filter state `key` as bytes: a view of Envoy's.
    pub fn filter_state(self, key: &str) -> Option<envoyx_abi::envoyx_bytes> {
        let mut out = EnvoyBuffer::EMPTY;
        // Safety: live filter on its worker thread; `out` is written only on success.
        unsafe {
            envoy_dynamic_module_callback_http_get_filter_state_bytes(
                self.raw(),
                ModuleBuffer::new(key.as_bytes()),
                &mut out,
            )
            .then(|| out.view())
        }
    }

    /// Whether the stream's filter state has `key`. Envoy 1.40 answers for any object
    /// (`has_filter_state`); 1.38 and 1.39 can only be asked for a value: any object with a
    /// string form (the typed getter), a `StringAccessor` (the bytes getter). An object that has
    /// neither reads as absent there (docs/upstream-abi.md).
    pub fn has_filter_state(self, key: &str) -> bool {
        let key = ModuleBuffer::new(key.as_bytes());
        if let Some(has) = has_filter_state_callback() {
            // Safety: live filter on its worker thread; Envoy reads the key during the call.
            return unsafe { has(self.raw(), key) };
        }
        let mut out = EnvoyBuffer::EMPTY;
        // Safety: live filter on its worker thread; `out` is written only on success.
        unsafe {
            envoy_dynamic_module_callback_http_get_filter_state_typed(self.raw(), key, &mut out)
                || envoy_dynamic_module_callback_http_get_filter_state_bytes(self.raw(), key, &mut out)
        }
    }

    /// Has Envoy pick the route again when the request headers go on.
    pub fn clear_route_cache(self) {
        // Safety: live filter on its worker thread.
        unsafe { envoy_dynamic_module_callback_http_clear_route_cache(self.raw()) }
    }

    /// Pins the upstream host (an IP address with port).
    pub fn set_upstream_override_host(self, host: &str, strict: bool) -> bool {
        // Safety: live filter on its worker thread; Envoy copies the host.
        unsafe {
            envoy_dynamic_module_callback_http_set_upstream_override_host(
                self.raw(),
                ModuleBuffer::new(host.as_bytes()),
                strict,
            )
        }
    }

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

    /// Sends the module's local reply (the core checked it): `status`, `headers`, `body`, and
    /// `details` as the response-code details.
    pub fn send_response(self, status: u32, headers: &[(Vec<u8>, Vec<u8>)], body: &[u8], details: &[u8]) {
        let mut headers = HttpHeader::list(headers.iter().map(|(k, v)| (k.as_slice(), v.as_slice())));
        // Safety: live filter on its worker thread; Envoy copies the headers, body and details,
        // which outlive the call.
        unsafe {
            envoy_dynamic_module_callback_http_send_response(
                self.raw(),
                status,
                headers.as_mut_ptr(),
                headers.len(),
                ModuleBuffer::new(body),
                ModuleBuffer::new(details),
            )
        }
    }

    /// Resumes decoding. Envoy may run later filters, and even this filter's response hooks,
    /// before this returns.
    pub fn continue_decoding(self) {
        // Safety: live filter on its worker thread (type contract).
        unsafe { envoy_dynamic_module_callback_http_filter_continue_decoding(self.raw()) }
    }

    /// Resumes encoding (see [`EnvoyFilter::continue_decoding`]).
    pub fn continue_encoding(self) {
        // Safety: live filter on its worker thread (type contract).
        unsafe { envoy_dynamic_module_callback_http_filter_continue_encoding(self.raw()) }
    }

    /// Resets the stream. Envoy may complete and destroy the filter before this returns.
    pub fn reset_stream(self, details: &[u8]) {
        // Safety: live filter on its worker thread; Envoy copies the details.
        unsafe {
            envoy_dynamic_module_callback_http_filter_reset_stream(
                self.raw(),
                RESET_LOCAL_RESET,
                ModuleBuffer::new(details),
            )
        }
    }

    /// The per-route config object (what this host's `per_route_config_new` returned) Envoy
    /// resolves as the most specific for this stream's route; NULL when none.
    pub fn most_specific_route_config(self) -> *const c_void {
        // Safety: live filter on its worker thread, inside one of its hooks.
        unsafe { envoy_dynamic_module_callback_get_most_specific_route_config(self.raw()) }
    }

    /// A scheduler that wakes this stream on its worker thread. Must be called inside an event
    /// hook (Envoy reads the stream's dispatcher, which `on_http_filter_new` does not have yet).
    pub fn new_scheduler(self) -> Option<Scheduler> {
        // Safety: live filter on its worker thread, inside an event hook (see above).
        NonNull::new(unsafe { envoy_dynamic_module_callback_http_filter_scheduler_new(self.raw()) })
            .map(Scheduler::of_stream)
    }
}
