//! Per-route configuration (ABI 1.1): a `DynamicModuleConfigPerRoute` parsed once by its module
//! (`envoyx_on_route_config_new`) when the proxy loads the route configuration, and handed to
//! the streams the route applies to (`route_config` in the host table).
//!
//! The proxy resolves which one applies (the most specific of route, virtual host and route
//! configuration); the host returns it from [`crate::HostStream::route_config`]; the core checks
//! that it belongs to the stream's own module and keeps it alive for the rest of the stream.

use crate::config::ModuleConfig;
use crate::error::{Error, ErrorSink};
use crate::module::{Module, ModuleRegistry};
use crate::sync::lock;
use envoyx_abi::envoyx_bytes;
use std::ffi::c_void;
use std::ptr::NonNull;
use std::sync::{Arc, Mutex, MutexGuard, Weak};

/// A module's per-route configuration. Dropping the last reference (the proxy's route table and
/// every stream that saw it) calls the module's route-config destroy hook.
///
/// With hot reload (`reload.rs`) one route configuration may be parsed by several versions of its
/// module: each new version parses every route configuration of the file when it loads (and is
/// refused if it rejects one), and a stream sees the parse of its own version. A version's
/// parses are destroyed once no configuration runs that version any more.
pub struct RouteConfig {
    name: String,
    /// The `filter_config` bytes, for the versions loaded later.
    config: Vec<u8>,
    /// One per module that parsed it; the first is the module it was created with.
    parses: Mutex<Vec<Parse>>,
}

/// One module's parse of a route configuration.
struct Parse {
    module_route_config: NonNull<c_void>,
    destroy: envoyx_abi::envoyx_on_route_config_destroy_fn,
    // Declared last: the module must stay loaded until the parse is destroyed.
    module: Arc<Module>,
}

impl Parse {
    fn new(module: Arc<Module>, name: &str, config: &[u8]) -> Result<Self, Error> {
        let (Some(new), Some(destroy)) = (module.hooks.route_config_new, module.hooks.route_config_destroy)
        else {
            return Err(Error::RouteConfigUnsupported {
                path: module.path().to_path_buf(),
                name: name.to_string(),
            });
        };
        let mut error = ErrorSink::default();
        let raw = error.lend(|error| {
            // Safety: the hook has the header's type; the views and `error` outlive the call.
            unsafe { new(envoyx_bytes::from_slice(name.as_bytes()), envoyx_bytes::from_slice(config), error) }
        });
        match NonNull::new(raw) {
            Some(module_route_config) => Ok(Self { module_route_config, destroy, module }),
            None => Err(Error::RouteConfigRejected {
                path: module.path().to_path_buf(),
                name: name.to_string(),
                reason: error.take_or("the module returned NULL without a reason"),
            }),
        }
    }
}

impl Drop for Parse {
    fn drop(&mut self) {
        // Safety: no stream uses it any more (streams of its module hold the route config, and
        // a parse is removed early only once no configuration runs its module); destroyed once.
        unsafe { (self.destroy)(self.module_route_config.as_ptr()) };
    }
}

// Safety: x/abi.h requires the module's route config object to be thread-safe (streams on every
// worker thread read it); the other fields are Send + Sync.
unsafe impl Send for Parse {}
// Safety: as above.
unsafe impl Sync for Parse {}

/// Every route configuration alive, for the versions a hot reload loads.
fn live() -> MutexGuard<'static, Vec<Weak<RouteConfig>>> {
    static LIVE: Mutex<Vec<Weak<RouteConfig>>> = Mutex::new(Vec::new());
    let mut live = lock(&LIVE);
    live.retain(|route| route.strong_count() > 0);
    live
}

impl RouteConfig {
    /// Loads the module the per-route configuration names (or reuses it) and has it parse the
    /// configuration. Refused when the module has no route-config hooks or rejects it.
    pub fn new(config: &ModuleConfig) -> Result<Arc<Self>, Error> {
        let module = ModuleRegistry::global().load_configured(config)?;
        Self::with_module(module, &config.name, config.filter_config.as_bytes())
    }

    /// Parses the JSON form of a `DynamicModuleConfigPerRoute` and calls [`RouteConfig::new`].
    pub fn from_json(text: &str) -> Result<Arc<Self>, Error> {
        Self::new(&ModuleConfig::route_from_json(text)?)
    }

