//! A gRPC health service (`grpc.health.v1.Health/Check`): what the `grpc-check` example module
//! calls in `envoyx run`'s demo. HTTP/2 (h2c) on 127.0.0.1, written over the `h2` crate: the
//! request message's `service` (field 1) is read from its one gRPC frame, and the answer is a
//! `HealthCheckResponse { status }` followed by `grpc-status: 0`, or a trailers-only error.
//! The end-to-end tests call a real gRPC server (tonic's) instead.
//!
//! - `""` and `backend`: SERVING (1);
//! - `draining`: NOT_SERVING (2);
//! - `slow`: SERVING after [`GrpcHealthServer::SLOW`];
//! - any other service: NOT_FOUND, `unknown service`; any other method: UNIMPLEMENTED.

use bytes::Bytes;
use std::io;
use std::net::TcpListener;
use std::time::Duration;

/// The running service; dropping it stops it.
pub struct GrpcHealthServer {
    pub port: u16,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl GrpcHealthServer {
    /// How long the answer about `slow` takes.
    pub const SLOW: Duration = Duration::from_secs(2);

    /// Starts serving on a free port of 127.0.0.1.
    pub fn start() -> io::Result<Self> {
        let listener = TcpListener::bind(("127.0.0.1", 0))?;
        let port = listener.local_addr()?.port();
        listener.set_nonblocking(true)?;
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        std::thread::Builder::new().name("grpc-health".into()).spawn(move || {
            runtime.block_on(async move {
                let Ok(listener) = tokio::net::TcpListener::from_std(listener) else { return };
                let accept = async {
                    while let Ok((socket, _)) = listener.accept().await {
                        tokio::spawn(serve_connection(socket));
                    }
                };
                tokio::select! {
                    () = accept => {}
                    _ = stopped => {}
                }
            })
        })?;
        Ok(Self { port, stop: Some(stop) })
    }
}

impl Drop for GrpcHealthServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

async fn serve_connection(socket: tokio::net::TcpStream) {
    let Ok(mut connection) = h2::server::handshake(socket).await else { return };
    while let Some(Ok((request, respond))) = connection.accept().await {
        tokio::spawn(answer(request, respond));
    }
}

/// The status (or the error: code and message) the service gives for `service`, and how long it
/// takes.
pub fn decide(service: &str) -> (Result<u8, (u32, &'static str)>, Duration) {
    match service {
        "" | "backend" => (Ok(1), Duration::ZERO),
        "draining" => (Ok(2), Duration::ZERO),
        "slow" => (Ok(1), GrpcHealthServer::SLOW),
        _ => (Err((5, "unknown service")), Duration::ZERO),
    }
}

async fn answer(request: http::Request<h2::RecvStream>, mut respond: h2::server::SendResponse<Bytes>) {
    let is_check = request.uri().path() == "/grpc.health.v1.Health/Check";
    let mut body = request.into_body();
    let mut received = Vec::new();
    while let Some(Ok(chunk)) = body.data().await {
        let _ = body.flow_control().release_capacity(chunk.len());
        received.extend_from_slice(&chunk);
    }
    // One frame: flag, 4-byte length, then HealthCheckRequest { service = 1 }.
    let message = received.get(5..).unwrap_or_default();
    let service = match message {
        [0x0a, len, rest @ ..] if rest.len() == usize::from(*len) => {
            String::from_utf8_lossy(rest).into_owned()
        }
        _ => String::new(),
    };
    let (outcome, delay) =
        if is_check { decide(&service) } else { (Err((12, "unknown method")), Duration::ZERO) };
    tokio::time::sleep(delay).await;
    let head = http::Response::builder().status(200).header("content-type", "application/grpc");
    match outcome {
        Ok(status) => {
            let Ok(mut stream) = respond.send_response(head.body(()).expect("a response"), false) else {
                return;
            };
            let _ = stream.send_data(Bytes::from(vec![0, 0, 0, 0, 2, 0x08, status]), false);
            let mut trailers = http::HeaderMap::new();
            trailers.insert("grpc-status", http::HeaderValue::from_static("0"));
            let _ = stream.send_trailers(trailers);
        }
        Err((code, message)) => {
            let head = head.header("grpc-status", code.to_string()).header("grpc-message", message);
            let _ = respond.send_response(head.body(()).expect("a response"), true);
        }
    }
}
