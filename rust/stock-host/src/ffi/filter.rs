//! Envoy's side of one stream ([`EnvoyFilter`]): its headers, bodies, replies, continues and
//! resets, each safe method beside the callback it wraps. The stream's other calls are the
//! topic files' (`stream_info.rs`, `metrics.rs`, `callouts.rs`, `scheduler.rs`).

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

unsafe extern "C" {
    fn envoy_dynamic_module_callback_http_get_header(
        filter: FilterEnvoyPtr,
        header_type: HeaderType,
        key: ModuleBuffer,
        result: *mut EnvoyBuffer,
        index: usize,
        optional_count: *mut usize,
    ) -> bool;
    fn envoy_dynamic_module_callback_http_get_headers_size(
        filter: FilterEnvoyPtr,
        header_type: HeaderType,
    ) -> usize;
    fn envoy_dynamic_module_callback_http_get_headers(
        filter: FilterEnvoyPtr,
        header_type: HeaderType,
        result: *mut HttpHeader,
    ) -> bool;
    fn envoy_dynamic_module_callback_http_set_header(
        filter: FilterEnvoyPtr,
        header_type: HeaderType,
        key: ModuleBuffer,
        value: ModuleBuffer,
    ) -> bool;
    fn envoy_dynamic_module_callback_http_add_header(
        filter: FilterEnvoyPtr,
        header_type: HeaderType,
        key: ModuleBuffer,
        value: ModuleBuffer,
    ) -> bool;
    fn envoy_dynamic_module_callback_http_get_body_size(filter: FilterEnvoyPtr, body_type: BodyType)
    -> usize;
    fn envoy_dynamic_module_callback_http_get_body_chunks_size(
        filter: FilterEnvoyPtr,
        body_type: BodyType,
    ) -> usize;
    fn envoy_dynamic_module_callback_http_get_body_chunks(
        filter: FilterEnvoyPtr,
        body_type: BodyType,
        result: *mut EnvoyBuffer,
    ) -> bool;
    fn envoy_dynamic_module_callback_http_drain_body(
        filter: FilterEnvoyPtr,
        body_type: BodyType,
        number_of_bytes: usize,
    ) -> bool;
    fn envoy_dynamic_module_callback_http_append_body(
        filter: FilterEnvoyPtr,
        body_type: BodyType,
        data: ModuleBuffer,
    ) -> bool;
    fn envoy_dynamic_module_callback_http_send_response(
        filter: FilterEnvoyPtr,
        status_code: u32,
        headers: *mut HttpHeader,
        headers_count: usize,
        body: ModuleBuffer,
        details: ModuleBuffer,
    );
    fn envoy_dynamic_module_callback_http_send_response_headers(
        filter: FilterEnvoyPtr,
        headers: *mut HttpHeader,
        headers_count: usize,
        end_stream: bool,
    );
    fn envoy_dynamic_module_callback_http_send_response_data(
        filter: FilterEnvoyPtr,
        data: ModuleBuffer,
        end_stream: bool,
    );
    fn envoy_dynamic_module_callback_http_send_response_trailers(
        filter: FilterEnvoyPtr,
        trailers: *mut HttpHeader,
        trailers_count: usize,
    );
    fn envoy_dynamic_module_callback_http_filter_continue_decoding(filter: FilterEnvoyPtr);
    fn envoy_dynamic_module_callback_http_filter_continue_encoding(filter: FilterEnvoyPtr);
    /// Ends the stream and closes its downstream connection, GOAWAY first on HTTP/2 and 3;
    /// `graceful` drains the connection's other streams (Envoy 1.38.3 on).
    fn envoy_dynamic_module_callback_http_filter_send_go_away_and_close(
        filter: FilterEnvoyPtr,
        graceful: bool,
    );
    fn envoy_dynamic_module_callback_http_filter_reset_stream(
        filter: FilterEnvoyPtr,
        reason: StreamResetReason,
        details: ModuleBuffer,
    );
    fn envoy_dynamic_module_callback_get_most_specific_route_config(filter: FilterEnvoyPtr) -> *const c_void;
    fn envoy_dynamic_module_callback_http_filter_recreate_stream(
        filter: FilterEnvoyPtr,
        headers: *mut HttpHeader,
        headers_count: usize,
    ) -> bool;
    fn envoy_dynamic_module_callback_http_get_buffer_limit(filter: FilterEnvoyPtr) -> u64;
    fn envoy_dynamic_module_callback_http_set_buffer_limit(filter: FilterEnvoyPtr, limit: u64);
}

impl EnvoyFilter {
    /// # Safety
    /// `ptr` must be a `filter_envoy_ptr` Envoy passed to a hook, and the value (and its copies)
    /// may be used only on that stream's worker thread and only until Envoy calls
    /// `on_http_filter_destroy` for it.
    pub unsafe fn new(ptr: FilterEnvoyPtr) -> Option<Self> {
        NonNull::new(ptr).map(Self)
    }

