//! The stream wing: one HTTP stream driven through a module under the stream rules, and the host
//! table the module reaches back through. Nothing here loads a module or parses a configuration
//! (the load wing, `crate::load`, does, and starts streams here).

pub(crate) mod answer;
pub(crate) mod attributes;
pub(crate) mod background;
pub(crate) mod callout;
pub(crate) mod callout_data;
pub(crate) mod callout_stream;
pub(crate) mod cell;
pub(crate) mod control;
pub(crate) mod drive;
pub(crate) mod effects;
pub(crate) mod error_sink;
pub(crate) mod flow_control;
pub(crate) mod framing;
pub(crate) mod host;
pub(crate) mod host_api;
pub(crate) mod metadata_struct;
pub(crate) mod metric_record;
pub(crate) mod metrics;
pub(crate) mod route;
pub(crate) mod secrets;
pub(crate) mod setup;
pub(crate) mod stream_info;
pub(crate) mod timing;
pub(crate) mod tracing;
pub mod validate;
