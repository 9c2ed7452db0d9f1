//! `envoyx bench [quick|full|profile] [OPTIONS]`: the benchmarks (rust/bench), run from the
//! EnvoyX checkout this envoyx was built from. The harness is its own release-built program —
//! it pulls in a gRPC server and a plotting library the CLI does not need — so this command
//! only hands its arguments to `cargo run --release -p envoyx-bench`.

pub fn run(args: &[String]) -> i32 {
    if args.first().is_some_and(|a| a == "--help" || a == "-h") {
        println!("{USAGE}");
        return 0;
    }
    let workspace = envoyx_harness::workspace_root();
    let manifest = workspace.join("Cargo.toml");
    if !workspace.join("rust/bench/Cargo.toml").is_file() {
        eprintln!(
            "envoyx bench: the benchmarks live in the EnvoyX checkout this envoyx was built from ({}), \
             which is not there any more; run it from a clone: cargo run -p envoyx -- bench",
            workspace.display()
        );
        return 1;
    }
    eprintln!("envoyx bench: building and running the benchmark harness (cargo, release)…");
    let status = envoyx_build::cargo_command()
        .args(["run", "--release", "--quiet", "--manifest-path"])
        .arg(&manifest)
        .args(["-p", "envoyx-bench", "--"])
        .args(if args.is_empty() { vec!["quick"] } else { args.iter().map(String::as_str).collect() })
        .status();
    match status {
        Ok(status) => status.code().unwrap_or(1),
        Err(e) => {
            eprintln!("envoyx bench: cannot run cargo: {e}; is cargo on PATH (or CARGO set)?");
            1
        }
    }
}

const USAGE: &str = "\
usage: envoyx bench [quick|full|profile] [--jobs LIST] [--variants LIST] [--rounds N] [--scale X]
                    [--out DIR] [--note TEXT]

Runs the benchmarks (rust/bench) on real Envoy 1.40.0: no filter, EnvoyX, a C module on
upstream's ABI, Lua, Proxy-Wasm and ext_proc, side by side. quick (the default) takes about a
minute; full writes bench/results/<date>-envoy-1.40.0.{md,svg,samples.json}.";
