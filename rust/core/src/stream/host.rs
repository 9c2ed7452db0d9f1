//! What a host (Envoy, stock Envoy, the test hosts) provides to the core for one stream.
//!
//! The core calls these only on the stream's worker thread, from inside a module hook. Views a
//! method returns (`envoyx_bytes`, `envoyx_slice`) point into the host's own memory and must stay
//! valid until the hook returns or the same map or body is changed; that is what makes the body
//! API zero-copy, so hosts must not copy to produce them.

use crate::vocab::{BodyKind, HeaderMapKind};
use envoyx_abi::{envoyx_bytes, envoyx_header, envoyx_slice};
use std::sync::Arc;

/// One stream's host: the primitives to read and change its headers and bodies, and the
/// scheduler. Methods returning `Option`/`bool` report "not available here" (the map has not
/// arrived, there is no body of that kind) as `None`/`false`.
///
/// The core has already checked every argument (header names are valid, lower-case tokens;
/// values are valid; ranges lie within the body) and applied the stream rules, so a host only
/// carries the call out. Ending or resuming a stream is not here: the core returns those as
/// [`crate::Action`]s for the host to carry out after its call into the core returns.
pub trait HostStream {
    /// Writes up to `out.len()` values of `key` (case-insensitive) as views; returns the total.
    fn header_values(&mut self, map: HeaderMapKind, key: &[u8], out: &mut [envoyx_bytes]) -> Option<usize>;
    /// Writes up to `out.len()` entries of the map as views; returns the total.
    fn header_entries(&mut self, map: HeaderMapKind, out: &mut [envoyx_header]) -> Option<usize>;
    /// Replaces every value of `key` with (a copy of) `value`.
    fn header_set(&mut self, map: HeaderMapKind, key: &[u8], value: &[u8]) -> bool;
    /// Adds (a copy of) `value` as one more value of `key`.
    fn header_add(&mut self, map: HeaderMapKind, key: &[u8], value: &[u8]) -> bool;
    /// Removes every value of `key`; returns how many were removed.
    fn header_remove(&mut self, map: HeaderMapKind, key: &[u8]) -> usize;

    fn body_length(&mut self, body: BodyKind) -> Option<usize>;
    /// Writes up to `out.len()` non-empty slices as writable views; returns the total.
    fn body_slices(&mut self, body: BodyKind, out: &mut [envoyx_slice]) -> Option<usize>;
    /// Removes the first `len` bytes; the core never asks for more than the length.
    fn body_drain(&mut self, body: BodyKind, len: usize) -> bool;
    /// Adds a copy of `data` after the last byte.
    fn body_append(&mut self, body: BodyKind, data: &[u8]) -> bool;

    /// Inserts `data` in front. The default drains the body and appends `data` and the old bytes,
    /// for hosts (such as stock Envoy) that can only drain and append; hosts that can prepend in
    /// place should override it.
    fn body_prepend(&mut self, body: BodyKind, data: &[u8]) -> bool {
        let Some(old) = copy_body(self, body) else { return false };
        self.body_drain(body, old.len()) && self.body_append(body, data) && self.body_append(body, &old)
    }

    /// Replaces `len` bytes at `offset` with `data`; the core has checked the range. The default
    /// rebuilds the body with drain and append (see [`HostStream::body_prepend`]).
    fn body_replace(&mut self, body: BodyKind, offset: usize, len: usize, data: &[u8]) -> bool {
        let Some(old) = copy_body(self, body) else { return false };
        self.body_drain(body, old.len())
            && self.body_append(body, &old[..offset])
            && self.body_append(body, data)
            && self.body_append(body, &old[offset + len..])
    }

    /// The per-route configuration the proxy resolved for this stream (the most specific), if
    /// any (ABI 1.1). Hosts without per-route configuration keep the default.
    fn route_config(&mut self) -> Option<Arc<crate::RouteConfig>> {
        None
    }

    /// Starts the HTTP callout `id` (ABI 1.1; the core has checked the request). Its answer goes
    /// to [`crate::Stream::on_callout_done`] later, on the worker thread; an answer that arrives
    /// while the stream is busy inside a module call (the proxy answering inline, even inside
    /// this call: Envoy's router answers a cluster without healthy hosts at once) goes to `inbox`
    /// instead ([`crate::CalloutInbox::defer_answer`]), and the core delivers it right after
    /// that call. `Err(status)` when it cannot start and nothing was answered (the core answers
    /// the module with it, later). Callouts in flight when the stream is destroyed must be
    /// cancelled, their answers dropped. Hosts without callouts keep the default.
    fn http_callout(
        &mut self,
        id: u64,
        callout: &crate::Callout<'_>,
        inbox: crate::CalloutInbox,
    ) -> Result<(), crate::CalloutStatus> {
        let _ = (id, callout, inbox);
        Err(crate::CalloutStatus::Unavailable)
    }

