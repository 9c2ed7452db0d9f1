//! `envoyx deploy REF --for envoy|gateway|istio`: the configuration that runs a module from a
//! registry, by digest, for plain Envoy (the stock host inside upstream's filter), Envoy Gateway
//! (`EnvoyProxy` + `EnvoyExtensionPolicy`) or Istio (`EnvoyFilter` + the workload's pull-secret
//! volume). A tag is resolved to its digest first (the registry is asked), so what is deployed
//! is exactly what was checked. The manifests are the committed ones' shape
//! (deploy/kubernetes/); `ci/validate-k8s.sh FILE` checks a printed one as it checks those.

use envoyx_core::oci::Reference;

const USAGE: &str = "\
usage: envoyx deploy REF --for envoy|gateway|istio [--name NAME] [--filter-config STR]
                     [--pull-secret NAME] [--route NAME] [--workload LABEL=VALUE] [--namespace NS]
                     [REGISTRY OPTIONS of envoyx pull, to resolve a tag]

Prints the configuration that runs the module at REF (resolved to its digest) as an EnvoyX
filter: `envoy` an http_filters entry for stock Envoy with the EnvoyX stock host; `gateway`
Envoy Gateway's EnvoyProxy (the pull secret mounted) and EnvoyExtensionPolicy on --route;
`istio` an EnvoyFilter for --workload and the pod annotations that mount the pull secret.";

/// Where the pull secret is mounted in the proxy, and the module cache.
const SECRET_MOUNT: &str = "/var/run/secrets/envoyx-pull";
const CACHE_DIR: &str = "/tmp/envoyx-modules";

struct Options {
    reference: String,
    target: String,
    name: Option<String>,
    filter_config: String,
    pull_secret: Option<String>,
    route: String,
    workload: (String, String),
    namespace: String,
    registry_args: Vec<String>,
}

fn parse(args: &[String]) -> Result<Options, String> {
    let mut o = Options {
        reference: String::new(),
        target: String::new(),
        name: None,
        filter_config: String::new(),
        pull_secret: None,
        route: "backend".to_string(),
        workload: ("app".to_string(), "httpbin".to_string()),
        namespace: "default".to_string(),
        registry_args: Vec::new(),
    };
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().cloned().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            "--for" => o.target = value("--for")?,
            "--name" => o.name = Some(value("--name")?),
            "--filter-config" => o.filter_config = value("--filter-config")?,
            "--pull-secret" => o.pull_secret = Some(value("--pull-secret")?),
            "--route" => o.route = value("--route")?,
            "--namespace" => o.namespace = value("--namespace")?,
            "--workload" => {
                let label = value("--workload")?;
                let (k, v) = label.split_once('=').ok_or("--workload takes LABEL=VALUE")?;
                o.workload = (k.to_string(), v.to_string());
            }
            "--credentials" | "--ca-file" | "--timeout" => {
                o.registry_args.push(arg.clone());
                o.registry_args.push(value(arg)?);
            }
            "--insecure" => o.registry_args.push(arg.clone()),
            "-h" | "--help" => return Err(String::new()),
            flag if flag.starts_with('-') => return Err(format!("unknown option `{flag}`")),
            reference if o.reference.is_empty() => o.reference = reference.to_string(),
            extra => return Err(format!("one reference at a time (unexpected `{extra}`)")),
        }
    }
    if o.reference.is_empty() {
        return Err("which module? give its reference (registry/repository@sha256:… or :tag)".to_string());
    }
    if !["envoy", "gateway", "istio"].contains(&o.target.as_str()) {
        return Err(format!("--for envoy, gateway or istio (got `{}`)", o.target));
    }
    Ok(o)
}

