//! The core's `HostStream` over the C++ `StreamHost`: each primitive forwards to C++.

use envoyx_abi::{envoyx_bytes, envoyx_header, envoyx_slice};
use envoyx_core::{BodyKind, HeaderMapKind, HostStream, StreamScheduler};
use std::sync::Arc;

use crate::config_host::CxxSchedulerRef;
use crate::ffi;
use crate::views::{
    CalloutInbox, raw_bytes, raw_bytes_out, raw_header, raw_headers_out, raw_slices_out, start_cxx,
};

/// The core's [`HostStream`], forwarding to the C++ host.
pub(crate) struct CxxHost(pub(crate) cxx::UniquePtr<ffi::StreamHost>);

impl CxxHost {
    fn host(&mut self) -> std::pin::Pin<&mut ffi::StreamHost> {
        // Never null: `FilterConfig::new_stream` refuses a null host.
        self.0.pin_mut()
    }
}

/// The C++ `bool f(..., size_t& total)` convention as the core's `Option<usize>`.
pub(crate) fn counted(available: bool, total: usize) -> Option<usize> {
    available.then_some(total)
}

impl HostStream for CxxHost {
    // @generated begin: the plain HostStream primitives (cargo run -p envoyx-codegen)
    fn header_set(&mut self, map: HeaderMapKind, key: &[u8], value: &[u8]) -> bool {
        self.host().header_set(map.into(), key, value)
    }
    fn header_add(&mut self, map: HeaderMapKind, key: &[u8], value: &[u8]) -> bool {
        self.host().header_add(map.into(), key, value)
    }
    fn header_remove(&mut self, map: HeaderMapKind, key: &[u8]) -> usize {
        self.host().header_remove(map.into(), key)
    }
    fn body_drain(&mut self, body: BodyKind, len: usize) -> bool {
        self.host().body_drain(body.into(), len)
    }
    fn body_append(&mut self, body: BodyKind, data: &[u8]) -> bool {
        self.host().body_append(body.into(), data)
    }
    fn callout_stream_send(&mut self, id: u64, data: &[u8], end_of_stream: bool) -> bool {
        self.host().callout_stream_send(id, data, end_of_stream)
    }
    fn callout_stream_reset(&mut self, id: u64) {
        self.host().callout_stream_reset(id)
    }
    fn filter_state_set(&mut self, key: &str, value: &[u8]) -> bool {
        self.host().filter_state_set(key.as_bytes(), value)
    }
    fn clear_route_cache(&mut self) -> bool {
        self.host().clear_route_cache()
    }
    fn refresh_route_cluster(&mut self) -> bool {
        self.host().refresh_route_cluster()
    }
    fn upstream_override_host(&mut self, host: &str, strict: bool) -> bool {
        self.host().upstream_override_host(host.as_bytes(), strict)
    }
    fn span_set_tag(&mut self, key: &str, value: &str) -> bool {
        self.host().span_set_tag(key.as_bytes(), value.as_bytes())
    }
    fn buffer_limit(&mut self) -> u64 {
        self.host().buffer_limit()
    }
    fn set_buffer_limit(&mut self, limit: u64) -> bool {
        self.host().set_buffer_limit(limit)
    }
    fn filter_state_set_typed(&mut self, key: &str, value: &[u8]) -> bool {
        self.host().filter_state_set_typed(key.as_bytes(), value)
    }
    fn metadata_set_struct(&mut self, ns: &str, encoded: &[u8]) -> bool {
        self.host().metadata_set_struct(ns.as_bytes(), encoded)
    }
    fn metadata_set_typed(&mut self, ns: &str, any: &[u8]) -> bool {
        self.host().metadata_set_typed(ns.as_bytes(), any)
    }
    fn trailers_add(&mut self, map: HeaderMapKind) -> bool {
        self.host().trailers_add(map.into())
    }
    fn span_start_child(&mut self, parent: u64, id: u64, operation: &str) -> bool {
        self.host().span_start_child(parent, id, operation.as_bytes())
    }
    fn span_tag(&mut self, span: u64, key: &str, value: &str) -> bool {
        self.host().span_tag(span, key.as_bytes(), value.as_bytes())
    }
    fn span_log(&mut self, span: u64, event: &str) -> bool {
        self.host().span_log(span, event.as_bytes())
    }
    fn span_set_sampled(&mut self, span: u64, sampled: bool) -> bool {
        self.host().span_set_sampled(span, sampled)
    }
    fn span_finish(&mut self, span: u64) -> bool {
        self.host().span_finish(span)
    }
    fn span_baggage_set(&mut self, key: &str, value: &str) -> bool {
        self.host().span_baggage_set(key.as_bytes(), value.as_bytes())
    }
    // @generated end
    fn header_values(&mut self, map: HeaderMapKind, key: &[u8], out: &mut [envoyx_bytes]) -> Option<usize> {
        let mut total = 0;
        let available = self.host().header_values(map.into(), key, raw_bytes_out(out), &mut total);
        counted(available, total)
    }
    fn header_entries(&mut self, map: HeaderMapKind, out: &mut [envoyx_header]) -> Option<usize> {
        let mut total = 0;
        let available = self.host().header_entries(map.into(), raw_headers_out(out), &mut total);
        counted(available, total)
    }
    fn body_length(&mut self, body: BodyKind) -> Option<usize> {
        let mut length = 0;
        let available = self.host().body_length(body.into(), &mut length);
        counted(available, length)
    }
    fn body_slices(&mut self, body: BodyKind, out: &mut [envoyx_slice]) -> Option<usize> {
        let mut total = 0;
        let available = self.host().body_slices(body.into(), raw_slices_out(out), &mut total);
        counted(available, total)
    }
    fn body_prepend(&mut self, body: BodyKind, data: &[u8]) -> bool {
        self.host().body_prepend(body.into(), data)
    }
    fn body_replace(&mut self, body: BodyKind, offset: usize, len: usize, data: &[u8]) -> bool {
        self.host().body_replace(body.into(), offset, len, data)
    }
    fn scheduler(&self) -> Arc<dyn StreamScheduler> {
        Arc::new(CxxSchedulerRef(self.0.scheduler()))
    }
    fn http_callout(
        &mut self,
        id: u64,
        callout: &envoyx_core::Callout<'_>,
        inbox: envoyx_core::CalloutInbox,
    ) -> Result<(), envoyx_core::CalloutStatus> {
        let inbox = Box::new(CalloutInbox(inbox));
        start_cxx(callout, |headers, failure| {
            self.host().http_callout(
                id,
                callout.cluster,
                headers,
                callout.body,
                callout.timeout_ms,
                inbox,
                failure,
            )
        })
    }
    fn callout_stream_start(
        &mut self,
        id: u64,
        callout: &envoyx_core::Callout<'_>,
        end_of_stream: bool,
        inbox: envoyx_core::CalloutInbox,
    ) -> Result<(), envoyx_core::CalloutStatus> {
        let inbox = Box::new(CalloutInbox(inbox));
        start_cxx(callout, |headers, failure| {
            self.host().callout_stream_start(
                id,
                callout.cluster,
                headers,
                callout.body,
                end_of_stream,
                callout.timeout_ms,
                inbox,
                failure,
            )
        })
    }
    fn callout_stream_send_trailers(
        &mut self,
        id: u64,
        trailers: &[(std::borrow::Cow<'_, [u8]>, &[u8])],
    ) -> bool {
        let trailers: Vec<ffi::RawHeader> = trailers.iter().map(|(k, v)| raw_header(k, v)).collect();
        self.host().callout_stream_send_trailers(id, &trailers)
    }
    fn metadata_set(&mut self, ns: &str, key: &str, value: envoyx_core::MetadataValue<'_>) -> bool {
        let v = value.to_abi();
        // Safety: the core's value views the module's string, valid during this call.
        let string = unsafe { v.string.as_slice() };
        self.host().metadata_set(ns.as_bytes(), key.as_bytes(), v.kind, string, v.number, v.boolean)
    }
    fn metadata_get(
        &mut self,
        source: envoyx_core::MetadataSource,
        ns: &str,
        key: &str,
        kind: envoyx_core::ValueKind,
    ) -> Option<envoyx_abi::envoyx_value> {
        let (mut string, mut number, mut boolean) = (raw_bytes(b""), 0.0, false);
        let found = self.host().metadata_get(
            source as u32,
            ns.as_bytes(),
            key.as_bytes(),
            kind as u32,
            &mut string,
            &mut number,
            &mut boolean,
        );
        let string = envoyx_bytes { ptr: string.ptr, len: string.len };
        found.then_some(envoyx_abi::envoyx_value { kind: kind as u32, string, number, boolean })
    }
    fn filter_state_get(&mut self, key: &str) -> Option<envoyx_bytes> {
        let mut value = raw_bytes(b"");
        self.host()
            .filter_state_get(key.as_bytes(), &mut value)
            .then_some(envoyx_bytes { ptr: value.ptr, len: value.len })
    }
    /// A C++ host answers every attribute, absent where its proxy cannot tell it.
    fn attribute_unserved(&self, _attribute: envoyx_core::Attribute) -> Option<String> {
        None
    }
    fn timing(&mut self, timing: u32) -> Option<i64> {
        let mut ns = 0;
        self.host().timing_get(timing, &mut ns).then_some(ns)
    }
    fn unserved(&self, _call: &str) -> Option<String> {
        None
    }
    fn upstream_hosts_attempted(&mut self, out: &mut [envoyx_bytes]) -> usize {
        self.host().upstream_hosts_attempted(raw_bytes_out(out))
    }
    fn metadata_typed(
        &mut self,
        source: envoyx_core::MetadataSource,
        ns: &str,
    ) -> Option<(envoyx_bytes, envoyx_bytes)> {
        let (mut url, mut value) = (raw_bytes(b""), raw_bytes(b""));
        self.host().metadata_typed(source as u32, ns.as_bytes(), &mut url, &mut value).then_some((
            envoyx_bytes { ptr: url.ptr, len: url.len },
            envoyx_bytes { ptr: value.ptr, len: value.len },
        ))
    }
    fn metadata_names(
        &mut self,
        source: envoyx_core::MetadataSource,
        ns: Option<&str>,
        out: &mut [envoyx_bytes],
    ) -> Option<usize> {
        let keys = ns.is_some();
        Some(self.host().metadata_names(source as u32, ns.unwrap_or("").as_bytes(), keys, raw_bytes_out(out)))
    }
    fn secret_get(&mut self, id: u64) -> Option<envoyx_bytes> {
        let mut value = raw_bytes(b"");
        self.host().secret_get(id, &mut value).then_some(envoyx_bytes { ptr: value.ptr, len: value.len })
    }
    fn filter_state_exists(&mut self, key: &str) -> bool {
        self.host().filter_state_exists(key.as_bytes())
    }
    fn filter_state_serialized(&mut self, key: &str) -> Option<envoyx_bytes> {
        let mut value = raw_bytes(b"");
        self.host()
            .filter_state_serialized(key.as_bytes(), &mut value)
            .then_some(envoyx_bytes { ptr: value.ptr, len: value.len })
    }
    fn span_baggage_get(&mut self, key: &str) -> Option<envoyx_bytes> {
        let mut value = raw_bytes(b"");
        self.host()
            .span_baggage_get(key.as_bytes(), &mut value)
            .then_some(envoyx_bytes { ptr: value.ptr, len: value.len })
    }
    fn span_trace_id(&mut self) -> Option<envoyx_bytes> {
        let mut value = raw_bytes(b"");
        self.host().span_trace_id(&mut value).then_some(envoyx_bytes { ptr: value.ptr, len: value.len })
    }
    fn attribute(&mut self, attribute: envoyx_core::Attribute) -> Option<envoyx_abi::envoyx_value> {
        let (mut string, mut number) = (raw_bytes(b""), 0.0);
        if !self.host().attribute_get(attribute as u32, &mut string, &mut number) {
            return None;
        }
        Some(match attribute.kind() {
            envoyx_core::ValueKind::Number => envoyx_abi::envoyx_value::number(number),
            // A boolean comes back as the number 0 or 1 (loader.h).
            envoyx_core::ValueKind::Bool => envoyx_abi::envoyx_value::boolean(number != 0.0),
            _ => envoyx_abi::envoyx_value {
                string: envoyx_bytes { ptr: string.ptr, len: string.len },
                ..envoyx_abi::envoyx_value::string(b"")
            },
        })
    }
    fn metric_record(
        &mut self,
        host_id: u64,
        kind: envoyx_core::MetricKind,
        op: envoyx_core::MetricOp,
        label_values: &[&[u8]],
        value: u64,
    ) -> bool {
        let values: Vec<ffi::RawBytes> = label_values.iter().map(|v| raw_bytes(v)).collect();
        self.host().metric_record(host_id, kind as u32, op as u32, &values, value)
    }
    fn worker_index(&mut self) -> Option<u32> {
        let mut index = 0;
        self.host().worker_index(&mut index).then_some(index)
    }
    fn route_config(&mut self) -> Option<Arc<envoyx_core::RouteConfig>> {
        // Safety: loader.h: null, or a RouteConfig the proxy keeps alive while the stream's
        // route is; the core takes its own reference here.
        unsafe { self.0.route_config().as_ref() }.map(|route| route.0.clone())
    }
}
