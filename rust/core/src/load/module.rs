//! Loading module files: one load per file, shared by every filter config that names it.

use crate::error::{AbiVersion, LoadError};
use crate::load::file_identity::FileIdentity;
use crate::stream::error_sink::ErrorSink;
use crate::stream::host_api::HOST_API;
use crate::stream::setup::Hooks;
use crate::sync::lock;
use envoyx_abi::*;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, Weak};

/// A loaded module file. Dropping the last `Arc` unloads it, unless it was loaded with
/// `do_not_dlclose`, in which case the registry keeps it for the life of the process.
pub struct Module {
    path: PathBuf,
    abi_version: envoyx_abi_version,
    /// The optional exports it has, by name (`envoyx_abi::ModuleExports::optional_present`).
    optional_exports: Vec<&'static str>,
    pub(crate) hooks: Hooks,
    /// The file it was loaded from, as it was then. None for a module linked into this program.
    file: Option<ModuleFile>,
    // Keeps the code behind `hooks` mapped; dropped after everything but `_copy`. None for a
    // module linked into this program ([`Module::in_process`]).
    _library: Option<libloading::os::unix::Library>,
    // The in-memory copy it was loaded from, if any: open while the library is, so that its
    // `/proc/self/fd/<n>` name stays its own (declared last, so closed after the unload).
    _copy: Option<std::fs::File>,
}

impl Drop for Module {
    /// Unloads the library — if the module says it may be unmapped (`envoyx_on_program_unload`,
    /// asked here, on the main thread) — then closes its in-memory copy, unless the dynamic
    /// loader kept the library loaded (a module with thread-local destructors still registered,
    /// for one): its name `/proc/self/fd/<n>` then stays in the loader's list, and a later copy
    /// given the same descriptor number would be handed this module by name. Such a copy stays
    /// open for good, so that its number, and so the name, is never reused.
    fn drop(&mut self) {
        let Some(library) = self._library.take() else { return };
        if !self.may_unmap() {
            // Never dlclose'd: the code stays mapped and any thread of the module runs on. The
            // copy stays open (its name is the loaded object's), and a later load of the same
            // file is given a copy of its own ([`kept_mapped`]).
            std::mem::forget(library);
            std::mem::forget(self._copy.take());
            if let Some(file) = &self.file {
                lock(&KEPT_MAPPED).push(file.identity.clone());
            }
            return;
        }
        drop(library);
        let Some(copy) = self._copy.take() else { return };
        use std::os::fd::AsRawFd;
        const RTLD_NOLOAD: i32 = 0x4; // glibc: look up an already-loaded object only
        let name = format!("/proc/self/fd/{}", copy.as_raw_fd());
        // Safety: with RTLD_NOLOAD nothing is loaded or initialised; a handle returned for an
        // object still loaded is closed again at once by its drop.
        let still_loaded = unsafe {
            libloading::os::unix::Library::open(Some(&name), RTLD_NOLOAD | libloading::os::unix::RTLD_LAZY)
        };
        if still_loaded.is_ok() {
            crate::log::core_log!(
                Info,
                "EnvoyX: {} stays mapped after its unload (the dynamic loader keeps it); its in-memory copy stays open so that no later load is taken for it",
                self.path.display()
            );
            std::mem::forget(copy);
        }
    }
}

/// The module files the dynamic loader still has because their module asked to stay mapped
/// (`envoyx_on_program_unload` returned false): a later load of one of them is given a private
/// copy, so that it runs a fresh instance rather than the one still running its threads.
static KEPT_MAPPED: Mutex<Vec<FileIdentity>> = Mutex::new(Vec::new());

/// Whether `identity` stays mapped because its module asked to (see [`KEPT_MAPPED`]).
pub(crate) fn kept_mapped(identity: &FileIdentity) -> bool {
    lock(&KEPT_MAPPED).contains(identity)
}

