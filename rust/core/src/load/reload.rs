//! Hot reload: a filter configuration with `reload_on_file_change` loads its module file again
//! when the file is replaced, and the new version takes new streams once it has passed every
//! check; streams already running finish on the version they started on.
//!
//! Threads: one process-wide watcher thread polls the watched files every [`POLL`] and never
//! runs module code. It asks the host's main thread (through the configuration's
//! [`ConfigHost::wake`]) to reload or to unload drained versions; loading, the module's
//! configuration hooks and unloading all happen there, as on a first load.
//!
//! A version is a [`ConfigVersion`]: its module is loaded from a private copy of the file
//! (`ModuleRegistry::load_reloadable`), so the dynamic loader maps the new code and not the
//! object it already has under that name, and writing over the configured file never touches
//! code that runs. Each wake the host delivers stands for one [`Wake`], in order; the versions'
//! own events are routed through the same queue ([`VersionHost`]).

use crate::error::{ConfigError, Error};
use crate::load::config::ModuleConfig;
use crate::load::config_version::ConfigVersion;
use crate::load::file_identity::FileIdentity;
use crate::load::filter_config::FilterConfig;
use crate::load::module::{Module, ModuleRegistry};
use crate::log::core_log;
use crate::stream::background::ConfigHost;
use crate::stream::callout::Callout;
use crate::stream::callout_data::CalloutStatus;
use crate::stream::metrics::MetricDef;
use crate::stream::secrets::Secrets;
use crate::stream::setup::StreamConfig;
use crate::sync::{lock, read, write};
use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, RwLock, Weak};
use std::time::Duration;

/// How often the watcher looks at each watched file. A file must look the same on two polls in
/// a row before it is loaded, so that one written in place is not loaded half-written.
pub const POLL: Duration = Duration::from_millis(250);

/// Hot reload's figures for one configuration.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReloadStats {
    /// New versions that took over.
    pub reloads: u64,
    /// Replacements refused (the running version kept serving).
    pub refused: u64,
    /// Earlier versions still finishing streams.
    pub draining: u64,
}

/// What one wake of the host's main thread is for.
enum Wake {
    /// The next queued event of the version with this generation.
    Version(u64),
    /// The file changed and has stopped changing: load it.
    Reload,
    /// A retired version has no stream left: destroy it (and unload its module).
    Sweep,
}

/// What the watcher thread and the versions share with the configuration. It owns no version,
/// so whichever thread drops it last runs no module code.
struct Watch {
    path: PathBuf,
    host: Arc<dyn ConfigHost>,
    /// The configuration's secrets, subscribed once for every version.
    secrets: Arc<Secrets>,
    wakes: Mutex<VecDeque<Wake>>,
    /// The file as last loaded or refused: the watcher asks again only for another one.
    handled: Mutex<Option<FileIdentity>>,
    /// The file as the previous poll saw it.
    last_seen: Mutex<Option<FileIdentity>>,
    reload_queued: AtomicBool,
    sweep_queued: AtomicBool,
    /// The retired versions, to see when one has no stream left (only `Reloading` holds it).
    retired: Mutex<Vec<Weak<ConfigVersion>>>,
    reloads: AtomicU64,
    refused: AtomicU64,
}

impl Watch {
    fn push(&self, wake: Wake) {
        lock(&self.wakes).push_back(wake);
        self.host.wake();
    }

    /// One look at the file and at the retired versions (watcher thread).
    fn poll(&self) {
        if !self.reload_queued.load(Ordering::Acquire) {
            let now = FileIdentity::of(&self.path).ok();
            let mut last_seen = lock(&self.last_seen);
            let settled = now.is_some() && *last_seen == now;
            if settled && *lock(&self.handled) != now {
                self.reload_queued.store(true, Ordering::Release);
                self.push(Wake::Reload);
            }
            *last_seen = now;
        }
        let drained = lock(&self.retired).iter().any(|version| version.strong_count() == 1);
        if drained && !self.sweep_queued.swap(true, Ordering::AcqRel) {
            self.push(Wake::Sweep);
        }
    }
}

/// The watched configurations of the process, and the thread that polls them.
fn watch(watch: &Arc<Watch>) {
    static WATCHED: OnceLock<Mutex<Vec<Weak<Watch>>>> = OnceLock::new();
    let mut started = false;
    let watched = WATCHED.get_or_init(|| {
        started = true;
        Mutex::default()
    });
    lock(watched).push(Arc::downgrade(watch));
    if started {
        let spawned = std::thread::Builder::new().name("envoyx-reload".into()).spawn(move || {
            loop {
                std::thread::sleep(POLL);
                let alive: Vec<Arc<Watch>> = {
                    let mut watched = lock(watched);
                    watched.retain(|w| w.strong_count() > 0);
                    watched.iter().filter_map(Weak::upgrade).collect()
                };
                for watch in alive {
                    watch.poll();
                }
            }
        });
        if let Err(e) = spawned {
            core_log!(Error, "EnvoyX: cannot start the hot-reload watcher thread: {e}; no file is watched");
        }
    }
}

