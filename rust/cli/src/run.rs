//! `envoyx run`: EnvoyX modules served through official Envoy, via the stock host.
//!
//! - With no `--module`: the demo. Every example module, built from the workspace, in one filter
//!   chain on 127.0.0.1:10000, each enabled only on its own path prefix (`/helloworld`,
//!   `/headers`, ...), in front of a built-in echo upstream; the curl lines to try are printed.
//! - `--module PATH[=FILTER_CONFIG]` (repeatable): those modules, chained in order, on every path.
//! - `--config FILE`: the user's own Envoy config, run as it is, with the stock host findable by
//!   name (`ENVOY_DYNAMIC_MODULES_SEARCH_PATH`).
//!
//! Envoy is installed on first use, started with its log in a temporary directory (module log
//! lines and warnings are copied to stderr), and stopped with SIGTERM on Ctrl-C or SIGTERM.

use envoyx_envoy_install as install;
use envoyx_harness::{self as harness, Envoy, EnvoyCommand, EnvoyConfigFile, Form, LoadBy, Upstream, proxy};
use serde_json::Value;
use std::io::{BufRead, BufReader, Seek, SeekFrom};
use std::net::{IpAddr, SocketAddr, TcpListener};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::ExitStatus;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

pub const USAGE: &str = "\
usage: envoyx run [OPTIONS]

Serves EnvoyX modules through official Envoy (installed on first use) until Ctrl-C.

  (no --module, no --config)   the demo: every example module in rust/examples, each on its own
                               path prefix; prints the curl lines to try
  --module PATH[=FILTER_CONFIG]
                               serve this module (.so) with this filter_config (default empty),
                               on every path; repeat to chain modules, in order. Everything after
                               the first `=` is the filter_config; a PATH that itself contains
                               `=` is taken whole when that file exists
  --upstream http://HOST:PORT  where requests go (an IP or a DNS name; http only); default: a
                               built-in echo server (200, the request body back, each request
                               header h as x-upstream-saw-h)
  --listen ADDR:PORT           the listener (default 127.0.0.1:10000; ADDR an IP address)
  --admin-port PORT            Envoy's admin interface on 127.0.0.1 (default: a free port)
  --config FILE                run your own Envoy config (YAML or JSON) as it is instead; the
                               stock host is found by `dynamic_module_config.name:
                               envoyx_stock_host`. Not combined with the options above
  --envoy-version VERSION      1.38.3, 1.39.3 or 1.40.0 (default 1.40.0)
  --envoy PATH                 an Envoy binary of your own instead
  --log-level LEVEL            Envoy's log level (default info)
  -v, --verbose                copy all of Envoy's log to stderr (default: module lines,
                               warnings and errors)

Exit status: 0 after a clean stop on Ctrl-C or SIGTERM; 1 if Envoy fails to start or exits by
itself; 2 for bad arguments.
";

/// The Envoy release used unless told otherwise.
const DEFAULT_VERSION: &str = "1.40.0";
/// How long Envoy may take to become ready.
const READY_TIMEOUT: Duration = Duration::from_secs(120);
/// How long Envoy may take to exit after SIGTERM before it is killed.
const STOP_GRACE: Duration = Duration::from_secs(20);

