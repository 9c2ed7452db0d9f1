//! The load client: a fixed number of HTTP/1.1 requests over a few keep-alive connections (one
//! thread each), timing each request from its first byte written to the last byte of the reply.

use crate::pattern;
use crate::wire::{read_body_framed, read_head};
use envoyx_core::sync::lock;
use std::io::{self, BufReader, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What each request of a run looks like and what its reply must show.
#[derive(Clone, Debug)]
pub struct RequestSpec {
    /// The request head, up to and including the empty line.
    pub head: Vec<u8>,
    pub body: Arc<Vec<u8>>,
    /// The reply must carry `x-bench-added`.
    pub want_added_header: bool,
    /// The reply's body must be exactly this (the respond job); `None`: not checked.
    pub want_body: Option<Arc<Vec<u8>>>,
    /// The reply's body must come chunked in this many chunks with data (the respond job's
    /// streaming variants: one chunk per data frame the filter sent); `None`: not checked.
    pub want_chunks: Option<usize>,
}

impl RequestSpec {
    /// A GET without a body.
    pub fn get(want_added_header: bool) -> Self {
        let head = b"GET /bench HTTP/1.1\r\nhost: bench\r\n\r\n".to_vec();
        Self { head, body: Arc::new(Vec::new()), want_added_header, want_body: None, want_chunks: None }
    }

    /// A GET carrying `authorization: <authorization>` (the auth job).
    pub fn get_authorized(authorization: &str) -> Self {
        let head = format!("GET /bench HTTP/1.1\r\nhost: bench\r\nauthorization: {authorization}\r\n\r\n")
            .into_bytes();
        Self::get(false).with_head(head)
    }

    /// A GET the filter answers itself (the respond job): the reply's body must be `body`, and
    /// given `chunks`, come in that many chunks.
    pub fn get_answered(body: Arc<Vec<u8>>, chunks: Option<usize>) -> Self {
        Self { want_body: Some(body), want_chunks: chunks, ..Self::get(false) }
    }

    fn with_head(self, head: Vec<u8>) -> Self {
        Self { head, ..self }
    }

    /// A POST of `body` that the upstream checks as `check` (`same` or `upper`).
    pub fn post(body: Arc<Vec<u8>>, check: &str) -> Self {
        let head = format!(
            "POST /bench HTTP/1.1\r\nhost: bench\r\ncontent-type: text/plain\r\nx-bench-check: {check}\r\n\
             content-length: {}\r\n\r\n",
            body.len()
        )
        .into_bytes();
        Self { body, ..Self::get(false).with_head(head) }
    }
}

/// The outcome of a run.
#[derive(Debug, Default)]
pub struct LoadResult {
    pub ok: usize,
    pub errors: usize,
    pub first_error: Option<String>,
    /// Latency of every successful request, in µs, sorted.
    pub latencies_us: Vec<u64>,
    pub elapsed: Duration,
}

impl LoadResult {
    /// Adds `other`'s counts, latencies and (if this has none) first error to this one's; the
    /// elapsed time stays this one's.
    pub fn absorb(&mut self, other: LoadResult) {
        self.ok += other.ok;
        self.errors += other.errors;
        if self.first_error.is_none() {
            self.first_error = other.first_error;
        }
        self.latencies_us.extend(other.latencies_us);
    }
}

/// Sends `requests` requests to 127.0.0.1:`port` over `connections` connections.
pub fn run(port: u16, spec: &RequestSpec, requests: usize, connections: usize) -> LoadResult {
    run_mixed(port, std::slice::from_ref(spec), requests, connections)
}

/// Like [`run`], at a fixed rate: request `i` is sent no earlier than `i / per_second` seconds
/// after the start (a connection that falls behind sends at once), so Envoy idles between
/// requests as it does under a steady load below saturation.
pub fn run_paced(
    port: u16,
    spec: &RequestSpec,
    requests: usize,
    connections: usize,
    per_second: f64,
) -> LoadResult {
    send(port, std::slice::from_ref(spec), requests, connections, Some(per_second))
}

/// Like [`run`], request `i` (counted over all connections) being `specs[i % specs.len()]`.
pub fn run_mixed(port: u16, specs: &[RequestSpec], requests: usize, connections: usize) -> LoadResult {
    send(port, specs, requests, connections, None)
}

/// The client loop of [`run_mixed`] and [`run_paced`]: `per_second` paces the requests when set.
fn send(
    port: u16,
    specs: &[RequestSpec],
    requests: usize,
    connections: usize,
    per_second: Option<f64>,
) -> LoadResult {
    let next = Arc::new(AtomicUsize::new(0));
    let outcome = Arc::new(Mutex::new(LoadResult::default()));
    let start = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..connections.max(1) {
            let (next, outcome) = (next.clone(), outcome.clone());
            scope.spawn(move || {
                let mut mine = LoadResult::default();
                let mut conn: Option<Connection> = None;
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= requests {
                        break;
                    }
                    let spec = &specs[i % specs.len()];
                    if let Some(rate) = per_second {
                        let due = start + Duration::from_secs_f64(i as f64 / rate);
                        if let Some(wait) = due.checked_duration_since(Instant::now()) {
                            std::thread::sleep(wait);
                        }
                    }
                    let sent = Instant::now();
                    let result = match conn.as_mut() {
                        Some(c) => c.exchange(spec),
                        None => Connection::open(port).and_then(|c| conn.insert(c).exchange(spec)),
                    };
                    match result {
                        Ok(reply) => {
                            if reply.close {
                                conn = None;
                            }
                            match reply.problem {
                                None => {
                                    mine.ok += 1;
                                    let latency = reply.received.duration_since(sent);
                                    mine.latencies_us.push(latency.as_micros() as u64);
                                }
                                Some(error) => {
                                    mine.errors += 1;
                                    mine.first_error.get_or_insert(error);
                                }
                            }
                        }
                        Err(e) => {
                            conn = None;
                            mine.errors += 1;
                            mine.first_error.get_or_insert(format!("connection: {e}"));
                        }
                    }
                }
                lock(&outcome).absorb(mine);
            });
        }
    });
    let mut result = std::mem::take(&mut *lock(&outcome));
    result.elapsed = start.elapsed();
    result.latencies_us.sort_unstable();
    result
}

