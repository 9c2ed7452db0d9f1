//! What the soak and chaos runs share: official Envoy serving, on a listener it got through LDS,
//! a chain of example modules (metrics, headers, an in-place body rewrite, a hold resumed from
//! another thread), and the check at the end — the listener removed through LDS, every filter
//! configuration destroyed with its streams started = completed = destroyed (from the lines the
//! core logs, `envoyx_core::lifecycle`), the modules unloaded unless `do_not_dlclose`.

use crate::procfs;
use envoyx_core::lifecycle::{DestroyedLine, parse_destroyed_line};
use envoyx_harness::{self as harness, Envoy, EnvoyCommand, Form, LoadBy, mapped_files};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// One filter of the chain.
pub struct Link {
    /// The example's name (its package is `envoyx-example-<name>`); also the filter's name.
    pub example: &'static str,
    pub filter_config: &'static str,
    /// The delay module's timer thread may outlive its stream, so its code stays mapped.
    pub do_not_dlclose: bool,
}

/// The chain, in request order: observe counts responses by class, headers edits both ways,
/// body-rewrite upper-cases request bodies in place (the checking upstream verifies every byte),
/// delay holds each request and resumes it from its own thread (`filter_config` ms, 0 here).
pub const CHAIN: [Link; 4] = [
    Link { example: "observe", filter_config: "", do_not_dlclose: false },
    Link { example: "headers", filter_config: "", do_not_dlclose: false },
    Link { example: "body-rewrite", filter_config: "request", do_not_dlclose: false },
    Link { example: "delay", filter_config: "0", do_not_dlclose: true },
];

/// Envoy with the chain on one listener.
pub struct ChainedEnvoy {
    pub envoy: Envoy,
    /// The listener's port (HTTP/1.1 and HTTP/2).
    pub port: u16,
    lds: PathBuf,
    /// Each link's module file (a copy named `libsoak_<example>.so`, so its mappings are its own).
    modules: Vec<PathBuf>,
    _dir: tempfile::TempDir,
}

/// The listener's stat prefix.
pub const LISTENER: &str = "chain";