impl Module {
    /// Asks the module whether it may be unmapped now (its `envoyx_on_program_unload`); a
    /// module without the export is pinned at load and never gets here, so None counts as no.
    fn may_unmap(&self) -> bool {
        let Some(unload) = self.hooks.program_unload else { return false };
        if self.shares_functions() {
            crate::log::core_log!(
                Info,
                "EnvoyX module {}: it shared a function with other modules (function_register), so it \
                 stays mapped until the process exits and is not asked to unload",
                self.path.display()
            );
            return false;
        }
        // Safety: the export has the header's type; nothing of the module runs any more on the
        // host's side (its last configuration and stream are gone), as x/abi.h promises.
        let may = unsafe { unload() };
        if !may {
            crate::log::core_log!(
                Info,
                "EnvoyX module {}: envoyx_on_program_unload returned false: it stays mapped until the \
                 process exits",
                self.path.display()
            );
        }
        may
    }
}

impl Module {
    /// A module linked into this program rather than loaded from a file: the SDK's in-process
    /// test mode (`envoyx_sdk::module_exports::<Config>()`). It goes through the same checks as
    /// a file (ABI version, program init) and then runs under the same core, rules and
    /// validation. `label` stands in for the file path in messages (`(in-process) label`).
    pub fn in_process(label: &str, exports: ModuleExports) -> Result<Arc<Module>, LoadError> {
        let path = PathBuf::from(format!("(in-process) {label}"));
        init(&path, exports, None, envoyx_abi_version::CURRENT).map(Arc::new)
    }

    /// Whether a function of this module's file was registered for the other modules (ABI 1.2
    /// `function_register`): its object then stays loaded for good.
    fn shares_functions(&self) -> bool {
        let hook = self.hooks.stream_new as *const std::ffi::c_void;
        crate::shared::object_of(hook).is_some_and(|(base, _)| crate::shared::holds_functions_of(base))
    }

    /// The file it was loaded from, as it was then (None for an in-process module).
    pub fn file(&self) -> Option<&ModuleFile> {
        self.file.as_ref()
    }

    /// The path the module was loaded from, as configured.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The ABI version the module reported.
    pub fn abi_version(&self) -> envoyx_abi_version {
        self.abi_version
    }

    /// The optional exports (ABI 1.1 on) this module has, by symbol name, in the header's order.
    pub fn optional_exports(&self) -> Vec<&'static str> {
        self.optional_exports.clone()
    }
}

impl std::fmt::Debug for Module {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Module").field("path", &self.path).field("abi_version", &self.abi_version).finish()
    }
}

/// One loaded version of a module file, as log lines name it.
#[derive(Clone, Debug)]
pub struct ModuleFile {
    pub(crate) identity: FileIdentity,
    build_id: Option<String>,
    /// What `/proc/<pid>/maps` shows for the mapping: the configured file, or EnvoyX's private
    /// copy of it (`/memfd:envoyx-<n>-<file name>`, shown with ` (deleted)`).
    mapped_as: PathBuf,
    /// Why it is never unmapped, if it is not.
    pub(crate) kept: Option<Kept>,
    /// Built by Go, its Go build id (`.note.go.buildid`): loading it started a Go runtime.
    pub(crate) go: Option<String>,
}

impl ModuleFile {
    /// What `/proc/<pid>/maps` shows for the mapping (a private copy's name is unique in the
    /// process).
    pub fn mapped_as(&self) -> &Path {
        &self.mapped_as
    }

    /// The GNU build id, in hex, if the linker wrote one.
    pub fn build_id(&self) -> Option<&str> {
        self.build_id.as_deref()
    }
}

impl std::fmt::Display for ModuleFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.identity)?;
        match &self.build_id {
            Some(build_id) => write!(f, ", build id {build_id}"),
            None => write!(f, ", no build id"),
        }
    }
}

/// Why a loaded module file stays mapped until the process exits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kept {
    /// The configuration says `do_not_dlclose`.
    DoNotDlclose,
    /// A Go module: a Go runtime cannot leave a process.
    Go,
    /// The module does not export `envoyx_on_program_unload`: a thread it started could still
    /// run its code.
    NoUnloadExport,
}

