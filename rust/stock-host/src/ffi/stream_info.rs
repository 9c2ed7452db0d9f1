//! A stream's metadata, filter state, routing, attributes and span (the `EnvoyFilter` methods and
//! the callbacks they wrap).

use super::*;
use crate::attribute_ids::ATTRIBUTE_IDS;

unsafe extern "C" {
    // Listing metadata (Envoy 1.38-1.40): the count first, then an array of that many, which
    // Envoy fills with views valid until the hook returns or the metadata changes.
    fn envoy_dynamic_module_callback_http_get_metadata_namespaces_count(
        filter: FilterEnvoyPtr,
        source: u32,
    ) -> usize;
    fn envoy_dynamic_module_callback_http_get_metadata_namespaces(
        filter: FilterEnvoyPtr,
        source: u32,
        result: *mut EnvoyBuffer,
    ) -> bool;
    fn envoy_dynamic_module_callback_http_get_metadata_keys_count(
        filter: FilterEnvoyPtr,
        source: u32,
        ns: ModuleBuffer,
    ) -> usize;
    fn envoy_dynamic_module_callback_http_get_metadata_keys(
        filter: FilterEnvoyPtr,
        source: u32,
        ns: ModuleBuffer,
        result: *mut EnvoyBuffer,
    ) -> bool;
    // Metadata, filter state, routing. The setters of dynamic metadata return nothing in the
    // releases EnvoyX supports (declaring them so ignores any value).
    fn envoy_dynamic_module_callback_http_set_dynamic_metadata_string(
        filter: FilterEnvoyPtr,
        ns: ModuleBuffer,
        key: ModuleBuffer,
        value: ModuleBuffer,
    );
    fn envoy_dynamic_module_callback_http_set_dynamic_metadata_number(
        filter: FilterEnvoyPtr,
        ns: ModuleBuffer,
        key: ModuleBuffer,
        value: f64,
    );
    fn envoy_dynamic_module_callback_http_set_dynamic_metadata_bool(
        filter: FilterEnvoyPtr,
        ns: ModuleBuffer,
        key: ModuleBuffer,
        value: bool,
    );
    fn envoy_dynamic_module_callback_http_get_metadata_string(
        filter: FilterEnvoyPtr,
        source: u32,
        ns: ModuleBuffer,
        key: ModuleBuffer,
        result: *mut EnvoyBuffer,
    ) -> bool;
    fn envoy_dynamic_module_callback_http_get_metadata_number(
        filter: FilterEnvoyPtr,
        source: u32,
        ns: ModuleBuffer,
        key: ModuleBuffer,
        result: *mut f64,
    ) -> bool;
    fn envoy_dynamic_module_callback_http_get_metadata_bool(
        filter: FilterEnvoyPtr,
        source: u32,
        ns: ModuleBuffer,
        key: ModuleBuffer,
        result: *mut bool,
    ) -> bool;
    fn envoy_dynamic_module_callback_http_set_filter_state_bytes(
        filter: FilterEnvoyPtr,
        key: ModuleBuffer,
        value: ModuleBuffer,
    ) -> bool;
    fn envoy_dynamic_module_callback_http_get_filter_state_bytes(
        filter: FilterEnvoyPtr,
        key: ModuleBuffer,
        result: *mut EnvoyBuffer,
    ) -> bool;
    /// Any object's string form (its `serializeAsString`), where the bytes getter sees only
    /// Envoy's `StringAccessor` (1.38.3 on).
    fn envoy_dynamic_module_callback_http_get_filter_state_typed(
        filter: FilterEnvoyPtr,
        key: ModuleBuffer,
        result: *mut EnvoyBuffer,
    ) -> bool;
    /// The object Envoy's factory named `key` makes from `value` (`createFromBytes`), stored
    /// read-only under `key`; false without such a factory, when it refuses, or when the key
    /// is taken (1.38.3 on).
    fn envoy_dynamic_module_callback_http_set_filter_state_typed(
        filter: FilterEnvoyPtr,
        key: ModuleBuffer,
        value: ModuleBuffer,
    ) -> bool;
    fn envoy_dynamic_module_callback_http_clear_route_cache(filter: FilterEnvoyPtr);
    fn envoy_dynamic_module_callback_http_clear_route_cluster_cache(filter: FilterEnvoyPtr);
    fn envoy_dynamic_module_callback_http_filter_get_worker_index(filter: FilterEnvoyPtr) -> u32;
    fn envoy_dynamic_module_callback_http_set_upstream_override_host(
        filter: FilterEnvoyPtr,
        host: ModuleBuffer,
        strict: bool,
    ) -> bool;
    fn envoy_dynamic_module_callback_http_filter_get_attribute_string(
        filter: FilterEnvoyPtr,
        attribute: u32,
        result: *mut EnvoyBuffer,
    ) -> bool;
    fn envoy_dynamic_module_callback_http_filter_get_attribute_bool(
        filter: FilterEnvoyPtr,
        attribute: u32,
        result: *mut bool,
    ) -> bool;
    fn envoy_dynamic_module_callback_http_filter_get_attribute_int(
        filter: FilterEnvoyPtr,
        attribute: u32,
        result: *mut u64,
    ) -> bool;
    fn envoy_dynamic_module_callback_http_get_cluster_name(
        filter: FilterEnvoyPtr,
        result: *mut EnvoyBuffer,
    ) -> bool;
}