/// A reply as the client read it: whether the server closes the connection, when its last byte
/// arrived (the checks after it are not in the latency), and why it is wrong for its request,
/// if it is.
struct Reply {
    close: bool,
    received: Instant,
    problem: Option<String>,
}

/// Why a reply is wrong for `spec`, if it is: its head, its body and how that was framed
/// (`Some(chunks)` when chunked).
fn check_reply(
    reply: &crate::wire::Head,
    body: &[u8],
    chunks: Option<usize>,
    spec: &RequestSpec,
) -> Option<String> {
    if reply.status != 200 {
        return Some(match &reply.error {
            Some(error) => format!("status {}: upstream saw a wrong body: {error}", reply.status),
            None => format!("status {}", reply.status),
        });
    }
    if spec.want_added_header && !reply.added {
        return Some("reply lacks x-bench-added".to_string());
    }
    if let Some(want) = &spec.want_body
        && let Some(at) = pattern::first_difference(body, want)
    {
        return Some(format!(
            "reply body differs from the expected one at byte {at} ({} bytes, {} expected)",
            body.len(),
            want.len()
        ));
    }
    if let Some(want) = spec.want_chunks
        && chunks != Some(want)
    {
        return Some(match chunks {
            Some(n) => format!("reply body came in {n} chunks, {want} expected"),
            None => format!("reply body came whole (content-length), {want} chunks expected"),
        });
    }
    None
}

struct Connection {
    writer: TcpStream,
    reader: BufReader<TcpStream>,
    line: Vec<u8>,
    body: Vec<u8>,
}

impl Connection {
    fn open(port: u16) -> io::Result<Self> {
        let conn = TcpStream::connect(("127.0.0.1", port))?;
        conn.set_nodelay(true)?;
        conn.set_read_timeout(Some(Duration::from_secs(120)))?;
        conn.set_write_timeout(Some(Duration::from_secs(120)))?;
        let writer = conn.try_clone()?;
        Ok(Self {
            writer,
            reader: BufReader::with_capacity(64 << 10, conn),
            line: Vec::new(),
            body: Vec::new(),
        })
    }

