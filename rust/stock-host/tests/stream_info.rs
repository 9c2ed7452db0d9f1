//! Dynamic metadata, filter state and routing (ABI 1.1) in real Envoy 1.38.3, 1.39.3 and
//! 1.40.0: what the conformance module writes shows in Envoy's access log
//! (`%DYNAMIC_METADATA%`, `%FILTER_STATE%`); it reads the route's metadata; a rewritten `:path`
//! with the route cache cleared goes to the route of the new path (and without the clear, to the
//! old one); a pinned upstream host is used, and a strict pin to a host the cluster lacks fails. Typed
//! metadata set (ABI 1.2) reads back on 1.40 and is refused before, naming 1.40.

mod support;

use serde_json::json;
use support::*;

#[test]
fn metadata_filter_state_and_routing_in_real_envoy() {
    let module = envoyx_testhost::build_package("envoyx-test-module-conformance");
    for version in VERSIONS {
        let dir = temp_dir();
        let access_log = dir.path().join("access.log");
        let upstream = start_upstream();
        let port = free_port();
        let filter =
            envoyx_filter("conformance", module_config("info", &module, ""), LoadBy::Name, Form::Struct);
        // /v1/ goes nowhere (the cluster `empty` has no endpoints: 503) and carries metadata for
        // the module; /v2/ and the rest reach the upstream.
        let mut v1 = envoyx_harness::proxy::route("/v1/", "empty", &[], None);
        v1["metadata"] = json!({ "filter_metadata": { "envoyx.conformance": { "tier": "gold" } } });
        // /by-header/ picks one of two weighted clusters by the request header `x-conf-weight`
        // (0: the upstream, 1: `empty`).
        let by_header = json!({ "match": { "prefix": "/by-header/" }, "route": { "weighted_clusters": {
            "clusters": [ { "name": "upstream", "weight": 1 }, { "name": "empty", "weight": 1 } ],
            "header_name": "x-conf-weight" } } });
        // The rest carries typed metadata: an Any holding a StringValue (ABI 1.2 typed metadata).
        let mut root = envoyx_harness::proxy::route("/", "upstream", &[], None);
        root["metadata"] = json!({ "typed_filter_metadata": { "envoyx.conformance": {
            "@type": "type.googleapis.com/google.protobuf.StringValue", "value": "hello" } } });
        let routes = vec![v1, by_header, root];
        let mut listener =
            envoyx_harness::proxy::http_listener("info", "127.0.0.1", port, routes, vec![filter]);
        listener["filter_chains"][0]["filters"][0]["typed_config"]["access_log"] = json!([{
            "name": "envoy.access_loggers.file",
            "typed_config": {
                "@type": "type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog",
                "path": access_log,
                "log_format": { "text_format_source": { "inline_string":
                    "%REQ(X-CASE)% %DYNAMIC_METADATA(envoyx.conformance:decision)% %DYNAMIC_METADATA(envoyx.conformance:score)% %FILTER_STATE(envoyx.conformance.verdict:PLAIN)% %RESPONSE_CODE%\n"
                } }
            }
        }]);
        let mut bootstrap = bootstrap(free_port(), upstream.port, vec![listener], None);
        // The upstream's endpoint and its locality carry metadata (ABI 1.2 host sources).
        let endpoints = &mut bootstrap["static_resources"]["clusters"][0]["load_assignment"]["endpoints"][0];
        endpoints["metadata"] = json!({ "filter_metadata": { "envoyx.conformance": { "zone": "eu-1" } } });
        endpoints["lb_endpoints"][0]["metadata"] =
            json!({ "filter_metadata": { "envoyx.conformance": { "rack": "r7" } } });
        let envoy = start_envoy(version, &bootstrap, dir);

        // Metadata and filter state, in the access log.
        assert_eq!(get(port, "/", &[("x-case", "stream-info")]).status(), 200, "Envoy {version}");
        // Routing: the route's metadata is read, the rewritten path re-routed only when cleared.
        let reply = get(port, "/v1/items", &[("x-case", "reroute")]);
        assert_eq!(
            (reply.status(), reply.header("x-conf-results")),
            (200, Some("tier=gold,cleared=true")),
            "Envoy {version}"
        );
        let reply = get(port, "/v1/items", &[("x-case", "reroute-no-clear")]);
        assert_eq!(reply.status(), 503, "Envoy {version}: without a clear the old route stands");
        // The route's cluster from a header the module changes: picked again only when refreshed.
        let by_header = |case: &str| get(port, "/by-header/x", &[("x-case", case), ("x-conf-weight", "1")]);
        // Envoy 1.38's weighted clusters do not pick again (their route entry has no refresh);
        // 1.39 and 1.40 do.
        let reply = by_header("refresh-cluster");
        let refreshed_status = if version == "1.38.3" { 503 } else { 200 };
        assert_eq!(
            (reply.status(), reply.header("x-upstream-saw-x-conf-refreshed")),
            (refreshed_status, (refreshed_status == 200).then_some("true")),
            "Envoy {version}: refreshed to the upstream"
        );
        assert_eq!(
            by_header("refresh-cluster-skipped").status(),
            503,
            "Envoy {version}: the picked cluster stands"
        );
        // A pinned upstream host: the cluster's own, or (strictly) one it lacks.
        let own = format!("127.0.0.1:{}", upstream.port);
        for (host, strict, status) in
            [(own.as_str(), "true", 200), ("127.0.0.1:1", "true", 503), ("127.0.0.1:1", "false", 200)]
        {
            let reply = get(
                port,
                "/",
                &[("x-case", "override-host"), ("x-conf-host", host), ("x-conf-strict", strict)],
            );
            assert_eq!(
                (reply.status(), reply.header("x-conf-results").map(str::to_string)),
                (status, Some("override=true".to_string())),
                "Envoy {version}: host {host}, strict {strict}"
            );
        }

        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        let log = loop {
            let log = std::fs::read_to_string(&access_log).unwrap_or_default();
            if log.contains("stream-info") || std::time::Instant::now() > deadline {
                break log;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        };
        let first = log.lines().next().unwrap_or_default();
        assert_eq!(first, "stream-info allow 0.5 ok 200", "Envoy {version}: access log:\n{log}");

        // The route's typed metadata: the Any's type URL and the StringValue's bytes (field 1,
        // "hello") on 1.40; 1.38 and 1.39 serve none, and say so.
        let reply = get(port, "/", &[("x-case", "metadata-typed")]);
        let typed = if version == "1.40.0" {
            "type=type.googleapis.com/google.protobuf.StringValue,value=0a0568656c6c6f"
        } else {
            "typed=none"
        };
        assert_eq!(reply.header("x-conf-results"), Some(typed), "Envoy {version}");
        if version != "1.40.0" {
            let refusal = format!(
                "metadata_get_typed of `envoyx.conformance` refused: Envoy 1.{} serves no typed metadata to \
                 modules; Envoy 1.40 and later do",
                &version[2..4]
            );
            assert!(envoy.log().contains(&refusal), "Envoy {version}: {refusal}");
        }

        // Typed dynamic metadata set and read back through Envoy on 1.40 (a StringValue "hello");
        // 1.38 and 1.39 take none, and say so.
        get(port, "/", &[("x-case", "metadata-set-typed")]);
        let seen = upstream.received().pop().expect("the request reached the upstream");
        let set_typed = if version == "1.40.0" {
            "set=true,read=type.googleapis.com/google.protobuf.StringValue:0a0568656c6c6f,bad=false"
        } else {
            "set=false,read=none,bad=false"
        };
        assert_eq!(seen.header("x-conf-results"), Some(set_typed), "Envoy {version}");
        let refusal = if version == "1.40.0" {
            "metadata_set_typed of `envoyx.conformance.typed` refused: the type URL `no-slash` names no message"
                .to_string()
        } else {
            format!(
                "metadata_set_typed of `envoyx.conformance.typed` refused: Envoy 1.{} takes no typed metadata \
                 from modules; Envoy 1.40 and later do",
                &version[2..4]
            )
        };
        assert!(envoy.log().contains(&refusal), "Envoy {version}: {refusal}");

        // A nested JSON object merged as a whole Struct: 1.40 takes it (both keys listed);
        // 1.38 and 1.39 take flat objects only, and say so.
        get(port, "/", &[("x-case", "metadata-struct-nested")]);
        let seen = upstream.received().pop().expect("the request reached the upstream");
        let nested = if version == "1.40.0" { "set=true,keys=flat,inner" } else { "set=false,keys=" };
        assert_eq!(seen.header("x-conf-struct"), Some(nested), "Envoy {version}");
        if version != "1.40.0" {
            assert!(
                envoy.log().contains(
                    "metadata_set_struct of `envoyx.conformance.nested` refused: this proxy sets only flat metadata"
                ),
                "Envoy {version}"
            );
        }

        // The chosen host's and its locality's metadata, read in the response hook.
        let reply = get(port, "/", &[("x-case", "host-metadata")]);
        assert_eq!(reply.header("x-conf-results"), Some("rack=r7,zone=eu-1"), "Envoy {version}");
        envoy.check_no_host_errors();
    }
}

/// Runs `openssl` with `args` in `dir`; panics naming the command on failure.
fn openssl(dir: &std::path::Path, args: &[&str]) {
    let out =
        std::process::Command::new("openssl").args(args).current_dir(dir).output().expect("run openssl");
    assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// A CA, a server certificate for `localhost` and a client certificate (subject
/// `CN=client,O=EnvoyX`, SANs `DNS:client.example`, `URI:spiffe://example/client`), in `dir`.
fn certificates(dir: &std::path::Path) {
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.crt",
            "-days",
            "2",
            "-subj",
            "/CN=EnvoyX test CA",
        ],
    );
    for (name, subject, san) in [
        ("server", "/CN=localhost", "subjectAltName=DNS:localhost,IP:127.0.0.1"),
        ("client", "/O=EnvoyX/CN=client", "subjectAltName=DNS:client.example,URI:spiffe://example/client"),
    ] {
        std::fs::write(dir.join(format!("{name}.ext")), san).unwrap();
        let (key, csr, crt, ext) =
            (format!("{name}.key"), format!("{name}.csr"), format!("{name}.crt"), format!("{name}.ext"));
        openssl(
            dir,
            &["req", "-newkey", "rsa:2048", "-nodes", "-keyout", &key, "-out", &csr, "-subj", subject],
        );
        openssl(
            dir,
            &[
                "x509",
                "-req",
                "-in",
                &csr,
                "-CA",
                "ca.crt",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-out",
                &crt,
                "-days",
                "2",
                "-extfile",
                &ext,
            ],
        );
    }
}