impl std::fmt::Display for Kept {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Kept::DoNotDlclose => "do_not_dlclose",
            Kept::Go => "a Go module",
            Kept::NoUnloadExport => {
                "the module does not export envoyx_on_program_unload, so a thread it started could \
                 still run its code"
            }
        })
    }
}

/// Every loaded module of the process.
#[derive(Default)]
pub struct ModuleRegistry {
    live: Mutex<HashMap<FileIdentity, Weak<Module>>>,
    // Modules loaded with `do_not_dlclose` stay loaded (and initialised) forever.
    pinned: Mutex<Vec<Arc<Module>>>,
    // The version of each path that the dynamic loader opened by its own name. The loader finds
    // an object by name before it looks at the file, so another version of that path is loaded
    // from a private copy, or dlopen would hand back the old code.
    direct: Mutex<HashMap<PathBuf, FileIdentity>>,
}

/// A Go module file to load while the Go module `loaded` is: the loaded one itself when `path`
/// is its file and still holds the same build (written again, touched, copied back: the same Go
/// build id), since a configuration naming it runs the same code; otherwise refused, saying
/// which case it is (Go supports one runtime per process, and a Go runtime never leaves it).
fn same_go_build(
    loaded: Arc<Module>,
    identity: &FileIdentity,
    path: &Path,
    build: &str,
) -> Result<Arc<Module>, LoadError> {
    let Some(file) = loaded.file() else {
        return Err(LoadError::SecondGoRuntime { path: path.into(), loaded: loaded.path().into() });
    };
    if file.identity.canonical != identity.canonical {
        return Err(LoadError::SecondGoRuntime { path: path.into(), loaded: loaded.path().into() });
    }
    let loaded_build = file.go.clone().unwrap_or_default();
    if loaded_build == build {
        return Ok(loaded);
    }
    Err(LoadError::GoModuleRebuilt { path: path.into(), loaded: loaded_build, on_disk: build.to_string() })
}

/// Which ABI versions a host accepts: every minor of its major up to its own. The table only
/// ever grows by appending (each append a new minor), so a module built for an earlier minor
/// finds every function it knows where it expects it; x/abi.h promises at least the previous
/// minor.
pub fn accepts(host: envoyx_abi_version, module: envoyx_abi_version) -> bool {
    module.major == host.major && module.minor <= host.minor
}

fn accepted_range(host: envoyx_abi_version) -> String {
    if host.minor == 0 {
        format!("only {}", AbiVersion(host))
    } else {
        let first = envoyx_abi_version { major: host.major, minor: 0 };
        format!("{} to {}", AbiVersion(first), AbiVersion(host))
    }
}