pub fn run(args: &[String]) -> i32 {
    let options = match Options::parse(args) {
        Ok(Parsed::Help) => {
            print!("{USAGE}");
            return 0;
        }
        Ok(Parsed::Run(options)) => options,
        Err(e) => {
            eprintln!("envoyx run: {e}\n(see `envoyx run --help`)");
            return 2;
        }
    };
    catch_stop_signals();
    match serve(&options) {
        Ok(code) => code,
        // Ctrl-C during a build reaches cargo too, which fails: that is the interruption, not
        // an error to report.
        Err(_) if stop_requested() => {
            eprintln!("envoyx run: interrupted");
            INTERRUPTED
        }
        Err(e) => {
            eprintln!("envoyx run: {e}");
            1
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Arguments

enum Parsed {
    Help,
    Run(Options),
}

enum EnvoyChoice {
    Version(String),
    Binary(PathBuf),
}

struct Module {
    path: PathBuf,
    filter_config: String,
}

#[derive(Debug, PartialEq)]
struct UpstreamUrl {
    host: String,
    port: u16,
    /// `host` is an IP address (a STATIC cluster), not a DNS name.
    is_ip: bool,
}

struct Options {
    envoy: EnvoyChoice,
    listen: SocketAddr,
    admin_port: Option<u16>,
    modules: Vec<Module>,
    upstream: Option<UpstreamUrl>,
    config: Option<PathBuf>,
    log_level: String,
    verbose: bool,
}

impl Options {
    fn parse(args: &[String]) -> Result<Parsed, String> {
        let mut envoy_version = None;
        let mut envoy_binary = None;
        let mut listen = None;
        let mut admin_port = None;
        let mut modules = Vec::new();
        let mut upstream = None;
        let mut config = None;
        let mut log_level = "info".to_string();
        let mut verbose = false;
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            let (flag, inline) = match arg.split_once('=') {
                Some((flag, value)) if flag.starts_with("--") => (flag, Some(value.to_string())),
                _ => (arg.as_str(), None),
            };
            let mut value = || -> Result<String, String> {
                match inline.clone() {
                    Some(v) => Ok(v),
                    None => args.next().cloned().ok_or_else(|| format!("{flag} needs a value")),
                }
            };
            match flag {
                "-h" | "--help" => return Ok(Parsed::Help),
                "-v" | "--verbose" => verbose = true,
                "--module" => modules.push(parse_module(&value()?)?),
                "--upstream" => upstream = Some(parse_upstream(&value()?)?),
                "--listen" => listen = Some(parse_listen(&value()?)?),
                "--admin-port" => admin_port = Some(parse_port("--admin-port", &value()?)?),
                "--config" => config = Some(value()?),
                "--envoy-version" => envoy_version = Some(value()?),
                "--envoy" => envoy_binary = Some(value()?),
                "--log-level" => log_level = parse_log_level(&value()?)?,
                _ if flag.starts_with('-') => return Err(format!("unknown option `{flag}`")),
                _ => return Err(format!("unexpected argument `{arg}`")),
            }
        }
        let envoy = match (envoy_version, envoy_binary) {
            (Some(_), Some(_)) => return Err("give --envoy-version or --envoy, not both".into()),
            (None, Some(path)) => {
                let path = PathBuf::from(path);
                if !path.is_file() {
                    return Err(format!(
                        "--envoy {}: no such file; give the path of an Envoy binary, or use \
                         --envoy-version ({})",
                        path.display(),
                        harness::VERSIONS.join(", ")
                    ));
                }
                EnvoyChoice::Binary(absolute(&path))
            }
            (version, None) => {
                let version = version.unwrap_or_else(|| DEFAULT_VERSION.to_string());
                if !harness::VERSIONS.contains(&version.as_str()) {
                    return Err(format!(
                        "--envoy-version {version}: not a supported version; use one of {} (or \
                         --envoy PATH for your own binary)",
                        harness::VERSIONS.join(", ")
                    ));
                }
                EnvoyChoice::Version(version)
            }
        };
        let config = match config {
            None => None,
            Some(file) => {
                let path = PathBuf::from(&file);
                if !path.is_file() {
                    return Err(format!(
                        "--config {file}: no such file; give the path of your Envoy config (YAML or JSON)"
                    ));
                }
                let mut others = Vec::new();
                if !modules.is_empty() {
                    others.push("--module");
                }
                if upstream.is_some() {
                    others.push("--upstream");
                }
                if listen.is_some() {
                    others.push("--listen");
                }
                if admin_port.is_some() {
                    others.push("--admin-port");
                }
                if !others.is_empty() {
                    return Err(format!(
                        "--config runs your file as it is: {} would be ignored; put them in the \
                         file instead",
                        others.join(", ")
                    ));
                }
                Some(absolute(&path))
            }
        };
        Ok(Parsed::Run(Options {
            envoy,
            listen: listen.unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 10000))),
            admin_port,
            modules,
            upstream,
            config,
            log_level,
            verbose,
        }))
    }
}

fn absolute(path: &Path) -> PathBuf {
    path.canonicalize().unwrap_or_else(|_| path.to_path_buf())
}

/// `PATH[=FILTER_CONFIG]`: the module must exist.
fn parse_module(value: &str) -> Result<Module, String> {
    let (path, filter_config) =
        if Path::new(value).is_file() { (value, "") } else { value.split_once('=').unwrap_or((value, "")) };
    let file = Path::new(path);
    if path.is_empty() {
        return Err("--module needs a path: --module PATH[=FILTER_CONFIG]".into());
    }
    if file.is_dir() {
        return Err(format!("--module {path}: a directory, not a module; give the module's .so file"));
    }
    if !file.is_file() {
        return Err(format!(
            "--module {path}: no such file; build the module first (`cargo build` puts \
             lib<crate>.so in target/debug/) and give that path"
        ));
    }
    Ok(Module { path: absolute(file), filter_config: filter_config.to_string() })
}

