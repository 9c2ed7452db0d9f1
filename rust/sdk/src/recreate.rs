//! Starting a request over (ABI 1.2 `recreate_stream`): what an internal redirect does.

use crate::Stream;
use crate::callout::header_views;

impl Stream {
    /// Starts the request over, once this hook returns: the proxy ends this stream (this filter
    /// gets its complete hook and is dropped, as every filter is) and runs the request again from
    /// the start of the filter chain with its headers as they are then — change `:path` or
    /// `:authority` first to send it elsewhere. Every filter, this one included, sees a new stream
    /// (a new [`Filter`](crate::Filter)). `response_headers` are the response that made the filter
    /// start over (a 3xx's headers, `:status` allowed), kept for the access log; may be empty.
    /// Only a request whose headers ended it (no body to replay) may start over, only while no
    /// response started; false when refused (logged). Return a stop status from the hook.
    ///
    /// ```
    /// use envoyx_sdk::{Filter, HeadersStatus, Stream};
    ///
    /// /// Moves `/old/...` to `/new/...` inside the proxy: the client never sees a redirect.
    /// struct Moved;
    ///
    /// impl Filter for Moved {
    ///     fn on_request_headers(&mut self, stream: &mut Stream, end_of_stream: bool) -> HeadersStatus {
    ///         let path = stream.request_headers().get_str(":path").unwrap_or_default().to_string();
    ///         match path.strip_prefix("/old/") {
    ///             Some(rest) if end_of_stream => {
    ///                 stream.request_headers().set(":path", format!("/new/{rest}"));
    ///                 stream.recreate_stream(&[]);
    ///                 HeadersStatus::StopIteration
    ///             }
    ///             _ => HeadersStatus::Continue,
    ///         }
    ///     }
    /// }
    /// ```
    pub fn recreate_stream(&mut self, response_headers: &[(&str, &str)]) -> bool {
        let headers = header_views(response_headers);
        // Safety: inside a hook of this stream on its worker thread (`Stream` exists only there);
        // the views outlive the call and the host copies them.
        unsafe { (self.host().recreate_stream)(self.as_raw(), headers.as_ptr(), headers.len()) }
    }
}
