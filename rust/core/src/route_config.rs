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
use envoyx_abi::envoyx_bytes;
use std::ffi::c_void;
use std::path::Path;
use std::ptr::NonNull;
use std::sync::Arc;

/// A module's per-route configuration. Dropping the last reference (the proxy's route table and
/// every stream that saw it) calls the module's route-config destroy hook.
pub struct RouteConfig {
    name: String,
    module_route_config: NonNull<c_void>,
    destroy: envoyx_abi::envoyx_on_route_config_destroy_fn,
    // Declared last: the module must stay loaded until its route config is destroyed.
    module: Arc<Module>,
}

// Safety: x/abi.h requires the module's route config object to be thread-safe (streams on every
// worker thread read it); the other fields are Send + Sync.
unsafe impl Send for RouteConfig {}
// Safety: as above.
unsafe impl Sync for RouteConfig {}

impl RouteConfig {
    /// Loads the module the per-route configuration names (or reuses it) and has it parse the
    /// configuration. Refused when the module has no route-config hooks or rejects it.
    pub fn new(config: &ModuleConfig) -> Result<Arc<Self>, Error> {
        let module = ModuleRegistry::global().load(Path::new(&config.file_path), config.do_not_dlclose)?;
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
        let (Some(new), Some(destroy)) = (module.hooks.route_config_new, module.hooks.route_config_destroy)
        else {
            return Err(Error::RouteConfigUnsupported {
                path: module.path().to_path_buf(),
                name: name.to_string(),
            });
        };
        let mut error = ErrorSink::default();
        // Safety: the hook has the header's type; the views and `error` outlive the call.
        let raw = unsafe {
            new(envoyx_bytes::from_slice(name.as_bytes()), envoyx_bytes::from_slice(config), error.as_abi())
        };
        match NonNull::new(raw) {
            Some(module_route_config) => {
                Ok(Arc::new(Self { name: name.to_string(), module_route_config, destroy, module }))
            }
            None => Err(Error::RouteConfigRejected {
                path: module.path().to_path_buf(),
                name: name.to_string(),
                reason: error.take_or("the module returned NULL without a reason"),
            }),
        }
    }

    /// The configuration's name (for logs).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The module that parsed it.
    pub fn module(&self) -> &Arc<Module> {
        &self.module
    }

    pub(crate) fn module_route_config(&self) -> *const c_void {
        self.module_route_config.as_ptr()
    }
}

impl Drop for RouteConfig {
    fn drop(&mut self) {
        // Safety: no stream holds it any more (each holds an Arc while it may use it); destroyed
        // once, here.
        unsafe { (self.destroy)(self.module_route_config.as_ptr()) };
    }
}

impl std::fmt::Debug for RouteConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RouteConfig").field("name", &self.name).field("module", &self.module.path()).finish()
    }
}
