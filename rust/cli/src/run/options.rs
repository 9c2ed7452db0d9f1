//! `envoyx run`'s command line: the usage text and the options, checked.

use envoyx_harness as harness;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};

pub(super) const USAGE: &str = "\
usage: envoyx run [OPTIONS]

Serves EnvoyX modules through official Envoy (installed on first use) until Ctrl-C.

  (no --module, no --config)   the demo: every example module in rust/examples, each on its own
                               path prefix; prints the curl lines to try
  --module PATH[=FILTER_CONFIG]
                               serve this module (.so) with this filter_config (default empty),
                               on every path; repeat to chain modules, in order. Everything after
                               the first `=` is the filter_config; a PATH that itself contains
                               `=` is taken whole when that file exists
  --watch DIR[=FILTER_CONFIG]  build the module crate in DIR (default `.`) and serve it on every
                               path; each time a file of the crate changes, build again and swap
                               the new build into the running Envoy (hot reload: requests in flight
                               finish on the previous build; a failed build keeps the last good
                               one serving). Not combined with --module
  --upstream http://HOST:PORT  where requests go (an IP or a DNS name; http only); default: a
                               built-in echo server (200, the request body back, each request
                               header h as x-upstream-saw-h)
  --cluster NAME=http://HOST:PORT
                               a cluster the modules call out to by NAME (a callout's cluster
                               name); repeat for more
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
/// The listener unless --listen says otherwise.
pub const DEFAULT_LISTEN: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 10000);

pub(super) enum Parsed {
    Help,
    Run(Box<Options>),
}

pub(super) enum EnvoyChoice {
    Version(String),
    Binary(PathBuf),
}

pub(super) struct Module {
    pub path: PathBuf,
    pub filter_config: String,
}

/// `--watch`: a module crate to build, serve and rebuild on change.
pub(super) struct WatchCrate {
    pub dir: PathBuf,
    pub filter_config: String,
}

#[derive(Debug, PartialEq)]
pub(super) struct UpstreamUrl {
    pub host: String,
    pub port: u16,
    /// `host` is an IP address (a STATIC cluster), not a DNS name.
    pub is_ip: bool,
}

pub(super) struct Options {
    pub envoy: EnvoyChoice,
    pub listen: SocketAddr,
    pub admin_port: Option<u16>,
    pub modules: Vec<Module>,
    pub watch: Option<WatchCrate>,
    pub upstream: Option<UpstreamUrl>,
    /// `--cluster`: more clusters, by name, for the modules' callouts.
    pub clusters: Vec<(String, UpstreamUrl)>,
    pub config: Option<PathBuf>,
    pub log_level: String,
    pub verbose: bool,
}

impl Options {
    pub(super) fn parse(args: &[String]) -> Result<Parsed, String> {
        let mut envoy_version = None;
        let mut envoy_binary = None;
        let mut listen = None;
        let mut admin_port = None;
        let mut modules = Vec::new();
        let mut watch = None;
        let mut upstream = None;
        let mut clusters: Vec<(String, UpstreamUrl)> = Vec::new();
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
                "--watch" => {
                    // The directory may be left out: `--watch` alone, or before another flag.
                    let given = match inline.clone() {
                        Some(v) => v,
                        None => match args.clone().next() {
                            Some(next) if !next.starts_with('-') => args.next().cloned().unwrap_or_default(),
                            _ => ".".to_string(),
                        },
                    };
                    watch = Some(parse_watch(&given)?);
                }
                "--upstream" => upstream = Some(parse_upstream(&value()?)?),
                "--cluster" => {
                    let (name, url) = parse_cluster(&value()?)?;
                    if clusters.iter().any(|(n, _)| *n == name) {
                        return Err(format!("--cluster {name}: given twice"));
                    }
                    clusters.push((name, url));
                }
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
                if watch.is_some() {
                    others.push("--watch");
                }
                if upstream.is_some() {
                    others.push("--upstream");
                }
                if !clusters.is_empty() {
                    others.push("--cluster");
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
        if !clusters.is_empty() && modules.is_empty() && watch.is_none() {
            return Err(
                "--cluster is for the modules you serve (--module or --watch); the demo brings its own"
                    .into(),
            );
        }
        if watch.is_some() && !modules.is_empty() {
            return Err("--watch serves the crate it builds: give --watch or --module, not both".into());
        }
        Ok(Parsed::Run(Box::new(Options {
            envoy,
            listen: listen.unwrap_or(DEFAULT_LISTEN),
            admin_port,
            modules,
            watch,
            upstream,
            clusters,
            config,
            log_level,
            verbose,
        })))
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

/// `DIR[=FILTER_CONFIG]`: DIR must hold a Cargo.toml.
fn parse_watch(value: &str) -> Result<WatchCrate, String> {
    let (dir, filter_config) =
        if Path::new(value).is_dir() { (value, "") } else { value.split_once('=').unwrap_or((value, "")) };
    let dir = if dir.is_empty() { "." } else { dir };
    if Path::new(dir).join("go.mod").is_file() && !Path::new(dir).join("Cargo.toml").is_file() {
        return Err(format!(
            "--watch {dir}: a Go module; Go modules cannot be swapped into a running Envoy (a process \
             holds one Go runtime and never unloads it): build it with `envoyx go build -buildmode=c-shared \
             -o libNAME.so .` and serve it with --module, restarting to roll out a new build"
        ));
    }
    if !Path::new(dir).join("Cargo.toml").is_file() {
        return Err(format!(
            "--watch {dir}: no Cargo.toml there; give the directory of your module crate (`envoyx new` \
             makes one)"
        ));
    }
    Ok(WatchCrate { dir: absolute(Path::new(dir)), filter_config: filter_config.to_string() })
}

/// `http://HOST[:PORT][/]`, HOST an IP address (IPv6 in brackets) or a DNS name.
fn parse_upstream(value: &str) -> Result<UpstreamUrl, String> {
    parse_url("--upstream ", value)
}

/// `--cluster NAME=http://HOST:PORT`: a cluster the modules call out to by name.
fn parse_cluster(value: &str) -> Result<(String, UpstreamUrl), String> {
    let Some((name, url)) = value.split_once('=') else {
        return Err(format!(
            "--cluster {value}: give NAME=http://HOST:PORT, e.g. --cluster auth=http://127.0.0.1:9000"
        ));
    };
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')) {
        return Err(format!(
            "--cluster {value}: the name `{name}` is not a cluster name (letters, digits, - _ .)"
        ));
    }
    if name == "upstream" {
        return Err(format!("--cluster {value}: `upstream` is where requests go: set it with --upstream"));
    }
    Ok((name.to_string(), parse_url(&format!("--cluster {name}="), url)?))
}

/// An `http://HOST:PORT` URL given to `flag` (named in each refusal).
fn parse_url(flag: &str, value: &str) -> Result<UpstreamUrl, String> {
    let bad = |why: &str| format!("{flag}{value}: {why}; give http://HOST:PORT, e.g. http://127.0.0.1:8080");
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

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(DEFAULT_LISTEN, SocketAddr::from(([127, 0, 0, 1], 10000)));
        assert_eq!(parse_listen("127.0.0.1:8000").unwrap(), SocketAddr::from(([127, 0, 0, 1], 8000)));
        assert_eq!(parse_listen("9000").unwrap(), SocketAddr::from(([127, 0, 0, 1], 9000)));
        assert!(parse_listen("localhost:80").unwrap_err().contains("--listen localhost:80"));
        assert!(parse_listen("127.0.0.1:0").is_err());
    }
}