/// The `x-attr-*` response headers curl printed, by name.
fn attribute_headers(headers: &str) -> std::collections::HashMap<String, String> {
    headers
        .lines()
        .filter_map(|l| {
            let (name, value) = l.split_once(':')?;
            Some((
                name.trim().to_ascii_lowercase().strip_prefix("x-attr-")?.to_string(),
                value.trim().to_string(),
            ))
        })
        .collect()
}

#[test]
fn attributes_in_real_envoy_with_and_without_tls() {
    let module = envoyx_testhost::build_package("envoyx-test-module-conformance");
    let certs = temp_dir();
    certificates(certs.path());
    let cert = |name: &str| certs.path().join(name).display().to_string();
    for version in VERSIONS {
        let upstream = start_upstream();
        let (plain, tls) = (free_port(), free_port());
        let filter =
            || envoyx_filter("conformance", module_config("attrs", &module, ""), LoadBy::Name, Form::Struct);
        let mut route = envoyx_harness::proxy::route("/", "upstream", &[], None);
        route["name"] = json!("named-route");
        let plain_listener = envoyx_harness::proxy::http_listener(
            "plain",
            "127.0.0.1",
            plain,
            vec![route.clone()],
            vec![filter()],
        );
        let mut tls_listener =
            envoyx_harness::proxy::http_listener("tls", "127.0.0.1", tls, vec![route], vec![filter()]);
        tls_listener["filter_chains"][0]["transport_socket"] = json!({
            "name": "envoy.transport_sockets.tls",
            "typed_config": {
                "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext",
                "require_client_certificate": true,
                "common_tls_context": {
                    "tls_certificates": [{
                        "certificate_chain": { "filename": cert("server.crt") },
                        "private_key": { "filename": cert("server.key") }
                    }],
                    "validation_context": { "trusted_ca": { "filename": cert("ca.crt") } }
                }
            }
        });
        let listeners = vec![plain_listener, tls_listener];
        let envoy = start_envoy(version, &bootstrap(free_port(), upstream.port, listeners, None), temp_dir());

        let reply = get(plain, "/", &[("x-case", "attributes-dump")]);
        let attr = |name: &str| reply.header(&format!("x-attr-{name}")).unwrap_or("(none)").to_string();
        let source = attr("source-address");
        assert!(
            source.starts_with("127.0.0.1:") && source.ends_with(&format!(":{}", attr("source-port"))),
            "Envoy {version}: {source}"
        );
        assert_eq!(attr("destination-address"), format!("127.0.0.1:{plain}"), "Envoy {version}");
        assert_eq!(attr("destination-port"), plain.to_string(), "Envoy {version}");
        assert_eq!(attr("protocol"), "HTTP/1.1", "Envoy {version}");
        assert_eq!(attr("route-name"), "named-route", "Envoy {version}");
        assert_eq!(attr("cluster-name"), "upstream", "Envoy {version}");
        assert_eq!(attr("upstream-address"), format!("127.0.0.1:{}", upstream.port), "Envoy {version}");
        assert_eq!(attr("response-code"), "200", "Envoy {version}");
        assert!(!attr("request-id").is_empty() && attr("request-id") != "-", "Envoy {version}");
        assert!(attr("connection-id").parse::<u64>().is_ok(), "Envoy {version}: {}", attr("connection-id"));
        assert_eq!(attr("tls-version"), "-", "Envoy {version}: no TLS on this listener");
        // ABI 1.2's vocabulary: the request line on every version; what 1.39 and 1.40 added
        // there, refused (logged) on the versions before.
        assert_eq!(attr("request-method"), "GET", "Envoy {version}");
        assert_eq!(attr("request-path"), "/", "Envoy {version}");
        assert_eq!(attr("request-scheme"), "http", "Envoy {version}");
        assert_eq!(attr("upstream-port"), upstream.port.to_string(), "Envoy {version}");
        let minor: u32 = version.split('.').nth(1).unwrap().parse().unwrap();
        let since =
            |first: u32, value: &str| if minor >= first { value.to_string() } else { "-".to_string() };
        assert_eq!(attr("upstream-request-attempt-count"), since(39, "1"), "Envoy {version}");
        assert_eq!(attr("response-code-details"), since(39, "via_upstream"), "Envoy {version}");
        assert_eq!(attr("health-check"), since(39, "false"), "Envoy {version}");
        assert_eq!(attr("request-size"), since(40, "0"), "Envoy {version}: a GET has no body");
        if minor < 40 {
            // The first refusal of the stream is the one logged at warn level.
            let refusal = format!(
                "attribute_get of request.size refused: Envoy 1.{minor} does not serve it; Envoy 1.40 and later do"
            );
            envoy.check(envoy.log().contains(&refusal), "the refusal names the versions that serve it");
        }

        let out = std::process::Command::new("curl")
            .args([
                "-sS",
                "-o",
                "/dev/null",
                "-D",
                "-",
                "--cacert",
                &cert("ca.crt"),
                "--cert",
                &cert("client.crt"),
            ])
            .args(["--key", &cert("client.key"), "--resolve", &format!("localhost:{tls}:127.0.0.1")])
            .args(["-H", "x-case: attributes-dump", &format!("https://localhost:{tls}/")])
            .output()
            .expect("run curl");
        let headers = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "Envoy {version}: curl: {}", String::from_utf8_lossy(&out.stderr));
        let attrs = attribute_headers(&headers);
        let tls_attr = |name: &str| attrs.get(name).cloned().unwrap_or_else(|| "(none)".into());
        assert!(tls_attr("tls-version").starts_with("TLSv1."), "Envoy {version}: {headers}");
        assert_eq!(tls_attr("tls-peer-subject"), "CN=client,O=EnvoyX", "Envoy {version}");
        assert_eq!(tls_attr("tls-peer-dns-san"), "client.example", "Envoy {version}");
        assert_eq!(tls_attr("tls-peer-uri-san"), "spiffe://example/client", "Envoy {version}");
        assert_eq!(tls_attr("tls-peer-sha256").len(), 64, "Envoy {version}: {headers}");
        assert_eq!(tls_attr("connection-mtls"), "true", "Envoy {version}: {headers}");
        assert!(
            tls_attr("connection-subject-local-certificate").contains("CN="),
            "Envoy {version}: {headers}"
        );
        envoy.check_no_host_errors();
    }
}

