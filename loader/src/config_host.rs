//! The core's `StreamScheduler` over the C++ `Scheduler` (a stream's, wakes its worker), and its
//! `ConfigHost` over the C++ `ConfigHost` (a configuration's, on the main thread).

use envoyx_core::{LogLevel, StreamScheduler};

use crate::ffi;
use crate::views::{raw_bytes, raw_header, start_cxx};

/// The core's [`StreamScheduler`], forwarding to the C++ scheduler. A host that gives no
/// scheduler (a null `shared_ptr`) gets wake-ups (so continues and events) dropped, with a log
/// line.
pub(crate) struct CxxSchedulerRef(pub(crate) cxx::SharedPtr<ffi::Scheduler>);

impl StreamScheduler for CxxSchedulerRef {
    fn wake(&self) {
        match self.0.as_ref() {
            Some(scheduler) => scheduler.wake(),
            None => envoyx_core::log::log(
                LogLevel::Error,
                b"EnvoyX loader: the StreamHost has no Scheduler; a continue or event was dropped",
            ),
        }
    }
}

/// The core's [`envoyx_core::ConfigHost`], forwarding to the C++ configuration host (never
/// null: [`crate::config`] gives the core none for a null one).
pub(crate) struct CxxConfigHost(pub(crate) cxx::SharedPtr<ffi::ConfigHost>);

impl envoyx_core::ConfigHost for CxxConfigHost {
    fn wake(&self) {
        if let Some(host) = self.0.as_ref() {
            host.wake();
        }
    }

    fn http_callout(
        &self,
        id: u64,
        callout: &envoyx_core::Callout<'_>,
    ) -> Result<(), envoyx_core::CalloutStatus> {
        let Some(scheduler) = self.0.as_ref() else { return Err(envoyx_core::CalloutStatus::Unavailable) };
        start_cxx(callout, |headers, failure| {
            scheduler.http_callout(id, callout.cluster, headers, callout.body, callout.timeout_ms, failure)
        })
    }

    fn callout_stream_start(
        &self,
        id: u64,
        callout: &envoyx_core::Callout<'_>,
        end_of_stream: bool,
    ) -> Result<(), envoyx_core::CalloutStatus> {
        let Some(scheduler) = self.0.as_ref() else { return Err(envoyx_core::CalloutStatus::Unavailable) };
        start_cxx(callout, |headers, failure| {
            let (cluster, body, timeout_ms) = (callout.cluster, callout.body, callout.timeout_ms);
            scheduler.callout_stream_start(id, cluster, headers, body, end_of_stream, timeout_ms, failure)
        })
    }

    fn callout_stream_send(&self, id: u64, data: &[u8], end_of_stream: bool) -> bool {
        self.0.as_ref().is_some_and(|scheduler| scheduler.callout_stream_send(id, data, end_of_stream))
    }

    fn callout_stream_send_trailers(
        &self,
        id: u64,
        trailers: &[(std::borrow::Cow<'_, [u8]>, &[u8])],
    ) -> bool {
        let trailers: Vec<ffi::RawHeader> = trailers.iter().map(|(k, v)| raw_header(k, v)).collect();
        self.0.as_ref().is_some_and(|scheduler| scheduler.callout_stream_send_trailers(id, &trailers))
    }

    fn callout_stream_reset(&self, id: u64) {
        if let Some(scheduler) = self.0.as_ref() {
            scheduler.callout_stream_reset(id);
        }
    }

    fn define_metric(&self, def: &envoyx_core::MetricDef) -> Result<u64, String> {
        let scheduler = self.0.as_ref().ok_or("this host keeps no metrics")?;
        let labels: Vec<ffi::RawBytes> = def.label_names.iter().map(|l| raw_bytes(l.as_bytes())).collect();
        let mut id = 0;
        if scheduler.define_metric(def.kind as u32, def.full_name.as_bytes(), &labels, &mut id) {
            Ok(id)
        } else {
            Err("the proxy refused it".to_string())
        }
    }

    fn subscribe_secret(&self, name: &str, sds_config: &str) -> Result<u64, String> {
        let host = self.0.as_ref().ok_or("this host serves no secrets")?;
        let mut id = 0;
        if host.subscribe_secret(name.as_bytes(), sds_config.as_bytes(), &mut id) {
            Ok(id)
        } else if sds_config.is_empty() {
            Err("the proxy has no static secret of that name".to_string())
        } else {
            Err("the proxy refused the subscription (its sds_config)".to_string())
        }
    }
}