/// `http://HOST[:PORT][/]`, HOST an IP address (IPv6 in brackets) or a DNS name.
fn parse_upstream(value: &str) -> Result<UpstreamUrl, String> {
    let bad =
        |why: &str| format!("--upstream {value}: {why}; give http://HOST:PORT, e.g. http://127.0.0.1:8080");
    let rest = match value.split_once("://") {
        Some(("http", rest)) => rest,
        Some(("https", _)) => return Err(bad("https is not supported (Envoy would need TLS settings)")),
        Some((scheme, _)) => return Err(bad(&format!("unsupported scheme `{scheme}`"))),
        None => return Err(bad("not a URL")),
    };
    let authority = rest.strip_suffix('/').unwrap_or(rest);
    if authority.contains(['/', '?', '#', '@']) {
        return Err(bad("only a host and a port are used (no path, query or user)"));
    }
    let (host, port) = if let Some(bracketed) = authority.strip_prefix('[') {
        let (host, after) = bracketed.split_once(']').ok_or_else(|| bad("unclosed `[`"))?;
        (host, after.strip_prefix(':'))
    } else {
        match authority.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    let port = match port {
        Some(port) => port.parse::<u16>().ok().filter(|p| *p != 0).ok_or_else(|| bad("bad port"))?,
        None => 80,
    };
    if host.is_empty() {
        return Err(bad("no host"));
    }
    let is_ip = host.parse::<IpAddr>().is_ok();
    if !is_ip && !host.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.') {
        return Err(bad("bad host name"));
    }
    Ok(UpstreamUrl { host: host.to_string(), port, is_ip })
}

/// `ADDR:PORT` (ADDR an IP address) or a bare `PORT` on 127.0.0.1.
fn parse_listen(value: &str) -> Result<SocketAddr, String> {
    let address = match value.parse::<u16>() {
        Ok(port) => SocketAddr::from(([127, 0, 0, 1], port)),
        Err(_) => value.parse::<SocketAddr>().map_err(|_| {
            format!("--listen {value}: expected ADDR:PORT with ADDR an IP address, e.g. 127.0.0.1:10000")
        })?,
    };
    if address.port() == 0 {
        return Err(format!("--listen {value}: give a port other than 0"));
    }
    Ok(address)
}

fn parse_port(flag: &str, value: &str) -> Result<u16, String> {
    value
        .parse::<u16>()
        .ok()
        .filter(|p| *p != 0)
        .ok_or_else(|| format!("{flag} {value}: expected a port, 1-65535"))
}

fn parse_log_level(value: &str) -> Result<String, String> {
    const LEVELS: [&str; 8] = ["trace", "debug", "info", "warning", "warn", "error", "critical", "off"];
    if LEVELS.contains(&value) {
        Ok(value.to_string())
    } else {
        Err(format!("--log-level {value}: use one of {}", LEVELS.join(", ")))
    }
}

// ---------------------------------------------------------------------------------------------
// The demo

/// One try of an example: the curl arguments after the URL and what comes back.
struct Try {
    /// `-s` when the body tells, `-si` when the headers do.
    flags: &'static str,
    path: &'static str,
    /// curl options after the URL, shell-quoted.
    args: &'static str,
    /// What curl shows.
    expect: &'static str,
}

struct DemoExample {
    package: &'static str,
    /// Its path prefix, also its filter's name.
    prefix: &'static str,
    filter_config: &'static str,
    what: &'static str,
    tries: &'static [Try],
    /// Further prefixes the filter runs on (send-response answers `/fail-response...` on the
    /// response path).
    also: &'static [&'static str],
}

