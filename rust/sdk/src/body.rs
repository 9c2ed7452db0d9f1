//! Bodies: lists of slices in host memory.

use std::fmt;
use std::io::{self, BufRead, IoSlice, Read};
use std::marker::PhantomData;
use std::ops::Range;

use envoyx_abi::{envoyx_bytes, envoyx_slice};

use crate::host::collect_views;
use crate::{BodyKind, Stream};

/// How many slices a body view holds without allocating. Envoy hands a body hook its chunk as a
/// few slices (one per read from the socket, up to 16 KiB each), so most calls fit; longer lists
/// (large buffered bodies) spill into a `Vec`.
const INLINE_SLICES: usize = 8;

const EMPTY_SLICE: envoyx_slice = envoyx_slice { ptr: std::ptr::null_mut(), len: 0 };

/// A body's slice list: up to [`INLINE_SLICES`] in place, more on the heap. Reading a body's
/// slices once per hook is the common case, so that costs no allocation.
#[derive(Clone)]
pub(crate) struct SliceList {
    inline: [envoyx_slice; INLINE_SLICES],
    /// How many of `inline` are in use; 0 once the list lives in `heap`.
    inline_len: usize,
    /// The whole list, once it outgrew `inline` (empty, and unallocated, until then).
    heap: Vec<envoyx_slice>,
}

impl SliceList {
    pub(crate) fn new() -> Self {
        SliceList { inline: [EMPTY_SLICE; INLINE_SLICES], inline_len: 0, heap: Vec::new() }
    }

    pub(crate) fn as_slice(&self) -> &[envoyx_slice] {
        if self.heap.is_empty() { &self.inline[..self.inline_len] } else { &self.heap }
    }

    pub(crate) fn len(&self) -> usize {
        self.as_slice().len()
    }

    fn push(&mut self, slice: envoyx_slice) {
        if !self.heap.is_empty() {
            self.heap.push(slice);
        } else if self.inline_len < INLINE_SLICES {
            self.inline[self.inline_len] = slice;
            self.inline_len += 1;
        } else {
            self.heap.reserve(INLINE_SLICES * 2);
            self.heap.extend_from_slice(&self.inline);
            self.heap.push(slice);
            self.inline_len = 0;
        }
    }

    /// Appends `other`'s slices after this list's.
    pub(crate) fn extend(&mut self, other: &SliceList) {
        for &slice in other.as_slice() {
            self.push(slice);
        }
    }

    /// Drops empty slices, keeping the order.
    fn retain_non_empty(&mut self) {
        if !self.heap.is_empty() {
            self.heap.retain(|slice| slice.len > 0);
            return;
        }
        let mut kept = 0;
        for index in 0..self.inline_len {
            if self.inline[index].len > 0 {
                self.inline[kept] = self.inline[index];
                kept += 1;
            }
        }
        self.inline_len = kept;
    }
}

impl From<Vec<envoyx_slice>> for SliceList {
    fn from(heap: Vec<envoyx_slice>) -> Self {
        SliceList { heap, ..SliceList::new() }
    }
}

/// The slices of body `kind`, in order (empty slices dropped).
pub(crate) fn slices(stream: &Stream, kind: BodyKind) -> SliceList {
    let fill = |buffer, capacity| {
        // Safety: inside a hook of this stream on its worker thread (a `Stream` exists only
        // there); `buffer` has room for `capacity` slices.
        unsafe { (stream.host().body_slices)(stream.as_raw(), kind as u32, buffer, capacity) }
    };
    let mut list = SliceList::new();
    let total = fill(list.inline.as_mut_ptr(), INLINE_SLICES);
    if total <= INLINE_SLICES {
        // `body_slices` wrote `min(total, capacity)` slices (x/abi.h).
        list.inline_len = total;
    } else {
        // Safety: `body_slices` writes `min(total, capacity)` slices into the buffer (x/abi.h).
        list.heap = unsafe { collect_views(total, fill) };
    }
    // The host never reports empty slices; dropping them anyway keeps `chunk()` non-empty
    // whenever bytes remain.
    list.retain_non_empty();
    list
}

/// Walks a [`SliceList`] by value (what `Chunks` and `ChunksMut` iterate).
struct SliceIter {
    list: SliceList,
    next: usize,
}

impl SliceIter {
    fn new(list: SliceList) -> Self {
        SliceIter { list, next: 0 }
    }
}

impl Iterator for SliceIter {
    type Item = envoyx_slice;

