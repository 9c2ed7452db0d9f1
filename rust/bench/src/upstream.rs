//! The upstream every variant sends to: HTTP/1.1 with keep-alive, one thread per connection. It
//! checks every byte of each request body against what the job must deliver (`x-bench-check:
//! same` or `upper`) and answers 200 `ok`, or 500 with `x-bench-error` naming the first wrong
//! byte, which the load client counts as an error.

use crate::pattern;
use crate::wire::{read_body, read_head};
use std::io::{self, BufReader, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

/// A running checking upstream; stopped when dropped.
pub struct CheckingUpstream {
    pub port: u16,
    /// Requests whose body was wrong.
    pub mismatches: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
}

/// The bodies a request may be checked against, up to the largest size of the run.
struct Expected {
    same: Vec<u8>,
    upper: Vec<u8>,
}

impl CheckingUpstream {
    /// Starts on a port the system picks, for bodies up to `max_body` bytes.
    pub fn start(max_body: usize) -> io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let port = listener.local_addr()?.port();
        let expected = Arc::new(Expected { same: pattern::body(max_body), upper: pattern::upper(max_body) });
        let stop = Arc::new(AtomicBool::new(false));
        let mismatches = Arc::new(AtomicU64::new(0));
        let (stopped, bad) = (stop.clone(), mismatches.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if stopped.load(Ordering::Acquire) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let (expected, bad) = (expected.clone(), bad.clone());
                std::thread::spawn(move || {
                    let _ = serve(conn, &expected, &bad);
                });
            }
        });
        Ok(Self { port, mismatches, stop })
    }
}

impl Drop for CheckingUpstream {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        let _ = TcpStream::connect(("127.0.0.1", self.port)); // wakes the accept loop
    }
}

/// Why `body` is not what `check` asks for, if it is not.
fn verify(check: Option<&str>, body: &[u8], expected: &Expected) -> Option<String> {
    let want = match check {
        None => return None,
        Some("same") => &expected.same,
        Some("upper") => &expected.upper,
        Some(other) => return Some(format!("unknown x-bench-check {other:?}")),
    };
    let Some(want) = want.get(..body.len()) else {
        return Some(format!("body of {} bytes is larger than any the run sends", body.len()));
    };
    pattern::first_difference(body, want)
        .map(|at| format!("byte {at} of {} is {:#04x}, want {:#04x}", body.len(), body[at], want[at]))
}

fn serve(conn: TcpStream, expected: &Expected, mismatches: &AtomicU64) -> io::Result<()> {
    conn.set_read_timeout(Some(Duration::from_secs(120)))?;
    conn.set_nodelay(true)?;
    let mut writer = conn.try_clone()?;
    let mut reader = BufReader::with_capacity(256 << 10, conn);
    let (mut line, mut body) = (Vec::new(), Vec::new());
    while let Some(head) = read_head(&mut reader, &mut line, false)? {
        read_body(&mut reader, &head, &mut line, &mut body)?;
        let reply = match verify(head.check.as_deref(), &body, expected) {
            None => "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok".to_string(),
            Some(error) => {
                mismatches.fetch_add(1, Ordering::Relaxed);
                format!("HTTP/1.1 500 Wrong Body\r\nx-bench-error: {error}\r\ncontent-length: 0\r\n\r\n")
            }
        };
        writer.write_all(reply.as_bytes())?;
        if head.close {
            break;
        }
    }
    let _ = writer.shutdown(Shutdown::Both);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verifies_every_byte() {
        let expected = Expected { same: pattern::body(1000), upper: pattern::upper(1000) };
        assert_eq!(verify(None, b"anything", &expected), None);
        assert_eq!(verify(Some("same"), &pattern::body(700), &expected), None);
        assert_eq!(verify(Some("upper"), &pattern::upper(1000), &expected), None);
        let mut wrong = pattern::upper(700);
        wrong[699] = b'q';
        let error = verify(Some("upper"), &wrong, &expected).unwrap();
        assert!(error.starts_with("byte 699 of 700"), "{error}");
        assert!(verify(Some("upper"), &pattern::body(10), &expected).unwrap().starts_with("byte 0 "));
        assert!(verify(Some("same"), &pattern::body(1001), &expected).unwrap().contains("larger"));
        assert!(verify(Some("sideways"), b"", &expected).is_some());
    }

    #[test]
    fn answers_200_for_a_right_body_and_500_for_a_wrong_one() {
        use std::io::Read;
        let upstream = CheckingUpstream::start(4096).unwrap();
        let mut conn = TcpStream::connect(("127.0.0.1", upstream.port)).unwrap();
        let body = pattern::upper(3000);
        let mut request = format!(
            "POST / HTTP/1.1\r\nhost: x\r\nx-bench-check: upper\r\ncontent-length: {}\r\n\r\n",
            body.len()
        )
        .into_bytes();
        request.extend_from_slice(&body);
        request.extend_from_slice(
            b"POST / HTTP/1.1\r\nx-bench-check: upper\r\nconnection: close\r\ncontent-length: 3\r\n\r\nthe",
        );
        conn.write_all(&request).unwrap();
        let mut replies = String::new();
        conn.read_to_string(&mut replies).unwrap();
        assert!(replies.starts_with("HTTP/1.1 200 OK\r\n"), "{replies}");
        assert!(
            replies.contains("HTTP/1.1 500 Wrong Body\r\nx-bench-error: byte 0 of 3 is 0x74, want 0x54"),
            "{replies}"
        );
        assert_eq!(upstream.mismatches.load(Ordering::Relaxed), 1);
    }
}
