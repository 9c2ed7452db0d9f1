//! Hot reload's figures as Envoy stats, for a configuration with `reload_on_file_change`:
//! `<metrics_namespace>.<filter>.hot_reload.reloads` (counter), `.refused` (counter) and
//! `.draining` (gauge: earlier versions still finishing streams). Envoy creates stats only while
//! its filter config is created and, in 1.38, records them only through a stream; so they are
//! defined with the configuration and brought up to date by the next stream that starts after a
//! change.

use crate::ffi::{self, ConfigEnvoyPtr, EnvoyFilter};
use crate::log::host_log;
use envoyx_core::{MetricKind, MetricOp, ReloadStats};
use std::sync::Mutex;

pub(crate) struct ReloadMetrics {
    reloads: usize,
    refused: usize,
    draining: usize,
    /// What Envoy's stats show now.
    published: Mutex<ReloadStats>,
}

impl ReloadMetrics {
    /// Defines the three stats (main thread, inside Envoy's config creation); None, logged, if
    /// Envoy refuses one.
    pub fn define(config_envoy: ConfigEnvoyPtr, prefix: &str) -> Option<Self> {
        let define = |kind, name: &str| {
            let full_name = format!("{prefix}.hot_reload.{name}");
            // Safety: called from Envoy's config hook (main thread, Envoy's config being created).
            let defined = unsafe { ffi::config_define_metric(config_envoy, kind, full_name.as_bytes(), &[]) };
            defined
                .map_err(|result| {
                    host_log!(
                        Warn,
                        "EnvoyX stock host: Envoy refused the stat {full_name} (metrics result {result})"
                    )
                })
                .ok()
        };
        Some(Self {
            reloads: define(MetricKind::Counter, "reloads")?,
            refused: define(MetricKind::Counter, "refused")?,
            draining: define(MetricKind::Gauge, "draining")?,
            published: Mutex::default(),
        })
    }

    /// Brings the stats up to `now` through the stream `envoy` (its worker thread). A stream
    /// that finds another publishing leaves it to that one.
    pub fn publish(&self, now: ReloadStats, envoy: EnvoyFilter) {
        let Ok(mut published) = self.published.try_lock() else { return };
        if *published == now {
            return;
        }
        let records = [
            (MetricKind::Counter, MetricOp::Add, self.reloads, now.reloads - published.reloads),
            (MetricKind::Counter, MetricOp::Add, self.refused, now.refused - published.refused),
            (MetricKind::Gauge, MetricOp::Set, self.draining, now.draining),
        ];
        for (kind, op, id, value) in records {
            if let Err(result) = envoy.record_metric(kind, op, id, &[], value) {
                host_log!(Debug, "EnvoyX stock host: Envoy refused a hot-reload stat (result {result})");
            }
        }
        *published = now;
    }
}