    fn next(&mut self) -> Option<envoyx_slice> {
        let slice = *self.list.as_slice().get(self.next)?;
        self.next += 1;
        Some(slice)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.list.len() - self.next;
        (left, Some(left))
    }
}

/// One body of a stream (the request or response chunk at hand, or what was buffered), borrowed
/// from [`Stream`].
///
/// A body is a list of slices in host memory, like a `bytes::Buf` made of several chunks:
///
/// - [`chunks`](Body::chunks) yields the slices in order; they are never empty and their
///   concatenation is the body, so their lengths add up to [`len`](Body::len).
/// - [`chunks_mut`](Body::chunks_mut) yields them writable: writes go straight into host memory,
///   no copy. A slice cannot grow or shrink; to change the length use
///   [`drain`](Body::drain), [`prepend`](Body::prepend), [`append`](Body::append) or
///   [`replace`](Body::replace).
/// - [`reader`](Body::reader) is a cursor over all slices ([`std::io::Read`], [`BufRead`], and
///   `Buf`-like `remaining`/`chunk`/`advance`) that copies nothing up front.
/// - [`to_vec`](Body::to_vec) copies the body out, when you really want one contiguous buffer.
///
/// Any change to the body invalidates every slice obtained before it. Here that is a borrow
/// rule: the changing methods take `&mut self`, and every slice, iterator and reader borrows the
/// `Body`, so a slice cannot be alive across a change. This does not compile:
///
/// ```compile_fail
/// use envoyx_sdk::Stream;
///
/// fn dangling(stream: &mut Stream) {
///     let mut body = stream.request_body();
///     let first = body.chunks().next();
///     body.append(b"more"); // error: `body` is still borrowed by `first`
///     println!("{first:?}");
/// }
/// ```
///
/// A typical in-place edit:
///
/// ```
/// use envoyx_sdk::{BodyStatus, Filter, Stream};
///
/// struct Redact;
///
/// impl Filter for Redact {
///     fn on_response_body(&mut self, stream: &mut Stream, _end_of_stream: bool) -> BodyStatus {
///         let mut body = stream.response_body();
///         // In place, zero copy: replace every digit with '#'.
///         for chunk in body.chunks_mut() {
///             for byte in chunk.iter_mut().filter(|b| b.is_ascii_digit()) {
///                 *byte = b'#';
///             }
///         }
///         BodyStatus::Continue
///     }
/// }
/// ```
pub struct Body<'a> {
    stream: &'a mut Stream,
    kind: BodyKind,
}

impl<'a> Body<'a> {
    pub(crate) fn new(stream: &'a mut Stream, kind: BodyKind) -> Self {
        Body { stream, kind }
    }

    /// Which body this is.
    ///
    /// ```
    /// use envoyx_sdk::{BodyKind, Stream};
    ///
    /// fn kind(stream: &mut Stream) -> BodyKind {
    ///     stream.buffered_request_body().kind() // BodyKind::RequestBuffered
    /// }
    /// ```
    pub fn kind(&self) -> BodyKind {
        self.kind
    }

    /// Length in bytes; 0 when the body is unavailable (for example the received body outside a
    /// body hook of its direction).
    ///
    /// ```
    /// use envoyx_sdk::Stream;
    ///
    /// fn chunk_len(stream: &mut Stream) -> usize {
    ///     stream.request_body().len()
    /// }
    /// ```
    pub fn len(&self) -> usize {
        // Safety: inside a hook of this stream on its worker thread.
        unsafe { (self.stream.host().body_length)(self.stream.as_raw(), self.kind as u32) }
    }

