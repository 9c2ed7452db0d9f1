//! The variants (ways to extend Envoy) and jobs, and the Envoy configuration for each pair: the
//! same listener, route and upstream cluster every time, only the HTTP filter differs.

use serde_json::{Value, json};
use std::fmt;
use std::path::PathBuf;

/// A way to run the job inside Envoy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Variant {
    /// No filter but the router: the limit.
    NoFilter,
    /// The EnvoyX module through the stock host (`envoy.filters.http.dynamic_modules`).
    EnvoyX,
    /// The same jobs written in Go with the Go SDK (`go/bench`), through the stock host.
    Go,
    /// The Go module's body job with the plain per-byte loop instead of the SDK's helper
    /// (`upper-loop`): what the helper saves.
    GoLoop,
    /// A plain C module against upstream Envoy's own dynamic-modules ABI: the floor for a module.
    CModule,
    /// Envoy's Lua filter.
    Lua,
    /// Proxy-Wasm on V8.
    Wasm,
    /// ext_proc with a tonic gRPC server in its own process.
    ExtProc,
    /// Envoy's ext_authz asking an HTTP auth service (the auth job only).
    ExtAuthz,
}

impl Variant {
    pub const ALL: [Variant; 9] = [
        Variant::NoFilter,
        Variant::EnvoyX,
        Variant::Go,
        Variant::GoLoop,
        Variant::CModule,
        Variant::Lua,
        Variant::Wasm,
        Variant::ExtProc,
        Variant::ExtAuthz,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Variant::NoFilter => "no filter",
            Variant::EnvoyX => "EnvoyX (stock host)",
            Variant::Go => "EnvoyX Go module (stock host)",
            Variant::GoLoop => "EnvoyX Go module, plain byte loop",
            Variant::CModule => "C module (upstream ABI)",
            Variant::Lua => "Lua",
            Variant::Wasm => "Proxy-Wasm (V8)",
            Variant::ExtProc => "ext_proc (tonic)",
            Variant::ExtAuthz => "ext_authz (HTTP service)",
        }
    }

    /// A short name for file names and plot legends.
    pub fn short(self) -> &'static str {
        match self {
            Variant::NoFilter => "none",
            Variant::EnvoyX => "envoyx",
            Variant::Go => "go",
            Variant::GoLoop => "go-loop",
            Variant::CModule => "c",
            Variant::Lua => "lua",
            Variant::Wasm => "wasm",
            Variant::ExtProc => "ext_proc",
            Variant::ExtAuthz => "ext_authz",
        }
    }

    /// Whether this variant sends the respond job's body as separate data frames (16 chunks on
    /// the wire): the dynamic modules, which have Envoy's `send_response_headers`/`_data`. Lua's
    /// `respond`, Proxy-Wasm's `proxy_send_local_response`, ext_proc's ImmediateResponse and a
    /// route's `direct_response` send it whole.
    pub fn streams_its_answer(self) -> bool {
        matches!(self, Variant::EnvoyX | Variant::Go | Variant::CModule)
    }

    /// Whether this variant can do `job`; the reason when it cannot (the report says it).
    pub fn does(self, job: Job) -> Result<(), &'static str> {
        match (self, job) {
            (Variant::GoLoop, Job::Upper(_)) => Ok(()),
            (Variant::GoLoop, _) => {
                Err("the same Go module as the row above: it differs only in the body job's loop")
            }
            (Variant::ExtAuthz, Job::Auth) => Ok(()),
            (Variant::ExtAuthz, _) => Err("ext_authz only decides whether a request may pass (the auth job)"),
            (Variant::CModule, Job::Auth) => Err("the C module does no auth"),
            (Variant::Go, Job::Auth) => Err(
                "the Go bench module does the header, body and observe jobs; the auth job's cost is Envoy's \
                 async client, as the Rust module's row shows (go/examples/auth is tested on Envoy, not timed)",
            ),
            (Variant::ExtProc, Job::Auth) => Err("ext_authz is Envoy's external service for this decision"),
            (Variant::Wasm, Job::Auth) => Err(
                "no Proxy-Wasm module here can make the callout: the bench's Wasm modules are hand-written \
                 WAT (a dispatch_http_call with its callback is beyond them), and a Rust one needs the \
                 wasm32 target, which this toolchain lacks and CI cannot install (registries only)",
            ),
            (Variant::Lua, Job::Observe) => {
                Err("Envoy's Lua filter has no API to define or increment a custom (labelled) counter")
            }
            (Variant::Wasm, Job::Observe) => {
                Err("Envoy's Proxy-Wasm has counters but writes filter state, not dynamic metadata, and the \
                 bench's Wasm modules are hand-written WAT (no wasm32 Rust target here)")
            }
            (Variant::ExtProc, Job::Observe) => {
                Err("an external processor cannot define the proxy's own counters")
            }
            _ => Ok(()),
        }
    }
}

