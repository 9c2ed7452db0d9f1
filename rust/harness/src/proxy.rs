//! Configuration for serving through Envoy as a proxy (what `envoyx run` builds): a listener on
//! any address with its own routes, routes that turn filters off, clusters for an IP or a DNS
//! upstream, and a bootstrap over given clusters. [`crate::config`] keeps the fixed shapes the
//! end-to-end tests use.

use serde_json::{Value, json};

/// A listener on `address:port` (an IP address; HTTP/1.1 and HTTP/2) whose HTTP filters are
/// `filters` then the router, routing with `routes` (see [`route`]) in one virtual host matching every domain.
pub fn http_listener(name: &str, address: &str, port: u16, routes: Vec<Value>, filters: Vec<Value>) -> Value {
    let mut http_filters = filters;
    http_filters.push(json!({
        "name": "envoy.filters.http.router",
        "typed_config": { "@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router" }
    }));
    json!({
        "name": name,
        "address": { "socket_address": { "address": address, "port_value": port } },
        "filter_chains": [{
            "filters": [{
                "name": "envoy.filters.network.http_connection_manager",
                "typed_config": {
                    "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
                    "stat_prefix": name,
                    // HTTP/1.1, or HTTP/2 when a client opens with the HTTP/2 preface (h2c with
                    // prior knowledge); AUTO is also Envoy's default, spelled out for the tests
                    // that rely on it.
                    "codec_type": "AUTO",
                    "http_protocol_options": { "enable_trailers": true },
                    "route_config": {
                        "virtual_hosts": [{ "name": "all", "domains": ["*"], "routes": routes }]
                    },
                    "http_filters": http_filters
                }
            }]
        }]
    })
}

/// A route sending paths starting with `prefix` to `cluster`, with the HTTP filters named in
/// `disabled` (their names in the listener's `http_filters`) turned off for it, and the `host`
/// header set to `host` if given.
///
/// Filters are turned off per route (`FilterConfig { disabled: true }`, Envoy 1.27+) rather than
/// off in the chain and on per route: Envoy refuses a per-route `FilterConfig` that enables a
/// filter without a per-route `config`, and the dynamic-modules filter's own per-route config
/// needs per-route hooks in the module. Turning off needs nothing from the filter.
pub fn route(prefix: &str, cluster: &str, disabled: &[String], host: Option<&str>) -> Value {
    let mut route = json!({ "match": { "prefix": prefix }, "route": { "cluster": cluster } });
    if let Some(host) = host {
        // A named upstream (a real web server) expects its own name as `host`, not the
        // listener's (`auto_host_rewrite` would drop the port).
        route["route"]["host_rewrite_literal"] = json!(host);
    }
    if !disabled.is_empty() {
        let off =
            json!({ "@type": "type.googleapis.com/envoy.config.route.v3.FilterConfig", "disabled": true });
        route["typed_per_filter_config"] =
            Value::Object(disabled.iter().map(|name| (name.clone(), off.clone())).collect());
    }
    route
}

/// A cluster with one endpoint at the IP address `ip`, `port` (HTTP/1.1, trailers on).
pub fn static_cluster(name: &str, ip: &str, port: u16) -> Value {
    cluster(name, "STATIC", ip, port)
}

/// [`static_cluster`] speaking HTTP/2 without TLS (h2c), as a gRPC server wants.
pub fn http2_cluster(name: &str, ip: &str, port: u16) -> Value {
    let mut cluster = cluster(name, "STATIC", ip, port);
    cluster["typed_extension_protocol_options"]["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"]["explicit_http_config"] =
        json!({ "http2_protocol_options": {} });
    cluster
}

/// A cluster with one endpoint at the DNS name `host`, `port`, resolved by Envoy
/// (`LOGICAL_DNS`: one connection target at a time, re-resolved, as suits a web server behind
/// DNS; IPv4 first, so `localhost` reaches a server bound to 127.0.0.1).
pub fn dns_cluster(name: &str, host: &str, port: u16) -> Value {
    let mut cluster = cluster(name, "LOGICAL_DNS", host, port);
    cluster["dns_lookup_family"] = json!("V4_PREFERRED");
    cluster
}

fn cluster(name: &str, kind: &str, address: &str, port: u16) -> Value {
    json!({
        "name": name,
        "connect_timeout": "5s",
        "type": kind,
        "typed_extension_protocol_options": {
            "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
                "@type": "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
                "explicit_http_config": { "http_protocol_options": { "enable_trailers": true } }
            }
        },
        "load_assignment": {
            "cluster_name": name,
            "endpoints": [{ "lb_endpoints": [{ "endpoint": { "address": {
                "socket_address": { "address": address, "port_value": port }
            } } }] }]
        }
    })
}

/// A bootstrap with the admin interface on 127.0.0.1:`admin_port` and static `listeners` and
/// `clusters`.
pub fn bootstrap_with(admin_port: u16, listeners: Vec<Value>, clusters: Vec<Value>) -> Value {
    json!({
        "node": { "id": "envoyx", "cluster": "envoyx" },
        "admin": { "address": { "socket_address": { "address": "127.0.0.1", "port_value": admin_port } } },
        "static_resources": { "listeners": listeners, "clusters": clusters }
    })
}
