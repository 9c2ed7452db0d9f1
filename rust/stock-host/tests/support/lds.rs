//! An Envoy whose listeners come from an LDS file, for the tests that push configurations at a
//! running Envoy: a static listener and a good LDS listener (both running the C test module)
//! next to the one a test pushes, which Envoy takes or rejects.

use super::*;
use serde_json::Value;
use std::time::{Duration, Instant};

/// An Envoy with a static listener and an LDS file holding one good listener, both running the
/// C test module.
pub struct LdsEnvoy {
    _upstream: Upstream,
    pub envoy: Envoy,
    pub lds: std::path::PathBuf,
    pub good: Value,
    pub static_port: u16,
    pub good_port: u16,
    /// LDS updates Envoy rejected so far.
    pub pushed: u64,
}

impl LdsEnvoy {
    pub fn start(version: &str) -> Self {
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
    pub fn check_rejected(&mut self, config: Value, form: Form, reasons: &[&str]) {
        self.check_filter_rejected(envoyx_filter("bad", config, LoadBy::Name, form), reasons);
    }

    /// [`LdsEnvoy::check_rejected`] for a whole dynamic-modules filter named `bad`.
    pub fn check_filter_rejected(&mut self, filter: Value, reasons: &[&str]) {
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
    /// Pushes listener `name` on `port` with `filters` until Envoy takes it, each rejection
    /// having to be the background fetch of a remote module (the cache missed): the number of
    /// rejections. Envoy must stay ready throughout.
    pub fn push_until_accepted(&mut self, name: &str, port: u16, filters: Vec<Value>) -> u64 {
        let start = Instant::now();
        let mut refusals = 0;
        loop {
            let taken = self.envoy.stat("listener_manager.lds.update_success").unwrap_or(0);
            let log_before = self.envoy.log().len();
            write_atomically(
                &self.lds,
                &lds_resources(vec![self.good.clone(), listener(name, port, filters.clone())]),
            );
            let accepted = loop {
                if self.envoy.stat("listener_manager.lds.update_success").unwrap_or(0) > taken {
                    break true;
                }
                if self.envoy.stat("listener_manager.lds.update_rejected").unwrap_or(0) > self.pushed {
                    break false;
                }
                self.envoy
                    .check(start.elapsed() < Duration::from_secs(30), &format!("{name}: no LDS outcome"));
                std::thread::sleep(Duration::from_millis(20));
            };
            if accepted {
                return refusals;
            }
            self.pushed += 1;
            refusals += 1;
            let log = self.envoy.log();
            self.envoy.check(
                log[log_before..].contains("fetching it in the background"),
                &format!("{name}: rejected, but not for a background fetch:\n{}", &log[log_before..]),
            );
            self.envoy
                .check(get(self.envoy.admin_port, "/ready", &[]).status() == 200, "Envoy ready meanwhile");
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}
