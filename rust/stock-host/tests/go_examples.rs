//! The Go examples (`go/examples`: one Go module holding every Go filter, because an Envoy process
//! can hold one Go runtime) inside official Envoy 1.38.3, 1.39.3 and 1.40.0 through the stock
//! host, with the very checks of their Rust twins (`example_checks`), over HTTP/1.1 and HTTP/2.

mod example_checks;
mod support;

use example_checks::{Examples, check_over_http1, check_over_http2};
use std::path::{Path, PathBuf};
use support::*;

fn go_examples_module() -> PathBuf {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../go/examples/module");
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("go-modules");
    envoyx_build::build_go_module(&source, "envoyxgo_examples", &out).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn the_go_examples_run_in_stock_envoy() {
    let module = go_examples_module();
    for version in VERSIONS {
        let x = Examples::start(version, &|_| module.clone());
        check_over_http1(&x);
        check_over_http2(&x);
        let e = &x.envoy;
        e.check(
            e.log().contains("helloworld[helloworld]: request headers POST /hello"),
            "the Go helloworld logs through Envoy",
        );
        e.check(e.log().contains("is a Go module"), "the core says the Go module stays loaded");
    }

    // A name the module has no filter for: Envoy refuses the config, naming the filters it has.
    let upstream = start_upstream();
    let config = serde_json::json!({ "name": "nosuch", "file_path": module, "filter_config": "" });
    let listeners =
        vec![listener("bad", free_port(), vec![envoyx_filter("nosuch", config, LoadBy::Name, Form::Struct)])];
    let mut envoy =
        spawn_envoy("1.40.0", &bootstrap(free_port(), upstream.port, listeners, None), temp_dir());
    let code = envoy.wait_exit(std::time::Duration::from_secs(30));
    envoy.check(code == Some(1), &format!("exit code {code:?}"));
    envoy.check(
        envoy.log().contains(
            "the Go module has no filter named \"nosuch\" (it has auth, body-replace, body-rewrite, delay, \
             grpc-check, headers, helloworld, json-validate, send-response, stream-response)",
        ),
        "the refusal names the filters the module has",
    );
}
