//! Header maps and trailers.

use std::fmt;
use std::marker::PhantomData;
use std::ptr::NonNull;

use envoyx_abi::{envoyx_bytes, envoyx_header};

use crate::host::collect_views;
use crate::{HeaderMapKind, Stream};

/// How many views the first call asks for before growing the buffer.
const FIRST_CAPACITY: usize = 8;

/// One header map of a stream (request or response headers or trailers), borrowed from
/// [`Stream`].
///
/// Keys are matched case-insensitively by the host. Keys and values are bytes: not necessarily
/// UTF-8 ([`get_str`](HeaderMap::get_str) checks). Reads return zero-copy views into the host's
/// map, which borrow the `HeaderMap`; changes take `&mut self`, so no view survives a change.
///
/// ```
/// use envoyx_sdk::{Filter, HeadersStatus, Stream};
///
/// struct Tidy;
///
/// impl Filter for Tidy {
///     fn on_request_headers(&mut self, stream: &mut Stream, _end_of_stream: bool) -> HeadersStatus {
///         let mut headers = stream.request_headers();
///         if headers.get_str("x-debug") == Some("1") {
///             headers.set("x-trace", "on");
///         }
///         headers.add("via", "envoyx");
///         headers.remove("x-internal-token");
///         HeadersStatus::Continue
///     }
/// }
/// ```
pub struct HeaderMap<'a> {
    stream: &'a mut Stream,
    kind: HeaderMapKind,
}

impl<'a> HeaderMap<'a> {
    pub(crate) fn new(stream: &'a mut Stream, kind: HeaderMapKind) -> Self {
        HeaderMap { stream, kind }
    }

    /// Which map this is.
    ///
    /// ```
    /// use envoyx_sdk::{HeaderMapKind, Stream};
    ///
    /// fn kind(stream: &mut Stream) -> HeaderMapKind {
    ///     stream.request_trailers().kind() // HeaderMapKind::RequestTrailers
    /// }
    /// ```
    pub fn kind(&self) -> HeaderMapKind {
        self.kind
    }

    /// The first value of `key`, or `None` when the key is absent (or the map unavailable).
    ///
    /// ```
    /// use envoyx_sdk::Stream;
    ///
    /// fn path(stream: &mut Stream) -> Vec<u8> {
    ///     stream.request_headers().get(":path").unwrap_or(b"/").to_vec()
    /// }
    /// ```
    pub fn get(&self, key: impl AsRef<[u8]>) -> Option<&[u8]> {
        let mut value = envoyx_bytes::EMPTY;
        // Safety: inside a hook of this stream on its worker thread; `key` outlives the call and
        // `value` has room for the one view asked for.
        let total = unsafe {
            (self.stream.host().header_get)(
                self.stream.as_raw(),
                self.kind as u32,
                envoyx_bytes::from_slice(key.as_ref()),
                &mut value,
                1,
            )
        };
        // Safety: the view stays valid until the hook returns or this map changes; the returned
        // borrow of `self` rules out both.
        (total > 0).then(|| unsafe { value.as_slice() })
    }

    /// The first value of `key` as text; `None` when absent or not UTF-8.
    ///
    /// ```
    /// use envoyx_sdk::Stream;
    ///
    /// fn wants_json(stream: &mut Stream) -> bool {
    ///     stream.request_headers().get_str("accept").is_some_and(|a| a.contains("json"))
    /// }
    /// ```
    pub fn get_str(&self, key: impl AsRef<[u8]>) -> Option<&str> {
        self.get(key).and_then(|value| std::str::from_utf8(value).ok())
    }

    /// Every value of `key`, in order; empty when the key is absent. Zero copy: each item is a
    /// view into the host's map.
    ///
    /// ```
    /// use envoyx_sdk::Stream;
    ///
    /// fn cookies(stream: &mut Stream) -> usize {
    ///     stream.request_headers().get_all("cookie").len()
    /// }
    /// ```
    pub fn get_all(&self, key: impl AsRef<[u8]>) -> Vec<&[u8]> {
        let key = envoyx_bytes::from_slice(key.as_ref());
        let fill = |buffer, capacity| {
            // Safety: inside a hook of this stream on its worker thread; `buffer` has room for
            // `capacity` views.
            unsafe {
                (self.stream.host().header_get)(self.stream.as_raw(), self.kind as u32, key, buffer, capacity)
            }
        };
        // Safety: `header_get` writes `min(total, capacity)` views into the buffer (x/abi.h).
        let views = unsafe { collect_views(FIRST_CAPACITY, fill) };
        // Safety: the views stay valid until the hook returns or this map changes; the returned
        // borrow of `self` rules out both.
        views.into_iter().map(|view| unsafe { view.as_slice() }).collect()
    }

