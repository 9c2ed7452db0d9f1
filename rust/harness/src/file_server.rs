//! A tiny HTTP/1.1 file server for modules named by URL: serves fixed bytes at fixed paths (404
//! for any other), one request per connection, and counts the requests each path got, so a test
//! can tell a cache hit (no request) from a fetch.

use std::collections::HashMap;
use std::io::{self, BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// A running file server on 127.0.0.1; stops accepting when dropped.
pub struct FileServer {
    pub port: u16,
    state: Arc<Served>,
    stop: Arc<AtomicBool>,
}

/// What the server serves, and how many requests each path got.
#[derive(Default)]
struct Served {
    files: Mutex<HashMap<String, Vec<u8>>>,
    requests: Mutex<HashMap<String, u64>>,
}

impl FileServer {
    pub fn start() -> io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let port = listener.local_addr()?.port();
        let state = Arc::new(Served::default());
        let stop = Arc::new(AtomicBool::new(false));
        crate::upstream::accept_in_background(listener, state.clone(), stop.clone(), serve);
        Ok(Self { port, state, stop })
    }

    /// Serves `bytes` at `path` (e.g. `/libm.so`) from now on.
    pub fn put(&self, path: &str, bytes: Vec<u8>) {
        crate::lock(&self.state.files).insert(path.to_string(), bytes);
    }

    /// The URL of `path` on this server.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// How many requests `path` got so far.
    pub fn requests(&self, path: &str) -> u64 {
        crate::lock(&self.state.requests).get(path).copied().unwrap_or(0)
    }
}

impl Drop for FileServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        let _ = TcpStream::connect(("127.0.0.1", self.port)); // wakes the accept loop
    }
}

fn serve(conn: TcpStream, state: &Served) -> io::Result<()> {
    let mut writer = conn.try_clone()?;
    let mut reader = BufReader::new(conn);
    let mut start = String::new();
    reader.read_line(&mut start)?;
    let path = start.split(' ').nth(1).unwrap_or_default().to_string();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line.trim().is_empty() {
            break;
        }
    }
    *crate::lock(&state.requests).entry(path.clone()).or_default() += 1;
    let file = crate::lock(&state.files).get(&path).cloned();
    match file {
        Some(bytes) => {
            write!(
                writer,
                "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                bytes.len()
            )?;
            writer.write_all(&bytes)?;
        }
        None => {
            writer.write_all(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")?
        }
    }
    writer.flush()
}
