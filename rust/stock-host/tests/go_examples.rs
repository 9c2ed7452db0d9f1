//! The Go examples (`go/examples`, one Go module holding every Go filter: an Envoy process can
//! hold one Go runtime) inside official Envoy 1.38.3, 1.39.3 and 1.40.0 through the stock host,
//! with the same checks as their Rust twins (`examples.rs`).

mod support;

use std::path::{Path, PathBuf};
use support::*;

fn go_examples_module() -> PathBuf {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../go/examples/module");
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("go-modules");
    envoyx_build::build_go_module(&source, "envoyx_go_examples", &out).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn the_go_examples_run_in_stock_envoy() {
    let module = go_examples_module();
    for version in VERSIONS {
        let upstream = start_upstream();
        let (hello, headers) = (free_port(), free_port());
        let filter = |name: &str| {
            let config = serde_json::json!({ "name": name, "file_path": module, "filter_config": "" });
            envoyx_filter(name, config, LoadBy::Name, Form::Struct)
        };
        let listeners = vec![
            listener("hello", hello, vec![filter("helloworld")]),
            listener("headers", headers, vec![filter("headers")]),
        ];
        let e = start_envoy(version, &bootstrap(free_port(), upstream.port, listeners, None), temp_dir());

        let reply = post(hello, "/hello", &[], b"ping");
        e.check(reply.status() == 200 && reply.body == b"ping", "helloworld passes through");
        e.check(
            e.log().contains("helloworld[helloworld]: request headers POST /hello"),
            "helloworld logs through Envoy",
        );
        e.check(e.log().contains("is a Go module"), "the core says the Go module stays loaded");

        let reply = get(
            headers,
            "/headers",
            &[
                ("x-envoyx-multi", "original"),
                ("x-envoyx-remove-me", "1"),
                ("x-envoyx-echo", "one"),
                ("x-envoyx-echo", "two"),
                ("x-upstream-respond-x-envoyx-secret", "hidden"),
            ],
        );
        e.check(reply.status() == 200, "headers: status");
        e.check(reply.header("x-upstream-saw-x-envoyx-seen") == Some("true"), "headers: set");
        e.check(
            reply.header_all("x-upstream-saw-x-envoyx-multi") == ["original", "added-by-envoyx"],
            &format!("headers: added a value: {:?}", reply.header_all("x-upstream-saw-x-envoyx-multi")),
        );
        e.check(reply.header("x-upstream-saw-x-envoyx-remove-me").is_none(), "headers: removed");
        e.check(reply.header("x-envoyx-response") == Some("ok"), "headers: response set");
        e.check(reply.header("x-envoyx-secret").is_none(), "headers: response header removed");
        e.check(reply.header_all("x-envoyx-echo") == ["one", "two"], "headers: echoed values in order");
        e.check_no_host_errors();
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
        envoy.log().contains("the Go module has no filter named \"nosuch\" (it has headers, helloworld)"),
        "the refusal names the filters the module has",
    );
}
