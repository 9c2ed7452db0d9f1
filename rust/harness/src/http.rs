//! A small blocking HTTP/1.1 client and message reader: enough to drive Envoy in tests, the CLI
//! and the benchmarks without a client library, and to read exactly what went over the wire.

use std::io::{self, BufRead, BufReader, Write};
use std::net::TcpStream;
use std::time::Duration;

/// A request or a response.
#[derive(Debug, Default, Clone)]
pub struct Message {
    /// `GET /x HTTP/1.1` or `HTTP/1.1 200 OK`.
    pub start: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Trailers of a chunked message.
    pub trailers: Vec<(String, String)>,
}

impl Message {
    /// The first value of a header (name compared case-insensitively).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// Every value of a header, in order.
    pub fn header_all(&self, name: &str) -> Vec<&str> {
        self.headers.iter().filter(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str()).collect()
    }

    /// The status code of a response.
    pub fn status(&self) -> u16 {
        self.start.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0)
    }
}

fn invalid(message: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message.into())
}

/// Reads one message; `None` on a clean end of stream before it starts. A response without a
/// length is read to the end of the stream.
pub fn read_message(reader: &mut impl BufRead, is_response: bool) -> io::Result<Option<Message>> {
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Ok(None);
    }
    let mut message = Message { start: line.trim_end().to_string(), ..Message::default() };
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Err(invalid("stream ended inside the headers"));
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (name, value) =
            line.split_once(':').ok_or_else(|| invalid(format!("bad header line {line:?}")))?;
        message.headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
    }
    let chunked = message.header("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked"));
    if chunked {
        loop {
            line.clear();
            reader.read_line(&mut line)?;
            let size = usize::from_str_radix(line.trim().split(';').next().unwrap_or(""), 16)
                .map_err(|_| invalid(format!("bad chunk size {line:?}")))?;
            let start = message.body.len();
            message.body.resize(start + size, 0);
            if size == 0 {
                // Trailers, up to an empty line.
                loop {
                    line.clear();
                    reader.read_line(&mut line)?;
                    let Some((name, value)) = line.trim_end().split_once(':') else { break };
                    message.trailers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
                }
                break;
            }
            reader.read_exact(&mut message.body[start..])?;
            line.clear();
            reader.read_line(&mut line)?;
        }
    } else if let Some(length) = message.header("content-length") {
        let length: usize = length.parse().map_err(|_| invalid("bad content-length"))?;
        message.body.resize(length, 0);
        reader.read_exact(&mut message.body)?;
    } else if is_response {
        reader.read_to_end(&mut message.body)?;
    }
    Ok(Some(message))
}

/// Sends one request on a new connection (`connection: close`) and reads the response.
pub fn request(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> io::Result<Message> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut head = format!("{method} {path} HTTP/1.1\r\nhost: test\r\nconnection: close\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if !body.is_empty() || method == "POST" {
        head.push_str(&format!("content-length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    stream.write_all(body)?;
    read_message(&mut BufReader::new(stream), true)?
        .ok_or_else(|| io::Error::new(io::ErrorKind::UnexpectedEof, "connection closed without a response"))
}

/// Sends a chunked POST with `chunks` and `trailers` on a new connection and reads the response.
pub fn post_chunked(
    port: u16,
    path: &str,
    chunks: &[&[u8]],
    trailers: &[(&str, &str)],
) -> io::Result<Message> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut out = format!(
        "POST {path} HTTP/1.1\r\nhost: test\r\nconnection: close\r\ntransfer-encoding: chunked\r\n\r\n"
    )
    .into_bytes();
    for chunk in chunks {
        out.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        out.extend_from_slice(chunk);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"0\r\n");
    for (name, value) in trailers {
        out.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
    }
    out.extend_from_slice(b"\r\n");
    stream.write_all(&out)?;
    read_message(&mut BufReader::new(stream), true)?
        .ok_or_else(|| io::Error::new(io::ErrorKind::UnexpectedEof, "connection closed without a response"))
}

/// Sends `request` (a whole HTTP/1.1 request, keep-alive) over one connection to 127.0.0.1:`port`
/// again and again until `stop` is set: each response, or the error that ended the connection
/// (the last item then). For load that must not lose a single request (hot reload under load).
pub fn keep_alive_until(
    port: u16,
    request: &[u8],
    stop: &std::sync::atomic::AtomicBool,
) -> Vec<io::Result<Message>> {
    let connect = || -> io::Result<(TcpStream, BufReader<TcpStream>)> {
        let stream = TcpStream::connect(("127.0.0.1", port))?;
        stream.set_read_timeout(Some(Duration::from_secs(30)))?;
        let reader = BufReader::new(stream.try_clone()?);
        Ok((stream, reader))
    };
    let (mut stream, mut reader) = match connect() {
        Ok(connected) => connected,
        Err(e) => return vec![Err(e)],
    };
    let mut replies = Vec::new();
    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
        let reply = stream.write_all(request).and_then(|()| read_message(&mut reader, true)).and_then(|m| {
            m.ok_or_else(|| {
                io::Error::new(io::ErrorKind::UnexpectedEof, "connection closed without a response")
            })
        });
        let failed = reply.is_err();
        replies.push(reply);
        if failed {
            break;
        }
    }
    replies
}
