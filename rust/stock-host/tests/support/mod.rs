//! What the end-to-end tests share: the official Envoy binaries, the stock host and test modules,
//! an echo upstream, a blocking HTTP/1.1 client, and an Envoy process that is always stopped.

#![allow(dead_code)]

use serde_json::{Value, json};
use std::io::{self, BufRead, BufReader, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

pub use envoyx_envoy_install::VERSIONS;

/// The workspace root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

/// The official Envoy binary of `version`, installed into the cache on first use.
pub fn envoy_binary(version: &str) -> PathBuf {
    envoyx_envoy_install::envoy_path(version).unwrap_or_else(|e| panic!("Envoy {version}: {e}"))
}

/// `libenvoyx_stock_host.so`, built from the current sources.
pub fn stock_host() -> PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| envoyx_testhost::build_package("envoyx-stock-host")).clone()
}

/// A directory for files built by these tests, next to the test executable.
fn build_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().unwrap().join("envoyx-stock-host-e2e");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The C test module `tests/modules/test_filter.c`, compiled against `x/abi.h`.
pub fn c_test_module() -> PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/modules/test_filter.c");
        let out = build_dir().join("libtest_filter.so");
        let partial = build_dir().join(format!("libtest_filter.so.{}", std::process::id()));
        let cc = std::env::var("CC").unwrap_or_else(|_| "cc".to_string());
        let output = Command::new(&cc)
            .args(["-shared", "-fPIC", "-O2", "-Wall", "-Wextra", "-Werror", "-pthread", "-I"])
            .arg(repo_root().join("x"))
            .arg("-o")
            .arg(&partial)
            .arg(&source)
            .output()
            .unwrap_or_else(|e| panic!("cannot run {cc} to build the C test module: {e}"));
        assert!(output.status.success(), "{cc} failed:\n{}", String::from_utf8_lossy(&output.stderr));
        std::fs::rename(&partial, &out).unwrap();
        out
    })
    .clone()
}

/// A port that was free a moment ago (bound to port 0, then released).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

// ---------------------------------------------------------------------------------------------
// HTTP/1.1 messages

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

pub fn get(port: u16, path: &str, headers: &[(&str, &str)]) -> Message {
    request(port, "GET", path, headers, b"").unwrap_or_else(|e| panic!("GET {path} on port {port}: {e}"))
}

pub fn post(port: u16, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Message {
    request(port, "POST", path, headers, body).unwrap_or_else(|e| panic!("POST {path} on port {port}: {e}"))
}

// ---------------------------------------------------------------------------------------------
// Echo upstream

/// An HTTP/1.1 upstream that answers every request with 200, the request body as its body, each
/// request header `h: v` echoed as `x-upstream-saw-h: v` (a trailer as `x-upstream-saw-trailer-h`), each request header
/// `x-upstream-respond-h: v` as a response header `h: v`, and `x-upstream-drop-me: 1`. It keeps
/// every request it got.
pub struct Upstream {
    pub port: u16,
    pub requests: Arc<Mutex<Vec<Message>>>,
    stop: Arc<AtomicBool>,
}

impl Upstream {
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (seen, stopped) = (requests.clone(), stop.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if stopped.load(Ordering::Acquire) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let seen = seen.clone();
                std::thread::spawn(move || {
                    let _ = serve_connection(conn, &seen);
                });
            }
        });
        Self { port, requests, stop }
    }

    /// The requests received so far.
    pub fn received(&self) -> Vec<Message> {
        self.requests.lock().unwrap().clone()
    }
}

impl Drop for Upstream {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        let _ = TcpStream::connect(("127.0.0.1", self.port)); // wakes the accept loop
    }
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
        for (name, value) in &request.headers {
            if let Some(name) = name.strip_prefix("x-upstream-respond-") {
                head.push_str(&format!("{name}: {value}\r\n"));
            }
        }
        head.push_str("x-upstream-drop-me: 1\r\n");
        head.push_str(&format!("content-length: {}\r\n\r\n", request.body.len()));
        let close = request.header("connection").is_some_and(|v| v.eq_ignore_ascii_case("close"));
        let body = request.body.clone();
        seen.lock().unwrap().push(request); // before answering: a client that got the reply sees it
        writer.write_all(head.as_bytes())?;
        writer.write_all(&body)?;
        if close {
            break;
        }
    }
    let _ = writer.shutdown(Shutdown::Both);
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Envoy configuration

/// How the filter names the stock host.
#[derive(Clone, Copy, Debug)]
pub enum LoadBy {
    /// `dynamic_module_config.name: envoyx_stock_host`, found through
    /// `ENVOY_DYNAMIC_MODULES_SEARCH_PATH`.
    Name,
    /// `dynamic_module_config.module.local.filename`.
    File,
}

