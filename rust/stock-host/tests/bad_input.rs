//! Bad EnvoyX configurations on every Envoy version: Envoy rejects the filter config, the stock
//! host's error-level log line names the filter, the file and the reason, and Envoy keeps serving
//! its other listeners.
//!
//! Each case is a listener pushed through LDS (a file) next to a good one, on an Envoy that also
//! has a static listener: the update is rejected (`listener_manager.lds.update_rejected`), the
//! bad listener never appears in admin `/listeners`, and both other listeners still serve.

mod support;

use serde_json::{Value, json};
use std::path::Path;
use std::time::Duration;
use support::*;

/// An EnvoyX config named `bad` for the module at `path`.
fn bad_module_config(path: &Path, filter_config: &str) -> Value {
    json!({ "name": "bad", "file_path": path, "filter_config": filter_config, "do_not_dlclose": true })
}

#[test]
fn module_file_missing() {
    let missing = "/nonexistent/envoyx/libmissing_module.so";
    for version in VERSIONS {
        let mut x = LdsEnvoy::start(version);
        x.check_rejected(
            bad_module_config(Path::new(missing), "basic"),
            Form::Struct,
            &[&format!("filter `bad` rejected: EnvoyX module {missing}: file not found")],
        );
        drop(x);

        // The same config in a static bootstrap: Envoy refuses to start, and says why.
        let upstream = start_upstream();
        let config = bootstrap(
            free_port(),
            upstream.port,
            vec![listener(
                "static_bad",
                free_port(),
                vec![envoyx_filter(
                    "bad",
                    json!({ "name": "bad", "file_path": missing }),
                    LoadBy::File,
                    Form::StringValue,
                )],
            )],
            None,
        );
        let mut envoy = spawn_envoy(version, &config, temp_dir());
        let code = envoy.wait_exit(Duration::from_secs(30));
        envoy.check(code == Some(1), &format!("exit code {code:?}"));
        envoy.check(
            envoy.log().contains(&format!("EnvoyX module {missing}: file not found")),
            "static rejection names the file",
        );
    }
}

/// A configuration declaring a secret Envoy cannot serve: before 1.40 none at all (the refusal
/// names the versions that do), on 1.40 a static secret the bootstrap does not have.
#[test]
fn secret_envoy_cannot_serve() {
    let module = c_test_module();
    for version in VERSIONS {
        let mut x = LdsEnvoy::start(version);
        let mut config = bad_module_config(&module, "basic");
        config["secrets"] = json!([{ "name": "no-such-secret" }]);
        let reason = if version == "1.40.0" {
            "Envoy has no static secret of that name (bootstrap `static_resources.secrets`)".to_string()
        } else {
            format!("Envoy 1.{} serves no secrets to modules; Envoy 1.40 and later do", &version[2..4])
        };
        x.check_rejected(
            config,
            Form::Struct,
            &[&format!("field `secrets[0]`: secret `no-such-secret`: {reason}")],
        );
    }
}

#[test]
fn module_file_not_a_shared_object() {
    let path = scratch_dir().join("libnot_a_module.so");
    std::fs::write(&path, "this is a text file, not an ELF shared object\n").unwrap();
    let path = path.to_string_lossy().into_owned();
    for version in VERSIONS {
        let mut x = LdsEnvoy::start(version);
        x.check_rejected(
            bad_module_config(Path::new(&path), "basic"),
            Form::Struct,
            &[&format!("filter `bad` rejected: EnvoyX module {path}: not a shared object")],
        );
    }
}

/// A module file cut short (copied or written in place while Envoy read it): before EnvoyX
/// checked that everything the loader maps lies inside the file, Envoy died of SIGBUS (exit
/// 135) loading it. Now the filter is refused naming the file and both sizes, through LDS and as
/// a static first load, and Envoy serves on (or, for the bootstrap, exits 1 saying why).
#[test]
fn module_file_cut_short() {
    let whole = std::fs::read(c_test_module()).unwrap();
    let cuts: Vec<usize> =
        [4096, 8192, 12288, whole.len() - 1].into_iter().filter(|&c| c < whole.len()).collect();
    let files: Vec<(usize, String)> = cuts
        .iter()
        .map(|&cut| {
            let path = scratch_dir().join(format!("libcut_{cut}.so"));
            std::fs::write(&path, &whole[..cut]).unwrap();
            (cut, path.to_string_lossy().into_owned())
        })
        .collect();
    for version in VERSIONS {
        let mut x = LdsEnvoy::start(version);
        for (cut, path) in &files {
            x.check_rejected(
                bad_module_config(Path::new(path), "basic"),
                Form::Struct,
                &[
                    &format!("filter `bad` rejected: EnvoyX module {path}: the file is cut short"),
                    &format!("but the file has {cut} bytes"),
                ],
            );
        }
        x.envoy.check_no_host_errors();
        drop(x);

        let (cut, path) = &files[0];
        let upstream = start_upstream();
        let filter =
            envoyx_filter("bad", bad_module_config(Path::new(path), "basic"), LoadBy::Name, Form::Struct);
        let config = bootstrap(
            free_port(),
            upstream.port,
            vec![listener("static_cut", free_port(), vec![filter])],
            None,
        );
        let mut envoy = spawn_envoy(version, &config, temp_dir());
        let code = envoy.wait_exit(Duration::from_secs(30));
        envoy.check(code == Some(1), &format!("a static first load of a cut file: exit code {code:?}"));
        envoy.check(
            envoy.log().contains(&format!("{path}: the file is cut short"))
                && envoy.log().contains(&format!("the file has {cut} bytes")),
            "the static rejection names the file and its size",
        );
    }
}

