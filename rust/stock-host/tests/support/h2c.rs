//! A blocking HTTP/2 client over cleartext with prior knowledge (h2c): the connection opens with
//! the HTTP/2 preface, which Envoy's `codec_type: AUTO` listener detects. One connection per
//! call, on a current-thread Tokio runtime, so tests stay plain blocking code.

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Method, Request};
use std::time::Duration;

/// A response as it came over HTTP/2.
#[derive(Debug)]
pub struct H2Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    pub trailers: Option<HeaderMap>,
}

impl H2Reply {
    /// The first value of a header, if it is text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The first value of a trailer, if it is text.
    pub fn trailer(&self, name: &str) -> Option<&str> {
        self.trailers.as_ref()?.get(name).and_then(|v| v.to_str().ok())
    }
}

/// One HTTP/2 request on a new connection to 127.0.0.1:`port`: `headers`, then `body` (if not
/// empty) and `trailers` (if any). The whole exchange must finish within 60 s. An error (a reset
/// stream, a closed connection) comes back as text.
pub fn h2_request(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    trailers: &[(&str, &str)],
) -> Result<H2Reply, String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("tokio runtime: {e}"))?;
    let exchange = exchange(port, method, path, headers, body, trailers);
    runtime.block_on(async {
        tokio::time::timeout(Duration::from_secs(60), exchange)
            .await
            .unwrap_or_else(|_| Err(format!("HTTP/2 {method} {path}: no answer within 60 s")))
    })
}

fn header_map(pairs: &[(&str, &str)]) -> Result<HeaderMap, String> {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        let name = HeaderName::from_bytes(name.as_bytes()).map_err(|e| format!("header {name}: {e}"))?;
        let value = HeaderValue::from_str(value).map_err(|e| format!("header {name}: {e}"))?;
        map.append(name, value);
    }
    Ok(map)
}

/// An h2c connection (prior knowledge) to 127.0.0.1:`port`, ready for a request, and the task
/// that moves its frames both ways (flow control included) while the caller waits.
async fn connect(
    port: u16,
    what: &str,
) -> Result<(h2::client::SendRequest<Bytes>, tokio::task::JoinHandle<()>), String> {
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .map_err(|e| format!("{what}: connect: {e}"))?;
    let (client, connection) =
        h2::client::handshake(tcp).await.map_err(|e| format!("{what}: handshake: {e}"))?;
    let connection = tokio::spawn(async move {
        let _ = connection.await;
    });
    let client = client.ready().await.map_err(|e| format!("{what}: {e}"))?;
    Ok((client, connection))
}

async fn exchange(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    trailers: &[(&str, &str)],
) -> Result<H2Reply, String> {
    let what = format!("HTTP/2 {method} {path} on port {port}");
    let (mut client, connection) = connect(port, &what).await?;

    let mut request = Request::builder()
        .method(Method::from_bytes(method.as_bytes()).map_err(|e| e.to_string())?)
        .uri(format!("http://127.0.0.1:{port}{path}"))
        .body(())
        .map_err(|e| format!("{what}: {e}"))?;
    *request.headers_mut() = header_map(headers)?;
    let ends_with_headers = body.is_empty() && trailers.is_empty();
    let (response, mut send) =
        client.send_request(request, ends_with_headers).map_err(|e| format!("{what}: {e}"))?;
    if !body.is_empty() {
        // h2 queues what the flow-control window does not take yet and sends it as the window
        // opens; the body goes in 1 MiB frames' worth at a time to keep the queue's pieces small.
        let chunks: Vec<&[u8]> = body.chunks(1 << 20).collect();
        for (i, chunk) in chunks.iter().enumerate() {
            let last = i + 1 == chunks.len() && trailers.is_empty();
            send.send_data(Bytes::copy_from_slice(chunk), last).map_err(|e| format!("{what}: body: {e}"))?;
        }
    }
    if !trailers.is_empty() {
        send.send_trailers(header_map(trailers)?).map_err(|e| format!("{what}: trailers: {e}"))?;
    }

    let response = response.await.map_err(|e| format!("{what}: response: {e}"))?;
    let (parts, mut stream) = response.into_parts();
    let mut body = Vec::new();
    while let Some(chunk) = stream.data().await {
        let chunk = chunk.map_err(|e| format!("{what}: response body after {} bytes: {e}", body.len()))?;
        body.extend_from_slice(&chunk);
        // Reopens the window, or a body over 64 KiB stalls.
        let _ = stream.flow_control().release_capacity(chunk.len());
    }
    let trailers = stream.trailers().await.map_err(|e| format!("{what}: trailers: {e}"))?;
    drop(client);
    connection.abort();
    Ok(H2Reply { status: parts.status.as_u16(), headers: parts.headers, body, trailers })
}

