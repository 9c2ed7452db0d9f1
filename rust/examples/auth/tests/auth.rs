//! The auth filter on the test host, in process (no `.so` build): the test answers its callouts
//! as the auth service would. The end-to-end tests against a real auth service in Envoy are in
//! `rust/stock-host/tests/auth.rs`.

use envoyx_example_auth::{AuthConfig, AuthRoute};
use envoyx_testhost::{CalloutAnswer, CalloutStatus, HeadersStatus, TestHost, TestStream};

fn host(config: &str) -> TestHost {
    TestHost::in_process(envoyx_sdk::module_exports_with_routes::<AuthConfig, AuthRoute>(), "auth", config)
        .unwrap()
}

fn ok(user: &str, roles: &str) -> CalloutAnswer {
    CalloutAnswer::Response {
        status: 200,
        headers: vec![("x-auth-user".into(), user.into()), ("x-auth-roles".into(), roles.into())],
        body: vec![],
    }
}

/// Sends request headers (with a spoofed identity) and returns the one callout the filter made.
fn ask(stream: &mut TestStream, authorization: &str, end_of_stream: bool) -> u64 {
    let headers = [
        (":method", "GET"),
        (":path", "/"),
        (":authority", "app"),
        ("authorization", authorization),
        ("x-auth-user", "mallory"),
    ];
    assert_eq!(stream.request_headers(&headers, end_of_stream), HeadersStatus::StopIteration);
    let callouts = stream.pending_callouts();
    assert_eq!(callouts.len(), 1, "{callouts:?}");
    let callout = &callouts[0];
    assert_eq!(callout.cluster, "auth");
    assert_eq!(callout.header(":path"), Some("/check"));
    assert_eq!(callout.header("authorization"), Some(authorization));
    callout.id
}

#[test]
fn allowed_requests_go_on_with_the_identity_the_service_returned() {
    let host = host("");
    let mut stream = host.stream();
    let id = ask(&mut stream, "Bearer ann", false);
    // The body waits with the headers for the answer.
    stream.request_body(&["hel", "lo"], true);
    assert!(!stream.request_headers_forwarded());
    stream.answer_callout(id, ok("ann", "user"));
    assert_eq!(stream.upstream_request_headers().get("x-auth-user").as_deref(), Some("ann"));
    assert_eq!(stream.upstream_request_body(), b"hello");
}

#[test]
fn denied_requests_get_the_services_status() {
    let host = host("");
    for (status, body) in [(401u16, &b"unauthorized\n"[..]), (403, b"forbidden\n")] {
        let mut stream = host.stream();
        let id = ask(&mut stream, "Bearer x", true);
        let headers = vec![("www-authenticate".to_string(), "Bearer".to_string())];
        stream.answer_callout(id, CalloutAnswer::Response { status, headers, body: vec![] });
        let reply = stream.local_reply().expect("answered locally");
        assert_eq!((reply.status, reply.body.as_slice()), (u32::from(status), body));
        assert_eq!(reply.headers.get("www-authenticate").as_deref(), Some("Bearer"));
        assert!(!stream.request_headers_forwarded());
    }
}

#[test]
fn fail_closed_answers_503_for_timeouts_and_missing_clusters() {
    let host = host("timeout_ms=200");
    let mut stream = host.stream();
    let id = ask(&mut stream, "Bearer ann", true);
    assert_eq!(stream.pending_callouts()[0].timeout.as_millis(), 200);
    stream.answer_callout(id, CalloutAnswer::Response { status: 504, headers: vec![], body: vec![] });
    let reply = stream.local_reply().unwrap();
    assert_eq!((reply.status, reply.headers.get("x-auth-error").as_deref()), (503, Some("status_504")));

    let mut stream = host.stream();
    let id = ask(&mut stream, "Bearer ann", true);
    stream.answer_callout(id, CalloutAnswer::Failed(CalloutStatus::NoCluster));
    assert_eq!(stream.local_reply().unwrap().headers.get("x-auth-error").as_deref(), Some("no_cluster"));
}

