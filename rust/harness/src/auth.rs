//! An auth service: what the `auth` example module calls out to in its end-to-end tests, in
//! `envoyx run` and in the `auth` benchmark (where Envoy's `ext_authz`, Lua and Proxy-Wasm ask
//! it the same question). HTTP/1.1 on 127.0.0.1, keep-alive.
//!
//! The decision is the request's `authorization` header:
//! - `Bearer <user>` (lower-case letters): 200 with `x-auth-user: <user>` and `x-auth-roles:
//!   user` (`admin,user` for the user `admin`);
//! - `Bearer forbidden`: 403;
//! - `Bearer slow-<user>`: the 200 of `<user>`, after [`AuthServer::SLOW`];
//! - anything else, or none: 401 with `www-authenticate: Bearer`.

use crate::http::{Message, read_message};
use std::io::{self, BufReader, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The running service.
pub struct AuthServer {
    pub port: u16,
    requests: Arc<Mutex<Vec<Message>>>,
    stop: Arc<AtomicBool>,
}

/// The decision for one request: status and the headers to answer with.
pub fn decide(authorization: Option<&str>) -> (u16, Vec<(&'static str, String)>) {
    let token = authorization.and_then(|v| v.strip_prefix("Bearer ")).unwrap_or("");
    let token = token.strip_prefix("slow-").unwrap_or(token);
    let user_like = !token.is_empty() && token.bytes().all(|b| b.is_ascii_lowercase());
    match token {
        "forbidden" => (403, vec![]),
        _ if user_like => {
            let roles = if token == "admin" { "admin,user" } else { "user" };
            (200, vec![("x-auth-user", token.to_string()), ("x-auth-roles", roles.to_string())])
        }
        _ => (401, vec![("www-authenticate", "Bearer".to_string())]),
    }
}

impl AuthServer {
    /// How long a `Bearer slow-<user>` answer takes.
    pub const SLOW: Duration = Duration::from_secs(2);

    /// Starts serving on a free port of 127.0.0.1.
    pub fn start() -> io::Result<Self> {
        let listener = TcpListener::bind(("127.0.0.1", 0))?;
        let port = listener.local_addr()?.port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        crate::upstream::accept_in_background(listener, requests.clone(), stop.clone(), serve_connection);
        Ok(Self { port, requests, stop })
    }

    /// The requests it got so far.
    pub fn received(&self) -> Vec<Message> {
        crate::lock(&self.requests).clone()
    }
}

impl Drop for AuthServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        let _ = TcpStream::connect(("127.0.0.1", self.port)); // wakes the accept loop
    }
}

fn serve_connection(conn: TcpStream, seen: &Mutex<Vec<Message>>) -> io::Result<()> {
    let mut writer = conn.try_clone()?;
    let mut reader = BufReader::new(conn);
    while let Some(request) = read_message(&mut reader, false)? {
        let authorization = request.header("authorization").map(str::to_string);
        if authorization.as_deref().is_some_and(|v| v.starts_with("Bearer slow-")) {
            std::thread::sleep(AuthServer::SLOW);
        }
        let (status, headers) = decide(authorization.as_deref());
        let reason = match status {
            200 => "OK",
            401 => "Unauthorized",
            _ => "Forbidden",
        };
        let mut head = format!("HTTP/1.1 {status} {reason}\r\n");
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("content-length: 0\r\n\r\n");
        let close = request.header("connection").is_some_and(|v| v.eq_ignore_ascii_case("close"));
        crate::lock(seen).push(request);
        writer.write_all(head.as_bytes())?;
        if close {
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
    fn decisions() {
        assert_eq!(decide(Some("Bearer ann")).0, 200);
        assert_eq!(decide(Some("Bearer admin")).1[1].1, "admin,user");
        assert_eq!(decide(Some("Bearer slow-ann")).1[0].1, "ann");
        assert_eq!(decide(Some("Bearer forbidden")).0, 403);
        assert_eq!(decide(Some("Bearer Ann1")).0, 401);
        assert_eq!(decide(Some("Basic x")).0, 401);
        assert_eq!(decide(None).0, 401);
    }
}
