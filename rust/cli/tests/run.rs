//! `envoyx run` end to end: the built `envoyx` binary serving through real Envoy on 127.0.0.1
//! with free ports, driven by HTTP requests, stopped with SIGINT/SIGTERM by PID; and its errors
//! on bad input.

use envoyx_harness::{Message, Upstream, free_port, request};
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Long enough for a cold build of the stock host and every example, and an Envoy install.
const READY_TIMEOUT: Duration = Duration::from_secs(900);

/// A running `envoyx run`: its stdout lines as they come, its stderr collected.
struct Run {
    child: Child,
    lines: Receiver<String>,
    stdout: Vec<String>,
    stderr: Arc<Mutex<String>>,
    envoy_pid: Option<u32>,
}

impl Run {
    fn start(args: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_envoyx"))
            .arg("run")
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (send, lines) = channel();
        let stdout = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = send.send(line);
            }
        });
        let stderr = Arc::new(Mutex::new(String::new()));
        let collected = stderr.clone();
        let mut pipe = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = pipe.read(&mut buf) {
                if n == 0 {
                    break;
                }
                collected.lock().unwrap().push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        Self { child, lines, stdout: Vec::new(), stderr, envoy_pid: None }
    }

    fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Reads stdout up to the "ready" line and returns Envoy's PID from it.
    fn wait_ready(&mut self) -> u32 {
        let deadline = Instant::now() + READY_TIMEOUT;
        while Instant::now() < deadline {
            match self.lines.recv_timeout(Duration::from_millis(200)) {
                Ok(line) => {
                    let ready = line.starts_with("envoyx run: ready:");
                    self.stdout.push(line.clone());
                    if ready {
                        let pid = line.split("(pid ").nth(1).and_then(|r| r.split(')').next()).unwrap();
                        let pid: u32 = pid.parse().unwrap();
                        self.envoy_pid = Some(pid);
                        return pid;
                    }
                }
                Err(_) => {
                    if let Some(status) = self.child.try_wait().unwrap() {
                        panic!(
                            "envoyx run exited ({status}) before ready:\n{}\n{}",
                            self.stdout.join("\n"),
                            self.stderr()
                        );
                    }
                }
            }
        }
        panic!("envoyx run not ready in {READY_TIMEOUT:?}:\n{}", self.stderr());
    }

    /// Sends `signal` to envoyx and returns its exit code.
    fn signal_and_wait(&mut self, signal: libc::c_int) -> i32 {
        let pid = libc::pid_t::try_from(self.child.id()).unwrap();
        // Safety: kill(2) on our own child, not yet reaped (we wait for it below).
        unsafe { libc::kill(pid, signal) };
        let status = self.wait(Duration::from_secs(60)).expect("envoyx run did not exit after the signal");
        while let Ok(line) = self.lines.recv_timeout(Duration::from_millis(200)) {
            self.stdout.push(line);
        }
        status.code().unwrap_or_else(|| panic!("envoyx run killed by a signal: {status}"))
    }

    fn wait(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }
}

impl Drop for Run {
    /// A failed test still stops envoyx (SIGTERM, then SIGKILL) and its Envoy (by PID).
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let pid = libc::pid_t::try_from(self.child.id()).unwrap();
            // Safety: kill(2) on our own child, not yet reaped.
            unsafe { libc::kill(pid, libc::SIGTERM) };
            if self.wait(Duration::from_secs(30)).is_none() {
                let _ = self.child.kill();
                let _ = self.child.wait();
            }
        }
        if let Some(pid) = self.envoy_pid
            && is_envoy(pid)
        {
            // Safety: kill(2) on the Envoy our envoyx started (checked by its command line).
            unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
        }
    }
}

fn is_envoy(pid: u32) -> bool {
    std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| String::from_utf8_lossy(&c).contains("envoy"))
}

/// Asserts the Envoy process is gone (its envoyx reaped it).
fn assert_gone(pid: u32) {
    assert!(
        !Path::new(&format!("/proc/{pid}")).exists(),
        "Envoy (pid {pid}) still exists after envoyx run exited"
    );
}

