//! Envoy configuration (as JSON, which Envoy reads like YAML): the stock-host filter carrying an
//! EnvoyX `DynamicModuleConfig`, a listener, and a bootstrap.

use serde_json::{Value, json};
use std::io;
use std::path::Path;

/// How the filter names the stock host.
#[derive(Clone, Debug)]
pub enum LoadBy<'a> {
    /// `dynamic_module_config.name: envoyx_stock_host`, found through
    /// `ENVOY_DYNAMIC_MODULES_SEARCH_PATH`.
    Name,
    /// `dynamic_module_config.module.local.filename`: the stock host's path.
    File(&'a Path),
}

/// How the EnvoyX config is wrapped in the filter's `filter_config`.
#[derive(Clone, Copy, Debug)]
pub enum Form {
    Struct,
    StringValue,
}

/// The `envoy.filters.http.dynamic_modules` filter running EnvoyX `config` (a
/// `DynamicModuleConfig` in JSON form).
pub fn envoyx_filter(filter_name: &str, config: Value, load_by: LoadBy, form: Form) -> Value {
    // `metrics_namespace: envoyx`: the module's metrics show as `envoyx.<filter>.<metric>`, the
    // names the custom build gives them (upstream's default namespace is `dynamicmodulescustom`).
    let module = match load_by {
        LoadBy::Name => json!({ "name": "envoyx_stock_host", "metrics_namespace": "envoyx" }),
        LoadBy::File(stock_host) => json!({
            "name": "envoyx_stock_host",
            "module": { "local": { "filename": stock_host } },
            "metrics_namespace": "envoyx"
        }),
    };
    let filter_config = match form {
        Form::Struct => json!({ "@type": "type.googleapis.com/google.protobuf.Struct", "value": config }),
        Form::StringValue => json!({
            "@type": "type.googleapis.com/google.protobuf.StringValue",
            "value": config.to_string()
        }),
    };
    json!({
        "name": "envoy.filters.http.dynamic_modules",
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.http.dynamic_modules.v3.DynamicModuleFilter",
            "dynamic_module_config": module,
            "filter_name": filter_name,
            "filter_config": filter_config
        }
    })
}

/// A per-route config for the stock host's filter (upstream's `DynamicModuleFilterPerRoute`)
/// carrying the EnvoyX `DynamicModuleConfigPerRoute` `config` (JSON form, e.g. from
/// [`module_config`]) as a Struct; goes under a route's `typed_per_filter_config`, keyed by the
/// filter's name.
pub fn envoyx_per_route(config: Value) -> Value {
    json!({
        "@type": "type.googleapis.com/envoy.extensions.filters.http.dynamic_modules.v3.DynamicModuleFilterPerRoute",
        "dynamic_module_config": { "name": "envoyx_stock_host" },
        "per_route_config_name": config["name"].as_str().unwrap_or("envoyx"),
        "filter_config": { "@type": "type.googleapis.com/google.protobuf.Struct", "value": config }
    })
}

/// An EnvoyX `DynamicModuleConfig` for `module` with `filter_config`.
pub fn module_config(name: &str, module: &Path, filter_config: &str) -> Value {
    json!({ "name": name, "file_path": module, "filter_config": filter_config, "do_not_dlclose": true })
}

/// A listener on `port` (HTTP/1.1 and HTTP/2) whose HTTP filters are `filters` then the router: paths under
/// `/no-upstream` go to the cluster `empty` (no endpoints: the router answers 503 itself), all
/// others to the cluster `upstream`.
pub fn listener(name: &str, port: u16, filters: Vec<Value>) -> Value {
    let routes = vec![
        crate::proxy::route("/no-upstream", "empty", &[], None),
        crate::proxy::route("/", "upstream", &[], None),
    ];
    crate::proxy::http_listener(name, "127.0.0.1", port, routes, filters)
}

/// A bootstrap with an admin port, static `listeners`, the clusters `upstream` and `empty` and, if given,
/// listeners from the file `lds` (LDS through a path config source).
pub fn bootstrap(admin_port: u16, upstream_port: u16, listeners: Vec<Value>, lds: Option<&Path>) -> Value {
    let mut bootstrap = json!({
        "node": { "id": "envoyx-e2e", "cluster": "envoyx-e2e" },
        "admin": { "address": { "socket_address": { "address": "127.0.0.1", "port_value": admin_port } } },
        "static_resources": {
            "listeners": listeners,
            "clusters": [{
                "name": "upstream",
                "connect_timeout": "2s",
                "type": "STATIC",
                "typed_extension_protocol_options": {
                    "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
                        "@type": "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
                        "explicit_http_config": { "http_protocol_options": { "enable_trailers": true } }
                    }
                },
                "load_assignment": {
                    "cluster_name": "upstream",
                    "endpoints": [{ "lb_endpoints": [{ "endpoint": { "address": {
                        "socket_address": { "address": "127.0.0.1", "port_value": upstream_port }
                    } } }] }]
                }
            }, {
                "name": "empty",
                "connect_timeout": "2s",
                "type": "STATIC",
                "load_assignment": { "cluster_name": "empty", "endpoints": [] }
            }]
        }
    });
    if let Some(lds) = lds {
        bootstrap["dynamic_resources"] = json!({
            "lds_config": {
                "resource_api_version": "V3",
                "path_config_source": {
                    "path": lds,
                    "watched_directory": { "path": lds.parent().unwrap_or(Path::new(".")) }
                }
            }
        });
    }
    bootstrap
}

/// An LDS file's content: the listeners as `Listener` resources.
pub fn lds_resources(listeners: Vec<Value>) -> Value {
    let resources: Vec<Value> = listeners
        .into_iter()
        .map(|mut l| {
            l["@type"] = json!("type.googleapis.com/envoy.config.listener.v3.Listener");
            l
        })
        .collect();
    json!({ "resources": resources })
}

/// Writes `value` to `path` atomically (write aside, then rename), as Envoy's file watch expects.
pub fn write_atomically(path: &Path, value: &Value) -> io::Result<()> {
    let aside = path.with_extension("tmp");
    std::fs::write(&aside, serde_json::to_vec_pretty(value)?)?;
    std::fs::rename(&aside, path)
}