    /// Whether the body has no bytes.
    ///
    /// ```
    /// use envoyx_sdk::Stream;
    ///
    /// fn nothing_buffered(stream: &mut Stream) -> bool {
    ///     stream.buffered_request_body().is_empty()
    /// }
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The slices of the body, in order, as read-only views into host memory.
    ///
    /// ```
    /// use envoyx_sdk::Stream;
    ///
    /// fn count_newlines(stream: &mut Stream) -> usize {
    ///     let body = stream.request_body();
    ///     body.chunks().map(|chunk| chunk.iter().filter(|&&b| b == b'\n').count()).sum()
    /// }
    /// ```
    pub fn chunks(&self) -> Chunks<'_> {
        Chunks { slices: SliceIter::new(slices(self.stream, self.kind)), _body: PhantomData }
    }

    /// The slices of the body, in order, as writable views into host memory: writes change the
    /// body in place, with no copy.
    ///
    /// ```
    /// use envoyx_sdk::Stream;
    ///
    /// fn rot13(stream: &mut Stream) {
    ///     for chunk in stream.request_body().chunks_mut() {
    ///         for byte in chunk.iter_mut() {
    ///             match *byte {
    ///                 b'a'..=b'z' => *byte = (*byte - b'a' + 13) % 26 + b'a',
    ///                 b'A'..=b'Z' => *byte = (*byte - b'A' + 13) % 26 + b'A',
    ///                 _ => {}
    ///             }
    ///         }
    ///     }
    /// }
    /// ```
    pub fn chunks_mut(&mut self) -> ChunksMut<'_> {
        ChunksMut { slices: SliceIter::new(slices(self.stream, self.kind)), _body: PhantomData }
    }

    /// A reader over the whole body that walks the slices in place (see [`BodyReader`]).
    ///
    /// ```
    /// use std::io::Read;
    ///
    /// use envoyx_sdk::Stream;
    ///
    /// fn first_line(stream: &mut Stream) -> Vec<u8> {
    ///     let body = stream.request_body();
    ///     body.reader().bytes().map_while(Result::ok).take_while(|&b| b != b'\n').collect()
    /// }
    /// ```
    pub fn reader(&self) -> BodyReader<'_> {
        BodyReader::new(slices(self.stream, self.kind))
    }

    /// A copy of the whole body in one contiguous buffer.
    ///
    /// ```
    /// use envoyx_sdk::Stream;
    ///
    /// fn body_text(stream: &mut Stream) -> String {
    ///     String::from_utf8_lossy(&stream.request_body().to_vec()).into_owned()
    /// }
    /// ```
    pub fn to_vec(&self) -> Vec<u8> {
        let mut copy = Vec::with_capacity(self.len());
        for chunk in self.chunks() {
            copy.extend_from_slice(chunk);
        }
        copy
    }

    /// Removes the first `len` bytes (all of them if `len` exceeds the length). False when the
    /// body is unavailable.
    ///
    /// ```
    /// use envoyx_sdk::Stream;
    ///
    /// fn skip_bom(stream: &mut Stream) {
    ///     let mut body = stream.request_body();
    ///     if body.chunks().next().is_some_and(|c| c.starts_with(b"\xEF\xBB\xBF")) {
    ///         body.drain(3);
    ///     }
    /// }
    /// ```
    pub fn drain(&mut self, len: usize) -> bool {
        // Safety: inside a hook of this stream on its worker thread; `&mut self` means no slice
        // of this body is alive.
        unsafe { (self.stream.host().body_drain)(self.stream.as_raw(), self.kind as u32, len) }
    }

    /// Inserts a copy of `data` before the first byte. False when the body is unavailable.
    ///
    /// ```
    /// use envoyx_sdk::Stream;
    ///
    /// fn wrap_start(stream: &mut Stream) {
    ///     stream.response_body().prepend(b"[");
    /// }
    /// ```
    pub fn prepend(&mut self, data: &[u8]) -> bool {
        // Safety: as in `drain`; the host copies `data`.
        unsafe {
            (self.stream.host().body_prepend)(
                self.stream.as_raw(),
                self.kind as u32,
                envoyx_bytes::from_slice(data),
            )
        }
    }

    /// Appends a copy of `data` after the last byte. False when the body is unavailable.
    ///
    /// ```
    /// use envoyx_sdk::Stream;
    ///
    /// fn wrap_end(stream: &mut Stream) {
    ///     stream.response_body().append(b"]");
    /// }
    /// ```
    pub fn append(&mut self, data: &[u8]) -> bool {
        // Safety: as in `drain`; the host copies `data`.
        unsafe {
            (self.stream.host().body_append)(
                self.stream.as_raw(),
                self.kind as u32,
                envoyx_bytes::from_slice(data),
            )
        }
    }

    /// Replaces the bytes in `range` with a copy of `data`, which may be longer or shorter. False,
    /// and nothing changes, when the body is unavailable or `range` does not lie within it.
    ///
    /// ```
    /// use envoyx_sdk::Stream;
    ///
    /// fn fix_greeting(stream: &mut Stream) -> bool {
    ///     let mut body = stream.request_body();
    ///     body.to_vec().starts_with(b"hi") && body.replace(0..2, b"hello")
    /// }
    /// ```
    pub fn replace(&mut self, range: Range<usize>, data: &[u8]) -> bool {
        if range.start > range.end {
            return false;
        }
        // Safety: as in `drain`; the host checks the range and copies `data`.
        unsafe {
            (self.stream.host().body_replace)(
                self.stream.as_raw(),
                self.kind as u32,
                range.start,
                range.end - range.start,
                envoyx_bytes::from_slice(data),
            )
        }
    }
}