    /// Whether `key` has at least one value.
    ///
    /// ```
    /// use envoyx_sdk::Stream;
    ///
    /// fn is_authenticated(stream: &mut Stream) -> bool {
    ///     stream.request_headers().contains_key("authorization")
    /// }
    /// ```
    pub fn contains_key(&self, key: impl AsRef<[u8]>) -> bool {
        // Safety: inside a hook of this stream on its worker thread; with a capacity of 0 the
        // host writes nothing and only counts.
        let total = unsafe {
            (self.stream.host().header_get)(
                self.stream.as_raw(),
                self.kind as u32,
                envoyx_bytes::from_slice(key.as_ref()),
                NonNull::dangling().as_ptr(),
                0,
            )
        };
        total > 0
    }

    /// The number of entries; a key with two values counts twice.
    ///
    /// ```
    /// use envoyx_sdk::Stream;
    ///
    /// fn header_count(stream: &mut Stream) -> usize {
    ///     stream.request_headers().len()
    /// }
    /// ```
    pub fn len(&self) -> usize {
        // Safety: inside a hook of this stream on its worker thread; with a capacity of 0 the
        // host writes nothing and only counts.
        unsafe {
            (self.stream.host().header_all)(
                self.stream.as_raw(),
                self.kind as u32,
                NonNull::dangling().as_ptr(),
                0,
            )
        }
    }

    /// Whether the map has no entries (or is unavailable).
    ///
    /// ```
    /// use envoyx_sdk::Stream;
    ///
    /// fn has_trailers(stream: &mut Stream) -> bool {
    ///     !stream.request_trailers().is_empty()
    /// }
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every `(key, value)` entry in order, as zero-copy views; a key with two values appears
    /// twice.
    ///
    /// ```
    /// use envoyx_sdk::Stream;
    ///
    /// fn dump(stream: &mut Stream) {
    ///     for (key, value) in stream.request_headers().iter() {
    ///         envoyx_sdk::debug!("{}: {}", String::from_utf8_lossy(key), String::from_utf8_lossy(value));
    ///     }
    /// }
    /// ```
    pub fn iter(&self) -> HeaderIter<'_> {
        let fill = |buffer, capacity| {
            // Safety: inside a hook of this stream on its worker thread; `buffer` has room for
            // `capacity` entries.
            unsafe {
                (self.stream.host().header_all)(self.stream.as_raw(), self.kind as u32, buffer, capacity)
            }
        };
        // Safety: `header_all` writes `min(total, capacity)` entries into the buffer (x/abi.h).
        let entries = unsafe { collect_views(FIRST_CAPACITY * 4, fill) };
        HeaderIter { entries: entries.into_iter(), _map: PhantomData }
    }

    /// Every `(key, value)` entry in order, copied out of the host.
    ///
    /// ```
    /// use envoyx_sdk::Stream;
    ///
    /// fn snapshot(stream: &mut Stream) -> Vec<(Vec<u8>, Vec<u8>)> {
    ///     stream.response_headers().to_vec()
    /// }
    /// ```
    pub fn to_vec(&self) -> Vec<(Vec<u8>, Vec<u8>)> {
        self.iter().map(|(key, value)| (key.to_vec(), value.to_vec())).collect()
    }

    /// Replaces every value of `key` with `value` (adding the key if absent). False when the map
    /// is unavailable.
    ///
    /// ```
    /// use envoyx_sdk::Stream;
    ///
    /// fn no_cache(stream: &mut Stream) {
    ///     stream.response_headers().set("cache-control", "no-store");
    /// }
    /// ```
    pub fn set(&mut self, key: impl AsRef<[u8]>, value: impl AsRef<[u8]>) -> bool {
        // Safety: inside a hook of this stream on its worker thread; `&mut self` means no view
        // into this map is alive; the host copies key and value.
        unsafe {
            (self.stream.host().header_set)(
                self.stream.as_raw(),
                self.kind as u32,
                envoyx_bytes::from_slice(key.as_ref()),
                envoyx_bytes::from_slice(value.as_ref()),
            )
        }
    }

    /// Adds `value` as one more value of `key`, keeping the existing ones. False when the map is
    /// unavailable.
    ///
    /// ```
    /// use envoyx_sdk::Stream;
    ///
    /// fn add_cookie(stream: &mut Stream) {
    ///     stream.response_headers().add("set-cookie", "seen=1");
    /// }
    /// ```
    pub fn add(&mut self, key: impl AsRef<[u8]>, value: impl AsRef<[u8]>) -> bool {
        // Safety: as in `set`.
        unsafe {
            (self.stream.host().header_add)(
                self.stream.as_raw(),
                self.kind as u32,
                envoyx_bytes::from_slice(key.as_ref()),
                envoyx_bytes::from_slice(value.as_ref()),
            )
        }
    }

    /// Removes every value of `key`; returns how many were removed.
    ///
    /// ```
    /// use envoyx_sdk::Stream;
    ///
    /// fn strip_server(stream: &mut Stream) -> bool {
    ///     stream.response_headers().remove("server") > 0
    /// }
    /// ```
    pub fn remove(&mut self, key: impl AsRef<[u8]>) -> usize {
        // Safety: as in `set`.
        unsafe {
            (self.stream.host().header_remove)(
                self.stream.as_raw(),
                self.kind as u32,
                envoyx_bytes::from_slice(key.as_ref()),
            )
        }
    }
}

