//! A client of the OCI distribution API (the `/v2/` endpoints every registry serves): manifests
//! and blobs by digest or tag, pushes, tags and the catalog, with the two ways registries ask
//! for credentials (HTTP Basic, and Bearer tokens from the realm a 401 names, scoped to the
//! repository). HTTPS always, checked against the public web roots or the configured CA bundle;
//! plain HTTP only when asked for (`insecure`) and only to a registry on this machine.
//! Credentials go only to the registry (and its token realm); a redirect to blob storage carries
//! none. Nothing here logs them or puts them in an error.

use super::credentials::{self, Login};
use super::layout::{self, Descriptor};
use super::reference::Reference;
use crate::sync::lock;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The largest manifest read (the distribution spec lets registries refuse larger ones).
const MAX_MANIFEST_BYTES: u64 = 4 << 20;

/// How to reach a registry.
#[derive(Clone, Debug, Default)]
pub struct ClientOptions {
    /// A Docker `config.json` or a mounted pull secret (`credentials.rs`).
    pub credentials: Option<PathBuf>,
    /// PEM certificates to trust instead of the public web roots.
    pub ca_file: Option<PathBuf>,
    /// Plain HTTP: refused unless the registry is on this machine.
    pub insecure: bool,
    /// The whole operation's budget (every request of it).
    pub timeout: Duration,
}

/// A repository of one registry, as one operation (a pull, a push) talks to it.
pub struct Repository {
    agent: ureq::Agent,
    base: String,
    registry: String,
    name: String,
    login: Option<Login>,
    /// The `Authorization` value that last worked, reused for the operation's next requests.
    authorization: Mutex<Option<String>>,
    deadline: Instant,
    /// Scope asked of a token realm: `pull`, or `pull,push`.
    actions: &'static str,
}

/// A registry's answer to one request.
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

/// A registry answer that is not a success, with the registry's own error code when it gave one.
fn refusal(what: &str, status: u16, body: &[u8]) -> String {
    let codes: Vec<String> = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|j| {
            j["errors"].as_array().map(|errors| {
                errors
                    .iter()
                    .map(|e| {
                        let code = e["code"].as_str().unwrap_or("?");
                        match e["message"].as_str() {
                            Some(m) => format!("{code}: {m}"),
                            None => code.to_string(),
                        }
                    })
                    .collect()
            })
        })
        .unwrap_or_default();
    let meaning = match status {
        401 => " (credentials needed or refused)",
        403 => " (access denied)",
        404 => " (not found)",
        _ => "",
    };
    let codes = if codes.is_empty() { String::new() } else { format!(": {}", codes.join("; ")) };
    format!("{what}: the registry answered {status}{meaning}{codes}")
}