/// What the filter does to each request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Job {
    /// Add one response header (`x-bench-added: 1`) to a GET.
    Header,
    /// Upper-case the ASCII letters of a POSTed request body of this many bytes, in place.
    Upper(usize),
    /// Change nothing on a GET.
    Pass,
    /// Ask an auth service about a GET (its `authorization` header) and pass it with the
    /// identity the service returned (`x-auth-user`).
    Auth,
    /// What an observability filter does per request: the header job, plus one labelled
    /// counter increment and one dynamic-metadata write.
    Observe,
    /// Answer a GET in the filter, no upstream asked: status 200 and a 64 KiB body
    /// ([`crate::pattern::response_body`]), sent as 16 data frames of 4 KiB where the variant
    /// can stream (EnvoyX, Go, the C module), whole where it cannot (Lua, Proxy-Wasm, ext_proc);
    /// with no filter, the route's `direct_response`.
    Respond,
}

impl Job {
    /// The filter-config word every variant uses for this job.
    pub fn word(self) -> &'static str {
        match self {
            Job::Header => "header",
            Job::Upper(_) => "upper",
            Job::Pass => "pass",
            Job::Auth => "auth",
            Job::Observe => "observe",
            Job::Respond => "respond",
        }
    }
}

impl fmt::Display for Job {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Job::Header => write!(f, "add one response header"),
            Job::Pass => write!(f, "passthrough"),
            Job::Auth => write!(f, "auth decision by an auth service"),
            Job::Observe => write!(f, "add a header, count it (labelled counter), write metadata"),
            Job::Respond => write!(f, "answer in the filter: 200, 64 KiB in 16 chunks"),
            Job::Upper(size) => write!(f, "upper-case request body, {}", size_label(*size)),
        }
    }
}

/// `1 KiB`, `64 KiB`, `1 MiB`, `16 MiB`, or bytes.
pub fn size_label(size: usize) -> String {
    if size >= 1 << 20 && size.is_multiple_of(1 << 20) {
        format!("{} MiB", size >> 20)
    } else if size >= 1 << 10 && size.is_multiple_of(1 << 10) {
        format!("{} KiB", size >> 10)
    } else {
        format!("{size} B")
    }
}

/// Everything built for the variants.
#[derive(Clone, Debug)]
pub struct Artifacts {
    pub stock_host: PathBuf,
    /// The EnvoyX bench module (`header`, `pass`, `observe`, `respond`).
    pub envoyx_bench_module: PathBuf,
    /// The `body-rewrite` example, as shipped (`request`).
    pub envoyx_body_rewrite: PathBuf,
    pub c_module: PathBuf,
    /// The Proxy-Wasm module for each job word.
    pub wasm_header: PathBuf,
    pub wasm_upper: PathBuf,
    pub wasm_pass: PathBuf,
    /// The respond job's (`proxy_send_local_response`).
    pub wasm_respond: PathBuf,
    pub extproc_server: PathBuf,
    /// The `auth` example, as shipped.
    pub envoyx_auth: PathBuf,
    /// The Go bench module (`go/bench`: `header`, `pass`, `upper`, `observe`, `respond`,
    /// `allocs`).
    pub go_bench_module: PathBuf,
}

/// Bodies up to 16 MiB are held whole by Lua (`body()`) and ext_proc (BUFFERED): the listener's
/// and the cluster's buffer limits are raised for every variant alike so neither answers 413.
pub const BUFFER_LIMIT: u64 = 64 << 20;

const LUA_HEADER: &str = r#"function envoy_on_response(handle)
  handle:headers():add("x-bench-added", "1")
end"#;

const LUA_UPPER: &str = r#"function envoy_on_request(handle)
  local body = handle:body()
  if body ~= nil and body:length() > 0 then
    body:setBytes(string.upper(body:getBytes(0, body:length())))
  end