/// Over a new HTTP/2 connection: sends a POST announcing `length` body bytes and the first
/// `sent` of them, runs `wait` (on a blocking thread, while the connection goes on moving
/// frames), then cancels the stream (RST_STREAM CANCEL) and, after a moment for Envoy to read
/// that, closes the connection.
pub fn h2_cancel_mid_body(
    port: u16,
    path: &str,
    length: usize,
    sent: usize,
    wait: impl FnOnce() + Send + 'static,
) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("tokio runtime: {e}"))?;
    runtime.block_on(async {
        let what = format!("HTTP/2 POST {path} on port {port}");
        let (mut client, connection) = connect(port, &what).await?;
        let request = Request::builder()
            .method(Method::POST)
            .uri(format!("http://127.0.0.1:{port}{path}"))
            .header("content-length", length.to_string())
            .body(())
            .map_err(|e| format!("{what}: {e}"))?;
        let (_response, mut send) =
            client.send_request(request, false).map_err(|e| format!("{what}: {e}"))?;
        if sent > 0 {
            send.send_data(Bytes::from(vec![b'x'; sent]), false).map_err(|e| format!("{what}: body: {e}"))?;
        }
        tokio::task::spawn_blocking(wait).await.map_err(|e| format!("{what}: wait: {e}"))?;
        send.send_reset(h2::Reason::CANCEL);
        tokio::time::sleep(Duration::from_millis(100)).await;
        drop(client);
        connection.abort();
        Ok(())
    })
}

/// GETs `path` with `headers` over one HTTP/2 connection, one request after another, until `stop`
/// is set: each reply, or the error that ended the connection (the last item then).
pub fn h2_get_until(
    port: u16,
    path: &str,
    headers: &[(&str, &str)],
    stop: &std::sync::atomic::AtomicBool,
) -> Vec<Result<H2Reply, String>> {
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => return vec![Err(format!("tokio runtime: {e}"))],
    };
    runtime.block_on(async {
        let what = format!("HTTP/2 GET {path} on port {port}");
        let (mut client, connection) = match connect(port, &what).await {
            Ok(connected) => connected,
            Err(e) => return vec![Err(e)],
        };
        let mut replies = Vec::new();
        while !stop.load(std::sync::atomic::Ordering::Relaxed) {
            let reply = async {
                client = client.clone().ready().await.map_err(|e| format!("{what}: {e}"))?;
                let mut request = Request::builder()
                    .method(Method::GET)
                    .uri(format!("http://127.0.0.1:{port}{path}"))
                    .body(())
                    .map_err(|e| format!("{what}: {e}"))?;
                *request.headers_mut() = header_map(headers)?;
                let (response, _) = client.send_request(request, true).map_err(|e| format!("{what}: {e}"))?;
                let response = response.await.map_err(|e| format!("{what}: response: {e}"))?;
                let (parts, mut stream) = response.into_parts();
                let mut body = Vec::new();
                while let Some(chunk) = stream.data().await {
                    let chunk = chunk.map_err(|e| format!("{what}: response body: {e}"))?;
                    body.extend_from_slice(&chunk);
                    let _ = stream.flow_control().release_capacity(chunk.len());
                }
                let trailers = stream.trailers().await.map_err(|e| format!("{what}: trailers: {e}"))?;
                Ok(H2Reply { status: parts.status.as_u16(), headers: parts.headers, body, trailers })
            };
            let reply = tokio::time::timeout(Duration::from_secs(30), reply)
                .await
                .unwrap_or_else(|_| Err(format!("{what}: no answer within 30 s")));
            let failed = reply.is_err();
            replies.push(reply);
            if failed {
                break;
            }
        }
        drop(client);
        connection.abort();
        replies
    })
}
