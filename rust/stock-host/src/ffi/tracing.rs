//! Envoy's spans (upstream's `span_*` callbacks, in all of Envoy 1.38.3, 1.39.3 and 1.40.0): the
//! active span, child spans this host owns until it finishes them, logs, sampling, baggage and
//! the trace id. The active span's own tag stays in `stream_info.rs` (`set_span_tag`).

use std::ffi::c_void;

use super::*;

/// A span of Envoy's: the stream's active span, or a child this host started and owns.
pub type SpanPtr = *mut c_void;

unsafe extern "C" {
    fn envoy_dynamic_module_callback_http_get_active_span(filter: FilterEnvoyPtr) -> SpanPtr;
    fn envoy_dynamic_module_callback_http_span_set_tag(span: SpanPtr, key: ModuleBuffer, value: ModuleBuffer);
    fn envoy_dynamic_module_callback_http_span_log(
        filter: FilterEnvoyPtr,
        span: SpanPtr,
        event: ModuleBuffer,
    );
    fn envoy_dynamic_module_callback_http_span_set_sampled(span: SpanPtr, sampled: bool);
    fn envoy_dynamic_module_callback_http_span_get_baggage(
        span: SpanPtr,
        key: ModuleBuffer,
        result: *mut EnvoyBuffer,
    ) -> bool;
    fn envoy_dynamic_module_callback_http_span_set_baggage(
        span: SpanPtr,
        key: ModuleBuffer,
        value: ModuleBuffer,
    );
    fn envoy_dynamic_module_callback_http_span_get_trace_id(span: SpanPtr, result: *mut EnvoyBuffer) -> bool;
    fn envoy_dynamic_module_callback_http_span_spawn_child(
        filter: FilterEnvoyPtr,
        span: SpanPtr,
        operation: ModuleBuffer,
    ) -> SpanPtr;
    fn envoy_dynamic_module_callback_http_child_span_finish(span: SpanPtr);
}

/// Copies what Envoy's view holds (a thread-local string of Envoy's, overwritten by its next
/// tracing call) into `into`; whether there was one.
///
/// # Safety
/// `found` and `buffer` come from the tracing callback just made.
unsafe fn keep(found: bool, buffer: EnvoyBuffer, into: &mut Vec<u8>) -> bool {
    into.clear();
    if found && !buffer.ptr.is_null() {
        // Safety: per the caller, valid until Envoy's next tracing call on this thread.
        into.extend_from_slice(unsafe { buffer.view().as_slice() });
    }
    !into.is_empty()
}

impl EnvoyFilter {
    /// The stream's active span; null when there is none (no tracer: Envoy's null span).
    pub fn active_span(self) -> SpanPtr {
        // Safety: live filter on its worker thread (type contract).
        unsafe { envoy_dynamic_module_callback_http_get_active_span(self.raw()) }
    }

    /// A child of `parent` named `operation`, owned by the caller until [`EnvoyFilter::finish_span`];
    /// null when Envoy made none.
    ///
    /// # Safety
    /// `parent` is the active span or an unfinished child of this stream.
    pub unsafe fn spawn_child_span(self, parent: SpanPtr, operation: &str) -> SpanPtr {
        // Safety: live filter on its worker thread; `parent` per the caller; Envoy copies the name.
        unsafe {
            envoy_dynamic_module_callback_http_span_spawn_child(
                self.raw(),
                parent,
                ModuleBuffer::new(operation.as_bytes()),
            )
        }
    }

    /// # Safety
    /// As [`EnvoyFilter::spawn_child_span`]'s `parent`.
    pub unsafe fn tag_span(self, span: SpanPtr, key: &str, value: &str) {
        // Safety: per the caller; Envoy copies the tag.
        unsafe {
            envoy_dynamic_module_callback_http_span_set_tag(
                span,
                ModuleBuffer::new(key.as_bytes()),
                ModuleBuffer::new(value.as_bytes()),
            )
        }
    }

    /// # Safety
    /// As [`EnvoyFilter::spawn_child_span`]'s `parent`.
    pub unsafe fn log_on_span(self, span: SpanPtr, event: &str) {
        // Safety: live filter on its worker thread; `span` per the caller; Envoy copies the event.
        unsafe {
            envoy_dynamic_module_callback_http_span_log(self.raw(), span, ModuleBuffer::new(event.as_bytes()))
        }
    }

    /// # Safety
    /// As [`EnvoyFilter::spawn_child_span`]'s `parent`.
    pub unsafe fn set_span_sampled(self, span: SpanPtr, sampled: bool) {
        // Safety: per the caller.
        unsafe { envoy_dynamic_module_callback_http_span_set_sampled(span, sampled) }
    }

    /// Finishes and frees a child span.
    ///
    /// # Safety
    /// `span` is an unfinished child this host started; it is gone afterwards.
    pub unsafe fn finish_span(self, span: SpanPtr) {
        // Safety: per the caller.
        unsafe { envoy_dynamic_module_callback_http_child_span_finish(span) }
    }

    /// # Safety
    /// `span` is the active span.
    pub unsafe fn set_baggage(self, span: SpanPtr, key: &str, value: &str) {
        // Safety: per the caller; Envoy copies both.
        unsafe {
            envoy_dynamic_module_callback_http_span_set_baggage(
                span,
                ModuleBuffer::new(key.as_bytes()),
                ModuleBuffer::new(value.as_bytes()),
            )
        }
    }

    /// Baggage `key` of `span`, copied into `into`; whether there was one.
    ///
    /// # Safety
    /// `span` is the active span.
    pub unsafe fn baggage(self, span: SpanPtr, key: &str, into: &mut Vec<u8>) -> bool {
        let mut buffer = EnvoyBuffer::EMPTY;
        // Safety: per the caller; `buffer` is writable for the call.
        unsafe {
            let found = envoy_dynamic_module_callback_http_span_get_baggage(
                span,
                ModuleBuffer::new(key.as_bytes()),
                &mut buffer,
            );
            keep(found, buffer, into)
        }
    }

    /// The trace id of `span`, copied into `into`; whether there was one.
    ///
    /// # Safety
    /// `span` is the active span.
    pub unsafe fn trace_id(self, span: SpanPtr, into: &mut Vec<u8>) -> bool {
        let mut buffer = EnvoyBuffer::EMPTY;
        // Safety: per the caller; `buffer` is writable for the call.
        unsafe {
            let found = envoy_dynamic_module_callback_http_span_get_trace_id(span, &mut buffer);
            keep(found, buffer, into)
        }
    }
}