    /// Decodes the protobuf form of a `DynamicModuleConfigPerRoute` and calls [`RouteConfig::new`].
    pub fn from_proto_bytes(bytes: &[u8]) -> Result<Arc<Self>, Error> {
        Self::new(&ModuleConfig::from_proto_bytes(bytes)?)
    }

    /// Creates a per-route configuration on an already loaded module.
    pub fn with_module(module: Arc<Module>, name: &str, config: &[u8]) -> Result<Arc<Self>, Error> {
        let parse = Parse::new(module, name, config)?;
        let route = Arc::new(Self {
            name: name.to_string(),
            config: config.to_vec(),
            parses: Mutex::new(vec![parse]),
        });
        live().push(Arc::downgrade(&route));
        Ok(route)
    }

    /// The configuration's name (for logs).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The module that parsed it first.
    pub fn module(&self) -> Arc<Module> {
        lock(&self.parses)[0].module.clone()
    }

    /// The parse of `module`, for its streams: valid while the caller holds this route config.
    pub(crate) fn parse_for(&self, module: *const Module) -> Option<*const c_void> {
        let parses = lock(&self.parses);
        parses
            .iter()
            .find(|p| std::ptr::eq(Arc::as_ptr(&p.module), module))
            .map(|p| p.module_route_config.as_ptr().cast_const())
    }
}

/// A new version of a module file (hot reload, main thread): has `module` parse every live
/// route configuration that a module loaded from the same file parsed. On the first refusal,
/// the parses made so far are undone and the error says which route configuration and why.
pub(crate) fn parse_for_new_version(module: &Arc<Module>) -> Result<usize, Error> {
    let Some(file) = module.file() else { return Ok(0) };
    let same_file =
        |other: &Module| other.file().is_some_and(|f| f.identity.canonical == file.identity.canonical);
    let routes: Vec<Arc<RouteConfig>> = live().iter().filter_map(Weak::upgrade).collect();
    let mut parsed: Vec<&Arc<RouteConfig>> = Vec::new();
    for route in &routes {
        let wanted = {
            let parses = lock(&route.parses);
            parses.iter().any(|p| same_file(&p.module))
                && !parses.iter().any(|p| Arc::ptr_eq(&p.module, module))
        };
        if !wanted {
            continue;
        }
        match Parse::new(module.clone(), &route.name, &route.config) {
            Ok(parse) => {
                lock(&route.parses).push(parse);
                parsed.push(route);
            }
            Err(error) => {
                for route in parsed {
                    lock(&route.parses).retain(|p| !Arc::ptr_eq(&p.module, module));
                }
                return Err(error);
            }
        }
    }
    Ok(parsed.len())
}

/// After a version of `module` was destroyed (main thread): when only route configurations still
/// hold the module, destroys their parses of it so that it can be unloaded. A route configuration
/// keeps its last parse (it is dropped with the route table).
pub(crate) fn release_module(module: &Arc<Module>) {
    let routes: Vec<Arc<RouteConfig>> = live().iter().filter_map(Weak::upgrade).collect();
    let held = |route: &RouteConfig| {
        let parses = lock(&route.parses);
        parses.len() > 1 && parses.iter().any(|p| Arc::ptr_eq(&p.module, module))
    };
    let holders: Vec<&Arc<RouteConfig>> = routes.iter().filter(|route| held(route)).collect();
    let in_route_configs: usize = routes
        .iter()
        .map(|route| lock(&route.parses).iter().filter(|p| Arc::ptr_eq(&p.module, module)).count())
        .sum();
    // The caller's reference, and the route configurations': nothing else runs this module.
    if Arc::strong_count(module) != 1 + in_route_configs {
        return;
    }
    for route in holders {
        let removed: Vec<Parse> = {
            let mut parses = lock(&route.parses);
            let (removed, kept) = parses.drain(..).partition(|p| Arc::ptr_eq(&p.module, module));
            *parses = kept;
            removed
        };
        drop(removed);
    }
}

impl std::fmt::Debug for RouteConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RouteConfig")
            .field("name", &self.name)
            .field("module", &self.module().path())
            .finish()
    }
}
