//! A filter configuration: one module file plus one `filter_config`, shared by every stream
//! (and every worker thread) that uses it.

use crate::cell::Labels;
use crate::config::ModuleConfig;
use crate::error::{Error, ErrorSink};
use crate::module::{Module, ModuleRegistry};
use envoyx_abi::envoyx_bytes;
use std::ffi::c_void;
use std::path::Path;
use std::ptr::NonNull;
use std::sync::Arc;

/// A module's filter configuration. Creating it calls the module's config-new hook; dropping
/// the last reference (after every stream) calls config-destroy.
pub struct FilterConfig {
    /// The configuration's name and the module's path, for log lines (each stream points here).
    labels: Labels,
    module_config: NonNull<c_void>,
    // Declared last: the module must stay loaded until its config is destroyed.
    module: Arc<Module>,
}

// Safety: x/abi.h requires the module's config object to be thread-safe (it is used from every
// worker thread at once); the other fields are Send + Sync.
unsafe impl Send for FilterConfig {}
// Safety: as above.
unsafe impl Sync for FilterConfig {}

impl FilterConfig {
    /// Loads the configured module (or reuses it) and creates the filter configuration.
    pub fn new(config: &ModuleConfig) -> Result<Arc<Self>, Error> {
        let module = ModuleRegistry::global().load(Path::new(&config.file_path), config.do_not_dlclose)?;
        Self::with_module(module, &config.name, config.filter_config.as_bytes())
    }

    /// Parses the JSON form of a `DynamicModuleConfig` and calls [`FilterConfig::new`].
    pub fn from_json(text: &str) -> Result<Arc<Self>, Error> {
        Self::new(&ModuleConfig::from_json(text)?)
    }

    /// Decodes the protobuf form of a `DynamicModuleConfig` and calls [`FilterConfig::new`].
    pub fn from_proto_bytes(bytes: &[u8]) -> Result<Arc<Self>, Error> {
        Self::new(&ModuleConfig::from_proto_bytes(bytes)?)
    }

    /// Creates a filter configuration on an already loaded module.
    pub fn with_module(module: Arc<Module>, name: &str, filter_config: &[u8]) -> Result<Arc<Self>, Error> {
        let mut error = ErrorSink::default();
        let new = module.hooks.filter_config_new;
        // Safety: the hook has the header's type; the views and `error` outlive the call.
        let raw = unsafe {
            new(
                envoyx_bytes::from_slice(name.as_bytes()),
                envoyx_bytes::from_slice(filter_config),
                error.as_abi(),
            )
        };
        match NonNull::new(raw) {
            Some(module_config) => {
                let labels = Labels { module: module.path().display().to_string(), filter: name.to_string() };
                Ok(Arc::new(Self { labels, module_config, module }))
            }
            None => Err(Error::ConfigRejected {
                path: module.path().to_path_buf(),
                name: name.to_string(),
                reason: error.take_or("the module returned NULL without a reason"),
            }),
        }
    }

    /// The configuration's name (for logs).
    pub fn name(&self) -> &str {
        &self.labels.filter
    }

    pub(crate) fn labels(&self) -> &Labels {
        &self.labels
    }

    /// The loaded module.
    pub fn module(&self) -> &Arc<Module> {
        &self.module
    }

    pub(crate) fn module_config(&self) -> *mut c_void {
        self.module_config.as_ptr()
    }
}

impl Drop for FilterConfig {
    fn drop(&mut self) {
        let destroy = self.module.hooks.filter_config_destroy;
        // Safety: every stream holds an Arc to this config, so none is alive; destroyed once.
        unsafe { destroy(self.module_config.as_ptr()) };
    }
}