/// Waits until one report to the Zipkin collector holds every one of `needles`.
fn wait_reported(zipkin: &Upstream, version: &str, what: &str, needles: &[&str]) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let reported = zipkin.requests.lock().unwrap().iter().any(|r| {
            let body = String::from_utf8_lossy(&r.body);
            needles.iter().all(|needle| body.contains(needle))
        });
        if reported {
            return;
        }
        assert!(std::time::Instant::now() < deadline, "Envoy {version}: {what} never reached the collector");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

#[test]
fn span_tags_reach_the_tracer_in_real_envoy() {
    let module = envoyx_testhost::build_package("envoyx-test-module-conformance");
    for version in VERSIONS {
        let (upstream, zipkin) = (start_upstream(), start_upstream());
        let port = free_port();
        let filter =
            envoyx_filter("conformance", module_config("traced", &module, ""), LoadBy::Name, Form::Struct);
        let routes = vec![envoyx_harness::proxy::route("/", "upstream", &[], None)];
        let mut listener =
            envoyx_harness::proxy::http_listener("traced", "127.0.0.1", port, routes, vec![filter]);
        listener["filter_chains"][0]["filters"][0]["typed_config"]["tracing"] = json!({
            "random_sampling": { "value": 100 },
            "provider": {
                "name": "envoy.tracers.zipkin",
                "typed_config": {
                    "@type": "type.googleapis.com/envoy.config.trace.v3.ZipkinConfig",
                    "collector_cluster": "zipkin",
                    "collector_endpoint": "/api/v2/spans",
                    "collector_endpoint_version": "HTTP_JSON",
                    "collector_hostname": "zipkin"
                }
            }
        });
        let mut bootstrap = bootstrap(free_port(), upstream.port, vec![listener], None);
        let clusters = bootstrap["static_resources"]["clusters"].as_array_mut().unwrap();
        clusters.push(envoyx_harness::proxy::static_cluster("zipkin", "127.0.0.1", zipkin.port));
        // Send each span at once rather than in batches of five.
        bootstrap["layered_runtime"] = json!({ "layers": [{ "name": "static", "static_layer": {
            "tracing.zipkin.min_flush_spans": 1
        } }] });
        let envoy = start_envoy(version, &bootstrap, temp_dir());

        let reply = get(port, "/", &[("x-case", "span-tag-traced")]);
        assert_eq!(reply.header("x-conf-results"), Some("tag=true"), "Envoy {version}: the span was there");
        wait_reported(&zipkin, version, "the tag", &["\"envoyx.decision\":\"traced\""]);

        // ABI 1.2: a child span from the request headers to the response headers, tagged and
        // logged to; the trace id, which the child carries too. Baggage: Envoy's Zipkin tracer
        // keeps none (set does nothing, get finds nothing), which x/abi.h says is the tracer's.
        let reply = get(port, "/", &[("x-case", "span-child-traced")]);
        let results = reply.header("x-conf-results").unwrap_or_default().to_string();
        let trace = results.split("trace=").nth(1).unwrap_or_default().to_string();
        assert!(results.starts_with("child=true,baggage=,trace="), "Envoy {version}: {results}");
        assert!(
            trace.len() >= 16 && trace.bytes().all(|b| b.is_ascii_hexdigit()),
            "Envoy {version}: {trace}"
        );
        let child = [
            "\"name\":\"envoyx.lookup\"".to_string(),
            "\"envoyx.step\":\"lookup\"".to_string(),
            "looked up".to_string(),
            format!("\"traceId\":\"{trace}\""),
        ];
        let child: Vec<&str> = child.iter().map(String::as_str).collect();
        wait_reported(&zipkin, version, "the child span", &child);
        envoy.check_no_host_errors();
    }
}