impl fmt::Debug for Body<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Body").field("kind", &self.kind).field("len", &self.len()).finish()
    }
}

/// Views one host slice as bytes.
///
/// # Safety
/// `slice` points at `len` readable bytes that stay valid and unchanged for `'a` (or `len` is 0).
unsafe fn slice_as_bytes<'a>(slice: envoyx_slice) -> &'a [u8] {
    if slice.len == 0 {
        &[]
    } else {
        // Safety: guaranteed by the caller.
        unsafe { std::slice::from_raw_parts(slice.ptr, slice.len) }
    }
}

/// The slices of a [`Body`], from [`Body::chunks`]: never empty, in order.
pub struct Chunks<'a> {
    slices: SliceIter,
    _body: PhantomData<&'a [u8]>,
}

impl<'a> Iterator for Chunks<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let slice = self.slices.next()?;
        // Safety: host slices stay valid until the hook returns or the body changes; the iterator
        // borrows the body for 'a, which rules out both.
        Some(unsafe { slice_as_bytes(slice) })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.slices.size_hint()
    }
}

impl ExactSizeIterator for Chunks<'_> {}

impl fmt::Debug for Chunks<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Chunks").field("remaining", &self.slices.size_hint().0).finish()
    }
}

/// The writable slices of a [`Body`], from [`Body::chunks_mut`]: never empty, in order, disjoint.
pub struct ChunksMut<'a> {
    slices: SliceIter,
    _body: PhantomData<&'a mut [u8]>,
}

impl<'a> Iterator for ChunksMut<'a> {
    type Item = &'a mut [u8];

    fn next(&mut self) -> Option<&'a mut [u8]> {
        let slice = self.slices.next()?;
        // Safety: the host's slices are writable, disjoint views into host memory that stay valid
        // until the hook returns or the body changes; the iterator borrows the body mutably for
        // 'a, which rules out both and any other view of these bytes; each slice is yielded once.
        Some(unsafe { std::slice::from_raw_parts_mut(slice.ptr, slice.len) })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.slices.size_hint()
    }
}

impl ExactSizeIterator for ChunksMut<'_> {}

impl fmt::Debug for ChunksMut<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChunksMut").field("remaining", &self.slices.size_hint().0).finish()
    }
}

/// A read cursor over a body's slices, from [`Body::reader`], [`Stream::whole_request_body`] or
/// [`Stream::whole_response_body`]. Nothing is copied up front; bytes are copied only when you
/// [`read`](Read::read) them into your buffer.
///
/// It works like `bytes::Buf`: [`remaining`](BodyReader::remaining) bytes are left,
/// [`chunk`](BodyReader::chunk) is the contiguous part at the cursor (empty only when nothing
/// remains), [`advance`](BodyReader::advance) moves past bytes, and
/// [`chunks_vectored`](BodyReader::chunks_vectored) fills `IoSlice`s. It also implements
/// [`Read`] and [`BufRead`], so parsers such as `serde_json::from_reader` can consume a body in
/// place.
///
/// ```
/// use std::io::BufRead;
///
/// use envoyx_sdk::Stream;
///
/// fn count_lines(stream: &mut Stream) -> usize {
///     stream.whole_request_body().lines().count()
/// }
/// ```
pub struct BodyReader<'a> {
    slices: SliceList,
    /// The slice the cursor is in.
    index: usize,
    /// The cursor's offset inside `slices[index]`.
    offset: usize,
    remaining: usize,
    _body: PhantomData<&'a [u8]>,
}