/// How the EnvoyX config is wrapped in the filter's `filter_config`.
#[derive(Clone, Copy, Debug)]
pub enum Form {
    Struct,
    StringValue,
}

/// The `envoy.filters.http.dynamic_modules` filter running EnvoyX `config` (a
/// `DynamicModuleConfig` in JSON form).
pub fn envoyx_filter(filter_name: &str, config: Value, load_by: LoadBy, form: Form) -> Value {
    let module = match load_by {
        LoadBy::Name => json!({ "name": "envoyx_stock_host" }),
        LoadBy::File => json!({
            "name": "envoyx_stock_host",
            "module": { "local": { "filename": stock_host() } }
        }),
    };
    let filter_config = match form {
        Form::Struct => json!({ "@type": "type.googleapis.com/google.protobuf.Struct", "value": config }),
        Form::StringValue => json!({
            "@type": "type.googleapis.com/google.protobuf.StringValue",
            "value": config.to_string()
        }),
    };
    json!({
        "name": "envoy.filters.http.dynamic_modules",
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.http.dynamic_modules.v3.DynamicModuleFilter",
            "dynamic_module_config": module,
            "filter_name": filter_name,
            "filter_config": filter_config
        }
    })
}

/// An EnvoyX `DynamicModuleConfig` for `module` with `filter_config`.
pub fn module_config(name: &str, module: &Path, filter_config: &str) -> Value {
    json!({ "name": name, "file_path": module, "filter_config": filter_config, "do_not_dlclose": true })
}

/// A listener on `port` whose HTTP filters are `filters` then the router: paths under
/// `/no-upstream` go to the cluster `empty` (no endpoints: the router answers 503 itself), all
/// others to the cluster `upstream`.
pub fn listener(name: &str, port: u16, filters: Vec<Value>) -> Value {
    let mut http_filters = filters;
    http_filters.push(json!({
        "name": "envoy.filters.http.router",
        "typed_config": { "@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router" }
    }));
    json!({
        "name": name,
        "address": { "socket_address": { "address": "127.0.0.1", "port_value": port } },
        "filter_chains": [{
            "filters": [{
                "name": "envoy.filters.network.http_connection_manager",
                "typed_config": {
                    "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
                    "stat_prefix": name,
                    "http_protocol_options": { "enable_trailers": true },
                    "route_config": {
                        "virtual_hosts": [{
                            "name": "all",
                            "domains": ["*"],
                            "routes": [
                                { "match": { "prefix": "/no-upstream" }, "route": { "cluster": "empty" } },
                                { "match": { "prefix": "/" }, "route": { "cluster": "upstream" } }
                            ]
                        }]
                    },
                    "http_filters": http_filters
                }
            }]
        }]
    })
}

/// A bootstrap with an admin port, static `listeners`, the clusters `upstream` and `empty` and, if given,
/// listeners from the file `lds` (LDS through a path config source).
pub fn bootstrap(admin_port: u16, upstream_port: u16, listeners: Vec<Value>, lds: Option<&Path>) -> Value {
    let mut bootstrap = json!({
        "node": { "id": "envoyx-e2e", "cluster": "envoyx-e2e" },
        "admin": { "address": { "socket_address": { "address": "127.0.0.1", "port_value": admin_port } } },
        "static_resources": {
            "listeners": listeners,
            "clusters": [{
                "name": "upstream",
                "connect_timeout": "2s",
                "type": "STATIC",
                "typed_extension_protocol_options": {
                    "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
                        "@type": "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
                        "explicit_http_config": { "http_protocol_options": { "enable_trailers": true } }
                    }
                },
                "load_assignment": {
                    "cluster_name": "upstream",
                    "endpoints": [{ "lb_endpoints": [{ "endpoint": { "address": {
                        "socket_address": { "address": "127.0.0.1", "port_value": upstream_port }
                    } } }] }]
                }
            }, {
                "name": "empty",
                "connect_timeout": "2s",
                "type": "STATIC",
                "load_assignment": { "cluster_name": "empty", "endpoints": [] }
            }]
        }
    });
    if let Some(lds) = lds {
        bootstrap["dynamic_resources"] = json!({
            "lds_config": {
                "resource_api_version": "V3",
                "path_config_source": {
                    "path": lds,
                    "watched_directory": { "path": lds.parent().unwrap() }
                }
            }
        });
    }
    bootstrap
}

/// An LDS file's content: the listeners as `Listener` resources.
pub fn lds_resources(listeners: Vec<Value>) -> Value {
    let resources: Vec<Value> = listeners
        .into_iter()
        .map(|mut l| {
            l["@type"] = json!("type.googleapis.com/envoy.config.listener.v3.Listener");
            l
        })
        .collect();
    json!({ "resources": resources })
}

