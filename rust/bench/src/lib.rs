//! The EnvoyX benchmark harness: official Envoy 1.40.0 with `--concurrency 1`, the same listener
//! and upstream for every variant (no filter, EnvoyX through the stock host, a plain C module
//! against upstream's ABI, Lua, Proxy-Wasm on V8, ext_proc), Envoy's CPU time per request from
//! /proc as the primary figure. docs/benchmarks.md tells how to run it.

pub mod build;
pub mod chain;
pub mod chaos_upstream;
pub mod cpu_limit;
pub mod go;
pub mod load;
pub mod load_h2;
pub mod long_run;
pub mod pattern;
pub mod plot;
pub mod procfs;
pub mod report;
pub mod run;
pub mod stats;
pub mod upstream;
pub mod variants;
pub mod wire;
pub mod zerocopy;