/// The examples of `rust/examples` (the same packages as `envoyx demo`).
const DEMO: &[DemoExample] = &[
    DemoExample {
        package: "envoyx-example-helloworld",
        prefix: "/helloworld",
        filter_config: "helloworld",
        what: "logs every stream event (the lines appear below, in this terminal), changes nothing",
        tries: &[Try {
            flags: "-s",
            path: "/helloworld",
            args: " --data-binary 'hello'",
            expect: "hello   (the body, passed through; helloworld[helloworld]: ... lines below)",
        }],
        also: &[],
    },
    DemoExample {
        package: "envoyx-example-headers",
        prefix: "/headers",
        filter_config: "",
        what: "sets, adds and removes headers both ways",
        tries: &[
            Try {
                flags: "-si",
                path: "/headers",
                args: " -H 'x-envoyx-echo: one' -H 'x-envoyx-echo: two'",
                expect: "x-envoyx-response: ok, x-envoyx-echo: one, x-envoyx-echo: two (set on the response)",
            },
            Try {
                flags: "-si",
                path: "/headers",
                args: " -H 'x-envoyx-multi: first' -H 'x-envoyx-remove-me: 1'",
                expect: "x-upstream-saw-x-envoyx-seen: true, x-upstream-saw-x-envoyx-multi: first and \
                         added-by-envoyx, no x-upstream-saw-x-envoyx-remove-me (the upstream's view)",
            },
        ],
        also: &[],
    },
    DemoExample {
        package: "envoyx-example-body-rewrite",
        prefix: "/body-rewrite",
        filter_config: "both",
        what: "upper-cases bodies in place in Envoy's buffers, copying nothing",
        tries: &[Try {
            flags: "-s",
            path: "/body-rewrite",
            args: " --data-binary 'hello, world'",
            expect: "HELLO, WORLD",
        }],
        also: &[],
    },
    DemoExample {
        package: "envoyx-example-body-replace",
        prefix: "/body-replace",
        filter_config: "",
        what: "prepends, appends and replaces in the buffered request body",
        tries: &[Try {
            flags: "-s",
            path: "/body-replace",
            args: " --data-binary 'hello, cruel world' -H 'x-envoyx-prepend: <<' -H 'x-envoyx-append: >>' \
                   -H 'x-envoyx-replace: cruel=kind'",
            expect: "<<hello, kind world>>",
        }],
        also: &[],
    },
    DemoExample {
        package: "envoyx-example-send-response",
        prefix: "/send-response",
        filter_config: "",
        what: "answers 401 itself without an authorization header; 500 on the response path",
        tries: &[
            Try {
                flags: "-si",
                path: "/send-response",
                args: "",
                expect: "401 Unauthorized, www-authenticate: Bearer, body unauthorized",
            },
            Try {
                flags: "-si",
                path: "/send-response",
                args: " -H 'authorization: Bearer t'",
                expect: "200 OK (the upstream's answer)",
            },
            Try {
                flags: "-si",
                path: "/fail-response",
                args: " -H 'authorization: Bearer t'",
                expect: "500 Internal Server Error, body failed on response path",
            },
        ],
        also: &["/fail-response"],
    },
    DemoExample {
        package: "envoyx-example-delay",
        prefix: "/delay",
        filter_config: "250",
        what: "holds the request 250 ms and resumes it from another thread",
        tries: &[Try {
            flags: "-si",
            path: "/delay",
            args: "",
            expect: "after ~250 ms: x-envoyx-delayed-ms: 250 (or a little more)",
        }],
        also: &[],
    },
    DemoExample {
        package: "envoyx-example-json-validate",
        prefix: "/json-validate",
        filter_config: "user",
        what: "400 unless the body is a JSON object with a `user` field",
        tries: &[
            Try {
                flags: "-s",
                path: "/json-validate",
                args: " --data '{\"user\": \"ann\"}'",
                expect: "{\"user\": \"ann\"}   (valid: passed to the upstream, echoed)",
            },
            Try {
                flags: "-si",
                path: "/json-validate",
                args: " --data '{\"name\": \"ann\"}'",
                expect: "{\"error\":\"missing field \\\"user\\\"\"}   (400)",
            },
        ],
        also: &[],
    },
];

/// The name of an example's filter in the listener's chain.
fn demo_filter_name(example: &DemoExample) -> String {
    format!("envoyx{}", example.prefix.replace('/', "."))
}

// ---------------------------------------------------------------------------------------------
// Serving

/// Set by SIGINT or SIGTERM.
static STOP: AtomicBool = AtomicBool::new(false);

extern "C" fn on_stop_signal(_signal: libc::c_int) {
    // Only an atomic store: async-signal-safe.
    STOP.store(true, Ordering::SeqCst);
}

/// SIGINT (Ctrl-C) and SIGTERM set [`STOP`] instead of killing the process, so Envoy and the
/// upstream are stopped cleanly. Envoy itself gets the default dispositions back when it execs.
fn catch_stop_signals() {
    for signal in [libc::SIGINT, libc::SIGTERM] {
        // Safety: a zeroed `sigaction` is valid (no flags, empty mask once sigemptyset has run);
        // the handler is an `extern "C" fn(c_int)` that only stores to an atomic, which is
        // async-signal-safe; the old action is not asked for (null).
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_stop_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(signal, &action, std::ptr::null_mut());
        }
    }
}

fn stop_requested() -> bool {
    STOP.load(Ordering::SeqCst)
}

/// Exit status when a signal came before Envoy was serving (nothing to stop yet).
const INTERRUPTED: i32 = 130;

