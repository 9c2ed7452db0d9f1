//! Which attribute ids each official Envoy serves through upstream's dynamic-modules ABI, and as
//! what (string, integer, boolean): a probe module on upstream's own ABI (`probe/attributes.c`)
//! asks for every id in the response headers hook, and Envoy's debug log says which ids it does
//! not serve ("Unsupported attribute ID"). The stock host's table (`src/attribute_ids.rs`) must
//! say exactly that for 1.38.3, 1.39.3 and 1.40.0, so a new Envoy that serves more, or fewer,
//! shows here.

mod support;

use std::collections::BTreeSet;
use std::path::Path;

use support::*;

/// What one version said: (id, kind) pairs it serves, and those this exchange had.
struct Served {
    served: BTreeSet<(u32, char)>,
    present: BTreeSet<(u32, char)>,
}

fn probe(version: &'static str, module: &Path) -> Served {
    let upstream = start_upstream();
    let port = free_port();
    let filter = upstream_probe_filter(module);
    let listener = envoyx_harness::listener("probe", port, vec![filter]);
    let envoy =
        start_envoy(version, &bootstrap(free_port(), upstream.port, vec![listener], None), temp_dir());
    envoy.log_modules_at_debug();
    let reply = get(port, "/probe", &[]);
    assert_eq!(reply.status(), 200, "Envoy {version}: {}", reply.start);
    let present = reply
        .header("x-probe")
        .unwrap_or_default()
        .split(',')
        .filter(|item| !item.is_empty())
        .map(|item| {
            let (id, kind) = item.split_at(item.len() - 1);
            (id.parse().unwrap(), kind.chars().next().unwrap())
        })
        .collect();
    println!("Envoy {version} values: {}", reply.header("x-probe-values").unwrap_or_default());
    let log = envoy.log();
    let mut unsupported = BTreeSet::new();
    for line in log.lines() {
        if let Some(rest) = line.split("Unsupported attribute ID ").nth(1) {
            let mut words = rest.split_whitespace();
            let id: u32 = words.next().and_then(|w| w.parse().ok()).unwrap_or(u32::MAX);
            let kind = match words.nth(1) {
                Some(k) if k.starts_with("string") => 's',
                Some(k) if k.starts_with("int") => 'i',
                Some(k) if k.starts_with("bool") => 'b',
                _ => '?',
            };
            unsupported.insert((id, kind));
        }
    }
    let served = (0..96u32)
        .flat_map(|id| ['s', 'i', 'b'].map(|kind| (id, kind)))
        .filter(|asked| !unsupported.contains(asked))
        .collect();
    Served { served, present }
}

// The stock host's table: (EnvoyX id, upstream id, kind, first minor that serves it).
include!("../src/attribute_ids.rs");

/// Upstream attribute ids some version serves that no EnvoyX attribute reads, and why.
const UNMAPPED: &[(u32, &str)] = &[
    (57, "xds.cluster_name: EnvoyX reads it through get_cluster_name on every version"),
    (68, "served by 1.40 only (absent in the probe), unnamed in the upstream headers EnvoyX was built from"),
    (69, "served by 1.40 only (absent in the probe), unnamed in the upstream headers EnvoyX was built from"),
    (
        70,
        "served by 1.40 only (the probe saw the protocol), unnamed in the upstream headers EnvoyX was built from",
    ),
];

/// The probe's letter for a kind of the table.
fn probe_kind(kind: char) -> char {
    match kind {
        'n' => 'i',
        other => other,
    }
}

#[test]
fn the_stock_hosts_attribute_table_is_what_each_envoy_serves() {
    let module = upstream_probe_module();
    let mut errors = Vec::new();
    for version in VERSIONS {
        let minor: u32 = version.split('.').nth(1).unwrap().parse().unwrap();
        let Served { served, present } = probe(version, &module);
        let show = |set: &BTreeSet<(u32, char)>| {
            set.iter().map(|(id, k)| format!("{id}{k}")).collect::<Vec<_>>().join(",")
        };
        println!("Envoy {version} serves: {}", show(&served));
        println!("Envoy {version} had:    {}", show(&present));
        for &(envoyx, upstream, kind, since) in ATTRIBUTE_IDS {
            let serves = served.contains(&(upstream, probe_kind(kind)));
            if serves != (minor >= since) {
                errors.push(format!(
                    "Envoy {version}: EnvoyX attribute {envoyx} (upstream {upstream}{kind}, from 1.{since}) is {}served",
                    if serves { "" } else { "not " }
                ));
            }
        }
        for &(upstream, kind) in &served {
            let mapped = ATTRIBUTE_IDS.iter().any(|&(_, id, k, _)| id == upstream && probe_kind(k) == kind);
            if !mapped && !UNMAPPED.iter().any(|(id, _)| *id == upstream) {
                errors.push(format!(
                    "Envoy {version} serves upstream attribute {upstream}{kind}, which EnvoyX does not map"
                ));
            }
        }
    }
    assert!(errors.is_empty(), "{}", errors.join("\n"));
}
