//! OCI references as a configuration or `envoyx push` writes them: `registry/repository@sha256:…`
//! (the documented way: the digest pins the module) or `registry/repository:tag` (resolved to a
//! digest once, and logged with it). The registry part is required (no implicit Docker Hub: a
//! proxy must never guess where its code comes from); an optional `oci://` prefix is accepted.

use std::fmt;

/// A parsed reference.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Reference {
    /// `host` or `host:port`.
    pub registry: String,
    /// `name` or `path/to/name`: lowercase letters, digits and the separators `.`, `_`, `__`,
    /// `-`, `/` as the distribution spec allows.
    pub repository: String,
    pub target: Target,
}

/// What a reference names in its repository.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Target {
    /// A manifest by its digest, `sha256:` and 64 lowercase hex digits.
    Digest(String),
    /// A tag, to be resolved to a digest.
    Tag(String),
}

/// The longest tag the distribution spec allows.
const MAX_TAG: usize = 128;

impl Reference {
    /// Parses `text`; the error says which part is wrong and why.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let rest = text.strip_prefix("oci://").unwrap_or(text);
        let (registry, path) = rest.split_once('/').ok_or_else(|| {
            format!("`{text}` names no registry: expected registry/repository@sha256:<digest> (or :tag)")
        })?;
        check_registry(registry).map_err(|why| format!("`{text}`: registry `{registry}` {why}"))?;
        let (name, target) = if let Some((name, digest)) = path.split_once('@') {
            let digest = digest.to_ascii_lowercase();
            check_digest(&digest).map_err(|why| format!("`{text}`: {why}"))?;
            // `repo:tag@digest` is allowed by Docker's grammar; the digest decides.
            let name = name.split_once(':').map_or(name, |(n, _)| n);
            (name, Target::Digest(digest))
        } else if let Some((name, tag)) = path.rsplit_once(':') {
            check_tag(tag).map_err(|why| format!("`{text}`: tag `{tag}` {why}"))?;
            (name, Target::Tag(tag.to_string()))
        } else {
            return Err(format!(
                "`{text}` names neither a digest nor a tag: expected {rest}@sha256:<digest> (pins the module) or {rest}:<tag>"
            ));
        };
        check_repository(name).map_err(|why| format!("`{text}`: repository `{name}` {why}"))?;
        Ok(Self { registry: registry.to_string(), repository: name.to_string(), target })
    }

    /// The digest when the reference pins one.
    pub fn digest(&self) -> Option<&str> {
        match &self.target {
            Target::Digest(d) => Some(d),
            Target::Tag(_) => None,
        }
    }

    /// The same repository at `digest`.
    pub fn at_digest(&self, digest: &str) -> Self {
        Self { target: Target::Digest(digest.to_string()), ..self.clone() }
    }

    /// `digest` or `tag`, as the registry's manifest URL takes it.
    pub fn target_text(&self) -> &str {
        match &self.target {
            Target::Digest(d) | Target::Tag(d) => d,
        }
    }

    /// Whether the registry is on this machine (`localhost`, `127.0.0.0/8`, `[::1]`): the only
    /// registries `insecure` (plain HTTP) may name.
    pub fn is_loopback(&self) -> bool {
        let host = match self.registry.strip_prefix('[') {
            Some(v6) => v6.split(']').next().unwrap_or(""),
            None => self.registry.split(':').next().unwrap_or(""),
        };
        host == "localhost" || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.target {
            Target::Digest(d) => write!(f, "{}/{}@{d}", self.registry, self.repository),
            Target::Tag(t) => write!(f, "{}/{}:{t}", self.registry, self.repository),
        }
    }
}