impl ModuleRegistry {
    /// The registry of this process.
    pub fn global() -> &'static ModuleRegistry {
        static GLOBAL: OnceLock<ModuleRegistry> = OnceLock::new();
        GLOBAL.get_or_init(ModuleRegistry::default)
    }

    /// Loads `path`, or returns the module already loaded from that file.
    pub fn load(&self, path: &Path, do_not_dlclose: bool) -> Result<Arc<Module>, LoadError> {
        self.load_for_host(path, do_not_dlclose, envoyx_abi_version::CURRENT)
    }

    /// Loads the module a configuration names: its `file_path`, or for a module named by URL the
    /// cache's copy, fetched first if the cache does not have it (`remote.rs`).
    pub fn load_configured(&self, config: &crate::ModuleConfig) -> Result<Arc<Module>, crate::Error> {
        let Some(remote) = &config.remote else {
            return Ok(self.load(Path::new(&config.file_path), config.do_not_dlclose)?);
        };
        let fetch_failed = |reason: String| crate::Error::Fetch { module: remote.describe(), reason };
        let path = match crate::load::remote_fetch::ensure_cached(remote)
            .map_err(|m| fetch_failed(m.to_string()))?
        {
            crate::load::remote_fetch::Fetched::CacheHit(path) => path,
            crate::load::remote_fetch::Fetched::Downloaded(bytes, path) => {
                crate::log::core_log!(
                    Info,
                    "EnvoyX module {}: fetched {bytes} bytes into {}",
                    remote.describe(),
                    path.display()
                );
                path
            }
        };
        self.load(&path, config.do_not_dlclose)
            .map_err(|source| crate::Error::FetchedModule { url: remote.location(), source })
    }

    /// [`ModuleRegistry::load`] for a host speaking `host_version`. Hosts use `load`; this exists
    /// so tests can check the version policy against hosts newer than this build.
    pub fn load_for_host(
        &self,
        path: &Path,
        do_not_dlclose: bool,
        host_version: envoyx_abi_version,
    ) -> Result<Arc<Module>, LoadError> {
        self.load_with(path, do_not_dlclose, false, host_version)
    }

    /// Loads `path` for a configuration that reloads it when the file changes: always from a
    /// private copy, so that writing over the configured file never changes code that runs.
    pub(crate) fn load_reloadable(
        &self,
        path: &Path,
        do_not_dlclose: bool,
    ) -> Result<Arc<Module>, LoadError> {
        self.load_with(path, do_not_dlclose, true, envoyx_abi_version::CURRENT)
    }

    fn load_with(
        &self,
        path: &Path,
        do_not_dlclose: bool,
        private_copy: bool,
        host_version: envoyx_abi_version,
    ) -> Result<Arc<Module>, LoadError> {
        let identity = FileIdentity::of(path)?;
        // Held across the load so two configs naming one file load it once.
        let mut live = lock(&self.live);
        if let Some(module) = live.get(&identity).and_then(Weak::upgrade) {
            if do_not_dlclose {
                self.pin(&module);
            }
            return Ok(module);
        }
        live.retain(|_, weak| weak.strong_count() > 0);
        // A Go module starts a Go runtime, which never leaves the process: keep it, and refuse a
        // second one (Go supports one runtime per process).
        let go_build = crate::load::elf::go_build_id(path);
        if let Some(build) = &go_build {
            let loaded =
                live.values().filter_map(Weak::upgrade).find(|m| m.file().is_some_and(|f| f.go.is_some()));
            if let Some(loaded) = loaded {
                return same_go_build(loaded, &identity, path, build);
            }
        }
        let go = go_build.is_some();
        let do_not_dlclose = do_not_dlclose || go;
        let mut direct = lock(&self.direct);
        let noexec = on_noexec_mount(path);
        if noexec {
            crate::log::core_log!(
                Info,
                "EnvoyX module {}: the file is on a filesystem mounted noexec (a Kubernetes image volume \
                 is); loading it from an in-memory copy",
                path.display()
            );
        }
        let copy = private_copy
            || noexec
            || kept_mapped(&identity)
            || direct.get(&identity.canonical).is_some_and(|first| *first != identity);
        let mut module = if copy {
            open_copy(path, &identity, do_not_dlclose, host_version)?
        } else {
            let module = open(path, path, identity.clone(), do_not_dlclose, host_version)?;
            direct.insert(identity.canonical.clone(), identity.clone());
            module
        };
        // A module that cannot say its threads are finished is never unloaded (x/abi.h,
        // `envoyx_on_program_unload`): kept like `do_not_dlclose`.
        let kept = match () {
            _ if go => Some(Kept::Go),
            _ if do_not_dlclose => Some(Kept::DoNotDlclose),
            _ if module.hooks.program_unload.is_none() => Some(Kept::NoUnloadExport),
            _ => None,
        };
        if let Some(file) = &mut module.file {
            file.go = go_build;
            file.kept = kept;
        }
        let module = Arc::new(module);
        live.insert(identity, Arc::downgrade(&module));
        if kept.is_some() {
            self.pin(&module);
        }
        if go {
            crate::log::core_log!(
                Info,
                "EnvoyX module {} is a Go module: a Go runtime cannot leave a process, so it stays \
                 loaded until Envoy exits (as with do_not_dlclose)",
                path.display()
            );
        }
        Ok(module)
    }

    fn pin(&self, module: &Arc<Module>) {
        let mut pinned = lock(&self.pinned);
        if !pinned.iter().any(|m| Arc::ptr_eq(m, module)) {
            pinned.push(module.clone());
        }
    }

    /// How many distinct module files are loaded now.
    pub fn loaded_count(&self) -> usize {
        lock(&self.live).values().filter(|w| w.strong_count() > 0).count()
    }
}