/// Every reloading filter configuration of the process, so that one reload moves all the
/// configurations of a file together.
fn reloading_configs() -> MutexGuard<'static, Vec<Weak<FilterConfig>>> {
    static CONFIGS: Mutex<Vec<Weak<FilterConfig>>> = Mutex::new(Vec::new());
    let mut configs = lock(&CONFIGS);
    configs.retain(|config| config.strong_count() > 0);
    configs
}

/// Records a reloading configuration (right after it is created).
pub(crate) fn register(config: &Arc<FilterConfig>) {
    reloading_configs().push(Arc::downgrade(config));
}

/// The other reloading configurations watching the same file as `watch` (main thread: whoever
/// drops the last reference here runs the configuration's destroy where it must run).
fn peers_of(watch: &Arc<Watch>) -> Vec<Arc<FilterConfig>> {
    let same_file =
        |other: &Watch| match (std::fs::canonicalize(&other.path), std::fs::canonicalize(&watch.path)) {
            (Ok(a), Ok(b)) => a == b,
            _ => other.path == watch.path,
        };
    let configs: Vec<Arc<FilterConfig>> = reloading_configs().iter().filter_map(Weak::upgrade).collect();
    configs
        .into_iter()
        .filter(|config| {
            config.reloading().is_some_and(|r| !Arc::ptr_eq(&r.watch, watch) && same_file(&r.watch))
        })
        .collect()
}

/// A version's [`ConfigHost`]: routes its wakes through the configuration's queue (so they reach
/// this version) and gives back the ids of metrics an earlier version already defined, since a
/// proxy may refuse to create stats after its configuration was loaded.
struct VersionHost {
    generation: u64,
    watch: Arc<Watch>,
    defined: Vec<(MetricDef, u64)>,
}

impl ConfigHost for VersionHost {
    fn wake(&self) {
        self.watch.push(Wake::Version(self.generation));
    }

    fn http_callout(&self, id: u64, callout: &Callout<'_>) -> Result<(), CalloutStatus> {
        self.watch.host.http_callout(id, callout)
    }

    fn callout_stream_start(
        &self,
        id: u64,
        callout: &Callout<'_>,
        end_of_stream: bool,
    ) -> Result<(), CalloutStatus> {
        self.watch.host.callout_stream_start(id, callout, end_of_stream)
    }

    fn callout_stream_send(&self, id: u64, data: &[u8], end_of_stream: bool) -> bool {
        self.watch.host.callout_stream_send(id, data, end_of_stream)
    }

