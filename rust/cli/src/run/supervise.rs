//! Envoy once started: waiting for it to be ready, then until it exits or a signal comes; stopping
//! it, and telling how it ended.

use super::banner::{Banner, client_base, print_banner};
use super::log_follow::LogFollower;
use super::options::Options;
use super::signals::stop_requested;
use envoyx_harness::Envoy;
use std::net::SocketAddr;
use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;
use std::time::{Duration, Instant};

/// How long Envoy may take to become ready.
const READY_TIMEOUT: Duration = Duration::from_secs(120);
/// How long Envoy may take to exit after SIGTERM before it is killed.
const STOP_GRACE: Duration = Duration::from_secs(20);

/// Waits for Envoy to be ready, prints what to do, copies its log to stderr and stops it on a
/// signal. The exit status of `envoyx run`.
pub(super) fn supervise(
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
