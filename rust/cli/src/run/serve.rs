//! Serving: the modules built (or taken as given), the upstream, the Envoy config around them,
//! and Envoy started on it.

use super::banner::Banner;
use super::options::{EnvoyChoice, Module, Options};
use super::signals::{INTERRUPTED, stop_requested};
use super::supervise::supervise;
use super::watch::Watch;
use crate::catalogue::EXAMPLES;
use envoyx_envoy_install as install;
use envoyx_harness::{
    self as harness, AuthServer, EnvoyCommand, EnvoyConfigFile, Form, GrpcHealthServer, LoadBy, Upstream,
    proxy,
};
use serde_json::Value;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};

/// Which stock host Envoy will load, and whether it is a debug build (cargo's default, quick to
/// build, several times slower per request: fine for trying filters, not for timing them).
fn stock_host_line(path: &Path) -> String {
    let debug = path.components().any(|c| c.as_os_str() == "debug");
    let build = if debug {
        "a debug build: fine for trying filters; time them with a release build, as `envoyx bench` does"
    } else {
        "a release build"
    };
    format!("stock host: {} ({build})", path.display())
}

pub(super) fn serve(options: &Options) -> Result<i32, String> {
    let (binary, version) = envoy_binary(&options.envoy)?;
    if stop_requested() {
        return Ok(INTERRUPTED);
    }
    eprintln!("building the stock host…");
    let stock_host = harness::try_stock_host()?;
    eprintln!("{}", stock_host_line(&stock_host));
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

    // --watch: the crate built and installed where it is served from, rebuilt on change.
    let watch_dir = tempfile::Builder::new()
        .prefix("envoyx-watch-")
        .tempdir()
        .map_err(|e| format!("cannot create a temporary directory for the watched module's builds: {e}"))?;
    let watch = match &options.watch {
        Some(watched) => Some(Watch::start(&watched.dir, watch_dir.path())?),
        None => None,
    };
    let watched: Vec<Module> = match (&watch, &options.watch) {
        (Some(watch), Some(watched)) => {
            vec![Module { path: watch.installed.clone(), filter_config: watched.filter_config.clone() }]
        }
        _ => Vec::new(),
    };
    let served = if watch.is_some() { &watched } else { &options.modules };
    let demo = served.is_empty();
    // (name in the chain, EnvoyX config name (its log lines say it), module, filter_config)
    let modules: Vec<(String, String, PathBuf, String)> = if demo {
        eprintln!("building modules…");
        let workspace = crate::catalogue::examples_checkout()?;
        let mut built = Vec::new();
        for example in EXAMPLES {
            eprintln!("  {}", example.package);
            let path = envoyx_build::try_build_workspace_package(&workspace, example.package)?;
            let short = example.config_name().to_string();
            built.push((example.filter_name(), short, path, example.filter_config.to_string()));
            if stop_requested() {
                return Ok(INTERRUPTED);
            }
        }
        built
    } else {
        let mut names: Vec<String> = Vec::new();
        served
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
            let mut config = harness::module_config(envoyx_name, path, filter_config);
            if watch.is_some() {
                // Each build replaces the last: reload it, and unload the ones drained.
                config["reload_on_file_change"] = Value::from(true);
                config["do_not_dlclose"] = Value::from(false);
            }
            let mut filter = harness::envoyx_filter(envoyx_name, config, LoadBy::Name, Form::Struct);
            filter["name"] = Value::from(name.as_str()); // unique in the chain, the key for routes
            filter
        })
        .collect();
    let names: Vec<String> = modules.iter().map(|(name, _, _, _)| name.clone()).collect();
    let routes = if demo {
        // Each example's prefixes turn every other example's filter off; `/` turns them all off.
        let mut routes = Vec::new();
        for example in EXAMPLES {
            let own = example.filter_name();
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
    // The demo's auth service, behind the cluster `auth` the auth example calls out to.
    let auth = match demo {
        true => Some(AuthServer::start().map_err(|e| format!("cannot start the demo's auth service: {e}"))?),
        false => None,
    };
    // The demo's gRPC health service, behind the cluster `grpc` the grpc-check example calls.
    let grpc = match demo {
        true => Some(
            GrpcHealthServer::start()
                .map_err(|e| format!("cannot start the demo's gRPC health service: {e}"))?,
        ),
        false => None,
    };
    let mut clusters = vec![cluster];
    clusters.extend(options.clusters.iter().map(|(name, url)| match url.is_ip {
        true => proxy::static_cluster(name, &url.host, url.port),
        false => proxy::dns_cluster(name, &url.host, url.port),
    }));
    clusters.extend(auth.iter().map(|auth| proxy::static_cluster("auth", "127.0.0.1", auth.port)));
    clusters.extend(grpc.iter().map(|grpc| proxy::http2_cluster("grpc", "127.0.0.1", grpc.port)));
    let bootstrap = proxy::bootstrap_with(admin_port, vec![listener], clusters);
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
        Banner::Modules { modules: served, upstream: options.upstream.as_ref(), echo: echo.as_ref() }
    };
    if let Some(watch) = watch {
        eprintln!(
            "envoyx run: watching {}: save a change to build it and swap it in",
            watch.crate_dir.display()
        );
        std::thread::spawn(move || watch.follow());
    }
    let code = supervise(envoy, Some(options.listen), options, &banner);
    drop(watch_dir);
    drop(echo); // the upstream, the auth service and the gRPC service stop after Envoy
    drop(auth);
    drop(grpc);
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
