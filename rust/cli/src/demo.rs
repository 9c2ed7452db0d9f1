//! `envoyx demo`: every example module, one request each, on the in-process test host.
//!
//! The examples, their packages and filter_configs are those of [`crate::catalogue`]; this file
//! holds the request each one gets here ([`InProcess`]) and the command.

use crate::catalogue::EXAMPLES;
use envoyx_build::try_build_workspace_package;
use envoyx_testhost::{SliceBuffer, TestHost, TestStream};
use std::time::{Duration, Instant};

/// What `envoyx demo` does with an example: one request on the test host.
pub struct InProcess {
    /// What the example does, as the demo says it.
    pub what: &'static str,
    /// Drives the request and says what came out.
    pub drive: fn(&mut TestStream) -> String,
}

pub const HELLOWORLD: InProcess = InProcess {
    what: "logs every event, passes everything through",
    drive: |s| {
        s.request_headers(&[(":path", "/hello")], false);
        s.request_body(&["hello"], true);
        s.response_headers(&[(":status", "200")], true);
        format!("upstream got {:?}", String::from_utf8_lossy(&s.upstream_request_body()))
    },
};

pub const HEADERS: InProcess = InProcess {
    what: "sets, adds and removes headers both ways",
    drive: |s| {
        s.request_headers(&[(":path", "/"), ("x-envoyx-remove-me", "1"), ("x-envoyx-echo", "hi")], true);
        s.response_headers(&[(":status", "200"), ("x-envoyx-secret", "s")], true);
        format!(
            "upstream headers {:?}\n    client headers {:?}",
            s.upstream_request_headers().pairs(),
            s.client_response_headers().pairs()
        )
    },
};

pub const BODY_REWRITE: InProcess = InProcess {
    what: "upper-cases bodies in place, across slices, copying nothing",
    drive: |s| {
        s.request_headers(&[(":path", "/")], false);
        s.request_body_buffer(SliceBuffer::chunked(b"zero-copy across slice boundaries", 5), true);
        format!(
            "upstream got {:?} ({} body bytes copied)",
            String::from_utf8_lossy(&s.upstream_request_body()),
            s.body_bytes_copied()
        )
    },
};

pub const BODY_REPLACE: InProcess = InProcess {
    what: "prepends, appends and replaces in the buffered body",
    drive: |s| {
        s.request_headers(
            &[
                (":path", "/"),
                ("x-envoyx-prepend", "["),
                ("x-envoyx-append", "]"),
                ("x-envoyx-replace", "a=the"),
            ],
            false,
        );
        s.request_body(&["a quick ", "fox"], true);
        format!("upstream got {:?}", String::from_utf8_lossy(&s.upstream_request_body()))
    },
};

pub const SEND_RESPONSE: InProcess = InProcess {
    what: "answers 401 without an authorization header",
    drive: |s| {
        s.request_headers(&[(":path", "/")], true);
        match s.local_reply() {
            Some(r) => format!("local reply {} {:?}", r.status, String::from_utf8_lossy(&r.body)),
            None => "no local reply".to_string(),
        }
    },
};

pub const DELAY: InProcess = InProcess {
    what: "stops the request and continues it from another thread",
    drive: |s| {
        let start = Instant::now();
        s.request_headers(&[(":path", "/")], true);
        let resumed = s.wait_scheduled(Duration::from_secs(5)) && s.request_headers_forwarded();
        format!("resumed: {resumed}, after {} ms", start.elapsed().as_millis())
    },
};

pub const STREAM_RESPONSE: InProcess = InProcess {
    what: "answers itself with server-sent events from scheduled work, pausing for a slow client",
    drive: |s| {
        s.request_headers(
            &[(":path", "/events"), ("x-envoyx-events", "3"), ("x-envoyx-interval-ms", "0")],
            true,
        );
        while s.run_scheduled() > 0 {}
        let body = String::from_utf8_lossy(&s.client_response_body()).replace('\n', " ");
        let trailers = s.client_response_trailers().map(|t| t.pairs()).unwrap_or_default();
        format!("client got {body:?}\n    trailers {trailers:?}")
    },
};

