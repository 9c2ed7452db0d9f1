//! The request bodies: a fixed text repeated, so the upstream can check every byte it receives
//! against what it must be (unchanged, or ASCII upper-cased); and the response body of the
//! respond job, which the client checks byte for byte.

/// 61 bytes (a prime, so the text never lines up with Envoy's slice boundaries): lower- and
/// upper-case letters, digits, punctuation, and one UTF-8 character whose bytes must not change.
const TEXT: &[u8] = "the quick brown fox jumps over the lazy dog, ÄBC 0123456789!".as_bytes();

/// The body byte at `index`.
pub fn byte(index: usize) -> u8 {
    TEXT[index % TEXT.len()]
}

/// The first `len` bytes of the body.
pub fn body(len: usize) -> Vec<u8> {
    (0..len).map(byte).collect()
}

/// What the upstream must receive when the filter upper-cases the body.
pub fn upper(len: usize) -> Vec<u8> {
    let mut body = body(len);
    body.make_ascii_uppercase();
    body
}

/// How many data frames the respond job's filters send, and the bytes in each: 16 × 4 KiB.
pub const RESPONSE_CHUNKS: usize = 16;
pub const RESPONSE_CHUNK_BYTES: usize = 4 << 10;

/// The respond job's response body: chunk `i` (from 0) is [`RESPONSE_CHUNK_BYTES`] of the
/// letter `'a' + i`, so a chunk lost, repeated or out of order shows. Every variant makes the same
/// bytes: `rust/bench/module`, `go/bench`, `rust/bench/c`, the Lua and Wasm filters, the ext_proc
/// server and the no-filter route's `direct_response`.
pub fn response_body() -> Vec<u8> {
    (0..RESPONSE_CHUNKS).flat_map(|i| [b'a' + i as u8; RESPONSE_CHUNK_BYTES]).collect()
}

/// The first index where `got` differs from `want`, or where one ends first.
pub fn first_difference(got: &[u8], want: &[u8]) -> Option<usize> {
    if got.len() != want.len() {
        let common = got.len().min(want.len());
        return Some(got.iter().zip(want).position(|(a, b)| a != b).unwrap_or(common));
    }
    if got == want {
        return None;
    }
    got.iter().zip(want).position(|(a, b)| a != b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_61_bytes_with_a_multibyte_character() {
        assert_eq!(TEXT.len(), 61);
        assert!(TEXT.iter().any(|b| !b.is_ascii()));
    }

    #[test]
    fn upper_changes_only_ascii_letters() {
        let (body, upper) = (body(200), upper(200));
        for (b, u) in body.iter().zip(&upper) {
            if b.is_ascii_lowercase() {
                assert_eq!(*u, b - 32);
            } else {
                assert_eq!(u, b);
            }
        }
        assert!(upper.starts_with(b"THE QUICK BROWN FOX"));
        assert_eq!(&body[61..64], b"the");
    }

    #[test]
    fn the_response_body_is_16_chunks_of_one_letter_each() {
        let body = response_body();
        assert_eq!(body.len(), 64 << 10);
        for (i, chunk) in body.chunks(RESPONSE_CHUNK_BYTES).enumerate() {
            assert!(chunk.iter().all(|&b| b == b'a' + i as u8), "chunk {i}");
        }
        assert_eq!((body[0], body[4095], body[4096], body[65535]), (b'a', b'a', b'b', b'p'));
    }

    #[test]
    fn finds_the_first_difference() {
        assert_eq!(first_difference(b"abc", b"abc"), None);
        assert_eq!(first_difference(b"abd", b"abc"), Some(2));
        assert_eq!(first_difference(b"ab", b"abc"), Some(2));
        assert_eq!(first_difference(b"xbc", b"ab"), Some(0));
    }
}
