//! Closing the client's connection (ABI 1.2 `send_goaway_and_close`).

use crate::Stream;

impl Stream {
    /// Ends the stream as [`Stream::reset`] does and closes the client's connection: HTTP/2 and
    /// HTTP/3 send GOAWAY first, so the client opens a new connection (to this proxy or another)
    /// for what it sends next; `graceful` lets the connection's other streams finish. For a node
    /// leaving, or a connection that misbehaves. Return a stop status from the hook. False when
    /// refused (logged), where a reset would be.
    ///
    /// ```
    /// use envoyx_sdk::{Filter, HeadersStatus, Stream};
    ///
    /// struct Drain {
    ///     leaving: bool,
    /// }
    ///
    /// impl Filter for Drain {
    ///     fn on_request_headers(&mut self, stream: &mut Stream, _end_of_stream: bool) -> HeadersStatus {
    ///         if self.leaving {
    ///             stream.send_goaway_and_close(true);
    ///             return HeadersStatus::StopIteration;
    ///         }
    ///         HeadersStatus::Continue
    ///     }
    /// }
    /// ```
    pub fn send_goaway_and_close(&mut self, graceful: bool) -> bool {
        // Safety: inside a hook of this stream on its worker thread.
        unsafe { (self.host().send_goaway_and_close)(self.as_raw(), graceful) }
    }
}
