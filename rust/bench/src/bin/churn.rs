//! `cargo run --release -p envoyx-bench --bin churn -- [--updates N] [--envoy-version V]`
//!
//! Config churn (issue 14, item 5): N LDS updates (default 1,000) add and remove listeners whose
//! EnvoyX filters load a module file, every tenth update also carrying a listener whose module
//! file is not a shared object, while HTTP/1.1 keep-alive clients use a listener that stays.
//! Envoy drains a removed listener in 1 s (`--drain-time-s 1`). Prints the figures — updates
//! accepted and rejected, how long one takes, requests and failures, Envoy's resident memory
//! before and after, the churned module's mappings once its listeners are gone — and exits 1 if
//! a request failed, a bad update was accepted or a good one rejected, the rejection did not name
//! the file, the churned module was mapped more than once while in use, or it stayed loaded after
//! its last listener left.

use envoyx_bench::long_run::{self, timings};
use envoyx_bench::procfs;
use envoyx_harness::{self as harness, EnvoyCommand, Form, LoadBy, Upstream, keep_alive_until, mapped_files};
use serde_json::Value;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

struct Options {
    updates: usize,
    envoy_version: String,
}

fn parse(args: &[String]) -> Result<Options, String> {
    let mut options = Options { updates: 1000, envoy_version: "1.40.0".to_string() };
    long_run::flags(args, |flag, value| {
        match flag {
            "--updates" => options.updates = long_run::number(flag, value)?,
            "--envoy-version" => options.envoy_version = value.to_string(),
            other => return Err(format!("unknown argument `{other}`")),
        }
        Ok(())
    })?;
    if options.updates == 0 {
        return Err("--updates must be at least 1".to_string());
    }
    Ok(options)
}

fn filter(name: &str, file: &Path) -> Value {
    let config = serde_json::json!({ "name": name, "file_path": file, "filter_config": "" });
    harness::envoyx_filter(name, config, LoadBy::Name, Form::Struct)
}

