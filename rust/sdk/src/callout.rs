//! HTTP callouts (ABI 1.1): a request to one of the proxy's clusters, answered in
//! [`Filter::on_callout_done`](crate::Filter::on_callout_done) with a typed result.

use std::fmt;

use envoyx_abi::{envoyx_bytes, envoyx_header};

/// Sends a callout through `call` (the host's stream or configuration callout), with the ABI's
/// views of the arguments (valid during the call) and the timeout in whole milliseconds (at
/// least 1); `None` when the host refused it (id 0).
pub(crate) fn send(
    cluster: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    timeout: std::time::Duration,
    call: impl FnOnce(envoyx_bytes, *const envoyx_header, usize, envoyx_bytes, u64) -> u64,
) -> Option<CalloutId> {
    let headers = header_views(headers);
    let timeout_ms = u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX).max(1);
    let id = call(
        envoyx_bytes::from_slice(cluster.as_bytes()),
        headers.as_ptr(),
        headers.len(),
        envoyx_bytes::from_slice(body),
        timeout_ms,
    );
    (id != 0).then_some(id)
}

/// A callout's answer as the SDK hands it to a hook.
///
/// # Safety
/// `len` entries at each pointer (or NULL with 0), valid for `'a`.
pub(crate) unsafe fn result<'a>(
    status: u32,
    headers: *const envoyx_header,
    headers_len: usize,
    body: *const envoyx_bytes,
    body_len: usize,
) -> Result<CalloutResponse<'a>, CalloutError> {
    if status != envoyx_abi::ENVOYX_CALLOUT_RESPONSE {
        return Err(CalloutError::from_abi(status));
    }
    // Safety: per the caller.
    unsafe { Ok(CalloutResponse::new(raw_list(headers, headers_len), raw_list(body, body_len))) }
}

/// `len` entries at `ptr` (empty for NULL).
///
/// # Safety
/// `ptr` is NULL or points at `len` readable entries for `'a`.
unsafe fn raw_list<'a, T>(ptr: *const T, len: usize) -> &'a [T] {
    if ptr.is_null() || len == 0 {
        &[]
    } else {
        // Safety: per the caller.
        unsafe { std::slice::from_raw_parts(ptr, len) }
    }
}

/// A callout's id, as [`Stream::http_callout`](crate::Stream::http_callout) returned it: 1, 2, ...
/// per stream.
pub type CalloutId = u64;

/// Headers (or trailers) of a callout's response: zero-copy views into the proxy's memory,
/// valid during the hook that received them only (copy what you keep).
#[derive(Clone, Copy)]
pub struct CalloutHeaders<'a> {
    headers: &'a [envoyx_header],
}

impl<'a> CalloutHeaders<'a> {
    /// # Safety
    /// Every view must be readable for `'a`.
    pub(crate) unsafe fn new(headers: &'a [envoyx_header]) -> Self {
        Self { headers }
    }

    /// The response's status (its `:status` header), if it has a valid one.
    pub fn status(&self) -> Option<u16> {
        std::str::from_utf8(self.get(":status")?).ok()?.parse().ok()
    }

    /// Every header, in order (a key with two values appears twice).
    pub fn iter(&self) -> impl Iterator<Item = (&'a [u8], &'a [u8])> + 'a {
        // Safety: the views are readable for 'a (`new`).
        self.headers.iter().map(|h| unsafe { (h.key.as_slice(), h.value.as_slice()) })
    }

    /// The first value of `name` (case-insensitive).
    pub fn get(&self, name: &str) -> Option<&'a [u8]> {
        self.iter().find(|(key, _)| key.eq_ignore_ascii_case(name.as_bytes())).map(|(_, value)| value)
    }

    /// The first value of `name` as text, if it is UTF-8.
    pub fn get_str(&self, name: &str) -> Option<&'a str> {
        std::str::from_utf8(self.get(name)?).ok()
    }
}

impl fmt::Debug for CalloutHeaders<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.iter().map(|(k, v)| (String::from_utf8_lossy(k), String::from_utf8_lossy(v))))
            .finish()
    }
}

/// Body bytes of a callout's response as the proxy holds them: a list of slices, no copy;
/// valid during the hook that received them only.
#[derive(Clone, Copy)]
pub struct CalloutBody<'a> {
    chunks: &'a [envoyx_bytes],
}

impl<'a> CalloutBody<'a> {
    /// # Safety
    /// Every view must be readable for `'a`.
    pub(crate) unsafe fn new(chunks: &'a [envoyx_bytes]) -> Self {
        Self { chunks }
    }

    /// The slices, in order.
    pub fn chunks(&self) -> impl Iterator<Item = &'a [u8]> + 'a {
        // Safety: the views are readable for 'a (`new`).
        self.chunks.iter().map(|chunk| unsafe { chunk.as_slice() })
    }

    /// The bytes, copied into one buffer.
    pub fn to_vec(&self) -> Vec<u8> {
        self.chunks().flatten().copied().collect()
    }

    /// The number of bytes.
    pub fn len(&self) -> usize {
        self.chunks.iter().map(|c| c.len).sum()
    }

    /// Whether there are no bytes.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl fmt::Debug for CalloutBody<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CalloutBody").field("len", &self.len()).finish()
    }
}

/// The response to a callout: zero-copy views into the proxy's memory, valid during
/// [`Filter::on_callout_done`](crate::Filter::on_callout_done) only (copy what you keep).
pub struct CalloutResponse<'a> {
    headers: CalloutHeaders<'a>,
    body: CalloutBody<'a>,
}

