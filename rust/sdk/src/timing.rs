//! Stream timing (ABI 1.2): the moments of a stream the proxy records, as nanoseconds.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::Stream;

/// A moment of a stream. [`Timing::StartUnix`] is the request's start as wall-clock time; every
/// other one is an offset from that start on a monotonic clock (zero or negative are valid: a
/// connection began before its request). Mirrors `envoyx_timing`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum Timing {
    /// The request's start, nanoseconds since the Unix epoch.
    StartUnix = envoyx_abi::ENVOYX_TIMING_START_UNIX,
    /// The client's connection accepted.
    DownstreamConnectionBegin = envoyx_abi::ENVOYX_TIMING_DOWNSTREAM_CONNECTION_BEGIN,
    /// The client's TLS ClientHello.
    DownstreamHandshakeStart = envoyx_abi::ENVOYX_TIMING_DOWNSTREAM_HANDSHAKE_START,
    /// The client's TLS handshake done.
    DownstreamHandshakeComplete = envoyx_abi::ENVOYX_TIMING_DOWNSTREAM_HANDSHAKE_COMPLETE,
    /// The request headers received.
    LastDownstreamHeaderRx = envoyx_abi::ENVOYX_TIMING_LAST_DOWNSTREAM_HEADER_RX,
    /// The whole request received.
    LastDownstreamRx = envoyx_abi::ENVOYX_TIMING_LAST_DOWNSTREAM_RX,
    /// The upstream connection started.
    UpstreamConnectStart = envoyx_abi::ENVOYX_TIMING_UPSTREAM_CONNECT_START,
    /// The upstream connection made.
    UpstreamConnectComplete = envoyx_abi::ENVOYX_TIMING_UPSTREAM_CONNECT_COMPLETE,
    /// The upstream TLS handshake done.
    UpstreamHandshakeComplete = envoyx_abi::ENVOYX_TIMING_UPSTREAM_HANDSHAKE_COMPLETE,
    /// The request's first byte sent upstream.
    FirstUpstreamTx = envoyx_abi::ENVOYX_TIMING_FIRST_UPSTREAM_TX,
    /// The request's last byte sent upstream.
    LastUpstreamTx = envoyx_abi::ENVOYX_TIMING_LAST_UPSTREAM_TX,
    /// The response's first byte received from upstream.
    FirstUpstreamRx = envoyx_abi::ENVOYX_TIMING_FIRST_UPSTREAM_RX,
    /// The response body's first byte received from upstream.
    FirstUpstreamRxBody = envoyx_abi::ENVOYX_TIMING_FIRST_UPSTREAM_RX_BODY,
    /// The response's last byte received from upstream.
    LastUpstreamRx = envoyx_abi::ENVOYX_TIMING_LAST_UPSTREAM_RX,
    /// The response's first byte sent to the client.
    FirstDownstreamTx = envoyx_abi::ENVOYX_TIMING_FIRST_DOWNSTREAM_TX,
    /// The response's last byte sent to the client.
    LastDownstreamTx = envoyx_abi::ENVOYX_TIMING_LAST_DOWNSTREAM_TX,
    /// QUIC: the client's last ACK.
    LastDownstreamAck = envoyx_abi::ENVOYX_TIMING_LAST_DOWNSTREAM_ACK,
    /// The stream done.
    RequestComplete = envoyx_abi::ENVOYX_TIMING_REQUEST_COMPLETE,
    /// The client's connection closed during the request.
    DownstreamConnectionEnd = envoyx_abi::ENVOYX_TIMING_DOWNSTREAM_CONNECTION_END,
}

impl Stream {
    /// The moment `timing` in nanoseconds (see [`Timing`]), if the proxy knows it by now; None
    /// too where the proxy serves no timing to modules (stock Envoy before 1.40; logged once).
    ///
    /// ```
    /// use envoyx_sdk::{Filter, HeadersStatus, Stream, Timing};
    ///
    /// struct UpstreamLatency;
    ///
    /// impl Filter for UpstreamLatency {
    ///     fn on_response_headers(&mut self, stream: &mut Stream, _end_of_stream: bool) -> HeadersStatus {
    ///         let sent = stream.timing(Timing::FirstUpstreamTx);
    ///         let answered = stream.timing(Timing::FirstUpstreamRx);
    ///         if let (Some(sent), Some(answered)) = (sent, answered) {
    ///             stream.response_headers().set("x-upstream-ms", ((answered - sent) / 1_000_000).to_string());
    ///         }
    ///         HeadersStatus::Continue
    ///     }
    /// }
    /// ```
    pub fn timing(&mut self, timing: Timing) -> Option<i64> {
        let mut ns = 0;
        // Safety: inside a hook of this stream on its worker thread; `ns` is ours to write.
        unsafe { (self.host().timing_get)(self.as_raw(), timing as u32, &mut ns) }.then_some(ns)
    }

    /// The addresses (`10.0.0.7:8080`) of the upstream hosts the request was sent to so far, in
    /// attempt order: retries and hedged requests add one each. Empty before the request went
    /// upstream, and where the proxy serves no such list (stock Envoy before 1.40; logged once).
    pub fn upstream_hosts_attempted(&mut self) -> Vec<String> {
        let (raw, host) = (self.as_raw(), self.host());
        let list = |out: &mut [envoyx_abi::envoyx_bytes]| {
            // Safety: inside a hook of this stream on its worker thread; `out` has room for
            // `out.len()` views.
            unsafe { (host.upstream_hosts_attempted)(raw, out.as_mut_ptr(), out.len()) }
        };
        let mut views = [envoyx_abi::envoyx_bytes::EMPTY; 4];
        let total = list(&mut views);
        let mut more;
        let views: &[envoyx_abi::envoyx_bytes] = if total > views.len() {
            more = vec![envoyx_abi::envoyx_bytes::EMPTY; total];
            let again = list(&mut more);
            &more[..again.min(total)]
        } else {
            &views[..total]
        };
        // Safety: the proxy's views, valid until the hook returns; copied at once.
        views.iter().map(|v| String::from_utf8_lossy(unsafe { v.as_slice() }).into_owned()).collect()
    }

    /// When the request started, as wall-clock time ([`Timing::StartUnix`]).
    pub fn start_time(&mut self) -> Option<SystemTime> {
        let ns = self.timing(Timing::StartUnix)?;
        Some(UNIX_EPOCH + Duration::from_nanos(u64::try_from(ns).ok()?))
    }
}
