//! A body as Envoy keeps it: a list of separately allocated slices.

use envoyx_abi::envoyx_slice;

/// A multi-slice body. Slices are never empty. Handing out slices copies nothing: they point
/// into the `Vec`s below, so a module that rewrites them in place changes these bytes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SliceBuffer {
    slices: Vec<Vec<u8>>,
}

impl SliceBuffer {
    /// A body made of the given slices (empty ones are dropped).
    pub fn from_slices<S: AsRef<[u8]>>(slices: &[S]) -> Self {
        let mut buffer = Self::default();
        for s in slices {
            buffer.append(s.as_ref());
        }
        buffer
    }

    /// `data` split into slices of `slice_len` bytes (the last may be shorter).
    pub fn chunked(data: &[u8], slice_len: usize) -> Self {
        Self { slices: data.chunks(slice_len.max(1)).map(<[u8]>::to_vec).collect() }
    }

    pub fn len(&self) -> usize {
        self.slices.iter().map(Vec::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.slices.is_empty()
    }

    pub fn slice_count(&self) -> usize {
        self.slices.len()
    }

    /// The bytes, copied into one `Vec` (for assertions).
    pub fn to_vec(&self) -> Vec<u8> {
        self.slices.concat()
    }

    /// Writes up to `out.len()` writable views; returns the number of slices.
    pub fn views(&mut self, out: &mut [envoyx_slice]) -> usize {
        for (view, slice) in out.iter_mut().zip(self.slices.iter_mut()) {
            *view = envoyx_slice { ptr: slice.as_mut_ptr(), len: slice.len() };
        }
        self.slices.len()
    }

    pub fn append(&mut self, data: &[u8]) {
        if !data.is_empty() {
            self.slices.push(data.to_vec());
        }
    }

    pub fn prepend(&mut self, data: &[u8]) {
        if !data.is_empty() {
            self.slices.insert(0, data.to_vec());
        }
    }

    /// Moves every slice of `other` to the end of this buffer (no byte is copied).
    pub fn move_from(&mut self, other: &mut SliceBuffer) {
        self.slices.append(&mut other.slices);
    }

    /// Removes the first `len` bytes (all when `len` is larger).
    pub fn drain(&mut self, mut len: usize) {
        while len > 0 && !self.slices.is_empty() {
            let first = &mut self.slices[0];
            if first.len() <= len {
                len -= first.len();
                self.slices.remove(0);
            } else {
                first.drain(..len);
                len = 0;
            }
        }
    }

    /// Splits so that a slice boundary falls at `at` (≤ len); returns the index of the slice that
    /// starts there.
    fn split_at(&mut self, at: usize) -> usize {
        let mut start = 0;
        for i in 0..self.slices.len() {
            let len = self.slices[i].len();
            if at == start {
                return i;
            }
            if at < start + len {
                let tail = self.slices[i].split_off(at - start);
                self.slices.insert(i + 1, tail);
                return i + 1;
            }
            start += len;
        }
        self.slices.len()
    }

    /// Replaces `len` bytes at `offset` with `data`, touching only the slices at the edges.
    /// Returns false if the range is outside the body.
    pub fn replace(&mut self, offset: usize, len: usize, data: &[u8]) -> bool {
        if offset.checked_add(len).is_none_or(|end| end > self.len()) {
            return false;
        }
        let first = self.split_at(offset);
        let end = self.split_at(offset + len);
        self.slices.drain(first..end);
        if !data.is_empty() {
            self.slices.insert(first, data.to_vec());
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replace_and_drain_across_slices() {
        let mut b = SliceBuffer::from_slices(&["hel", "lo w", "orld"]);
        assert!(b.replace(2, 5, b"XY"));
        assert_eq!(b.to_vec(), b"heXYorld");
        assert!(!b.replace(7, 2, b""));
        assert!(b.replace(8, 0, b"!"));
        assert_eq!(b.to_vec(), b"heXYorld!");
        b.drain(3);
        assert_eq!(b.to_vec(), b"Yorld!");
        b.prepend(b">");
        b.drain(100);
        assert!(b.is_empty());
        let c = SliceBuffer::chunked(&[7u8; 10], 3);
        assert_eq!((c.slice_count(), c.len()), (4, 10));
    }
}
