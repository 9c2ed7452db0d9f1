//! Tracing beyond a tag on the active span (ABI 1.2 `span_*`): child spans that live across
//! hooks, logs, sampling, baggage and the trace id. The rules live here once; each host keeps
//! its proxy's span objects under the numbers the core hands out.
//!
//! - Spans by number: 0 is the stream's active span; a child gets the next number from 1 up,
//!   unique within the stream, until it is finished. At most [`MAX_OPEN_SPANS`] open at once.
//! - Every call works inside any hook but complete; a number that is not open is refused.
//! - Texts are checked as the other printed texts (`validate::name`, `validate::text`).
//! - Spans the module left open are finished by the core when the stream completes (after the
//!   module's complete hook), so no span of the proxy leaks.

use crate::log::Shown;
use crate::stream::cell::{Hook, StreamCell};
use crate::stream::validate::{self, MAX_VALUE};
use envoyx_abi::envoyx_bytes;

/// How many child spans one stream may have open at once.
pub const MAX_OPEN_SPANS: usize = 64;

fn refused(cell: &StreamCell, what: std::fmt::Arguments<'_>, reason: &dyn std::fmt::Display) -> bool {
    cell.refuse(what, reason);
    false
}

/// Why the stream's spans cannot be used now, if they cannot.
fn closed(cell: &StreamCell) -> Option<&'static str> {
    (cell.hook.get() == Some(Hook::Complete) || cell.completed.get()).then_some("the stream is complete")
}

/// Whether `span` names the active span (0) or a child span still open.
fn known(cell: &StreamCell, span: u64) -> bool {
    span == 0 || cell.open_spans.borrow().contains(&span)
}

/// Why `span` cannot be used now, if it cannot.
fn unusable(cell: &StreamCell, span: u64) -> Option<String> {
    if let Some(reason) = closed(cell) {
        return Some(reason.to_string());
    }
    (!known(cell, span)).then(|| format!("span {span} is not open (finished, or never started)"))
}

/// `span_start_child`: the new span's number, 0 when refused or without a tracer.
pub(crate) fn span_start_child(cell: &StreamCell, parent: u64, operation: &[u8]) -> u64 {
    let what = format_args!("span_start_child of `{}`", Shown(operation));
    let checked = match unusable(cell, parent) {
        Some(reason) => Err(reason),
        None if cell.open_spans.borrow().len() >= MAX_OPEN_SPANS => {
            Err(format!("{MAX_OPEN_SPANS} child spans are open already (finish some)"))
        }
        None => validate::name("operation", operation).map_err(|r| r.to_string()),
    };
    let operation = match checked {
        Ok(operation) => operation,
        Err(reason) => {
            refused(cell, what, &reason);
            return 0;
        }
    };
    let id = cell.last_span.get() + 1;
    if !cell.host.borrow_mut().span_start_child(parent, id, operation) {
        return 0;
    }
    cell.last_span.set(id);
    cell.open_spans.borrow_mut().push(id);
    id
}

/// `span_tag`.
pub(crate) fn span_tag(cell: &StreamCell, span: u64, key: &[u8], value: &[u8]) -> bool {
    let what = format_args!("span_tag of `{}` on span {span}", Shown(key));
    let checked = match unusable(cell, span) {
        Some(reason) => Err(reason),
        None => validate::name("key", key)
            .and_then(|key| Ok((key, validate::text("value", value, MAX_VALUE)?)))
            .map_err(|r| r.to_string()),
    };
    match checked {
        Ok((key, value)) => cell.host.borrow_mut().span_tag(span, key, value),
        Err(reason) => refused(cell, what, &reason),
    }
}

/// `span_log`.
pub(crate) fn span_log(cell: &StreamCell, span: u64, event: &[u8]) -> bool {
    let what = format_args!("span_log on span {span}");
    let checked = match unusable(cell, span) {
        Some(reason) => Err(reason),
        None => validate::text("event", event, MAX_VALUE).map_err(|r| r.to_string()),
    };
    match checked {
        Ok(event) => cell.host.borrow_mut().span_log(span, event),
        Err(reason) => refused(cell, what, &reason),
    }
}

/// `span_set_sampled`.
pub(crate) fn span_set_sampled(cell: &StreamCell, span: u64, sampled: bool) -> bool {
    match unusable(cell, span) {
        Some(reason) => refused(cell, format_args!("span_set_sampled on span {span}"), &reason),
        None => cell.host.borrow_mut().span_set_sampled(span, sampled),
    }
}

/// `span_finish`: a child span only.
pub(crate) fn span_finish(cell: &StreamCell, span: u64) -> bool {
    let what = format_args!("span_finish of span {span}");
    if span == 0 {
        return refused(cell, what, &"the active span is the proxy's to finish");
    }
    if let Some(reason) = unusable(cell, span) {
        return refused(cell, what, &reason);
    }
    cell.open_spans.borrow_mut().retain(|open| *open != span);
    cell.host.borrow_mut().span_finish(span)
}

/// `span_baggage_set`.
pub(crate) fn span_baggage_set(cell: &StreamCell, key: &[u8], value: &[u8]) -> bool {
    let what = format_args!("span_baggage_set of `{}`", Shown(key));
    let checked = match closed(cell) {
        Some(reason) => Err(reason.to_string()),
        None => validate::name("key", key)
            .and_then(|key| Ok((key, validate::text("value", value, MAX_VALUE)?)))
            .map_err(|r| r.to_string()),
    };
    match checked {
        Ok((key, value)) => cell.host.borrow_mut().span_baggage_set(key, value),
        Err(reason) => refused(cell, what, &reason),
    }
}

/// `span_baggage_get`: a view of the host's copy.
pub(crate) fn span_baggage_get(cell: &StreamCell, key: &[u8]) -> Option<envoyx_bytes> {
    let what = format_args!("span_baggage_get of `{}`", Shown(key));
    let checked = match closed(cell) {
        Some(reason) => Err(reason.to_string()),
        None => validate::name("key", key).map_err(|r| r.to_string()),
    };
    match checked {
        Ok(key) => cell.host.borrow_mut().span_baggage_get(key),
        Err(reason) => {
            refused(cell, what, &reason);
            None
        }
    }
}

/// `span_trace_id`: a view of the host's copy.
pub(crate) fn span_trace_id(cell: &StreamCell) -> Option<envoyx_bytes> {
    if let Some(reason) = closed(cell) {
        refused(cell, format_args!("span_trace_id"), &reason);
        return None;
    }
    cell.host.borrow_mut().span_trace_id()
}

/// Finishes every child span the module left open (the stream completed).
pub(crate) fn finish_open_spans(cell: &StreamCell) {
    let open = std::mem::take(&mut *cell.open_spans.borrow_mut());
    for span in open {
        cell.host.borrow_mut().span_finish(span);
    }
}
