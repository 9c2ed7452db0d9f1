//! The load wing: module files (their checks, private copies, remote fetching), configurations
//! and their versions, hot reload and per-route configurations. It starts streams through the
//! stream wing (`crate::stream`) and hands modules its host table; nothing in the stream wing
//! reaches back here.

pub mod config;
pub(crate) mod config_version;
pub(crate) mod elf;
pub(crate) mod file_identity;
pub(crate) mod filter_config;
pub(crate) mod json_fields;
pub(crate) mod module;
pub mod oci;
pub(crate) mod private_copy;
pub mod proto;
pub(crate) mod reload;
pub mod remote;
pub(crate) mod remote_config;
pub(crate) mod remote_fetch;
pub(crate) mod route_config;