    /// Starts the streaming callout `id` (ABI 1.1; the core has checked the request): sends its
    /// headers, `callout.body` if not empty, and ends the request if `end_of_stream`. Its news
    /// goes to [`crate::Stream::on_callout_event`] in the proxy's order, the last being
    /// COMPLETE or FAILED; news that arrives while the stream is busy inside a module call (the
    /// proxy answering inline, even inside this call) goes to `inbox` instead. `Err(status)`
    /// when it cannot start (the core tells the module, later). Streaming callouts still open
    /// when the stream is destroyed must be reset, their news dropped. Hosts without streaming
    /// callouts keep the default.
    fn callout_stream_start(
        &mut self,
        id: u64,
        callout: &crate::Callout<'_>,
        end_of_stream: bool,
        inbox: crate::CalloutInbox,
    ) -> Result<(), crate::CalloutStatus> {
        let _ = (id, callout, end_of_stream, inbox);
        Err(crate::CalloutStatus::Unavailable)
    }

    /// Sends the next request body chunk of the open streaming callout `id` (the core checked
    /// that its request has not ended); false when the proxy no longer has it.
    fn callout_stream_send(&mut self, id: u64, data: &[u8], end_of_stream: bool) -> bool {
        let _ = (id, data, end_of_stream);
        false
    }