#[test]
fn fail_open_lets_the_request_through_marked() {
    let host = host("failure=open cluster=auth");
    let mut stream = host.stream();
    let id = ask(&mut stream, "Bearer ann", true);
    stream.answer_callout(id, CalloutAnswer::Failed(CalloutStatus::Reset));
    assert!(stream.local_reply().is_none());
    let upstream = stream.upstream_request_headers();
    assert_eq!(upstream.get("x-auth-skipped").as_deref(), Some("reset"));
    assert_eq!(upstream.get("x-auth-user"), None, "the spoofed identity is gone");
}

#[test]
fn per_route_config_turns_auth_off_or_requires_a_role() {
    let host = host("");
    let off = host.route_config("public", "off").unwrap();
    let mut stream = host.stream_on_route(Some(off));
    assert_eq!(stream.request_headers(&[(":path", "/public")], true), HeadersStatus::Continue);
    assert!(stream.pending_callouts().is_empty());

    let admin = host.route_config("admin", "role=admin").unwrap();
    let mut stream = host.stream_on_route(Some(admin.clone()));
    let id = ask(&mut stream, "Bearer ann", true);
    stream.answer_callout(id, ok("ann", "user"));
    assert_eq!(stream.local_reply().map(|r| r.status), Some(403));

    let mut stream = host.stream_on_route(Some(admin));
    let id = ask(&mut stream, "Bearer root", true);
    stream.answer_callout(id, ok("root", "admin,user"));
    assert_eq!(stream.upstream_request_headers().get("x-auth-user").as_deref(), Some("root"));

    let err = host.route_config("bad", "role=").unwrap_err().to_string();
    assert!(err.contains("per-route auth config must be `off` or `role=<role>`"), "{err}");
}

#[test]
fn bad_configs_name_the_setting() {
    for (config, says) in [
        ("timeout_ms=0", "timeout_ms must be above 0"),
        ("failure=maybe", "failure must be `closed` or `open`"),
        ("colour=blue", "unknown or empty setting `colour=blue`"),
        ("cluster", "`cluster` is not key=value"),
    ] {
        let err =
            TestHost::in_process(envoyx_sdk::module_exports::<AuthConfig>(), "auth", config).err().unwrap();
        assert!(err.to_string().contains(says), "{config}: {err}");
    }
}

/// `cluster_alias`: the callout goes to the cluster the route's metadata names for the alias (as
/// Envoy Gateway v1.10 writes it for an `EnvoyExtensionPolicy`'s `backends`), looked up per
/// request; a route without it gets 503 `no_backend` (or, failing open, goes on marked).
#[test]
fn cluster_alias_takes_the_cluster_from_the_routes_metadata() {
    use envoyx_example_auth::EXTENSION_BACKENDS;
    use envoyx_testhost::{MetadataSource, StoredValue};
    let host = host("cluster_alias=authsvc");
    let mut stream = host.stream();
    stream.set_source_metadata(
        MetadataSource::Route,
        EXTENSION_BACKENDS,
        "authsvc",
        StoredValue::String("envoyextensionpolicy/default/auth-policy/backend/0".into()),
    );
    let headers =
        [(":method", "GET"), (":path", "/"), (":authority", "app"), ("authorization", "Bearer ann")];
    assert_eq!(stream.request_headers(&headers, true), HeadersStatus::StopIteration);
    let callouts = stream.pending_callouts();
    assert_eq!(callouts.len(), 1, "{callouts:?}");
    assert_eq!(callouts[0].cluster, "envoyextensionpolicy/default/auth-policy/backend/0");
    stream.answer_callout(callouts[0].id, ok("ann", ""));
    assert_eq!(stream.upstream_request_headers().get("x-auth-user").as_deref(), Some("ann"));

    let mut stream = host.stream();
    assert_eq!(stream.request_headers(&headers, true), HeadersStatus::StopIteration);
    assert!(stream.pending_callouts().is_empty());
    let reply = stream.local_reply().unwrap();
    assert_eq!((reply.status, reply.headers.get("x-auth-error").as_deref()), (503, Some("no_backend")));

    let open = self::host("cluster_alias=authsvc failure=open");
    let mut stream = open.stream();
    assert_eq!(stream.request_headers(&headers, true), HeadersStatus::Continue);
    assert_eq!(stream.upstream_request_headers().get("x-auth-skipped").as_deref(), Some("no_backend"));
}