impl BodyReader<'_> {
    /// A reader over `slices`, which must be valid, non-empty host slices for the reader's
    /// lifetime (the constructors borrow the stream or body for it).
    pub(crate) fn new(slices: SliceList) -> Self {
        let remaining = slices.as_slice().iter().map(|slice| slice.len).sum();
        BodyReader { slices, index: 0, offset: 0, remaining, _body: PhantomData }
    }

    /// How many bytes are left to read.
    ///
    /// ```
    /// use envoyx_sdk::Stream;
    ///
    /// fn whole_len(stream: &mut Stream) -> usize {
    ///     stream.whole_request_body().remaining()
    /// }
    /// ```
    pub fn remaining(&self) -> usize {
        self.remaining
    }

    /// Whether any byte is left to read.
    ///
    /// ```
    /// use envoyx_sdk::Stream;
    ///
    /// fn has_body(stream: &mut Stream) -> bool {
    ///     stream.whole_request_body().has_remaining()
    /// }
    /// ```
    pub fn has_remaining(&self) -> bool {
        self.remaining > 0
    }

    /// The contiguous bytes at the cursor: the rest of the current slice. Empty only when nothing
    /// remains.
    ///
    /// ```
    /// use envoyx_sdk::Stream;
    ///
    /// fn starts_with_brace(stream: &mut Stream) -> bool {
    ///     stream.whole_request_body().chunk().first() == Some(&b'{')
    /// }
    /// ```
    pub fn chunk(&self) -> &[u8] {
        match self.slices.as_slice().get(self.index) {
            // Safety: the slices are valid for the reader's lifetime (see `new`), and `offset` is
            // within the current slice.
            Some(&slice) => unsafe { &slice_as_bytes(slice)[self.offset..] },
            None => &[],
        }
    }

    /// Moves the cursor `count` bytes forward.
    ///
    /// # Panics
    /// When `count` exceeds [`remaining`](BodyReader::remaining), like `bytes::Buf::advance`.
    ///
    /// ```
    /// use envoyx_sdk::Stream;
    ///
    /// fn skip_prefix(stream: &mut Stream) -> Vec<u8> {
    ///     let mut reader = stream.whole_request_body();
    ///     reader.advance(reader.remaining().min(4));
    ///     reader.to_vec()
    /// }
    /// ```
    pub fn advance(&mut self, count: usize) {
        assert!(count <= self.remaining, "cannot advance {count} bytes: only {} remain", self.remaining);
        self.remaining -= count;
        let mut count = count;
        while count > 0 {
            let left_in_slice = self.slices.as_slice()[self.index].len - self.offset;
            if count < left_in_slice {
                self.offset += count;
                return;
            }
            count -= left_in_slice;
            self.index += 1;
            self.offset = 0;
        }
    }

    /// Fills `dst` with views of the remaining bytes, slice by slice from the cursor, and returns
    /// how many entries it wrote (fewer than `dst.len()` when fewer slices remain). Does not move
    /// the cursor. Handy for vectored writes.
    ///
    /// ```
    /// use std::io::IoSlice;
    ///
    /// use envoyx_sdk::Stream;
    ///
    /// fn write_body(stream: &mut Stream, out: &mut impl std::io::Write) -> std::io::Result<usize> {
    ///     let reader = stream.whole_request_body();
    ///     let mut parts = [IoSlice::new(&[]); 16];
    ///     let filled = reader.chunks_vectored(&mut parts);
    ///     out.write_vectored(&parts[..filled])
    /// }
    /// ```
    pub fn chunks_vectored<'s>(&'s self, dst: &mut [IoSlice<'s>]) -> usize {
        let mut written = 0;
        for (index, &slice) in self.slices.as_slice().iter().enumerate().skip(self.index) {
            if written == dst.len() {
                break;
            }
            // Safety: the slices are valid for the reader's lifetime (see `new`).
            let bytes = unsafe { slice_as_bytes(slice) };
            let start = if index == self.index { self.offset } else { 0 };
            dst[written] = IoSlice::new(&bytes[start..]);
            written += 1;
        }
        written
    }

    /// A copy of the remaining bytes in one buffer. Does not move the cursor.
    ///
    /// ```
    /// use envoyx_sdk::Stream;
    ///
    /// fn whole_body(stream: &mut Stream) -> Vec<u8> {
    ///     stream.whole_request_body().to_vec()
    /// }
    /// ```
    pub fn to_vec(&self) -> Vec<u8> {
        let mut copy = Vec::with_capacity(self.remaining);
        for (index, &slice) in self.slices.as_slice().iter().enumerate().skip(self.index) {
            // Safety: the slices are valid for the reader's lifetime (see `new`).
            let bytes = unsafe { slice_as_bytes(slice) };
            let start = if index == self.index { self.offset } else { 0 };
            copy.extend_from_slice(&bytes[start..]);
        }
        copy
    }
}

impl Read for BodyReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let chunk = self.chunk();
        let count = chunk.len().min(buf.len());
        buf[..count].copy_from_slice(&chunk[..count]);
        self.advance(count);
        Ok(count)
    }
}

impl BufRead for BodyReader<'_> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        Ok(self.chunk())
    }

    fn consume(&mut self, amount: usize) {
        self.advance(amount);
    }
}

