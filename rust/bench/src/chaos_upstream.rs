//! The chaos run's upstream: HTTP/1.1, one thread per connection, misbehaving as each request's
//! path asks (`/chaos/<fault>`), so the client knows what Envoy was up against. Every answer
//! closes its connection, so a fault never lands on a later request through Envoy's pool.

use crate::wire::{read_body, read_head};
use std::io::{self, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// What the upstream does with a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// 200 with a 1,000-byte body.
    None,
    /// 200 with a 4 MiB body, written in 64 KiB pieces.
    Large,
    /// A TCP reset before any response byte.
    Reset,
    /// Response headers promising 100,000 bytes, 1,000 of them, then a TCP reset.
    ResetMidBody,
    /// No answer until Envoy gives up on the connection (its route timeout).
    Stall,
    /// Response headers and 1,000 of 100,000 promised bytes, then nothing.
    StallMidBody,
    /// The write side closed without a response.
    HalfClose,
    /// A status line that is not HTTP.
    Malformed,
    /// A 100 KiB response header (Envoy allows 60 KiB).
    OversizedHeaders,
}

impl Fault {
    pub const ALL: [Fault; 9] = [
        Fault::None,
        Fault::Large,
        Fault::Reset,
        Fault::ResetMidBody,
        Fault::Stall,
        Fault::StallMidBody,
        Fault::HalfClose,
        Fault::Malformed,
        Fault::OversizedHeaders,
    ];

    /// Its name in the request path.
    pub fn name(self) -> &'static str {
        match self {
            Fault::None => "none",
            Fault::Large => "large",
            Fault::Reset => "reset",
            Fault::ResetMidBody => "reset-mid-body",
            Fault::Stall => "stall",
            Fault::StallMidBody => "stall-mid-body",
            Fault::HalfClose => "half-close",
            Fault::Malformed => "malformed",
            Fault::OversizedHeaders => "oversized-headers",
        }
    }

    fn from_path(path: &str) -> Fault {
        let name = path.strip_prefix("/chaos/").unwrap_or_default();
        Fault::ALL.into_iter().find(|f| f.name() == name).unwrap_or(Fault::None)
    }

    /// The body length of a 200 answer that ends normally.
    pub fn body_len(self) -> Option<usize> {
        match self {
            Fault::None => Some(1000),
            Fault::Large => Some(4 << 20),
            _ => None,
        }
    }

    /// Whether the response starts (headers reach the client) before the fault cuts it.
    pub fn cuts_after_headers(self) -> bool {
        matches!(self, Fault::ResetMidBody | Fault::StallMidBody)
    }
}

/// A running chaos upstream; stops accepting when dropped.
pub struct ChaosUpstream {
    pub port: u16,
    stop: Arc<AtomicBool>,
}

impl ChaosUpstream {
    /// Starts on a port the system picks. A stalled connection waits at most `stall` for Envoy
    /// to close it.
    pub fn start(stall: Duration) -> io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let port = listener.local_addr()?.port();
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if stopped.load(Ordering::Acquire) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                std::thread::spawn(move || {
                    let _ = serve(conn, stall);
                });
            }
        });
        Ok(Self { port, stop })
    }
}

impl Drop for ChaosUpstream {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        let _ = TcpStream::connect(("127.0.0.1", self.port)); // wakes the accept loop
    }
}

/// Makes the close of `conn`'s socket (when its last handle drops) a TCP reset rather than an
/// orderly close.
fn reset_on_close(conn: &TcpStream) {
    let linger = libc::linger { l_onoff: 1, l_linger: 0 };
    // Safety: a valid socket descriptor and a `linger` of the size passed, alive for the call.
    unsafe {
        libc::setsockopt(
            conn.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            &linger as *const libc::linger as *const libc::c_void,
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        );
    }
}

/// Waits until the peer closes `conn` (or `limit` passes), discarding what it sends.
fn wait_for_close(conn: &mut TcpStream, limit: Duration) {
    let _ = conn.set_read_timeout(Some(limit));
    let mut sink = [0u8; 4096];
    while matches!(conn.read(&mut sink), Ok(n) if n > 0) {}
}

const CUT_HEAD: &[u8] = b"HTTP/1.1 200 OK\r\ncontent-length: 100000\r\nconnection: close\r\n\r\n";

