//! `cargo run --release -p envoyx-bench --bin reload -- [--swaps N] [--clients N] [--envoy-version V]`
//!
//! Hot reload, the long run (the end-to-end test `rust/stock-host/tests/reload.rs` is the short
//! one): HTTP/1.1 keep-alive clients send the conformance module's `version` case without pause
//! while its file is replaced N times (default 200) by builds stamped with their version, every
//! tenth replacement followed by a broken build (its configuration hook refuses). Prints the
//! figures — requests, failures, responses per version, how long a swap takes to serve, Envoy's
//! resident memory before and after, the copies still mapped — and exits 1 if a request failed,
//! a response was not stamped by exactly one version, a broken build was not refused, or an old
//! version stayed in Envoy's memory after draining.

use envoyx_bench::long_run::{self, timings};
use envoyx_bench::procfs;
use envoyx_conformance::install_stamped;
use envoyx_harness::{self as harness, EnvoyCommand, Form, LoadBy, Upstream, keep_alive_until, mapped_files};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

struct Options {
    swaps: usize,
    clients: usize,
    envoy_version: String,
}

fn parse(args: &[String]) -> Result<Options, String> {
    let mut options = Options { swaps: 200, clients: 4, envoy_version: "1.40.0".to_string() };
    long_run::flags(args, |flag, value| {
        match flag {
            "--swaps" => options.swaps = long_run::number(flag, value)?,
            "--clients" => options.clients = long_run::number(flag, value)?,
            "--envoy-version" => options.envoy_version = value.to_string(),
            other => return Err(format!("unknown argument `{other}`")),
        }
        Ok(())
    })?;
    if options.swaps == 0 || options.clients == 0 {
        return Err("--swaps and --clients must be at least 1".to_string());
    }
    Ok(options)
}

/// Waits until Envoy's log holds `count` lines with `needle`; the time it took.
fn wait_logged(envoy: &harness::Envoy, needle: &str, count: usize) -> Result<Duration, String> {
    let start = Instant::now();
    while envoy.log().matches(needle).count() < count {
        if start.elapsed() > Duration::from_secs(30) {
            return Err(format!("no {count}th log line with `{needle}` after 30 s:\n{}", envoy.log_tail()));
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    Ok(start.elapsed())
}

fn soak(options: &Options) -> Result<Vec<String>, String> {
    let built = envoyx_build::try_build_package("envoyx-test-module-conformance")?;
    let stock_host = harness::try_stock_host()?;
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let file = dir.path().join("libsoak.so");
    let install =
        |stamp: &str| install_stamped(&built, stamp, &file).map_err(|e| format!("installing {stamp}: {e}"));
    install("v0")?;
    let upstream = Upstream::start().map_err(|e| e.to_string())?;
    let port = harness::free_port().map_err(|e| e.to_string())?;
    let admin = harness::free_port().map_err(|e| e.to_string())?;
    let config = serde_json::json!({
        "name": "soak", "file_path": file, "filter_config": "", "reload_on_file_change": true,
    });
    let filter = harness::envoyx_filter("soak", config, LoadBy::Name, Form::Struct);
    let bootstrap =
        harness::bootstrap(admin, upstream.port, vec![harness::listener("l0", port, vec![filter])], None);
    let binary = harness::envoy_path(&options.envoy_version).map_err(|e| e.to_string())?;
    let command = EnvoyCommand {
        binary: &binary,
        version: &options.envoy_version,
        bootstrap: &bootstrap,
        module_search_path: stock_host.parent(),
        log_level: "info",
    };
    let mut envoy =
        command.spawn(tempfile::tempdir().map_err(|e| e.to_string())?).map_err(|e| e.to_string())?;
    envoy.wait_ready(Duration::from_secs(60))?;
    let rss_before = procfs::vm_rss_kib(envoy.pid()).map_err(|e| e.to_string())?;

    let stop = Arc::new(AtomicBool::new(false));
    let request = b"GET /soak HTTP/1.1\r\nhost: soak\r\nx-case: version\r\n\r\n";
    let clients: Vec<_> = (0..options.clients)
        .map(|_| {
            let stop = stop.clone();
            std::thread::spawn(move || keep_alive_until(port, request, &stop))
        })
        .collect();
    let started = Instant::now();
    let mut swap_times = Vec::new();
    let mut refused = 0;
    for swap in 1..=options.swaps {
        install(&format!("v{swap}"))?;
        swap_times.push(wait_logged(&envoy, "EnvoyX: filter `soak`: reloaded", swap)?);
        if swap % 10 == 0 {
            install("refuse")?;
            refused += 1;
            wait_logged(&envoy, "refuses every configuration", refused)?;
        }
    }
    std::thread::sleep(Duration::from_millis(500));
    stop.store(true, Ordering::Relaxed);
    let elapsed = started.elapsed();
    let replies: Vec<_> = clients.into_iter().flat_map(|c| c.join().unwrap_or_default()).collect();
    wait_logged(&envoy, "has no stream left and is destroyed", options.swaps)?;
    let rss_after = procfs::vm_rss_kib(envoy.pid()).map_err(|e| e.to_string())?;
    let mapped = mapped_files(envoy.pid(), "-libsoak.so");

    let mut problems = Vec::new();
    let mut by_version: BTreeMap<String, usize> = BTreeMap::new();
    for reply in &replies {
        match reply {
            Ok(m) if m.status() == 200 && m.header_all("x-envoyx-version").len() == 1 => {
                *by_version
                    .entry(m.header("x-envoyx-version").unwrap_or_default().to_string())
                    .or_default() += 1
            }
            Ok(m) => problems.push(format!(
                "status {}, versions {:?}",
                m.status(),
                m.header_all("x-envoyx-version")
            )),
            Err(e) => problems.push(format!("request failed: {e}")),
        }
    }
    if mapped.len() != 1 {
        problems.push(format!("mapped after draining: {mapped:?}"));
    }
    println!("EnvoyX hot reload soak, Envoy {} (--concurrency 1)", options.envoy_version);
    println!(
        "  swaps: {} ({refused} broken builds refused between them), clients: {} HTTP/1.1 keep-alive",
        options.swaps, options.clients
    );
    println!(
        "  requests: {} in {:.1} s ({:.0}/s), failed or unstamped: {}",
        replies.len(),
        elapsed.as_secs_f64(),
        replies.len() as f64 / elapsed.as_secs_f64(),
        problems.len()
    );
    println!("  versions seen in responses: {} of {}", by_version.len(), options.swaps + 1);
    println!(
        "  install to serving (watcher poll 250 ms, settle, load, config): {}",
        timings(&mut swap_times, 0)
    );
    println!(
        "  Envoy resident memory: {rss_before} KiB before, {rss_after} KiB after ({:+} KiB, {:+.1} KiB per swap)",
        rss_after as i64 - rss_before as i64,
        (rss_after as f64 - rss_before as f64) / options.swaps as f64
    );
    println!("  module copies mapped after draining: {}", mapped.len());
    drop(upstream);
    Ok(problems)
}

fn main() {
    envoyx_bench::long_run::main(
        "reload",
        "reload [--swaps N] [--clients N] [--envoy-version V]",
        parse,
        soak,
    )
}