fn serve(options: &Options) -> Result<i32, String> {
    let (binary, version) = envoy_binary(&options.envoy)?;
    if stop_requested() {
        return Ok(INTERRUPTED);
    }
    eprintln!("building the stock host…");
    let stock_host = harness::try_stock_host()?;
    let search_path = stock_host.parent().map(Path::to_path_buf);
    if stop_requested() {
        return Ok(INTERRUPTED);
    }
    let dir = tempfile::Builder::new()
        .prefix("envoyx-run-")
        .tempdir()
        .map_err(|e| format!("cannot create a temporary directory for Envoy's config and log: {e}"))?;

    if let Some(config) = &options.config {
        let command = EnvoyConfigFile {
            binary: &binary,
            version: &version,
            config,
            module_search_path: search_path.as_deref(),
            log_level: &options.log_level,
        };
        let envoy = command.spawn_supervised(dir).map_err(|e| e.to_string())?;
        return supervise(envoy, None, options, &Banner::Config(config));
    }

    let demo = options.modules.is_empty();
    // (name in the chain, EnvoyX config name (its log lines say it), module, filter_config)
    let modules: Vec<(String, String, PathBuf, String)> = if demo {
        eprintln!("building modules…");
        let workspace = harness::workspace_root();
        let mut built = Vec::new();
        for example in DEMO {
            eprintln!("  {}", example.package);
            let path = envoyx_testhost::try_build_workspace_package(&workspace, example.package)?;
            let short = example.prefix.trim_start_matches('/').to_string();
            built.push((demo_filter_name(example), short, path, example.filter_config.to_string()));
            if stop_requested() {
                return Ok(INTERRUPTED);
            }
        }
        built
    } else {
        let mut names: Vec<String> = Vec::new();
        options
            .modules
            .iter()
            .map(|m| {
                let stem = m.path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
                let stem = stem.strip_prefix("lib").unwrap_or(&stem).to_string();
                let mut name = format!("envoyx.{stem}");
                // Filter names must be unique in a chain (the same module may come twice).
                let mut n = 1;
                while names.contains(&name) {
                    n += 1;
                    name = format!("envoyx.{stem}.{n}");
                }
                names.push(name.clone());
                (name, stem, m.path.clone(), m.filter_config.clone())
            })
            .collect()
    };

    check_free(options.listen, "--listen")?;
    let admin_port = match options.admin_port {
        Some(port) => {
            check_free(SocketAddr::from(([127, 0, 0, 1], port)), "--admin-port")?;
            port
        }
        None => {
            harness::free_port().map_err(|e| format!("cannot find a free port for Envoy's admin: {e}"))?
        }
    };
    let (echo, cluster, host) = match &options.upstream {
        Some(url) if url.is_ip => (None, proxy::static_cluster("upstream", &url.host, url.port), None),
        Some(url) => {
            let host = if url.port == 80 { url.host.clone() } else { format!("{}:{}", url.host, url.port) };
            (None, proxy::dns_cluster("upstream", &url.host, url.port), Some(host))
        }
        None => {
            let echo = Upstream::start().map_err(|e| format!("cannot start the echo upstream: {e}"))?;
            let cluster = proxy::static_cluster("upstream", "127.0.0.1", echo.port);
            (Some(echo), cluster, None)
        }
    };

    let filters: Vec<Value> = modules
        .iter()
        .map(|(name, envoyx_name, path, filter_config)| {
            let config = harness::module_config(envoyx_name, path, filter_config);
            let mut filter = harness::envoyx_filter(envoyx_name, config, LoadBy::Name, Form::Struct);
            filter["name"] = Value::from(name.as_str()); // unique in the chain, the key for routes
            filter
        })
        .collect();
    let names: Vec<String> = modules.iter().map(|(name, _, _, _)| name.clone()).collect();
    let routes = if demo {
        // Each example's prefixes turn every other example's filter off; `/` turns them all off.
        let mut routes = Vec::new();
        for example in DEMO {
            let own = demo_filter_name(example);
            let others: Vec<String> = names.iter().filter(|n| **n != own).cloned().collect();
            for prefix in std::iter::once(&example.prefix).chain(example.also) {
                routes.push(proxy::route(prefix, "upstream", &others, host.as_deref()));
            }
        }
        routes.push(proxy::route("/", "upstream", &names, host.as_deref()));
        routes
    } else {
        vec![proxy::route("/", "upstream", &[], host.as_deref())]
    };
    let listener = proxy::http_listener(
        "envoyx",
        &options.listen.ip().to_string(),
        options.listen.port(),
        routes,
        filters,
    );
    let bootstrap = proxy::bootstrap_with(admin_port, vec![listener], vec![cluster]);
    let command = EnvoyCommand {
        binary: &binary,
        version: &version,
        bootstrap: &bootstrap,
        module_search_path: search_path.as_deref(),
        log_level: &options.log_level,
    };
    let envoy = command.spawn_supervised(dir).map_err(|e| e.to_string())?;
    let banner = if demo {
        Banner::Demo { upstream: options.upstream.as_ref(), echo: echo.as_ref() }
    } else {
        Banner::Modules {
            modules: &options.modules,
            upstream: options.upstream.as_ref(),
            echo: echo.as_ref(),
        }
    };
    let code = supervise(envoy, Some(options.listen), options, &banner);
    drop(echo); // the upstream stops after Envoy
    code
}

