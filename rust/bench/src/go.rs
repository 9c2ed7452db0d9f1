//! What the Go variant adds to the report: Go's allocations per request inside Envoy, and what
//! one crossing between Go and C costs.
//!
//! Allocations: the Go bench module's `allocs` filter, on a listener of its own in the same
//! Envoy (so in the same Go runtime), answers with what the runtime allocated so far; the bench
//! asks before and after the timed requests. Nothing is added to the measured path.
//!
//! Crossings: `go test -bench Call` in `go/bench` times a Go→C call (how a module reaches the
//! host's functions) and a C→Go call (how the host reaches a module's hooks).

use crate::variants::Artifacts;
use serde_json::Value;
use std::path::Path;

/// Adds the `allocs` listener to `bootstrap` and returns its port.
pub fn add_allocations_listener(bootstrap: &mut Value, artifacts: &Artifacts) -> Result<u16, String> {
    let port = envoyx_harness::free_port().map_err(|e| e.to_string())?;
    let filter = envoyx_harness::envoyx_filter(
        "go_allocs",
        envoyx_harness::module_config("go_allocs", &artifacts.go_bench_module, "allocs"),
        envoyx_harness::LoadBy::File(&artifacts.stock_host),
        envoyx_harness::Form::StringValue,
    );
    let routes = vec![envoyx_harness::proxy::route("/", "upstream", &[], None)];
    let listener = envoyx_harness::proxy::http_listener("go_allocs", "127.0.0.1", port, routes, vec![filter]);
    bootstrap["static_resources"]["listeners"]
        .as_array_mut()
        .ok_or("the bootstrap has no listeners")?
        .push(listener);
    Ok(port)
}

/// What the Go runtime in the Envoy behind `port` allocated so far: (objects, bytes).
pub fn allocations(port: u16) -> Result<(u64, u64), String> {
    let reply = envoyx_harness::request(port, "GET", "/", &[], b"").map_err(|e| format!("go allocs: {e}"))?;
    parse_allocations(&String::from_utf8_lossy(&reply.body))
}

/// Parses `objects=N bytes=M`.
pub fn parse_allocations(text: &str) -> Result<(u64, u64), String> {
    let field = |name: &str| {
        text.split_whitespace()
            .find_map(|f| f.strip_prefix(name)?.strip_prefix('=')?.parse::<u64>().ok())
            .ok_or_else(|| format!("the Go bench module's allocs answer {text:?} has no {name}=N"))
    };
    Ok((field("objects")?, field("bytes")?))
}

/// Nanoseconds per call across cgo, as `go test -bench` measured them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Crossings {
    pub go_to_c_ns: f64,
    pub c_to_go_ns: f64,
}

/// Runs the crossing benchmarks of `go/bench` (`calls` calls each).
pub fn crossings(calls: u64) -> Result<Crossings, String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../go/bench");
    let benchtime = format!("{calls}x");
    let output = envoyx_build::run_go(
        &dir,
        &["test", "-run", "^$", "-bench", "^BenchmarkCall", "-benchtime", &benchtime, "."],
    )?;
    parse_crossings(&output)
}

/// Reads `BenchmarkCallC-N  <n>  <ns> ns/op` and `BenchmarkCallGoFromC-N ...` lines.
pub fn parse_crossings(output: &str) -> Result<Crossings, String> {
    let ns = |name: &str| {
        output
            .lines()
            .find(|l| {
                l.split_whitespace().next().is_some_and(|b| b == name || b.starts_with(&format!("{name}-")))
            })
            .and_then(|l| {
                let fields: Vec<&str> = l.split_whitespace().collect();
                let at = fields.iter().position(|f| *f == "ns/op")?;
                fields.get(at.checked_sub(1)?)?.parse::<f64>().ok()
            })
            .ok_or_else(|| format!("no {name} figure in go test's output:\n{output}"))
    };
    Ok(Crossings { go_to_c_ns: ns("BenchmarkCallC")?, c_to_go_ns: ns("BenchmarkCallGoFromC")? })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_allocations_answer() {
        assert_eq!(parse_allocations("objects=120 bytes=4096"), Ok((120, 4096)));
        assert!(parse_allocations("objects=1").unwrap_err().contains("no bytes=N"));
    }

    #[test]
    fn reads_go_test_bench_lines() {
        let output = "goos: linux\nBenchmarkCallC-2   \t 20000\t        52.51 ns/op\n\
                      BenchmarkCallGoFromC-2 \t 20000\t 61.7 ns/op\nPASS\n";
        assert_eq!(parse_crossings(output), Ok(Crossings { go_to_c_ns: 52.51, c_to_go_ns: 61.7 }));
        assert!(parse_crossings("PASS\n").is_err());
    }
}
