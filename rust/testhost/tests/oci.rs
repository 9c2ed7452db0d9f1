//! Modules from an OCI registry (`remote.oci`) on the test host, against a real registry
//! (Debian's docker-registry on 127.0.0.1, TLS from a CA the test makes, htpasswd logins): by
//! digest and by tag, fetched in the background and then served; a cache hit with the registry
//! stopped; and each failure refused naming the reference and the reason.

mod common;

use common::{c_module, load_when_fetched, refused};
use envoyx_core::oci::Reference;
use envoyx_core::oci::client::ClientOptions;
use envoyx_core::oci::credentials::encode_base64;
use envoyx_core::oci::transfer::{self, Artifact};
use envoyx_harness::{Registry, RegistryOptions};
use envoyx_testhost::TestHost;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const USER: &str = "bob";
const PASSWORD: &str = "pull-pw-42";

struct Fixture {
    registry: Registry,
    credentials: PathBuf,
    ca: PathBuf,
    tag: String,
    digest: String,
}

/// A registry holding the C test module as `<host>/edge/cmod:v1`.
fn fixture() -> Fixture {
    let registry =
        Registry::start(&RegistryOptions { plain_http: false, logins: vec![(USER.into(), PASSWORD.into())] })
            .unwrap();
    let credentials = registry.dir.path().join("config.json");
    let auth = encode_base64(format!("{USER}:{PASSWORD}").as_bytes());
    std::fs::write(&credentials, format!(r#"{{"auths": {{"{}": {{"auth": "{auth}"}}}}}}"#, registry.host))
        .unwrap();
    let ca = registry.ca_file.clone().unwrap();
    let module = std::fs::read(c_module("oci", &[])).unwrap();
    let tag = format!("{}/edge/cmod:v1", registry.host);
    let options = ClientOptions {
        credentials: Some(credentials.clone()),
        ca_file: Some(ca.clone()),
        insecure: false,
        timeout: Duration::from_secs(10),
    };
    let artifact =
        Artifact { file: "libcmod.so", bytes: &module, annotations: BTreeMap::new(), architecture: "amd64" };
    let digest = transfer::push(&Reference::parse(&tag).unwrap(), &options, artifact).unwrap();
    Fixture { registry, credentials, ca, tag, digest }
}

fn oci_json(
    reference: &str,
    cache: &Path,
    credentials: Option<&Path>,
    ca: Option<&Path>,
    extra: &str,
) -> String {
    let mut oci = serde_json::json!({ "reference": reference });
    if let Some(c) = credentials {
        oci["credentials"] = c.display().to_string().into();
    }
    let mut remote = serde_json::json!({ "oci": oci, "cache_dir": cache.display().to_string() });
    if let Some(ca) = ca {
        remote["ca_file"] = ca.display().to_string().into();
    }
    if !extra.is_empty() {
        let more: serde_json::Value = serde_json::from_str(extra).unwrap();
        for (k, v) in more.as_object().unwrap() {
            remote[k] = v.clone();
        }
    }
    serde_json::json!({ "name": "oci", "remote": remote, "do_not_dlclose": true }).to_string()
}

fn serves(host: &TestHost) {
    let mut stream = host.stream();
    stream.request_headers(&[(":path", "/")], true);
    assert_eq!(stream.upstream_request_headers().get("x-c-module").as_deref(), Some("seen"));
}

#[test]
fn by_digest_fetched_in_the_background_served_then_a_cache_hit_with_the_registry_stopped() {
    let mut f = fixture();
    let cache = tempfile::tempdir().unwrap();
    let by_digest = format!("{}/edge/cmod@{}", f.registry.host, f.digest);
    let json = oci_json(&by_digest, cache.path(), Some(&f.credentials), Some(&f.ca), "");

    let first = refused(&json);
    assert!(
        first.starts_with(&format!("EnvoyX module oci://{by_digest}: not in the module cache")),
        "{first}"
    );
    let (host, _) = load_when_fetched(&json, Duration::from_secs(15));
    serves(&host);
    let cached = cache.path().join("oci").join(&f.digest[7..]).join("cmod.so");
    assert_eq!(host.filter_config().module().path(), cached.as_path());
    assert_eq!(
        std::fs::read_to_string(cached.with_file_name("sha256")).unwrap().trim(),
        envoyx_core::remote::file_sha256(&cached).unwrap()
    );

    f.registry.stop();
    let again = TestHost::from_json(&json).expect("a cache hit needs no registry");
    serves(&again);

    // A cached copy that was tampered with is not loaded: it is fetched again (the registry is
    // down, so that fails, and the next configuration says why).
    // (Replaced by a rename, as anything that writes the cache must: the loaded file is mapped,
    // and writing into it in place would change code that runs.)
    let tampered = cached.with_file_name("tampered");
    std::fs::write(&tampered, b"tampered").unwrap();
    std::fs::rename(&tampered, &cached).unwrap();
    let message = refused(&json);
    assert!(message.contains("fetching it in the background"), "{message}");
    assert!(envoyx_testhost::logged(&format!("the cached copy {} has sha256", cached.display())));
}

#[test]
fn by_tag_resolved_once_and_logged_with_its_digest() {
    let f = fixture();
    let cache = tempfile::tempdir().unwrap();
    let json = oci_json(&f.tag, cache.path(), Some(&f.credentials), Some(&f.ca), "");
    let (host, refusals) = load_when_fetched(&json, Duration::from_secs(15));
    assert!(!refusals.is_empty(), "the first configuration is refused while it fetches");
    serves(&host);
    assert!(envoyx_testhost::logged(&format!("EnvoyX module oci://{}: the tag names {}", f.tag, f.digest)));
    let config = envoyx_core::ModuleConfig::from_json(&json).unwrap();
    assert!(
        config.file_path.contains(&f.digest[7..]),
        "once resolved, the tag's cache path is known: {}",
        config.file_path
    );
}

#[test]
fn each_failure_is_refused_naming_the_reference_and_the_reason() {
    let f = fixture();
    let cache = tempfile::tempdir().unwrap();
    let block = r#"{"block_on_cache_miss": true, "timeout_ms": 5000}"#;
    let host = &f.registry.host;
    // (reference, credentials, CA, what the refusal must say)
    type Case<'a> = (String, Option<&'a Path>, Option<&'a Path>, Vec<String>);
    let cases: Vec<Case> = vec![
        (
            format!("{host}/edge/cmod@sha256:{}", "1".repeat(64)),
            Some(&f.credentials),
            Some(&f.ca),
            vec!["404".into(), "MANIFEST_UNKNOWN".into()],
        ),
        (
            format!("{host}/edge/absent:v1"),
            Some(&f.credentials),
            Some(&f.ca),
            vec!["404".into(), "manifest v1".into()],
        ),
        (f.tag.clone(), None, Some(&f.ca), vec!["401".into(), "credentials needed or refused".into()]),
        (
            f.tag.clone(),
            Some(&f.credentials),
            None,
            vec!["cannot talk to the registry".into(), "certificate".into()],
        ),
    ];
    for (reference, credentials, ca, why) in cases {
        let message = refused(&oci_json(&reference, cache.path(), credentials, ca, block));
        assert!(message.starts_with(&format!("EnvoyX module oci://{reference}: ")), "{message}");
        for part in why {
            assert!(message.contains(&part), "{reference}: `{part}` not in {message}");
        }
        assert!(!message.contains(PASSWORD), "{message}");
    }
    assert!(std::fs::read_dir(cache.path()).map(|d| d.count()).unwrap_or(0) == 0, "nothing cached");

    // The default (background) path tells the failure to the next configuration.
    let json = oci_json(&f.tag, cache.path(), None, Some(&f.ca), "");
    assert!(refused(&json).contains("fetching it in the background"));
    let start = Instant::now();
    let message = loop {
        let message = refused(&json);
        if message.contains("the last fetch failed") || start.elapsed() > Duration::from_secs(10) {
            break message;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(message.contains("the last fetch failed (") && message.contains("401"), "{message}");
}

/// `ca_file` serves modules by URL too: the module's bytes as a blob of a registry whose
/// certificate a private CA signed, fetched by its HTTPS URL — loaded with the CA, refused
/// without it (the public web roots do not know it) and refused naming a CA file that is missing.
#[test]
fn a_private_ca_is_trusted_for_modules_by_url_too() {
    let registry = Registry::start(&RegistryOptions { plain_http: false, logins: vec![] }).unwrap();
    let ca = registry.ca_file.clone().unwrap();
    let bytes = std::fs::read(c_module("oci", &[])).unwrap();
    let reference = Reference::parse(&format!("{}/edge/raw:v1", registry.host)).unwrap();
    let options =
        ClientOptions { ca_file: Some(ca.clone()), timeout: Duration::from_secs(10), ..Default::default() };
    let repository = envoyx_core::oci::client::Repository::open(&reference, &options, "pull,push").unwrap();
    let digest = repository.push_blob(&bytes).unwrap();
    let url = format!("https://{}/v2/edge/raw/blobs/{digest}", registry.host);
    let cache = tempfile::tempdir().unwrap();
    let json = |ca_file: Option<&Path>| {
        let mut remote = serde_json::json!({ "url": url, "sha256": &digest[7..], "cache_dir": cache.path(),
                                             "block_on_cache_miss": true });
        if let Some(ca) = ca_file {
            remote["ca_file"] = ca.display().to_string().into();
        }
        serde_json::json!({ "name": "url", "remote": remote, "do_not_dlclose": true }).to_string()
    };
    let message = refused(&json(None));
    assert!(
        message.contains(&url) && message.contains("fetch failed") && message.contains("certificate"),
        "{message}"
    );
    let missing = registry.dir.path().join("no-such-ca.pem");
    let message = refused(&json(Some(&missing)));
    assert!(message.contains(&format!("cannot read the CA bundle {}", missing.display())), "{message}");
    let host = TestHost::from_json(&json(Some(&ca))).unwrap();
    serves(&host);
}

/// Configurations naming one module while it is fetched share one pull: the registry's access
/// log shows its manifest asked for once.
#[test]
fn concurrent_configurations_pull_once() {
    let f = fixture();
    let cache = tempfile::tempdir().unwrap();
    let by_digest = format!("{}/edge/cmod@{}", f.registry.host, f.digest);
    let json = oci_json(&by_digest, cache.path(), Some(&f.credentials), Some(&f.ca), "");
    let manifest_gets = || {
        f.registry
            .log()
            .lines()
            .filter(|l| l.contains(&format!("\"GET /v2/edge/cmod/manifests/{}", f.digest)))
            .count()
    };
    let before = manifest_gets();
    let refusals: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..4).map(|_| scope.spawn(|| refused(&json))).collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(refusals.iter().all(|r| r.contains("fetching it in the background")), "{refusals:?}");
    let (host, _) = load_when_fetched(&json, Duration::from_secs(15));
    serves(&host);
    // One pull: its manifest request (and, with a login, the retry after the 401 challenge).
    let gets = manifest_gets() - before;
    assert!((1..=2).contains(&gets), "{gets} manifest requests:\n{}", f.registry.log());
}

/// A multi-platform module (an image index) loads the manifest for this machine's architecture;
/// an index without it is refused naming the platforms it has.
#[test]
fn an_image_index_resolves_to_this_platforms_module() {
    use envoyx_core::oci::layout::{self, INDEX_TYPE, host_architecture};
    let f = fixture();
    let options = ClientOptions {
        credentials: Some(f.credentials.clone()),
        ca_file: Some(f.ca.clone()),
        insecure: false,
        timeout: Duration::from_secs(10),
    };
    let other = if host_architecture() == "amd64" { "arm64" } else { "amd64" };
    let foreign = Reference::parse(&format!("{}/edge/cmod:{other}", f.registry.host)).unwrap();
    let artifact = Artifact {
        file: "libcmod.so",
        bytes: b"not for this machine",
        annotations: BTreeMap::new(),
        architecture: other,
    };
    let foreign_digest = transfer::push(&foreign, &options, artifact).unwrap();
    let entry = |digest: &str, architecture: &str| {
        serde_json::json!({ "mediaType": layout::MANIFEST_TYPE, "digest": digest, "size": 1,
                            "platform": { "os": "linux", "architecture": architecture } })
    };
    let repository = envoyx_core::oci::client::Repository::open(&foreign, &options, "pull,push").unwrap();
    let put_index = |tag: &str, entries: Vec<serde_json::Value>| {
        let index = serde_json::json!({ "schemaVersion": 2, "mediaType": INDEX_TYPE, "manifests": entries });
        repository.put_manifest(tag, INDEX_TYPE, &serde_json::to_vec(&index).unwrap()).unwrap()
    };
    let multi =
        put_index("multi", vec![entry(&foreign_digest, other), entry(&f.digest, host_architecture())]);
    let only_foreign = put_index("foreign-only", vec![entry(&foreign_digest, other)]);

    let cache = tempfile::tempdir().unwrap();
    let block = r#"{"block_on_cache_miss": true}"#;
    let by_index = format!("{}/edge/cmod@{multi}", f.registry.host);
    let host =
        TestHost::from_json(&oci_json(&by_index, cache.path(), Some(&f.credentials), Some(&f.ca), block))
            .expect("the index's module for this platform loads");
    serves(&host);
    assert!(
        cache.path().join("oci").join(&multi[7..]).join("cmod.so").is_file(),
        "cached under the index's digest"
    );
    let foreign_only = format!("{}/edge/cmod@{only_foreign}", f.registry.host);
    let message = refused(&oci_json(&foreign_only, cache.path(), Some(&f.credentials), Some(&f.ca), block));
    assert!(
        message
            .contains(&format!("without a linux/{} manifest (it has: linux/{other})", host_architecture())),
        "{message}"
    );
}