/// The checks [`ModuleRegistry::load`] makes on a module file before it `dlopen`s it: the file
/// exists, is a readable regular file, and is a whole ELF shared object for this host's
/// architecture (everything the loader maps lies inside the file).
/// Nothing is loaded and no module code runs, so tools (`envoyx check`) can call it on any file.
/// The error is the one `load` would return.
pub fn check_file(path: &Path) -> Result<(), LoadError> {
    FileIdentity::of(path)?;
    crate::load::elf::read_checked(path, path).map(drop)
}

/// The dynamic loader's own words: libloading's `Display` says only "dlopen failed" and keeps
/// dlerror()'s text (e.g. which dependent library is missing) as the error's source.
fn dlopen_reason(error: &libloading::Error) -> String {
    std::error::Error::source(error).map_or_else(|| error.to_string(), |source| source.to_string())
}

/// Whether `path` is on a filesystem mounted `noexec`, where the dynamic loader cannot map code
/// (it fails with "failed to map segment from shared object"): Kubernetes mounts image volumes
/// so. Such a file is loaded from a private copy in memory instead.
fn on_noexec_mount(path: &Path) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let Ok(c_path) = std::ffi::CString::new(path.as_os_str().as_bytes()) else { return false };
    // Safety: a zeroed statvfs is a valid out-parameter.
    let mut stat: libc::statvfs = unsafe { std::mem::zeroed() };
    // Safety: the path is NUL-terminated and `stat` is writable; both outlive the call.
    let result = unsafe { libc::statvfs(c_path.as_ptr(), &mut stat) };
    result == 0 && stat.f_flag & libc::ST_NOEXEC != 0
}

/// Loads `path` from a private copy (`private_copy.rs`) under a name no other load uses.
fn open_copy(
    path: &Path,
    identity: &FileIdentity,
    do_not_dlclose: bool,
    host_version: envoyx_abi_version,
) -> Result<Module, LoadError> {
    let copy = crate::load::private_copy::make(path, identity)?;
    let loaded = open(path, &copy.load_from, identity.clone(), do_not_dlclose, host_version);
    copy.discard();
    let mut module = loaded?;
    if let Some(file) = &mut module.file {
        file.mapped_as = copy.mapped_as;
    }
    if let crate::load::private_copy::Keep::Memfd(memfd) = copy.keep {
        module._copy = Some(memfd);
    }
    Ok(module)
}

