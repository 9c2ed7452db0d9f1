//! Which version of which file a module was loaded from: what tells a replaced file (hot reload)
//! from the one loaded before, and a file changed between its checks and its load.

use crate::error::LoadError;
use std::path::{Path, PathBuf};

/// Identifies one version of one file: its canonical path and, so that a file replaced at the
/// same path is a different module (hot reload), its device, inode, size and mtime.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct FileIdentity {
    pub canonical: PathBuf,
    dev: u64,
    ino: u64,
    len: u64,
    mtime_ns: i128,
}

impl FileIdentity {
    /// The file's size in bytes.
    pub(crate) fn len(&self) -> u64 {
        self.len
    }

    pub(crate) fn of(path: &Path) -> Result<Self, LoadError> {
        use std::os::unix::fs::MetadataExt;
        let meta = std::fs::metadata(path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => LoadError::FileMissing { path: path.to_path_buf() },
            _ => LoadError::Unreadable { path: path.to_path_buf(), reason: e.to_string() },
        })?;
        if !meta.is_file() {
            return Err(LoadError::NotSharedObject {
                path: path.to_path_buf(),
                reason: "not a regular file".to_string(),
            });
        }
        let canonical = std::fs::canonicalize(path)
            .map_err(|e| LoadError::Unreadable { path: path.to_path_buf(), reason: e.to_string() })?;
        Ok(Self {
            canonical,
            dev: meta.dev(),
            ino: meta.ino(),
            len: meta.len(),
            mtime_ns: meta.mtime() as i128 * 1_000_000_000 + meta.mtime_nsec() as i128,
        })
    }
}

impl std::fmt::Display for FileIdentity {
    /// As log lines name a version of a file: `inode 1234, 5678 bytes, modified <UTC time>`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let seconds = self.mtime_ns.div_euclid(1_000_000_000) as i64;
        write!(f, "inode {}, {} bytes, modified {}", self.ino, self.len, crate::log::utc_time(seconds))
    }
}
