//! An echo upstream: the server behind Envoy in the end-to-end tests and `envoyx run`.

use crate::http::{Message, read_message};
use std::io::{self, BufReader, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// An HTTP/1.1 upstream that answers every request with 200, the request body as its body, each
/// request header `h: v` echoed as `x-upstream-saw-h: v` (a trailer as `x-upstream-saw-trailer-h`), each request header
/// `x-upstream-respond-h: v` as a response header `h: v`, and `x-upstream-drop-me: 1`. It keeps
/// every request it got.
///
/// Two request headers change the answer:
/// - `x-upstream-respond-trailer-h: v` (any number): the response is chunked and ends with the
///   trailer `h: v` (instead of a response header `trailer-h`).
/// - `x-upstream-abort-after: n`: the upstream sends the response head (with the full
///   `content-length`) and the first `n` bytes of the body, then closes the connection: a
///   response cut short, as Envoy sees when an upstream dies mid-response.
pub struct Upstream {
    pub port: u16,
    pub requests: Arc<Mutex<Vec<Message>>>,
    stop: Arc<AtomicBool>,
}

impl Upstream {
    /// Starts serving on a free port of 127.0.0.1.
    pub fn start() -> io::Result<Self> {
        Self::start_on(0)
    }

    /// Starts serving on `port` of 127.0.0.1 (0: any free port).
    pub fn start_on(port: u16) -> io::Result<Self> {
        let listener = TcpListener::bind(("127.0.0.1", port))?;
        let port = listener.local_addr()?.port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        accept_in_background(listener, requests.clone(), stop.clone(), serve_connection);
        Ok(Self { port, requests, stop })
    }

    /// The requests received so far.
    pub fn received(&self) -> Vec<Message> {
        crate::lock(&self.requests).clone()
    }
}

impl Drop for Upstream {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        let _ = TcpStream::connect(("127.0.0.1", self.port)); // wakes the accept loop
    }
}

/// Serves every connection `listener` accepts on a thread of its own with `serve`, which gets
/// the server's shared `state` (e.g. the requests it got so far), until `stop` is set and one more
/// connection wakes it.
pub(crate) fn accept_in_background<S: Send + Sync + 'static>(
    listener: TcpListener,
    state: Arc<S>,
    stop: Arc<AtomicBool>,
    serve: fn(TcpStream, &S) -> io::Result<()>,
) {
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            if stop.load(Ordering::Acquire) {
                break;
            }
            let Ok(conn) = conn else { continue };
            let state = state.clone();
            std::thread::spawn(move || {
                let _ = serve(conn, &state);
            });
        }
    });
}

fn serve_connection(conn: TcpStream, seen: &Mutex<Vec<Message>>) -> io::Result<()> {
    let mut writer = conn.try_clone()?;
    let mut reader = BufReader::new(conn);
    while let Some(request) = read_message(&mut reader, false)? {
        let mut head = String::from("HTTP/1.1 200 OK\r\n");
        for (name, value) in &request.headers {
            head.push_str(&format!("x-upstream-saw-{name}: {value}\r\n"));
        }
        for (name, value) in &request.trailers {
            head.push_str(&format!("x-upstream-saw-trailer-{name}: {value}\r\n"));
        }
        let mut trailers = String::new();
        for (name, value) in &request.headers {
            if let Some(name) = name.strip_prefix("x-upstream-respond-trailer-") {
                trailers.push_str(&format!("{name}: {value}\r\n"));
            } else if let Some(name) = name.strip_prefix("x-upstream-respond-") {
                head.push_str(&format!("{name}: {value}\r\n"));
            }
        }
        head.push_str("x-upstream-drop-me: 1\r\n");
        let abort_after = request.header("x-upstream-abort-after").and_then(|n| n.parse::<usize>().ok());
        if trailers.is_empty() || abort_after.is_some() {
            head.push_str(&format!("content-length: {}\r\n\r\n", request.body.len()));
        } else {
            head.push_str("transfer-encoding: chunked\r\n\r\n");
        }
        let close = request.header("connection").is_some_and(|v| v.eq_ignore_ascii_case("close"));
        let body = request.body.clone();
        crate::lock(seen).push(request); // before answering: a client that got the reply sees it
        writer.write_all(head.as_bytes())?;
        if let Some(n) = abort_after {
            writer.write_all(&body[..n.min(body.len())])?;
            break;
        }
        if trailers.is_empty() {
            writer.write_all(&body)?;
        } else {
            if !body.is_empty() {
                writer.write_all(format!("{:x}\r\n", body.len()).as_bytes())?;
                writer.write_all(&body)?;
                writer.write_all(b"\r\n")?;
            }
            writer.write_all(format!("0\r\n{trailers}\r\n").as_bytes())?;
        }
        if close {
            break;
        }
    }
    let _ = writer.shutdown(Shutdown::Both);
    Ok(())
}