end"#;

const LUA_PASS: &str = r#"function envoy_on_request(handle)
end
function envoy_on_response(handle)
end"#;

/// The auth decision in Lua: `httpCall` to the cluster `auth`, as the EnvoyX example does.
const LUA_AUTH: &str = r#"function envoy_on_request(handle)
  local headers, _ = handle:httpCall("auth", {
    [":method"] = "GET", [":path"] = "/check", [":authority"] = "auth",
    ["authorization"] = handle:headers():get("authorization") or ""
  }, "", 5000)
  if headers[":status"] == "200" then
    handle:headers():replace("x-auth-user", headers["x-auth-user"])
  else
    handle:respond({[":status"] = headers[":status"]}, "denied")
  end
end"#;

/// The respond job in Lua: `respond` sends the body whole (Envoy's Lua filter cannot stream a
/// response it makes), built once per Lua state, as [`crate::pattern::response_body`].
const LUA_RESPOND: &str = r#"local chunks = {}
for i = 0, 15 do
  chunks[#chunks + 1] = string.rep(string.char(97 + i), 4096)
end
local body = table.concat(chunks)
function envoy_on_request(handle)
  handle:respond({[":status"] = "200"}, body)
end"#;

/// The cluster the auth job's service sits behind.
pub const AUTH_CLUSTER: &str = "auth";

/// The HTTP filter (before the router) for `variant` doing `job`; `None` for no filter.
pub fn filter(variant: Variant, job: Job, artifacts: &Artifacts) -> Option<Value> {
    let word = job.word();
    Some(match variant {
        Variant::NoFilter => return None,
        Variant::EnvoyX => {
            let (module, config) = match job {
                Job::Upper(_) => (&artifacts.envoyx_body_rewrite, "request"),
                Job::Auth => (&artifacts.envoyx_auth, "cluster=auth timeout_ms=5000"),
                _ => (&artifacts.envoyx_bench_module, word),
            };
            envoyx_harness::envoyx_filter(
                "bench",
                envoyx_harness::module_config("bench", module, config),
                envoyx_harness::LoadBy::File(&artifacts.stock_host),
                envoyx_harness::Form::StringValue,
            )
        }
        Variant::Go | Variant::GoLoop => envoyx_harness::envoyx_filter(
            "bench",
            envoyx_harness::module_config(
                "bench",
                &artifacts.go_bench_module,
                if variant == Variant::GoLoop { "upper-loop" } else { word },
            ),
            envoyx_harness::LoadBy::File(&artifacts.stock_host),
            envoyx_harness::Form::StringValue,
        ),
        Variant::CModule => json!({
            "name": "envoy.filters.http.dynamic_modules",
            "typed_config": {
                "@type": "type.googleapis.com/envoy.extensions.filters.http.dynamic_modules.v3.DynamicModuleFilter",
                "dynamic_module_config": {
                    "name": "bench_c",
                    "module": { "local": { "filename": artifacts.c_module } }
                },
                "filter_name": "bench",
                "filter_config": { "@type": "type.googleapis.com/google.protobuf.StringValue", "value": word }
            }
        }),
        Variant::Lua => json!({
            "name": "envoy.filters.http.lua",
            "typed_config": {
                "@type": "type.googleapis.com/envoy.extensions.filters.http.lua.v3.Lua",
                "default_source_code": { "inline_string": match job {
                    Job::Header => LUA_HEADER,
                    Job::Upper(_) => LUA_UPPER,
                    Job::Pass => LUA_PASS,
                    Job::Auth => LUA_AUTH,
                    Job::Respond => LUA_RESPOND,
                    // Refused by `does` (no counter API); the header job keeps the match whole.
                    Job::Observe => LUA_HEADER,
                } }
            }
        }),
        Variant::Wasm => json!({
            "name": "envoy.filters.http.wasm",
            "typed_config": {
                "@type": "type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm",
                "config": {
                    "name": "bench",
                    "root_id": "bench",
                    "vm_config": {
                        "vm_id": "bench",
                        "runtime": "envoy.wasm.runtime.v8",
                        "code": { "local": { "filename": match job {
                            Job::Header | Job::Observe => &artifacts.wasm_header,
                            Job::Upper(_) => &artifacts.wasm_upper,
                            Job::Pass | Job::Auth => &artifacts.wasm_pass,
                            Job::Respond => &artifacts.wasm_respond,
                        } } }
                    }
                }
            }
        }),
        Variant::ExtAuthz => json!({
            "name": "envoy.filters.http.ext_authz",
            "typed_config": {
                "@type": "type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthz",
                "transport_api_version": "V3",
                "http_service": {
                    "server_uri": { "uri": "http://auth", "cluster": AUTH_CLUSTER, "timeout": "5s" },
                    "path_prefix": "/check",
                    "authorization_request": {
                        "allowed_headers": { "patterns": [{ "exact": "authorization" }] }
                    },
                    "authorization_response": {
                        "allowed_upstream_headers": { "patterns": [{ "exact": "x-auth-user" }] }
                    }
                }
            }
        }),
        Variant::ExtProc => json!({
            "name": "envoy.filters.http.ext_proc",
            "typed_config": {
                "@type": "type.googleapis.com/envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor",
                "grpc_service": { "envoy_grpc": { "cluster_name": "extproc" }, "timeout": "60s" },
                "message_timeout": "60s",
                "processing_mode": extproc_mode(job)
            }
        }),
    })
}

/// The processing mode each job needs: only the messages the job acts on, except passthrough,
/// which keeps ext_proc's default (both header messages sent, answered with no change).
pub fn extproc_mode(job: Job) -> Value {
    match job {
        // Observe is refused for ext_proc (`does`); it shares the header job's mode.
        Job::Header | Job::Observe => {
            json!({ "request_header_mode": "SKIP", "response_header_mode": "SEND" })
        }
        Job::Upper(_) => json!({
            "request_header_mode": "SKIP",
            "response_header_mode": "SKIP",
            "request_body_mode": "BUFFERED"
        }),
        Job::Pass | Job::Auth => json!({}),
        // The processor answers the request headers with an ImmediateResponse.
        Job::Respond => json!({ "response_header_mode": "SKIP" }),
    }
}

/// The no-filter variant of the respond job: the route answers itself (`direct_response`, the
/// same 64 KiB body; Envoy sends it whole) instead of going to the cluster `upstream`. Route
/// bodies are limited to 4 KiB unless the route configuration allows more.
pub fn answer_on_the_route(bootstrap: &mut Value) {
    let route_config = &mut bootstrap["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]["typed_config"]
        ["route_config"];
    let body = String::from_utf8(crate::pattern::response_body()).expect("ASCII letters");
    route_config["max_direct_response_body_size_bytes"] = json!(body.len());
    route_config["virtual_hosts"][0]["routes"] = json!([{
        "match": { "prefix": "/" },
        "direct_response": { "status": 200, "body": { "inline_string": body } }
    }]);
}

/// A cluster behind which the measurement's own process serves (`processor`): the ext_proc
/// server (HTTP/2, `extproc`) or the auth service (HTTP/1.1, [`AUTH_CLUSTER`]).
#[derive(Clone, Copy, Debug)]
pub struct ProcessorCluster {
    pub name: &'static str,
    pub port: u16,
    pub http2: bool,
}

/// The bootstrap: admin, one listener on `listen_port` whose only route goes to the cluster
/// `upstream` (127.0.0.1:`upstream_port`), and, given `extproc_port`, the HTTP/2 cluster
/// `extproc`.
pub fn bootstrap(
    admin_port: u16,
    listen_port: u16,
    upstream_port: u16,
    filter: Option<Value>,
    processor: Option<ProcessorCluster>,
) -> Value {
    let mut http_filters: Vec<Value> = filter.into_iter().collect();
    http_filters.push(json!({
        "name": "envoy.filters.http.router",
        "typed_config": { "@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router" }
    }));
    let endpoint = |port: u16| {
        json!({ "endpoints": [{ "lb_endpoints": [{ "endpoint": { "address": {
            "socket_address": { "address": "127.0.0.1", "port_value": port }
        } } }] }] })
    };
    let mut clusters = vec![json!({
        "name": "upstream",
        "connect_timeout": "2s",
        "type": "STATIC",
        "per_connection_buffer_limit_bytes": BUFFER_LIMIT,
        "load_assignment": { "cluster_name": "upstream", "endpoints": endpoint(upstream_port)["endpoints"] }
    })];
    if let Some(ProcessorCluster { name, port, http2 }) = processor {
        let mut cluster = json!({
            "name": name,
            "connect_timeout": "2s",
            "type": "STATIC",
            "per_connection_buffer_limit_bytes": BUFFER_LIMIT,
            "load_assignment": { "cluster_name": name, "endpoints": endpoint(port)["endpoints"] }
        });
        if http2 {
            cluster["typed_extension_protocol_options"] = json!({
                "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
                    "@type": "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
                    "explicit_http_config": { "http2_protocol_options": {} }
                }
            });
        }
        clusters.push(cluster);
    }
    json!({
        "node": { "id": "envoyx-bench", "cluster": "envoyx-bench" },
        "admin": { "address": { "socket_address": { "address": "127.0.0.1", "port_value": admin_port } } },
        "static_resources": {
            "listeners": [{
                "name": "bench",
                "address": { "socket_address": { "address": "127.0.0.1", "port_value": listen_port } },
                "per_connection_buffer_limit_bytes": BUFFER_LIMIT,
                "filter_chains": [{
                    "filters": [{
                        "name": "envoy.filters.network.http_connection_manager",
                        "typed_config": {
                            "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
                            "stat_prefix": "bench",
                            "route_config": {
                                "virtual_hosts": [{
                                    "name": "all",
                                    "domains": ["*"],
                                    "routes": [{ "match": { "prefix": "/" }, "route": { "cluster": "upstream", "timeout": "120s" } }]
                                }]
                            },
                            "http_filters": http_filters
                        }
                    }]
                }]
            }],
            "clusters": clusters
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn artifacts() -> Artifacts {
        let p = |s: &str| PathBuf::from(format!("/x/{s}"));
        Artifacts {
            stock_host: p("libenvoyx_stock_host.so"),
            envoyx_bench_module: p("libbench.so"),
            envoyx_body_rewrite: p("librewrite.so"),
            c_module: p("libc.so"),
            wasm_header: p("header.wasm"),
            wasm_upper: p("upper.wasm"),
            wasm_pass: p("pass.wasm"),
            wasm_respond: p("respond.wasm"),
            extproc_server: p("extproc"),
            envoyx_auth: p("libauth.so"),
            go_bench_module: p("libenvoyx_go_bench.so"),
        }
    }

    #[test]
    fn every_variant_but_no_filter_has_one_filter_doing_its_job() {
        let a = artifacts();
        assert!(filter(Variant::NoFilter, Job::Header, &a).is_none());
        let envoyx = filter(Variant::EnvoyX, Job::Upper(1024), &a).unwrap().to_string();
        assert!(envoyx.contains("librewrite.so") && envoyx.contains("request"), "{envoyx}");
        let envoyx = filter(Variant::EnvoyX, Job::Header, &a).unwrap().to_string();
        assert!(envoyx.contains("libbench.so") && envoyx.contains("header"), "{envoyx}");
        let c = filter(Variant::CModule, Job::Pass, &a).unwrap();
        assert_eq!(c["typed_config"]["filter_config"]["value"], "pass");
        let lua = filter(Variant::Lua, Job::Upper(1), &a).unwrap().to_string();
        assert!(lua.contains("string.upper"), "{lua}");
        let wasm = filter(Variant::Wasm, Job::Pass, &a).unwrap().to_string();
        assert!(wasm.contains("pass.wasm") && wasm.contains("envoy.wasm.runtime.v8"), "{wasm}");
        let ext = filter(Variant::ExtProc, Job::Upper(1), &a).unwrap();
        assert_eq!(ext["typed_config"]["processing_mode"]["request_body_mode"], "BUFFERED");
        // The Go module's body job, with the SDK's helper and with the plain loop.
        let go = filter(Variant::Go, Job::Upper(1), &a).unwrap().to_string();
        assert!(go.contains("upper") && !go.contains("upper-loop"), "{go}");
        let go_loop = filter(Variant::GoLoop, Job::Upper(1), &a).unwrap().to_string();
        assert!(go_loop.contains("upper-loop"), "{go_loop}");
        assert!(Variant::GoLoop.does(Job::Header).is_err());
    }

    #[test]
    fn every_variant_but_ext_authz_and_go_loop_answers_the_respond_job_itself() {
        let a = artifacts();
        for variant in Variant::ALL {
            let answers = !matches!(variant, Variant::ExtAuthz | Variant::GoLoop);
            assert_eq!(variant.does(Job::Respond).is_ok(), answers, "{variant:?}");
        }
        assert_eq!(Job::Respond.word(), "respond");
        let envoyx = filter(Variant::EnvoyX, Job::Respond, &a).unwrap().to_string();
        assert!(envoyx.contains("libbench.so") && envoyx.contains("respond"), "{envoyx}");
        let go = filter(Variant::Go, Job::Respond, &a).unwrap().to_string();
        assert!(go.contains("libenvoyx_go_bench.so") && go.contains("respond"), "{go}");
        let c = filter(Variant::CModule, Job::Respond, &a).unwrap();
        assert_eq!(c["typed_config"]["filter_config"]["value"], "respond");
        let lua = filter(Variant::Lua, Job::Respond, &a).unwrap().to_string();
        assert!(lua.contains("handle:respond") && lua.contains("string.rep"), "{lua}");
        let wasm = filter(Variant::Wasm, Job::Respond, &a).unwrap().to_string();
        assert!(wasm.contains("respond.wasm"), "{wasm}");
        let ext = filter(Variant::ExtProc, Job::Respond, &a).unwrap();
        assert_eq!(ext["typed_config"]["processing_mode"], json!({ "response_header_mode": "SKIP" }));
        // No filter: the route answers with the same body.
        assert!(filter(Variant::NoFilter, Job::Respond, &a).is_none());
        let mut direct = bootstrap(1, 2, 3, None, None);
        answer_on_the_route(&mut direct);
        let route_config = &direct["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]["typed_config"]
            ["route_config"];
        assert_eq!(route_config["max_direct_response_body_size_bytes"], 64 << 10);
        let route = &route_config["virtual_hosts"][0]["routes"][0];
        assert!(route.get("route").is_none(), "no cluster is asked: {route}");
        assert_eq!(route["direct_response"]["status"], 200);
        let body = route["direct_response"]["body"]["inline_string"].as_str().unwrap();
        assert_eq!(body.as_bytes(), crate::pattern::response_body());
    }

    #[test]
    fn the_lua_respond_script_builds_the_same_body() {
        use crate::pattern::{RESPONSE_CHUNK_BYTES, RESPONSE_CHUNKS};
        // Chunk i is RESPONSE_CHUNK_BYTES of the letter 'a' (97) + i, as pattern::response_body.
        assert!(LUA_RESPOND.contains(&format!("for i = 0, {} do", RESPONSE_CHUNKS - 1)), "{LUA_RESPOND}");
        let rep = format!("string.rep(string.char(97 + i), {RESPONSE_CHUNK_BYTES})");
        assert!(LUA_RESPOND.contains(&rep), "{LUA_RESPOND}");
    }

    #[test]
    fn the_bootstrap_is_the_same_but_for_the_filter_and_the_extproc_cluster() {
        let plain = bootstrap(1, 2, 3, None, None);
        let processor = ProcessorCluster { name: "extproc", port: 4, http2: true };
        let with = bootstrap(1, 2, 3, filter(Variant::Lua, Job::Pass, &artifacts()), Some(processor));
        let filters = |b: &Value| {
            b["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]
            ["typed_config"]["http_filters"]
            .as_array()
            .unwrap()
            .len()
        };
        assert_eq!((filters(&plain), filters(&with)), (1, 2));
        assert_eq!(plain["static_resources"]["clusters"].as_array().unwrap().len(), 1);
        let clusters = with["static_resources"]["clusters"].as_array().unwrap();
        assert_eq!(
            clusters[1]["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"]["address"]["socket_address"]
                ["port_value"],
            4
        );
        assert_eq!(
            plain["static_resources"]["listeners"][0]["per_connection_buffer_limit_bytes"],
            BUFFER_LIMIT
        );
    }

    #[test]
    fn labels_sizes() {
        assert_eq!(size_label(1024), "1 KiB");
        assert_eq!(size_label(64 << 10), "64 KiB");
        assert_eq!(size_label(16 << 20), "16 MiB");
        assert_eq!(size_label(1000), "1000 B");
        assert_eq!(Job::Upper(1 << 20).to_string(), "upper-case request body, 1 MiB");
    }
}
