//! Typed errors. Every message names the file (or config field) and the reason, because these
//! messages end up in Envoy's log as the only explanation of a rejected configuration.

use envoyx_abi::envoyx_abi_version;
use std::fmt;
use std::path::PathBuf;

/// An ABI version, printed as `v1.0`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AbiVersion(pub envoyx_abi_version);

impl fmt::Display for AbiVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "v{}.{}", self.0.major, self.0.minor)
    }
}

/// A `DynamicModuleConfig` that cannot be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    /// The JSON form did not parse.
    #[error("EnvoyX config: malformed JSON: {0}")]
    MalformedJson(String),
    /// The protobuf form did not decode.
    #[error("EnvoyX config: malformed protobuf DynamicModuleConfig: {0}")]
    MalformedProto(String),
    /// A field has the wrong type or value.
    #[error("EnvoyX config: field `{field}`: {reason}")]
    Field { field: String, reason: String },
    /// `file_path` is absent or empty.
    #[error("EnvoyX config{}: field `file_path` is required and must not be empty", name_suffix(.name))]
    MissingFilePath { name: String },
}

fn name_suffix(name: &str) -> String {
    if name.is_empty() { String::new() } else { format!(" `{name}`") }
}

/// A module file that cannot be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("EnvoyX module {path}: file not found")]
    FileMissing { path: PathBuf },
    #[error("EnvoyX module {path}: cannot read the file: {reason}")]
    Unreadable { path: PathBuf, reason: String },
    #[error("EnvoyX module {path}: not a shared object: {reason}")]
    NotSharedObject { path: PathBuf, reason: String },
    #[error(
        "EnvoyX module {path}: the file is cut short: its {part} ends at byte {end}, but the file has \
         {actual} bytes (still being written or copied? write the new file elsewhere, then move it \
         into place); not loaded"
    )]
    Truncated { path: PathBuf, part: String, end: u64, actual: u64 },
    #[error("EnvoyX module {path}: wrong architecture: built for {found}, this host is {expected}")]
    WrongArchitecture { path: PathBuf, found: String, expected: String },
    #[error("EnvoyX module {path}: dlopen failed: {reason}")]
    Open { path: PathBuf, reason: String },
    #[error("EnvoyX module {path}: missing symbol `{symbol}` (every module must export it; see x/abi.h)")]
    MissingSymbol { path: PathBuf, symbol: &'static str },
    #[error(
        "EnvoyX module {path}: exports `{present}` but not `{missing}` (they come as a pair; see x/abi.h)"
    )]
    UnpairedSymbol { path: PathBuf, present: &'static str, missing: &'static str },
    #[error(
        "EnvoyX module {path}: ABI version mismatch: the module was built for EnvoyX ABI {module}, \
         this host speaks {host} and accepts {accepted}; rebuild the module with a matching SDK"
    )]
    AbiMismatch { path: PathBuf, module: AbiVersion, host: AbiVersion, accepted: String },
    #[error(
        "EnvoyX module {path}: it was built against a host function table of {needs} bytes, this \
         host's has {has} (module ABI {module}, host ABI {host}): it could call functions this host \
         does not have; build it against this host's x/abi.h (its SDK) or run it on a newer host"
    )]
    HostTableTooShort { path: PathBuf, needs: usize, has: usize, module: AbiVersion, host: AbiVersion },
    #[error("EnvoyX module {path}: program init failed: {reason}")]
    ProgramInitFailed { path: PathBuf, reason: String },
    #[error(
        "EnvoyX module {path}: a Go module, and the Go module {loaded} is already loaded in this \
         process: Go supports one Go runtime per process, and a Go module can never be unloaded, so \
         a second one (or a new version of one) needs an Envoy restart; build the filters into one \
         Go module"
    )]
    SecondGoRuntime { path: PathBuf, loaded: PathBuf },
    #[error(
        "EnvoyX module {path}: this Go module was rebuilt since this process loaded it (Go build id \
         {loaded} loaded, {on_disk} on disk): a Go runtime cannot be replaced in a running process, so \
         the new build runs after an Envoy restart, or under a new file name rolled out with a \
         rolling restart; configurations already running keep the loaded build, and new ones \
         naming this file are accepted again once it holds that build"
    )]
    GoModuleRebuilt { path: PathBuf, loaded: String, on_disk: String },
}

/// Anything that stops a filter configuration from being created.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Load(#[from] LoadError),
    /// A remote module is not in the cache (`remote.rs`): being fetched in the background, or
    /// its fetch failed. `module` is the URL and sha256, or the OCI reference.
    #[error("EnvoyX module {module}: {reason}; not loaded")]
    Fetch { module: String, reason: String },
    /// A module fetched by URL failed a check of loading.
    #[error("EnvoyX module fetched from {url}: {source}")]
    FetchedModule { url: String, source: LoadError },
    /// The module's `envoyx_on_filter_config_new` returned NULL.
    #[error("EnvoyX module {path}: filter config `{name}` rejected by the module: {reason}")]
    ConfigRejected { path: PathBuf, name: String, reason: String },
    /// The module's `envoyx_on_route_config_new` returned NULL.
    #[error("EnvoyX module {path}: per-route config `{name}` rejected by the module: {reason}")]
    RouteConfigRejected { path: PathBuf, name: String, reason: String },
    /// A per-route configuration names a module without the route-config hooks.
    #[error(
        "EnvoyX module {path}: per-route config `{name}`: the module takes no per-route configuration \
         (it does not export envoyx_on_route_config_new and envoyx_on_route_config_destroy)"
    )]
    RouteConfigUnsupported { path: PathBuf, name: String },
}

/// A host drove a stream out of order (a bug in the host, never in the module). The event was
/// not delivered to the module.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("EnvoyX stream: event {event} out of order: {reason}")]
pub struct EventOrderError {
    pub event: &'static str,
    pub reason: &'static str,
}
