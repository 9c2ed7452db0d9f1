//! HTTP callouts (ABI 1.1): a request a module sends to a named cluster of the proxy (its TLS,
//! timeouts, circuit breakers and stats), answered in the module's callout-done hook on the
//! stream's worker thread.
//!
//! The core checks the request, numbers it, and has the host start it
//! ([`crate::HostStream::http_callout`]). The proxy's answer comes back through
//! [`crate::Stream::on_callout_done`]; a callout that could not start (no such cluster) is
//! answered the same way, through the stream's queue, never inside the call that started it. A
//! stream that completed gets no more answers: the host cancels what is in flight when it
//! destroys the stream, and the core drops anything that still arrives.

use crate::stream::callout_data::{CalloutStatus, InFlight};
use crate::stream::cell::{Hook, StreamCell, Work};
use crate::stream::validate::{self, HeaderOp};
use crate::vocab::HeaderMapKind;

/// A callout as the host starts it: checked by the core (header names are lower-case tokens,
/// values valid; `:method`, `:path` and `:authority` present — a module's `host` arrives as
/// `:authority`, so a host sends the headers as they are).
#[derive(Debug)]
pub struct Callout<'a> {
    pub cluster: &'a [u8],
    pub headers: Vec<(std::borrow::Cow<'a, [u8]>, &'a [u8])>,
    pub body: &'a [u8],
    /// Milliseconds; never 0.
    pub timeout_ms: u64,
}

/// What the module asked for, before the checks.
pub(crate) struct CalloutArgs<'a> {
    pub cluster: &'a [u8],
    pub headers: Vec<(&'a [u8], &'a [u8])>,
    pub body: &'a [u8],
    pub timeout_ms: u64,
}

