//! The HTTP/2 load client (h2c with prior knowledge, as Envoy's `codec_type: AUTO` listener takes
//! it): the same [`RequestSpec`]s as the HTTP/1.1 client, sent as concurrent streams over a few
//! connections (one thread and one single-threaded runtime each), with the same reply checks.

use crate::load::{LoadResult, RequestSpec};
use bytes::Bytes;
use envoyx_core::sync::lock;
use http::{HeaderName, HeaderValue, Method, Request};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A request as HTTP/2 sends it, taken from a spec's HTTP/1.1 head.
struct H2Spec {
    request: Request<()>,
    body: Bytes,
}

/// Reads the method, path and headers of an HTTP/1.1 head (`host` becomes the authority; the
/// connection-specific headers HTTP/2 forbids are left out).
fn h2_spec(spec: &RequestSpec) -> Result<H2Spec, String> {
    let text = std::str::from_utf8(&spec.head).map_err(|e| format!("request head: {e}"))?;
    let mut lines = text.split("\r\n");
    let start = lines.next().unwrap_or_default();
    let mut parts = start.split(' ');
    let (method, path) = (parts.next().unwrap_or_default(), parts.next().unwrap_or_default());
    let mut headers = Vec::new();
    let mut authority = "bench".to_string();
    for line in lines.filter(|l| !l.is_empty()) {
        let (name, value) = line.split_once(':').ok_or_else(|| format!("bad header line {line:?}"))?;
        let (name, value) = (name.trim().to_ascii_lowercase(), value.trim());
        match name.as_str() {
            "host" => authority = value.to_string(),
            "connection" | "keep-alive" | "transfer-encoding" => {}
            _ => headers.push((name, value.to_string())),
        }
    }
    let mut request = Request::builder()
        .method(Method::from_bytes(method.as_bytes()).map_err(|e| e.to_string())?)
        .uri(format!("http://{authority}{path}"));
    for (name, value) in headers {
        let name = HeaderName::from_bytes(name.as_bytes()).map_err(|e| e.to_string())?;
        request = request.header(name, HeaderValue::from_str(&value).map_err(|e| e.to_string())?);
    }
    let request = request.body(()).map_err(|e| e.to_string())?;
    Ok(H2Spec { request, body: Bytes::copy_from_slice(&spec.body) })
}

/// Sends `requests` requests over `connections` HTTP/2 connections with up to `streams` streams
/// in flight on each; request `i` is `specs[i % specs.len()]`. A reply is right when its status
/// is 200 (the checking upstream answers 500 for a wrong body); a request taking longer than
/// `timeout` is an error.
pub fn run_h2(
    port: u16,
    specs: &[RequestSpec],
    requests: usize,
    connections: usize,
    streams: usize,
    timeout: Duration,
) -> LoadResult {
    let specs: Arc<[H2Spec]> = match specs.iter().map(h2_spec).collect() {
        Ok(specs) => specs,
        Err(error) => {
            return LoadResult { errors: requests, first_error: Some(error), ..LoadResult::default() };
        }
    };
    let next = Arc::new(AtomicUsize::new(0));
    let outcome = Mutex::new(LoadResult::default());
    let start = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..connections.max(1) {
            let (next, outcome, specs) = (next.clone(), &outcome, specs.clone());
            scope.spawn(move || {
                let mine = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                    Ok(runtime) => {
                        let work = connection(port, specs, requests, next, streams, timeout);
                        runtime.block_on(tokio::task::LocalSet::new().run_until(work))
                    }
                    Err(e) => LoadResult {
                        errors: 1,
                        first_error: Some(format!("runtime: {e}")),
                        ..Default::default()
                    },
                };
                lock(outcome).absorb(mine);
            });
        }
    });
    let mut result = outcome.into_inner().unwrap_or_else(|e| e.into_inner());
    result.elapsed = start.elapsed();
    result.latencies_us.sort_unstable();
    result
}

