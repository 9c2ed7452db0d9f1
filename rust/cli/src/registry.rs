//! `envoyx push`, `envoyx pull` and `envoyx list`: modules in OCI registries, as
//! `remote.oci` pulls them (envoyx-core's `oci` module holds the client and the layout; this
//! file is the command line).
//!
//! - `push FILE REF`: checks the module as `envoyx check` does, then uploads it as an OCI image
//!   (one layer: `lib<name>.so` and `<name>.json`) annotated with its ABI version, SDK, target
//!   and build id; prints the digest and the reference by digest to put in configurations.
//! - `pull REF [-o FILE]`: downloads, verifies every digest, checks the ELF file and its ABI
//!   before writing it.
//! - `list REGISTRY[/REPO]`: the modules a registry holds, with their annotations.

use envoyx_core::oci::client::{ClientOptions, Repository};
use envoyx_core::oci::layout::annotation;
use envoyx_core::oci::transfer::{self, Artifact};
use envoyx_core::oci::{Reference, Target};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

const USAGE: &str = "\
usage: envoyx push FILE REF [--description TEXT] [--filters NAME,...] [REGISTRY OPTIONS]
       envoyx pull REF [-o FILE] [REGISTRY OPTIONS]
       envoyx list REGISTRY[/REPOSITORY] [REGISTRY OPTIONS]

REF is registry[:port]/repository:tag or registry[:port]/repository@sha256:<digest>.
registry options:
  --credentials PATH   a Docker config.json, or a mounted Kubernetes pull secret (default:
                       $DOCKER_CONFIG/config.json or ~/.docker/config.json when present)
  --ca-file PEM        trust these certificate authorities instead of the public web roots
  --insecure           plain HTTP (a registry on this machine only)
  --timeout SECONDS    for the whole command (default 60)";

/// The options every registry command takes, and the arguments left.
struct Common {
    options: ClientOptions,
    rest: Vec<String>,
    description: Option<String>,
    /// The filter names the module answers to (`--filters`), for `envoyx list`.
    filters: Option<String>,
    output: Option<PathBuf>,
}

fn parse(args: &[String]) -> Result<Common, String> {
    let mut options = ClientOptions { timeout: Duration::from_secs(60), ..Default::default() };
    let mut rest = Vec::new();
    let mut description = None;
    let mut filters = None;
    let mut output = None;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().cloned().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            "--credentials" => options.credentials = Some(PathBuf::from(value("--credentials")?)),
            "--ca-file" => options.ca_file = Some(PathBuf::from(value("--ca-file")?)),
            "--insecure" => options.insecure = true,
            "--timeout" => {
                let seconds: u64 =
                    value("--timeout")?.parse().map_err(|_| "--timeout takes whole seconds".to_string())?;
                options.timeout = Duration::from_secs(seconds.max(1));
            }
            "--description" => description = Some(value("--description")?),
            "--filters" => filters = Some(value("--filters")?),
            "-o" | "--output" => output = Some(PathBuf::from(value("-o")?)),
            "-h" | "--help" => return Err(String::new()),
            flag if flag.starts_with('-') => return Err(format!("unknown option `{flag}`")),
            _ => rest.push(arg.clone()),
        }
    }
    if options.credentials.is_none() {
        options.credentials = default_credentials();
    }
    Ok(Common { options, rest, description, filters, output })
}

/// The registry options among `args` (`--credentials`, `--ca-file`, `--insecure`,
/// `--timeout`), for a command that also talks to a registry (`envoyx deploy`).
pub(crate) fn client_options(args: &[String]) -> Result<ClientOptions, String> {
    let common = parse(args)?;
    match common.rest.first() {
        Some(extra) => Err(format!("unexpected `{extra}`")),
        None => Ok(common.options),
    }
}

/// Docker's own credentials file, where `docker login` (or `podman login --authfile`) put it.
fn default_credentials() -> Option<PathBuf> {
    let dir = std::env::var_os("DOCKER_CONFIG")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".docker")))?;
    Some(dir.join("config.json")).filter(|p| p.is_file())
}

/// Runs `envoyx <command> args`; the exit code.
pub fn run(command: &str, args: &[String]) -> i32 {
    let common = match parse(args) {
        Ok(common) => common,
        Err(message) if message.is_empty() => {
            println!("{USAGE}");
            return 0;
        }
        Err(message) => {
            eprintln!("envoyx {command}: {message}\n{USAGE}");
            return 2;
        }
    };
    let outcome = match command {
        "push" => push(&common),
        "pull" => pull(&common),
        _ => list(&common),
    };
    match outcome {
        Ok(()) => 0,
        Err(message) => {
            eprintln!("envoyx {command}: {message}");
            1
        }
    }
}

fn push(common: &Common) -> Result<(), String> {
    let [file, reference] = common.rest.as_slice() else {
        return Err(format!("push takes a module file and a reference\n{USAGE}"));
    };
    let reference = Reference::parse(reference)?;
    let path = Path::new(file);
    let abi = crate::check::checked_abi(path).map_err(|problems| {
        format!("{file} did not pass `envoyx check` ({problems} problem(s) above): not pushed")
    })?;
    let bytes = std::fs::read(path).map_err(|e| format!("{file}: {e}"))?;
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let (gnu_build_id, go_build_id) = envoyx_core::build_ids(path);
    let mut annotations = BTreeMap::new();
    annotations.insert(annotation::ABI.to_string(), abi);
    annotations.insert(annotation::SDK.to_string(), sdk_of(&bytes, go_build_id.is_some()).to_string());
    annotations.insert(annotation::TARGET.to_string(), format!("{}-linux", std::env::consts::ARCH));
    if let Some(id) = go_build_id.or(gnu_build_id) {
        annotations.insert(annotation::BUILD_ID.to_string(), id);
    }
    if let Some(description) = &common.description {
        annotations.insert(annotation::DESCRIPTION.to_string(), description.clone());
    }
    if let Some(filters) = &common.filters {
        annotations.insert(annotation::FILTERS.to_string(), filters.clone());
    }
    let file_name =
        if name.starts_with("lib") && name.ends_with(".so") { name } else { format!("lib{name}.so") };
    let architecture = envoyx_core::oci::layout::host_architecture();
    let artifact = Artifact { file: &file_name, bytes: &bytes, annotations, architecture };
    let digest = transfer::push(&reference, &common.options, artifact)?;
    println!("pushed   {reference}");
    println!("digest   {digest}");
    println!("use      {}", reference.at_digest(&digest));
    Ok(())
}