/// Checks a callout the module asked for; the reason when it is malformed.
pub(crate) fn check(args: CalloutArgs<'_>) -> Result<Callout<'_>, String> {
    if args.cluster.is_empty() {
        return Err("the cluster name is empty".to_string());
    }
    if args.timeout_ms == 0 {
        return Err("the timeout is 0 (give one in milliseconds)".to_string());
    }
    validate::bounded(
        "the timeout in milliseconds",
        args.timeout_ms as usize,
        validate::MAX_CALLOUT_TIMEOUT_MS,
    )
    .map_err(|refusal| refusal.to_string())?;
    let mut headers = Vec::with_capacity(args.headers.len());
    for (key, value) in &args.headers {
        // As request headers: tokens (lower-cased) and the request pseudo-headers.
        let checked = validate::header_name(Some(HeaderMapKind::RequestHeaders), HeaderOp::Set, key)
            .and_then(|name| validate::header_value(&name, value).map(|()| name));
        match checked {
            Ok(name) => headers.push((name, *value)),
            Err(refusal) => return Err(format!("header `{}`: {refusal}", crate::log::Shown(key))),
        }
    }
    let has = |name: &[u8]| headers.iter().any(|(k, _)| k.as_ref() == name);
    if !has(b":method") || !has(b":path") || !(has(b":authority") || has(b"host")) {
        return Err("a callout needs :method, :path and :authority (or host) headers".to_string());
    }
    // `host` is the HTTP/1 name of `:authority`, which every proxy needs: the host gets one
    // `:authority`, never a `host` to translate (or to leave out) itself.
    if has(b"host") {
        if has(b":authority") {
            return Err("a callout gives both :authority and host; give one".to_string());
        }
        let authorities = headers.iter().filter(|(k, _)| k.as_ref() == b"host").count();
        if authorities > 1 {
            return Err("a callout gives host twice".to_string());
        }
        for (name, _) in &mut headers {
            if name.as_ref() == b"host" {
                *name = std::borrow::Cow::Borrowed(b":authority");
            }
        }
    }
    Ok(Callout { cluster: args.cluster, headers, body: args.body, timeout_ms: args.timeout_ms })
}

/// Starts a callout for the module: returns its id, or 0 (with the refusal logged) when the
/// request is malformed or cannot be made now.
pub(crate) fn start(cell: &StreamCell, hook: Hook, args: CalloutArgs<'_>) -> u64 {
    let exported = cell.callout_done_export;
    let inbox = crate::CalloutInbox(cell.handle().clone());
    begin(cell, hook, args, false, exported, "envoyx_on_stream_callout_done", |host, id, callout| {
        host.http_callout(id, callout, inbox)
    })
}

/// What [`start`] and a streaming callout's start share: the module's export, the hook and the
/// request are checked, an id handed out and the host asked through `send`. A callout that
/// cannot start is answered later through the stream's queue, never inside this call.
pub(crate) fn begin(
    cell: &StreamCell,
    hook: Hook,
    args: CalloutArgs<'_>,
    streaming: bool,
    exported: bool,
    export: &str,
    send: impl FnOnce(&mut dyn crate::HostStream, u64, &Callout<'_>) -> Result<(), CalloutStatus>,
) -> u64 {
    let what = format!(
        "{} to `{}`",
        if streaming { "callout_stream_start" } else { "http_callout" },
        crate::log::Shown(args.cluster)
    );
    let refuse = |reason: &dyn std::fmt::Display| {
        cell.refuse(format_args!("{what}"), reason);
        0
    };
    if !exported {
        return refuse(&format_args!("the module does not export {export}"));
    }
    if !crate::stream::control::may_act(cell, hook) || cell.ending.get() {
        return refuse(&"callouts start from event, scheduled or callout hooks of a stream that goes on");
    }
    let callout = match check(args) {
        Ok(callout) => callout,
        Err(reason) => return refuse(&reason),
    };
    let id = cell.last_callout.get() + 1;
    cell.last_callout.set(id);
    // In flight before the host starts it: a host may learn of its end while starting it.
    cell.callouts.borrow_mut().push(InFlight { id, streaming, request_ended: false });
    let started = send(&mut **cell.host.borrow_mut(), id, &callout);
    if let Err(status) = started {
        // Answered later, through the queue, like every other completion.
        cell.handle().push(Work::CalloutFailed { id, status });
    }
    id
}

/// Takes `id` off the stream's callouts in flight: what it was, or None when it is not one
/// (never started, already ended).
pub(crate) fn take(cell: &StreamCell, id: u64) -> Option<InFlight> {
    let mut callouts = cell.callouts.borrow_mut();
    let at = callouts.iter().position(|c| c.id == id)?;
    Some(callouts.swap_remove(at))
}

/// Whether `id` is a streaming callout in flight.
pub(crate) fn is_streaming(cell: &StreamCell, id: u64) -> bool {
    crate::stream::callout_data::open_in(&cell.callouts.borrow(), id).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(timeout_ms: u64) -> CalloutArgs<'static> {
        let headers = vec![(&b":method"[..], &b"GET"[..]), (b":path", b"/"), (b":authority", b"auth")];
        CalloutArgs { cluster: b"auth", headers, body: b"", timeout_ms }
    }

    #[test]
    fn host_becomes_authority() {
        let with_host = |extra: &[(&'static [u8], &'static [u8])]| {
            let mut headers = vec![(&b":method"[..], &b"GET"[..]), (b":path", b"/")];
            headers.extend_from_slice(extra);
            CalloutArgs { cluster: b"auth", headers, body: b"", timeout_ms: 1000 }
        };
        let callout = check(with_host(&[(b"host", b"auth.internal")])).unwrap();
        let names: Vec<&[u8]> = callout.headers.iter().map(|(k, _)| k.as_ref()).collect();
        assert_eq!(names, [&b":method"[..], b":path", b":authority"]);
        assert_eq!(callout.headers[2].1, b"auth.internal");
        let both = check(with_host(&[(b"host", b"a"), (b":authority", b"b")])).unwrap_err();
        assert!(both.contains("both :authority and host"), "{both}");
        assert!(check(with_host(&[(b"host", b"a"), (b"host", b"b")])).unwrap_err().contains("host twice"));
    }

    #[test]
    fn the_timeout_is_one_millisecond_to_a_day() {
        assert!(check(args(1)).is_ok());
        assert!(check(args(validate::MAX_CALLOUT_TIMEOUT_MS as u64)).is_ok());
        assert!(check(args(0)).unwrap_err().contains("the timeout is 0"));
        let err = check(args(validate::MAX_CALLOUT_TIMEOUT_MS as u64 + 1)).unwrap_err();
        assert_eq!(err, "the timeout in milliseconds is 86400001, more than the bound of 86400000");
        assert!(check(args(u64::MAX)).is_err(), "no overflow into a short timeout");
    }
}
