//! Per-route configuration (ABI 1.1), its creation: a `DynamicModuleConfigPerRoute` parsed once by
//! its module (`envoyx_on_route_config_new`) when the proxy loads the route configuration, and
//! again by each hot-reloaded version of the module. What streams see of it (the type and its
//! parses) is the stream wing's (`stream/route.rs`).
//!
//! The proxy resolves which one applies (the most specific of route, virtual host and route
//! configuration); the host returns it from [`crate::HostStream::route_config`].

use crate::error::Error;
use crate::load::config::ModuleConfig;
use crate::load::module::{Module, ModuleRegistry};
use crate::stream::error_sink::ErrorSink;
use crate::stream::route::{Parse, RouteConfig};
use crate::sync::lock;
use envoyx_abi::envoyx_bytes;
use std::ptr::NonNull;
use std::sync::{Arc, Mutex, MutexGuard, Weak};

/// Has `module` parse the per-route configuration `name` with `config`.
fn parse(module: Arc<Module>, name: &str, config: &[u8]) -> Result<Parse, Error> {
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
        Some(module_route_config) => {
            let module_path = module.path().display().to_string();
            Ok(Parse { module_route_config, destroy, module_path, module })
        }
        None => Err(Error::RouteConfigRejected {
            path: module.path().to_path_buf(),
            name: name.to_string(),
            reason: error.take_or("the module returned NULL without a reason"),
        }),
    }
}

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
        let parse = parse(module, name, config)?;
        let route = Arc::new(Self {
            name: name.to_string(),
            config: config.to_vec(),
            parses: Mutex::new(vec![parse]),
        });
        live().push(Arc::downgrade(&route));
        Ok(route)
    }

    /// The module that parsed it first.
    pub fn module(&self) -> Arc<Module> {
        module_of(&lock(&self.parses)[0])
    }
}

/// The load wing's module behind a parse (every parse holds a `Module`).
fn module_of(parse: &Parse) -> Arc<Module> {
    parse.module.clone().downcast::<Module>().expect("a parse holds its Module")
}

/// Whether `parse` is `module`'s.
fn is_of(parse: &Parse, module: &Arc<Module>) -> bool {
    parse.is_of(Arc::as_ptr(module).cast())
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
            parses.iter().any(|p| same_file(&module_of(p))) && !parses.iter().any(|p| is_of(p, module))
        };
        if !wanted {
            continue;
        }
        match parse(module.clone(), &route.name, &route.config) {
            Ok(parse) => {
                lock(&route.parses).push(parse);
                parsed.push(route);
            }
            Err(error) => {
                for route in parsed {
                    lock(&route.parses).retain(|p| !is_of(p, module));
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
        parses.len() > 1 && parses.iter().any(|p| is_of(p, module))
    };
    let holders: Vec<&Arc<RouteConfig>> = routes.iter().filter(|route| held(route)).collect();
    let in_route_configs: usize =
        routes.iter().map(|route| lock(&route.parses).iter().filter(|p| is_of(p, module)).count()).sum();
    // The caller's reference, and the route configurations': nothing else runs this module.
    if Arc::strong_count(module) != 1 + in_route_configs {
        return;
    }
    for route in holders {
        let removed: Vec<Parse> = {
            let mut parses = lock(&route.parses);
            let (removed, kept) = parses.drain(..).partition(|p| is_of(p, module));
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