/// Loads the module: `path` is the configured file (what messages name), `load_from` what the
/// dynamic loader opens (the same file, or a private copy of it).
fn open(
    path: &Path,
    load_from: &Path,
    identity: FileIdentity,
    do_not_dlclose: bool,
    host_version: envoyx_abi_version,
) -> Result<Module, LoadError> {
    use libloading::os::unix::{Library, RTLD_LAZY, RTLD_LOCAL};
    // What the loader opens is checked whole first: a private copy cannot change any more; the
    // configured file itself could only be changed in the moment until dlopen (see x/abi.h).
    let bytes = crate::load::elf::read_checked(path, load_from)?;
    let file = ModuleFile {
        identity,
        build_id: crate::load::elf::build_id(&bytes),
        mapped_as: load_from.to_path_buf(),
        kept: None,
        go: None,
    };
    // RTLD_NODELETE: dlclose never unmaps the file (Go c-shared libraries cannot be unloaded).
    const RTLD_NODELETE: i32 = 0x1000;
    let flags = RTLD_LAZY | RTLD_LOCAL | if do_not_dlclose { RTLD_NODELETE } else { 0 };
    // Safety: loading runs the module's initialisers; loading arbitrary native code is what a
    // module system does, and the file was named by the operator's configuration.
    let library = unsafe { Library::open(Some(load_from), flags) }.map_err(|e| LoadError::Open {
        path: path.into(),
        reason: dlopen_reason(&e).replace(&*load_from.to_string_lossy(), &path.to_string_lossy()),
    })?;

    // Resolve every symbol before calling any, so a missing one is reported without side effects.
    let exports = resolve_exports(|name| {
        // Safety: only the symbol's address is read here; `resolve_exports` gives it the type
        // x/abi.h declares for that name.
        let symbol = unsafe { library.get::<*const std::ffi::c_void>(name.as_bytes()) };
        symbol.ok().map(|s| *s)
    })
    .map_err(|missing| missing.at(path))?;
    let mut module = init(path, exports, Some(library), host_version)?;
    module.file = Some(file);
    Ok(module)
}

