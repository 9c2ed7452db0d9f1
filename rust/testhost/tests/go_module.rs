//! A module built with Go (`go build -buildmode=c-shared`, with the toolchain EnvoyX installs)
//! on the real core: it serves like any module; since a Go runtime can never leave a process,
//! the core keeps it loaded even without `do_not_dlclose`, and says so; and since Go supports
//! one Go runtime per process, a second Go module is refused before it is loaded, naming both. A
//! module file written again with the same build is the loaded module; one rebuilt in place is
//! refused, saying so, until the file holds the loaded build again.
//!
//! One test function: the process may hold one Go runtime, and tests run in one process.

use envoyx_testhost::{TestHost, logged};
use std::path::Path;

fn go_module() -> std::path::PathBuf {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("../test-modules/go");
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("go-modules");
    envoyx_build::build_go_module(&source, "gohello", &out).unwrap_or_else(|e| panic!("{e}"))
}

fn mapped(path: &Path) -> bool {
    let canonical = std::fs::canonicalize(path).unwrap();
    std::fs::read_to_string("/proc/self/maps").unwrap().contains(&*canonical.to_string_lossy())
}

#[test]
fn a_go_module_serves_and_is_never_unloaded() {
    let module = go_module();
    let host = TestHost::load(&module, "go", "").unwrap();
    let mut stream = host.stream();
    stream.request_headers(&[(":path", "/")], true);
    stream.response_headers(&[(":status", "200")], true);
    assert_eq!(stream.client_response_headers().get("x-go").as_deref(), Some("hello from go"));
    drop(stream);
    drop(host);
    assert!(mapped(&module), "the Go module stays mapped after its last configuration is gone");
    assert!(logged("is a Go module"), "the log says why it is kept");

    // Another Go module (a copy of the file, as another filter or a new version would be):
    // refused before dlopen starts a second Go runtime.
    let dir = tempfile::tempdir().unwrap();
    let second = dir.path().join("libsecond.so");
    std::fs::copy(&module, &second).unwrap();
    let Err(err) = TestHost::load(&second, "go2", "") else { panic!("a second Go runtime must be refused") };
    let text = err.to_string();
    assert!(text.contains("libsecond.so: a Go module, and the Go module"), "{text}");
    assert!(text.contains("libgohello.so is already loaded"), "both files are named: {text}");
    assert!(!mapped(&second), "the second Go module was never loaded");

    // The first one is still served (loaded again from the registry, not a second runtime).
    let again = TestHost::load(&module, "go", "again").unwrap();
    let mut stream = again.stream();
    stream.request_headers(&[(":path", "/")], true);
    stream.response_headers(&[(":status", "200")], true);
    assert_eq!(stream.client_response_headers().get("x-go").as_deref(), Some("again"));
    drop(stream);

    // The file written again with the same build (a new inode, as a deploy's copy makes): a
    // configuration naming it gets the loaded module, only its filter_config changed.
    let original = std::fs::read(&module).unwrap();
    let replace = |bytes: &[u8]| {
        let aside = module.with_extension("so.new");
        std::fs::write(&aside, bytes).unwrap();
        std::fs::rename(&aside, &module).unwrap();
    };
    replace(&original);
    let same = TestHost::load(&module, "go", "same build").unwrap();
    let mut stream = same.stream();
    stream.request_headers(&[(":path", "/")], true);
    stream.response_headers(&[(":status", "200")], true);
    assert_eq!(stream.client_response_headers().get("x-go").as_deref(), Some("same build"));
    drop(stream);

    // Rebuilt in place (another Go build at the same path): refused, saying what happened and
    // what to do; the file holding the loaded build again is accepted again.
    let other_source = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../go/conformance");
    let other_out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("go-modules-other");
    let other = envoyx_build::build_go_module(&other_source, "go_conformance", &other_out)
        .unwrap_or_else(|e| panic!("{e}"));
    replace(&std::fs::read(&other).unwrap());
    let refused = TestHost::load(&module, "go", "rebuilt");
    replace(&original);
    let Err(err) = refused else { panic!("a rebuilt Go module must be refused") };
    let text = err.to_string();
    assert!(
        text.contains("libgohello.so: this Go module was rebuilt since this process loaded it"),
        "{text}"
    );
    assert!(text.contains("the new build runs after an Envoy restart"), "{text}");
    assert!(!text.contains("is already loaded"), "not named as a second module: {text}");
    assert!(TestHost::load(&module, "go", "restored").is_ok());
}