pub fn run(args: &[String]) -> i32 {
    let options = match parse(args) {
        Ok(options) => options,
        Err(message) if message.is_empty() => {
            println!("{USAGE}");
            return 0;
        }
        Err(message) => {
            eprintln!("envoyx deploy: {message}\n{USAGE}");
            return 2;
        }
    };
    match deploy(&options) {
        Ok(text) => {
            print!("{text}");
            0
        }
        Err(message) => {
            eprintln!("envoyx deploy: {message}");
            1
        }
    }
}

fn deploy(o: &Options) -> Result<String, String> {
    let reference = Reference::parse(&o.reference)?;
    let pinned = match reference.digest() {
        Some(_) => reference.clone(),
        None => {
            let options = crate::registry::client_options(&o.registry_args)?;
            let (digest, _) = envoyx_core::oci::transfer::annotations(&reference, &options)?;
            eprintln!("envoyx deploy: {reference} is {digest}");
            reference.at_digest(&digest)
        }
    };
    let name = o
        .name
        .clone()
        .unwrap_or_else(|| pinned.repository.rsplit('/').next().unwrap_or("module").to_string());
    let mut oci = serde_json::json!({ "reference": pinned.to_string() });
    if o.pull_secret.is_some() {
        oci["credentials"] = SECRET_MOUNT.into();
    }
    let config = serde_json::json!({
        "name": name,
        "remote": { "oci": oci, "cache_dir": CACHE_DIR },
        "filter_config": o.filter_config,
    });
    // The configuration is checked by the core's rules before anything is printed.
    envoyx_core::ModuleConfig::from_json(&config.to_string()).map_err(|e| e.to_string())?;
    Ok(match o.target.as_str() {
        "envoy" => for_envoy(&name, &config),
        "gateway" => for_gateway(o, &name, &config),
        _ => for_istio(o, &name, &config),
    })
}

fn for_envoy(name: &str, config: &serde_json::Value) -> String {
    let filter = envoyx_harness::envoyx_filter(
        name,
        config.clone(),
        envoyx_harness::LoadBy::Name,
        envoyx_harness::Form::StringValue,
    );
    let text = serde_json::to_string_pretty(&filter).unwrap_or_default();
    format!(
        "# An http_filters entry for stock Envoy 1.38-1.40 with the EnvoyX stock host on\n\
         # ENVOY_DYNAMIC_MODULES_SEARCH_PATH (the EnvoyX stock-Envoy image has it). A cache miss is\n\
         # refused and fetched in the background (docs/oci.md): deliver it by xDS, or add\n\
         # \"block_on_cache_miss\": true to `remote` in a static bootstrap.\n{text}\n"
    )
}

/// The pull secret's volume and mount, as Kubernetes writes them.
fn secret_volume(secret: &str) -> (String, String) {
    (
        format!("{{\"name\": \"envoyx-pull\", \"secret\": {{\"secretName\": \"{secret}\"}}}}"),
        format!("{{\"name\": \"envoyx-pull\", \"mountPath\": \"{SECRET_MOUNT}\", \"readOnly\": true}}"),
    )
}

fn for_gateway(o: &Options, name: &str, config: &serde_json::Value) -> String {
    let version = env!("CARGO_PKG_VERSION");
    let secret = o.pull_secret.as_deref().map(secret_volume);
    let (mounts, volumes) = match &secret {
        Some((volume, mount)) => (
            format!("\n          volumeMounts:\n          - {mount}"),
            format!("\n        pod:\n          volumes:\n          - {volume}"),
        ),
        None => (String::new(), String::new()),
    };
    format!(
        "# EnvoyX on Envoy Gateway v1.9+: the module {reference}, pulled by each proxy\n\
         # (docs/oci.md). Validate with ci/validate-k8s.sh FILE.\n\
         apiVersion: gateway.envoyproxy.io/v1alpha1\n\
         kind: EnvoyProxy\n\
         metadata:\n  name: envoyx\n  namespace: envoy-gateway-system\n\
         spec:\n  provider:\n    type: Kubernetes\n    kubernetes:\n      envoyDeployment:\n        container:\n          image: ghcr.io/envoyx/envoy:v1.40-latest-stock-envoyx-v{version}{mounts}{volumes}\n\
         \x20 dynamicModules:\n  - name: envoyx-stock-host\n    source:\n      type: Local\n      local:\n        path: /usr/local/lib/envoyx/libenvoyx_stock_host.so\n    doNotClose: true\n\
         ---\n\
         apiVersion: gateway.envoyproxy.io/v1alpha1\n\
         kind: EnvoyExtensionPolicy\n\
         metadata:\n  name: envoyx-{name}\n  namespace: {namespace}\n\
         spec:\n  targetRefs:\n  - group: gateway.networking.k8s.io\n    kind: HTTPRoute\n    name: {route}\n  dynamicModule:\n  - name: envoyx-stock-host\n    filterName: {name}\n    config: {config}\n",
        reference = config["remote"]["oci"]["reference"].as_str().unwrap_or(""),
        namespace = o.namespace,
        route = o.route,
    )
}