/// The Envoy binary and its version (for messages), installing a supported version on first use.
fn envoy_binary(choice: &EnvoyChoice) -> Result<(PathBuf, String), String> {
    match choice {
        EnvoyChoice::Binary(path) => Ok((path.clone(), format!("at {}", path.display()))),
        EnvoyChoice::Version(version) => {
            let installed =
                install::cache_dir().is_ok_and(|cache| install::binary_path(&cache, version).is_file());
            if !installed {
                eprintln!("installing Envoy {version} (first run only)…");
            }
            let path =
                install::envoy_path(version).map_err(|e| format!("cannot install Envoy {version}: {e}"))?;
            Ok((path, version.clone()))
        }
    }
}

/// Fails early, naming the flag, when `address` is taken (Envoy's own error would come later and
/// less plainly).
fn check_free(address: SocketAddr, flag: &str) -> Result<(), String> {
    TcpListener::bind(address).map(drop).map_err(|e| {
        format!("{flag} {address}: cannot listen there ({e}); stop what holds it or pass another {flag}")
    })
}

/// What to print once Envoy is ready.
enum Banner<'a> {
    Demo { upstream: Option<&'a UpstreamUrl>, echo: Option<&'a Upstream> },
    Modules { modules: &'a [Module], upstream: Option<&'a UpstreamUrl>, echo: Option<&'a Upstream> },
    Config(&'a Path),
}

fn upstream_line(upstream: Option<&UpstreamUrl>, echo: Option<&Upstream>) -> String {
    match (upstream, echo) {
        (Some(url), _) if url.host.contains(':') => format!("upstream: http://[{}]:{}", url.host, url.port),
        (Some(url), _) => format!("upstream: http://{}:{}", url.host, url.port),
        (None, Some(echo)) => format!(
            "upstream: the built-in echo server on 127.0.0.1:{} (200, the request body back, each \
             request header h as x-upstream-saw-h)",
            echo.port
        ),
        (None, None) => String::new(),
    }
}

/// How a client reaches `listen` (a wildcard address is reached on loopback).
fn client_base(listen: SocketAddr) -> String {
    let ip = match listen.ip() {
        ip if ip.is_unspecified() && ip.is_ipv4() => IpAddr::from([127, 0, 0, 1]),
        ip if ip.is_unspecified() => IpAddr::from(std::net::Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    format!("http://{}", SocketAddr::new(ip, listen.port()))
}

fn print_banner(banner: &Banner, envoy: &Envoy, listen: Option<SocketAddr>) {
    let base = listen.map(client_base).unwrap_or_default();
    match banner {
        Banner::Demo { upstream, echo } => {
            println!(
                "EnvoyX demo: every example module in Envoy {}, each on its own path prefix \
                 (elsewhere its filter is off)",
                envoy.version
            );
            println!("{}\n", upstream_line(*upstream, *echo));
            for example in DEMO {
                println!("{} ({}): {}", example.prefix, example.package, example.what);
                for t in example.tries {
                    println!("  curl {} {base}{}{}", t.flags, t.path, t.args);
                    println!("    → {}", t.expect);
                }
                println!();
            }
            println!("anything else: passed to the upstream with no filter");
        }
        Banner::Modules { modules, upstream, echo } => {
            println!(
                "EnvoyX: Envoy {} with {} module(s), in this order, on every path:",
                envoy.version,
                modules.len()
            );
            for (i, module) in modules.iter().enumerate() {
                println!("  {}. {} (filter_config {:?})", i + 1, module.path.display(), module.filter_config);
            }
            println!("{}\n", upstream_line(*upstream, *echo));
            println!("  curl -si {base}/ --data-binary 'hello'");
        }
        Banner::Config(path) => {
            println!("EnvoyX: Envoy {} on your config {}", envoy.version, path.display());
            for address in listener_addresses(envoy) {
                println!("  listener {address}");
            }
        }
    }
    if envoy.admin_port != 0 {
        println!("admin: http://127.0.0.1:{}/", envoy.admin_port);
    }
}

/// The listeners Envoy reports on its admin `/listeners` (name and address).
fn listener_addresses(envoy: &Envoy) -> Vec<String> {
    if envoy.admin_port == 0 {
        return Vec::new();
    }
    let Ok(reply) = harness::request(envoy.admin_port, "GET", "/listeners?format=json", &[], b"") else {
        return Vec::new();
    };
    let Ok(json) = serde_json::from_slice::<Value>(&reply.body) else { return Vec::new() };
    json["listener_statuses"]
        .as_array()
        .map(|listeners| {
            listeners
                .iter()
                .map(|l| {
                    let socket = &l["local_address"]["socket_address"];
                    format!(
                        "{} on {}:{}",
                        l["name"].as_str().unwrap_or("?"),
                        socket["address"].as_str().unwrap_or("?"),
                        socket["port_value"].as_u64().unwrap_or(0)
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Waits for Envoy to be ready, prints what to do, copies its log to stderr and stops it on a
/// signal. The exit status of `envoyx run`.
fn supervise(
    mut envoy: Envoy,
    listen: Option<SocketAddr>,
    options: &Options,
    banner: &Banner,
) -> Result<i32, String> {
    let deadline = Instant::now() + READY_TIMEOUT;
    loop {
        if stop_requested() {
            return Ok(stop(envoy, None));
        }
        match envoy.try_wait() {
            Ok(Some(status)) => return Ok(failed(&envoy, status, "while starting", options)),
            Ok(None) => {}
            Err(e) => return Err(format!("cannot watch Envoy (pid {}): {e}", envoy.pid())),
        }
        if envoy.is_ready() {
            break;
        }
        if Instant::now() >= deadline {
            eprintln!(
                "envoyx run: Envoy {} not ready after {READY_TIMEOUT:?}; its log:\n{}",
                envoy.version,
                envoy.log_tail()
            );
            stop(envoy, None);
            return Ok(1);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    envoy.is_ready(); // an Envoy on a user's file: the admin port may only now be known
    let follower = LogFollower::start(envoy.log_path(), options.verbose);
    print_banner(banner, &envoy, listen);
    let serving = match listen {
        Some(listen) => format!(" on {}", client_base(listen)),
        None => String::new(),
    };
    println!("envoyx run: ready: Envoy {} (pid {}){serving}; Ctrl-C stops it", envoy.version, envoy.pid());
    loop {
        if stop_requested() {
            return Ok(stop(envoy, Some(follower)));
        }
        match envoy.try_wait() {
            Ok(Some(status)) => {
                follower.finish();
                return Ok(failed(&envoy, status, "by itself", options));
            }
            Ok(None) => {}
            Err(e) => return Err(format!("cannot watch Envoy (pid {}): {e}", envoy.pid())),
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// SIGTERM to Envoy, waits for it, reports how it exited. 0 when it exited cleanly.
fn stop(mut envoy: Envoy, follower: Option<LogFollower>) -> i32 {
    let pid = envoy.pid();
    eprintln!("stopping Envoy (pid {pid})…");
    let status = envoy.stop(STOP_GRACE);
    if let Some(follower) = follower {
        follower.finish();
    }
    match status {
        // Ctrl-C in a terminal reaches Envoy too (same process group): a SIGINT exit is clean.
        Ok(status) if clean_exit(status) => {
            println!("envoyx run: Envoy (pid {pid}) stopped ({status})");
            0
        }
        Ok(status) => {
            eprintln!(
                "envoyx run: Envoy (pid {pid}) did not stop cleanly ({status}); its log:\n{}",
                envoy.log_tail()
            );
            1
        }
        Err(e) => {
            eprintln!("envoyx run: cannot stop Envoy (pid {pid}): {e}; kill it with `kill {pid}`");
            1
        }
    }
}

fn clean_exit(status: ExitStatus) -> bool {
    status.success() || matches!(status.signal(), Some(libc::SIGTERM | libc::SIGINT))
}

/// Reports an Envoy that exited on its own: the log lines that say why, and what to do.
fn failed(envoy: &Envoy, status: ExitStatus, when: &str, options: &Options) -> i32 {
    let log = envoy.log();
    let relevant: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("][critical]") || l.contains("][error]") || l.contains("][warning]"))
        .collect();
    let excerpt = if relevant.is_empty() {
        envoy.log_tail()
    } else {
        relevant[relevant.len().saturating_sub(30)..].join("\n")
    };
    let hint = if log.contains("Address already in use") || log.contains("cannot bind") {
        "a port is taken: pass another --listen or --admin-port (or stop what holds it)".to_string()
    } else if log.contains("EnvoyX") && (log.contains("rejected") || log.contains("EnvoyX module")) {
        "a module or its filter_config was refused (the reason is above): check the file with \
         `envoyx check <module.so>` and its filter_config"
            .to_string()
    } else if options.config.is_some() {
        "Envoy refused your config (the reason is above); fix it and run again".to_string()
    } else {
        format!("see Envoy's own words above; rerun with -v for its whole log (Envoy {})", envoy.version)
    };
    eprintln!(
        "envoyx run: Envoy {} (pid {}) exited {when} ({status}). Its log:\n{excerpt}\n\n{hint}",
        envoy.version,
        envoy.pid()
    );
    1
}

/// Copies new lines of Envoy's log to stderr while it runs: module lines (`dynamic_modules`),
/// warnings and errors, or everything with `--verbose`.
struct LogFollower {
    done: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<()>,
}

impl LogFollower {
    fn start(path: &Path, verbose: bool) -> Self {
        let done = Arc::new(AtomicBool::new(false));
        let finished = done.clone();
        // Opened and positioned here, before "ready" is printed: a thread that did it later
        // would skip the lines of requests sent as soon as "ready" appears.
        let file = std::fs::File::open(path).map(|mut file| {
            // Startup lines are skipped unless verbose: they were there before "ready".
            if !verbose {
                let _ = file.seek(SeekFrom::End(0));
            }
            file
        });
        let thread = std::thread::spawn(move || {
            let Ok(file) = file else { return };
            let mut reader = BufReader::new(file);
            let mut line = String::new();
            loop {
                // A partial line stays in `line` until its newline arrives.
                match reader.read_line(&mut line) {
                    Ok(n) if n > 0 && line.ends_with('\n') => {
                        if verbose || is_interesting(&line) {
                            eprint!("envoy| {}", strip_timestamp(&line));
                        }
                        line.clear();
                    }
                    Ok(_) => {
                        if finished.load(Ordering::SeqCst) {
                            return;
                        }
                        std::thread::sleep(Duration::from_millis(100));
                    }
                    Err(_) => return,
                }
            }
        });
        Self { done, thread }
    }

    /// Copies what is left and stops.
    fn finish(self) {
        self.done.store(true, Ordering::SeqCst);
        let _ = self.thread.join();
    }
}

fn is_interesting(line: &str) -> bool {
    ["][dynamic_modules]", "][warning]", "][error]", "][critical]"].iter().any(|tag| line.contains(tag))
}

/// `[2026-01-01 10:00:00.000][123][info][dynamic_modules] ...` without the time and thread.
fn strip_timestamp(line: &str) -> &str {
    let mut rest = line;
    for _ in 0..2 {
        match rest.strip_prefix('[').and_then(|r| r.split_once(']')) {
            Some((_, after)) => rest = after,
            None => return line,
        }
    }
    rest
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_serves_every_example_of_envoyx_demo() {
        let served: Vec<&str> = DEMO.iter().map(|e| e.package).collect();
        assert_eq!(served, crate::demo::packages());
        let mut prefixes: Vec<&str> = DEMO.iter().map(|e| e.prefix).collect();
        prefixes.sort();
        prefixes.dedup();
        assert_eq!(prefixes.len(), DEMO.len(), "one prefix per example");
    }

    #[test]
    fn upstream_urls() {
        let ok = |s: &str| parse_upstream(s).unwrap();
        assert_eq!(
            ok("http://127.0.0.1:8080"),
            UpstreamUrl { host: "127.0.0.1".into(), port: 8080, is_ip: true }
        );
        assert_eq!(
            ok("http://localhost:9000/"),
            UpstreamUrl { host: "localhost".into(), port: 9000, is_ip: false }
        );
        assert_eq!(
            ok("http://example.com"),
            UpstreamUrl { host: "example.com".into(), port: 80, is_ip: false }
        );
        assert_eq!(ok("http://[::1]:81"), UpstreamUrl { host: "::1".into(), port: 81, is_ip: true });
        for bad in [
            "https://example.com",
            "example.com:80",
            "ftp://x",
            "http://",
            "http://x:0",
            "http://x:99999",
            "http://x:80/path",
            "http://u@x",
            "http://bad_host:1",
        ] {
            let err = parse_upstream(bad).err().unwrap_or_else(|| panic!("{bad} accepted"));
            assert!(err.starts_with(&format!("--upstream {bad}: ")), "{err}");
        }
    }

    #[test]
    fn listen_addresses() {
        assert_eq!(parse_listen("127.0.0.1:8000").unwrap(), SocketAddr::from(([127, 0, 0, 1], 8000)));
        assert_eq!(parse_listen("9000").unwrap(), SocketAddr::from(([127, 0, 0, 1], 9000)));
        assert_eq!(client_base(parse_listen("0.0.0.0:80").unwrap()), "http://127.0.0.1:80");
        assert!(parse_listen("localhost:80").unwrap_err().contains("--listen localhost:80"));
        assert!(parse_listen("127.0.0.1:0").is_err());
    }

    #[test]
    fn log_lines_lose_time_and_thread() {
        assert_eq!(
            strip_timestamp("[2026-01-01 10:00:00.000][12][info][dynamic_modules] [envoyx:1] hi\n"),
            "[info][dynamic_modules] [envoyx:1] hi\n"
        );
        assert_eq!(strip_timestamp("plain\n"), "plain\n");
    }
}
