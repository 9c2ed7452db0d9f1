//! The `timing*` module behaviours (ABI 1.2 stream timing), in the response headers hook:
//!
//! - `timing` (the conformance case): `start=plausible` when the request's start is within a
//!   minute of the module's clock, `unknown=false` for an id the ABI does not define, and
//!   `hosts=N` for the N upstream hosts attempted (each an address with a port).
//! - `timing-envoy` (rust/stock-host/tests/timing.rs, real Envoy): that, and whether the request
//!   headers' arrival, the request's first byte upstream and the response's first byte back are
//!   known and in order (`order=ok`).

use std::time::{Duration, SystemTime};

use envoyx_sdk::{Stream, Timing};

/// The results of a `timing*` behaviour; None for other cases.
pub(crate) fn response_headers(case: &str, stream: &mut Stream) -> Option<Vec<String>> {
    if case != "timing" && case != "timing-envoy" {
        return None;
    }
    let plausible = stream.start_time().is_some_and(|start| {
        let apart = match SystemTime::now().duration_since(start) {
            Ok(apart) => apart,
            Err(ahead) => ahead.duration(),
        };
        apart < Duration::from_secs(60)
    });
    let mut results = vec![format!("start={}", if plausible { "plausible" } else { "implausible" })];
    // The raw table, for an id no version defines (the SDK's enum cannot name one).
    let unknown = envoyx_sdk::host_api().is_some_and(|api| {
        let mut ns = 0;
        // Safety: inside a hook of this stream on its worker thread; `ns` is ours to write.
        unsafe { (api.timing_get)(stream.as_raw(), 99, &mut ns) }
    });
    results.push(format!("unknown={unknown}"));
    let hosts = stream.upstream_hosts_attempted();
    let addresses =
        hosts.iter().all(|h| h.rsplit_once(':').is_some_and(|(_, port)| port.parse::<u16>().is_ok()));
    results.push(if addresses { format!("hosts={}", hosts.len()) } else { format!("hosts={hosts:?}") });
    if case == "timing-envoy" {
        let moments = [Timing::LastDownstreamHeaderRx, Timing::FirstUpstreamTx, Timing::FirstUpstreamRx]
            .map(|t| stream.timing(t));
        let order = match moments {
            [Some(headers), Some(sent), Some(answered)] if headers <= sent && sent <= answered => "ok",
            [Some(_), Some(_), Some(_)] => "disordered",
            _ => "unknown",
        };
        results.push(format!("order={order}"));
    }
    Some(results)
}
