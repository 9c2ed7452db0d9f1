//! The `envoy.yaml` `envoyx new` writes into a scaffold, Rust or Go: official Envoy running the
//! module through the EnvoyX stock host.

use std::path::Path;

/// `text` as a YAML double-quoted scalar (JSON strings are valid YAML).
pub(crate) fn yaml_string(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

/// How a scaffold's `envoy.yaml` is used: the command that builds the module, and where the
/// module file is (said in the file's comment).
pub(crate) struct EnvoyYamlFor<'a> {
    pub build: &'a str,
    pub module_is: &'a str,
}

pub(crate) fn envoy_yaml(name: &str, module: &Path, made: &EnvoyYamlFor<'_>) -> String {
    let module = yaml_string(&module.to_string_lossy());
    let (build, module_is) = (made.build, made.module_is);
    format!(
        r#"# Official Envoy (1.38 to 1.40) running the `{name}` module through the EnvoyX stock host.
#
#   {build} && envoyx run --config envoy.yaml
#
# Envoy's dynamic-modules filter loads the stock host (libenvoyx_stock_host.so) by name from
# $ENVOY_DYNAMIC_MODULES_SEARCH_PATH, and the stock host loads {module_is}.
# Requests to 127.0.0.1:10000 go to the upstream at 127.0.0.1:8080.
admin:
  address:
    socket_address: {{ address: 127.0.0.1, port_value: 9901 }}
static_resources:
  listeners:
  - name: main
    address:
      socket_address: {{ address: 127.0.0.1, port_value: 10000 }}
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: main
          route_config:
            virtual_hosts:
            - name: all
              domains: ["*"]
              routes:
              - match: {{ prefix: "/" }}
                route: {{ cluster: upstream }}
          http_filters:
          - name: envoy.filters.http.dynamic_modules
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.dynamic_modules.v3.DynamicModuleFilter
              dynamic_module_config:
                name: envoyx_stock_host
                # The module's metrics show as envoyx.<filter>.<metric>.
                metrics_namespace: envoyx
              filter_name: {name}
              filter_config:
                # The EnvoyX DynamicModuleConfig (x/config.proto), as a Struct.
                "@type": type.googleapis.com/google.protobuf.Struct
                value:
                  file_path: {module}
                  filter_config: "hello from envoy.yaml"
                  do_not_dlclose: true
          - name: envoy.filters.http.router
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
  clusters:
  - name: upstream
    connect_timeout: 2s
    type: STATIC
    load_assignment:
      cluster_name: upstream
      endpoints:
      - lb_endpoints:
        - endpoint:
            address:
              socket_address: {{ address: 127.0.0.1, port_value: 8080 }}
"#
    )
}
