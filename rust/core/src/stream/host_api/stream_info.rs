//! The table's metadata, filter state and attributes (ABI 1.1) that need more than reading views:
//! values handed back through `out`. The plain ones (filter_state_set, clear_route_cache,
//! upstream_override_host, span_set_tag) are generated in `forwarded.rs`.

use super::{out_slice, view, with_stream};
use envoyx_abi::*;

pub(super) unsafe extern "C" fn metadata_set(
    stream: *mut envoyx_stream,
    ns: envoyx_bytes,
    key: envoyx_bytes,
    value: envoyx_value,
) -> bool {
    // Safety: stream pointer per the ABI; the views are valid during the call.
    unsafe {
        with_stream(stream, "metadata_set", false, |cell, _| {
            crate::stream::stream_info::metadata_set(cell, view(ns), view(key), &value)
        })
    }
}

pub(super) unsafe extern "C" fn metadata_get(
    stream: *mut envoyx_stream,
    source: envoyx_metadata_source,
    ns: envoyx_bytes,
    key: envoyx_bytes,
    kind: envoyx_value_kind,
    out: *mut envoyx_value,
) -> bool {
    // Safety: stream pointer per the ABI; the views are valid during the call; `out` is
    // writable or NULL.
    unsafe {
        with_stream(stream, "metadata_get", false, |cell, _| {
            match crate::stream::stream_info::metadata_get(cell, source, view(ns), view(key), kind) {
                Some(value) if !out.is_null() => {
                    out.write(value);
                    true
                }
                _ => false,
            }
        })
    }
}

pub(super) unsafe extern "C" fn metadata_get_typed(
    stream: *mut envoyx_stream,
    source: envoyx_metadata_source,
    ns: envoyx_bytes,
    type_url: *mut envoyx_bytes,
    value: *mut envoyx_bytes,
) -> bool {
    // Safety: stream pointer per the ABI; `ns` is valid during the call; `type_url` and `value`
    // are writable or NULL.
    unsafe {
        with_stream(stream, "metadata_get_typed", false, |cell, _| {
            match crate::stream::stream_info::metadata_get_typed(cell, source, view(ns)) {
                Some((url, bytes)) if !type_url.is_null() && !value.is_null() => {
                    type_url.write(url);
                    value.write(bytes);
                    true
                }
                _ => false,
            }
        })
    }
}

pub(super) unsafe extern "C" fn metadata_namespaces(
    stream: *mut envoyx_stream,
    source: envoyx_metadata_source,
    names: *mut envoyx_bytes,
    names_cap: usize,
) -> usize {
    // Safety: stream pointer per the ABI; `names` has room for `names_cap` entries.
    unsafe {
        with_stream(stream, "metadata_namespaces", 0, |cell, _| {
            crate::stream::stream_info::metadata_names(cell, source, None, out_slice(names, names_cap))
        })
    }
}

pub(super) unsafe extern "C" fn metadata_keys(
    stream: *mut envoyx_stream,
    source: envoyx_metadata_source,
    ns: envoyx_bytes,
    keys: *mut envoyx_bytes,
    keys_cap: usize,
) -> usize {
    // Safety: stream pointer per the ABI; `ns` is valid during the call; `keys` has room for
    // `keys_cap` entries.
    unsafe {
        with_stream(stream, "metadata_keys", 0, |cell, _| {
            crate::stream::stream_info::metadata_names(
                cell,
                source,
                Some(view(ns)),
                out_slice(keys, keys_cap),
            )
        })
    }
}

pub(super) unsafe extern "C" fn filter_state_get_serialized(
    stream: *mut envoyx_stream,
    key: envoyx_bytes,
    value: *mut envoyx_bytes,
) -> bool {
    // Safety: stream pointer per the ABI; `key` is valid during the call; `value` is writable
    // or NULL.
    unsafe {
        with_stream(stream, "filter_state_get_serialized", false, |cell, _| {
            match crate::stream::stream_info::filter_state_get_serialized(cell, view(key)) {
                Some(found) if !value.is_null() => {
                    value.write(found);
                    true
                }
                _ => false,
            }
        })
    }
}

pub(super) unsafe extern "C" fn filter_state_get(
    stream: *mut envoyx_stream,
    key: envoyx_bytes,
    out: *mut envoyx_bytes,
) -> bool {
    // Safety: stream pointer per the ABI; the view is valid during the call; `out` is writable
    // or NULL.
    unsafe {
        with_stream(stream, "filter_state_get", false, |cell, _| {
            match crate::stream::stream_info::filter_state_get(cell, view(key)) {
                Some(value) if !out.is_null() => {
                    out.write(value);
                    true
                }
                _ => false,
            }
        })
    }
}

pub(super) unsafe extern "C" fn upstream_hosts_attempted(
    stream: *mut envoyx_stream,
    hosts: *mut envoyx_bytes,
    hosts_cap: usize,
) -> usize {
    // Safety: stream pointer per the ABI; `hosts` has room for `hosts_cap` entries.
    unsafe {
        with_stream(stream, "upstream_hosts_attempted", 0, |cell, _| {
            crate::stream::timing::upstream_hosts_attempted(cell, out_slice(hosts, hosts_cap))
        })
    }
}

pub(super) unsafe extern "C" fn timing_get(
    stream: *mut envoyx_stream,
    timing: envoyx_timing,
    ns: *mut i64,
) -> bool {
    // Safety: stream pointer per the ABI; `ns` is writable or NULL.
    unsafe {
        with_stream(stream, "timing_get", false, |cell, _| {
            match crate::stream::timing::timing_get(cell, timing) {
                Some(value) if !ns.is_null() => {
                    ns.write(value);
                    true
                }
                _ => false,
            }
        })
    }
}

pub(super) unsafe extern "C" fn secret_get(
    stream: *mut envoyx_stream,
    name: envoyx_bytes,
    value: *mut envoyx_bytes,
) -> bool {
    // Safety: stream pointer per the ABI; `name` is valid during the call; `value` is writable
    // or NULL.
    unsafe {
        with_stream(stream, "secret_get", false, |cell, _| {
            match crate::stream::stream_info::secret_get(cell, view(name)) {
                Some(secret) if !value.is_null() => {
                    value.write(secret);
                    true
                }
                _ => false,
            }
        })
    }
}

pub(super) unsafe extern "C" fn attribute_get(
    stream: *mut envoyx_stream,
    attribute: envoyx_attribute,
    out: *mut envoyx_value,
) -> bool {
    // Safety: stream pointer per the ABI; `out` is writable or NULL.
    unsafe {
        with_stream(stream, "attribute_get", false, |cell, _| {
            match crate::stream::attributes::get(cell, attribute) {
                Some(value) if !out.is_null() => {
                    out.write(value);
                    true
                }
                _ => false,
            }
        })
    }
}
