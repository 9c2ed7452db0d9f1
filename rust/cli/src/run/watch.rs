//! `envoyx run --watch DIR`: the edit-save-see loop. The module crate in DIR is built and
//! installed at a path of its own, which the filter serves with `reload_on_file_change`; a thread
//! looks at the crate's files and, after each change, builds again and installs the new build by
//! an atomic rename. EnvoyX then swaps it in (hot reload): new requests run the new build,
//! requests in flight finish on the old one. A build that fails is reported with cargo's errors
//! and the last good build keeps serving.

use super::signals::stop_requested;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// How often the crate's files are looked at.
const POLL: Duration = Duration::from_millis(300);

/// The watched crate and where its builds are installed.
pub(super) struct Watch {
    pub crate_dir: PathBuf,
    pub installed: PathBuf,
}

impl Watch {
    /// Builds the crate in `crate_dir` and installs the build in `into` (a directory that lives
    /// as long as the run).
    pub fn start(crate_dir: &Path, into: &Path) -> Result<Self, String> {
        eprintln!("building {}…", crate_dir.display());
        let built = envoyx_build::rebuild_module(crate_dir)?;
        let name = built.file_name().ok_or("cargo reported a module without a file name")?;
        let watch = Self { crate_dir: crate_dir.to_path_buf(), installed: into.join(name) };
        watch.install(&built)?;
        Ok(watch)
    }

    /// Copies the build next to the installed file, then renames it over it (what the watching
    /// core expects of a deploy).
    fn install(&self, built: &Path) -> Result<(), String> {
        let mut next = self.installed.clone().into_os_string();
        next.push(".next");
        std::fs::copy(built, &next)
            .and_then(|_| std::fs::rename(&next, &self.installed))
            .map_err(|e| format!("cannot install the build at {}: {e}", self.installed.display()))
    }

    /// Rebuilds after each change of the crate's files until a stop is requested.
    pub fn follow(self) {
        let mut seen = fingerprint(&self.crate_dir);
        while !stop_requested() {
            std::thread::sleep(POLL);
            let now = fingerprint(&self.crate_dir);
            if now == seen {
                continue;
            }
            seen = now;
            eprintln!("envoyx run: {} changed; building…", self.crate_dir.display());
            match envoyx_build::rebuild_module(&self.crate_dir).and_then(|built| self.install(&built)) {
                Ok(()) => eprintln!(
                    "envoyx run: new build installed at {}; EnvoyX swaps it in (requests in flight \
                     finish on the previous one)",
                    self.installed.display()
                ),
                Err(e) => eprintln!("envoyx run: {e}\nenvoyx run: the last good build keeps serving"),
            }
        }
    }
}

/// Every file of the crate but its build output, its lock file and hidden ones, with size and
/// modification time, in order. A change made while a build runs shows at the next look, and
/// is built then.
fn fingerprint(dir: &Path) -> Vec<(PathBuf, u64, Option<SystemTime>)> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries.flatten() {
            let name = entry.file_name();
            // Cargo.lock is what a build writes, not a change to build again for.
            if name.to_string_lossy().starts_with('.') || name == "target" || name == "Cargo.lock" {
                continue;
            }
            let Ok(meta) = entry.metadata() else { continue };
            if meta.is_dir() {
                pending.push(entry.path());
            } else {
                files.push((entry.path(), meta.len(), meta.modified().ok()));
            }
        }
    }
    files.sort();
    files
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_fingerprint_sees_edits_and_ignores_build_output() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("src")).unwrap();
        std::fs::create_dir_all(dir.path().join("target/debug")).unwrap();
        std::fs::write(dir.path().join("src/lib.rs"), "// one").unwrap();
        let before = super::fingerprint(dir.path());
        std::fs::write(dir.path().join("target/debug/libx.so"), "built").unwrap();
        std::fs::write(dir.path().join(".hidden"), "editor swap file").unwrap();
        assert_eq!(super::fingerprint(dir.path()), before, "build output and hidden files do not count");
        std::fs::write(dir.path().join("src/lib.rs"), "// one, edited").unwrap();
        assert_ne!(super::fingerprint(dir.path()), before, "an edit counts");
    }
}
