//! An auth filter: asks an auth service, through an Envoy cluster, about every request.
//!
//! The request headers hook sends the request's `authorization` header to the service (an HTTP
//! callout: `GET /check` on the configured cluster, with a timeout) and holds the request. When
//! the answer comes:
//! - 200: the identity the service returned (`x-auth-user`) is added as the request header
//!   `x-auth-user`, and the request goes on; a route that requires a role the service did not
//!   list (`x-auth-roles`) gets 403;
//! - 401 or 403: answered locally with that status (`www-authenticate` passed on);
//! - anything else (a timeout is Envoy's 504), or no answer (no such cluster, reset): 503
//!   (`failure=closed`, the default) or the request goes on with `x-auth-skipped: <reason>`
//!   (`failure=open`).
//!
//! Filter config: space-separated `key=value`, each optional: `cluster=auth`, `timeout_ms=1000`,
//! `failure=closed|open`, `cluster_alias=<alias>`. Per-route config ([`AuthRoute`]): `off` (no
//! check on that route) or `role=<role>`.
//!
//! `cluster_alias`: the cluster is looked up on each request in the route's metadata, namespace
//! [`EXTENSION_BACKENDS`], key `<alias>` — where Envoy Gateway (v1.10+, `EnvoyExtensionPolicy`
//! `spec.backends`) names the cluster it made for the backend it calls `<alias>` (the name is
//! generated, per route and policy). A route without it gets no answer (`no_backend`).

use std::time::Duration;

use envoyx_sdk::{
    BodyStatus, CalloutError, CalloutId, CalloutResponse, Filter, FilterConfig, HeadersStatus,
    MetadataSource, RouteConfig, Stream,
};

/// What to do when the service gives no usable answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    /// Answer 503.
    Closed,
    /// Let the request through, marked `x-auth-skipped`.
    Open,
}

/// The route-metadata namespace where Envoy Gateway names the clusters of an
/// `EnvoyExtensionPolicy`'s `backends`, by alias.
pub const EXTENSION_BACKENDS: &str = "gateway.envoyproxy.io/extension-backends";

/// The filter configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthConfig {
    pub cluster: String,
    /// Look the cluster up per request in the route's metadata under this alias.
    pub cluster_alias: Option<String>,
    pub timeout: Duration,
    pub failure: Failure,
}

impl FilterConfig for AuthConfig {
    type Filter = Auth;

    fn new(name: &str, config: &[u8]) -> Result<Self, String> {
        let text = std::str::from_utf8(config).map_err(|_| format!("{name}: config is not UTF-8"))?;
        let mut parsed = AuthConfig {
            cluster: "auth".into(),
            cluster_alias: None,
            timeout: Duration::from_secs(1),
            failure: Failure::Closed,
        };
        for item in text.split_whitespace() {
            let (key, value) =
                item.split_once('=').ok_or_else(|| format!("{name}: `{item}` is not key=value"))?;
            match key {
                "cluster" if !value.is_empty() => parsed.cluster = value.to_string(),
                "cluster_alias" if !value.is_empty() => parsed.cluster_alias = Some(value.to_string()),
                "timeout_ms" => {
                    let ms: u64 =
                        value.parse().map_err(|_| format!("{name}: timeout_ms `{value}` is not a number"))?;
                    if ms == 0 {
                        return Err(format!("{name}: timeout_ms must be above 0"));
                    }
                    parsed.timeout = Duration::from_millis(ms);
                }
                "failure" => {
                    parsed.failure = match value {
                        "closed" => Failure::Closed,
                        "open" => Failure::Open,
                        _ => {
                            return Err(format!("{name}: failure must be `closed` or `open`, not `{value}`"));
                        }
                    }
                }
                _ => {
                    return Err(format!(
                        "{name}: unknown or empty setting `{item}` (cluster, cluster_alias, timeout_ms, failure)"
                    ));
                }
            }
        }
        Ok(parsed)
    }

    fn new_filter(&self) -> Auth {
        Auth { config: self.clone(), pending: None, required_role: None }
    }
}

/// The per-route configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuthRoute {
    /// No check on this route.
    Off,
    /// The service must list this role for the user.
    Role(String),
}

impl RouteConfig for AuthRoute {
    fn new(name: &str, config: &[u8]) -> Result<Self, String> {
        match std::str::from_utf8(config).map_err(|_| format!("{name}: not UTF-8"))?.trim() {
            "off" => Ok(AuthRoute::Off),
            text => match text.strip_prefix("role=") {
                Some(role) if !role.is_empty() => Ok(AuthRoute::Role(role.to_string())),
                _ => {
                    Err(format!("{name}: per-route auth config must be `off` or `role=<role>`, not `{text}`"))
                }
            },
        }
    }
}

