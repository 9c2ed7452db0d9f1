//! The list of cases. Each names the module behaviour (`x-case`, see
//! `rust/test-modules/conformance`), the request, and what the upstream, the client and the log
//! must show on every host. The request of most cases is [`PLAIN`]: `abcdefghi`,
//! `content-length: 9`; the upstream echoes the body it got.

use crate::{Case, Client, Expect, HostKind, Message, PLAIN, Request, Want};

const BODY: &[u8] = b"abcdefghi";
/// The `*-edit-*` cases' edits of `abcdefghi` (drain 1, prepend `<`, replace the last byte by
/// two, append `>`).
const EDITED: &[u8] = b"<bcdefghIJ>";
/// The same when only the same-length replace was allowed.
const EDITED_IN_PLACE: &[u8] = b"abcdefghI";
const ALL_ALLOWED: Want = Want::Is("drain=true,prepend=true,replace=true,append=true");
const ALL_REFUSED: Want = Want::Is("drain=false,prepend=false,replace=false,append=false,replace-same=true");

/// The body, nothing else checked.
const fn body(body: &'static [u8]) -> Message {
    Message { headers: &[], body }
}

const fn ok(message: Message) -> Client {
    Client::Response { status: 200, message }
}

/// The request reaches the upstream as sent, the client gets the echo.
const PASSED: Expect = Expect::Exchange {
    upstream: Some(Message { headers: &[("content-length", Want::Is("9"))], body: BODY }),
    client: ok(body(BODY)),
    logs: &[],
};

/// The request went on with these headers (set by the module) and its body; the client got the
/// echo.
const fn forwarded_with(headers: &'static [(&'static str, Want)]) -> Expect {
    Expect::Exchange { upstream: Some(Message { headers, body: BODY }), client: ok(body(BODY)), logs: &[] }
}

/// One callout answered by the echo cluster: the callout-done hook told its status, verdict and
/// body upstream, and let the request go on.
const CALLOUT_ANSWERED: Expect =
    forwarded_with(&[("x-conf-callout", Want::Is("200 allow ping")), ("x-conf-callout-ids", Want::Is("1"))]);

/// A panic in a request-path hook: a 500 with an empty body for the client, nothing upstream.
const fn panic_500(log: &'static [&'static str]) -> Expect {
    Expect::Exchange {
        upstream: None,
        client: Client::Response { status: 500, message: body(b"") },
        logs: log,
    }
}

/// A panic in a response-path hook: the request went through, the response is reset.
const fn panic_reset(log: &'static [&'static str]) -> Expect {
    Expect::Exchange { upstream: Some(body(BODY)), client: Client::Reset, logs: log }
}

/// The request trailers the trailers cases send (the request is then chunked).
const WITH_TRAILERS: Request = Request { trailers: &[("x-trailer", "1")], ..PLAIN };
/// Asks the upstream for a response trailer (the response is then chunked).
const WANTS_TRAILERS: Request = Request { headers: &[("x-upstream-respond-trailer-x-rt", "1")], ..PLAIN };

/// Why stock Envoy cannot run `callout-unhealthy` and `callout-stream-unhealthy`: its
/// dynamic-modules filter does not hand a callout answered inside the async client's call
/// (`send`, or a stream's `sendHeaders`: its router answers a cluster without healthy hosts at
/// once) to the module (seen on 1.38.3, 1.39.3 and 1.40.0: no callout-done call, no stream
/// event arrives) and reports that it could not create the request, so the module is told
/// `unavailable`, which is what that status means.
const ENVOY_DROPS_INLINE_ANSWERS: &[(HostKind, &str)] = {
    const WHY: &str =
        "Envoy's filter drops a callout answered inside its start call; the module gets `unavailable`";
    &[(HostKind::Envoy { http2: false }, WHY), (HostKind::Envoy { http2: true }, WHY)]
};

/// Why the conformance exchange does not run `watermark` in Envoy: a client that stops reading
/// needs a response larger than Envoy's and the kernel's buffers; the stream-response example's
/// e2e test (`examples/stream-response`) makes one in Envoy 1.38.3, 1.39.3 and 1.40.0.
/// Why `trailers-add` does not run in Envoy, and `trailers-add-stock` only there: stock Envoy's
/// dynamic-modules filter offers no way to add trailers to a direction that had none
/// (envoyproxy/envoy#42559); the test hosts add them as Envoy's own filters can.
const STOCK_ENVOY_ADDS_NO_TRAILERS: &[(HostKind, &str)] = {
    const WHY: &str = "stock Envoy's filter cannot add trailers (envoyproxy/envoy#42559): trailers-add-stock holds it to the refusal";
    &[(HostKind::Envoy { http2: false }, WHY), (HostKind::Envoy { http2: true }, WHY)]
};

/// Why `runtime` does not run in the Envoy exchange: which Envoy serves a runtime to modules
/// differs by version (1.40 and later); rust/stock-host/tests/runtime.rs reads a bootstrap's
/// runtime layer in 1.40.0 and holds 1.38.3 and 1.39.3 to the refusal.
const RUNTIME_PER_ENVOY_VERSION: &[(HostKind, &str)] = {
    const WHY: &str =
        "Envoy serves a runtime from 1.40: rust/stock-host/tests/runtime.rs plays it per version";
    &[(HostKind::Envoy { http2: false }, WHY), (HostKind::Envoy { http2: true }, WHY)]
};

/// Why `timing` does not run in the Envoy exchange: Envoy serves timing to modules from 1.40;
/// rust/stock-host/tests/timing.rs reads it in 1.40.0 and holds 1.38.3 and 1.39.3 to the refusal.
const TIMING_PER_ENVOY_VERSION: &[(HostKind, &str)] = {
    const WHY: &str = "Envoy serves timing from 1.40: rust/stock-host/tests/timing.rs plays it per version";
    &[(HostKind::Envoy { http2: false }, WHY), (HostKind::Envoy { http2: true }, WHY)]
};

/// Why `secret` does not run in the Envoy exchange: Envoy serves secrets to modules from 1.40
/// (and a configuration declaring one is refused before); rust/stock-host/tests/secrets.rs plays
/// it per version, with a static secret and one SDS delivers and rotates.
const SECRETS_PER_ENVOY_VERSION: &[(HostKind, &str)] = {
    const WHY: &str = "Envoy serves secrets from 1.40: rust/stock-host/tests/secrets.rs plays it per version";
    &[(HostKind::Envoy { http2: false }, WHY), (HostKind::Envoy { http2: true }, WHY)]
};