impl Repository {
    /// Prepares to talk to `reference`'s repository for `actions` (`"pull"` or `"pull,push"`).
    pub fn open(
        reference: &Reference,
        options: &ClientOptions,
        actions: &'static str,
    ) -> Result<Self, String> {
        if options.insecure && !reference.is_loopback() {
            return Err(format!(
                "`insecure` (plain HTTP) is for a registry on this machine only; {} is not (use HTTPS, with `ca_file` for a private CA)",
                reference.registry
            ));
        }
        let login = match &options.credentials {
            Some(path) => credentials::login_for(path, &reference.registry)?,
            None => None,
        };
        let mut tls = ureq::tls::TlsConfig::builder();
        if let Some(ca_file) = &options.ca_file {
            tls = tls.root_certs(ureq::tls::RootCerts::new_with_certs(&read_ca(ca_file)?));
        }
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .tls_config(tls.build())
            .redirect_auth_headers(ureq::config::RedirectAuthHeaders::Never)
            .user_agent(concat!("envoyx/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        let scheme = if options.insecure { "http" } else { "https" };
        let timeout = if options.timeout.is_zero() { Duration::from_secs(10) } else { options.timeout };
        Ok(Self {
            agent,
            base: format!("{scheme}://{}/v2/{}", reference.registry, reference.repository),
            registry: reference.registry.clone(),
            name: reference.repository.clone(),
            login,
            authorization: Mutex::new(None),
            deadline: Instant::now() + timeout,
            actions,
        })
    }

    /// The manifest `target` (a tag or a digest) names: its digest (checked against `target`
    /// when that is one), media type and bytes.
    pub fn manifest(&self, target: &str) -> Result<(String, String, Vec<u8>), String> {
        let what = format!("manifest {target}");
        let Answer { status, headers, body } = self.send(
            "GET",
            &format!("/manifests/{target}"),
            &[("Accept", layout::ACCEPTED_MANIFESTS)],
            None,
            MAX_MANIFEST_BYTES,
        )?;
        if status != 200 {
            return Err(refusal(&what, status, &body));
        }
        let digest = layout::digest_of(&body);
        if target.starts_with("sha256:") && digest != target {
            return Err(format!("{what}: the registry sent a manifest whose digest is {digest}"));
        }
        let media_type = header(&headers, "content-type").unwrap_or_default();
        Ok((digest, media_type, body))
    }

    /// A blob's bytes, refused when larger than `max_bytes` (by the manifest's word before the
    /// download, by counting during it) or when they do not hash to its digest.
    pub fn blob(&self, blob: &Descriptor, max_bytes: u64) -> Result<Vec<u8>, String> {
        let what = format!("layer {}", blob.digest);
        if blob.size > max_bytes {
            return Err(format!("{what} is {} bytes, over the bound of {max_bytes}", blob.size));
        }
        let Answer { status, body, .. } =
            self.send("GET", &format!("/blobs/{}", blob.digest), &[], None, max_bytes)?;
        if status != 200 {
            return Err(refusal(&what, status, &body));
        }
        let digest = layout::digest_of(&body);
        if digest != blob.digest {
            return Err(format!("{what}: the registry sent {} bytes whose digest is {digest}", body.len()));
        }
        Ok(body)
    }

    /// Uploads `bytes` as a blob unless the registry has it: its digest.
    pub fn push_blob(&self, bytes: &[u8]) -> Result<String, String> {
        let digest = layout::digest_of(bytes);
        let Answer { status, .. } = self.send("HEAD", &format!("/blobs/{digest}"), &[], None, 0)?;
        if status == 200 {
            return Ok(digest);
        }
        let Answer { status, headers, body } =
            self.send("POST", "/blobs/uploads/", &[], Some(&[]), 1 << 16)?;
        if status != 202 {
            return Err(refusal(&format!("starting the upload of blob {digest}"), status, &body));
        }
        let location = header(&headers, "location").ok_or("the registry named no upload location")?;
        let separator = if location.contains('?') { '&' } else { '?' };
        let url = format!("{location}{separator}digest={digest}");
        let Answer { status, body, .. } = self.send_to(
            "PUT",
            &self.absolute(&url),
            &[("Content-Type", "application/octet-stream")],
            Some(bytes),
            1 << 16,
        )?;
        if status != 201 {
            return Err(refusal(&format!("uploading blob {digest}"), status, &body));
        }
        Ok(digest)
    }

    /// Puts a manifest under `target` (a tag, or its digest): its digest.
    pub fn put_manifest(&self, target: &str, media_type: &str, bytes: &[u8]) -> Result<String, String> {
        let Answer { status, body, .. } = self.send(
            "PUT",
            &format!("/manifests/{target}"),
            &[("Content-Type", media_type)],
            Some(bytes),
            1 << 16,
        )?;
        if status != 201 {
            return Err(refusal(&format!("putting the manifest as {target}"), status, &body));
        }
        Ok(layout::digest_of(bytes))
    }

    /// The repository's tags.
    pub fn tags(&self) -> Result<Vec<String>, String> {
        let Answer { status, body, .. } = self.send("GET", "/tags/list", &[], None, MAX_MANIFEST_BYTES)?;
        if status != 200 {
            return Err(refusal("listing the tags", status, &body));
        }
        let json: serde_json::Value =
            serde_json::from_slice(&body).map_err(|e| format!("the tag list is not JSON: {e}"))?;
        Ok(json["tags"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|t| Some(t.as_str()?.to_string()))
            .collect())
    }

    /// The registry's repositories (`/v2/_catalog`; not every registry serves it).
    pub fn catalog(&self) -> Result<Vec<String>, String> {
        let url = format!("{}/v2/_catalog", self.base.split("/v2/").next().unwrap_or(&self.base));
        let Answer { status, body, .. } = self.send_to("GET", &url, &[], None, MAX_MANIFEST_BYTES)?;
        if status != 200 {
            return Err(refusal("listing the repositories (/v2/_catalog)", status, &body));
        }
        let json: serde_json::Value =
            serde_json::from_slice(&body).map_err(|e| format!("the catalog is not JSON: {e}"))?;
        Ok(json["repositories"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|r| Some(r.as_str()?.to_string()))
            .collect())
    }

    fn absolute(&self, location: &str) -> String {
        if location.starts_with("http://") || location.starts_with("https://") {
            location.to_string()
        } else {
            let origin = self.base.split("/v2/").next().unwrap_or(&self.base);
            format!("{origin}{location}")
        }
    }

    fn send(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
        max_bytes: u64,
    ) -> Result<Answer, String> {
        self.send_to(method, &format!("{}{path}", self.base), headers, body, max_bytes)
    }

    /// One request, answering a 401 once with the credentials it asks for.
    fn send_to(
        &self,
        method: &str,
        url: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
        max_bytes: u64,
    ) -> Result<Answer, String> {
        let authorization = lock(&self.authorization).clone();
        let answer = self.request(method, url, headers, authorization.as_deref(), body, max_bytes)?;
        if answer.status != 401 {
            return Ok(answer);
        }
        let challenge = header(&answer.headers, "www-authenticate").unwrap_or_default();
        let Some(authorization) = self.answer_challenge(&challenge)? else {
            return Ok(answer);
        };
        *lock(&self.authorization) = Some(authorization.clone());
        self.request(method, url, headers, Some(&authorization), body, max_bytes)
    }

    /// The `Authorization` value a 401's challenge asks for: Basic with the login, or a Bearer
    /// token from its realm. `None`: nothing to answer with (no login, and the realm gives no
    /// anonymous token).
    fn answer_challenge(&self, challenge: &str) -> Result<Option<String>, String> {
        let basic = self.login.as_ref().map(|l| {
            format!(
                "Basic {}",
                credentials::encode_base64(format!("{}:{}", l.username, l.password).as_bytes())
            )
        });
        let (scheme, params) = challenge.split_once(' ').unwrap_or((challenge, ""));
        if scheme.eq_ignore_ascii_case("basic") {
            return Ok(basic);
        }
        if !scheme.eq_ignore_ascii_case("bearer") {
            return Ok(basic);
        }
        let params = challenge_params(params);
        let realm = params.iter().find(|(k, _)| k == "realm").map(|(_, v)| v.clone()).ok_or_else(|| {
            format!("the registry {} asked for a token without naming its realm", self.registry)
        })?;
        let mut query = Vec::new();
        if let Some((_, service)) = params.iter().find(|(k, _)| k == "service") {
            query.push(format!("service={}", percent(service)));
        }
        let scope = params
            .iter()
            .find(|(k, _)| k == "scope")
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| format!("repository:{}:{}", self.name, self.actions));
        query.push(format!("scope={}", percent(&scope)));
        let url = format!("{realm}{}{}", if realm.contains('?') { '&' } else { '?' }, query.join("&"));
        let Answer { status, body, .. } = self.request("GET", &url, &[], basic.as_deref(), None, 1 << 20)?;
        if status != 200 {
            return Err(refusal(&format!("the token service {realm}"), status, &body));
        }
        let json: serde_json::Value = serde_json::from_slice(&body)
            .map_err(|e| format!("the token service {realm} answered no JSON: {e}"))?;
        let token = json["token"]
            .as_str()
            .or_else(|| json["access_token"].as_str())
            .ok_or_else(|| format!("the token service {realm} answered no token"))?;
        Ok(Some(format!("Bearer {token}")))
    }

    fn request(
        &self,
        method: &str,
        url: &str,
        headers: &[(&str, &str)],
        authorization: Option<&str>,
        body: Option<&[u8]>,
        max_bytes: u64,
    ) -> Result<Answer, String> {
        let remaining = self.deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            return Err(format!("timed out talking to the registry {}", self.registry));
        }
        let mut request = ureq::http::Request::builder().method(method).uri(url);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(authorization) = authorization {
            request = request.header("Authorization", authorization);
        }
        let sent = match body {
            // GET and HEAD carry no body at all (not even an empty one).
            None => request.body(()).map(|r| self.agent.run(self.with_timeout(r, remaining))),
            Some(bytes) => request.body(bytes).map(|r| self.agent.run(self.with_timeout(r, remaining))),
        };
        let response =
            sent.map_err(|e| format!("{method} {url}: {e}"))?.map_err(|e| describe(&self.registry, e))?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .filter_map(|(k, v)| Some((k.as_str().to_string(), v.to_str().ok()?.to_string())))
            .collect();
        let bytes = if method == "HEAD" {
            Vec::new()
        } else {
            let mut body = response.into_body();
            body.with_config().limit(max_bytes.max(1 << 16)).read_to_vec().map_err(|e| match e {
                ureq::Error::BodyExceedsLimit(_) => format!("the registry sent more than {max_bytes} bytes"),
                e => describe(&self.registry, e),
            })?
        };
        Ok(Answer { status, headers, body: bytes })
    }
}