impl fmt::Debug for BodyReader<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BodyReader")
            .field("slices", &self.slices.len())
            .field("remaining", &self.remaining)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reader_over(parts: &mut [Vec<u8>]) -> BodyReader<'_> {
        let slices: Vec<envoyx_slice> =
            parts.iter_mut().map(|part| envoyx_slice { ptr: part.as_mut_ptr(), len: part.len() }).collect();
        BodyReader::new(slices.into())
    }

    #[test]
    fn reader_walks_across_slices() {
        let mut parts = vec![b"hel".to_vec(), b"lo ".to_vec(), b"world".to_vec()];
        let mut reader = reader_over(&mut parts);
        assert_eq!(reader.remaining(), 11);
        assert_eq!(reader.chunk(), b"hel");
        reader.advance(4);
        assert_eq!(reader.chunk(), b"o ");
        assert_eq!(reader.to_vec(), b"o world");
        let mut vectored = [IoSlice::new(&[]); 4];
        assert_eq!(reader.chunks_vectored(&mut vectored), 2);
        assert_eq!(&*vectored[1], b"world");
        let mut buf = [0u8; 3];
        assert_eq!(reader.read(&mut buf).unwrap(), 2);
        assert_eq!(&buf[..2], b"o ");
        let mut rest = String::new();
        reader.read_to_string(&mut rest).unwrap();
        assert_eq!(rest, "world");
        assert!(!reader.has_remaining());
        assert_eq!(reader.chunk(), b"");
        assert_eq!(reader.read(&mut buf).unwrap(), 0);
    }

    #[test]
    fn advancing_to_a_slice_boundary_lands_on_the_next_slice() {
        let mut parts = vec![b"ab".to_vec(), b"cd".to_vec()];
        let mut reader = reader_over(&mut parts);
        reader.advance(2);
        assert_eq!(reader.chunk(), b"cd");
        reader.advance(2);
        assert_eq!(reader.remaining(), 0);
    }

    #[test]
    #[should_panic(expected = "cannot advance 3 bytes")]
    fn advancing_past_the_end_panics() {
        let mut parts = vec![b"ab".to_vec()];
        reader_over(&mut parts).advance(3);
    }

    fn list_of(lens: &[usize]) -> SliceList {
        let mut list = SliceList::new();
        for &len in lens {
            list.push(envoyx_slice { ptr: std::ptr::null_mut(), len });
        }
        list
    }

    fn lens(list: &SliceList) -> Vec<usize> {
        list.as_slice().iter().map(|slice| slice.len).collect()
    }

    #[test]
    fn slice_list_stays_inline_up_to_its_capacity_then_spills_in_order() {
        let inline: Vec<usize> = (1..=INLINE_SLICES).collect();
        let list = list_of(&inline);
        assert!(list.heap.capacity() == 0, "no allocation for {INLINE_SLICES} slices");
        assert_eq!(lens(&list), inline);
        let many: Vec<usize> = (1..=INLINE_SLICES * 3 + 1).collect();
        let list = list_of(&many);
        assert_eq!(lens(&list), many);
        assert_eq!(list.len(), many.len());
    }

    #[test]
    fn slice_list_extends_across_the_inline_boundary_and_drops_empty_slices() {
        let mut list = list_of(&[1, 0, 2]);
        list.retain_non_empty();
        assert_eq!(lens(&list), [1, 2]);
        list.extend(&list_of(&[3, 4, 5, 6, 7, 8, 9]));
        assert_eq!(lens(&list), [1, 2, 3, 4, 5, 6, 7, 8, 9]);
        let mut spilled = list_of(&[0; INLINE_SLICES + 2]);
        spilled.retain_non_empty();
        assert_eq!(spilled.len(), 0);
        spilled.extend(&list_of(&[5]));
        assert_eq!(lens(&spilled), [5]);
        let mut iter = SliceIter::new(list);
        assert_eq!(iter.size_hint(), (9, Some(9)));
        assert_eq!(iter.next().map(|s| s.len), Some(1));
        assert_eq!(iter.size_hint(), (8, Some(8)));
        assert_eq!(iter.map(|s| s.len).sum::<usize>(), 44);
    }

    #[test]
    fn empty_reader() {
        let reader = reader_over(&mut []);
        assert_eq!(reader.remaining(), 0);
        assert_eq!(reader.chunk(), b"");
        assert!(reader.to_vec().is_empty());
    }
}