impl EnvoyFilter {
    /// The stream's `attribute` through Envoy's attribute callbacks, by the upstream id and kind
    /// `attribute_ids.rs` gives it (the cluster's name through its own callback); a string is a
    /// view of Envoy's memory. None also for an attribute this Envoy does not serve: the host asks
    /// [`attribute_unserved`] first.
    pub fn attribute(self, attribute: envoyx_core::Attribute) -> Option<envoyx_abi::envoyx_value> {
        if attribute == envoyx_core::Attribute::ClusterName {
            let mut out = EnvoyBuffer::EMPTY;
            // Safety: live filter on its worker thread; `out` is written only on success.
            let found = unsafe { envoy_dynamic_module_callback_http_get_cluster_name(self.raw(), &mut out) };
            return found.then(|| envoyx_abi::envoyx_value {
                string: out.view(),
                ..envoyx_abi::envoyx_value::string(b"")
            });
        }
        let &(_, id, kind, _) = ATTRIBUTE_IDS.iter().find(|(envoyx, ..)| *envoyx == attribute as u32)?;
        // Safety: live filter on its worker thread; the results are written only on success.
        unsafe {
            match kind {
                'n' => {
                    let mut out = 0u64;
                    envoy_dynamic_module_callback_http_filter_get_attribute_int(self.raw(), id, &mut out)
                        .then(|| envoyx_abi::envoyx_value::number(out as f64))
                }
                'b' => {
                    let mut out = false;
                    envoy_dynamic_module_callback_http_filter_get_attribute_bool(self.raw(), id, &mut out)
                        .then(|| envoyx_abi::envoyx_value::boolean(out))
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
        let span = self.active_span();
        if span.is_null() {
            return false;
        }
        // Safety: the active span lives as long as the stream.
        unsafe { self.tag_span(span, key, value) };
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

    /// Merges the serialized Struct `encoded` into namespace `ns` of the dynamic metadata; false
    /// before Envoy 1.40.
    pub fn set_metadata_struct(self, ns: &str, encoded: &[u8]) -> bool {
        let Some(set) = super::process::set_metadata_struct_callback() else { return false };
        // Safety: live filter on its worker thread; Envoy reads both buffers during the call.
        unsafe { set(self.raw(), ModuleBuffer::new(ns.as_bytes()), ModuleBuffer::new(encoded)) };
        true
    }

    /// Sets namespace `ns` of the typed dynamic metadata to the serialized Any `any`; false
    /// before Envoy 1.40.
    pub fn set_metadata_typed(self, ns: &str, any: &[u8]) -> bool {
        let Some(set) = super::process::set_typed_metadata_callback() else { return false };
        // Safety: live filter on its worker thread; Envoy reads both buffers during the call.
        unsafe { set(self.raw(), ModuleBuffer::new(ns.as_bytes()), ModuleBuffer::new(any)) };
        true
    }

    /// Namespace `ns` of `source`'s typed metadata: its Any's type URL and value, views of
    /// Envoy's; None when absent or before Envoy 1.40.
    pub fn metadata_typed(
        self,
        source: envoyx_core::MetadataSource,
        ns: &str,
    ) -> Option<(envoyx_abi::envoyx_bytes, envoyx_abi::envoyx_bytes)> {
        let get = super::process::typed_metadata_callback()?;
        let (mut url, mut value) = (EnvoyBuffer::EMPTY, EnvoyBuffer::EMPTY);
        // Safety: live filter on its worker thread; Envoy reads `ns` during the call and writes
        // both buffers on success.
        let found =
            unsafe { get(self.raw(), source as u32, ModuleBuffer::new(ns.as_bytes()), &mut url, &mut value) };
        found.then(|| (url.view(), value.view()))
    }

    /// The namespaces of `source`'s metadata (`ns` None) or the keys of its namespace `ns`: how
    /// many there are, up to `out.len()` written as views of Envoy's.
    pub fn metadata_names(
        self,
        source: envoyx_core::MetadataSource,
        ns: Option<&str>,
        out: &mut [envoyx_abi::envoyx_bytes],
    ) -> usize {
        let source = source as u32;
        let ns = ns.map(|ns| ModuleBuffer::new(ns.as_bytes()));
        // Safety: live filter on its worker thread; Envoy reads `ns` during the call.
        let count = unsafe {
            match ns {
                None => envoy_dynamic_module_callback_http_get_metadata_namespaces_count(self.raw(), source),
                Some(ns) => {
                    envoy_dynamic_module_callback_http_get_metadata_keys_count(self.raw(), source, ns)
                }
            }
        };
        if count == 0 || out.is_empty() {
            return count;
        }
        // Envoy takes no capacity: it writes all `count`, so into an array of that many.
        let mut all = vec![EnvoyBuffer::EMPTY; count];
        // Safety: as above; `all` has room for the `count` Envoy just gave.
        let listed = unsafe {
            match ns {
                None => envoy_dynamic_module_callback_http_get_metadata_namespaces(
                    self.raw(),
                    source,
                    all.as_mut_ptr(),
                ),
                Some(ns) => envoy_dynamic_module_callback_http_get_metadata_keys(
                    self.raw(),
                    source,
                    ns,
                    all.as_mut_ptr(),
                ),
            }
        };
        if !listed {
            return 0;
        }
        for (view, name) in out.iter_mut().zip(&all) {
            *view = name.view();
        }
        count
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

    /// Sets `key` to the object Envoy's factory of that name makes from `value`.
    pub fn set_filter_state_typed(self, key: &str, value: &[u8]) -> bool {
        // Safety: live filter on its worker thread; Envoy copies both.
        unsafe {
            envoy_dynamic_module_callback_http_set_filter_state_typed(
                self.raw(),
                ModuleBuffer::new(key.as_bytes()),
                ModuleBuffer::new(value),
            )
        }
    }

    /// The serialized form of the object at `key`, whatever its type: a view of Envoy's.
    pub fn filter_state_serialized(self, key: &str) -> Option<envoyx_abi::envoyx_bytes> {
        let mut out = EnvoyBuffer::EMPTY;
        // Safety: live filter on its worker thread; `out` is written only on success.
        unsafe {
            envoy_dynamic_module_callback_http_get_filter_state_typed(
                self.raw(),
                ModuleBuffer::new(key.as_bytes()),
                &mut out,
            )
            .then(|| out.view())
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

    /// The stream's moment `timing` (an `envoyx_timing` id, the index of upstream's timing
    /// struct) in nanoseconds, if Envoy knows it by now; None before Envoy 1.40.
    pub fn timing(self, timing: u32) -> Option<i64> {
        let get = timing_info_callback()?;
        let mut out = TimingInfoV2 { ns: [-1; 19], has: [false; 19] };
        // Safety: live filter on its worker thread; Envoy fills the module's struct in the call.
        unsafe { get(self.raw(), &mut out) };
        let at = timing as usize;
        (at < out.ns.len() && out.has[at]).then(|| out.ns[at])
    }

    /// The addresses of the upstream hosts the request was sent to, in attempt order: how many
    /// there are, up to `out.len()` written as views of Envoy's; 0 before Envoy 1.40.
    pub fn upstream_hosts_attempted(self, out: &mut [envoyx_abi::envoyx_bytes]) -> usize {
        let Some(callbacks) = super::process::hosts_attempted_callbacks() else { return 0 };
        // Safety: live filter on its worker thread.
        let count = unsafe { (callbacks.size)(self.raw()) };
        if count == 0 || out.is_empty() {
            return count;
        }
        let mut all = vec![EnvoyBuffer::EMPTY; count];
        // Safety: as above; `all` has room for the `count` Envoy just gave.
        if !unsafe { (callbacks.list)(self.raw(), all.as_mut_ptr()) } {
            return 0;
        }
        for (view, host) in out.iter_mut().zip(&all) {
            *view = host.view();
        }
        count
    }

    /// The index of the worker thread this stream runs on (0 to `--concurrency` - 1).
    pub fn worker_index(self) -> u32 {
        // Safety: live filter on its worker thread.
        unsafe { envoy_dynamic_module_callback_http_filter_get_worker_index(self.raw()) }
    }

    /// Has Envoy pick the route again when the request headers go on.
    pub fn clear_route_cache(self) {
        // Safety: live filter on its worker thread.
        unsafe { envoy_dynamic_module_callback_http_clear_route_cache(self.raw()) }
    }

    /// Has Envoy pick the cluster of the request's route again when the request headers go on.
    pub fn refresh_route_cluster(self) {
        // Safety: live filter on its worker thread.
        unsafe { envoy_dynamic_module_callback_http_clear_route_cluster_cache(self.raw()) }
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
}

/// Why the running Envoy never serves `attribute` (its minor is below the first that does), or
/// None when it does.
pub fn attribute_unserved(attribute: envoyx_core::Attribute) -> Option<String> {
    let &(_, _, _, since) = ATTRIBUTE_IDS.iter().find(|(envoyx, ..)| *envoyx == attribute as u32)?;
    let running = envoy_minor();
    (running < since).then(|| format!("Envoy 1.{running} does not serve it; Envoy 1.{since} and later do"))
}
