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

/// An Envoy with a static listener and an LDS file holding one good listener, both running the
/// C test module.
struct LdsEnvoy {
    _upstream: Upstream,
    envoy: Envoy,
    lds: std::path::PathBuf,
    good: Value,
    static_port: u16,
    good_port: u16,
    pushed: u64,
}

impl LdsEnvoy {
    fn start(version: &str) -> Self {
        let upstream = start_upstream();
        let module = c_test_module();
        let dir = temp_dir();
        let lds = dir.path().join("lds.json");
        let (static_port, good_port) = (free_port(), free_port());
        let basic = |name: &str| {
            envoyx_filter(name, module_config(name, &module, "basic"), LoadBy::Name, Form::Struct)
        };
        let good = listener("dyn_good", good_port, vec![basic("good")]);
        write_atomically(&lds, &lds_resources(vec![good.clone()]));
        let config = bootstrap(
            free_port(),
            upstream.port,
            vec![listener("static", static_port, vec![basic("static")])],
            Some(&lds),
        );
        let envoy = start_envoy(version, &config, dir);
        envoy.check(get(good_port, "/", &[]).status() == 200, "LDS listener serves");
        Self { _upstream: upstream, envoy, lds, good, static_port, good_port, pushed: 0 }
    }

    /// Pushes a listener whose only EnvoyX filter, `bad`, carries `config` in `form`, and checks
    /// that Envoy rejects it with a host error naming the filter and containing each of
    /// `reasons`, and keeps serving.
    fn check_rejected(&mut self, config: Value, form: Form, reasons: &[&str]) {
        self.check_filter_rejected(envoyx_filter("bad", config, LoadBy::Name, form), reasons);
    }

    /// [`LdsEnvoy::check_rejected`] for a whole dynamic-modules filter named `bad`.
    fn check_filter_rejected(&mut self, filter: Value, reasons: &[&str]) {
        let e = &self.envoy;
        let log_before = e.log().len();
        let config = filter["typed_config"]["filter_config"].clone();
        let bad = listener("dyn_bad", free_port(), vec![filter]);
        write_atomically(&self.lds, &lds_resources(vec![self.good.clone(), bad]));
        self.pushed += 1;
        e.wait_stat("listener_manager.lds.update_rejected", self.pushed, Duration::from_secs(20));

        let log = e.log();
        let new_log = &log[log_before..];
        let host_error = new_log.lines().find(|l| {
            l.contains("[error][dynamic_modules]") && l.contains("EnvoyX stock host: filter `bad`")
        });
        e.check(host_error.is_some(), &format!("no host error for {config} in:\n{new_log}"));
        let host_error = host_error.unwrap();
        for reason in reasons {
            e.check(host_error.contains(reason), &format!("the host error lacks {reason:?}: {host_error}"));
        }
        // Envoy's own LDS rejection names the listener.
        e.check(
            new_log.lines().any(|l| l.contains("rejected") && l.contains("dyn_bad")),
            &format!("Envoy's rejection of dyn_bad not logged:\n{new_log}"),
        );
        e.check(get(self.static_port, "/", &[]).status() == 200, "static listener still serves");
        e.check(get(self.good_port, "/", &[]).status() == 200, "good LDS listener still serves");
        // Asked of Envoy itself rather than by connecting to the bad port: with free ports picked
        // by bind-and-release, a parallel test may hold that port by now.
        let listeners = String::from_utf8_lossy(&get(e.admin_port, "/listeners", &[]).body).into_owned();
        e.check(listeners.contains("dyn_good") && !listeners.contains("dyn_bad"), "bad listener not added");
        e.check(get(e.admin_port, "/ready", &[]).status() == 200, "Envoy still up and ready");
    }
}

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

/// A module named by URL (`remote`), on every Envoy version: fetched into the cache and served;
/// a configuration whose sha256 does not match the file, or whose server is unreachable, is
/// rejected naming the URL and the reason while the other listeners keep serving; with the
/// server gone, a new listener naming the same module is served from the cache.
#[test]
fn remote_module_fetched_verified_or_refused() {
    let server = envoyx_harness::FileServer::start().unwrap();
    let module = c_test_module();
    server.put("/libc.so", std::fs::read(&module).unwrap());
    let sha256 = envoyx_core::remote::file_sha256(&module).unwrap();
    let url = server.url("/libc.so");
    let closed_port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let unreachable = format!("http://127.0.0.1:{closed_port}/libc.so");
    let remote = |url: &str, sha256: &str, cache: &Path| {
        json!({ "name": "bad", "remote": { "url": url, "sha256": sha256, "cache_dir": cache },
                "filter_config": "basic", "do_not_dlclose": true })
    };
    for version in VERSIONS {
        let cache = temp_dir();
        let mut x = LdsEnvoy::start(version);
        let fetches = server.requests("/libc.so");
        let push_remote = |x: &mut LdsEnvoy, name: &str| {
            let port = free_port();
            let filter =
                envoyx_filter("bad", remote(&url, &sha256, cache.path()), LoadBy::Name, Form::Struct);
            let taken = x.envoy.stat("listener_manager.lds.update_success").unwrap_or(0);
            write_atomically(
                &x.lds,
                &lds_resources(vec![x.good.clone(), listener(name, port, vec![filter])]),
            );
            x.envoy.wait_stat("listener_manager.lds.update_success", taken + 1, Duration::from_secs(30));
            let reply = get(port, "/remote", &[]);
            x.envoy.check(reply.status() == 200, &format!("{name}: status {}", reply.status()));
            x.envoy.check(
                reply.header("x-upstream-saw-x-envoyx-request") == Some("added"),
                &format!("{name}: the remote module ran"),
            );
        };
        push_remote(&mut x, "dyn_remote");
        x.envoy.check(server.requests("/libc.so") == fetches + 1, "fetched once");
        let cached = cache.path().join(format!("{sha256}.so"));
        x.envoy.check(
            x.envoy.log().contains(&format!(
                "EnvoyX module {url} (sha256 {sha256}, cached as {}) ready",
                cached.display()
            )),
            "the log names the URL and the cached file",
        );

        let wrong = "f".repeat(64);
        x.check_rejected(
            remote(&url, &wrong, cache.path()),
            Form::Struct,
            &[&format!("filter `bad` rejected: EnvoyX module {url} (sha256 {wrong}): sha256 mismatch: the fetched file")],
        );
        x.check_rejected(
            remote(&unreachable, &"1".repeat(64), cache.path()),
            Form::StringValue,
            &[&format!("EnvoyX module {unreachable}"), "fetch failed"],
        );
        // A cache hit needs no network: the same module on a new listener, no new request.
        let before = server.requests("/libc.so");
        push_remote(&mut x, "dyn_remote_again");
        x.envoy.check(server.requests("/libc.so") == before, "served from the cache");
    }
}