/// Why `metadata-set-typed` does not run in the Envoy exchange, nor on the C++ test host: Envoy
/// takes typed metadata from modules from 1.40 (rust/stock-host/tests/stream_info.rs plays it per
/// version); the C++ test host keeps no typed metadata.
const TYPED_METADATA_SET_UNSUPPORTED: &[(HostKind, &str)] = {
    const WHY: &str =
        "Envoy takes typed metadata from 1.40: rust/stock-host/tests/stream_info.rs plays it per version";
    &[
        (HostKind::Envoy { http2: false }, WHY),
        (HostKind::Envoy { http2: true }, WHY),
        (HostKind::CxxTestHost, "the C++ test host keeps no typed metadata"),
    ]
};

/// The test hosts run `trailers-add`, not `trailers-add-stock`.
const TEST_HOSTS_ADD_TRAILERS: &[(HostKind, &str)] = {
    const WHY: &str = "this host adds trailers: trailers-add";
    &[(HostKind::RustTestHost, WHY), (HostKind::InProcess, WHY), (HostKind::CxxTestHost, WHY)]
};

const SLOW_CLIENT_IN_ENVOY: &[(HostKind, &str)] = {
    const WHY: &str = "a slow client needs a large response: the stream-response example's e2e test plays it";
    &[(HostKind::Envoy { http2: false }, WHY), (HostKind::Envoy { http2: true }, WHY)]
};

