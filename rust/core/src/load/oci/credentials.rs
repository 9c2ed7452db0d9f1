//! Registry credentials as fleets already keep them: a Docker `config.json` (`auths` by registry,
//! each `auth` the base64 of `user:password`, or `username` and `password`), or a Kubernetes
//! pull secret mounted as a folder (its `.dockerconfigjson` key, the same format). Credentials
//! are never logged or put into an error: errors name the file and the registry only.

use std::path::Path;

/// A user name and password for one registry.
#[derive(Clone, PartialEq, Eq)]
pub struct Login {
    pub username: String,
    pub password: String,
}

impl std::fmt::Debug for Login {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Login").field("username", &self.username).field("password", &"<hidden>").finish()
    }
}

/// The login for `registry` in the credentials at `path` (a `config.json`, or a folder holding
/// `.dockerconfigjson` or `config.json`); `Ok(None)` when the file has none for it.
pub fn login_for(path: &Path, registry: &str) -> Result<Option<Login>, String> {
    let file = if path.is_dir() {
        [".dockerconfigjson", "config.json"]
            .into_iter()
            .map(|name| path.join(name))
            .find(|p| p.is_file())
            .ok_or_else(|| {
                format!("credentials folder {} holds no .dockerconfigjson or config.json", path.display())
            })?
    } else {
        path.to_path_buf()
    };
    let text = std::fs::read_to_string(&file)
        .map_err(|e| format!("cannot read the credentials {}: {e}", file.display()))?;
    parse_login(&text, registry).map_err(|why| format!("credentials {}: {why}", file.display()))
}

/// The login for `registry` in a Docker `config.json`'s text.
pub fn parse_login(text: &str, registry: &str) -> Result<Option<Login>, String> {
    let json: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| format!("not JSON (a Docker config.json is expected): {e}"))?;
    let Some(auths) = json.get("auths") else {
        return Err("has no `auths` object (a Docker config.json is expected)".to_string());
    };
    let auths = auths.as_object().ok_or("`auths` is not an object")?;
    // Keys may be a bare host, or a URL as `docker login` once wrote them.
    let entry = auths.iter().find(|(key, _)| {
        let key = key.trim_start_matches("https://").trim_start_matches("http://");
        let key = key.split('/').next().unwrap_or("");
        key == registry
    });
    let Some((key, entry)) = entry else { return Ok(None) };
    if let Some(auth) = entry.get("auth").and_then(|a| a.as_str()).filter(|a| !a.is_empty()) {
        let decoded = decode_base64(auth).ok_or_else(|| format!("auths[{key:?}].auth is not base64"))?;
        let decoded =
            String::from_utf8(decoded).map_err(|_| format!("auths[{key:?}].auth is not UTF-8 text"))?;
        let (username, password) =
            decoded.split_once(':').ok_or_else(|| format!("auths[{key:?}].auth is not user:password"))?;
        return Ok(Some(Login { username: username.to_string(), password: password.to_string() }));
    }
    match (entry.get("username").and_then(|u| u.as_str()), entry.get("password").and_then(|p| p.as_str())) {
        (Some(username), Some(password)) => {
            Ok(Some(Login { username: username.to_string(), password: password.to_string() }))
        }
        _ => Err(format!("auths[{key:?}] has neither `auth` nor `username` and `password`")),
    }
}

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding (what `config.json` and HTTP Basic use), without a crate.
pub fn encode_base64(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Decodes standard base64 (padding optional); `None` for anything else.
pub fn decode_base64(text: &str) -> Option<Vec<u8>> {
    let text = text.trim().trim_end_matches('=');
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let mut acc = 0u32;
    let mut bits = 0;
    for c in text.bytes() {
        let v = ALPHABET.iter().position(|&a| a == c)? as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    (bits < 6).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trips() {
        for text in ["", "a", "ab", "abc", "user:pässword", "envoyx:s3cret!"] {
            let encoded = encode_base64(text.as_bytes());
            assert_eq!(decode_base64(&encoded).unwrap(), text.as_bytes(), "{encoded}");
        }
        assert_eq!(encode_base64(b"user:pass"), "dXNlcjpwYXNz");
        assert!(decode_base64("not base64!").is_none());
    }

    #[test]
    fn finds_the_login_for_a_registry_in_either_form() {
        let config = r#"{"auths": {
            "https://registry.example.com/v1/": {"auth": "dXNlcjpwYXNz"},
            "127.0.0.1:5000": {"username": "ann", "password": "p:w"}
        }}"#;
        let login = parse_login(config, "registry.example.com").unwrap().unwrap();
        assert_eq!((login.username.as_str(), login.password.as_str()), ("user", "pass"));
        let login = parse_login(config, "127.0.0.1:5000").unwrap().unwrap();
        assert_eq!((login.username.as_str(), login.password.as_str()), ("ann", "p:w"));
        assert_eq!(parse_login(config, "other.example.com").unwrap(), None);
        assert!(!format!("{login:?}").contains("p:w"), "a Debug print hides the password");
    }

    #[test]
    fn refuses_files_that_are_no_docker_config_without_echoing_secrets() {
        assert!(parse_login("nope", "r.io").unwrap_err().contains("not JSON"));
        assert!(parse_login("{}", "r.io").unwrap_err().contains("no `auths`"));
        let e = parse_login(r#"{"auths": {"r.io": {"auth": "c2VjcmV0"}}}"#, "r.io").unwrap_err();
        assert!(e.contains("not user:password") && !e.contains("secret"), "{e}");
        let e = parse_login(r#"{"auths": {"r.io": {}}}"#, "r.io").unwrap_err();
        assert!(e.contains("neither"), "{e}");
    }

    #[test]
    fn reads_a_pull_secret_mounted_as_a_folder() {
        let dir = std::env::temp_dir().join(format!("envoyx-pull-secret-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let e = login_for(&dir, "r.io").unwrap_err();
        assert!(e.contains("holds no .dockerconfigjson"), "{e}");
        std::fs::write(dir.join(".dockerconfigjson"), r#"{"auths": {"r.io": {"auth": "YTpi"}}}"#).unwrap();
        let login = login_for(&dir, "r.io").unwrap().unwrap();
        assert_eq!((login.username.as_str(), login.password.as_str()), ("a", "b"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
