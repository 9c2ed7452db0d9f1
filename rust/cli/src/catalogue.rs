//! The example modules of `rust/examples`, the one list both demos use: which package, the
//! filter_config it gets, the path prefix `envoyx run` serves it under with the curl lines to try
//! there, and the request `envoyx demo` drives through it on the in-process test host.

use crate::demo::{self, InProcess};

/// The EnvoyX checkout whose examples the demos build: the one this `envoyx` was built in. An
/// `envoyx` installed from a registry has none, and says what to run instead.
pub fn examples_checkout() -> Result<std::path::PathBuf, String> {
    envoyx_build::checkout().ok_or_else(|| {
        "the demo builds the example modules of an EnvoyX checkout, and this envoyx was installed \
         from a registry; serve your own module with `envoyx run --module PATH` (`envoyx new NAME` \
         creates one), or run the demo from a clone of the EnvoyX repository"
            .to_string()
    })
}

/// One example module.
pub struct Example {
    /// The cargo package that builds its shared object.
    pub package: &'static str,
    /// Its path prefix under `envoyx run`; also names its filter.
    pub prefix: &'static str,
    pub filter_config: &'static str,
    /// What it does, as `envoyx run` says it.
    pub what: &'static str,
    /// The curl lines `envoyx run` prints for it.
    pub tries: &'static [Try],
    /// Further prefixes its filter runs on under `envoyx run` (send-response answers
    /// `/fail-response...` on the response path).
    pub also: &'static [&'static str],
    /// `envoyx demo`: one request on the in-process test host.
    pub demo: InProcess,
}

impl Example {
    /// The name of its filter in `envoyx run`'s listener chain.
    pub fn filter_name(&self) -> String {
        format!("envoyx{}", self.prefix.replace('/', "."))
    }

    /// The EnvoyX config name it gets under `envoyx run` (its log lines say it): the prefix
    /// without the slash.
    pub fn config_name(&self) -> &'static str {
        self.prefix.trim_start_matches('/')
    }
}

/// One try of an example under `envoyx run`: the curl arguments after the URL and what comes back.
pub struct Try {
    /// `-s` when the body tells, `-si` when the headers do.
    pub flags: &'static str,
    pub path: &'static str,
    /// curl options after the URL, shell-quoted.
    pub args: &'static str,
    /// What curl shows.
    pub expect: &'static str,
}

impl Try {
    /// The curl command line, against `base` (e.g. `http://127.0.0.1:10000`).
    pub fn curl(&self, base: &str) -> String {
        format!("curl {} {base}{}{}", self.flags, self.path, self.args)
    }
}