    /// Ends the request of the open streaming callout `id` with `trailers` (checked: lower-case
    /// tokens, valid values, no pseudo-headers); false when the proxy no longer has it.
    fn callout_stream_send_trailers(
        &mut self,
        id: u64,
        trailers: &[(std::borrow::Cow<'_, [u8]>, &[u8])],
    ) -> bool {
        let _ = (id, trailers);
        false
    }

    /// Resets the streaming callout `id`; the core delivers nothing more of it.
    fn callout_stream_reset(&mut self, id: u64) {
        let _ = id;
    }

    /// Applies `op` with `value` to the metric the host registered as `host_id`
    /// ([`crate::ConfigHost::define_metric`]) for these label values (the core checked them
    /// against its definition and the label limit). False when the proxy refused it. Hosts
    /// without metrics keep the default.
    fn metric_record(
        &mut self,
        host_id: u64,
        kind: crate::MetricKind,
        op: crate::MetricOp,
        label_values: &[&[u8]],
        value: u64,
    ) -> bool {
        let _ = (host_id, kind, op, label_values, value);
        false
    }

    /// Sets `key` of namespace `ns` in the stream's dynamic metadata (checked by the core).
    /// False when the proxy cannot. Hosts without metadata keep the default.
    fn metadata_set(&mut self, ns: &str, key: &str, value: crate::MetadataValue<'_>) -> bool {
        let _ = (ns, key, value);
        false
    }

    /// `key` of namespace `ns` from `source` when it holds a value of `kind`; a string is a
    /// view of the host's memory, valid until the running hook returns or the metadata changes.
    fn metadata_get(
        &mut self,
        source: crate::MetadataSource,
        ns: &str,
        key: &str,
        kind: crate::ValueKind,
    ) -> Option<envoyx_abi::envoyx_value> {
        let _ = (source, ns, key, kind);
        None
    }

    /// Sets the stream's filter state `key` to `value`, read-only. The core calls it only for a
    /// key [`HostStream::filter_state_exists`] said is absent. False when the proxy cannot.
    fn filter_state_set(&mut self, key: &str, value: &[u8]) -> bool {
        let _ = (key, value);
        false
    }

    /// Whether the stream's filter state has `key`, whoever set it and whatever its type (a
    /// string of any filter, an object of Envoy's): the core refuses to set a key that exists,
    /// since the proxy keeps it read-only. A host that cannot tell for some keys must answer
    /// true for those, so that nothing is ever set over a value. The default asks
    /// [`HostStream::filter_state_get`], which sees string values only.
    fn filter_state_exists(&mut self, key: &str) -> bool {
        self.filter_state_get(key).is_some()
    }

    /// The filter state `key` as bytes: a view valid until the running hook returns.
    fn filter_state_get(&mut self, key: &str) -> Option<envoyx_bytes> {
        let _ = key;
        None
    }

    /// Makes the proxy pick the request's route again when its headers go on (the core checked
    /// that they have not).
    fn clear_route_cache(&mut self) -> bool {
        false
    }

    /// Makes the proxy pick the cluster of the request's route again when its headers go on (the
    /// core checked that they have not); the route itself stays.
    fn refresh_route_cluster(&mut self) -> bool {
        false
    }

    /// Sends the request to the upstream host `host` (`ip:port`, checked by the core).
    fn upstream_override_host(&mut self, host: &str, strict: bool) -> bool {
        let _ = (host, strict);
        false
    }

    /// The stream's `attribute`, of the kind [`crate::Attribute::kind`] gives (a string is a view
    /// valid until the running hook returns); None when absent or unknown to the proxy.
    fn attribute(&mut self, attribute: crate::Attribute) -> Option<envoyx_abi::envoyx_value> {
        let _ = attribute;
        None
    }

    /// Adds a tag to the stream's active span (checked by the core); false when the stream has
    /// none (no tracer). Hosts without tracing keep the default.
    fn span_set_tag(&mut self, key: &str, value: &str) -> bool {
        let _ = (key, value);
        false
    }

    /// The stream's buffer limit in bytes (ABI 1.2): how much the proxy holds of a direction a
    /// filter stopped, and its high watermark towards each peer; 0 when it does not say.
    fn buffer_limit(&mut self) -> u64 {
        0
    }

    /// Sets the stream's buffer limit (ABI 1.2; the core checked it is 1 byte to 1 GiB); false
    /// when the proxy cannot.
    fn set_buffer_limit(&mut self, limit: u64) -> bool {
        let _ = limit;
        false
    }

    /// The stream's moment `timing` (ABI 1.2; an id the core checked, `envoyx_timing`) in
    /// nanoseconds, if the proxy knows it by now: the start as Unix time, the rest as offsets
    /// from it. Hosts that keep no timing keep the default.
    fn timing(&mut self, timing: u32) -> Option<i64> {
        let _ = timing;
        None
    }

    /// Why this proxy serves the table function `call` not at all (ABI 1.2 `timing_get`,
    /// `upstream_hosts_attempted`, `metadata_get_typed`, `metadata_set_typed`: the core refuses
    /// the call with it);
    /// None when it does.
    fn unserved(&self, call: &str) -> Option<String> {
        let _ = call;
        None
    }

    /// The addresses of the upstream hosts the request was sent to, in attempt order (ABI 1.2):
    /// how many there are, up to `out.len()` written as views valid until the hook returns.
    fn upstream_hosts_attempted(&mut self, out: &mut [envoyx_abi::envoyx_bytes]) -> usize {
        let _ = out;
        0
    }

    /// Sets filter state `key` to the object the proxy's factory of that name makes from `value`
    /// (ABI 1.2; the core checked both and that the key is free); false when the proxy has no
    /// such factory or it refuses the value.
    fn filter_state_set_typed(&mut self, key: &str, value: &[u8]) -> bool {
        let _ = (key, value);
        false
    }

    /// The serialized form of the filter-state object at `key`, whatever its type (ABI 1.2): a
    /// view valid until the hook returns or the filter state changes; None when absent or
    /// without one.
    fn filter_state_serialized(&mut self, key: &str) -> Option<envoyx_abi::envoyx_bytes> {
        let _ = key;
        None
    }

    /// Merges the serialized google.protobuf.Struct `encoded` (the core checked and encoded it)
    /// into namespace `ns` of the stream's dynamic metadata (ABI 1.2 `metadata_set_struct`, for
    /// an object with a nested list or object or a null; flat ones go through
    /// [`HostStream::metadata_set`]); false when the proxy takes no whole Struct.
    fn metadata_set_struct(&mut self, ns: &str, encoded: &[u8]) -> bool {
        let _ = (ns, encoded);
        false
    }

    /// Sets namespace `ns` of the stream's typed dynamic metadata to the serialized
    /// google.protobuf.Any `any` (ABI 1.2 `metadata_set_typed`; the core checked and built it).
    /// False when the host keeps no typed metadata.
    fn metadata_set_typed(&mut self, ns: &str, any: &[u8]) -> bool {
        let _ = (ns, any);
        false
    }

    /// Namespace `ns` of `source`'s typed metadata (ABI 1.2): its Any's type URL and serialized
    /// value, views valid as [`HostStream::metadata_get`]'s strings; None when absent.
    fn metadata_typed(
        &mut self,
        source: crate::MetadataSource,
        ns: &str,
    ) -> Option<(envoyx_abi::envoyx_bytes, envoyx_abi::envoyx_bytes)> {
        let _ = (source, ns);
        None
    }

    /// The namespaces of `source`'s metadata (`ns` None), or the keys of its namespace `ns`
    /// (ABI 1.2): how many there are, up to `out.len()` written as views valid as
    /// [`HostStream::metadata_get`]'s strings; None when the host cannot say.
    fn metadata_names(
        &mut self,
        source: crate::MetadataSource,
        ns: Option<&str>,
        out: &mut [envoyx_abi::envoyx_bytes],
    ) -> Option<usize> {
        let _ = (source, ns, out);
        None
    }

    /// The current value of the secret the configuration's host subscribed to as `id` (ABI 1.2;
    /// [`crate::ConfigHost::subscribe_secret`]): a view valid until the hook returns, empty
    /// while SDS has not delivered it. Hosts without secrets keep the default.
    fn secret_get(&mut self, id: u64) -> Option<envoyx_abi::envoyx_bytes> {
        let _ = id;
        None
    }

    /// Gives the direction of `map` (a trailers map) empty trailers if it has none (ABI 1.2; the
    /// core checked this is that direction's body hook with the chunk that ends it); true when
    /// the direction has trailers now. Hosts that cannot add them keep the default.
    fn trailers_add(&mut self, map: HeaderMapKind) -> bool {
        let _ = map;
        false
    }

    /// Starts a child span of span `parent` (0: the active span) named `operation` and keeps it
    /// under `id` (ABI 1.2, the core's number); false without a tracer (no span started).
    fn span_start_child(&mut self, parent: u64, id: u64, operation: &str) -> bool {
        let _ = (parent, id, operation);
        false
    }

    /// Tags span `span` (0: the active span; else a child this host keeps).
    fn span_tag(&mut self, span: u64, key: &str, value: &str) -> bool {
        let _ = (span, key, value);
        false
    }

    /// Logs `event` on span `span`, timed now.
    fn span_log(&mut self, span: u64, event: &str) -> bool {
        let _ = (span, event);
        false
    }

    /// Overrides the sampling decision of span `span`.
    fn span_set_sampled(&mut self, span: u64, sampled: bool) -> bool {
        let _ = (span, sampled);
        false
    }

    /// Finishes child span `span` and forgets it (the core calls it once per span).
    fn span_finish(&mut self, span: u64) -> bool {
        let _ = span;
        false
    }

    /// Sets baggage on the active span.
    fn span_baggage_set(&mut self, key: &str, value: &str) -> bool {
        let _ = (key, value);
        false
    }

    /// Baggage `key` of the active span: a view of the host's copy, valid until the next tracing
    /// call on the stream or the hook's return.
    fn span_baggage_get(&mut self, key: &str) -> Option<envoyx_bytes> {
        let _ = key;
        None
    }

    /// The active span's trace id, a view as [`HostStream::span_baggage_get`]'s.
    fn span_trace_id(&mut self) -> Option<envoyx_bytes> {
        None
    }

    /// Why the proxy can never tell `attribute` (e.g. an Envoy version that does not serve it,
    /// naming the versions that do); None when it can (its value may still be absent).
    fn attribute_unserved(&self, attribute: crate::Attribute) -> Option<String> {
        let _ = attribute;
        None
    }

    /// The index of the worker thread this stream runs on (ABI 1.2), from 0 to the proxy's worker
    /// count - 1 ([`crate::workers::set_worker_count`]). Hosts that do not know keep the default.
    fn worker_index(&mut self) -> Option<u32> {
        None
    }

    /// Capability: whether the proxy can later resume a response this filter stopped while the
    /// host was carrying out a continue of its request ([`crate::Stream::carrying_out_continue`]),
    /// i.e. a response that arrived inside the proxy's own continue call (a later filter
    /// answered locally). Envoy 1.38 cannot (its filter marks itself continued only after that
    /// call returns, so a later `continue_encoding` does nothing); the core then lets such a
    /// response go on at once, with one warning per stream, instead of leaving it hanging.
    fn resumes_response_stopped_inside_request_continue(&self) -> bool {
        true
    }

    /// What wakes the stream for work queued on other threads; see [`StreamScheduler`]. Called at most once per stream,
    /// inside the module hook that asks for the stream's first continue handle (never for
    /// streams whose module takes none).
    fn scheduler(&self) -> Arc<dyn StreamScheduler>;
}

/// Wakes a stream's worker thread for work a module queued on any thread (a continue, or an
/// event for its scheduled hook).
///
/// `wake` may be called from any thread, at any time, even after the stream is gone; each call
/// stands for one queued item. The host must later, on the stream's worker thread, call
/// [`crate::Stream::on_scheduled`] once per wake if the stream still exists (it takes the next
/// item from the core's queue, or does nothing when there is none), and otherwise drop the wake.
pub trait StreamScheduler: Send + Sync {
    fn wake(&self);
}

/// The whole body copied out, for the drain-and-append defaults above.
fn copy_body<H: HostStream + ?Sized>(host: &mut H, body: BodyKind) -> Option<Vec<u8>> {
    let count = host.body_slices(body, &mut [])?;
    let mut slices = vec![envoyx_slice { ptr: std::ptr::null_mut(), len: 0 }; count];
    host.body_slices(body, &mut slices)?;
    let mut out = Vec::with_capacity(host.body_length(body).unwrap_or(0));
    for s in &slices {
        // Safety: the host promises each slice is readable until the body changes; it has not.
        out.extend_from_slice(unsafe { envoyx_bytes { ptr: s.ptr, len: s.len }.as_slice() });
    }
    Some(out)
}
