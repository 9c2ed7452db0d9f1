//! Envoy under a CPU limit, as a Kubernetes pod with `limits.cpu` runs it: a cgroup of its own
//! whose CFS quota allows `cpus` CPUs per period, Envoy not pinned (its threads may run on any
//! CPU, the kernel throttles the group once the quota is spent). cgroup v2 where its `cpu`
//! controller can be enabled, else cgroup v1's `cpu` hierarchy; root (or a delegated tree) is
//! needed either way.
//!
//! Envoy joins the group before it starts, through a wrapper script (`binary()`), so that
//! whatever reads the limit at start-up (the Go runtime sizes GOMAXPROCS from it) sees it.

use std::path::{Path, PathBuf};

/// The CFS period, in µs: the kernel's default.
const PERIOD_US: u64 = 100_000;

/// A cgroup with a CPU quota, removed when dropped (once the processes in it have ended).
#[derive(Debug)]
pub struct CpuLimit {
    dir: PathBuf,
    cpus: f64,
    version: u8,
    /// A script that joins the group and then runs Envoy with its arguments.
    wrapper: PathBuf,
}

impl CpuLimit {
    /// A new group under the machine's cgroup tree limited to `cpus` CPUs, and a wrapper that
    /// runs `envoy` in it (written into `scratch`).
    pub fn create(cpus: f64, envoy: &Path, scratch: &Path) -> Result<Self, String> {
        if !cpus.is_finite() || cpus <= 0.0 {
            return Err(format!("--envoy-cpu-limit {cpus}: must be a positive number of CPUs"));
        }
        let quota = (cpus * PERIOD_US as f64).round() as u64;
        let name = format!("envoyx-bench-{}", std::process::id());
        let (dir, version) = match v2_root() {
            Some(root) => {
                let dir = root.join(&name);
                make_dir(&dir)?;
                write(&dir.join("cpu.max"), &format!("{quota} {PERIOD_US}"))?;
                (dir, 2)
            }
            None => {
                let root = Path::new("/sys/fs/cgroup/cpu");
                if !root.join("cpu.cfs_quota_us").exists() {
                    return Err(
                        "no cgroup CPU controller here: neither cgroup v2 with `cpu` nor v1's /sys/fs/cgroup/cpu"
                            .to_string(),
                    );
                }
                let dir = root.join(&name);
                make_dir(&dir)?;
                write(&dir.join("cpu.cfs_period_us"), &PERIOD_US.to_string())?;
                write(&dir.join("cpu.cfs_quota_us"), &quota.to_string())?;
                (dir, 1)
            }
        };
        let wrapper = scratch.join("envoy-in-cgroup.sh");
        let script = format!(
            "#!/bin/sh\n# Joins the bench's CPU-limited cgroup, then becomes Envoy (same PID).\necho $$ > '{}' && exec '{}' \"$@\"\n",
            dir.join("cgroup.procs").display(),
            envoy.display()
        );
        std::fs::write(&wrapper, script).map_err(|e| format!("{}: {e}", wrapper.display()))?;
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755))
            .map_err(|e| format!("{}: {e}", wrapper.display()))?;
        Ok(Self { dir, cpus, version, wrapper })
    }

    /// What to start instead of Envoy: it runs Envoy inside the group.
    pub fn binary(&self) -> &Path {
        &self.wrapper
    }

    /// How many times the kernel has throttled the group so far (its `nr_throttled`).
    pub fn times_throttled(&self) -> Result<u64, String> {
        let stat = std::fs::read_to_string(self.dir.join("cpu.stat"))
            .map_err(|e| format!("{}: {e}", self.dir.join("cpu.stat").display()))?;
        stat_field(&stat, "nr_throttled")
    }

    /// The report's words for it.
    pub fn describe(&self) -> String {
        format!(
            "Envoy limited to {} CPU by a cgroup v{} CFS quota ({} µs per {PERIOD_US} µs), not pinned",
            self.cpus,
            self.version,
            (self.cpus * PERIOD_US as f64).round()
        )
    }
}

impl Drop for CpuLimit {
    fn drop(&mut self) {
        // Empty by now (each Envoy is stopped by its measurement); a group is removed with rmdir.
        let _ = std::fs::remove_dir(&self.dir);
    }
}

/// The cgroup v2 tree, if it is mounted and its `cpu` controller can be handed to a child.
fn v2_root() -> Option<PathBuf> {
    let root = ["/sys/fs/cgroup", "/sys/fs/cgroup/unified"].into_iter().map(PathBuf::from).find(|r| {
        std::fs::read_to_string(r.join("cgroup.controllers"))
            .is_ok_and(|c| c.split_whitespace().any(|x| x == "cpu"))
    })?;
    write(&root.join("cgroup.subtree_control"), "+cpu").ok()?;
    Some(root)
}

fn make_dir(dir: &Path) -> Result<(), String> {
    match std::fs::create_dir(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(format!("cannot make the cgroup {}: {e} (the CPU limit needs root)", dir.display())),
    }
}

fn write(file: &Path, value: &str) -> Result<(), String> {
    std::fs::write(file, value).map_err(|e| format!("cannot write {value:?} to {}: {e}", file.display()))
}

/// The number after `name` in a `cpu.stat` file.
fn stat_field(stat: &str, name: &str) -> Result<u64, String> {
    stat.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
        .ok_or_else(|| format!("cpu.stat has no {name}: {stat:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_nr_throttled_from_either_version_of_cpu_stat() {
        let v1 = "nr_periods 120\nnr_throttled 17\nthrottled_time 9000000\n";
        let v2 = "usage_usec 5000\nuser_usec 4000\nsystem_usec 1000\nnr_periods 40\nnr_throttled 3\nthrottled_usec 800\n";
        assert_eq!(stat_field(v1, "nr_throttled"), Ok(17));
        assert_eq!(stat_field(v2, "nr_throttled"), Ok(3));
        assert!(stat_field("nr_periods 1\n", "nr_throttled").unwrap_err().contains("no nr_throttled"));
    }

    #[test]
    fn refuses_a_limit_that_is_no_positive_number() {
        let dir = std::env::temp_dir();
        for cpus in [0.0, -1.0, f64::NAN] {
            let e = CpuLimit::create(cpus, Path::new("/bin/true"), &dir).unwrap_err();
            assert!(e.contains("must be a positive number"), "{e}");
        }
    }
}