/// A module built against a later header, one host function longer, says so
/// (`envoyx_module_host_api_size`): refused before its program init runs, naming both sizes.
#[test]
fn module_needing_a_longer_host_table() {
    let later = scratch_dir().join("later-abi");
    std::fs::create_dir_all(&later).unwrap();
    let header = std::fs::read_to_string(repo_root().join("x/abi.h")).unwrap();
    let appended = header
        .replace("} envoyx_host_api;", "  bool (*a_later_call)(envoyx_stream* stream);\n} envoyx_host_api;");
    std::fs::write(later.join("abi.h"), appended).unwrap();
    // Found before the repository's header: -I directories are searched in order.
    let include = format!("-I{}", later.display());
    let module = misbehaving_c_module("c_module_later_table", &[&include]);
    let path = module.to_string_lossy().into_owned();
    let has = std::mem::size_of::<envoyx_abi::envoyx_host_api>();
    for version in VERSIONS {
        let mut x = LdsEnvoy::start(version);
        x.check_rejected(
            bad_module_config(Path::new(&path), "basic"),
            Form::Struct,
            &[&format!(
                "EnvoyX module {path}: it was built against a host function table of {} bytes, this host's has {has}",
                has + 8
            )],
        );
    }
}

/// A module built for ABI v0.9: the host speaks v1.N and accepts v1.0 to v1.N (same major,
/// this or an earlier minor; see `envoyx_core::module::accepts`).
#[test]
fn module_abi_too_old() {
    let module = misbehaving_c_module("c_module_abi_v0_9", &["-DABI_MAJOR=0", "-DABI_MINOR=9"]);
    let path = module.to_string_lossy().into_owned();
    for version in VERSIONS {
        let mut x = LdsEnvoy::start(version);
        x.check_rejected(
            bad_module_config(&module, "basic"),
            Form::StringValue,
            &[
                &format!("filter `bad` rejected: EnvoyX module {path}: ABI version mismatch"),
                &format!(
                    "built for EnvoyX ABI v0.9, this host speaks v1.{minor} and accepts v1.0 to v1.{minor}",
                    minor = envoyx_abi::ENVOYX_ABI_VERSION_MINOR
                ),
            ],
        );
    }
}

/// A module whose program init fails: its reason reaches the log.
#[test]
fn module_program_init_fails() {
    let module = misbehaving_c_module("c_module_fail_init", &["-DFAIL_INIT"]);
    let path = module.to_string_lossy().into_owned();
    for version in VERSIONS {
        let mut x = LdsEnvoy::start(version);
        x.check_rejected(
            bad_module_config(&module, "basic"),
            Form::Struct,
            &[&format!(
                "filter `bad` rejected: EnvoyX module {path}: program init failed: license file \
                 /etc/c-module.license not found"
            )],
        );
    }
}

#[test]
fn module_rejects_its_config() {
    let module = misbehaving_c_module("c_module", &[]);
    let path = module.to_string_lossy().into_owned();
    for version in VERSIONS {
        let mut x = LdsEnvoy::start(version);
        x.check_rejected(
            bad_module_config(&module, "reject"),
            Form::Struct,
            &[&format!(
                "filter `bad` rejected: EnvoyX module {path}: filter config `bad` rejected by the module: \
                 filter_config must not be \"reject\""
            )],
        );
        // The same module with a config it takes, in the same Envoy: it was not left half-loaded.
        let good_port = free_port();
        let ok = listener(
            "dyn_ok",
            good_port,
            vec![envoyx_filter("ok", bad_module_config(&module, "fine"), LoadBy::Name, Form::Struct)],
        );
        write_atomically(&x.lds, &lds_resources(vec![x.good.clone(), ok]));
        x.envoy.wait_stat("listener_manager.lds.update_success", 2, Duration::from_secs(20));
        let reply = wait_for_listener(&x.envoy, good_port);
        x.envoy
            .check(reply.header("x-upstream-saw-x-c-module") == Some("seen"), "the module runs its filter");
    }
}