/// Writes `value` to `path` atomically (write aside, then rename), as Envoy's file watch expects.
pub fn write_atomically(path: &Path, value: &Value) {
    let aside = path.with_extension("tmp");
    std::fs::write(&aside, serde_json::to_vec_pretty(value).unwrap()).unwrap();
    std::fs::rename(&aside, path).unwrap();
}

// ---------------------------------------------------------------------------------------------
// The Envoy process

/// A running Envoy, stopped (kill + wait, by PID) when dropped, also when a test panics.
pub struct Envoy {
    pub version: String,
    pub admin_port: u16,
    child: Child,
    log: PathBuf,
    pub dir: tempfile::TempDir,
}

/// Starts Envoy `version` on `bootstrap` (written into `dir`) and waits until it is ready.
pub fn start_envoy(version: &str, bootstrap: &Value, dir: tempfile::TempDir) -> Envoy {
    let mut envoy = spawn_envoy(version, bootstrap, dir);
    envoy.wait_ready();
    envoy
}

/// Starts Envoy without waiting for it.
pub fn spawn_envoy(version: &str, bootstrap: &Value, dir: tempfile::TempDir) -> Envoy {
    let config = dir.path().join("envoy.json");
    std::fs::write(&config, serde_json::to_vec_pretty(bootstrap).unwrap()).unwrap();
    let log = dir.path().join("envoy.log");
    let log_file = std::fs::File::create(&log).unwrap();
    let host_dir = stock_host().parent().unwrap().to_path_buf();
    let child = Command::new(envoy_binary(version))
        .arg("-c")
        .arg(&config)
        .args(["--concurrency", "1", "--disable-hot-restart", "-l", "info"])
        .env("ENVOY_DYNAMIC_MODULES_SEARCH_PATH", host_dir)
        .stdin(Stdio::null())
        .stdout(log_file.try_clone().unwrap())
        .stderr(log_file)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start Envoy {version}: {e}"));
    let admin_port = bootstrap["admin"]["address"]["socket_address"]["port_value"].as_u64().unwrap() as u16;
    Envoy { version: version.to_string(), admin_port, child, log, dir }
}

impl Envoy {
    /// Everything Envoy logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn log_tail(&self) -> String {
        let log = self.log();
        let lines: Vec<&str> =
            log.lines().filter(|l| !l.contains("][main] [source/server/server.cc")).collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }

    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("Envoy {} exited ({status}) while starting:\n{}", self.version, self.log_tail());
            }
            if let Ok(reply) = request(self.admin_port, "GET", "/ready", &[], b"")
                && reply.status() == 200
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "Envoy {} not ready after 60 s:\n{}",
                self.version,
                self.log_tail()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits for Envoy to exit by itself; returns its exit code.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<i32> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("Envoy {} still running after {timeout:?}:\n{}", self.version, self.log_tail());
    }

    /// A counter or gauge from the admin `/stats`.
    pub fn stat(&self, name: &str) -> Option<u64> {
        let reply = get(self.admin_port, &format!("/stats?filter=^{name}$"), &[]);
        let text = String::from_utf8_lossy(&reply.body).into_owned();
        text.lines().find_map(|l| l.strip_prefix(name)?.strip_prefix(": ")?.trim().parse().ok())
    }

    /// Waits until `stat` reaches at least `value`.
    pub fn wait_stat(&self, name: &str, value: u64, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        while self.stat(name).unwrap_or(0) < value {
            assert!(
                Instant::now() < deadline,
                "Envoy {}: {name} stayed at {:?} (wanted {value}):\n{}",
                self.version,
                self.stat(name),
                self.log_tail()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Checks that the stock host logged no error about the stream machinery (events out of
    /// order, re-entered hooks).
    pub fn check_no_host_errors(&self) {
        let log = self.log();
        let bad: Vec<&str> = log
            .lines()
            .filter(|l| {
                l.contains("out of order") || l.contains("re-entered") || l.contains("inside its module hook")
            })
            .collect();
        self.check(bad.is_empty(), &format!("host errors:\n{}", bad.join("\n")));
    }

    /// Panics with Envoy's log if `condition` is false.
    pub fn check(&self, condition: bool, what: &str) {
        assert!(condition, "Envoy {}: {what}\n--- Envoy log (tail) ---\n{}", self.version, self.log_tail());
    }
}

impl Drop for Envoy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!("--- Envoy {} log (tail) ---\n{}", self.version, self.log_tail());
        }
    }
}

/// A fresh temporary directory for one Envoy.
pub fn temp_dir() -> tempfile::TempDir {
    tempfile::Builder::new().prefix("envoyx-e2e-").tempdir().unwrap()
}