pub static CASES: &[Case] = &[
    Case::new("pass", "a request the filter does not touch goes through unchanged", PASSED).go(),
    Case::new(
        "headers",
        "multi-value headers: iterated and read in order; add appends, set replaces, remove removes",
        Expect::Exchange {
            upstream: Some(Message {
                headers: &[
                    ("x-multi", Want::Values(&["one", "two"])),
                    ("x-conf-iterated", Want::Is("one,two")),
                    ("x-conf-get-all", Want::Is("one,two")),
                    ("x-conf-removed", Want::Is("1")),
                    ("x-conf-remove-me", Want::Absent),
                    ("x-conf-added", Want::Values(&["a", "b"])),
                ],
                body: BODY,
            }),
            client: ok(Message { headers: &[("x-conf-response", Want::Is("seen"))], body: BODY }),
            logs: &[],
        },
    )
    .request(Request {
        headers: &[("x-multi", "one"), ("x-multi", "two"), ("x-conf-remove-me", "1")],
        ..PLAIN
    }),
    Case::new(
        "body-in-place",
        "bodies over many slices changed in place, both directions, keep their length and framing",
        Expect::Exchange {
            upstream: Some(Message { headers: &[("content-length", Want::Is("9"))], body: b"ABCDEFGHI" }),
            client: ok(Message { headers: &[("content-length", Want::IfPresent("9"))], body: BODY }),
            logs: &[],
        },
    ),
    Case::new(
        "req-edit-held",
        "drain/prepend/replace/append of a request body whose headers are held: allowed, \
         content-length set to the new length",
        Expect::Exchange {
            upstream: Some(Message { headers: &[("content-length", Want::Is("11"))], body: EDITED }),
            client: ok(Message { headers: &[("x-conf-results", ALL_ALLOWED)], body: EDITED }),
            logs: &[],
        },
    ),
    Case::new(
        "req-edit-forwarded",
        "length changes of a request body whose headers went on with content-length are refused \
         (the body stays as announced); a same-length replace is allowed",
        Expect::Exchange {
            upstream: Some(Message { headers: &[("content-length", Want::Is("9"))], body: EDITED_IN_PLACE }),
            client: ok(Message { headers: &[("x-conf-results", ALL_REFUSED)], body: EDITED_IN_PLACE }),
            logs: &[
                "(filter `conformance`), request_body hook: body_drain on the request body refused: it would \
                 change the body's length after the request headers went on with content-length: 9",
                "fix: return StopIteration (or StopAllIterationAndBuffer) from the request_headers hook",
            ],
        },
    ),
    Case::new(
        "req-edit-declared",
        "after will_change_request_body_length() the headers go on without content-length and \
         every edit is allowed",
        Expect::Exchange {
            upstream: Some(Message { headers: &[("content-length", Want::Absent)], body: EDITED }),
            client: ok(Message { headers: &[("x-conf-results", ALL_ALLOWED)], body: EDITED }),
            logs: &[],
        },
    ),
    Case::new(
        "resp-edit-held",
        "the same edits of a response body whose headers are held: allowed, content-length kept right",
        Expect::Exchange {
            upstream: Some(body(BODY)),
            client: ok(Message {
                headers: &[("x-conf-results", ALL_ALLOWED), ("content-length", Want::IfPresent("11"))],
                body: EDITED,
            }),
            logs: &[],
        },
    ),
    Case::new(
        "resp-edit-forwarded",
        "length changes of a response body whose headers went on with content-length are refused",
        Expect::Exchange {
            upstream: Some(body(BODY)),
            client: ok(Message {
                headers: &[("content-length", Want::IfPresent("9"))],
                body: EDITED_IN_PLACE,
            }),
            logs: &[
                "(filter `conformance`), response_body hook: body_drain on the response body refused: it \
                 would change the body's length after the response headers went on with content-length: 9",
            ],
        },
    ),
    Case::new(
        "resp-edit-declared",
        "after will_change_response_body_length() the response goes on without content-length",
        Expect::Exchange {
            upstream: Some(body(BODY)),
            client: ok(Message { headers: &[("content-length", Want::Absent)], body: EDITED }),
            logs: &[],
        },
    ),
    Case::new(
        "reply-request-headers",
        "a local reply from the request headers hook: the client gets it, the upstream nothing",
        Expect::Exchange {
            upstream: None,
            client: Client::Response {
                status: 403,
                message: Message { headers: &[("x-conf-reply", Want::Is("headers"))], body: b"denied\n" },
            },
            logs: &[],
        },
    ),
    Case::new(
        "reply-request-body",
        "a local reply at the end of a held request body",
        Expect::Exchange {
            upstream: None,
            client: Client::Response {
                status: 413,
                message: Message { headers: &[("x-conf-reply", Want::Is("body"))], body: b"too big\n" },
            },
            logs: &[],
        },
    ),
    Case::new(
        "reply-response-headers",
        "a local reply from the response headers hook replaces the upstream's response",
        Expect::Exchange {
            upstream: Some(body(BODY)),
            client: Client::Response {
                status: 502,
                message: Message { headers: &[("x-conf-reply", Want::Is("response"))], body: b"replaced\n" },
            },
            logs: &[],
        },
    ),
    Case::new(
        "late-reply",
        "a local reply once the response started is refused; the response goes on",
        Expect::Exchange {
            upstream: Some(body(BODY)),
            client: ok(body(BODY)),
            logs: &["the response already started"],
        },
    ),
    Case::new(
        "bad-reply",
        "local replies with a status outside 200-599 or a CR LF in a header value are refused",
        Expect::Exchange {
            upstream: None,
            client: Client::Response {
                status: 418,
                message: Message {
                    headers: &[("x-conf-results", Want::Is("status99=false,crlf=false"))],
                    body: b"teapot\n",
                },
            },
            logs: &["local reply status 99 is outside 200-599"],
        },
    ),
    Case::new(
        "bad-headers",
        "header values with CR LF or empty are refused, upper-case names lower-cased, added \
         pseudo-headers refused; the refusal is logged naming the module, filter, hook and header",
        Expect::Exchange {
            upstream: Some(Message {
                headers: &[("x-bad", Want::Absent), ("x-empty", Want::Absent), ("x-upper", Want::Is("yes"))],
                body: BODY,
            }),
            client: ok(Message {
                headers: &[("x-conf-results", Want::Is("crlf=false,empty=false,upper=true,pseudo=false"))],
                body: BODY,
            }),
            logs: &["(filter `conformance`), request_headers hook: header_set of `x-bad` on RequestHeaders \
                 refused: byte \\r is not allowed in a header value"],
        },
    ),
    Case::new(
        "headers-late",
        "once a direction's headers went on, setting, adding or removing one of them is refused (in \
         the body hooks, of either direction): nothing late reaches the upstream or the client",
        Expect::Exchange {
            upstream: Some(Message {
                headers: &[("x-conf-late", Want::Absent), ("content-length", Want::Is("9"))],
                body: BODY,
            }),
            client: ok(Message {
                headers: &[("x-conf-late", Want::Absent), ("content-length", Want::IfPresent("9"))],
                body: BODY,
            }),
            logs: &["request_body hook: header_set of `x-conf-late` on RequestHeaders refused: these headers \
                 already went on past this filter"],
        },
    )
    .since(1),
    Case::new(
        "bounds",
        "a header value past 64 KiB, header writes past 1,024 per stream and a local reply with more \
         than 64 headers are refused, each logged with its bound; the stream goes on",
        Expect::Exchange {
            upstream: None,
            client: Client::Response {
                status: 200,
                message: Message {
                    headers: &[("x-conf-results", Want::Is("long=false,writes=1024,last=1023,headers65=false"))],
                    body: b"bounded\n",
                },
            },
            // The stream's first refusal is the one logged at warn level (later ones at debug).
            logs: &["the header value's length in bytes is 65537, more than the bound of 65536"],
        },
    )
    // The bounds came after ABI 1.1's release; the 1.0 module from git history has no such case.
    .since(1),
    Case::new(
        "reset-request",
        "a reset from the request headers hook: no response, nothing upstream",
        Expect::Exchange { upstream: None, client: Client::Reset, logs: &[] },
    ),
    Case::new(
        "goaway",
        "the client's connection closed from the request headers hook (ABI 1.2 \
         send_goaway_and_close, GOAWAY first on HTTP/2): no response, nothing upstream",
        Expect::Exchange { upstream: None, client: Client::Reset, logs: &[] },
    )
    .since(2)
    .go(),
    Case::new(
        "reset-refused",
        "a reset with ENVOYX_RESET_REFUSED from the request headers hook (ABI 1.2): nothing \
         upstream, and the client is told the stream was refused (HTTP/2 REFUSED_STREAM), so it may \
         retry it",
        Expect::Exchange { upstream: None, client: Client::Refused, logs: &[] },
    )
    .since(2)
    .go(),
    Case::new(
        "reset-reason-refused",
        "reset_stream_with_reason with an unknown reason, then with details that are not one token: \
         both refused (false, logged), and the stream goes on untouched",
        Expect::Exchange {
            upstream: Some(Message {
                headers: &[("x-conf-results", Want::Is("unknown=false,spaced=false"))],
                body: BODY,
            }),
            client: ok(body(BODY)),
            logs: &["reset_stream_with_reason (reason 7) refused: unknown reason: ENVOYX_RESET_LOCAL (0) or \
                     ENVOYX_RESET_REFUSED (1)"],
        },
    )
    .since(2)
    .go(),
    Case::new(
        "answer",
        "the module answers the stream itself (ABI 1.2): headers from the request headers hook, \
         each request body chunk sent back as it arrives, trailers at the end; the hooks return \
         CONTINUE, yet nothing reaches an upstream",
        Expect::Exchange {
            upstream: None,
            client: Client::WithTrailers {
                status: 200,
                message: Message {
                    headers: &[("x-conf-answer", Want::Is("request-headers")), ("content-type", Want::Is("text/plain"))],
                    body: BODY,
                },
                trailers: &[("x-conf-trailer", Want::Is("done"))],
            },
            logs: &[],
        },
    )
    .since(2)
    .go(),
    Case::new(
        "answer-scheduled",
        "the module's own response over time (ABI 1.2): headers with content-length and the first \
         bytes from one scheduled event, the rest and the end from a second",
        Expect::Exchange {
            upstream: None,
            client: ok(Message {
                headers: &[("x-conf-answer", Want::Is("scheduled")), ("content-length", Want::IfPresent("9"))],
                body: BODY,
            }),
            logs: &[],
        },
    )
    .since(2)
    .go(),
    Case::new(
        "answer-refused",
        "the module's own response refuses data or trailers before its headers, a status out of \
         range, a pseudo-header; and once started, a local reply, headers again, empty trailers",
        Expect::Exchange {
            upstream: None,
            client: ok(Message {
                headers: &[("x-conf-before", Want::Is("data=false,trailers=false,status=false,pseudo=false"))],
                body: b"reply=false,again=false,empty-trailers=false",
            }),
            logs: &[
                "send_response_data (1 bytes) refused: no response started: send its headers first",
                "send_local_reply (status 403) refused: the module's own response already started",
            ],
        },
    )
    .since(2),
    Case::new(
        "answer-late",
        "a response the module sends once its request went on is refused (logged); the \
         upstream's response goes through",
        Expect::Exchange {
            upstream: Some(body(BODY)),
            client: ok(body(BODY)),
            logs: &["send_response_headers (status 200) refused: the request already went on towards the upstream"],
        },
    )
    .since(2),
    Case::new(
        "answer-reset",
        "a reset after the module's own response started (from a scheduled event): the client \
         sees the stream reset",
        Expect::Exchange { upstream: None, client: Client::Reset, logs: &[] },
    )
    .since(2),
    Case::new(
        "watermark",
        "flow control (ABI 1.2): while the module answers, the client stops reading and reads \
         again; the proxy says above twice and below twice, and the module hears one above and \
         one below, between events, and ends its response there",
        Expect::Exchange {
            upstream: None,
            client: ok(body(b"above;below;")),
            logs: &[],
        },
    )
    .request(Request { slow_client: true, ..PLAIN })
    .unsupported(SLOW_CLIENT_IN_ENVOY)
    .since(2)
    .go(),
    Case::new(
        "runtime",
        "the proxy's runtime (ABI 1.2 runtime_get): a flag read as a boolean, a value as a number, \
         an unset key and a flag asked as a number absent",
        Expect::Exchange {
            upstream: Some(Message {
                headers: &[(
                    "x-conf-runtime",
                    Want::Is("flag=true,percent=12.5,unset=none,flag-as-number=none"),
                )],
                body: BODY,
            }),
            client: ok(body(BODY)),
            logs: &[],
        },
    )
    .unsupported(RUNTIME_PER_ENVOY_VERSION)
    .since(2)
    .go(),
    Case::new(
        "metadata-set-typed",
        "typed dynamic metadata set (ABI 1.2 metadata_set_typed: an Any of a type URL and a \
         message's bytes) and read back as set; a type URL naming no message refused",
        Expect::Exchange {
            upstream: Some(Message {
                headers: &[(
                    "x-conf-results",
                    Want::Is("set=true,read=type.googleapis.com/google.protobuf.StringValue:0a0568656c6c6f,bad=false"),
                )],
                body: BODY,
            }),
            client: ok(body(BODY)),
            logs: &["metadata_set_typed of `envoyx.conformance.typed` refused: the type URL `no-slash` names no message"],
        },
    )
    .unsupported(TYPED_METADATA_SET_UNSUPPORTED)
    .since(2)
    .go(),
    Case::new(
        "shared",
        "data and functions shared across the process's modules (ABI 1.2 shared_data_get/set, \
         function_register/get): a key of the stream's own set where absent and not again, read \
         back, refused over a stale version, updated, removed; a key with a space refused; a \
         function registered by name found and called",
        Expect::Exchange {
            upstream: Some(Message {
                headers: &[(
                    "x-conf-results",
                    Want::Is(
                        "absent=true,first=ok,again=changed,read=one,stale=changed,update=two+,\
                         removed=true,bad=refused,function=42",
                    ),
                )],
                body: BODY,
            }),
            client: ok(body(BODY)),
            logs: &[],
        },
    )
    .since(2)
    .go(),
    Case::new(
        "timing",
        "stream timing (ABI 1.2 timing_get): the request's start as wall-clock time, read in the \
         response headers hook, is within a minute of now; an unknown timing id is refused; the \
         request went to one upstream host (upstream_hosts_attempted)",
        Expect::Exchange {
            upstream: Some(body(BODY)),
            client: ok(Message {
                headers: &[("x-conf-results", Want::Is("start=plausible,unknown=false,hosts=1"))],
                body: BODY,
            }),
            logs: &["timing_get of timing 99 refused: no such timing: the ids are 0 to 18"],
        },
    )
    .unsupported(TIMING_PER_ENVOY_VERSION)
    .since(2)
    .go(),
    Case::new(
        "secret",
        "a generic secret the configuration declares (ABI 1.2 secret_get) is read; one it does not \
         declare is refused, naming those it does",
        Expect::Exchange {
            upstream: Some(Message {
                headers: &[("x-conf-secret", Want::Is("declared=s3cret-value,undeclared=refused"))],
                body: BODY,
            }),
            client: ok(body(BODY)),
            logs: &["secret_get of `envoyx.conformance.other` refused: the filter configuration declares no \
                     secret of that name (its `secrets`: `envoyx.conformance.secret`)"],
        },
    )
    .unsupported(SECRETS_PER_ENVOY_VERSION)
    .since(2)
    .go(),
    Case::new(
        "metadata-struct",
        "a flat JSON object merged into a namespace of the dynamic metadata (ABI 1.2 \
         metadata_set_struct) and read back key by key; text that is no JSON object refused",
        Expect::Exchange {
            upstream: Some(Message {
                headers: &[("x-conf-struct", Want::Is("set=true,user=ada,score=0.5,checked=true,bad=false"))],
                body: BODY,
            }),
            client: ok(body(BODY)),
            logs: &["metadata_set_struct of `envoyx.conformance.struct` refused: not a JSON object"],
        },
    )
    .since(2)
    .go(),
    Case::new(
        "filter-state-typed",
        "typed filter state (ABI 1.2): the serialized form of a string and of an object the proxy \
         preset, an object made by Envoy's factory of a name (envoy.tcp_proxy.cluster) and read \
         back, a name with no factory refused, a taken key refused",
        Expect::Exchange {
            upstream: Some(Message {
                headers: &[(
                    "x-conf-typed",
                    Want::Is("string=set-by-the-proxy,object=preset.example,unknown=false,set=true,read=c1,taken=false"),
                )],
                body: BODY,
            }),
            client: ok(body(BODY)),
            logs: &["filter_state_set_typed of `envoyx.no.such.factory` refused: the proxy has no filter-state \
                     object factory of that name, or its factory refused the value"],
        },
    )
    .since(2)
    .go(),
    Case::new(
        "metadata-list",
        "listing metadata (ABI 1.2): the keys the module set in a namespace of the dynamic metadata, \
         that namespace among the namespaces, an absent namespace empty, an unknown source refused",
        Expect::Exchange {
            upstream: Some(Message {
                headers: &[("x-conf-list", Want::Is("keys=a,b,listed=true,absent=0,unknown=0"))],
                body: BODY,
            }),
            client: ok(body(BODY)),
            logs: &["metadata_namespaces of source 9 refused: unknown metadata source"],
        },
    )
    .since(2)
    .go(),
    Case::new(
        "trailers-add",
        "trailers added to a request and a response that had none (ABI 1.2 trailers_add), each in \
         its body hook with the chunk that ends it; refused in the request headers hook",
        Expect::Exchange {
            upstream: Some(body(BODY)),
            client: Client::WithTrailers {
                status: 200,
                message: Message { headers: &[("x-conf-results", Want::Is("early=false,request=request"))], body: BODY },
                trailers: &[("x-conf-added", Want::Is("response"))],
            },
            logs: &["request_headers hook: trailers_add on RequestTrailers refused: trailers can be added only in \
                     the request_body hook whose chunk ends the request"],
        },
    )
    .unsupported(STOCK_ENVOY_ADDS_NO_TRAILERS)
    .since(2)
    .go(),
    Case::new(
        "trailers-add-stock",
        "stock Envoy refuses trailers_add (ABI 1.2) with the reason, and the stream goes on without \
         trailers",
        Expect::Exchange {
            upstream: Some(body(BODY)),
            client: Client::WithTrailers {
                status: 200,
                message: Message { headers: &[("x-conf-results", Want::Is("request=none"))], body: BODY },
                trailers: &[("x-conf-added", Want::Absent)],
            },
            logs: &["request_body hook: trailers_add on RequestTrailers refused: this proxy cannot add trailers \
                     to a direction that had none (stock Envoy's dynamic-modules filter offers no way to: \
                     envoyproxy/envoy#42559"],
        },
    )
    .unsupported(TEST_HOSTS_ADD_TRAILERS)
    .since(2)
    .go(),
    Case::new(
        "local-reply-seen",
        "a local reply of the proxy's router (no healthy host: 503 no_healthy_upstream) reaches the \
         module's local-reply hook (ABI 1.2), then passes its response hooks, where it is changed \
         to 502",
        Expect::Exchange {
            upstream: None,
            client: Client::Response {
                status: 502,
                message: Message {
                    headers: &[("x-conf-local-reply", Want::Is("503 no_healthy_upstream false"))],
                    body: b"no healthy upstream",
                },
            },
            logs: &[],
        },
    )
    .request(Request { path: crate::NO_UPSTREAM, ..PLAIN })
    .since(2)
    .go(),
    Case::new(
        "local-reply-reset",
        "the module's local-reply hook (ABI 1.2) has the stream reset instead of the router's 503",
        Expect::Exchange { upstream: None, client: Client::Reset, logs: &[] },
    )
    .request(Request { path: crate::NO_UPSTREAM, ..PLAIN })
    .since(2),
    Case::new(
        "recreate",
        "a request whose headers end it is started over (ABI 1.2 recreate_stream): the module's \
         new stream sees the mark the first one set, and the upstream gets one request",
        Expect::Exchange {
            upstream: Some(Message {
                headers: &[("x-conf-recreated", Want::Is("1")), ("x-conf-recreate", Want::Absent)],
                body: b"",
            }),
            client: ok(body(b"")),
            logs: &[],
        },
    )
    .request(Request { body: &[], ..PLAIN })
    .since(2)
    .go(),
    Case::new(
        "recreate-refused",
        "a request with a body cannot start over (nothing to replay): refused (false, logged), and \
         the request goes on",
        Expect::Exchange {
            upstream: Some(Message { headers: &[("x-conf-recreate", Want::Is("false"))], body: BODY }),
            client: ok(body(BODY)),
            logs: &["recreate_stream refused: the request has not ended"],
        },
    )
    .since(2),
    Case::new(
        "span-untraced",
        "without a tracer (no host of the suite has one) every span call of ABI 1.2 does nothing: no \
         child, no tag, no baggage, no trace id; an unnamed child and finishing the active span are \
         refused (logged)",
        Expect::Exchange {
            upstream: Some(Message {
                headers: &[(
                    "x-conf-results",
                    Want::Is("child=false,tag=false,baggage=false,trace=false,unnamed=false,finish-active=false"),
                )],
                body: BODY,
            }),
            client: ok(body(BODY)),
            logs: &["span_finish of span 0 refused: the active span is the proxy's to finish"],
        },
    )
    .since(2)
    .go(),
    Case::new(
        "attributes-request-line",
        "the request line's attributes (ABI 1.2: request.method, request.path, request.scheme) on \
         every host and Envoy version",
        forwarded_with(&[("x-conf-results", Want::Is("method=POST,path=/,scheme=http"))]),
    )
    .since(2),
    Case::new(
        "buffer-limit",
        "the stream's buffer limit (ABI 1.2): read, set to 64 KiB and read back; 0 and 2 GiB \
         refused",
        Expect::Exchange {
            upstream: Some(Message {
                headers: &[("x-conf-limit", Want::Is("known=true,set=true,after=65536,zero=false,huge=false"))],
                body: BODY,
            }),
            client: ok(body(BODY)),
            logs: &["set_buffer_limit (0 bytes) refused: a limit is 1 to 1073741824 bytes"],
        },
    )
    .since(2)
    .go(),
    Case::new(
        "refresh-cluster",
        "refresh_route_cluster while the request headers are held (ABI 1.2): accepted, and the \
         request goes on",
        forwarded_with(&[("x-conf-refreshed", Want::Is("true"))]),
    )
    .since(2)
    .go(),
    Case::new(
        "filter-state-has",
        "filter_state_has (ABI 1.2): true for a string and an object the proxy preset, false for a \
         key nobody set, and an empty key refused (false, logged)",
        Expect::Exchange {
            upstream: Some(Message {
                headers: &[("x-conf-has", Want::Is("string=true,object=true,missing=false,bad=false"))],
                body: BODY,
            }),
            client: ok(body(BODY)),
            logs: &["filter_state_has of `` refused"],
        },
    )
    .since(2)
    .go(),
    Case::new(
        "workers",
        "the proxy's worker count and the stream's worker index (ABI 1.2): the index lies below \
         the count, which is at least 1",
        forwarded_with(&[("x-conf-workers", Want::Is("in-range=true"))]),
    )
    .since(2)
    .go(),
    Case::new(
        "log-at",
        "a line logged with a source location (ABI 1.2 log_at): shown as `[file:line] message` \
         (Envoy 1.40 in its own source field, the others as a prefix), the file written as one line",
        Expect::Exchange {
            upstream: Some(Message { headers: &[("content-length", Want::Is("9"))], body: BODY }),
            client: ok(body(BODY)),
            logs: &[
                "[conformance/located.rs:42] conformance: a located line",
                "[conformance/two\\nlines.rs:7] conformance: a file name with a line break",
            ],
        },
    )
    .since(2)
    .go(),
    Case::new(
        "reset-response",
        "a reset from the response body hook: the client gets no complete response",
        Expect::Exchange { upstream: Some(body(BODY)), client: Client::Reset, logs: &[] },
    ),
    Case::new(
        "async-request",
        "a request held by the filter goes on when another thread continues it (twice: the second \
         is ignored)",
        Expect::Exchange {
            upstream: Some(Message {
                headers: &[("x-conf-async", Want::Is("request")), ("content-length", Want::Is("9"))],
                body: BODY,
            }),
            client: ok(body(BODY)),
            logs: &[],
        },
    ),
    Case::new(
        "async-response",
        "a response held by the filter goes on when another thread continues it",
        Expect::Exchange {
            upstream: Some(body(BODY)),
            client: ok(Message { headers: &[("x-conf-async", Want::Is("response"))], body: BODY }),
            logs: &[],
        },
    ),
    Case::new(
        "continue-after-end",
        "continues from another thread after the stream ended are refused and harmless",
        Expect::Exchange {
            upstream: Some(body(BODY)),
            client: ok(body(BODY)),
            logs: &["conformance: continue after the stream ended: request false, response false"],
        },
    ),
    Case::new(
        "schedule-after-end",
        "an event scheduled from another thread after the stream ended is refused and harmless",
        Expect::Exchange {
            upstream: Some(body(BODY)),
            client: ok(body(BODY)),
            logs: &["conformance: schedule after the stream ended: false"],
        },
    )
    .since(1),
    Case::new(
        "scheduled-continue",
        "after async work the filter decides in its scheduled hook: sets a request header and \
         continues (a second continue, and one of a direction not stopped, return false; so does a \
         continue_stream inside an event hook)",
        Expect::Exchange {
            upstream: Some(Message {
                headers: &[("x-conf-scheduled", Want::Is("request")), ("content-length", Want::Is("9"))],
                body: BODY,
            }),
            client: ok(Message {
                headers: &[(
                    "x-conf-results",
                    Want::Is("in_hook=false,first=true,second=false,response=false"),
                )],
                body: BODY,
            }),
            logs: &["continue_stream refused: it only works in the scheduled and callout-done hooks"],
        },
    )
    .since(1),
    Case::new(
        "scheduled-reply",
        "after async work the filter answers 401 from its scheduled hook; nothing reaches the upstream",
        Expect::Exchange {
            upstream: None,
            client: Client::Response {
                status: 401,
                message: Message {
                    headers: &[("x-conf-reply", Want::Is("scheduled"))],
                    body: b"unauthorized\n",
                },
            },
            logs: &[],
        },
    )
    .since(1),
    Case::new(
        "scheduled-body",
        "the scheduled hook grows the held body and continues: content-length is set to the new length",
        Expect::Exchange {
            upstream: Some(Message {
                headers: &[("x-conf-appended", Want::Is("true")), ("content-length", Want::Is("15"))],
                body: b"abcdefghi+async",
            }),
            client: ok(body(b"abcdefghi+async")),
            logs: &[],
        },
    )
    .since(1),
    Case::new(
        "scheduled-reset",
        "the scheduled hook resets the held request: the client sees a reset, the upstream nothing",
        Expect::Exchange { upstream: None, client: Client::Reset, logs: &[] },
    )
    .since(1),
    Case::new(
        "scheduled-response",
        "the scheduled hook sets a header on the held response and continues it",
        Expect::Exchange {
            upstream: Some(body(BODY)),
            client: ok(Message { headers: &[("x-conf-scheduled", Want::Is("response"))], body: BODY }),
            logs: &[],
        },
    )
    .since(1),
    Case::new(
        "callout",
        "an HTTP callout to a cluster at the end of the held request: the answer (status, a header, \
         the body) reaches the callout-done hook, which sets a header and continues",
        CALLOUT_ANSWERED,
    )
    .since(1),
    Case::new(
        "callout-unhealthy",
        "a callout the proxy answers inside the call that starts it (a cluster without healthy \
         hosts: Envoy's router answers 503 at once) reaches the callout-done hook right after the \
         module's call, as the answer it is, not as a failure",
        forwarded_with(&[
            ("x-conf-callout", Want::Is("503 - no healthy upstream")),
            ("x-conf-callout-ids", Want::Is("1")),
        ]),
    )
    .since(2)
    .unsupported(ENVOY_DROPS_INLINE_ANSWERS),
    Case::new(
        "callout-stream-unhealthy",
        "a streaming callout the proxy answers whole inside the call that starts it (a cluster \
         without healthy hosts) reaches the module right after that call, as its events in order",
        forwarded_with(&[("x-conf-callout-stream", Want::Is("503 - no healthy upstream headers,data,complete"))]),
    )
    .since(2)
    .unsupported(ENVOY_DROPS_INLINE_ANSWERS),
    Case::new(
        "callout-host",
        "a callout naming its authority in HTTP/1's `host` reaches the cluster as `:authority` on \
         every host (the core turns one into the other), and is answered like any other",
        CALLOUT_ANSWERED,
    )
    .since(1),
    Case::new(
        "callout-two",
        "two callouts in flight at once, both answered; the request goes on after the second",
        Expect::Exchange {
            upstream: Some(Message {
                headers: &[
                    ("x-conf-callout", Want::Values(&["200 allow ping", "200 allow ping"])),
                    ("x-conf-callout-ids", Want::Is("1,2")),
                ],
                body: BODY,
            }),
            client: ok(body(BODY)),
            logs: &[],
        },
    )
    .since(1),
    Case::new(
        "callout-no-cluster",
        "a callout to a cluster the proxy does not have fails later (not inside the call), and the \
         module answers 503 from its callout-done hook",
        Expect::Exchange {
            upstream: None,
            client: Client::Response {
                status: 503,
                message: Message {
                    headers: &[("x-conf-callout-error", Want::Is("no_cluster"))],
                    body: b"callout failed: no_cluster\n",
                },
            },
            logs: &[],
        },
    )
    .since(1),
    Case::new(
        "callout-refused",
        "a malformed callout (no :path) is refused at once with a warning; the stream goes on",
        Expect::Exchange {
            upstream: Some(Message { headers: &[("x-conf-callout-refused", Want::Is("true"))], body: BODY }),
            client: ok(body(BODY)),
            logs: &["http_callout to `callout` refused: a callout needs :method, :path and :authority (or host) headers"],
        },
    )
    .since(1),
    Case::new(
        "callout-stream",
        "a streaming callout to a cluster: the held request's body chunks go to it as they arrive, \
         its response arrives as events (headers, data, complete) in order, and the last one sets a \
         header and continues",
        Expect::Exchange {
            upstream: Some(Message {
                headers: &[("x-conf-callout-stream", Want::Is("200 allow abcdefghi headers,data,complete"))],
                body: BODY,
            }),
            client: ok(body(BODY)),
            logs: &[],
        },
    )
    .since(1),
    Case::new(
        "callout-stream-no-cluster",
        "a streaming callout to a cluster the proxy does not have fails later, as its only event, \
         and the module answers 503",
        Expect::Exchange {
            upstream: None,
            client: Client::Response {
                status: 503,
                message: Message {
                    headers: &[("x-conf-callout-error", Want::Is("no_cluster"))],
                    body: b"callout stream failed: no_cluster\n",
                },
            },
            logs: &[],
        },
    )
    .since(1),
    Case::new(
        "callout-stream-reset",
        "a streaming callout reset by the module at once: no news of it reaches the module, and \
         sending on it (or resetting it again) is refused",
        Expect::Exchange {
            upstream: Some(body(BODY)),
            client: ok(Message {
                headers: &[("x-conf-results", Want::Is("started=true,reset=true,send=false,reset-again=false"))],
                body: BODY,
            }),
            logs: &["callout_stream_send on callout 1 refused: it is not a streaming callout that is still open"],
        },
    )
    .since(1),
    Case::new(
        "grpc-unary",
        "two gRPC unary calls through the SDK over streaming callouts to the echo cluster: the framed \
         message comes back with grpc-status 0 in the trailers, and with grpc-status 5 and a \
         percent-encoded grpc-message, which the SDK turns into NOT_FOUND",
        Expect::Exchange {
            upstream: Some(Message {
                headers: &[("x-conf-grpc", Want::Is("error=NOT_FOUND: not here,ok=ping"))],
                body: BODY,
            }),
            client: ok(body(BODY)),
            logs: &[],
        },
    )
    .since(2)
    .go(),
    Case::new(
        "metrics",
        "metrics defined at config creation are recorded from the stream (a gauge up and down, a \
         histogram value); a record with too few label values, or a control byte in one, is refused",
        Expect::Exchange {
            upstream: Some(body(BODY)),
            client: ok(Message {
                headers: &[("x-conf-results", Want::Is("in_flight=true,body_bytes=true,too_few=false,control=false"))],
                body: BODY,
            }),
            logs: &["metric_record of `requests` refused: it has 1 label(s) (case), 0 value(s) given"],
        },
    )
    .since(1),
    Case::new(
        "stream-info",
        "dynamic metadata set and read back (string, number, bool; a NaN refused), filter state set \
         once and read back, the route cache cleared while the request headers are held (not after), \
         an upstream host that is not an IP address refused",
        Expect::Exchange {
            upstream: Some(body(BODY)),
            client: ok(Message {
                headers: &[(
                    "x-conf-results",
                    Want::Is(
                        "set=true,set=true,set=true,get=allow,number=0.5,bool=true,wrong-kind=none,nan=false,\
                         state=true,state-again=false,state-get=ok,route=true,bad-host=false,late-route=false",
                    ),
                )],
                body: BODY,
            }),
            logs: &["metadata_set of `bad` refused: the number NaN is not finite"],
        },
    )
    .since(1),
    Case::new(
        "filter-state-taken",
        "filter state another filter or the proxy set (a string, and an object that is not one) is \
         never set over: refused, its value unchanged; a key of the filter's own is set once",
        Expect::Exchange {
            upstream: Some(body(BODY)),
            client: ok(Message {
                headers: &[(
                    "x-conf-results",
                    Want::Is("preset=false,object=false,value=set-by-the-proxy,mine=true,mine-again=false"),
                )],
                body: BODY,
            }),
            logs: &["filter_state_set of `envoyx.conformance.preset` refused: the stream's filter state already \
                 has it, set by another filter or by the proxy"],
        },
    )
    .since(1),
    Case::new(
        "text-header-name",
        "a header name with any control byte is refused, on set and on add, and the refusal shows \
         the byte escaped",
        Expect::Exchange {
            upstream: Some(Message { headers: &[("x-conf-text", Want::Absent)], body: BODY }),
            client: ok(Message { headers: &[("x-conf-results", Want::Is("set=33/33,add=33/33"))], body: BODY }),
            logs: &["header_set of `x-\\x00z` on RequestHeaders refused: byte 0x00 is not allowed in a header name"],
        },
    )
    .since(1),
    Case::new(
        "text-header-value",
        "a header value with any control byte but tab is refused; tab is allowed",
        Expect::Exchange {
            upstream: Some(Message { headers: &[("x-conf-text", Want::Is("a\tz"))], body: BODY }),
            client: ok(Message { headers: &[("x-conf-results", Want::Is("set=32/32,tab=true"))], body: BODY }),
            logs: &["header_set of `x-conf-text` on RequestHeaders refused: byte 0x00 is not allowed in a header value"],
        },
    )
    .since(1),
    Case::new(
        "text-metadata",
        "a metadata namespace, key or string value with any control character (C0, DEL, C1) or \
         invalid UTF-8 is refused; a clean one is set",
        Expect::Exchange {
            upstream: Some(body(BODY)),
            client: ok(Message {
                headers: &[("x-conf-results", Want::Is("ns=68/68,key=68/68,value=68/68,forged=false,good=true"))],
                body: BODY,
            }),
            logs: &["metadata_set of `value` refused: the namespace holds the control character \\x00 at offset 1"],
        },
    )
    .since(1),
    Case::new(
        "text-filter-state",
        "a filter-state key or value with any control character or invalid UTF-8 is refused; a clean \
         one is set",
        Expect::Exchange {
            upstream: Some(body(BODY)),
            client: ok(Message {
                headers: &[("x-conf-results", Want::Is("key=68/68,value=68/68,forged=false,good=true"))],
                body: BODY,
            }),
            logs: &["filter_state_set of `a\\x00z` refused: the key holds the control character \\x00 at offset 1"],
        },
    )
    .since(1),
    Case::new(
        "text-span-tag",
        "a span tag key or value with any control character or invalid UTF-8 is refused, span or not",
        Expect::Exchange {
            upstream: Some(body(BODY)),
            client: ok(Message { headers: &[("x-conf-results", Want::Is("key=68/68,value=68/68"))], body: BODY }),
            logs: &["span_set_tag of `a\\x00z` refused: the key holds the control character \\x00 at offset 1"],
        },
    )
    .since(1),
    Case::new(
        "text-metric-label",
        "a metric label value with any control character or invalid UTF-8 is refused; a clean one \
         is recorded",
        Expect::Exchange {
            upstream: Some(body(BODY)),
            client: ok(Message { headers: &[("x-conf-results", Want::Is("label=68/68,good=true"))], body: BODY }),
            logs: &["metric_record of `requests` refused: label value `a\\x00z`: the label value holds the control \
                 character \\x00 at offset 1"],
        },
    )
    .since(1),
    Case::new(
        "text-reply-details",
        "local-reply details with any control character, whitespace or invalid UTF-8 are refused \
         (no reply sent); a reply with clean details goes out",
        Expect::Exchange {
            upstream: None,
            client: Client::Response {
                status: 400,
                message: Message {
                    headers: &[("x-conf-results", Want::Is("details=68/68,good=true"))],
                    body: b"details checked\n",
                },
            },
            logs: &["send_local_reply (status 400) refused: byte 0x00 is not allowed in local reply details"],
        },
    )
    .since(1),
    Case::new(
        "text-log",
        "a log message is never refused: every control character and bad byte in it is escaped, so \
         it stays one line",
        Expect::Exchange {
            upstream: Some(body(BODY)),
            client: ok(Message { headers: &[("x-conf-results", Want::Is("logged=true"))], body: BODY }),
            logs: &[
                "conformance text-log 0: <a\\x00z>",
                "conformance text-log 10: <a\\nz>",
                "conformance text-log 13: <a\\rz>",
                "conformance text-log 33: <a\\u{0080}z>",
                "conformance text-log 65: <a\\xffz>",
                "conformance text-log 67: <a\\xed\\xa0\\x80z>",
            ],
        },
    )
    .since(1),
    Case::new(
        "attributes",
        "the connection's attributes at the request headers: addresses consistent with their ports, \
         the protocol, a request id, the connection id; no TLS, no response code yet; the response code \
         at the response headers",
        Expect::Exchange {
            upstream: Some(body(BODY)),
            client: ok(Message {
                headers: &[(
                    "x-conf-results",
                    Want::Is(
                        "source=ok,destination=ok,protocol=ok,request-id=ok,connection=ok,tls=absent,\
                         code-before=absent,code=200",
                    ),
                )],
                body: BODY,
            }),
            logs: &[],
        },
    )
    .since(1),
    Case::new(
        "span-tag",
        "a span tag without a tracer configured: no span, the call returns false",
        Expect::Exchange {
            upstream: Some(body(BODY)),
            client: ok(Message { headers: &[("x-conf-results", Want::Is("tag=false"))], body: BODY }),
            logs: &[],
        },
    )
    .since(1),
    Case::new(
        "route-config",
        "the per-route config of the request's route reaches the module, parsed once by it",
        Expect::Exchange {
            upstream: Some(Message { headers: &[("x-conf-route", Want::Is("role=admin"))], body: BODY }),
            client: ok(body(BODY)),
            logs: &[],
        },
    )
    .route("role=admin")
    .since(1),
    Case::new(
        "route-config-none",
        "a route without a per-route config: the module sees none",
        Expect::Exchange {
            upstream: Some(Message { headers: &[("x-conf-route", Want::Is("none"))], body: BODY }),
            client: ok(body(BODY)),
            logs: &[],
        },
    )
    .since(1),
    Case::new(
        "panic-new-filter",
        "a panic making the filter's stream state: 500 saying so",
        Expect::Exchange {
            upstream: None,
            client: Client::Response {
                status: 500,
                message: body(b"EnvoyX module failed to create its stream state\n"),
            },
            logs: &["the stream_new hook failed: panicked in ", "conformance: boom in new_filter"],
        },
    )
    .config("panic=new_filter")
    .go()
    .older_logs(&["envoyx module panicked in FilterConfig::new_filter: conformance: boom in new_filter"]),
    Case::new(
        "panic-request-headers",
        "a panic in the request headers hook: 500",
        panic_500(&["the request_headers hook failed: panicked in ", "conformance: boom in request_headers"]),
    )
    .config("panic=request_headers")
    .go()
    .older_logs(&["envoyx module panicked in on_request_headers: conformance: boom in request_headers"]),
    Case::new(
        "panic-request-body",
        "a panic in the request body hook: 500",
        panic_500(&["the request_body hook failed: panicked in ", "conformance: boom in request_body"]),
    )
    .config("panic=request_body")
    .go()
    .older_logs(&["envoyx module panicked in on_request_body: conformance: boom in request_body"]),
    Case::new(
        "panic-request-trailers",
        "a panic in the request trailers hook: 500",
        panic_500(&["the request_trailers hook failed: panicked in ", "conformance: boom in request_trailers"]),
    )
    .config("panic=request_trailers")
    .go()
    .older_logs(&["envoyx module panicked in on_request_trailers: conformance: boom in request_trailers"])
    .request(WITH_TRAILERS),
    Case::new(
        "panic-response-headers",
        "a panic in the response headers hook: the response is reset",
        panic_reset(&["the response_headers hook failed: panicked in ", "conformance: boom in response_headers"]),
    )
    .config("panic=response_headers")
    .go()
    .older_logs(&["envoyx module panicked in on_response_headers: conformance: boom in response_headers"]),
    Case::new(
        "panic-response-body",
        "a panic in the response body hook: the response is reset",
        panic_reset(&["the response_body hook failed: panicked in ", "conformance: boom in response_body"]),
    )
    .config("panic=response_body")
    .go()
    .older_logs(&["envoyx module panicked in on_response_body: conformance: boom in response_body"]),
    Case::new(
        "panic-response-trailers",
        "a panic in the response trailers hook: the response is reset",
        panic_reset(&["the response_trailers hook failed: panicked in ", "conformance: boom in response_trailers"]),
    )
    .config("panic=response_trailers")
    .go()
    .older_logs(&["envoyx module panicked in on_response_trailers: conformance: boom in response_trailers"])
    .request(WANTS_TRAILERS),
    Case::new(
        "panic-scheduled",
        "a panic in the scheduled hook while the request is held: 500",
        panic_500(&["the scheduled hook failed: panicked in ", "conformance: boom in scheduled"]),
    )
    .since(1)
    .config("panic=scheduled")
    .go()
    .older_logs(&["envoyx module panicked in on_scheduled: conformance: boom in scheduled"]),
    Case::new(
        "panic-stream-complete",
        "a panic in the complete hook is contained: the exchange is intact",
        Expect::Exchange {
            upstream: Some(body(BODY)),
            client: ok(body(BODY)),
            logs: &["the stream_complete hook failed: panicked in ", "conformance: boom in stream_complete"],
        },
    )
    .config("panic=stream_complete")
    .go()
    .older_logs(&["envoyx module panicked in on_stream_complete: conformance: boom in stream_complete"]),
    Case::new(
        "config-rejected",
        "a filter config the module refuses is an error naming the module's reason",
        Expect::Rejected(&["conformance: filter config `reject` is refused (use \"\" or panic=<hook>)"]),
    )
    .config("reject")
    .go(),
    Case::new(
        "config-panics",
        "a panic making the filter config is a refusal naming the panic",
        Expect::Rejected(&["panicked", "conformance: boom in config_new"]),
    )
    .config("panic=config_new")
    .go(),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_names_are_unique_and_hosts_named_once() {
        let mut names: Vec<_> = CASES.iter().map(|c| c.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), CASES.len());
        for case in CASES {
            let kinds: Vec<HostKind> = case.unsupported.iter().map(|(k, _)| *k).collect();
            for (i, kind) in kinds.iter().enumerate() {
                assert!(!kinds[i + 1..].contains(kind), "{}: {kind:?} named twice", case.name);
            }
        }
    }
}
