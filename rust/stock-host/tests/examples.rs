//! The Rust example modules (`rust/examples/*`, built with the SDK) inside the official Envoy
//! binaries through the stock-Envoy host: one Envoy per version with one listener per example;
//! the checks are `example_checks`, shared with the Go examples.

mod example_checks;
mod support;

use example_checks::{Examples, check_over_http1, check_over_http2};
use std::path::PathBuf;
use support::*;

fn example_module(name: &str) -> PathBuf {
    envoyx_testhost::build_package(&format!("envoyx-example-{name}"))
}

#[test]
fn every_example_module_runs_in_stock_envoy() {
    for version in VERSIONS {
        let x = Examples::start(version, &example_module);
        check_over_http1(&x);
    }
}

#[test]
fn every_example_module_runs_over_http2() {
    for version in VERSIONS {
        let x = Examples::start(version, &example_module);
        check_over_http2(&x);
    }
}
