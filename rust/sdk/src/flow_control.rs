//! Flow control (ABI 1.2): the stream's buffer limit. The watermark news is a hook,
//! [`Filter::on_watermark`](crate::Filter::on_watermark).

use crate::Stream;

impl Stream {
    /// The stream's buffer limit in bytes: how much the proxy holds of a direction a filter
    /// stopped (past it Envoy answers 413 for a request) and its high watermark towards each
    /// peer. Envoy keeps one limit for both directions (the listener's
    /// `per_connection_buffer_limit_bytes`, 1 MiB by default). None when the host does not say.
    pub fn buffer_limit(&self) -> Option<u64> {
        // Safety: inside a hook of this stream on its worker thread (`Stream` exists only there).
        let limit = unsafe { (self.host().buffer_limit)(self.as_raw()) };
        (limit > 0).then_some(limit)
    }

    /// Sets the stream's buffer limit, 1 byte to 1 GiB: raise it to buffer a larger body whole,
    /// lower it to pause a fast peer sooner. False when refused (logged) or when the host cannot.
    ///
    /// ```
    /// use envoyx_sdk::{Filter, HeadersStatus, Stream};
    ///
    /// struct WholeBody;
    ///
    /// impl Filter for WholeBody {
    ///     fn on_request_headers(&mut self, stream: &mut Stream, _end_of_stream: bool) -> HeadersStatus {
    ///         // Bodies up to 8 MiB are held whole (the rest get Envoy's 413).
    ///         stream.set_buffer_limit(8 << 20);
    ///         HeadersStatus::StopIteration
    ///     }
    /// }
    /// ```
    pub fn set_buffer_limit(&mut self, limit: u64) -> bool {
        // Safety: inside a hook of this stream on its worker thread.
        unsafe { (self.host().set_buffer_limit)(self.as_raw(), limit) }
    }
}
