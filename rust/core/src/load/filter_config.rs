//! A filter configuration as a host holds it: the version of the module that takes new streams
//! and, for a configuration with `reload_on_file_change`, the versions that still finish streams
//! after a hot reload (`reload.rs`). Hosts talk to this type only; what a version is and does is
//! `config_version.rs`'s.

use crate::error::Error;
use crate::load::config::ModuleConfig;
use crate::load::config_version::ConfigVersion;
use crate::load::module::{Module, ModuleRegistry};
use crate::load::reload::{ReloadStats, Reloading};
use crate::stream::background::ConfigHost;
use crate::stream::callout_data::CalloutStatus;
use crate::stream::drive::Stream;
use crate::stream::metrics::MetricLimits;
use crate::stream::secrets::Secrets;
use crate::{HostStream, MetricDef};
use envoyx_abi::{envoyx_bytes, envoyx_header};
use std::sync::Arc;

/// A module's filter configuration, shared by every worker thread. Each stream runs on the
/// version that served when it started, to its end.
pub struct FilterConfig {
    name: String,
    serving: Serving,
}

enum Serving {
    /// One version for the configuration's whole life.
    Fixed(Arc<ConfigVersion>),
    /// Hot reload: a new version each time the file is replaced.
    // Boxed: a reloading configuration carries its whole source configuration.
    Reloading(Box<Reloading>),
}

impl FilterConfig {
    /// Loads the configured module (or reuses it) and creates the filter configuration.
    /// `scheduler` wakes the host's main thread for events the module schedules on the
    /// configuration (ABI 1.1, [`FilterConfig::on_scheduled`]) and, with `reload_on_file_change`,
    /// for reloads; a host without one passes None: the module's scheduling calls return false
    /// and a configuration asking for reloads is refused.
    pub fn new(config: &ModuleConfig, scheduler: Option<Arc<dyn ConfigHost>>) -> Result<Arc<Self>, Error> {
        let secrets = subscribe_secrets(config, scheduler.as_deref())?;
        if config.reload_on_file_change {
            let reloading = Reloading::start(config, scheduler, secrets)?;
            let config = Arc::new(Self {
                name: config.name.clone(),
                serving: Serving::Reloading(Box::new(reloading)),
            });
            crate::load::reload::register(&config);
            return Ok(config);
        }
        let module = ModuleRegistry::global().load_configured(config)?;
        let version = ConfigVersion::create(
            module,
            &config.name,
            config.filter_config.as_bytes(),
            scheduler,
            1,
            &config.metric_limits,
            secrets,
        )?;
        Ok(Arc::new(Self { name: config.name.clone(), serving: Serving::Fixed(version) }))
    }

    /// Parses the JSON form of a `DynamicModuleConfig` and calls [`FilterConfig::new`].
    pub fn from_json(text: &str, scheduler: Option<Arc<dyn ConfigHost>>) -> Result<Arc<Self>, Error> {
        Self::new(&ModuleConfig::from_json(text)?, scheduler)
    }

    /// Decodes the protobuf form of a `DynamicModuleConfig` and calls [`FilterConfig::new`].
    pub fn from_proto_bytes(
        bytes: &[u8],
        scheduler: Option<Arc<dyn ConfigHost>>,
    ) -> Result<Arc<Self>, Error> {
        Self::new(&ModuleConfig::from_proto_bytes(bytes)?, scheduler)
    }

    /// Creates a filter configuration on an already loaded module (never reloaded), with the
    /// default metric limits.
    pub fn with_module(
        module: Arc<Module>,
        name: &str,
        filter_config: &[u8],
        scheduler: Option<Arc<dyn ConfigHost>>,
    ) -> Result<Arc<Self>, Error> {
        let no_secrets = Arc::new(Secrets::default());
        let limits = MetricLimits::default();
        let version = ConfigVersion::create(module, name, filter_config, scheduler, 1, &limits, no_secrets)?;
        Ok(Arc::new(Self { name: name.to_string(), serving: Serving::Fixed(version) }))
    }

    /// [`FilterConfig::with_module`] with the rest of `config` (its name, `filter_config`,
    /// `metric_limits` and `secrets`; its module's location is not used).
    pub fn with_module_config(
        module: Arc<Module>,
        config: &ModuleConfig,
        scheduler: Option<Arc<dyn ConfigHost>>,
    ) -> Result<Arc<Self>, Error> {
        let secrets = subscribe_secrets(config, scheduler.as_deref())?;
        let filter_config = config.filter_config.as_bytes();
        let limits = &config.metric_limits;
        let version =
            ConfigVersion::create(module, &config.name, filter_config, scheduler, 1, limits, secrets)?;
        Ok(Arc::new(Self { name: config.name.clone(), serving: Serving::Fixed(version) }))
    }