/// A module's exports the lookup did not make whole: a required symbol missing, or one
/// route-config hook without the other.
#[derive(Debug)]
pub enum MissingExport {
    Symbol(&'static str),
    Unpaired { present: &'static str, missing: &'static str },
}

impl MissingExport {
    /// The load error for the module file `path`.
    pub fn at(self, path: &Path) -> LoadError {
        match self {
            MissingExport::Symbol(symbol) => LoadError::MissingSymbol { path: path.into(), symbol },
            MissingExport::Unpaired { present, missing } => {
                LoadError::UnpairedSymbol { path: path.into(), present, missing }
            }
        }
    }
}

/// Builds a module's exports from `lookup`, which gives the address of an x/abi.h export by name
/// (None when absent): from a loaded file's symbol table, or from a table a program hands over
/// for its own linked-in module (the test host's C API). Every address must be the function of
/// that name with the type x/abi.h declares.
pub fn resolve_exports(
    lookup: impl Fn(&str) -> Option<*const std::ffi::c_void>,
) -> Result<ModuleExports, MissingExport> {
    macro_rules! optional {
        ($name:literal, $ty:ty) => {
            lookup($name)
                .filter(|address| !address.is_null())
                // Safety: the address is of the export `$name`, declared in x/abi.h with exactly
                // the type `$ty` (the lookup's contract); function pointers and data pointers
                // have one size on the platforms EnvoyX runs on.
                .map(|address| unsafe { std::mem::transmute::<*const std::ffi::c_void, $ty>(address) })
        };
    }
    macro_rules! required {
        ($name:literal, $ty:ty) => {
            optional!($name, $ty).ok_or(MissingExport::Symbol($name))?
        };
    }
    let exports = ModuleExports {
        module_abi_version: required!("envoyx_module_abi_version", envoyx_module_abi_version_fn),
        on_program_init: required!("envoyx_on_program_init", envoyx_on_program_init_fn),
        on_filter_config_new: required!("envoyx_on_filter_config_new", envoyx_on_filter_config_new_fn),
        on_filter_config_destroy: required!(
            "envoyx_on_filter_config_destroy",
            envoyx_on_filter_config_destroy_fn
        ),
        on_stream_new: required!("envoyx_on_stream_new", envoyx_on_stream_new_fn),
        on_request_headers: required!("envoyx_on_request_headers", envoyx_on_headers_fn),
        on_request_body: required!("envoyx_on_request_body", envoyx_on_body_fn),
        on_request_trailers: required!("envoyx_on_request_trailers", envoyx_on_trailers_fn),
        on_response_headers: required!("envoyx_on_response_headers", envoyx_on_headers_fn),
        on_response_body: required!("envoyx_on_response_body", envoyx_on_body_fn),
        on_response_trailers: required!("envoyx_on_response_trailers", envoyx_on_trailers_fn),
        on_stream_complete: required!("envoyx_on_stream_complete", envoyx_on_stream_complete_fn),
        on_stream_destroy: required!("envoyx_on_stream_destroy", envoyx_on_stream_destroy_fn),
        on_stream_scheduled: optional!("envoyx_on_stream_scheduled", envoyx_on_stream_scheduled_fn),
        on_filter_config_scheduled: optional!(
            "envoyx_on_filter_config_scheduled",
            envoyx_on_filter_config_scheduled_fn
        ),
        on_stream_callout_done: optional!("envoyx_on_stream_callout_done", envoyx_on_stream_callout_done_fn),
        on_stream_callout_event: optional!(
            "envoyx_on_stream_callout_event",
            envoyx_on_stream_callout_event_fn
        ),
        on_filter_config_callout_done: optional!(
            "envoyx_on_filter_config_callout_done",
            envoyx_on_filter_config_callout_done_fn
        ),
        on_filter_config_callout_event: optional!(
            "envoyx_on_filter_config_callout_event",
            envoyx_on_filter_config_callout_event_fn
        ),
        on_stream_watermark: optional!("envoyx_on_stream_watermark", envoyx_on_stream_watermark_fn),
        on_stream_local_reply: optional!("envoyx_on_stream_local_reply", envoyx_on_stream_local_reply_fn),
        on_route_config_new: optional!("envoyx_on_route_config_new", envoyx_on_route_config_new_fn),
        on_route_config_destroy: optional!(
            "envoyx_on_route_config_destroy",
            envoyx_on_route_config_destroy_fn
        ),
        on_program_unload: optional!("envoyx_on_program_unload", envoyx_on_program_unload_fn),
        module_host_api_size: optional!("envoyx_module_host_api_size", envoyx_module_host_api_size_fn),
    };
    // The route-config hooks come as a pair: one without the other is a missing symbol.
    let (new, destroy) = ("envoyx_on_route_config_new", "envoyx_on_route_config_destroy");
    match (exports.on_route_config_new.is_some(), exports.on_route_config_destroy.is_some()) {
        (true, false) => Err(MissingExport::Unpaired { present: new, missing: destroy }),
        (false, true) => Err(MissingExport::Unpaired { present: destroy, missing: new }),
        _ => Ok(exports),
    }
}

/// Checks the module's ABI version and runs its program init: the same for a loaded file and an
/// in-process module.
fn init(
    path: &Path,
    exports: ModuleExports,
    library: Option<libloading::os::unix::Library>,
    host_version: envoyx_abi_version,
) -> Result<Module, LoadError> {
    // Safety: the export has the header's type; it takes nothing and must not call the host.
    let module_version = unsafe { (exports.module_abi_version)() };
    if !accepts(host_version, module_version) {
        return Err(LoadError::AbiMismatch {
            path: path.into(),
            module: AbiVersion(module_version),
            host: AbiVersion(host_version),
            accepted: accepted_range(host_version),
        });
    }
    if let Some(needs) = exports.module_host_api_size {
        // Safety: the export has the header's type; it takes nothing and must not call the host.
        let needs = unsafe { needs() };
        let has = HOST_API.size as usize;
        if needs > has {
            return Err(LoadError::HostTableTooShort {
                path: path.into(),
                needs,
                has,
                module: AbiVersion(module_version),
                host: AbiVersion(host_version),
            });
        }
    }
    let mut error = ErrorSink { message: None, creating: None };
    // Safety: HOST_API is a 'static table of the header's layout; `error` outlives the call.
    let ok = error.lend(|error| unsafe { (exports.on_program_init)(&HOST_API, error) });
    if !ok {
        return Err(LoadError::ProgramInitFailed {
            path: path.into(),
            reason: error.take_or("the module returned false without a reason"),
        });
    }
    let hooks = Hooks {
        filter_config_new: exports.on_filter_config_new,
        filter_config_destroy: exports.on_filter_config_destroy,
        stream_new: exports.on_stream_new,
        request_headers: exports.on_request_headers,
        request_body: exports.on_request_body,
        request_trailers: exports.on_request_trailers,
        response_headers: exports.on_response_headers,
        response_body: exports.on_response_body,
        response_trailers: exports.on_response_trailers,
        stream_complete: exports.on_stream_complete,
        stream_destroy: exports.on_stream_destroy,
        stream_scheduled: exports.on_stream_scheduled,
        filter_config_scheduled: exports.on_filter_config_scheduled,
        stream_callout_done: exports.on_stream_callout_done,
        stream_callout_event: exports.on_stream_callout_event,
        filter_config_callout_done: exports.on_filter_config_callout_done,
        filter_config_callout_event: exports.on_filter_config_callout_event,
        stream_watermark: exports.on_stream_watermark,
        stream_local_reply: exports.on_stream_local_reply,
        route_config_new: exports.on_route_config_new,
        route_config_destroy: exports.on_route_config_destroy,
        program_unload: exports.on_program_unload,
    };
    Ok(Module {
        path: path.into(),
        abi_version: module_version,
        optional_exports: exports
            .optional_present()
            .into_iter()
            .filter_map(|(name, present)| present.then_some(name))
            .collect(),
        hooks,
        file: None,
        _library: library,
        _copy: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(major: u32, minor: u32) -> envoyx_abi_version {
        envoyx_abi_version { major, minor }
    }

    #[test]
    fn version_policy_accepts_every_earlier_minor_of_the_major() {
        assert!(accepts(v(1, 3), v(1, 3)));
        assert!(accepts(v(1, 3), v(1, 2)));
        assert!(accepts(v(1, 3), v(1, 0)), "an older minor: its table is a prefix of the host's");
        assert!(!accepts(v(1, 3), v(1, 4)), "newer than the host");
        assert!(!accepts(v(1, 0), v(0, 0)));
        assert!(!accepts(v(2, 0), v(1, 0)));
        assert!(!accepts(v(2, 1), v(1, 1)), "another major");
        assert_eq!(accepted_range(v(1, 3)), "v1.0 to v1.3");
        assert_eq!(accepted_range(v(1, 0)), "only v1.0");
    }

    #[test]
    fn dlopen_failure_gives_the_loaders_reason() {
        // A valid shared object that needs a library which is gone: only dlopen can tell.
        let dir = std::env::temp_dir().join(format!("envoyx-dlopen-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let cc = std::env::var("CC").unwrap_or_else(|_| "cc".to_string());
        let build = |out: &str, source: &str, extra: &[&str]| {
            let c = dir.join(format!("{out}.c"));
            std::fs::write(&c, source).unwrap();
            let status = std::process::Command::new(&cc)
                .args(["-shared", "-fPIC", "-o"])
                .arg(dir.join(out))
                .arg(&c)
                .args(extra)
                .status()
                .unwrap();
            assert!(status.success(), "{cc} failed building {out}");
        };
        build("libenvoyx_gone_dep.so", "int envoyx_gone_dep(void) { return 1; }\n", &[]);
        let lib_dir = format!("-L{}", dir.display());
        build(
            "needs_gone.so",
            "int envoyx_gone_dep(void);\nint call(void) { return envoyx_gone_dep(); }\n",
            &[&lib_dir, "-lenvoyx_gone_dep"],
        );
        std::fs::remove_file(dir.join("libenvoyx_gone_dep.so")).unwrap();
        let module = dir.join("needs_gone.so");
        let identity = FileIdentity::of(&module).unwrap();
        let Err(err) = open(&module, &module, identity, false, envoyx_abi_version::CURRENT) else {
            panic!("loading a module whose dependency is gone must fail")
        };
        assert!(matches!(err, LoadError::Open { .. }), "{err}");
        assert!(err.to_string().contains("libenvoyx_gone_dep.so"), "the missing dependency is named: {err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
