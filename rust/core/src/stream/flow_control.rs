//! Flow control (ABI 1.2): the stream's buffer limit, and the watermark news the proxy gives
//! about the client's side. The rules live here once:
//!
//! - `buffer_limit` / `set_buffer_limit`: inside any hook of the stream but complete; a limit of
//!   1 byte to [`MAX_BUFFER_LIMIT`]. The proxy keeps one limit for both directions (Envoy: the
//!   listener's `per_connection_buffer_limit_bytes` unless a filter sets another).
//! - Watermarks: a proxy may say "above" more than once before "below" (Envoy: the connection's
//!   buffer and an HTTP/2 stream's buffer each count), so the core counts and hands the module
//!   only the changes — above once when the first one comes, below once when the last one
//!   goes. The news reaches the module through the stream's queue (as a scheduled event does),
//!   never inside the call that caused it: the proxy says "above" while the host is writing the
//!   module's response, and the module's answer must not overtake what is still being written.

use crate::stream::cell::{Hook, StreamCell, Work};
use crate::vocab::Direction;

/// The largest buffer limit a module may set, in bytes (1 GiB): a stream that must hold more
/// than this is better streamed.
pub const MAX_BUFFER_LIMIT: u64 = 1 << 30;

/// `buffer_limit`: what the proxy says (0 when it does not), outside the complete hook.
pub(crate) fn buffer_limit(cell: &StreamCell) -> u64 {
    if cell.hook.get() == Some(Hook::Complete) {
        cell.refuse(format_args!("buffer_limit"), &"the stream is complete");
        return 0;
    }
    cell.host.borrow_mut().buffer_limit()
}

/// `set_buffer_limit`: 1 to [`MAX_BUFFER_LIMIT`] bytes, outside the complete hook.
pub(crate) fn set_buffer_limit(cell: &StreamCell, limit: u64) -> bool {
    let what = format_args!("set_buffer_limit ({limit} bytes)");
    if cell.hook.get() == Some(Hook::Complete) {
        cell.refuse(what, &"the stream is complete");
        return false;
    }
    if limit == 0 || limit > MAX_BUFFER_LIMIT {
        cell.refuse(what, &format_args!("a limit is 1 to {MAX_BUFFER_LIMIT} bytes"));
        return false;
    }
    cell.host.borrow_mut().set_buffer_limit(limit)
}

/// The proxy's news that its buffer towards `direction`'s peer went above its high watermark
/// (`above`) or back below its low one. Returns the change to hand the module, if this is one.
pub(crate) fn watermark_change(cell: &StreamCell, direction: Direction, above: bool) -> Option<Work> {
    let slot = &cell.watermarks[direction as usize];
    let count = slot.get();
    let next = if above { count.saturating_add(1) } else { count.saturating_sub(1) };
    slot.set(next);
    let changed = (above && count == 0) || (!above && count == 1);
    changed.then_some(Work::Watermark { direction, above })
}
