//! Modules from OCI registries (`DynamicModuleConfig.remote.oci`, `envoyx push`/`pull`/`list`):
//! references (`reference.rs`), the artifact's layout (`layout.rs`), registry credentials
//! (`credentials.rs`) and, with the `remote` feature, the registry client (`client.rs`) and
//! pulls and pushes over it (`transfer.rs`).

pub mod credentials;
#[cfg(feature = "remote")]
pub mod layout;
pub mod reference;

#[cfg(feature = "remote")]
pub mod client;
#[cfg(feature = "remote")]
pub mod transfer;

pub use reference::{Reference, Target};