/// `envoyx run` with bad arguments: its exit code and stderr (it must not start anything).
fn run_fails(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_envoyx")).arg("run").args(args).output().unwrap();
    (out.status.code().unwrap(), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// A curl line as printed by the demo, as a request: `curl -s[i] URL [-H 'h: v'] [--data(-binary) 'b']`.
struct Curl {
    line: String,
    port: u16,
    path: String,
    headers: Vec<(String, String)>,
    body: Option<String>,
}

fn parse_curl(line: &str) -> Curl {
    // Shell words: single quotes only, as the demo prints.
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quoted = false;
    let mut in_word = false;
    for c in line.trim().chars() {
        match c {
            '\'' => {
                quoted = !quoted;
                in_word = true;
            }
            ' ' if !quoted => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            c => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(word);
    }
    assert_eq!(words[0], "curl", "{line}");
    let mut curl =
        Curl { line: line.trim().to_string(), port: 0, path: String::new(), headers: vec![], body: None };
    let mut words = words.into_iter().skip(1);
    while let Some(w) = words.next() {
        match w.as_str() {
            "-s" | "-si" | "-sN" => {}
            "-H" => {
                let h = words.next().unwrap();
                let (k, v) = h.split_once(": ").unwrap();
                curl.headers.push((k.to_string(), v.to_string()));
            }
            "--data" | "--data-binary" => curl.body = Some(words.next().unwrap()),
            url => {
                let rest = url.strip_prefix("http://127.0.0.1:").unwrap_or_else(|| panic!("{line}"));
                let (port, path) = rest.split_at(rest.find('/').unwrap());
                curl.port = port.parse().unwrap();
                curl.path = path.to_string();
            }
        }
    }
    curl
}

fn send(curl: &Curl) -> Message {
    let headers: Vec<(&str, &str)> = curl.headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let method = if curl.body.is_some() { "POST" } else { "GET" };
    request(curl.port, method, &curl.path, &headers, curl.body.as_deref().unwrap_or("").as_bytes())
        .unwrap_or_else(|e| panic!("{}: {e}", curl.line))
}

#[test]
fn demo_serves_each_example_on_its_prefix_and_stops_cleanly_on_ctrl_c() {
    let port = free_port().unwrap();
    let listen = format!("127.0.0.1:{port}");
    let mut run = Run::start(&["--listen", &listen]);
    let envoy_pid = run.wait_ready();
    assert!(is_envoy(envoy_pid), "pid {envoy_pid} is not an Envoy");
    let out = run.stdout.join("\n");
    assert!(out.contains("admin: http://127.0.0.1:"), "{out}");

    // Every curl line the demo prints, sent as printed.
    let curls: Vec<Curl> =
        run.stdout.iter().filter(|l| l.trim_start().starts_with("curl ")).map(|l| parse_curl(l)).collect();
    assert_eq!(curls.len(), 20, "{out}");
    let reply_to = |path: &str, with: &str| -> Message {
        let curl = curls
            .iter()
            .find(|c| c.path == path && c.line.contains(with))
            .unwrap_or_else(|| panic!("no curl line for {path} with {with:?}:\n{out}"));
        assert_eq!(curl.port, port, "{}", curl.line);
        send(curl)
    };

    // helloworld: passes the body through and logs each event (copied to envoyx's stderr).
    let reply = reply_to("/helloworld", "hello");
    assert_eq!((reply.status(), reply.body.as_slice()), (200, &b"hello"[..]));

    // headers: both directions.
    let reply = reply_to("/headers", "x-envoyx-echo");
    assert_eq!(reply.header("x-envoyx-response"), Some("ok"));
    assert_eq!(reply.header_all("x-envoyx-echo"), ["one", "two"]);
    let reply = reply_to("/headers", "x-envoyx-remove-me");
    assert_eq!(reply.header("x-upstream-saw-x-envoyx-seen"), Some("true"));
    assert_eq!(reply.header_all("x-upstream-saw-x-envoyx-multi"), ["first", "added-by-envoyx"]);
    assert_eq!(reply.header("x-upstream-saw-x-envoyx-remove-me"), None);

    // body-rewrite, body-replace.
    assert_eq!(reply_to("/body-rewrite", "hello").body, b"HELLO, WORLD");
    assert_eq!(reply_to("/body-replace", "cruel").body, b"<<hello, kind world>>");

    // send-response: 401 without authorization, upstream with it, 500 on the response path.
    let reply = reply_to("/send-response", "");
    assert_eq!(reply.status(), 401);
    assert_eq!(reply.header("www-authenticate"), Some("Bearer"));
    assert_eq!(reply.body, b"unauthorized\n");
    let authorized = curls.iter().find(|c| c.path == "/send-response" && !c.headers.is_empty()).unwrap();
    assert_eq!(send(authorized).status(), 200);
    let reply = reply_to("/fail-response", "authorization");
    assert_eq!(reply.status(), 500);
    assert_eq!(reply.body, b"failed on response path\n");

    // delay: held ~250 ms.
    let start = Instant::now();
    let reply = reply_to("/delay", "");
    assert!(start.elapsed() >= Duration::from_millis(250), "{:?}", start.elapsed());
    let held: u64 = reply.header("x-envoyx-delayed-ms").unwrap().parse().unwrap();
    assert!((250..2000).contains(&held), "{held}");

    // json-validate.
    let reply = reply_to("/json-validate", "\"user\"");
    assert_eq!((reply.status(), reply.body.as_slice()), (200, &br#"{"user": "ann"}"#[..]));
    let reply = reply_to("/json-validate", "\"name\"");
    assert_eq!(reply.status(), 400);
    assert_eq!(reply.body, b"{\"error\":\"missing field \\\"user\\\"\"}\n");

    // auth: asks the demo's auth service through the cluster `auth`.
    let reply = reply_to("/auth", "Bearer ann");
    assert_eq!(reply.status(), 200);
    assert_eq!(reply.header("x-upstream-saw-x-auth-user"), Some("ann"));
    let denied = curls.iter().find(|c| c.path == "/auth" && c.headers.is_empty()).unwrap();
    let reply = send(denied);
    assert_eq!((reply.status(), reply.header("www-authenticate")), (401, Some("Bearer")));
    let start = Instant::now();
    let reply = reply_to("/auth", "slow-ann");
    assert_eq!((reply.status(), reply.header("x-auth-error")), (503, Some("status_504")));
    assert!(start.elapsed() < Duration::from_secs(2), "{:?}", start.elapsed());

    // grpc-check: a unary gRPC call to the demo's health service (cluster `grpc`, HTTP/2).
    let plain = curls.iter().find(|c| c.path == "/grpc-check" && c.headers.is_empty()).unwrap();
    let reply = send(plain);
    assert_eq!((reply.status(), reply.header("x-upstream-saw-x-backend-health")), (200, Some("serving")));
    let reply = reply_to("/grpc-check", "draining");
    assert_eq!((reply.status(), reply.header("x-backend-health")), (503, Some("not_serving")));
    let reply = reply_to("/grpc-check", "nobody");
    assert_eq!((reply.status(), reply.header("x-grpc-error")), (503, Some("NOT_FOUND")));
    let start = Instant::now();
    let reply = reply_to("/grpc-check", "slow");
    assert_eq!((reply.status(), reply.header("x-grpc-error")), (503, Some("DEADLINE_EXCEEDED")));
    assert!(start.elapsed() < Duration::from_secs(2), "{:?}", start.elapsed());

    // observe: re-routed, and counted in Envoy's stats (unnamed routes count as `none`).
    let reply = reply_to("/observe/v1/items", "");
    assert_eq!(reply.status(), 200);
    assert_eq!(reply.header("x-upstream-saw-x-observe-rerouted-from"), Some("/observe/v1/items"));
    let admin: u16 = out
        .split("admin: http://127.0.0.1:")
        .nth(1)
        .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no admin port in:\n{out}"));
    let stats = request(admin, "GET", "/stats?filter=envoyx.observe", &[], b"").unwrap();
    let stats = String::from_utf8_lossy(&stats.body).into_owned();
    assert!(stats.contains("envoyx.observe.requests.route.none.class.2xx: 1"), "{stats}");

    // stream-response: answers itself, one event every 200 ms, then trailers end it.
    let start = Instant::now();
    let reply = reply_to("/stream-response", "");
    assert!(start.elapsed() >= Duration::from_millis(800), "{:?}", start.elapsed());
    assert_eq!(reply.header("content-type"), Some("text/event-stream"));
    let body = String::from_utf8_lossy(&reply.body).into_owned();
    assert!(
        body.starts_with("id: 1\ndata: event 1 \n\n") && body.ends_with("id: 5\ndata: event 5 \n\n"),
        "{body}"
    );
    assert!(
        reply.trailers.contains(&("x-envoyx-events-sent".to_string(), "5".to_string())),
        "{:?}",
        reply.trailers
    );

    // Each filter runs only on its own prefix: elsewhere nothing is changed.
    let reply = request(port, "POST", "/elsewhere", &[("x-envoyx-echo", "one")], b"hello").unwrap();
    assert_eq!(reply.status(), 200);
    assert_eq!(reply.body, b"hello");
    assert_eq!(reply.header("x-envoyx-response"), None);
    assert_eq!(reply.header("x-upstream-saw-x-envoyx-seen"), None);
    let reply = request(port, "POST", "/headers", &[], b"lower").unwrap();
    assert_eq!(reply.body, b"lower", "body-rewrite must be off on /headers");

    // helloworld's log lines reach the terminal (give the follower a moment).
    let deadline = Instant::now() + Duration::from_secs(5);
    while !run.stderr().contains("helloworld[helloworld]: stream complete") && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        run.stderr().contains("helloworld[helloworld]: request headers POST /helloworld"),
        "{}",
        run.stderr()
    );

    assert_eq!(run.signal_and_wait(libc::SIGINT), 0, "{}", run.stderr());
    assert_gone(envoy_pid);
    assert!(
        run.stdout.iter().any(|l| l.contains(&format!("Envoy (pid {envoy_pid}) stopped"))),
        "{:?}",
        run.stdout
    );
    assert!(request(port, "GET", "/", &[], b"").is_err(), "the listener is still open");
}

fn example(name: &str) -> PathBuf {
    envoyx_build::build_package(&format!("envoyx-example-{name}"))
}

#[test]
fn modules_chain_in_order_in_front_of_a_given_upstream_and_stop_on_sigterm() {
    let upstream = Upstream::start().unwrap();
    let port = free_port().unwrap();
    let headers = example("headers");
    let rewrite = format!("{}=request", example("body-rewrite").display());
    // A DNS name: a LOGICAL_DNS cluster.
    let url = format!("http://localhost:{}", upstream.port);
    let listen = port.to_string();
    let mut run = Run::start(&[
        "--module",
        headers.to_str().unwrap(),
        "--module",
        &rewrite,
        "--upstream",
        &url,
        "--listen",
        &listen,
    ]);
    let envoy_pid = run.wait_ready();
    let reply = request(port, "POST", "/any/path", &[("x-envoyx-remove-me", "1")], b"chained").unwrap();
    assert_eq!(reply.status(), 200, "{}", run.stderr());
    assert_eq!(reply.header("x-envoyx-response"), Some("ok"), "headers ran on the response");
    assert_eq!(reply.body, b"CHAINED", "body-rewrite (request) ran; the echo sent it back");
    let received = upstream.received();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].start, "POST /any/path HTTP/1.1");
    assert_eq!(received[0].header("x-envoyx-seen"), Some("true"));
    assert_eq!(received[0].header("x-envoyx-remove-me"), None);
    assert_eq!(
        received[0].header("host"),
        Some(format!("localhost:{}", upstream.port).as_str()),
        "auto host rewrite"
    );
    assert_eq!(received[0].body, b"CHAINED");

    assert_eq!(run.signal_and_wait(libc::SIGTERM), 0, "{}", run.stderr());
    assert_gone(envoy_pid);
}

#[test]
fn config_runs_a_users_yaml_with_the_stock_host_found_by_name() {
    let upstream = Upstream::start().unwrap();
    let port = free_port().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let yaml = dir.path().join("envoy.yaml");
    // Admin on port 0: envoyx finds it through the address file Envoy writes.
    std::fs::write(
        &yaml,
        format!(
            r#"admin:
  address: {{ socket_address: {{ address: 127.0.0.1, port_value: 0 }} }}
static_resources:
  listeners:
  - name: mine
    address: {{ socket_address: {{ address: 127.0.0.1, port_value: {port} }} }}
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: mine
          route_config:
            virtual_hosts:
            - {{ name: all, domains: ["*"], routes: [{{ match: {{ prefix: "/" }}, route: {{ cluster: echo }} }}] }}
          http_filters:
          - name: envoy.filters.http.dynamic_modules
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.dynamic_modules.v3.DynamicModuleFilter
              dynamic_module_config: {{ name: envoyx_stock_host }}
              filter_name: headers
              filter_config:
                "@type": type.googleapis.com/google.protobuf.Struct
                value: {{ file_path: {module}, filter_config: "" }}
          - name: envoy.filters.http.router
            typed_config: {{ "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router }}
  clusters:
  - name: echo
    type: STATIC
    load_assignment:
      cluster_name: echo
      endpoints: [{{ lb_endpoints: [{{ endpoint: {{ address: {{ socket_address: {{ address: 127.0.0.1, port_value: {up} }} }} }} }}] }}]
"#,
            module = example("headers").display(),
            up = upstream.port
        ),
    )
    .unwrap();
    let mut run = Run::start(&["--config", yaml.to_str().unwrap()]);
    let envoy_pid = run.wait_ready();
    let out = run.stdout.join("\n");
    assert!(out.contains(&format!("listener mine on 127.0.0.1:{port}")), "{out}");
    assert!(out.contains("admin: http://127.0.0.1:"), "{out}");
    let reply = request(port, "GET", "/", &[], b"").unwrap();
    assert_eq!(reply.status(), 200);
    assert_eq!(reply.header("x-envoyx-response"), Some("ok"));
    assert_eq!(upstream.received()[0].header("x-envoyx-seen"), Some("true"));
    assert_eq!(run.signal_and_wait(libc::SIGINT), 0, "{}", run.stderr());
    assert_gone(envoy_pid);
}

#[test]
fn a_module_envoy_refuses_is_reported_with_envoys_reason_and_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let fake = dir.path().join("libnot_a_module.so");
    std::fs::write(&fake, "not an ELF file").unwrap();
    let port = free_port().unwrap().to_string();
    let mut run = Run::start(&["--module", fake.to_str().unwrap(), "--listen", &port]);
    let status = run.wait(READY_TIMEOUT).expect("envoyx run kept running on a bad module");
    let stderr = run.stderr();
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("exited while starting"), "{stderr}");
    assert!(stderr.contains(fake.to_str().unwrap()), "Envoy's reason names the file: {stderr}");
    assert!(stderr.contains("envoyx check"), "says what to do: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn bad_arguments_are_refused_naming_the_flag() {
    let (code, stderr) = run_fails(&["--module", "/nonexistent/libx.so=cfg"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("--module /nonexistent/libx.so: no such file"), "{stderr}");
    let (code, stderr) = run_fails(&["--upstream", "https://example.com"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("--upstream https://example.com: https is not supported"), "{stderr}");
    let (code, stderr) = run_fails(&["--upstream", "localhost:8080"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("--upstream localhost:8080: not a URL"), "{stderr}");
    let (code, stderr) = run_fails(&["--config", "/nonexistent/envoy.yaml"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("--config /nonexistent/envoy.yaml: no such file"), "{stderr}");
    let (code, stderr) = run_fails(&["--envoy-version", "1.2.3"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("--envoy-version 1.2.3") && stderr.contains("1.40.0"), "{stderr}");
    let (code, stderr) = run_fails(&["--listen", "nowhere"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("--listen nowhere"), "{stderr}");
    let (code, stderr) = run_fails(&["--frobnicate"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("unknown option `--frobnicate`"), "{stderr}");
    let yaml = tempfile::NamedTempFile::new().unwrap();
    let (code, stderr) =
        run_fails(&["--config", yaml.path().to_str().unwrap(), "--upstream", "http://127.0.0.1:1"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("--upstream would be ignored"), "{stderr}");
    let go_dir = tempfile::tempdir().unwrap();
    std::fs::write(go_dir.path().join("go.mod"), "module x\n").unwrap();
    let (code, stderr) = run_fails(&["--watch", go_dir.path().to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(stderr.contains("a Go module; Go modules cannot be swapped into a running Envoy"), "{stderr}");
    let (code, stderr) = run_fails(&["--cluster", "auth"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("--cluster auth: give NAME=http://HOST:PORT"), "{stderr}");
    let (code, stderr) = run_fails(&["--cluster", "auth=https://x"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("--cluster auth=https://x: https is not supported"), "{stderr}");
    let (code, stderr) = run_fails(&["--cluster", "upstream=http://127.0.0.1:1"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("set it with --upstream"), "{stderr}");
    let (code, stderr) = run_fails(&["--cluster", "auth=http://127.0.0.1:1"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("--cluster is for the modules you serve"), "{stderr}");
    for (_, stderr) in [run_fails(&["--module"]), run_fails(&["--upstream", "http://x:99999"])] {
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

#[test]
fn a_taken_listen_port_is_refused_before_envoy_starts() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap().to_string();
    let mut run = Run::start(&["--module", example("helloworld").to_str().unwrap(), "--listen", &address]);
    let status = run.wait(READY_TIMEOUT).expect("envoyx run kept running");
    assert_eq!(status.code(), Some(1));
    assert!(run.stderr().contains(&format!("--listen {address}: cannot listen there")), "{}", run.stderr());
}

#[test]
fn runs_on_envoy_1_38_3_too() {
    let port = free_port().unwrap();
    let listen = port.to_string();
    let mut run = Run::start(&[
        "--envoy-version",
        "1.38.3",
        "--module",
        example("headers").to_str().unwrap(),
        "--listen",
        &listen,
    ]);
    let envoy_pid = run.wait_ready();
    assert!(run.stdout.iter().any(|l| l.contains("Envoy 1.38.3")), "{:?}", run.stdout);
    let reply = request(port, "GET", "/", &[], b"").unwrap();
    assert_eq!(reply.header("x-envoyx-response"), Some("ok"));
    assert_eq!(run.signal_and_wait(libc::SIGINT), 0, "{}", run.stderr());
    assert_gone(envoy_pid);
}

#[test]
fn a_killed_envoyx_takes_its_envoy_along() {
    // Envoy runs in its own process group (a terminal's Ctrl-C reaches only envoyx, which stops
    // it cleanly); if envoyx cannot stop it — SIGKILL — the parent-death signal does.
    let upstream = Upstream::start().unwrap();
    let port = free_port().unwrap();
    let headers = example("headers");
    let url = format!("http://127.0.0.1:{}", upstream.port);
    let listen = port.to_string();
    let mut run =
        Run::start(&["--module", headers.to_str().unwrap(), "--upstream", &url, "--listen", &listen]);
    let envoy_pid = run.wait_ready();
    assert_eq!(request(port, "GET", "/", &[], b"").unwrap().status(), 200, "{}", run.stderr());
    // Safety: getpgid(2) only reads the process table.
    let envoy_group = unsafe { libc::getpgid(envoy_pid as libc::pid_t) };
    assert_eq!(envoy_group, envoy_pid as libc::pid_t, "Envoy leads its own process group");

    run.child.kill().unwrap();
    run.child.wait().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    // Gone, or a zombie waiting for whoever inherited it: either way no longer running.
    let running = || {
        std::fs::read_to_string(format!("/proc/{envoy_pid}/stat"))
            .is_ok_and(|stat| stat.rsplit(')').next().is_some_and(|rest| !rest.trim_start().starts_with('Z')))
    };
    while running() {
        assert!(Instant::now() < deadline, "Envoy (pid {envoy_pid}) kept running after envoyx was killed");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `GET /` on `port`: the `x-hello` header (the scaffolded module's), or "none".
fn hello_at(port: u16) -> String {
    let reply = request(port, "GET", "/", &[], b"").unwrap();
    reply.header("x-hello").unwrap_or("none").to_string()
}

/// Waits until `GET /` answers with `x-hello: want`; panics with the run's stderr after `timeout`.
fn wait_hello(run: &Run, port: u16, want: &str, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    while hello_at(port) != want {
        assert!(Instant::now() < deadline, "never served x-hello: {want}:\n{}", run.stderr());
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn watch_rebuilds_the_crate_on_change_and_swaps_it_into_the_running_envoy() {
    let dir = tempfile::tempdir().unwrap();
    let created = Command::new(env!("CARGO_BIN_EXE_envoyx"))
        .args(["new", "hello_watch", "--path"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(created.status.success(), "{}", String::from_utf8_lossy(&created.stderr));
    let crate_dir = dir.path().join("hello_watch");
    let port = free_port().unwrap();
    let listen = port.to_string();
    let mut run = Run::start(&["--watch", crate_dir.to_str().unwrap(), "--listen", &listen]);
    run.wait_ready();
    assert_eq!(hello_at(port), "hello from hello_watch", "{}", run.stderr());

    // Edit, save, see: the new build serves without a restart.
    let lib = crate_dir.join("src/lib.rs");
    let source = std::fs::read_to_string(&lib).unwrap();
    std::fs::write(
        &lib,
        source.replace("hello from {name}", "edited").replace("hello from hello_watch", "edited"),
    )
    .unwrap();
    wait_hello(&run, port, "edited", Duration::from_secs(300));

    // A build that fails is reported and the last good build serves on; fixing it swaps again.
    let good = std::fs::read_to_string(&lib).unwrap();
    std::fs::write(&lib, format!("{good}\nfn broken() -> u32 {{ \"not a number\" }}\n")).unwrap();
    let deadline = Instant::now() + Duration::from_secs(300);
    while !run.stderr().contains("the last good build keeps serving") {
        assert!(Instant::now() < deadline, "the failed build is not reported:\n{}", run.stderr());
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(run.stderr().contains("mismatched types"), "cargo's error is shown:\n{}", run.stderr());
    assert_eq!(hello_at(port), "edited");
    std::fs::write(&lib, good.replace("\"edited\"", "\"fixed\"")).unwrap();
    wait_hello(&run, port, "fixed", Duration::from_secs(300));
    assert_eq!(run.signal_and_wait(libc::SIGTERM), 0, "{}", run.stderr());
}

/// Runs the built `envoyx` with `args` in `dir`; returns the exit code and both outputs.
fn envoyx_in(dir: &Path, args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_envoyx")).args(args).current_dir(dir).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.code().unwrap_or(-1), text)
}

/// A Go author's path with only envoyx's commands: `envoyx new --lang go`, `envoyx go test`
/// (the filter through the real core), `envoyx go build`, `envoyx check`, and `envoyx run
/// --module` serving it through real Envoy.
#[test]
fn a_go_module_made_by_envoyx_new_tests_builds_checks_and_serves() {
    let parent = Path::new(env!("CARGO_TARGET_TMPDIR")).join("go-new");
    let _ = std::fs::remove_dir_all(&parent);
    std::fs::create_dir_all(&parent).unwrap();
    let (code, out) = envoyx_in(&parent, &["new", "go-hello", "--lang", "go"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("created Go module `go-hello`") && out.contains("envoyx go test ./..."), "{out}");
    let dir = parent.join("go-hello");
    for file in ["go.mod", "filter.go", "main.go", "filter_test.go", "envoy.yaml", "README.md", ".gitignore"]
    {
        assert!(dir.join(file).is_file(), "{file} not generated");
    }
    // Its README's steps are the ones this test takes: no upstream of the user's to start
    // (`envoyx run` answers with its own), and how plain `go test` finds the test host.
    let readme = std::fs::read_to_string(dir.join("README.md")).unwrap();
    assert!(!readme.contains("http.server") && readme.contains("envoyx go test-env"), "{readme}");

    let (code, out) = envoyx_in(&dir, &["go", "test", "-count=1", "-v", "./..."]);
    assert_eq!(code, 0, "{out}");
    for test in
        ["TestAddsTheConfiguredHeader", "TestAnEmptyConfigUsesTheDefault", "TestAControlCharacterIsRefused"]
    {
        assert!(out.contains(&format!("--- PASS: {test}")), "{test}: {out}");
    }
    let (code, out) = envoyx_in(&dir, &["go", "vet", "./..."]);
    assert_eq!(code, 0, "go vet: {out}");

    // Plain `go test` (an editor's test runner) with what `envoyx go test-env` prints, through a
    // shell as its README says.
    let printed = Command::new(env!("CARGO_BIN_EXE_envoyx")).args(["go", "test-env"]).output().unwrap();
    let env = String::from_utf8_lossy(&printed.stdout).into_owned();
    assert!(printed.status.success(), "{env}{}", String::from_utf8_lossy(&printed.stderr));
    assert!(env.contains("export ENVOYX_TESTHOST_LIB=/"), "{env}");
    let plain = Command::new("sh")
        .args(["-c", &format!("{env}\ngo test -count=1 -run TestAddsTheConfiguredHeader -v ./...")])
        .current_dir(&dir)
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&plain.stdout).into_owned() + &String::from_utf8_lossy(&plain.stderr);
    assert!(plain.status.success() && out.contains("--- PASS: TestAddsTheConfiguredHeader"), "{out}");

    let (code, out) = envoyx_in(&dir, &["go", "build", "-buildmode=c-shared", "-o", "libgo_hello.so", "."]);
    assert_eq!(code, 0, "{out}");
    let module = dir.join("libgo_hello.so");
    let (code, out) = envoyx_in(&dir, &["check", module.to_str().unwrap(), "--filter-config", "hi"]);
    assert_eq!(code, 0, "envoyx check: {out}");

    // The generated envoy.yaml names the module where `envoyx go build` put it: Envoy's validate
    // mode builds its filter configuration (the stock host loads the Go module through the core).
    let yaml = std::fs::read_to_string(dir.join("envoy.yaml")).unwrap();
    assert!(yaml.contains(&format!("file_path: \"{}\"", module.display())), "{yaml}");
    let envoy = envoyx_harness::envoy_path("1.40.0").expect("install Envoy 1.40.0");
    let validate = Command::new(&envoy)
        .args(["--mode", "validate", "-c"])
        .arg(dir.join("envoy.yaml"))
        .env("ENVOY_DYNAMIC_MODULES_SEARCH_PATH", envoyx_harness::stock_host().parent().unwrap())
        .output()
        .unwrap();
    let log =
        String::from_utf8_lossy(&validate.stdout).into_owned() + &String::from_utf8_lossy(&validate.stderr);
    assert!(validate.status.success() && log.contains("libgo_hello.so ready"), "{log}");

    let upstream = Upstream::start().unwrap();
    let port = free_port().unwrap();
    let module_arg = format!("{}=hi from go", module.display());
    let url = format!("http://127.0.0.1:{}", upstream.port);
    let listen = port.to_string();
    let mut run = Run::start(&["--module", &module_arg, "--upstream", &url, "--listen", &listen]);
    let envoy_pid = run.wait_ready();
    let reply = request(port, "GET", "/", &[], b"").unwrap();
    assert_eq!(reply.status(), 200, "{}", run.stderr());
    assert_eq!(reply.header("x-hello"), Some("hi from go"), "{}", run.stderr());
    // It says which stock host it serves, and that it is a debug build.
    assert!(
        run.stderr().contains("stock host: ") && run.stderr().contains("(a debug build:"),
        "{}",
        run.stderr()
    );
    assert_eq!(run.signal_and_wait(libc::SIGTERM), 0, "{}", run.stderr());
    assert_gone(envoy_pid);

    // A broken edit: `envoyx go test` fails with Go's own message and exit code.
    let filter = std::fs::read_to_string(dir.join("filter.go")).unwrap();
    std::fs::write(dir.join("filter.go"), filter.replace("return envoyx.HeadersContinue", "return nil"))
        .unwrap();
    let (code, out) = envoyx_in(&dir, &["go", "test", "./..."]);
    assert_ne!(code, 0, "{out}");
    assert!(out.contains("filter.go") && out.contains("cannot use nil"), "{out}");
}

/// `--cluster NAME=URL` gives a module served with `--module` the cluster it calls out to: the
/// auth example asks the auth service behind the cluster `auth` about each request.
#[test]
fn a_module_calls_out_to_a_cluster_given_on_the_command_line() {
    let module = envoyx_build::build_package("envoyx-example-auth");
    let auth = envoyx_harness::AuthServer::start().unwrap();
    let port = free_port().unwrap();
    let module_arg = format!("{}=cluster=auth timeout_ms=2000", module.display());
    let cluster = format!("auth=http://127.0.0.1:{}", auth.port);
    let listen = port.to_string();
    let mut run = Run::start(&["--module", &module_arg, "--cluster", &cluster, "--listen", &listen]);
    let envoy_pid = run.wait_ready();
    let allowed = request(port, "GET", "/", &[("authorization", "Bearer ann")], b"").unwrap();
    assert_eq!(allowed.status(), 200, "{}", run.stderr());
    assert_eq!(allowed.header("x-upstream-saw-x-auth-user"), Some("ann"), "{}", run.stderr());
    let denied = request(port, "GET", "/", &[], b"").unwrap();
    assert_eq!(denied.status(), 401, "{}", run.stderr());
    assert_eq!(run.signal_and_wait(libc::SIGTERM), 0, "{}", run.stderr());
    assert_gone(envoy_pid);
}