/// Waits until the LDS updates Envoy took (accepted + rejected) reach `count`.
fn wait_updates(envoy: &harness::Envoy, count: u64) -> Result<(u64, u64), String> {
    let start = Instant::now();
    loop {
        let ok = envoy.stat("listener_manager.lds.update_success").unwrap_or(0);
        let rejected = envoy.stat("listener_manager.lds.update_rejected").unwrap_or(0);
        if ok + rejected >= count {
            return Ok((ok, rejected));
        }
        if start.elapsed() > Duration::from_secs(30) {
            return Err(format!("LDS update {count} not taken after 30 s:\n{}", envoy.log_tail()));
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

fn churn(options: &Options) -> Result<Vec<String>, String> {
    let built = envoyx_build::try_build_package("envoyx-test-module-conformance")?;
    let stock_host = harness::try_stock_host()?;
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let (stays, churned, bad) =
        (dir.path().join("libstays.so"), dir.path().join("libchurned.so"), dir.path().join("libbad.so"));
    for file in [&stays, &churned] {
        std::fs::copy(&built, file).map_err(|e| format!("copying the module: {e}"))?;
    }
    std::fs::write(&bad, "not a shared object\n").map_err(|e| e.to_string())?;
    let lds = dir.path().join("lds.json");
    let upstream = Upstream::start().map_err(|e| e.to_string())?;
    let port = harness::free_port().map_err(|e| e.to_string())?;
    let churn_ports: Vec<u16> =
        (0..3).map(|_| harness::free_port().map_err(|e| e.to_string())).collect::<Result<_, _>>()?;
    let admin = harness::free_port().map_err(|e| e.to_string())?;
    harness::write_atomically(&lds, &harness::lds_resources(vec![])).map_err(|e| e.to_string())?;
    let bootstrap = harness::bootstrap(
        admin,
        upstream.port,
        vec![harness::listener("stays", port, vec![filter("stays", &stays)])],
        Some(&lds),
    );
    let binary = harness::envoy_path(&options.envoy_version).map_err(|e| e.to_string())?;
    let command = EnvoyCommand {
        binary: &binary,
        version: &options.envoy_version,
        bootstrap: &bootstrap,
        module_search_path: stock_host.parent(),
        // Info: the lines of each configuration's creation and destruction are counted at the end.
        log_level: "info",
    };
    let mut envoy = command
        .spawn_draining_in(tempfile::tempdir().map_err(|e| e.to_string())?, 1)
        .map_err(|e| e.to_string())?;
    envoy.wait_ready(Duration::from_secs(60))?;
    let (ok, no) = wait_updates(&envoy, 1)?; // the LDS file Envoy starts with
    let mut taken = ok + no;
    let rss_before = procfs::vm_rss_kib(envoy.pid()).map_err(|e| e.to_string())?;

    let stop = Arc::new(AtomicBool::new(false));
    let request = b"GET /churn HTTP/1.1\r\nhost: churn\r\n\r\n";
    let clients: Vec<_> = (0..2)
        .map(|_| {
            let stop = stop.clone();
            std::thread::spawn(move || keep_alive_until(port, request, &stop))
        })
        .collect();

    let mut problems = Vec::new();
    let (mut accepted, mut rejected) = (0usize, 0usize);
    let mut update_times = Vec::new();
    let started = Instant::now();
    for update in 1..=options.updates {
        // Listeners come and go: update n has n % 4 of the three churned listeners (new names
        // each time, so each is a new listener with new filter configurations).
        let mut listeners: Vec<Value> = (0..update % 4)
            .map(|i| {
                harness::listener(
                    &format!("churn-{update}-{i}"),
                    churn_ports[i],
                    vec![filter("churned", &churned)],
                )
            })
            .collect();
        let bad_update = update % 10 == 0;
        if bad_update {
            let bad_port = harness::free_port().map_err(|e| e.to_string())?;
            listeners.push(harness::listener(&format!("bad-{update}"), bad_port, vec![filter("bad", &bad)]));
        }
        let before = taken;
        let at = Instant::now();
        harness::write_atomically(&lds, &harness::lds_resources(listeners)).map_err(|e| e.to_string())?;
        let (ok, no) = wait_updates(&envoy, before + 1)?;
        update_times.push(at.elapsed());
        taken = ok + no;
        let was_rejected = no as usize > rejected;
        if was_rejected {
            rejected += 1
        } else {
            accepted += 1
        }
        // One load of the file however many listeners use it (the registry shares it).
        if update % 100 == 51 && mapped_files(envoy.pid(), "libchurned.so").len() > 1 {
            problems.push(format!("update {update}: the churned module is mapped more than once"));
        }
        if was_rejected != bad_update {
            problems.push(format!(
                "update {update}: {} although it is {}",
                if was_rejected { "rejected" } else { "accepted" },
                if bad_update { "bad" } else { "good" }
            ));
        }
    }
    // The churned listeners leave for good; their filter configurations go with the drain.
    harness::write_atomically(&lds, &harness::lds_resources(vec![])).map_err(|e| e.to_string())?;
    wait_updates(&envoy, taken + 1)?;
    let unload_start = Instant::now();
    let mut churned_mapped = mapped_files(envoy.pid(), "libchurned.so");
    while !churned_mapped.is_empty() && unload_start.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(100));
        churned_mapped = mapped_files(envoy.pid(), "libchurned.so");
    }
    let elapsed = started.elapsed();
    stop.store(true, Ordering::Relaxed);
    let replies: Vec<_> = clients.into_iter().flat_map(|c| c.join().unwrap_or_default()).collect();
    let rss_after = procfs::vm_rss_kib(envoy.pid()).map_err(|e| e.to_string())?;
    let stays_mapped = mapped_files(envoy.pid(), "libstays.so");

    let failed = replies.iter().filter(|r| !matches!(r, Ok(m) if m.status() == 200)).count();
    if failed > 0 {
        problems.push(format!("{failed} of {} requests on the listener that stays failed", replies.len()));
    }
    if !churned_mapped.is_empty() {
        problems.push(format!(
            "the churned module is still mapped 20 s after its last listener left: {churned_mapped:?}"
        ));
    }
    if stays_mapped.is_empty() {
        problems.push("the module of the listener that stays is not mapped".to_string());
    }
    // Every configuration of the churned module that was created was destroyed, with its streams.
    let log = envoy.log();
    let created =
        log.lines().filter(|l| l.contains("filter `churned`: EnvoyX module") && l.contains(" ready")).count();
    let destroyed: Vec<_> = log
        .lines()
        .filter_map(envoyx_core::lifecycle::parse_destroyed_line)
        .filter(|line| line.filter == "churned")
        .collect();
    if created == 0 || destroyed.len() != created {
        problems.push(format!(
            "{created} configurations of the churned module created, {} destroyed",
            destroyed.len()
        ));
    }
    if let Some(line) = destroyed.iter().find(|line| !line.streams.balanced()) {
        problems.push(format!("a churned configuration's streams do not balance: {}", line.streams));
    }
    let named = format!("EnvoyX module {}", bad.display());
    if !log.contains(&named) {
        problems.push(format!("no rejection naming the bad file ({named}) in Envoy's log"));
    }
    println!("EnvoyX config churn, Envoy {} (--concurrency 1, --drain-time-s 1)", options.envoy_version);
    println!(
        "  LDS updates: {} ({accepted} accepted, {rejected} rejected: every tenth carries a module file that is not a shared object)",
        options.updates
    );
    println!("  update taken: {}", timings(&mut update_times, 1));
    println!(
        "  requests on the listener that stays: {} in {:.1} s, failed: {failed}",
        replies.len(),
        elapsed.as_secs_f64()
    );
    println!(
        "  Envoy resident memory: {rss_before} KiB before, {rss_after} KiB after ({:+} KiB, {:+.2} KiB per update)",
        rss_after as i64 - rss_before as i64,
        (rss_after as f64 - rss_before as f64) / options.updates as f64
    );
    println!("  configurations of the churned module: {created} created, {} destroyed", destroyed.len());
    println!(
        "  the churned module after its last listener left: {} (unloaded after {:.1} s); the module that stays: mapped",
        if churned_mapped.is_empty() { "unmapped" } else { "STILL MAPPED" },
        unload_start.elapsed().as_secs_f64()
    );
    drop(upstream);
    Ok(problems)
}

fn main() {
    envoyx_bench::long_run::main("churn", "churn [--updates N] [--envoy-version V]", parse, churn)
}
