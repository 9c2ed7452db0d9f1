//! A module file on a filesystem mounted `noexec` — how Kubernetes mounts an image volume, and
//! where the dynamic loader cannot map code — is loaded from an in-memory copy and serves.
//! Mounting the tmpfs needs root (as CI runs).

mod common;

use common::c_module;
use envoyx_testhost::TestHost;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A tmpfs mounted `noexec` on a new temporary folder, unmounted when dropped.
struct NoexecMount {
    dir: tempfile::TempDir,
}

impl NoexecMount {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", "noexec,size=64m", "tmpfs"])
            .arg(dir.path())
            .status()
            .expect("mount runs");
        assert!(status.success(), "mounting a noexec tmpfs failed ({status}): this test needs root");
        Self { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for NoexecMount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.dir.path()).status();
    }
}

#[test]
fn a_module_on_a_noexec_mount_is_loaded_from_a_copy_in_memory() {
    let mount = NoexecMount::new();
    let module: PathBuf = mount.path().join("libnoexec_module.so");
    std::fs::copy(c_module("noexec", &[]), &module).unwrap();
    // What the dynamic loader makes of the file itself there.
    // Safety: loading a C test module whose initialisers do nothing but set statics.
    let direct = unsafe { libloading::Library::new(&module) };
    let error = match direct {
        Ok(_) => panic!("the loader mapped code from a noexec mount"),
        Err(e) => format!("{e:?}"),
    };
    assert!(error.contains("failed to map segment"), "{error}");

    let host = TestHost::load(&module, "noexec", "").expect("loaded from a copy");
    let mut stream = host.stream();
    stream.request_headers(&[(":path", "/")], true);
    assert_eq!(stream.upstream_request_headers().get("x-c-module").as_deref(), Some("seen"));
    assert!(envoyx_testhost::logged(&format!(
        "EnvoyX module {}: the file is on a filesystem mounted noexec",
        module.display()
    )));
    let module_loaded = host.filter_config().module();
    let mapped = module_loaded.file().expect("loaded from a file").mapped_as().display().to_string();
    assert!(mapped.starts_with("/memfd:envoyx-"), "{mapped}");
    drop(stream);
    drop(host);
}
