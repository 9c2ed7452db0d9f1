//! Per-route configuration (ABI 1.1) as streams see it: a `DynamicModuleConfigPerRoute` its
//! module parsed (`envoyx_on_route_config_new`), which the host returns for the stream's route
//! ([`crate::HostStream::route_config`]) and the core hands the stream's module
//! (`route_config` in the host table), checking that the parse is that module's and keeping it
//! alive for the rest of the stream. Creating one (loading its module, parsing it, parsing it
//! again for a hot-reloaded version) is the load wing's (`load/route_config.rs`).

use crate::sync::lock;
use std::any::Any;
use std::ffi::c_void;
use std::ptr::NonNull;
use std::sync::{Arc, Mutex};

/// A module's per-route configuration. Dropping the last reference (the proxy's route table and
/// every stream that saw it) calls the module's route-config destroy hook.
///
/// With hot reload (`reload.rs`) one route configuration may be parsed by several versions of its
/// module: each new version parses every route configuration of the file when it loads (and is
/// refused if it rejects one), and a stream sees the parse of its own version. A version's
/// parses are destroyed once no configuration runs that version any more.
pub struct RouteConfig {
    pub(crate) name: String,
    /// The `filter_config` bytes, for the versions loaded later.
    pub(crate) config: Vec<u8>,
    /// One per module that parsed it; the first is the module it was created with.
    pub(crate) parses: Mutex<Vec<Parse>>,
}

/// One module's parse of a route configuration.
pub(crate) struct Parse {
    pub module_route_config: NonNull<c_void>,
    pub destroy: envoyx_abi::envoyx_on_route_config_destroy_fn,
    /// The module's path, for log lines.
    pub module_path: String,
    // Declared last: the module must stay loaded until the parse is destroyed. The load wing's
    // `Module` (it alone looks inside); its address is the module's identity for streams.
    pub module: Arc<dyn Any + Send + Sync>,
}

impl Parse {
    /// Whether this is the parse of the module `module_id` (`StreamConfig::module_id`).
    pub fn is_of(&self, module_id: *const ()) -> bool {
        std::ptr::eq(Arc::as_ptr(&self.module).cast::<()>(), module_id)
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

impl RouteConfig {
    /// The configuration's name (for logs).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The parse of the module `module_id`, for its streams: valid while the caller holds this
    /// route config.
    pub(crate) fn parse_for(&self, module_id: *const ()) -> Option<*const c_void> {
        let parses = lock(&self.parses);
        parses.iter().find(|p| p.is_of(module_id)).map(|p| p.module_route_config.as_ptr().cast_const())
    }

    /// The path of the module that parsed it first (for log lines).
    pub(crate) fn first_module_path(&self) -> String {
        lock(&self.parses)[0].module_path.clone()
    }
}