impl fmt::Debug for HeaderMap<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(
                self.iter()
                    .map(|(key, value)| (String::from_utf8_lossy(key), String::from_utf8_lossy(value))),
            )
            .finish()
    }
}

impl<'m> IntoIterator for &'m HeaderMap<'_> {
    type Item = (&'m [u8], &'m [u8]);
    type IntoIter = HeaderIter<'m>;

    fn into_iter(self) -> HeaderIter<'m> {
        self.iter()
    }
}

/// The entries of a [`HeaderMap`], from [`HeaderMap::iter`]: `(key, value)` views into the
/// host's map, valid as long as the map is borrowed.
pub struct HeaderIter<'a> {
    entries: std::vec::IntoIter<envoyx_header>,
    _map: PhantomData<&'a [u8]>,
}

impl<'a> Iterator for HeaderIter<'a> {
    type Item = (&'a [u8], &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        let entry = self.entries.next()?;
        // Safety: the views stay valid until the hook returns or the map changes; this iterator
        // borrows the map for 'a, which rules out both.
        Some(unsafe { (entry.key.as_slice(), entry.value.as_slice()) })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.entries.size_hint()
    }
}

impl ExactSizeIterator for HeaderIter<'_> {}

impl fmt::Debug for HeaderIter<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HeaderIter").field("remaining", &self.entries.len()).finish()
    }
}

impl Stream {
    /// Gives the request trailers when it had none (ABI 1.2) and returns them to fill: call it
    /// in [`on_request_body`](crate::Filter::on_request_body) with the chunk that ends the
    /// request (`end_of_stream` true); the request then ends with these trailers. None, with a
    /// warning in the proxy's log, anywhere else and on a proxy that cannot add trailers (stock
    /// Envoy: envoyproxy/envoy#42559; EnvoyX's custom Envoy build and the test hosts can).
    ///
    /// ```
    /// use envoyx_sdk::{BodyStatus, Filter, Stream};
    ///
    /// struct Checksum;
    ///
    /// impl Filter for Checksum {
    ///     fn on_request_body(&mut self, stream: &mut Stream, end_of_stream: bool) -> BodyStatus {
    ///         if end_of_stream {
    ///             let length = stream.request_body().len();
    ///             if let Some(mut trailers) = stream.add_request_trailers() {
    ///                 trailers.set("x-body-length", length.to_string());
    ///             }
    ///         }
    ///         BodyStatus::Continue
    ///     }
    /// }
    /// ```
    pub fn add_request_trailers(&mut self) -> Option<HeaderMap<'_>> {
        self.add_trailers(HeaderMapKind::RequestTrailers)
    }

    /// Gives the response trailers when it had none (ABI 1.2), as
    /// [`add_request_trailers`](Stream::add_request_trailers) does for the request: in
    /// [`on_response_body`](crate::Filter::on_response_body) with the chunk that ends the response
    /// (a gRPC-style status after a body the upstream sent without one).
    pub fn add_response_trailers(&mut self) -> Option<HeaderMap<'_>> {
        self.add_trailers(HeaderMapKind::ResponseTrailers)
    }

    fn add_trailers(&mut self, kind: HeaderMapKind) -> Option<HeaderMap<'_>> {
        // Safety: inside a hook of this stream on its worker thread; the core checks the map.
        let added = unsafe { (self.host().trailers_add)(self.as_raw(), kind as u32) };
        added.then(|| HeaderMap::new(self, kind))
    }
}