impl Repository {
    fn with_timeout<S: ureq::AsSendBody>(
        &self,
        request: ureq::http::Request<S>,
        timeout: Duration,
    ) -> ureq::http::Request<S> {
        self.agent.configure_request(request).timeout_global(Some(timeout)).build()
    }
}

/// A transport error in words that name the registry (TLS errors say which certificate check).
fn describe(registry: &str, error: ureq::Error) -> String {
    match error {
        ureq::Error::Timeout(_) => format!("timed out talking to the registry {registry}"),
        ureq::Error::Io(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
            format!("the registry {registry} refused the connection (is it running?)")
        }
        e => format!("cannot talk to the registry {registry}: {e}"),
    }
}

fn header(headers: &[(String, String)], name: &str) -> Option<String> {
    headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.clone())
}

/// `key="value", key=value` pairs of a challenge.
fn challenge_params(text: &str) -> Vec<(String, String)> {
    let mut params = Vec::new();
    let mut rest = text.trim();
    while let Some((key, after)) = rest.split_once('=') {
        let key = key.trim().trim_start_matches(',').trim().to_ascii_lowercase();
        let (value, next) = if let Some(quoted) = after.strip_prefix('"') {
            quoted.split_once('"').unwrap_or((quoted, ""))
        } else {
            after.split_once(',').unwrap_or((after, ""))
        };
        params.push((key, value.to_string()));
        rest = next.trim_start_matches(',').trim();
    }
    params
}

