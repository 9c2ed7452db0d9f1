//! Filter and per-route configurations for C++ (what Envoy's filter factory and route table
//! hold), and the core's errors as C++ sees them.

use std::sync::Arc;

use crate::config_host::CxxConfigHost;
use crate::ffi;
use crate::host::CxxHost;
use crate::stream::Stream;
use crate::views::{callout_status, shared_views};

/// A filter configuration for C++: the core's, behind the `rust::Box` C++ holds. Envoy's workers
/// share one, calling `new_stream` from every worker thread at once, so it must be `Sync`.
pub struct FilterConfig(Arc<envoyx_core::FilterConfig>);

const _: () = {
    const fn shared_across_threads<T: Send + Sync>() {}
    shared_across_threads::<FilterConfig>();
};

/// Loads the module a protobuf-encoded `DynamicModuleConfig` names (once per file) and creates
/// the filter configuration. This is what Envoy hands a C++ filter factory. `background` wakes
/// the main thread for the configuration's events (then call [`FilterConfig::on_scheduled`]
/// there); a null `shared_ptr` delivers none.
pub fn filter_config_from_proto(
    bytes: &[u8],
    background: cxx::SharedPtr<ffi::ConfigHost>,
) -> Result<Box<FilterConfig>, OneLine> {
    Ok(Box::new(FilterConfig(envoyx_core::FilterConfig::from_proto_bytes(bytes, config_host(background))?)))
}

/// A per-route configuration for C++: the core's, behind the `rust::Box` the route table holds.
pub struct RouteConfig(pub(crate) Arc<envoyx_core::RouteConfig>);

/// Creates a per-route configuration from a protobuf-encoded `DynamicModuleConfigPerRoute`.
pub fn route_config_from_proto(bytes: &[u8]) -> Result<Box<RouteConfig>, OneLine> {
    Ok(Box::new(RouteConfig(envoyx_core::RouteConfig::from_proto_bytes(bytes)?)))
}

/// As [`route_config_from_proto`], from the JSON form.
pub fn route_config_from_json(json: &[u8]) -> Result<Box<RouteConfig>, OneLine> {
    let text = std::str::from_utf8(json).map_err(|e| {
        envoyx_core::Error::from(envoyx_core::ConfigError::MalformedJson(format!("not UTF-8: {e}")))
    })?;
    Ok(Box::new(RouteConfig(envoyx_core::RouteConfig::from_json(text)?)))
}

/// The core's [`envoyx_core::ConfigHost`] over a C++ one; None for a null one.
pub(crate) fn config_host(
    background: cxx::SharedPtr<ffi::ConfigHost>,
) -> Option<Arc<dyn envoyx_core::ConfigHost>> {
    if background.is_null() { None } else { Some(Arc::new(CxxConfigHost(background))) }
}

/// As [`filter_config_from_proto`], from the JSON form of a `DynamicModuleConfig`.
pub fn filter_config_from_json(
    json: &[u8],
    background: cxx::SharedPtr<ffi::ConfigHost>,
) -> Result<Box<FilterConfig>, OneLine> {
    // Bytes rather than `&str`: C++ strings are not checked UTF-8, and bad UTF-8 is just one
    // more kind of malformed JSON, reported like the others.
    let text = std::str::from_utf8(json).map_err(|e| {
        envoyx_core::Error::from(envoyx_core::ConfigError::MalformedJson(format!("not UTF-8: {e}")))
    })?;
    Ok(Box::new(FilterConfig(envoyx_core::FilterConfig::from_json(text, config_host(background))?)))
}

/// A core error as C++ sees it (the exception's `what()`): its message on one line, escaped as
/// every log line is (`envoyx_core::log::one_line`), since Envoy logs it and returns it in xDS
/// rejections, and a file name or config excerpt in it may hold any byte.
#[derive(Debug)]
pub struct OneLine(pub envoyx_core::Error);

impl From<envoyx_core::Error> for OneLine {
    fn from(error: envoyx_core::Error) -> Self {
        Self(error)
    }
}

impl std::fmt::Display for OneLine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", envoyx_core::log::Shown(self.0.to_string().as_bytes()))
    }
}

/// [`FilterConfig::new_stream`] was given a null `std::unique_ptr<StreamHost>`.
#[derive(Debug)]
pub struct NullHost;

impl std::fmt::Display for NullHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EnvoyX loader: new_stream needs a StreamHost, got a null pointer")
    }
}

impl std::error::Error for NullHost {}

impl FilterConfig {
    /// The configuration's `name` field.
    pub fn name(&self) -> &str {
        self.0.name()
    }

    /// The module file this configuration runs.
    pub fn module_path(&self) -> String {
        self.0.module().path().display().to_string()
    }

    /// A wake-up of the `background` scheduler reached the main thread: runs the module's next
    /// configuration event; see [`envoyx_core::FilterConfig::on_scheduled`].
    pub fn on_scheduled(&self) {
        self.0.on_scheduled();
    }

    /// The answer to the configuration's callout `id` (main thread; `status` an
    /// `envoyx_callout_status`, views valid during this call); see
    /// [`envoyx_core::FilterConfig::on_callout_done`].
    pub fn on_callout_done(&self, id: u64, status: u32, headers: &[ffi::RawHeader], body: &[ffi::RawBytes]) {
        let (headers, body) = shared_views(headers, body);
        self.0.on_callout_done(id, callout_status(status), headers, body);
    }

    /// News of the configuration's streaming callout `id` (main thread; as
    /// [`Stream::on_callout_event`]); see [`envoyx_core::FilterConfig::on_callout_event`].
    pub fn on_callout_event(
        &self,
        id: u64,
        event: u32,
        status: u32,
        headers: &[ffi::RawHeader],
        data: &[ffi::RawBytes],
        end_of_stream: bool,
    ) {
        let (headers, data) = shared_views(headers, data);
        self.0.on_callout_event(
            id,
            envoyx_core::CalloutEvent::from_abi(event, status, headers, data, end_of_stream),
        );
    }

    /// Starts a stream on `host`, which the stream owns from now on (the C++ object is deleted
    /// when the stream is dropped). Calls the module's stream-new hook.
    pub fn new_stream(&self, host: cxx::UniquePtr<ffi::StreamHost>) -> Result<Box<Stream>, NullHost> {
        if host.is_null() {
            return Err(NullHost);
        }
        Ok(Box::new(Stream::over(self.0.new_stream(Box::new(CxxHost(host))))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_that_is_not_utf8_is_malformed_json() {
        let err = filter_config_from_json(&[b'{', 0xff, b'}'], cxx::SharedPtr::null()).err().unwrap();
        assert!(err.to_string().starts_with("EnvoyX config: malformed JSON: not UTF-8"), "{err}");
    }
}
