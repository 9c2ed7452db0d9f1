//! What `envoyx run` prints once Envoy is ready: what is served where, and what to try.

use super::options::{Module, UpstreamUrl};
use crate::catalogue::EXAMPLES;
use envoyx_harness::{self as harness, Envoy, Upstream};
use serde_json::Value;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;

/// What to print once Envoy is ready.
pub(super) enum Banner<'a> {
    Demo { upstream: Option<&'a UpstreamUrl>, echo: Option<&'a Upstream> },
    Modules { modules: &'a [Module], upstream: Option<&'a UpstreamUrl>, echo: Option<&'a Upstream> },
    Config(&'a Path),
}

fn upstream_line(upstream: Option<&UpstreamUrl>, echo: Option<&Upstream>) -> String {
    match (upstream, echo) {
        (Some(url), _) if url.host.contains(':') => format!("upstream: http://[{}]:{}", url.host, url.port),
        (Some(url), _) => format!("upstream: http://{}:{}", url.host, url.port),
        (None, Some(echo)) => format!(
            "upstream: the built-in echo server on 127.0.0.1:{} (200, the request body back, each \
             request header h as x-upstream-saw-h)",
            echo.port
        ),
        (None, None) => String::new(),
    }
}

/// How a client reaches `listen` (a wildcard address is reached on loopback).
pub fn client_base(listen: SocketAddr) -> String {
    let ip = match listen.ip() {
        ip if ip.is_unspecified() && ip.is_ipv4() => IpAddr::from([127, 0, 0, 1]),
        ip if ip.is_unspecified() => IpAddr::from(std::net::Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    format!("http://{}", SocketAddr::new(ip, listen.port()))
}

pub(super) fn print_banner(banner: &Banner, envoy: &Envoy, listen: Option<SocketAddr>) {
    let base = listen.map(client_base).unwrap_or_default();
    match banner {
        Banner::Demo { upstream, echo } => {
            println!(
                "EnvoyX demo: every example module in Envoy {}, each on its own path prefix \
                 (elsewhere its filter is off)",
                envoy.version
            );
            println!("{}\n", upstream_line(*upstream, *echo));
            for example in EXAMPLES {
                println!("{} ({}): {}", example.prefix, example.package, example.what);
                for t in example.tries {
                    println!("  {}", t.curl(&base));
                    println!("    → {}", t.expect);
                }
                println!();
            }
            println!("anything else: passed to the upstream with no filter");
        }
        Banner::Modules { modules, upstream, echo } => {
            println!(
                "EnvoyX: Envoy {} with {} module(s), in this order, on every path:",
                envoy.version,
                modules.len()
            );
            for (i, module) in modules.iter().enumerate() {
                println!("  {}. {} (filter_config {:?})", i + 1, module.path.display(), module.filter_config);
            }
            println!("{}\n", upstream_line(*upstream, *echo));
            println!("  curl -si {base}/ --data-binary 'hello'");
        }
        Banner::Config(path) => {
            println!("EnvoyX: Envoy {} on your config {}", envoy.version, path.display());
            for address in listener_addresses(envoy) {
                println!("  listener {address}");
            }
        }
    }
    if envoy.admin_port != 0 {
        println!("admin: http://127.0.0.1:{}/", envoy.admin_port);
    }
}

/// The listeners Envoy reports on its admin `/listeners` (name and address).
fn listener_addresses(envoy: &Envoy) -> Vec<String> {
    if envoy.admin_port == 0 {
        return Vec::new();
    }
    let Ok(reply) = harness::request(envoy.admin_port, "GET", "/listeners?format=json", &[], b"") else {
        return Vec::new();
    };
    let Ok(json) = serde_json::from_slice::<Value>(&reply.body) else { return Vec::new() };
    json["listener_statuses"]
        .as_array()
        .map(|listeners| {
            listeners
                .iter()
                .map(|l| {
                    let socket = &l["local_address"]["socket_address"];
                    format!(
                        "{} on {}:{}",
                        l["name"].as_str().unwrap_or("?"),
                        socket["address"].as_str().unwrap_or("?"),
                        socket["port_value"].as_u64().unwrap_or(0)
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clients_reach_a_wildcard_listener_on_loopback() {
        assert_eq!(client_base(SocketAddr::from(([0, 0, 0, 0], 80))), "http://127.0.0.1:80");
        assert_eq!(client_base(SocketAddr::from(([127, 0, 0, 1], 10000))), "http://127.0.0.1:10000");
    }
}