fn check_registry(registry: &str) -> Result<(), &'static str> {
    let (host, port) = match registry.strip_prefix('[') {
        Some(v6) => {
            let (addr, after) = v6.split_once(']').ok_or("has an unclosed `[`")?;
            addr.parse::<std::net::Ipv6Addr>().map_err(|_| "is no IPv6 address")?;
            (addr, after.strip_prefix(':'))
        }
        None => match registry.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (registry, None),
        },
    };
    if host.is_empty() {
        return Err("is empty");
    }
    if !host.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-' || b == b':') {
        return Err("is no host name (letters, digits, `.` and `-`)");
    }
    if let Some(port) = port {
        port.parse::<u16>().ok().filter(|p| *p > 0).ok_or("has a port that is no number from 1 to 65535")?;
    }
    // Docker's rule: the first path part is a registry only if it has a `.` or `:` or is
    // localhost; `library/nginx` would otherwise silently mean Docker Hub. EnvoyX never guesses.
    if !(registry.contains('.') || registry.contains(':') || registry.starts_with('[') || host == "localhost")
    {
        return Err("is no registry host (expected a name with a dot, a port, or localhost)");
    }
    Ok(())
}

fn check_repository(name: &str) -> Result<(), &'static str> {
    if name.is_empty() {
        return Err("is empty");
    }
    if name.len() > 255 {
        return Err("is longer than 255 bytes");
    }
    for component in name.split('/') {
        let ok = !component.is_empty()
            && component.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
            && component.as_bytes()[0].is_ascii_alphanumeric()
            && component.as_bytes()[component.len() - 1].is_ascii_alphanumeric();
        if !ok {
            return Err(
                "is no repository name (lowercase letters and digits, separated by `.`, `_`, `-` or `/`)",
            );
        }
    }
    Ok(())
}

fn check_tag(tag: &str) -> Result<(), &'static str> {
    let ok = !tag.is_empty()
        && tag.len() <= MAX_TAG
        && (tag.as_bytes()[0].is_ascii_alphanumeric() || tag.starts_with('_'))
        && tag.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
    if ok { Ok(()) } else { Err("is no tag (up to 128 letters, digits, `.`, `_`, `-`)") }
}

/// Checks `digest` is `sha256:` and 64 lowercase hex digits (the one algorithm EnvoyX pins by).
pub fn check_digest(digest: &str) -> Result<(), String> {
    let hex = digest.strip_prefix("sha256:").ok_or_else(|| {
        format!("digest `{digest}` is not a sha256 digest (expected sha256:<64 hex digits>)")
    })?;
    if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
        return Err(format!("digest `{digest}` is not sha256: and 64 hex digits"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn parses_digest_and_tag_references() {
        let r = Reference::parse(&format!("registry.example.com:5000/team/auth@{D}")).unwrap();
        assert_eq!(r.registry, "registry.example.com:5000");
        assert_eq!(r.repository, "team/auth");
        assert_eq!(r.digest(), Some(D));
        assert_eq!(r.to_string(), format!("registry.example.com:5000/team/auth@{D}"));

        let r = Reference::parse("oci://127.0.0.1:5000/auth:v1.2").unwrap();
        assert_eq!(r.target, Target::Tag("v1.2".to_string()));
        assert!(r.is_loopback());
        assert_eq!(r.at_digest(D).to_string(), format!("127.0.0.1:5000/auth@{D}"));

        let r = Reference::parse(&format!("ghcr.io/o/m:v1@{}", D.to_uppercase().replace("SHA256", "sha256")))
            .unwrap();
        assert_eq!(r.digest(), Some(D), "a tag beside a digest: the digest decides");
        assert!(!r.is_loopback());
        assert!(Reference::parse("localhost/m:latest").unwrap().is_loopback());
        assert!(Reference::parse("[::1]:5000/m:latest").unwrap().is_loopback());
    }

    #[test]
    fn refuses_references_naming_the_part_that_is_wrong() {
        let cases = [
            ("auth:v1", "names no registry"),
            ("library/nginx:1", "is no registry host"),
            ("r.example.com/Auth:v1", "is no repository name"),
            ("r.example.com/auth", "names neither a digest nor a tag"),
            ("r.example.com/auth@sha512:ab", "is not a sha256 digest"),
            ("r.example.com/auth@sha256:abc", "64 hex digits"),
            ("r.example.com/auth:", "is no tag"),
            ("r.example.com:99999/auth:v1", "port"),
            ("r.example.com//auth:v1", "is no repository name"),
        ];
        for (text, why) in cases {
            let e = Reference::parse(text).unwrap_err();
            assert!(e.contains(why), "{text}: {e}");
            assert!(e.contains(text.trim_start_matches("oci://")) || e.contains(text), "{text}: {e}");
        }
    }
}