    fn exchange(&mut self, spec: &RequestSpec) -> io::Result<Reply> {
        self.writer.write_all(&spec.head)?;
        self.writer.write_all(&spec.body)?;
        let head = read_head(&mut self.reader, &mut self.line, true)?
            .ok_or_else(|| io::Error::new(io::ErrorKind::UnexpectedEof, "closed before the reply"))?;
        let chunks = read_body_framed(&mut self.reader, &head, &mut self.line, &mut self.body)?;
        let received = Instant::now();
        Ok(Reply { close: head.close, received, problem: check_reply(&head, &self.body, chunks, spec) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pattern;
    use crate::upstream::CheckingUpstream;

    #[test]
    fn drives_the_checking_upstream_and_counts_wrong_bodies_as_errors() {
        let upstream = CheckingUpstream::start(1 << 16).unwrap();
        let body = Arc::new(pattern::body(40_000));
        let right = run(upstream.port, &RequestSpec::post(body.clone(), "same"), 30, 3);
        assert_eq!((right.ok, right.errors), (30, 0), "{:?}", right.first_error);
        assert_eq!(right.latencies_us.len(), 30);
        assert!(right.latencies_us.windows(2).all(|w| w[0] <= w[1]));
        // Sent unchanged, but checked as upper-cased: every request is wrong.
        let wrong = run(upstream.port, &RequestSpec::post(body, "upper"), 5, 2);
        assert_eq!((wrong.ok, wrong.errors), (0, 5));
        assert!(wrong.first_error.unwrap().contains("byte 0 of 40000"));
        // The upstream adds no x-bench-added header.
        let missing = run(upstream.port, &RequestSpec::get(true), 2, 1);
        assert_eq!(missing.errors, 2);
        assert_eq!(missing.first_error.as_deref(), Some("reply lacks x-bench-added"));
    }

    #[test]
    fn checks_the_reply_body_and_its_chunks_when_asked() {
        // The upstream answers a GET with `ok`, sized by content-length.
        let upstream = CheckingUpstream::start(0).unwrap();
        let ok = Arc::new(b"ok".to_vec());
        let right = run(upstream.port, &RequestSpec::get_answered(ok.clone(), None), 3, 1);
        assert_eq!((right.ok, right.errors), (3, 0), "{:?}", right.first_error);
        let wrong = run(upstream.port, &RequestSpec::get_answered(Arc::new(b"ox".to_vec()), None), 2, 1);
        assert_eq!((wrong.ok, wrong.errors), (0, 2));
        let error = wrong.first_error.unwrap();
        assert_eq!(error, "reply body differs from the expected one at byte 1 (2 bytes, 2 expected)");
        let whole = run(upstream.port, &RequestSpec::get_answered(ok, Some(16)), 1, 1);
        assert_eq!(
            whole.first_error.as_deref(),
            Some("reply body came whole (content-length), 16 chunks expected")
        );
        let head = crate::wire::Head { status: 200, chunked: true, ..Default::default() };
        let spec = RequestSpec::get_answered(Arc::new(pattern::response_body()), Some(16));
        assert_eq!(check_reply(&head, &pattern::response_body(), Some(16), &spec), None);
        let error = check_reply(&head, &pattern::response_body(), Some(1), &spec);
        assert_eq!(error.as_deref(), Some("reply body came in 1 chunks, 16 expected"));
        let error = check_reply(&head, &pattern::response_body()[..4096], Some(16), &spec).unwrap();
        assert!(error.contains("at byte 4096 (4096 bytes, 65536 expected)"), "{error}");
    }

    #[test]
    fn a_refused_connection_is_an_error_not_a_hang() {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let result = run(port, &RequestSpec::get(false), 3, 1);
        assert_eq!((result.ok, result.errors), (0, 3));
        assert!(result.first_error.unwrap().starts_with("connection: "));
    }
}
