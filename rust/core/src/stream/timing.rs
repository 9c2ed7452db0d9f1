//! Stream timing (ABI 1.2 `timing_get`): the moments of a stream a proxy records — its start as
//! wall-clock time, then offsets on a monotonic clock (connection, handshake, request received,
//! upstream connect and bytes, response bytes, completion). The rule: an id the ABI defines, a
//! host that serves timing; what the host knows by now comes back, nothing else. With it, the
//! upstream hosts the request was sent to (`upstream_hosts_attempted`), in attempt order.

use crate::stream::cell::StreamCell;

/// How many timing ids the ABI defines (`ENVOYX_TIMING_START_UNIX` .. `_DOWNSTREAM_CONNECTION_END`).
pub const TIMING_COUNT: u32 = envoyx_abi::ENVOYX_TIMING_DOWNSTREAM_CONNECTION_END + 1;

/// Each id's name in log lines, in ABI order.
const NAMES: [&str; TIMING_COUNT as usize] = [
    "START_UNIX",
    "DOWNSTREAM_CONNECTION_BEGIN",
    "DOWNSTREAM_HANDSHAKE_START",
    "DOWNSTREAM_HANDSHAKE_COMPLETE",
    "LAST_DOWNSTREAM_HEADER_RX",
    "LAST_DOWNSTREAM_RX",
    "UPSTREAM_CONNECT_START",
    "UPSTREAM_CONNECT_COMPLETE",
    "UPSTREAM_HANDSHAKE_COMPLETE",
    "FIRST_UPSTREAM_TX",
    "LAST_UPSTREAM_TX",
    "FIRST_UPSTREAM_RX",
    "FIRST_UPSTREAM_RX_BODY",
    "LAST_UPSTREAM_RX",
    "FIRST_DOWNSTREAM_TX",
    "LAST_DOWNSTREAM_TX",
    "LAST_DOWNSTREAM_ACK",
    "REQUEST_COMPLETE",
    "DOWNSTREAM_CONNECTION_END",
];

/// The name of timing id `timing` (one the ABI defines).
pub fn timing_name(timing: u32) -> &'static str {
    NAMES.get(timing as usize).copied().unwrap_or("(unknown)")
}

/// The rule of `timing_get`: the moment `timing` in nanoseconds, if the proxy knows it by now.
pub(crate) fn timing_get(cell: &StreamCell, timing: u32) -> Option<i64> {
    if timing >= TIMING_COUNT {
        cell.refuse(
            format_args!("timing_get of timing {timing}"),
            &format_args!("no such timing: the ids are 0 to {}", TIMING_COUNT - 1),
        );
        return None;
    }
    if let Some(reason) = cell.host.borrow().unserved("timing_get") {
        cell.refuse(format_args!("timing_get of {}", timing_name(timing)), &reason);
        return None;
    }
    cell.host.borrow_mut().timing(timing)
}

/// The rule of `upstream_hosts_attempted`: how many hosts the request was sent to, up to
/// `out.len()` of their addresses written.
pub(crate) fn upstream_hosts_attempted(cell: &StreamCell, out: &mut [envoyx_abi::envoyx_bytes]) -> usize {
    if let Some(reason) = cell.host.borrow().unserved("upstream_hosts_attempted") {
        cell.refuse(format_args!("upstream_hosts_attempted"), &reason);
        return 0;
    }
    cell.host.borrow_mut().upstream_hosts_attempted(out)
}