pub const JSON_VALIDATE: InProcess = InProcess {
    what: "400 unless the body is JSON with a `user` field",
    drive: |s| {
        s.request_headers(&[(":path", "/")], false);
        s.request_body(&[r#"{"name": "ann"}"#], true);
        match s.local_reply() {
            Some(r) => format!("local reply {} {}", r.status, String::from_utf8_lossy(&r.body)),
            None => "passed".to_string(),
        }
    },
};

pub fn run() -> i32 {
    println!(
        "EnvoyX demo: each example module, loaded through the EnvoyX core, on the in-process test host\n"
    );
    let checkout = match crate::catalogue::examples_checkout() {
        Ok(checkout) => checkout,
        Err(message) => {
            eprintln!("envoyx demo: {message}");
            return 1;
        }
    };
    let mut failed = 0;
    for example in EXAMPLES {
        eprintln!("building {} ...", example.package);
        let loaded = try_build_workspace_package(&checkout, example.package).and_then(|path| {
            TestHost::load(&path, example.package, example.filter_config).map_err(|e| e.to_string())
        });
        match loaded {
            Ok(host) => {
                let mut stream = host.stream();
                let outcome = (example.demo.drive)(&mut stream);
                println!("{} ({})\n    {}\n", example.package, example.demo.what, outcome);
            }
            Err(e) => {
                failed += 1;
                println!("{}: {e}\n", example.package);
            }
        }
    }
    i32::from(failed > 0)
}

pub const OBSERVE: InProcess = InProcess {
    what: "re-routes /v1/ to /v2/, notes its decision in dynamic metadata, counts the response",
    drive: |s| {
        s.request_headers(&[(":path", "/v1/items"), (":authority", "app")], true);
        let decision = s.metadata(envoyx_testhost::MetadataSource::Dynamic, "envoyx.observe", "decision");
        s.response_headers(&[(":status", "200")], true);
        format!(
            "upstream got :path {:?}; decision {decision:?}; route cache cleared {} time(s)",
            s.upstream_request_headers().get(":path"),
            s.route_cache_cleared()
        )
    },
};

pub const GRPC_CHECK: InProcess = InProcess {
    what: "asks a gRPC health service (a unary gRPC call over a streaming callout, answered here as \
           the demo's service would) whether the backend is serving",
    drive: |s| {
        use envoyx_testhost::CalloutStreamEvent;
        s.request_headers(&[(":path", "/"), (":authority", "app")], true);
        let Some(call) = s.pending_callouts().pop() else { return "no gRPC call was made".to_string() };
        let Ok(status) = envoyx_harness::grpc_health::decide("backend").0 else {
            return "the demo's service does not know `backend`".to_string();
        };
        let events = [
            CalloutStreamEvent::Headers {
                status: 200,
                headers: vec![("content-type".into(), "application/grpc".into())],
                end_of_stream: false,
            },
            // One gRPC frame: HealthCheckResponse { status }.
            CalloutStreamEvent::Data {
                chunks: vec![vec![0, 0, 0, 0, 2, 0x08, status]],
                end_of_stream: false,
            },
            CalloutStreamEvent::Trailers(vec![("grpc-status".into(), "0".into())]),
            CalloutStreamEvent::Complete,
        ];
        for event in events {
            s.callout_stream_event(call.id, event);
        }
        format!(
            "gRPC call {} to cluster `{}` answered status {status}; upstream got x-backend-health: {:?}",
            call.header(":path").unwrap_or_default(),
            call.cluster,
            s.upstream_request_headers().get("x-backend-health")
        )
    },
};

pub const AUTH: InProcess = InProcess {
    what: "asks an auth service (a callout, answered here as the demo's service would) and adds the identity",
    drive: |s| {
        s.request_headers(&[(":path", "/"), (":authority", "app"), ("authorization", "Bearer ann")], true);
        let Some(callout) = s.pending_callouts().pop() else { return "no callout was made".to_string() };
        let (status, headers) = envoyx_harness::auth::decide(callout.header("authorization"));
        let headers = headers.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        s.answer_callout(
            callout.id,
            envoyx_testhost::CalloutAnswer::Response { status, headers, body: vec![] },
        );
        format!(
            "callout to cluster `{}` answered {status}; upstream got x-auth-user: {:?}",
            callout.cluster,
            s.upstream_request_headers().get("x-auth-user")
        )
    },
};