impl<'a> CalloutResponse<'a> {
    /// # Safety
    /// Every view must be readable for `'a`.
    pub(crate) unsafe fn new(headers: &'a [envoyx_header], body: &'a [envoyx_bytes]) -> Self {
        // Safety: per the caller.
        unsafe { Self { headers: CalloutHeaders::new(headers), body: CalloutBody::new(body) } }
    }

    /// The response's status (its `:status` header), if it has a valid one.
    pub fn status(&self) -> Option<u16> {
        self.headers.status()
    }

    /// Every header, in order (a key with two values appears twice).
    pub fn headers(&self) -> impl Iterator<Item = (&'a [u8], &'a [u8])> + 'a {
        self.headers.iter()
    }

    /// The first value of `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&'a [u8]> {
        self.headers.get(name)
    }

    /// The first value of `name` as text, if it is UTF-8.
    pub fn header_str(&self, name: &str) -> Option<&'a str> {
        self.headers.get_str(name)
    }

    /// The body as the proxy holds it: a list of slices, no copy.
    pub fn body_chunks(&self) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.body.chunks()
    }

    /// The whole body, copied into one buffer.
    pub fn body(&self) -> Vec<u8> {
        self.body.to_vec()
    }
}

impl fmt::Debug for CalloutResponse<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CalloutResponse")
            .field("status", &self.status())
            .field("body_len", &self.body.len())
            .finish()
    }
}

/// News of a streaming callout (started with
/// [`Stream::start_callout_stream`](crate::Stream::start_callout_stream)), as
/// [`Filter::on_callout_event`](crate::Filter::on_callout_event) receives it, in this order:
/// `Headers` once, `Data` zero or more times, `Trailers` at most once, then `Complete` or
/// `Failed`, after which nothing more comes for that id. A callout that fails before a response
/// arrives gets only `Failed`. Views are valid during the hook only.
#[derive(Debug)]
pub enum CalloutEvent<'a> {
    /// The response headers arrived.
    Headers {
        /// `:status` among them (a timeout arrives as the proxy's own 504).
        headers: CalloutHeaders<'a>,
        /// No body or trailers follow.
        end_of_stream: bool,
    },
    /// Response body bytes arrived.
    Data {
        /// Possibly empty when only the end is news.
        body: CalloutBody<'a>,
        /// No more body, and no trailers, follow.
        end_of_stream: bool,
    },
    /// The response trailers: the response is over.
    Trailers(CalloutHeaders<'a>),
    /// The request went whole and the response came whole. The last event.
    Complete,
    /// The exchange ended early. The last event.
    Failed(CalloutError),
}

impl<'a> CalloutEvent<'a> {
    /// The SDK's event for the ABI's arguments of `envoyx_on_stream_callout_event`.
    ///
    /// # Safety
    /// `len` entries at each pointer (or NULL with 0), valid for `'a`.
    pub(crate) unsafe fn from_abi(
        event: u32,
        status: u32,
        headers: *const envoyx_header,
        headers_len: usize,
        data: *const envoyx_bytes,
        data_len: usize,
        end_of_stream: bool,
    ) -> Self {
        use envoyx_abi::*;
        // Safety: per the caller.
        let (headers, body) = unsafe {
            (CalloutHeaders::new(raw_list(headers, headers_len)), CalloutBody::new(raw_list(data, data_len)))
        };
        match event {
            ENVOYX_CALLOUT_EVENT_HEADERS => Self::Headers { headers, end_of_stream },
            ENVOYX_CALLOUT_EVENT_DATA => Self::Data { body, end_of_stream },
            ENVOYX_CALLOUT_EVENT_TRAILERS => Self::Trailers(headers),
            ENVOYX_CALLOUT_EVENT_COMPLETE => Self::Complete,
            // FAILED, and any event kind a newer host might add: the callout is over for this SDK.
            _ => Self::Failed(CalloutError::from_abi(status)),
        }
    }
}

/// The ABI's views of `headers`, valid while `headers` is.
pub(crate) fn header_views(headers: &[(&str, &str)]) -> Vec<envoyx_header> {
    headers
        .iter()
        .map(|(k, v)| envoyx_header {
            key: envoyx_bytes::from_slice(k.as_bytes()),
            value: envoyx_bytes::from_slice(v.as_bytes()),
        })
        .collect()
}

/// Why a callout has no response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CalloutError {
    /// The proxy has no cluster of that name.
    NoCluster,
    /// The request could not be sent (for example, no healthy host in the cluster).
    Unavailable,
    /// The connection failed or was reset before a whole response arrived.
    Reset,
    /// The response was larger than the proxy buffers for a callout.
    TooLarge,
    /// A status this SDK does not know (from a newer host).
    Other(u32),
}

impl CalloutError {
    pub(crate) fn from_abi(status: u32) -> Self {
        match status {
            envoyx_abi::ENVOYX_CALLOUT_NO_CLUSTER => Self::NoCluster,
            envoyx_abi::ENVOYX_CALLOUT_UNAVAILABLE => Self::Unavailable,
            envoyx_abi::ENVOYX_CALLOUT_RESET => Self::Reset,
            envoyx_abi::ENVOYX_CALLOUT_TOO_LARGE => Self::TooLarge,
            other => Self::Other(other),
        }
    }
}

impl fmt::Display for CalloutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoCluster => f.write_str("no_cluster"),
            Self::Unavailable => f.write_str("unavailable"),
            Self::Reset => f.write_str("reset"),
            Self::TooLarge => f.write_str("too_large"),
            Self::Other(status) => write!(f, "status_{status}"),
        }
    }
}

impl std::error::Error for CalloutError {}