fn for_istio(o: &Options, name: &str, config: &serde_json::Value) -> String {
    let version = env!("CARGO_PKG_VERSION");
    let (label, value) = &o.workload;
    let (secret_volume, secret_mount) = match &o.pull_secret {
        Some(secret) => (
            format!(", \"envoyx-pull\": {{\"secret\": {{\"secretName\": \"{secret}\"}}}}"),
            format!(", \"envoyx-pull\": {{\"mountPath\": \"{SECRET_MOUNT}\", \"readOnly\": true}}"),
        ),
        None => (String::new(), String::new()),
    };
    let value_json = serde_json::to_string(&config.to_string()).unwrap_or_default();
    format!(
        "# EnvoyX in an Istio 1.31+ sidecar: the module {reference}, pulled by each proxy\n\
         # (docs/oci.md). Put these annotations on the pod template of the workload labelled\n\
         # {label}={value} (the stock host from its image, the pull secret), then apply the EnvoyFilter.\n\
         #   sidecar.istio.io/userVolume: '{{\"envoyx-host\": {{\"image\": {{\"reference\": \"ghcr.io/envoyx/stock-host:v{version}\", \"pullPolicy\": \"IfNotPresent\"}}}}{secret_volume}}}'\n\
         #   sidecar.istio.io/userVolumeMount: '{{\"envoyx-host\": {{\"mountPath\": \"/etc/envoyx/host\", \"readOnly\": true}}{secret_mount}}}'\n\
         #   proxy.istio.io/config: '{{\"proxyMetadata\": {{\"TMPDIR\": \"/var/lib/istio/data\"}}}}'\n\
         apiVersion: networking.istio.io/v1alpha3\n\
         kind: EnvoyFilter\n\
         metadata:\n  name: envoyx-{name}\n  namespace: {namespace}\n\
         spec:\n  workloadSelector:\n    labels:\n      {label}: {value}\n  configPatches:\n  - applyTo: HTTP_FILTER\n    match:\n      context: SIDECAR_INBOUND\n      listener:\n        filterChain:\n          filter:\n            name: envoy.filters.network.http_connection_manager\n            subFilter:\n              name: envoy.filters.http.router\n    patch:\n      operation: INSERT_BEFORE\n      value:\n        name: envoy.filters.http.dynamic_modules\n        typed_config:\n          \"@type\": type.googleapis.com/envoy.extensions.filters.http.dynamic_modules.v3.DynamicModuleFilter\n          dynamic_module_config:\n            module:\n              local:\n                filename: /etc/envoyx/host/libenvoyx_stock_host.so\n            do_not_close: true\n          filter_name: {name}\n          filter_config:\n            \"@type\": type.googleapis.com/google.protobuf.StringValue\n            value: {value_json}\n",
        reference = config["remote"]["oci"]["reference"].as_str().unwrap_or(""),
        namespace = o.namespace,
    )
}