/// Every example, in the order both demos show them.
pub const EXAMPLES: &[Example] = &[
    Example {
        package: "envoyx-example-helloworld",
        prefix: "/helloworld",
        filter_config: "helloworld",
        what: "logs every stream event (the lines appear below, in this terminal), changes nothing",
        tries: &[Try {
            flags: "-s",
            path: "/helloworld",
            args: " --data-binary 'hello'",
            expect: "hello   (the body, passed through; helloworld[helloworld]: ... lines below)",
        }],
        also: &[],
        demo: demo::HELLOWORLD,
    },
    Example {
        package: "envoyx-example-headers",
        prefix: "/headers",
        filter_config: "",
        what: "sets, adds and removes headers both ways",
        tries: &[
            Try {
                flags: "-si",
                path: "/headers",
                args: " -H 'x-envoyx-echo: one' -H 'x-envoyx-echo: two'",
                expect: "x-envoyx-response: ok, x-envoyx-echo: one, x-envoyx-echo: two (set on the response)",
            },
            Try {
                flags: "-si",
                path: "/headers",
                args: " -H 'x-envoyx-multi: first' -H 'x-envoyx-remove-me: 1'",
                expect: "x-upstream-saw-x-envoyx-seen: true, x-upstream-saw-x-envoyx-multi: first and \
                         added-by-envoyx, no x-upstream-saw-x-envoyx-remove-me (the upstream's view)",
            },
        ],
        also: &[],
        demo: demo::HEADERS,
    },
    Example {
        package: "envoyx-example-body-rewrite",
        prefix: "/body-rewrite",
        filter_config: "both",
        what: "upper-cases bodies in place in Envoy's buffers, copying nothing",
        tries: &[Try {
            flags: "-s",
            path: "/body-rewrite",
            args: " --data-binary 'hello, world'",
            expect: "HELLO, WORLD",
        }],
        also: &[],
        demo: demo::BODY_REWRITE,
    },
    Example {
        package: "envoyx-example-body-replace",
        prefix: "/body-replace",
        filter_config: "",
        what: "prepends, appends and replaces in the buffered request body",
        tries: &[Try {
            flags: "-s",
            path: "/body-replace",
            args: " --data-binary 'hello, cruel world' -H 'x-envoyx-prepend: <<' -H 'x-envoyx-append: >>' \
                   -H 'x-envoyx-replace: cruel=kind'",
            expect: "<<hello, kind world>>",
        }],
        also: &[],
        demo: demo::BODY_REPLACE,
    },
    Example {
        package: "envoyx-example-send-response",
        prefix: "/send-response",
        filter_config: "",
        what: "answers 401 itself without an authorization header; 500 on the response path",
        tries: &[
            Try {
                flags: "-si",
                path: "/send-response",
                args: "",
                expect: "401 Unauthorized, www-authenticate: Bearer, body unauthorized",
            },
            Try {
                flags: "-si",
                path: "/send-response",
                args: " -H 'authorization: Bearer t'",
                expect: "200 OK (the upstream's answer)",
            },
            Try {
                flags: "-si",
                path: "/fail-response",
                args: " -H 'authorization: Bearer t'",
                expect: "500 Internal Server Error, body failed on response path",
            },
        ],
        also: &["/fail-response"],
        demo: demo::SEND_RESPONSE,
    },
    Example {
        package: "envoyx-example-delay",
        prefix: "/delay",
        filter_config: "250",
        what: "holds the request 250 ms and resumes it from another thread",
        tries: &[Try {
            flags: "-si",
            path: "/delay",
            args: "",
            expect: "after ~250 ms: x-envoyx-delayed-ms: 250 (or a little more)",
        }],
        also: &[],
        demo: demo::DELAY,
    },
    Example {
        package: "envoyx-example-json-validate",
        prefix: "/json-validate",
        filter_config: "user",
        what: "400 unless the body is a JSON object with a `user` field",
        tries: &[
            Try {
                flags: "-s",
                path: "/json-validate",
                args: " --data '{\"user\": \"ann\"}'",
                expect: "{\"user\": \"ann\"}   (valid: passed to the upstream, echoed)",
            },
            Try {
                flags: "-si",
                path: "/json-validate",
                args: " --data '{\"name\": \"ann\"}'",
                expect: "{\"error\":\"missing field \\\"user\\\"\"}   (400)",
            },
        ],
        also: &[],
        demo: demo::JSON_VALIDATE,
    },
    Example {
        package: "envoyx-example-auth",
        prefix: "/auth",
        filter_config: "cluster=auth timeout_ms=500",
        what: "asks the demo's auth service (cluster `auth`) about each request: 200 adds the \
               identity, 401/403 are answered by Envoy, no answer in time is a 503",
        tries: &[
            Try {
                flags: "-si",
                path: "/auth",
                args: " -H 'authorization: Bearer ann'",
                expect: "200 OK, x-upstream-saw-x-auth-user: ann (the identity the service returned)",
            },
            Try {
                flags: "-si",
                path: "/auth",
                args: "",
                expect: "401 Unauthorized, www-authenticate: Bearer",
            },
            Try {
                flags: "-si",
                path: "/auth",
                args: " -H 'authorization: Bearer slow-ann'",
                expect: "after 500 ms: 503, x-auth-error: status_504 (the service takes 2 s)",
            },
        ],
        also: &[],
        demo: demo::AUTH,
    },
    Example {
        package: "envoyx-example-grpc-check",
        prefix: "/grpc-check",
        filter_config: "cluster=grpc service=backend timeout_ms=500",
        what: "asks the demo's gRPC health service (cluster `grpc`, HTTP/2) whether `backend` (or the \
               service in x-check-service) is serving: a unary gRPC call; SERVING goes on, anything \
               else is a 503",
        tries: &[
            Try {
                flags: "-si",
                path: "/grpc-check",
                args: "",
                expect: "200 OK, x-upstream-saw-x-backend-health: serving",
            },
            Try {
                flags: "-si",
                path: "/grpc-check",
                args: " -H 'x-check-service: draining'",
                expect: "503, x-backend-health: not_serving",
            },
            Try {
                flags: "-si",
                path: "/grpc-check",
                args: " -H 'x-check-service: nobody'",
                expect: "503, x-grpc-error: NOT_FOUND (the service does not know it)",
            },
            Try {
                flags: "-si",
                path: "/grpc-check",
                args: " -H 'x-check-service: slow'",
                expect: "after 500 ms: 503, x-grpc-error: DEADLINE_EXCEEDED (the service takes 2 s)",
            },
        ],
        also: &[],
        demo: demo::GRPC_CHECK,
    },
    Example {
        package: "envoyx-example-observe",
        prefix: "/observe",
        filter_config: "",
        what: "counts requests by route and response class (envoyx.observe.requests in Envoy's /stats), \
               records latency, writes the client and its decision into dynamic metadata, re-routes \
               /v1/ to /v2/",
        tries: &[Try {
            flags: "-si",
            path: "/observe/v1/items",
            args: "",
            expect: "200 OK, x-upstream-saw-x-observe-rerouted-from: /observe/v1/items (the upstream got \
                     /observe/v2/items)",
        }],
        also: &[],
        demo: demo::OBSERVE,
    },
    Example {
        package: "envoyx-example-stream-response",
        prefix: "/stream-response",
        filter_config: "events=5,interval_ms=200",
        what: "answers itself, no upstream: server-sent events over time, pausing while the client \
               reads slowly, trailers at the end",
        tries: &[Try {
            flags: "-sN",
            path: "/stream-response",
            args: "",
            expect: "one event every 200 ms: id: 1 ... id: 5 (data: event N), then the response ends",
        }],
        also: &[],
        demo: demo::STREAM_RESPONSE,
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_prefix_and_one_package_per_example() {
        for names in [
            EXAMPLES.iter().map(|e| e.prefix).collect::<Vec<_>>(),
            EXAMPLES.iter().map(|e| e.package).collect(),
        ] {
            let mut unique = names.clone();
            unique.sort();
            unique.dedup();
            assert_eq!(unique.len(), names.len(), "{names:?}");
        }
    }

    #[test]
    fn every_example_of_rust_examples_is_in_the_catalogue() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples");
        let mut on_disk: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .filter(|path| path.join("Cargo.toml").is_file())
            .map(|path| format!("envoyx-example-{}", path.file_name().unwrap().to_string_lossy()))
            .collect();
        on_disk.sort();
        let mut listed: Vec<&str> = EXAMPLES.iter().map(|e| e.package).collect();
        listed.sort();
        assert_eq!(listed, on_disk);
    }

    /// README.md's curl block (section "The two commands") is what `envoyx run` prints with the
    /// default --listen: each try's curl line, then what comes back as a `#   ` comment.
    #[test]
    fn the_readme_shows_the_curl_lines_envoyx_run_prints() {
        let readme =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md")).unwrap();
        let block: Vec<&str> = readme
            .split_once("Command (a) prints these lines")
            .and_then(|(_, rest)| rest.split_once("```sh\n"))
            .and_then(|(_, rest)| rest.split_once("```"))
            .map(|(block, _)| block.lines().collect())
            .expect("README.md: no ```sh block after \"Command (a) prints these lines\"");
        let base = crate::run::client_base(crate::run::DEFAULT_LISTEN);
        let printed: Vec<String> = EXAMPLES
            .iter()
            .flat_map(|e| e.tries)
            .flat_map(|t| [t.curl(&base), format!("#   {}", t.expect)])
            .collect();
        for (i, (readme, printed)) in block.iter().zip(&printed).enumerate() {
            assert_eq!(readme, printed, "README.md curl block, line {}", i + 1);
        }
        assert_eq!(block.len(), printed.len(), "README.md curl block: number of lines");
    }
}