    /// The version that takes new streams.
    pub fn current(&self) -> Arc<ConfigVersion> {
        match &self.serving {
            Serving::Fixed(version) => version.clone(),
            Serving::Reloading(reloading) => reloading.current(),
        }
    }

    /// Starts a stream on the version serving now: calls the module's stream-new hook. The
    /// stream keeps that version (and its module) to its end.
    pub fn new_stream(&self, host: Box<dyn HostStream>) -> Stream {
        match &self.serving {
            Serving::Fixed(version) => version.new_stream(host),
            Serving::Reloading(reloading) => reloading.current().new_stream(host),
        }
    }

    /// The host's [`ConfigHost`] woke the main thread: runs what the wake stands for (the next
    /// event of one of the versions, a reload, or unloading drained versions). Main thread only.
    pub fn on_scheduled(&self) {
        match &self.serving {
            Serving::Fixed(version) => version.on_scheduled(),
            Serving::Reloading(reloading) => reloading.on_scheduled(),
        }
    }

    /// The host's answer to the configuration's callout `id` (main thread; the views are the
    /// host's, valid during this call): goes to the version that started it, if it still lives.
    pub fn on_callout_done(
        &self,
        id: u64,
        status: CalloutStatus,
        headers: &[envoyx_header],
        body: &[envoyx_bytes],
    ) {
        if let Some(version) = self.version_with_callout(id) {
            version.on_callout_done(id, status, headers, body);
        }
    }

    /// The host's news of the configuration's streaming callout `id` (main thread): goes to the
    /// version that started it, if it still lives.
    pub fn on_callout_event(&self, id: u64, event: crate::CalloutEvent<'_>) {
        if let Some(version) = self.version_with_callout(id) {
            version.on_callout_event(id, event);
        }
    }

    fn version_with_callout(&self, id: u64) -> Option<Arc<ConfigVersion>> {
        match &self.serving {
            Serving::Fixed(version) => Some(version.clone()),
            Serving::Reloading(reloading) => reloading.version_with_callout(id),
        }
    }

    /// The configuration's name (for logs).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The first segment of the names of the module's metrics (the configuration's name, or the
    /// module file's stem), so a host can put its own figures beside them.
    pub fn metric_prefix(&self) -> String {
        self.current().metric_prefix().to_string()
    }

    /// The module of the version serving now.
    pub fn module(&self) -> Arc<Module> {
        self.current().module().clone()
    }

    /// The metrics the module of the version serving now defined, in id order (id 1 first).
    pub fn metric_defs(&self) -> Vec<MetricDef> {
        self.current().metric_defs().cloned().collect()
    }

    pub(crate) fn reloading(&self) -> Option<&Reloading> {
        match &self.serving {
            Serving::Fixed(_) => None,
            Serving::Reloading(reloading) => Some(reloading),
        }
    }

    /// Hot reload's figures, for a configuration with `reload_on_file_change`.
    pub fn reload_stats(&self) -> Option<ReloadStats> {
        match &self.serving {
            Serving::Fixed(_) => None,
            Serving::Reloading(reloading) => Some(reloading.stats()),
        }
    }
}

/// Subscribes, through the configuration's host, to each secret the configuration declares
/// (main thread, before the module's configuration is created); the first the host refuses
/// rejects the configuration, naming it and the host's reason.
fn subscribe_secrets(config: &ModuleConfig, host: Option<&dyn ConfigHost>) -> Result<Arc<Secrets>, Error> {
    let mut subscribed = Vec::with_capacity(config.secrets.len());
    for (at, secret) in config.secrets.iter().enumerate() {
        let id = match host {
            Some(host) => host.subscribe_secret(&secret.name, &secret.sds_config),
            None => Err("this host serves no secrets".to_string()),
        };
        let id = id.map_err(|reason| crate::ConfigError::Field {
            field: format!("secrets[{at}]"),
            reason: format!("secret `{}`: {reason}", secret.name),
        })?;
        subscribed.push((secret.name.clone(), id));
    }
    Ok(Arc::new(Secrets::new(subscribed)))
}