fn serve(conn: TcpStream, stall: Duration) -> io::Result<()> {
    conn.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut writer = conn.try_clone()?;
    let mut reader = BufReader::new(conn);
    let (mut line, mut body) = (Vec::new(), Vec::new());
    let Some(head) = read_head(&mut reader, &mut line, false)? else { return Ok(()) };
    read_body(&mut reader, &head, &mut line, &mut body)?;
    let piece = vec![b'x'; 64 << 10];
    match Fault::from_path(&head.target) {
        fault @ (Fault::None | Fault::Large) => {
            let len = fault.body_len().unwrap_or_default();
            write!(writer, "HTTP/1.1 200 OK\r\ncontent-length: {len}\r\nconnection: close\r\n\r\n")?;
            let mut left = len;
            while left > 0 {
                let n = left.min(piece.len());
                writer.write_all(&piece[..n])?;
                left -= n;
            }
        }
        Fault::Reset => {
            reset_on_close(&writer);
            return Ok(()); // both handles drop here: the reset
        }
        Fault::ResetMidBody => {
            writer.write_all(CUT_HEAD)?;
            writer.write_all(&piece[..1000])?;
            writer.flush()?;
            std::thread::sleep(Duration::from_millis(5));
            reset_on_close(&writer);
            return Ok(()); // both handles drop here: the reset
        }
        Fault::Stall => wait_for_close(&mut writer, stall),
        Fault::StallMidBody => {
            writer.write_all(CUT_HEAD)?;
            writer.write_all(&piece[..1000])?;
            wait_for_close(&mut writer, stall);
        }
        Fault::HalfClose => {
            writer.shutdown(Shutdown::Write)?;
            wait_for_close(&mut writer, stall);
        }
        Fault::Malformed => writer.write_all(b"HTTP/1.1 2OO NOT A STATUS\r\n\x01\x02 garbage\r\n\r\n")?,
        Fault::OversizedHeaders => {
            let big = "y".repeat(100 << 10);
            write!(
                writer,
                "HTTP/1.1 200 OK\r\nx-big: {big}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
            )?;
        }
    }
    let _ = writer.shutdown(Shutdown::Both);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    /// Sends a request for `fault` straight to the upstream and returns what came back and how
    /// the connection ended.
    fn ask(port: u16, fault: Fault) -> (Vec<u8>, io::Result<usize>) {
        let mut conn = TcpStream::connect(("127.0.0.1", port)).unwrap();
        conn.set_read_timeout(Some(Duration::from_millis(600))).unwrap();
        write!(conn, "POST /chaos/{} HTTP/1.1\r\nhost: t\r\ncontent-length: 3\r\n\r\nabc", fault.name())
            .unwrap();
        let mut got = Vec::new();
        let mut buf = [0u8; 65536];
        loop {
            match conn.read(&mut buf) {
                Ok(0) => return (got, Ok(0)),
                Ok(n) => got.extend_from_slice(&buf[..n]),
                Err(e) => return (got, Err(e)),
            }
        }
    }

    #[test]
    fn each_fault_misbehaves_as_named() {
        let upstream = ChaosUpstream::start(Duration::from_secs(2)).unwrap();
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        let (got, end) = ask(upstream.port, Fault::None);
        assert!(text(&got).starts_with("HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n") && end.is_ok());
        assert!(got.ends_with(&[b'x'; 1000]));
        let (got, end) = ask(upstream.port, Fault::Large);
        assert_eq!(got.len() - text(&got).find("\r\n\r\n").unwrap() - 4, 4 << 20);
        assert!(end.is_ok());
        let (got, end) = ask(upstream.port, Fault::Reset);
        assert!(got.is_empty());
        assert_eq!(end.unwrap_err().kind(), io::ErrorKind::ConnectionReset);
        let (got, end) = ask(upstream.port, Fault::ResetMidBody);
        assert!(got.starts_with(CUT_HEAD) && got.len() < CUT_HEAD.len() + 100_000);
        assert_eq!(end.unwrap_err().kind(), io::ErrorKind::ConnectionReset);
        for fault in [Fault::Stall, Fault::StallMidBody] {
            // Nothing more within the client's 600 ms: the read times out, the connection open.
            let (got, end) = ask(upstream.port, fault);
            assert_eq!(got.is_empty(), fault == Fault::Stall, "{fault:?}");
            assert!(matches!(end.unwrap_err().kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut));
        }
        let (got, end) = ask(upstream.port, Fault::HalfClose);
        assert!(got.is_empty() && matches!(end, Ok(0)), "an orderly end without a byte");
        let (got, _) = ask(upstream.port, Fault::Malformed);
        assert!(text(&got).starts_with("HTTP/1.1 2OO "));
        let (got, _) = ask(upstream.port, Fault::OversizedHeaders);
        assert!(got.len() > 100 << 10 && text(&got).contains("x-big: yyy"));
    }
}
