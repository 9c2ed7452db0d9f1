//! The module's own response (ABI 1.2): a filter that answers its stream itself, as the last
//! filter of a chain with no upstream cluster would (a terminal filter), streaming the response
//! over time — server-sent events, chunked output, content served from memory — where
//! [`Stream::send_local_reply`] sends a response whole.
//!
//! The phases: send the headers while the request headers are still held (from
//! [`Filter::on_request_headers`](crate::Filter::on_request_headers) or from an async hook after
//! it stopped them); then data, over as many hooks as you like — schedule work
//! ([`Stream::handle`](crate::Stream::handle), `schedule`) and send from
//! [`Filter::on_scheduled`](crate::Filter::on_scheduled); then end with end of stream or
//! trailers. Once the headers went, the request goes nowhere else: its hooks still run (read the
//! body as it arrives), whatever they return. x/abi.h (`send_response_headers`) has every rule.

use crate::Stream;
use crate::callout::header_views;
use envoyx_abi::envoyx_bytes;

impl Stream {
    /// Starts the module's own response: `status` (200-599) and `headers` (lower-case names,
    /// no pseudo-headers, at most 64; a `content-length` is held to), ending it at once when
    /// `end_of_stream`. The host copies everything and sends it when the hook returns. False
    /// when refused (logged): the request already went on, a response already started or
    /// arrived, bad headers.
    ///
    /// ```
    /// use envoyx_sdk::{Filter, HeadersStatus, Stream};
    ///
    /// struct Hello;
    ///
    /// impl Filter for Hello {
    ///     fn on_request_headers(&mut self, stream: &mut Stream, _end_of_stream: bool) -> HeadersStatus {
    ///         stream.send_response_headers(200, &[("content-type", "text/plain")], false);
    ///         stream.send_response_data(b"hello\n", true);
    ///         HeadersStatus::StopIteration
    ///     }
    /// }
    /// ```
    pub fn send_response_headers(
        &mut self,
        status: u16,
        headers: &[(&str, &str)],
        end_of_stream: bool,
    ) -> bool {
        let headers = header_views(headers);
        // Safety: inside a hook of this stream on its worker thread (`Stream` exists only there);
        // the views outlive the call and the host copies them.
        unsafe {
            (self.host().send_response_headers)(
                self.as_raw(),
                u32::from(status),
                headers.as_ptr(),
                headers.len(),
                end_of_stream,
            )
        }
    }

    /// Sends the next `data` of the module's response (at most 1 MiB per call, 16 MiB per
    /// hook; empty is fine, to end it), ending it when `end_of_stream`. False when refused
    /// (logged): no headers sent yet, the response already ended, past its content-length.
    pub fn send_response_data(&mut self, data: &[u8], end_of_stream: bool) -> bool {
        // Safety: inside a hook of this stream on its worker thread; the view outlives the call
        // and the host copies it.
        unsafe {
            (self.host().send_response_data)(self.as_raw(), envoyx_bytes::from_slice(data), end_of_stream)
        }
    }

    /// Ends the module's response with `trailers` (1 to 64, checked as headers). False when
    /// refused (logged), as [`Stream::send_response_data`], or when `trailers` is empty.
    pub fn send_response_trailers(&mut self, trailers: &[(&str, &str)]) -> bool {
        let trailers = header_views(trailers);
        // Safety: inside a hook of this stream on its worker thread; the views outlive the call
        // and the host copies them.
        unsafe { (self.host().send_response_trailers)(self.as_raw(), trailers.as_ptr(), trailers.len()) }
    }
}