    pub(super) fn raw(self) -> FilterEnvoyPtr {
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

    /// Sends the headers of the module's own response (the core checked them): `:status` first,
    /// then `headers`. Envoy runs the encoder filters before this one and the codec inside the
    /// call, and may complete and destroy the filter before it returns (a client gone).
    pub fn send_response_headers(self, status: u32, headers: &[(Vec<u8>, Vec<u8>)], end_of_stream: bool) {
        let status = status.to_string();
        let pairs = std::iter::once((&b":status"[..], status.as_bytes()))
            .chain(headers.iter().map(|(k, v)| (k.as_slice(), v.as_slice())));
        let mut headers = HttpHeader::list(pairs);
        // Safety: live filter on its worker thread; Envoy copies the headers, which outlive the
        // call.
        unsafe {
            envoy_dynamic_module_callback_http_send_response_headers(
                self.raw(),
                headers.as_mut_ptr(),
                headers.len(),
                end_of_stream,
            )
        }
    }

    /// Sends the next data of the module's own response (as [`EnvoyFilter::send_response_headers`]).
    pub fn send_response_data(self, data: &[u8], end_of_stream: bool) {
        // Safety: live filter on its worker thread; Envoy copies the data.
        unsafe {
            envoy_dynamic_module_callback_http_send_response_data(
                self.raw(),
                ModuleBuffer::new(data),
                end_of_stream,
            )
        }
    }

    /// Ends the module's own response with trailers (as [`EnvoyFilter::send_response_headers`]).
    pub fn send_response_trailers(self, trailers: &[(Vec<u8>, Vec<u8>)]) {
        let mut trailers = HttpHeader::list(trailers.iter().map(|(k, v)| (k.as_slice(), v.as_slice())));
        // Safety: live filter on its worker thread; Envoy copies the trailers.
        unsafe {
            envoy_dynamic_module_callback_http_send_response_trailers(
                self.raw(),
                trailers.as_mut_ptr(),
                trailers.len(),
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

    /// Resets the stream; `refused` makes it Envoy's LocalRefusedStreamReset (HTTP/2
    /// REFUSED_STREAM), otherwise LocalReset. Envoy may complete and destroy the filter before
    /// this returns.
    pub fn reset_stream(self, refused: bool, details: &[u8]) {
        let reason = if refused { RESET_LOCAL_REFUSED_STREAM_RESET } else { RESET_LOCAL_RESET };
        // Safety: live filter on its worker thread; Envoy copies the details.
        unsafe {
            envoy_dynamic_module_callback_http_filter_reset_stream(
                self.raw(),
                reason,
                ModuleBuffer::new(details),
            )
        }
    }

    /// Ends the stream and closes the client's connection (Envoy's `sendGoAwayAndClose`). Envoy
    /// may complete and destroy the filter before this returns.
    pub fn send_goaway_and_close(self, graceful: bool) {
        // Safety: live filter on its worker thread.
        unsafe { envoy_dynamic_module_callback_http_filter_send_go_away_and_close(self.raw(), graceful) }
    }

    /// Starts the request over (Envoy's `recreateStream`), handing Envoy `response_headers` (may
    /// be empty: none). False when Envoy refuses. Envoy ends this stream (the filter is destroyed)
    /// inside the call.
    pub fn recreate_stream(self, response_headers: &[(Vec<u8>, Vec<u8>)]) -> bool {
        let mut headers =
            HttpHeader::list(response_headers.iter().map(|(k, v)| (k.as_slice(), v.as_slice())));
        let (pointer, count) = if headers.is_empty() {
            (std::ptr::null_mut(), 0)
        } else {
            (headers.as_mut_ptr(), headers.len())
        };
        // Safety: live filter on its worker thread; Envoy copies the headers, which outlive the
        // call.
        unsafe { envoy_dynamic_module_callback_http_filter_recreate_stream(self.raw(), pointer, count) }
    }

    /// The stream's buffer limit in bytes (Envoy's `bufferLimit()`: one for both directions).
    pub fn buffer_limit(self) -> u64 {
        // Safety: live filter on its worker thread (type contract).
        unsafe { envoy_dynamic_module_callback_http_get_buffer_limit(self.raw()) }
    }

    /// Sets the stream's buffer limit (Envoy's `setBufferLimit`).
    pub fn set_buffer_limit(self, limit: u64) {
        // Safety: live filter on its worker thread (type contract).
        unsafe { envoy_dynamic_module_callback_http_set_buffer_limit(self.raw(), limit) }
    }

    /// The per-route config object (what this host's `per_route_config_new` returned) Envoy
    /// resolves as the most specific for this stream's route; NULL when none.
    pub fn most_specific_route_config(self) -> *const c_void {
        // Safety: live filter on its worker thread, inside one of its hooks.
        unsafe { envoy_dynamic_module_callback_get_most_specific_route_config(self.raw()) }
    }
}