/// Which SDK built a module, as far as its bytes tell: Go (its build id), Rust (the SDK crate's
/// name in its panic locations), else C or another language.
fn sdk_of(bytes: &[u8], go: bool) -> &'static str {
    let has = |needle: &[u8]| bytes.windows(needle.len()).any(|w| w == needle);
    if go {
        "go"
    } else if has(b"envoyx-sdk") || has(b"envoyx_sdk") || has(b"rust/sdk/src") {
        "rust"
    } else {
        "c"
    }
}

fn pull(common: &Common) -> Result<(), String> {
    let [reference] = common.rest.as_slice() else {
        return Err(format!("pull takes one reference\n{USAGE}"));
    };
    let reference = Reference::parse(reference)?;
    let pulled = transfer::pull(&reference, &common.options, envoyx_core::remote::MAX_MODULE_BYTES)?;
    let output = common.output.clone().unwrap_or_else(|| PathBuf::from(&pulled.file));
    // The file and ABI checks before it is written where the user asked: a temporary file first.
    let dir = output.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let temp = dir.join(format!(".{}.pull-{}", pulled.file, std::process::id()));
    std::fs::write(&temp, &pulled.bytes).map_err(|e| format!("{}: {e}", temp.display()))?;
    let checked = envoyx_core::check_file(&temp).map_err(|e| e.to_string());
    if let Err(why) = checked {
        let _ = std::fs::remove_file(&temp);
        return Err(format!("{reference}: the pulled file is no module this EnvoyX can load: {why}"));
    }
    if let Some(abi) = pulled.annotations.get(annotation::ABI)
        && !abi_runs_here(abi)
    {
        let _ = std::fs::remove_file(&temp);
        return Err(format!(
            "{reference}: the module was built for ABI {abi}, which this EnvoyX ({}) does not run",
            current_abi()
        ));
    }
    std::fs::rename(&temp, &output).map_err(|e| {
        let _ = std::fs::remove_file(&temp);
        format!("{}: {e}", output.display())
    })?;
    println!("pulled   {}", reference.at_digest(&pulled.digest));
    println!("sha256   {}", pulled.sha256);
    println!("file     {}", output.display());
    Ok(())
}

fn current_abi() -> String {
    let v = envoyx_abi::envoyx_abi_version::CURRENT;
    format!("{}.{}", v.major, v.minor)
}

/// Whether a host of this build runs a module stating ABI `abi` (`major.minor`).
fn abi_runs_here(abi: &str) -> bool {
    let mut parts = abi.split('.').map(str::parse::<u32>);
    match (parts.next(), parts.next()) {
        (Some(Ok(major)), Some(Ok(minor))) => envoyx_core::accepts(
            envoyx_abi::envoyx_abi_version::CURRENT,
            envoyx_abi::envoyx_abi_version { major, minor },
        ),
        _ => false,
    }
}

fn list(common: &Common) -> Result<(), String> {
    let [place] = common.rest.as_slice() else {
        return Err(format!("list takes a registry, or a registry and repository\n{USAGE}"));
    };
    let place = place.trim_start_matches("oci://").trim_end_matches('/');
    let (registry, repository) = place.split_once('/').map_or((place, None), |(r, p)| (r, Some(p)));
    let repositories = match repository {
        Some(repository) => vec![repository.to_string()],
        None => {
            let any = Reference::parse(&format!("{registry}/catalog:latest"))?;
            Repository::open(&any, &common.options, "pull")?
                .catalog()
                .map_err(|e| format!("{registry}: {e}"))?
        }
    };
    let mut found = 0;
    for repository in repositories {
        let any = Reference::parse(&format!("{registry}/{repository}:latest"))?;
        let tags = Repository::open(&any, &common.options, "pull")?
            .tags()
            .map_err(|e| format!("{registry}/{repository}: {e}"))?;
        for tag in tags {
            let reference = Reference { target: Target::Tag(tag), ..any.clone() };
            match transfer::annotations(&reference, &common.options) {
                Ok((digest, annotations)) if annotations.contains_key(annotation::ABI) => {
                    found += 1;
                    println!("{reference}");
                    println!("  digest   {digest}");
                    for (key, label) in [
                        (annotation::MODULE, "module"),
                        (annotation::ABI, "abi"),
                        (annotation::SDK, "sdk"),
                        (annotation::TARGET, "target"),
                        (annotation::FILTERS, "filters"),
                        (annotation::DESCRIPTION, "about"),
                    ] {
                        if let Some(value) = annotations.get(key) {
                            println!("  {label:<8} {value}");
                        }
                    }
                }
                Ok(_) => {} // an image of another kind
                Err(e) => eprintln!("envoyx list: {e}"),
            }
        }
    }
    if found == 0 {
        println!("no EnvoyX modules in {place}");
    }
    Ok(())
}