/// One request's check.
pub struct Auth {
    config: AuthConfig,
    /// The callout in flight, while the request is held.
    pending: Option<CalloutId>,
    required_role: Option<String>,
}

impl Auth {
    /// No usable answer for a held request: 503, or on with a mark, as configured.
    fn failed(&self, stream: &mut Stream, reason: &str) {
        if matches!(self.failed_at_once(stream, reason), HeadersStatus::Continue) {
            stream.continue_request();
        }
    }

    /// No usable answer inside the request-headers hook: 503, or the status that lets the
    /// request go on (marked), as configured.
    fn failed_at_once(&self, stream: &mut Stream, reason: &str) -> HeadersStatus {
        match self.config.failure {
            Failure::Closed => {
                stream.send_local_reply(
                    503,
                    &[("x-auth-error", reason)],
                    b"auth service unavailable\n",
                    "auth_unavailable",
                );
                HeadersStatus::StopIteration
            }
            Failure::Open => {
                stream.request_headers().set("x-auth-skipped", reason);
                HeadersStatus::Continue
            }
        }
    }

    fn allowed(&self, stream: &mut Stream, response: &CalloutResponse<'_>) {
        let user = response.header_str("x-auth-user").unwrap_or_default().to_string();
        if let Some(role) = &self.required_role {
            let roles = response.header_str("x-auth-roles").unwrap_or_default();
            if !roles.split(',').any(|r| r.trim() == role) {
                stream.send_local_reply(
                    403,
                    &[],
                    format!("role {role} required\n").as_bytes(),
                    "auth_role_missing",
                );
                return;
            }
        }
        stream.request_headers().set("x-auth-user", user);
        stream.continue_request();
    }
}

impl Filter for Auth {
    fn on_request_headers(&mut self, stream: &mut Stream, _end_of_stream: bool) -> HeadersStatus {
        match stream.route_config::<AuthRoute>() {
            Some(AuthRoute::Off) => return HeadersStatus::Continue,
            Some(AuthRoute::Role(role)) => self.required_role = Some(role.clone()),
            None => {}
        }
        // A client must not choose its own identity.
        stream.request_headers().remove("x-auth-user");
        // Borrowed from the configuration unless the route names it (then copied: the stream is
        // needed again below).
        let cluster: std::borrow::Cow<'_, str> = match &self.config.cluster_alias {
            None => self.config.cluster.as_str().into(),
            Some(alias) => match stream.metadata_str(MetadataSource::Route, EXTENSION_BACKENDS, alias) {
                Some(cluster) => cluster.to_string().into(),
                None => return self.failed_at_once(stream, "no_backend"),
            },
        };
        let authorization = stream.request_headers().get_str("authorization").unwrap_or_default().to_string();
        let mut headers = vec![(":method", "GET"), (":path", "/check"), (":authority", cluster.as_ref())];
        if !authorization.is_empty() {
            headers.push(("authorization", authorization.as_str()));
        }
        self.pending = stream.http_callout(&cluster, &headers, b"", self.config.timeout);
        if self.pending.is_none() {
            // Refused at once (logged by the host): no answer will come.
            return self.failed_at_once(stream, "refused");
        }
        HeadersStatus::StopIteration
    }

    fn on_request_body(&mut self, _stream: &mut Stream, _end_of_stream: bool) -> BodyStatus {
        // Hold the body with the headers until the service has answered.
        if self.pending.is_some() { BodyStatus::StopIterationAndBuffer } else { BodyStatus::Continue }
    }

    fn on_callout_done(
        &mut self,
        stream: &mut Stream,
        id: CalloutId,
        result: Result<CalloutResponse<'_>, CalloutError>,
    ) {
        if self.pending != Some(id) {
            return;
        }
        self.pending = None;
        match result {
            Ok(response) => match response.status() {
                Some(200) => self.allowed(stream, &response),
                Some(status @ (401 | 403)) => {
                    let challenge = response.header_str("www-authenticate").map(str::to_string);
                    let headers: Vec<(&str, &str)> =
                        challenge.iter().map(|c| ("www-authenticate", c.as_str())).collect();
                    let body = if status == 401 { &b"unauthorized\n"[..] } else { b"forbidden\n" };
                    stream.send_local_reply(status, &headers, body, "auth_denied");
                }
                Some(other) => self.failed(stream, &format!("status_{other}")),
                None => self.failed(stream, "no_status"),
            },
            Err(error) => self.failed(stream, &error.to_string()),
        }
    }
}

envoyx_sdk::export_module!(AuthConfig, route = AuthRoute);