/// GETs `/` on a listener just added through LDS, retrying while Envoy opens it.
fn wait_for_listener(envoy: &Envoy, port: u16) -> Message {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        match request(port, "GET", "/", &[], b"") {
            Ok(reply) if reply.status() == 200 => return reply,
            other => envoy.check(
                std::time::Instant::now() < deadline,
                &format!("listener on {port} not serving: {other:?}"),
            ),
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Configs the host cannot parse, as a Struct and as a StringValue: the reason names the field
/// (or says what is wrong with the text) and how to pass the config.
#[test]
fn malformed_filter_config_for_the_host() {
    let module = c_test_module();
    let cases: Vec<(Value, Form, Vec<&str>)> = vec![
        (
            json!({ "name": "bad", "filter_config": "basic" }),
            Form::Struct,
            vec!["field `file_path` is required and must not be empty"],
        ),
        (json!({ "file_path": 42 }), Form::Struct, vec!["field `file_path`: expected a string"]),
        (
            json!({ "file_path": module, "do_not_dlclose": "yes" }),
            Form::Struct,
            vec!["field `do_not_dlclose`: expected a boolean"],
        ),
        (
            json!({ "file_path": module, "filter_config": { "nested": true } }),
            Form::Struct,
            vec!["field `filter_config`: expected a string"],
        ),
        (
            json!({ "file_path": module, "filtr_config": "basic" }),
            Form::StringValue,
            vec!["field `filtr_config`: unknown field"],
        ),
        (
            json!({ "file_path": module, "metric_limits": { "label_combinations": 5_000_000 } }),
            Form::Struct,
            vec![
                "field `metric_limits.label_combinations`: 5000000 is over the most a metric may take, 1000000",
            ],
        ),
        (
            json!({ "file_path": module, "metric_limits": { "overflow_label": "a\nb" } }),
            Form::Struct,
            vec!["field `metric_limits.overflow_label`: the label value holds the control character \\n"],
        ),
        // JSON, but not an object.
        (
            json!(["file_path", "/x.so"]),
            Form::StringValue,
            vec!["malformed JSON: expected an object, got an array"],
        ),
        (json!("/x.so"), Form::StringValue, vec!["malformed JSON: expected an object, got a string"]),
    ];
    let hint = "pass the EnvoyX DynamicModuleConfig (JSON) as a google.protobuf.Struct";
    for version in VERSIONS {
        let mut x = LdsEnvoy::start(version);
        for (config, form, reasons) in &cases {
            let mut reasons = reasons.clone();
            reasons.push(hint);
            x.check_rejected(config.clone(), *form, &reasons);
        }
        // A StringValue whose text is not JSON at all (YAML-ish), and an empty one.
        for (text, reason) in [
            (format!("file_path: {}", module.display()), "EnvoyX config: malformed JSON: expected ident"),
            (String::new(), "`filter_config` is missing"),
        ] {
            let mut filter = envoyx_filter("bad", json!({}), LoadBy::Name, Form::StringValue);
            filter["typed_config"]["filter_config"]["value"] = Value::String(text);
            x.check_filter_rejected(filter, &[reason, hint]);
        }
    }
}

/// The unknown-field case in a static bootstrap: Envoy exits 1 and the log names the field.
#[test]
fn malformed_filter_config_in_a_static_bootstrap() {
    for version in VERSIONS {
        let upstream = start_upstream();
        let config = bootstrap(
            free_port(),
            upstream.port,
            vec![listener(
                "l",
                free_port(),
                vec![envoyx_filter(
                    "typo",
                    json!({ "file_path": "/x.so", "filtr_config": "a" }),
                    LoadBy::File,
                    Form::Struct,
                )],
            )],
            None,
        );
        let mut envoy = spawn_envoy(version, &config, temp_dir());
        let code = envoy.wait_exit(Duration::from_secs(30));
        envoy.check(code == Some(1), &format!("exit code {code:?}"));
        envoy.check(
            envoy.log().contains(
                "EnvoyX stock host: filter `typo`: EnvoyX config: field `filtr_config`: unknown field",
            ),
            "the log names the field",
        );
    }
}
