//! The table's header functions (`header_get` ... `header_remove`): names and values checked
//! (`validate.rs`), changes after the headers went on refused (`framing.rs`).

use super::{map_arg, out_slice, view, with_map, with_stream};
use crate::stream::cell::StreamCell;
use crate::stream::framing;
use crate::stream::validate::{self, HeaderOp};
use crate::vocab::HeaderMapKind;
use envoyx_abi::*;

pub(super) unsafe extern "C" fn header_get(
    stream: *mut envoyx_stream,
    map: envoyx_header_map,
    key: envoyx_bytes,
    values: *mut envoyx_bytes,
    values_cap: usize,
) -> usize {
    // Safety: stream pointer per the ABI; `key` valid during the call; `values` has room for
    // `values_cap` entries (or is unused when the capacity is 0).
    unsafe {
        with_stream(stream, "header_get", 0, |cell, _| {
            let Some(map) = map_arg(map, "header_get") else { return 0 };
            let out = out_slice(values, values_cap);
            cell.host.borrow_mut().header_values(map, view(key), out).unwrap_or(0)
        })
    }
}

pub(super) unsafe extern "C" fn header_all(
    stream: *mut envoyx_stream,
    map: envoyx_header_map,
    headers: *mut envoyx_header,
    headers_cap: usize,
) -> usize {
    // Safety: as in header_get.
    unsafe {
        with_map(stream, map, "header_all", 0, |host, map| {
            host.header_entries(map, out_slice(headers, headers_cap)).unwrap_or(0)
        })
    }
}

/// Checks a header name and value a module hands in for `op` (see `validate.rs`); on refusal
/// logs it for the stream and returns None.
pub(super) fn checked_header<'k>(
    cell: &StreamCell,
    map: HeaderMapKind,
    op: HeaderOp,
    what: &str,
    key: &'k [u8],
    value: Option<&[u8]>,
) -> Option<std::borrow::Cow<'k, [u8]>> {
    let writes = matches!(op, HeaderOp::Set | HeaderOp::Add);
    let checked = validate::header_name(Some(map), op, key)
        .and_then(|name| value.map_or(Ok(()), |v| validate::header_value(&name, v)).map(|()| name))
        .and_then(|name| {
            if writes { validate::header_write(cell.header_writes.get()).map(|()| name) } else { Ok(name) }
        });
    match checked {
        Ok(name) if framing::headers_gone(map, cell) => {
            cell.refuse(
                format_args!("{what} of `{}` on {map:?}", crate::log::Shown(&name)),
                &"these headers already went on past this filter: whether a change still reaches the \
                  peer would depend on timing (and `content-length` would no longer match what the \
                  peer was told); change them in the headers hook, or hold them (StopIteration) until \
                  the module knows",
            );
            None
        }
        Ok(name) => {
            if writes {
                cell.header_writes.set(cell.header_writes.get() + 1);
            }
            Some(name)
        }
        Err(refusal) => {
            cell.refuse(format_args!("{what} of `{}` on {map:?}", crate::log::Shown(key)), &refusal);
            None
        }
    }
}

pub(super) unsafe extern "C" fn header_set(
    stream: *mut envoyx_stream,
    map: envoyx_header_map,
    key: envoyx_bytes,
    value: envoyx_bytes,
) -> bool {
    // Safety: stream pointer per the ABI; views valid during the call.
    unsafe {
        with_stream(stream, "header_set", false, |cell, _| {
            let Some(map) = map_arg(map, "header_set") else { return false };
            let value = view(value);
            let Some(key) = checked_header(cell, map, HeaderOp::Set, "header_set", view(key), Some(value))
            else {
                return false;
            };
            cell.host.borrow_mut().header_set(map, &key, value)
        })
    }
}

pub(super) unsafe extern "C" fn header_add(
    stream: *mut envoyx_stream,
    map: envoyx_header_map,
    key: envoyx_bytes,
    value: envoyx_bytes,
) -> bool {
    // Safety: stream pointer per the ABI; views valid during the call.
    unsafe {
        with_stream(stream, "header_add", false, |cell, _| {
            let Some(map) = map_arg(map, "header_add") else { return false };
            let value = view(value);
            let Some(key) = checked_header(cell, map, HeaderOp::Add, "header_add", view(key), Some(value))
            else {
                return false;
            };
            cell.host.borrow_mut().header_add(map, &key, value)
        })
    }
}

pub(super) unsafe extern "C" fn header_remove(
    stream: *mut envoyx_stream,
    map: envoyx_header_map,
    key: envoyx_bytes,
) -> usize {
    // Safety: stream pointer per the ABI; view valid during the call.
    unsafe {
        with_stream(stream, "header_remove", 0, |cell, _| {
            let Some(map) = map_arg(map, "header_remove") else { return 0 };
            let Some(key) = checked_header(cell, map, HeaderOp::Remove, "header_remove", view(key), None)
            else {
                return 0;
            };
            cell.host.borrow_mut().header_remove(map, &key)
        })
    }
}