fn percent(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The certificates of a PEM bundle.
pub(crate) fn read_ca(path: &std::path::Path) -> Result<Vec<ureq::tls::Certificate<'static>>, String> {
    let pem =
        std::fs::read(path).map_err(|e| format!("cannot read the CA bundle {}: {e}", path.display()))?;
    let certs: Vec<_> = ureq::tls::parse_pem(&pem)
        .filter_map(|item| match item {
            Ok(ureq::tls::PemItem::Certificate(cert)) => Some(Ok(cert)),
            Ok(_) => None,
            Err(e) => Some(Err(format!("the CA bundle {} is not PEM: {e}", path.display()))),
        })
        .collect::<Result<_, _>>()?;
    if certs.is_empty() {
        return Err(format!("the CA bundle {} holds no certificate", path.display()));
    }
    Ok(certs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_token_challenges() {
        let params = challenge_params(
            r#"realm="https://auth.example.com/token",service="registry.example.com",scope="repository:m:pull""#,
        );
        assert_eq!(
            params,
            [
                ("realm".to_string(), "https://auth.example.com/token".to_string()),
                ("service".to_string(), "registry.example.com".to_string()),
                ("scope".to_string(), "repository:m:pull".to_string())
            ]
        );
        assert_eq!(percent("repository:a/b:pull,push"), "repository%3Aa%2Fb%3Apull%2Cpush");
    }

    #[test]
    fn names_the_registry_error_code() {
        let body = br#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}"#;
        assert_eq!(
            refusal("manifest v1", 404, body),
            "manifest v1: the registry answered 404 (not found): MANIFEST_UNKNOWN: manifest unknown"
        );
        assert_eq!(refusal("x", 401, b""), "x: the registry answered 401 (credentials needed or refused)");
    }

    #[test]
    fn refuses_plain_http_to_a_registry_elsewhere() {
        let options = ClientOptions { insecure: true, ..Default::default() };
        let remote = Reference::parse("registry.example.com/m:v1").unwrap();
        let e = Repository::open(&remote, &options, "pull").err().unwrap();
        assert!(e.contains("for a registry on this machine only"), "{e}");
        assert!(
            Repository::open(&Reference::parse("127.0.0.1:5000/m:v1").unwrap(), &options, "pull").is_ok()
        );
    }
}