impl ChainedEnvoy {
    /// Builds the examples and starts Envoy `version` (`--concurrency 1`, `--drain-time-s 1`,
    /// log level info so the core's lifecycle lines show) with the chain in front of the cluster
    /// at `upstream_port`; `route_timeout` replaces Envoy's 15 s.
    pub fn start(version: &str, upstream_port: u16, route_timeout: Option<&str>) -> Result<Self, String> {
        let stock_host = harness::try_stock_host()?;
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let mut modules = Vec::new();
        let mut filters = Vec::new();
        for link in &CHAIN {
            let built = envoyx_build::try_build_package(&format!("envoyx-example-{}", link.example))?;
            let file = dir.path().join(format!("libsoak_{}.so", link.example.replace('-', "_")));
            std::fs::copy(&built, &file).map_err(|e| format!("copying {}: {e}", built.display()))?;
            let config = json!({
                "name": link.example,
                "file_path": file,
                "filter_config": link.filter_config,
                "do_not_dlclose": link.do_not_dlclose,
            });
            filters.push(harness::envoyx_filter(link.example, config, LoadBy::Name, Form::Struct));
            modules.push(file);
        }
        let port = harness::free_port().map_err(|e| e.to_string())?;
        let mut listener = harness::listener(LISTENER, port, filters);
        if let Some(timeout) = route_timeout {
            set_route_timeouts(&mut listener, timeout);
        }
        let lds = dir.path().join("lds.json");
        harness::write_atomically(&lds, &harness::lds_resources(vec![listener]))
            .map_err(|e| e.to_string())?;
        let admin = harness::free_port().map_err(|e| e.to_string())?;
        let bootstrap = harness::bootstrap(admin, upstream_port, vec![], Some(&lds));
        let binary = harness::envoy_path(version).map_err(|e| e.to_string())?;
        let command = EnvoyCommand {
            binary: &binary,
            version,
            bootstrap: &bootstrap,
            module_search_path: stock_host.parent(),
            log_level: "info",
        };
        let mut envoy = command
            .spawn_draining_in(tempfile::tempdir().map_err(|e| e.to_string())?, 1)
            .map_err(|e| e.to_string())?;
        envoy.wait_ready(Duration::from_secs(60))?;
        let started = Instant::now();
        while envoy.stat("listener_manager.listener_create_success").unwrap_or(0) < 1 {
            if started.elapsed() > Duration::from_secs(30) {
                return Err(format!("the chained listener did not start:\n{}", envoy.log_tail()));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(Self { envoy, port, lds, modules, _dir: dir })
    }

    /// Envoy's resident memory now, in KiB.
    pub fn rss_kib(&self) -> Result<u64, String> {
        procfs::vm_rss_kib(self.envoy.pid()).map_err(|e| e.to_string())
    }

    /// Removes the listener through LDS and checks what must follow within `patience`: each
    /// link's configuration destroyed once, with streams started = completed = destroyed (and
    /// started = `streams_each` when given), the process totals balanced, each module unmapped
    /// unless `do_not_dlclose`. Returns the report's lines and the problems found.
    pub fn remove_and_check(
        &self,
        streams_each: Option<u64>,
        patience: Duration,
    ) -> (Vec<String>, Vec<String>) {
        let (mut report, mut problems) = (Vec::new(), Vec::new());
        let before = self.envoy.stat("listener_manager.lds.update_success").unwrap_or(0);
        if let Err(e) = harness::write_atomically(&self.lds, &harness::lds_resources(vec![])) {
            return (report, vec![format!("writing the LDS file: {e}")]);
        }
        let start = Instant::now();
        let destroyed = loop {
            let destroyed: Vec<DestroyedLine> =
                self.envoy.log().lines().filter_map(parse_destroyed_line).collect();
            let updated = self.envoy.stat("listener_manager.lds.update_success").unwrap_or(0) > before;
            let unloaded = self.still_mapped().is_empty();
            if updated && destroyed.len() >= CHAIN.len() && unloaded || start.elapsed() > patience {
                break destroyed;
            }
            std::thread::sleep(Duration::from_millis(100));
        };
        report.push(format!(
            "listener removed through LDS; {} configurations destroyed after {:.1} s",
            destroyed.len(),
            start.elapsed().as_secs_f64()
        ));
        for link in &CHAIN {
            let lines: Vec<_> = destroyed.iter().filter(|d| d.filter == link.example).collect();
            match lines.as_slice() {
                [line] => {
                    report.push(format!("  {}: streams {}", link.example, line.streams));
                    if !line.streams.balanced() {
                        problems.push(format!("{}: streams not balanced: {}", link.example, line.streams));
                    }
                    if let Some(want) = streams_each.filter(|want| *want != line.streams.started) {
                        problems.push(format!(
                            "{}: {} streams started, but {want} requests reached Envoy",
                            link.example, line.streams.started
                        ));
                    }
                }
                other => problems.push(format!(
                    "{}: {} configuration destroy lines, want 1 (within {patience:?} of the listener's removal)",
                    link.example,
                    other.len()
                )),
            }
        }
        if let Some(last) = destroyed.last() {
            report.push(format!("  in the process: {}", last.totals));
            let totals = last.totals;
            if totals.configs_created != totals.configs_destroyed || !totals.streams.balanced() {
                problems.push(format!("process totals not balanced: {totals}"));
            }
        }
        let mapped = self.still_mapped();
        for link in CHAIN.iter().filter(|l| l.do_not_dlclose) {
            report.push(format!("  {}: stays mapped (do_not_dlclose)", link.example));
        }
        if mapped.is_empty() {
            report.push("  every other module: unmapped from Envoy".to_string());
        } else {
            problems.push(format!("still mapped after the listener's removal: {mapped:?}"));
        }
        (report, problems)
    }

    /// The modules without `do_not_dlclose` that Envoy still maps.
    fn still_mapped(&self) -> Vec<String> {
        CHAIN
            .iter()
            .zip(&self.modules)
            .filter(|(link, _)| !link.do_not_dlclose)
            .flat_map(|(_, file)| {
                let name = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                mapped_files(self.envoy.pid(), &name)
            })
            .collect()
    }
}

/// Sets `timeout` on every route of `listener` (a listener from `harness::listener`).
fn set_route_timeouts(listener: &mut Value, timeout: &str) {
    let hcm = &mut listener["filter_chains"][0]["filters"][0]["typed_config"];
    if let Some(routes) = hcm["route_config"]["virtual_hosts"][0]["routes"].as_array_mut() {
        for route in routes {
            route["route"]["timeout"] = json!(timeout);
        }
    }
}