    fn callout_stream_send_trailers(
        &self,
        id: u64,
        trailers: &[(std::borrow::Cow<'_, [u8]>, &[u8])],
    ) -> bool {
        self.watch.host.callout_stream_send_trailers(id, trailers)
    }

    fn callout_stream_reset(&self, id: u64) {
        self.watch.host.callout_stream_reset(id)
    }

    fn define_metric(&self, def: &MetricDef) -> Result<u64, String> {
        match self.defined.iter().find(|(defined, _)| defined == def) {
            Some((_, id)) => Ok(*id),
            None => self.watch.host.define_metric(def),
        }
    }
}

/// Callout ids per version: each version's start here, so that an answer finds its version.
fn first_callout_id(generation: u64) -> u64 {
    (generation << 40) + 1
}

/// A reloading configuration's versions (see the module's documentation).
pub(crate) struct Reloading {
    source: ModuleConfig,
    watch: Arc<Watch>,
    /// The version taking new streams, and its generation.
    current: RwLock<(u64, Arc<ConfigVersion>)>,
    /// Earlier versions that still had streams when they were replaced.
    retired: Mutex<Vec<(u64, Arc<ConfigVersion>)>>,
    next_generation: AtomicU64,
}

impl Reloading {
    /// Loads the first version (main thread) and starts watching the file.
    pub fn start(
        source: &ModuleConfig,
        host: Option<Arc<dyn ConfigHost>>,
        secrets: Arc<Secrets>,
    ) -> Result<Self, Error> {
        let Some(host) = host else {
            return Err(Error::Config(ConfigError::Field {
                field: "reload_on_file_change".to_string(),
                reason: "this host has no main thread to reload modules on".to_string(),
            }));
        };
        let path = PathBuf::from(&source.file_path);
        let watch = Arc::new(Watch {
            path: path.clone(),
            host,
            secrets,
            wakes: Mutex::default(),
            handled: Mutex::default(),
            last_seen: Mutex::default(),
            reload_queued: AtomicBool::new(false),
            sweep_queued: AtomicBool::new(false),
            retired: Mutex::default(),
            reloads: AtomicU64::new(0),
            refused: AtomicU64::new(0),
        });
        let first = Self::load(source, &watch, 0, Vec::new())?;
        let loaded = first.module().file().map(|file| file.identity.clone());
        *lock(&watch.last_seen) = loaded.clone();
        *lock(&watch.handled) = loaded;
        self::watch(&watch);
        core_log!(
            Info,
            "EnvoyX: filter `{}`: watching {} to reload it when it is replaced{}",
            source.name,
            path.display(),
            describe_file(first.module())
        );
        Ok(Self {
            source: source.clone(),
            watch,
            current: RwLock::new((0, first)),
            retired: Mutex::default(),
            next_generation: AtomicU64::new(1),
        })
    }

    /// Loads the file as version `generation` and creates the module's configuration on it.
    fn load(
        source: &ModuleConfig,
        watch: &Arc<Watch>,
        generation: u64,
        defined: Vec<(MetricDef, u64)>,
    ) -> Result<Arc<ConfigVersion>, Error> {
        let module = ModuleRegistry::global().load_reloadable(&watch.path, source.do_not_dlclose)?;
        let host = Arc::new(VersionHost { generation, watch: watch.clone(), defined });
        ConfigVersion::create(
            module,
            &source.name,
            source.filter_config.as_bytes(),
            Some(host),
            first_callout_id(generation),
            &source.metric_limits,
            watch.secrets.clone(),
        )
    }

    pub fn current(&self) -> Arc<ConfigVersion> {
        read(&self.current).1.clone()
    }

    pub fn stats(&self) -> ReloadStats {
        ReloadStats {
            reloads: self.watch.reloads.load(Ordering::Relaxed),
            refused: self.watch.refused.load(Ordering::Relaxed),
            draining: lock(&self.retired).len() as u64,
        }
    }

    fn versions(&self) -> Vec<(u64, Arc<ConfigVersion>)> {
        let mut versions = lock(&self.retired).clone();
        versions.push(read(&self.current).clone());
        versions
    }

    pub fn version_with_callout(&self, id: u64) -> Option<Arc<ConfigVersion>> {
        self.versions().into_iter().map(|(_, version)| version).find(|version| version.has_callout(id))
    }

    /// One wake of the host's main thread.
    pub fn on_scheduled(&self) {
        let Some(wake) = lock(&self.watch.wakes).pop_front() else { return };
        match wake {
            Wake::Version(generation) => {
                let version = self.versions().into_iter().find(|(g, _)| *g == generation);
                if let Some((_, version)) = version {
                    version.on_scheduled();
                }
            }
            Wake::Reload => self.reload(),
            Wake::Sweep => self.sweep(),
        }
    }

    /// Loads the file as a new version for this configuration and every other reloading
    /// configuration of the same file, and, if every check passes for all of them, has the new
    /// versions take new streams; if one refuses, none changes (main thread).
    fn reload(&self) {
        let seen = FileIdentity::of(&self.watch.path).ok();
        self.watch.reload_queued.store(false, Ordering::Release);
        let peers = peers_of(&self.watch);
        let mut group: Vec<&Reloading> = vec![self];
        group.extend(peers.iter().filter_map(|peer| peer.reloading()));
        // Members that already took (or refused) this file, with another member's reload, and
        // members already on it stay out.
        group.retain(|member| {
            let mut handled = lock(&member.watch.handled);
            let fresh = seen.is_some() && *handled != seen;
            *handled = seen.clone();
            fresh && member.current().module().file().map(|file| &file.identity) != seen.as_ref()
        });
        if group.is_empty() {
            return;
        }
        let mut prepared = Vec::new();
        let mut refusal = None;
        for member in &group {
            match member.prepare() {
                Ok(next) => prepared.push(next),
                Err(error) => {
                    refusal = Some((member.source.name.clone(), error));
                    break;
                }
            }
        }
        // The new versions must also take every per-route configuration of the file.
        if refusal.is_none()
            && let Some((_, version)) = prepared.first()
            && let Err(error) = crate::load::route_config::parse_for_new_version(version.module())
        {
            refusal = Some((self.source.name.clone(), error));
        }
        match refusal {
            None => {
                for (member, (generation, version)) in group.iter().zip(prepared) {
                    member.commit(generation, version);
                }
            }
            Some((refused_by, error)) => {
                drop(prepared);
                for member in &group {
                    member.refuse(&refused_by, &error);
                }
            }
        }
        for member in &group {
            member.sweep();
        }
    }

    /// A new version of this configuration on the file as it is now (not serving yet).
    fn prepare(&self) -> Result<(u64, Arc<ConfigVersion>), Error> {
        let generation = self.next_generation.fetch_add(1, Ordering::Relaxed);
        let defined = self.current().metric_ids();
        Self::load(&self.source, &self.watch, generation, defined).map(|version| (generation, version))
    }

    /// Has `version` take new streams; the version it replaces finishes its streams.
    fn commit(&self, generation: u64, version: Arc<ConfigVersion>) {
        let new = describe_file(version.module());
        let (old_generation, old_version) =
            std::mem::replace(&mut *write(&self.current), (generation, version));
        self.watch.reloads.fetch_add(1, Ordering::Relaxed);
        // Ours alone: any other holder is a stream still running on it.
        let streams = Arc::strong_count(&old_version).saturating_sub(1);
        core_log!(
            Info,
            "EnvoyX: filter `{}`: reloaded {}: version {generation}{new} takes new streams; version \
             {old_generation}{} finishes its {streams} running stream(s)",
            self.source.name,
            self.watch.path.display(),
            describe_file(old_version.module()),
        );
        lock(&self.watch.retired).push(Arc::downgrade(&old_version));
        lock(&self.retired).push((old_generation, old_version));
    }

    /// Keeps the running version after the new file failed a check (for this configuration or
    /// for `refused_by`, another configuration of the same file).
    fn refuse(&self, refused_by: &str, error: &Error) {
        self.watch.refused.fetch_add(1, Ordering::Relaxed);
        let (generation, current) = read(&self.current).clone();
        let by = if refused_by == self.source.name {
            String::new()
        } else {
            format!(" (for filter `{refused_by}`, which runs the same file)")
        };
        core_log!(
            Error,
            "EnvoyX: filter `{}`: the new {} is refused{by}; version {generation}{} keeps serving: {error}",
            self.source.name,
            self.watch.path.display(),
            describe_file(current.module()),
        );
    }

    /// Destroys the retired versions no stream runs on any more (main thread), which unloads
    /// their modules unless something else holds them.
    fn sweep(&self) {
        self.watch.sweep_queued.store(false, Ordering::Release);
        let drained: Vec<(u64, Arc<ConfigVersion>)> = {
            let mut retired = lock(&self.retired);
            let (drained, running) = retired.drain(..).partition(|(_, v)| Arc::strong_count(v) == 1);
            *retired = running;
            drained
        };
        lock(&self.watch.retired).retain(|version| version.strong_count() > 1);
        for (generation, version) in drained {
            let module = version.module().clone();
            drop(version);
            crate::load::route_config::release_module(&module);
            let file = module.file().cloned();
            let shared = Arc::strong_count(&module) > 1;
            drop(module);
            let name = &self.source.name;
            let destroyed =
                format!("EnvoyX: filter `{name}`: version {generation} has no stream left and is destroyed");
            match file {
                Some(file) if file.kept.is_some() => {
                    let why = file.kept.map(|kept| kept.to_string()).unwrap_or_default();
                    core_log!(Info, "{destroyed}; its code stays in memory ({why})")
                }
                _ if shared => {
                    core_log!(Info, "{destroyed}; its module stays loaded for another configuration")
                }
                Some(file) if crate::load::module::kept_mapped(&file.identity) => core_log!(
                    Info,
                    "{destroyed}; its code stays in memory (envoyx_on_program_unload returned false)"
                ),
                Some(file) if still_mapped(file.mapped_as()) => core_log!(
                    Warn,
                    "{destroyed}, but the dynamic loader keeps its module mapped ({}): module code left \
                     thread-local destructors on a thread that still runs (Rust: std::thread::spawn or a \
                     thread_local! with Drop called from a hook; use envoyx_sdk::thread::spawn). Its \
                     memory is kept until that thread exits",
                    file.mapped_as().display()
                ),
                Some(file) => {
                    core_log!(Info, "{destroyed}; its module is unloaded ({})", file.mapped_as().display())
                }
                None => core_log!(Info, "{destroyed}"),
            }
        }
    }
}

/// Whether the dynamic loader still has `path` mapped in this process.
fn still_mapped(path: &std::path::Path) -> bool {
    std::fs::read_to_string("/proc/self/maps")
        .is_ok_and(|maps| maps.lines().any(|line| line.contains(&*path.to_string_lossy())))
}

/// `" (inode …, build id …)"` for log lines.
fn describe_file(module: &Module) -> String {
    module.file().map(|file| format!(" ({file})")).unwrap_or_default()
}

impl ConfigVersion {
    /// The host ids of the metrics this version defined, for the next version to reuse.
    fn metric_ids(&self) -> Vec<(MetricDef, u64)> {
        let mut ids: Vec<(MetricDef, u64)> =
            self.metrics().iter().map(|metric| (metric.def.clone(), metric.host_id())).collect();
        if let Some(counter) = self.metrics().iter().find_map(|metric| metric.overflow_counter) {
            ids.push((crate::stream::metrics::overflow_counter_def(self.metric_prefix()), counter));
        }
        ids
    }
}
