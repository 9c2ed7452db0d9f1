//! The little HTTP/1.1 the load client and the checking upstream need: a message head read into a
//! reused buffer, and a body read by `content-length` or chunked.

use std::io::{self, BufRead};

/// What the benchmark reads from a message head.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Head {
    /// The status code of a response; 0 for a request.
    pub status: u16,
    /// The target of a request (its path); empty for a response.
    pub target: String,
    pub content_length: Option<usize>,
    pub chunked: bool,
    pub close: bool,
    /// `x-bench-check` of a request: what the upstream must verify.
    pub check: Option<String>,
    /// `x-bench-added` of a response: the header the header job adds.
    pub added: bool,
    /// `x-bench-error` of a response: why the upstream refused the body.
    pub error: Option<String>,
}

fn invalid(message: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message.into())
}

/// Reads one message head; `None` on a clean end of stream before it starts.
pub fn read_head(
    reader: &mut impl BufRead,
    line: &mut Vec<u8>,
    is_response: bool,
) -> io::Result<Option<Head>> {
    line.clear();
    if reader.read_until(b'\n', line)? == 0 {
        return Ok(None);
    }
    let mut head = Head::default();
    if is_response {
        let start = std::str::from_utf8(line).map_err(|_| invalid("status line is not UTF-8"))?;
        head.status = start
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| invalid(format!("bad status line {start:?}")))?;
    } else {
        let start = String::from_utf8_lossy(line);
        head.target = start.split(' ').nth(1).unwrap_or_default().to_string();
    }
    loop {
        line.clear();
        if reader.read_until(b'\n', line)? == 0 {
            return Err(invalid("stream ended inside the headers"));
        }
        let text = line.trim_ascii();
        if text.is_empty() {
            return Ok(Some(head));
        }
        let Some(colon) = text.iter().position(|&b| b == b':') else {
            return Err(invalid(format!("bad header line {:?}", String::from_utf8_lossy(text))));
        };
        let (name, value) = (&text[..colon], text[colon + 1..].trim_ascii());
        let value_str = || String::from_utf8_lossy(value).into_owned();
        if name.eq_ignore_ascii_case(b"content-length") {
            let length = std::str::from_utf8(value).ok().and_then(|v| v.parse().ok());
            head.content_length = Some(length.ok_or_else(|| invalid("bad content-length"))?);
        } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
            head.chunked = value.eq_ignore_ascii_case(b"chunked");
        } else if name.eq_ignore_ascii_case(b"connection") {
            head.close = value.eq_ignore_ascii_case(b"close");
        } else if name.eq_ignore_ascii_case(b"x-bench-check") {
            head.check = Some(value_str());
        } else if name.eq_ignore_ascii_case(b"x-bench-added") {
            head.added = true;
        } else if name.eq_ignore_ascii_case(b"x-bench-error") {
            head.error = Some(value_str());
        }
    }
}

/// Reads the body that follows `head` into `body` (cleared first). A response with neither a
/// length nor chunking has no body here (the benchmark's servers always send one of the two).
pub fn read_body(
    reader: &mut impl BufRead,
    head: &Head,
    line: &mut Vec<u8>,
    body: &mut Vec<u8>,
) -> io::Result<()> {
    read_body_framed(reader, head, line, body).map(|_| ())
}

/// [`read_body`], telling how the body was framed: `Some(n)` for a chunked body of `n` chunks
/// that carried data (the last, empty one not counted), `None` for one sized by
/// `content-length` (or absent). Over HTTP/1.1, Envoy writes each data frame a filter sends as
/// a chunk of its own.
pub fn read_body_framed(
    reader: &mut impl BufRead,
    head: &Head,
    line: &mut Vec<u8>,
    body: &mut Vec<u8>,
) -> io::Result<Option<usize>> {
    body.clear();
    if head.chunked {
        let mut chunks = 0;
        loop {
            line.clear();
            reader.read_until(b'\n', line)?;
            let size_text = String::from_utf8_lossy(line.trim_ascii());
            let size = usize::from_str_radix(size_text.split(';').next().unwrap_or(""), 16)
                .map_err(|_| invalid(format!("bad chunk size {size_text:?}")))?;
            if size == 0 {
                // Trailers, up to an empty line.
                loop {
                    line.clear();
                    if reader.read_until(b'\n', line)? == 0 || line.trim_ascii().is_empty() {
                        return Ok(Some(chunks));
                    }
                }
            }
            chunks += 1;
            let start = body.len();
            body.resize(start + size, 0);
            reader.read_exact(&mut body[start..])?;
            line.clear();
            reader.read_until(b'\n', line)?;
        }
    } else if let Some(length) = head.content_length {
        body.resize(length, 0);
        reader.read_exact(body)?;
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::BufReader;

    #[test]
    fn reads_a_response_head_and_body() {
        let wire = b"HTTP/1.1 500 Internal\r\ncontent-length: 3\r\nX-Bench-Error: byte 7\r\nx-bench-added: 1\r\n\r\nabcNEXT";
        let mut reader = BufReader::new(&wire[..]);
        let (mut line, mut body) = (Vec::new(), Vec::new());
        let head = read_head(&mut reader, &mut line, true).unwrap().unwrap();
        assert_eq!(head.status, 500);
        assert_eq!(head.content_length, Some(3));
        assert_eq!(head.error.as_deref(), Some("byte 7"));
        assert!(head.added && !head.close);
        assert_eq!(read_body_framed(&mut reader, &head, &mut line, &mut body).unwrap(), None);
        assert_eq!(body, b"abc");
    }

    #[test]
    fn reads_a_chunked_request_with_trailers() {
        let wire = b"POST / HTTP/1.1\r\ntransfer-encoding: chunked\r\nx-bench-check: upper\r\nconnection: close\r\n\r\n\
                     3\r\nabc\r\n2;ext=1\r\nde\r\n0\r\nx-t: 1\r\n\r\n";
        let mut reader = BufReader::new(&wire[..]);
        let (mut line, mut body) = (Vec::new(), Vec::new());
        let head = read_head(&mut reader, &mut line, false).unwrap().unwrap();
        assert!(head.chunked && head.close);
        assert_eq!(head.check.as_deref(), Some("upper"));
        assert_eq!(read_body_framed(&mut reader, &head, &mut line, &mut body).unwrap(), Some(2));
        assert_eq!(body, b"abcde");
        assert_eq!(read_head(&mut reader, &mut line, false).unwrap(), None);
    }

    #[test]
    fn refuses_broken_heads() {
        let mut line = Vec::new();
        assert!(read_head(&mut BufReader::new(&b"HTTP/1.1 abc\r\n\r\n"[..]), &mut line, true).is_err());
        assert!(
            read_head(&mut BufReader::new(&b"GET / HTTP/1.1\r\nno-colon\r\n\r\n"[..]), &mut line, false)
                .is_err()
        );
        assert!(
            read_head(&mut BufReader::new(&b"GET / HTTP/1.1\r\nhost: x\r\n"[..]), &mut line, false).is_err()
        );
    }
}
