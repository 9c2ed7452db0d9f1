//! Private copies of module files, for hot reload and for files on a `noexec` mount (a
//! Kubernetes image volume), which the loader cannot map. The dynamic loader finds an object by the name
//! it was opened with before it looks at the file, so a new version of a path already loaded must
//! be opened under a name no loaded object has. The copy lives in memory (`memfd_create`), opened
//! as `/proc/self/fd/<fd>` and kept open while the module is loaded so that the name stays unique;
//! `/proc/<pid>/maps` shows it as `/memfd:envoyx-<n>-<file name> (deleted)`. Where memfd is not
//! available, a file in the temporary directory serves instead, deleted once mapped.

use crate::error::LoadError;
use crate::load::file_identity::FileIdentity;
use std::ffi::{CString, c_char, c_int, c_uint};
use std::fs::File;
use std::os::fd::{AsRawFd, FromRawFd};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

unsafe extern "C" {
    fn memfd_create(name: *const c_char, flags: c_uint) -> c_int;
}
const MFD_CLOEXEC: c_uint = 1;

/// One private copy of a module file.
pub(crate) struct PrivateCopy {
    /// What to `dlopen`.
    pub load_from: PathBuf,
    /// What `/proc/<pid>/maps` shows for the mapping.
    pub mapped_as: PathBuf,
    /// The memfd (kept open while the module is loaded), or the temporary file (to delete once
    /// loaded).
    pub keep: Keep,
}

pub(crate) enum Keep {
    Memfd(File),
    TemporaryFile,
}

/// Copies `path` (as `identity` describes it) for loading; an error if it cannot, or if the file
/// changed while it was copied.
pub(crate) fn make(path: &Path, identity: &FileIdentity) -> Result<PrivateCopy, LoadError> {
    static COPIES: AtomicU64 = AtomicU64::new(1);
    let unreadable = |reason: String| LoadError::Unreadable { path: path.into(), reason };
    let file_name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let name = format!("envoyx-{}-{file_name}", COPIES.fetch_add(1, Ordering::Relaxed));
    let copy = match memfd(&name) {
        Some(mut memfd) => {
            let copied = File::open(path).and_then(|mut source| std::io::copy(&mut source, &mut memfd));
            let copied = copied.map_err(|e| unreadable(format!("cannot copy it into memory: {e}")))?;
            PrivateCopy {
                load_from: PathBuf::from(format!("/proc/self/fd/{}", memfd.as_raw_fd())),
                mapped_as: PathBuf::from(format!("/memfd:{name}")),
                keep: Keep::Memfd(memfd),
            }
            .checked(copied, path, identity)?
        }
        None => {
            let dir = std::env::temp_dir().join(format!("envoyx-modules-{}", std::process::id()));
            std::fs::create_dir_all(&dir).map_err(|e| {
                unreadable(format!("cannot create {} for its private copy: {e}", dir.display()))
            })?;
            let copy = dir.join(&name);
            let copied = std::fs::copy(path, &copy)
                .map_err(|e| unreadable(format!("cannot copy it to {}: {e}", copy.display())))?;
            PrivateCopy { load_from: copy.clone(), mapped_as: copy, keep: Keep::TemporaryFile }
                .checked(copied, path, identity)?
        }
    };
    Ok(copy)
}

impl PrivateCopy {
    /// The copy, if `copied` bytes are the whole file and the file did not change meanwhile.
    fn checked(self, copied: u64, path: &Path, identity: &FileIdentity) -> Result<Self, LoadError> {
        let unchanged = FileIdentity::of(path).is_ok_and(|now| now == *identity);
        if copied == identity.len() && unchanged {
            return Ok(self);
        }
        self.discard();
        Err(LoadError::Unreadable {
            path: path.into(),
            reason: "the file changed while it was being loaded".to_string(),
        })
    }

    /// Removes what is left on disk once the copy is loaded (or not needed); a memfd stays open
    /// in whatever keeps `keep`.
    pub(crate) fn discard(&self) {
        if let Keep::TemporaryFile = self.keep {
            let _ = std::fs::remove_file(&self.load_from);
        }
    }
}

/// A new anonymous in-memory file, or None where the kernel or the sandbox refuses one.
fn memfd(name: &str) -> Option<File> {
    let name = CString::new(name).ok()?;
    // Safety: `name` is a NUL-terminated string valid during the call.
    let fd = unsafe { memfd_create(name.as_ptr(), MFD_CLOEXEC) };
    // Safety: a new descriptor that nothing else owns.
    (fd >= 0).then(|| unsafe { File::from_raw_fd(fd) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_copy_holds_the_files_bytes_under_a_name_of_its_own() {
        let dir = std::env::temp_dir().join(format!("envoyx-copy-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("libm.so");
        std::fs::write(&file, b"module bytes").unwrap();
        let identity = FileIdentity::of(&file).unwrap();
        let (a, b) = (make(&file, &identity).unwrap(), make(&file, &identity).unwrap());
        assert_eq!(std::fs::read(&a.load_from).unwrap(), b"module bytes");
        assert_ne!(a.load_from, b.load_from, "two copies, two names");
        assert!(a.mapped_as.to_string_lossy().ends_with("-libm.so"), "{}", a.mapped_as.display());
        if matches!(a.keep, Keep::Memfd(_)) {
            assert!(a.mapped_as.to_string_lossy().starts_with("/memfd:envoyx-"), "{}", a.mapped_as.display());
        }
        // A file that changes after it was looked at is not copied as if it had not.
        std::fs::write(&file, b"a longer module, written meanwhile").unwrap();
        let err = make(&file, &identity).err().expect("a changed file is refused");
        assert!(err.to_string().contains("changed while it was being loaded"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
