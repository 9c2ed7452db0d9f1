//! An official Envoy process: started on a bootstrap written into its own directory, always
//! stopped by PID (also when a test panics), its log kept in a file.

use crate::http::request;
use serde_json::Value;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// A running Envoy. Dropping it kills the process and waits for it.
pub struct Envoy {
    /// The version it was started as (for messages only).
    pub version: String,
    /// The admin port; 0 while unknown (an Envoy on a user's file before [`Envoy::is_ready`]
    /// found it, or for good when the file has no admin interface).
    pub admin_port: u16,
    child: Child,
    log: PathBuf,
    /// The directory holding its bootstrap and log; removed when the `Envoy` is dropped.
    pub dir: tempfile::TempDir,
}

/// How to start Envoy.
pub struct EnvoyCommand<'a> {
    pub binary: &'a Path,
    pub version: &'a str,
    /// The bootstrap; `admin.address.socket_address.port_value` must be set.
    pub bootstrap: &'a Value,
    /// Where Envoy looks up dynamic modules by name (`ENVOY_DYNAMIC_MODULES_SEARCH_PATH`).
    pub module_search_path: Option<&'a Path>,
    /// Envoy's log level (`-l`).
    pub log_level: &'a str,
}

impl EnvoyCommand<'_> {
    /// Writes the bootstrap into `dir` and starts Envoy with `--concurrency 1`; its output goes
    /// to `dir/envoy.log`. Does not wait for it to be ready.
    pub fn spawn(&self, dir: tempfile::TempDir) -> io::Result<Envoy> {
        self.spawn_as(dir, Supervision::SameGroup)
    }

    /// [`spawn`](Self::spawn) for a command that supervises Envoy from a terminal (see
    /// [`Supervision::Supervised`]).
    pub fn spawn_supervised(&self, dir: tempfile::TempDir) -> io::Result<Envoy> {
        self.spawn_as(dir, Supervision::Supervised)
    }

    /// [`spawn`](Self::spawn) with `--drain-time-s seconds`: a listener LDS removes is drained
    /// and destroyed (its filter configurations with it) after that long, not Envoy's 600 s.
    pub fn spawn_draining_in(&self, dir: tempfile::TempDir, seconds: u32) -> io::Result<Envoy> {
        self.spawn_with(dir, Supervision::SameGroup, Some(seconds))
    }

    /// [`spawn`](Self::spawn) with `--concurrency workers` instead of 1.
    pub fn spawn_with_workers(&self, dir: tempfile::TempDir, workers: u32) -> io::Result<Envoy> {
        self.spawn_launch(dir, Supervision::SameGroup, None, workers)
    }

    fn spawn_as(&self, dir: tempfile::TempDir, supervision: Supervision) -> io::Result<Envoy> {
        self.spawn_with(dir, supervision, None)
    }

    fn spawn_with(
        &self,
        dir: tempfile::TempDir,
        supervision: Supervision,
        drain_time_s: Option<u32>,
    ) -> io::Result<Envoy> {
        self.spawn_launch(dir, supervision, drain_time_s, 1)
    }

    fn spawn_launch(
        &self,
        dir: tempfile::TempDir,
        supervision: Supervision,
        drain_time_s: Option<u32>,
        workers: u32,
    ) -> io::Result<Envoy> {
        let admin_port = self.bootstrap["admin"]["address"]["socket_address"]["port_value"]
            .as_u64()
            .and_then(|p| u16::try_from(p).ok())
            .ok_or_else(|| {
                io::Error::other("the bootstrap has no admin.address.socket_address.port_value")
            })?;
        let config = dir.path().join("envoy.json");
        std::fs::write(&config, serde_json::to_vec_pretty(self.bootstrap)?)?;
        let launch = Launch {
            binary: self.binary,
            version: self.version,
            config: &config,
            module_search_path: self.module_search_path,
            log_level: self.log_level,
            concurrency: Some(workers),
            drain_time_s,
            supervision,
        };
        launch.spawn(dir, admin_port)
    }
}

/// How to start Envoy on a configuration file of the user's (YAML or JSON, chosen by Envoy from
/// the extension), used as it is.
pub struct EnvoyConfigFile<'a> {
    pub binary: &'a Path,
    pub version: &'a str,
    pub config: &'a Path,
    /// Where Envoy looks up dynamic modules by name (`ENVOY_DYNAMIC_MODULES_SEARCH_PATH`).
    pub module_search_path: Option<&'a Path>,
    /// Envoy's log level (`-l`).
    pub log_level: &'a str,
}