/// One connection's share (inside a `LocalSet`): reconnects after a connection error, until the
/// run's requests are all taken.
async fn connection(
    port: u16,
    specs: Arc<[H2Spec]>,
    requests: usize,
    next: Arc<AtomicUsize>,
    streams: usize,
    timeout: Duration,
) -> LoadResult {
    let mut mine = LoadResult::default();
    while next.load(Ordering::Relaxed) < requests {
        let client = match connect(port).await {
            Ok(client) => client,
            Err(error) => {
                // Counted against the next request, so a refused port ends the run.
                if next.fetch_add(1, Ordering::Relaxed) < requests {
                    mine.errors += 1;
                    mine.first_error.get_or_insert(error);
                }
                continue;
            }
        };
        let tasks: Vec<_> = (0..streams.max(1))
            .map(|_| {
                let (client, specs, next) = (client.clone(), specs.clone(), next.clone());
                tokio::task::spawn_local(async move {
                    stream_loop(client, &specs, requests, &next, timeout).await
                })
            })
            .collect();
        for task in tasks {
            mine.absorb(task.await.unwrap_or_default());
        }
    }
    mine
}

/// One stream slot: sends requests one after another on `client` until the run's requests are
/// taken or the connection fails.
async fn stream_loop(
    client: h2::client::SendRequest<Bytes>,
    specs: &[H2Spec],
    requests: usize,
    next: &AtomicUsize,
    timeout: Duration,
) -> LoadResult {
    let mut mine = LoadResult::default();
    loop {
        let i = next.fetch_add(1, Ordering::Relaxed);
        if i >= requests {
            return mine;
        }
        let spec = &specs[i % specs.len()];
        let sent = Instant::now();
        let result = tokio::time::timeout(timeout, exchange(client.clone(), spec))
            .await
            .unwrap_or_else(|_| Err(format!("no reply within {timeout:?}")));
        match result {
            Ok(()) => {
                mine.ok += 1;
                mine.latencies_us.push(sent.elapsed().as_micros() as u64);
            }
            Err(error) => {
                mine.errors += 1;
                mine.first_error.get_or_insert(error.clone());
                if error.starts_with("connection") {
                    return mine;
                }
            }
        }
    }
}

async fn connect(port: u16) -> Result<h2::client::SendRequest<Bytes>, String> {
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .map_err(|e| format!("connection: connect: {e}"))?;
    tcp.set_nodelay(true).map_err(|e| format!("connection: {e}"))?;
    let (client, connection) =
        h2::client::handshake(tcp).await.map_err(|e| format!("connection: handshake: {e}"))?;
    tokio::task::spawn_local(async move {
        let _ = connection.await;
    });
    Ok(client)
}

async fn exchange(client: h2::client::SendRequest<Bytes>, spec: &H2Spec) -> Result<(), String> {
    let mut client = client.ready().await.map_err(|e| format!("connection: {e}"))?;
    let request = spec.request.clone();
    let end = spec.body.is_empty();
    let (response, mut send) = client.send_request(request, end).map_err(|e| format!("connection: {e}"))?;
    if !end {
        send_body(&mut send, spec.body.clone()).await?;
    }
    let response = response.await.map_err(|e| format!("stream: {e}"))?;
    let status = response.status().as_u16();
    let error =
        response.headers().get("x-bench-error").map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let mut body = response.into_body();
    while let Some(chunk) = body.data().await {
        let chunk = chunk.map_err(|e| format!("stream: reply body: {e}"))?;
        let _ = body.flow_control().release_capacity(chunk.len());
    }
    match (status, error) {
        (200, _) => Ok(()),
        (status, Some(error)) => Err(format!("status {status}: upstream saw a wrong body: {error}")),
        (status, None) => Err(format!("status {status}")),
    }
}

/// Sends `body` within the peer's flow-control window, then ends the stream.
async fn send_body(send: &mut h2::SendStream<Bytes>, mut body: Bytes) -> Result<(), String> {
    while !body.is_empty() {
        send.reserve_capacity(body.len());
        let capacity = std::future::poll_fn(|cx| send.poll_capacity(cx))
            .await
            .ok_or_else(|| "stream: closed while sending the body".to_string())?
            .map_err(|e| format!("stream: {e}"))?;
        let chunk = body.split_to(capacity.min(body.len()));
        send.send_data(chunk, false).map_err(|e| format!("stream: {e}"))?;
    }
    send.send_data(Bytes::new(), true).map_err(|e| format!("stream: {e}"))
}
