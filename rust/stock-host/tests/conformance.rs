//! The conformance suite (`rust/conformance`) inside real Envoy: the stock host in official Envoy
//! 1.38.3, 1.39.3 and 1.40.0 (or the binary `ENVOYX_E2E_ENVOY` names), with clients speaking
//! HTTP/1.1 and HTTP/2. Each case's filter config gets its own listener on one Envoy; each
//! exchange runs twice, so the second goes over the upstream connection the first used and a
//! body that disagreed with its framing would show at the keep-alive echo upstream as a lost byte
//! or a garbled next request. A filter config the module refuses is started in an Envoy of its
//! own, which must exit naming the reason. The conformance module built from each released
//! minor's sources in git history (the 1.0 and 1.1 SDKs) runs every case of its minor in Envoy
//! 1.40.0 too, and the Go conformance module its cases in every Envoy.

mod support;

use std::collections::{BTreeSet, HashMap};
use std::io::{BufReader, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use envoyx_conformance::{CASES, Case, ClientSaw, Expect, Host, HostKind, Observed, Seen};
use support::*;

struct EnvoyHost {
    version: &'static str,
    module: PathBuf,
    /// The ABI minor `module` was built for.
    module_minor: u32,
    /// `module` is the Go conformance module (it runs the cases marked `go`).
    go: bool,
    http2: bool,
    upstream: Upstream,
    /// Behind the cluster `callout` the conformance module calls out to (an echo upstream too).
    _callout_upstream: Upstream,
    envoy: Envoy,
    /// The listener port of each filter config.
    ports: HashMap<&'static str, u16>,
    /// The log of the Envoy that refused each filter config (one Envoy start per config, shared
    /// by both protocols).
    refusals: HashMap<String, String>,
    /// Every listener's access log (a line per request: [`ACCESS_LOG_FORMAT`]).
    access_log: PathBuf,
    _access_log_dir: tempfile::TempDir,
}

/// The access log of every conformance listener: what the `text-*` cases may set (a clean value
/// and one that would forge a line) and the local reply's details, a line per request.
fn access_log_format() -> String {
    use envoyx_conformance::{FORGED_KEY, TEXT_KEY};
    format!(
        "ACCESS case=%REQ(x-case)% md=%DYNAMIC_METADATA({TEXT_KEY}:value)% \
         md-forged=%DYNAMIC_METADATA({TEXT_KEY}:{FORGED_KEY})% fs=%FILTER_STATE({TEXT_KEY}:PLAIN)% \
         fs-forged=%FILTER_STATE({FORGED_KEY}:PLAIN)% details=%RESPONSE_CODE_DETAILS%\n"
    )
}

fn conformance_filter(module: &Path, filter_config: &str) -> serde_json::Value {
    let config = module_config("conformance", module, filter_config);
    envoyx_filter("conformance", config, LoadBy::Name, Form::Struct)
}

impl EnvoyHost {
    fn start(version: &'static str) -> Self {
        let module = envoyx_testhost::build_package("envoyx-test-module-conformance");
        Self::start_with(version, module, envoyx_abi::ENVOYX_ABI_VERSION_MINOR, false)
    }

    fn start_with(version: &'static str, module: PathBuf, module_minor: u32, go: bool) -> Self {
        let upstream = start_upstream();
        let configs: BTreeSet<&'static str> = CASES
            .iter()
            .filter(|case| matches!(case.expect, Expect::Exchange { .. }) && (case.go || !go))
            .map(|case| case.filter_config)
            .collect();
        let ports: HashMap<&'static str, u16> = configs.iter().map(|config| (*config, free_port())).collect();
        let access_log_dir = temp_dir();
        let access_log = access_log_dir.path().join("access.log");
        let listeners = configs
            .iter()
            .enumerate()
            .map(|(i, config)| {
                let routes = conformance_routes(&module, module_minor, go, config);
                let filters = vec![preset_filter_state_filter(), conformance_filter(&module, config)];
                let listener = envoyx_harness::proxy::http_listener(
                    &format!("conformance{i}"),
                    "127.0.0.1",
                    ports[config],
                    routes,
                    filters,
                );
                with_access_log(listener, &access_log, &access_log_format())
            })
            .collect();
        let callout_upstream = start_upstream();
        let envoy = start_envoy(
            version,
            &with_callout_cluster(bootstrap(free_port(), upstream.port, listeners, None), &callout_upstream),
            temp_dir(),
        );
        Self {
            version,
            module,
            module_minor,
            go,
            http2: false,
            upstream,
            _callout_upstream: callout_upstream,
            envoy,
            ports,
            refusals: HashMap::new(),
            access_log,
            _access_log_dir: access_log_dir,
        }
    }

    /// Checks the access log: a whole line per request (none split by a value a module set),
    /// and the `text-*` cases' clean values where they set them, the forged ones nowhere.
    fn check_access_log(&self) {
        // Envoy writes access logs out every 250 ms (the harness's flush interval).
        std::thread::sleep(Duration::from_millis(600));
        let log = std::fs::read_to_string(&self.access_log).unwrap_or_default();
        let split: Vec<&str> = log.lines().filter(|line| !line.starts_with("ACCESS case=")).collect();
        self.envoy
            .check(split.is_empty(), &format!("access log lines split or forged:\n{}", split.join("\n")));
        for (case, field) in [("text-metadata", "md=clean"), ("text-filter-state", "fs=clean")] {
            let lines: Vec<&str> =
                log.lines().filter(|line| line.contains(&format!("case={case} "))).collect();
            let missing: Vec<&&str> = lines.iter().filter(|line| !line.contains(field)).collect();
            self.envoy.check(
                missing.is_empty(),
                &format!("access log lines of {case} without {field}: {missing:?}"),
            );
        }
        let forged =
            log.lines().filter(|line| !line.contains("md-forged=- ") || !line.contains("fs-forged=- "));
        let forged: Vec<&str> = forged.collect();
        self.envoy.check(forged.is_empty(), &format!("a forged value was set:\n{}", forged.join("\n")));
    }
}

/// `bootstrap` with the cluster the conformance module's callouts go to
/// ([`envoyx_conformance::CALLOUT_CLUSTER`]), served by `upstream`, and one without endpoints
/// ([`envoyx_conformance::UNHEALTHY_CLUSTER`]), which Envoy's router answers 503 at once.
fn with_callout_cluster(mut bootstrap: serde_json::Value, upstream: &Upstream) -> serde_json::Value {
    let cluster = envoyx_harness::proxy::static_cluster(
        envoyx_conformance::CALLOUT_CLUSTER,
        "127.0.0.1",
        upstream.port,
    );
    let mut unhealthy =
        envoyx_harness::proxy::static_cluster(envoyx_conformance::UNHEALTHY_CLUSTER, "127.0.0.1", 1);
    unhealthy["load_assignment"]["endpoints"] = serde_json::json!([]);
    let clusters = bootstrap["static_resources"]["clusters"].as_array_mut().expect("clusters");
    clusters.push(cluster);
    clusters.push(unhealthy);
    bootstrap
}

/// The path a case's request takes: `/route/<per-route config>` for a case with one (that route
/// carries it), the request's own path otherwise (`/`, or the cluster-less route).
fn case_path(case: &Case) -> String {
    if case.route_config.is_empty() {
        case.request.path.to_string()
    } else {
        format!("/route/{}", case.route_config)
    }
}

/// The routes of the listener for `filter_config`: one per distinct per-route config of its
/// cases the module (built for ABI 1.`module_minor`; `go`: the Go conformance module) runs,
/// carrying it in `typed_per_filter_config` (upstream's `DynamicModuleFilterPerRoute` holding the
/// EnvoyX `DynamicModuleConfigPerRoute` as a Struct), then `/`.
fn conformance_routes(
    module: &Path,
    module_minor: u32,
    go: bool,
    filter_config: &str,
) -> Vec<serde_json::Value> {
    let route_configs: BTreeSet<&str> = CASES
        .iter()
        .filter(|case| case.filter_config == filter_config && case.since_minor <= module_minor)
        .filter(|case| case.go || !go)
        .filter(|case| !case.route_config.is_empty())
        .map(|case| case.route_config)
        .collect();
    let mut routes: Vec<serde_json::Value> = route_configs
        .into_iter()
        .map(|route_config| {
            let mut route =
                envoyx_harness::proxy::route(&format!("/route/{route_config}"), "upstream", &[], None);
            route["typed_per_filter_config"] = serde_json::json!({
                "envoy.filters.http.dynamic_modules":
                    envoyx_per_route(module_config("conformance-route", module, route_config))
            });
            route
        })
        .collect();
    // The cluster `empty` has no host: the router answers 503 no_healthy_upstream itself.
    routes.push(envoyx_harness::proxy::route(envoyx_conformance::NO_UPSTREAM, "empty", &[], None));
    routes.push(envoyx_harness::proxy::route("/", "upstream", &[], None));
    routes
}

/// Lower-cased header pairs of an HTTP/2 header map.
fn h2_pairs(headers: &http::HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(k, v)| (k.as_str().to_string(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
        .collect()
}

/// One HTTP/1.1 request on a new connection (`connection: close`): `content-length`, or chunked
/// with trailers. Anything short of a complete response is a reset.
fn h1_exchange(
    port: u16,
    path: &str,
    headers: &[(String, String)],
    body: &[u8],
    trailers: &[(&str, &str)],
) -> ClientSaw {
    let attempt = || -> std::io::Result<envoyx_harness::Message> {
        let mut conn = TcpStream::connect(("127.0.0.1", port))?;
        conn.set_read_timeout(Some(Duration::from_secs(30)))?;
        let mut out = format!("POST {path} HTTP/1.1\r\nhost: conformance\r\nconnection: close\r\n");
        for (name, value) in headers {
            out.push_str(&format!("{name}: {value}\r\n"));
        }
        let mut out = if trailers.is_empty() {
            out.push_str("\r\n");
            let mut out = out.into_bytes();
            out.extend_from_slice(body);
            out
        } else {
            out.push_str("transfer-encoding: chunked\r\n\r\n");
            out.push_str(&format!("{:x}\r\n", body.len()));
            let mut out = out.into_bytes();
            out.extend_from_slice(body);
            out.extend_from_slice(b"\r\n0\r\n");
            out
        };
        for (name, value) in trailers {
            out.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
        }
        if !trailers.is_empty() {
            out.extend_from_slice(b"\r\n");
        }
        conn.write_all(&out)?;
        envoyx_harness::read_message(&mut BufReader::new(conn), true)?.ok_or_else(|| {
            std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "closed without a response")
        })
    };
    match attempt() {
        Ok(reply) => ClientSaw::Response {
            status: reply.status(),
            seen: Seen {
                headers: reply.headers.clone(),
                body: reply.body.clone(),
                trailers: reply.trailers.clone(),
            },
        },
        // HTTP/1.1 cannot tell a refused stream from another reset.
        Err(e) => ClientSaw::Reset { how: e.to_string(), refused: None },
    }
}

impl Host for EnvoyHost {
    fn kind(&self) -> HostKind {
        HostKind::Envoy { http2: self.http2 }
    }

    fn exchange(&mut self, case: &Case) -> Result<Observed, String> {
        let request = &case.request;
        let port = *self.ports.get(case.filter_config).ok_or("no listener for this filter config")?;
        let before = self.upstream.received().len();
        let headers = request.headers_for(case.name);
        let body = request.body_bytes();
        let path = case_path(case);
        let client = if self.http2 {
            let pairs: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            match h2_request(port, "POST", &path, &pairs, &body, request.trailers) {
                Ok(reply) => ClientSaw::Response {
                    status: reply.status,
                    seen: Seen {
                        headers: h2_pairs(&reply.headers),
                        body: reply.body,
                        trailers: reply.trailers.as_ref().map(h2_pairs).unwrap_or_default(),
                    },
                },
                // h2 names the RST_STREAM code: REFUSED_STREAM reads "refused stream …".
                Err(e) => ClientSaw::Reset { refused: Some(e.contains("refused stream")), how: e },
            }
        } else {
            h1_exchange(port, &path, &headers, &body, request.trailers)
        };
        let upstream = self.upstream.received()[before..]
            .iter()
            .map(|m| Seen { headers: m.headers.clone(), body: m.body.clone(), trailers: Vec::new() })
            .collect();
        Ok(Observed { upstream, client })
    }

    fn load_error(&mut self, filter_config: &str) -> Result<String, String> {
        if let Some(log) = self.refusals.get(filter_config) {
            return Ok(log.clone());
        }
        let listeners =
            vec![listener("refused", free_port(), vec![conformance_filter(&self.module, filter_config)])];
        let mut envoy = spawn_envoy(
            self.version,
            &bootstrap(free_port(), self.upstream.port, listeners, None),
            temp_dir(),
        );
        match envoy.wait_exit(Duration::from_secs(30)) {
            Some(1) => {
                let log = envoy.log();
                self.refusals.insert(filter_config.to_string(), log.clone());
                Ok(log)
            }
            code => Err(format!("Envoy exited with {code:?}, not 1:\n{}", envoy.log_tail())),
        }
    }

    fn logged(&mut self, needle: &str) -> bool {
        self.envoy.log().contains(needle)
    }

    fn module_abi_minor(&self) -> u32 {
        self.module_minor
    }

    fn go_module(&self) -> bool {
        self.go
    }
}

#[test]
fn conformance_in_real_envoy_over_http1_and_http2() {
    for version in VERSIONS {
        let mut host = EnvoyHost::start(version);
        for http2 in [false, true] {
            host.http2 = http2;
            let protocol = if http2 { "HTTP/2" } else { "HTTP/1.1" };
            envoyx_conformance::run(&mut host, &format!("Envoy {version} over {protocol}"));
        }
        host.envoy.check_no_host_errors();
        host.check_access_log();
    }
}

/// The conformance module as each released minor built it (its sources and SDK from git
/// history: `envoyx_build::RELEASES`) runs every case of its minor in Envoy 1.40.0.
#[test]
fn conformance_of_the_released_modules_in_envoy_1_40() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    for &(minor, _) in envoyx_build::RELEASES {
        let module = envoyx_build::build_released(
            &repo,
            minor,
            "envoyx-test-module-conformance",
            Path::new(env!("CARGO_TARGET_TMPDIR")),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let version = VERSIONS[VERSIONS.len() - 1];
        let mut host = EnvoyHost::start_with(version, module, minor, false);
        for http2 in [false, true] {
            host.http2 = http2;
            let protocol = if http2 { "HTTP/2" } else { "HTTP/1.1" };
            envoyx_conformance::run(
                &mut host,
                &format!("Envoy {version} over {protocol}, module built for ABI 1.{minor}"),
            );
        }
        if minor == 0 {
            // Not the whole-line check: the 1.0 SDK left Rust's default panic hook to print the
            // panic cases' panics to stderr (Envoy's log file here) as well as logging them.
            host.envoy.check_stream_machinery();
            host.envoy.check_no_envoy_bugs();
        } else {
            host.envoy.check_no_host_errors();
        }
    }
}

/// The Go conformance module (`go/conformance`) runs the cases marked `go` (a panic in every
/// hook, ended by the core as for the Rust module) in every Envoy over HTTP/1.1 and HTTP/2.
#[test]
fn conformance_of_the_go_module_in_real_envoy() {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../go/conformance");
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("go-conformance");
    let module =
        envoyx_build::build_go_module(&source, "go_conformance", &out).unwrap_or_else(|e| panic!("{e}"));
    for version in VERSIONS {
        let mut host =
            EnvoyHost::start_with(version, module.clone(), envoyx_abi::ENVOYX_ABI_VERSION_MINOR, true);
        for http2 in [false, true] {
            host.http2 = http2;
            let protocol = if http2 { "HTTP/2" } else { "HTTP/1.1" };
            envoyx_conformance::run(&mut host, &format!("Envoy {version} over {protocol}, Go module"));
        }
        host.envoy.check_no_host_errors();
    }
}

/// A filter configuration's background work (ABI 1.1): the conformance module schedules an event
/// from a thread when its configuration is created; Envoy delivers it on its main thread, where
/// the configuration starts a callout of its own to the cluster `callout`, then a streaming
/// callout there (and one it resets at once, which must stay silent: Envoy reports that reset
/// inside the module's call); every later response tells all of it.
#[test]
fn configuration_events_in_real_envoy() {
    let module = envoyx_testhost::build_package("envoyx-test-module-conformance");
    for version in VERSIONS {
        let (upstream, callout_upstream) = (start_upstream(), start_upstream());
        let port = free_port();
        let listeners = vec![listener("background", port, vec![conformance_filter(&module, "background")])];
        let bootstrap =
            with_callout_cluster(bootstrap(free_port(), upstream.port, listeners, None), &callout_upstream);
        let envoy = start_envoy(version, &bootstrap, temp_dir());
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        loop {
            let reply = get(port, "/", &[]);
            let events = reply.header("x-conf-background").map(str::to_string);
            if events.as_deref()
                == Some("[7,callout 200 allow key,stream 200 allow key headers data complete]")
            {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "Envoy {version}: the configuration event never arrived (x-conf-background: {events:?})"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        envoy.check_no_host_errors();
    }
}

/// The listener of one conformance filter whose virtual host carries the per-route config
/// `vhost_config` and whose route `/route/<route_config>` carries `route_config`.
fn listener_with_route_configs(
    module: &Path,
    port: u16,
    vhost_config: &str,
    route_config: &str,
) -> serde_json::Value {
    let per_route = |config: &str| {
        serde_json::json!({
            "envoy.filters.http.dynamic_modules": envoyx_per_route(module_config("conformance-route", module, config))
        })
    };
    let mut route = envoyx_harness::proxy::route(&format!("/route/{route_config}"), "upstream", &[], None);
    route["typed_per_filter_config"] = per_route(route_config);
    let routes = vec![route, envoyx_harness::proxy::route("/", "upstream", &[], None)];
    let mut listener = envoyx_harness::proxy::http_listener(
        "routes",
        "127.0.0.1",
        port,
        routes,
        vec![conformance_filter(module, "")],
    );
    listener["filter_chains"][0]["filters"][0]["typed_config"]["route_config"]["virtual_hosts"][0]["typed_per_filter_config"] =
        per_route(vhost_config);
    listener
}

/// Per-route configuration in real Envoy: the most specific one applies (the route's over its
/// virtual host's), and one the module refuses makes Envoy refuse the configuration, with the
/// module's reason in the log.
#[test]
fn per_route_configs_in_real_envoy() {
    let module = envoyx_testhost::build_package("envoyx-test-module-conformance");
    for version in VERSIONS {
        let upstream = start_upstream();
        let port = free_port();
        let listeners = vec![listener_with_route_configs(&module, port, "vhost-level", "route-level")];
        let envoy = start_envoy(version, &bootstrap(free_port(), upstream.port, listeners, None), temp_dir());
        for (path, expected) in [("/route/route-level", "route-level"), ("/elsewhere", "vhost-level")] {
            let reply = get(port, path, &[("x-case", "route-config")]);
            envoy.check(reply.status() == 200, &format!("{path}: status {}", reply.status()));
            let seen = upstream.received().last().and_then(|m| m.header("x-conf-route").map(str::to_string));
            envoy.check(
                seen.as_deref() == Some(expected),
                &format!("{path}: the module saw {seen:?}, not {expected}"),
            );
        }
        envoy.check_no_host_errors();

        let listeners = vec![listener_with_route_configs(&module, free_port(), "fine", "reject")];
        let mut refused =
            spawn_envoy(version, &bootstrap(free_port(), upstream.port, listeners, None), temp_dir());
        let code = refused.wait_exit(Duration::from_secs(30));
        let log = refused.log();
        assert_eq!(code, Some(1), "Envoy {version} accepted a per-route config the module refused:\n{log}");
        assert!(
            log.contains("per-route config `conformance-route` rejected by the module: conformance: per-route config `conformance-route` says reject"),
            "Envoy {version}: the module's reason is not in the log:\n{log}"
        );
    }
}