impl EnvoyConfigFile<'_> {
    /// Starts Envoy on the file with its own concurrency and `--admin-address-path` in `dir`,
    /// so [`Envoy::is_ready`] finds the admin interface wherever the file puts it (port 0
    /// included); output goes to `dir/envoy.log`. Does not wait for it to be ready.
    pub fn spawn(&self, dir: tempfile::TempDir) -> io::Result<Envoy> {
        self.spawn_as(dir, Supervision::SameGroup)
    }

    /// [`spawn`](Self::spawn) for a command that supervises Envoy from a terminal (see
    /// [`Supervision::Supervised`]).
    pub fn spawn_supervised(&self, dir: tempfile::TempDir) -> io::Result<Envoy> {
        self.spawn_as(dir, Supervision::Supervised)
    }

    fn spawn_as(&self, dir: tempfile::TempDir, supervision: Supervision) -> io::Result<Envoy> {
        let launch = Launch {
            binary: self.binary,
            version: self.version,
            config: self.config,
            module_search_path: self.module_search_path,
            log_level: self.log_level,
            concurrency: None,
            drain_time_s: None,
            supervision,
        };
        launch.spawn(dir, 0)
    }
}

/// How Envoy's process relates to ours.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Supervision {
    /// Envoy shares our process group: a Ctrl-C or a test runner's signal reaches both (what
    /// tests want: an interrupted test run leaves no Envoy behind).
    SameGroup,
    /// Envoy gets its own process group, so a terminal's Ctrl-C reaches only us and we stop
    /// Envoy the clean way; and it gets SIGTERM if we die without doing so (PR_SET_PDEATHSIG),
    /// so even a SIGKILLed `envoyx run` leaves no Envoy behind. The death signal follows the
    /// thread that spawned Envoy: spawn from a thread that lives as long as Envoy should.
    Supervised,
}

struct Launch<'a> {
    binary: &'a Path,
    version: &'a str,
    config: &'a Path,
    module_search_path: Option<&'a Path>,
    log_level: &'a str,
    concurrency: Option<u32>,
    drain_time_s: Option<u32>,
    supervision: Supervision,
}

impl Launch<'_> {
    /// `admin_port` 0: unknown, read from the admin address file once Envoy writes it.
    fn spawn(&self, dir: tempfile::TempDir, admin_port: u16) -> io::Result<Envoy> {
        let log = dir.path().join("envoy.log");
        let log_file = std::fs::File::create(&log)?;
        let mut command = Command::new(self.binary);
        command.arg("-c").arg(self.config);
        if let Some(n) = self.concurrency {
            command.args(["--concurrency", &n.to_string()]);
        }
        if let Some(seconds) = self.drain_time_s {
            command.args(["--drain-time-s", &seconds.to_string()]);
        }
        if admin_port == 0 {
            command.arg("--admin-address-path").arg(dir.path().join(ADMIN_ADDRESS_FILE));
        }
        command
            .args(["--disable-hot-restart", "-l", self.log_level])
            // Access-log files reach the disk within a quarter second (Envoy's default is 10 s),
            // so a test or a user watching them sees each request soon after it.
            .args(["--file-flush-interval-msec", "250"])
            .stdin(Stdio::null())
            .stdout(log_file.try_clone()?)
            .stderr(log_file);
        if let Some(path) = self.module_search_path {
            command.env("ENVOY_DYNAMIC_MODULES_SEARCH_PATH", path);
        }
        if self.supervision == Supervision::Supervised {
            use std::os::unix::process::CommandExt;
            command.process_group(0);
            // Safety: the closure runs in the forked child before exec and calls only prctl(2),
            // which is async-signal-safe and touches no memory of ours.
            unsafe {
                command.pre_exec(|| {
                    if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM) != 0 {
                        return Err(io::Error::last_os_error());
                    }
                    Ok(())
                });
            }
        }
        let child = command.spawn().map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("cannot start Envoy {} ({}): {e}", self.version, self.binary.display()),
            )
        })?;
        Ok(Envoy { version: self.version.to_string(), admin_port, child, log, dir })
    }
}

/// Where Envoy started on a user's file writes its admin address (in the `Envoy`'s `dir`).
const ADMIN_ADDRESS_FILE: &str = "admin-address";

impl Envoy {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The file Envoy logs to (removed with the `Envoy`).
    pub fn log_path(&self) -> &Path {
        &self.log
    }

    /// Whether Envoy is serving: its admin `/ready` answers 200. For an Envoy on a user's file,
    /// the admin port is taken from the address file Envoy writes; a file without an admin
    /// interface counts as ready once Envoy's main loop has started.
    pub fn is_ready(&mut self) -> bool {
        if self.admin_port == 0 {
            // The log first: Envoy writes the address file before its main loop starts, so a
            // started Envoy without the file has no admin interface.
            let started = self.log().contains("starting main dispatch loop");
            let address =
                std::fs::read_to_string(self.dir.path().join(ADMIN_ADDRESS_FILE)).unwrap_or_default();
            match address.trim().rsplit_once(':').and_then(|(_, port)| port.parse().ok()) {
                Some(port) => self.admin_port = port,
                None => return started,
            }
        }
        request(self.admin_port, "GET", "/ready", &[], b"").is_ok_and(|reply| reply.status() == 200)
    }

    /// Everything Envoy logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The last 40 lines of the log, without the periodic "main" noise.
    pub fn log_tail(&self) -> String {
        let log = self.log();
        let lines: Vec<&str> =
            log.lines().filter(|l| !l.contains("][main] [source/server/server.cc")).collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }

    /// Whether the process has exited, and how.
    pub fn try_wait(&mut self) -> io::Result<Option<ExitStatus>> {
        self.child.try_wait()
    }

    /// Waits until the admin `/ready` answers 200. Fails with the log's tail when Envoy exits
    /// first or `timeout` passes.
    pub fn wait_ready(&mut self, timeout: Duration) -> Result<(), String> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().map_err(|e| e.to_string())? {
                return Err(format!(
                    "Envoy {} exited ({status}) while starting:\n{}",
                    self.version,
                    self.log_tail()
                ));
            }
            if self.is_ready() {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(format!(
                    "Envoy {} not ready after {timeout:?}:\n{}",
                    self.version,
                    self.log_tail()
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits for Envoy to exit by itself; `None` if it is still running after `timeout`.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }

    /// Stops Envoy the clean way: SIGTERM (Envoy drains and exits), then SIGKILL if it is still
    /// running after `grace`. Returns how it exited.
    pub fn stop(&mut self, grace: Duration) -> io::Result<ExitStatus> {
        if let Some(status) = self.child.try_wait()? {
            return Ok(status);
        }
        let pid = libc::pid_t::try_from(self.child.id()).map_err(io::Error::other)?;
        // Safety: kill(2) takes a PID and a signal number; `pid` is our own child, not yet
        // reaped (try_wait above returned None), so it cannot name another process.
        unsafe { libc::kill(pid, libc::SIGTERM) };
        if let Some(status) = self.wait_exit(grace) {
            return Ok(status);
        }
        self.child.kill()?;
        self.child.wait()
    }

    /// Sets Envoy's `dynamic_modules` logger (the stock host's and its modules') to debug through
    /// the admin `/logging`, so the stock host logs each stream's zero-copy counter as it ends
    /// (read with [`body_bytes_copied`]).
    pub fn log_modules_at_debug(&self) -> Result<(), String> {
        let reply = request(self.admin_port, "POST", "/logging?dynamic_modules=debug", &[], b"")
            .map_err(|e| format!("admin /logging: {e}"))?;
        if reply.status() != 200 {
            return Err(format!("admin /logging answered {}", reply.status()));
        }
        Ok(())
    }

    /// A counter or gauge from the admin `/stats`.
    pub fn stat(&self, name: &str) -> Option<u64> {
        let reply = request(self.admin_port, "GET", &format!("/stats?filter=^{name}$"), &[], b"").ok()?;
        let text = String::from_utf8_lossy(&reply.body).into_owned();
        text.lines().find_map(|l| l.strip_prefix(name)?.strip_prefix(": ")?.trim().parse().ok())
    }
}

impl Drop for Envoy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The zero-copy counter of every stream of EnvoyX filter `filter` that ended, in the order they
/// ended, from Envoy's `log`: the stock host logs, at debug level when a stream ends, "EnvoyX
/// stream of filter `NAME` ends; body bytes copied: N" (see [`Envoy::log_modules_at_debug`]). N
/// is the core's per-stream count of body bytes copied on the module's behalf (prepend, append,
/// replace); in-place edits add nothing.
pub fn body_bytes_copied(log: &str, filter: &str) -> Vec<u64> {
    let prefix = format!("EnvoyX stream of filter `{filter}` ends; body bytes copied: ");
    log.lines()
        .filter_map(|line| {
            let rest = &line[line.find(&prefix)? + prefix.len()..];
            let digits = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
            rest[..digits].parse().ok()
        })
        .collect()
}

/// The distinct files of process `pid`'s memory mappings (`/proc/<pid>/maps`) whose path contains
/// `needle`, sorted; a deleted file shows as its path (the ` (deleted)` mark dropped).
pub fn mapped_files(pid: u32, needle: &str) -> Vec<String> {
    let maps = std::fs::read_to_string(format!("/proc/{pid}/maps")).unwrap_or_default();
    let mut files: Vec<String> = maps
        .lines()
        .filter_map(|line| line.split_whitespace().nth(5))
        .filter(|path| path.contains(needle))
        .map(str::to_string)
        .collect();
    files.sort();
    files.dedup();
    files
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_counters_of_one_filter() {
        let log = "[2026-11-22 10:00:00.000][7][debug][dynamic_modules] [envoyx:1] EnvoyX stream of filter \
                   `rewrite` ends; body bytes copied: 0\n\
                   [..][debug][dynamic_modules] [envoyx:1] EnvoyX stream of filter `replace` ends; body bytes copied: 7\n\
                   [..][debug][dynamic_modules] EnvoyX stream of filter `rewrite` ends; body bytes copied: 12\n\
                   [..][info][main] body bytes copied: 99\n";
        assert_eq!(body_bytes_copied(log, "rewrite"), vec![0, 12]);
        assert_eq!(body_bytes_copied(log, "replace"), vec![7]);
        assert!(body_bytes_copied(log, "other").is_empty());
    }
}
