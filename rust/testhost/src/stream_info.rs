//! Dynamic metadata, filter state and routing on the test host: what the module wrote, kept for
//! the test to read, and route and cluster metadata the test gives the stream
//! ([`crate::TestStream::set_source_metadata`]).

use std::collections::HashMap;

use envoyx_abi::{envoyx_bytes, envoyx_value};
use envoyx_core::{MetadataSource, MetadataValue, ValueKind};

/// A metadata value as the test host keeps it.
#[derive(Clone, Debug, PartialEq)]
pub enum StoredValue {
    String(String),
    Number(f64),
    Bool(bool),
}

impl From<MetadataValue<'_>> for StoredValue {
    fn from(value: MetadataValue<'_>) -> Self {
        match value {
            MetadataValue::String(s) => StoredValue::String(s.to_string()),
            MetadataValue::Number(n) => StoredValue::Number(n),
            MetadataValue::Bool(b) => StoredValue::Bool(b),
        }
    }
}

impl StoredValue {
    /// The ABI's value when it is of `kind` (a string views this one's bytes).
    fn view(&self, kind: ValueKind) -> Option<envoyx_value> {
        match (self, kind) {
            (StoredValue::String(s), ValueKind::String) => Some(envoyx_value::string(s.as_bytes())),
            (StoredValue::Number(n), ValueKind::Number) => Some(envoyx_value::number(*n)),
            (StoredValue::Bool(b), ValueKind::Bool) => Some(envoyx_value::boolean(*b)),
            _ => None,
        }
    }
}

/// One stream's metadata, filter state and routing requests.
#[derive(Default)]
pub(crate) struct StreamInfo {
    /// By (source, namespace, key). Dynamic entries are the module's; route and cluster ones
    /// the test's.
    pub metadata: HashMap<(MetadataSource, String, String), StoredValue>,
    pub filter_state: HashMap<String, Vec<u8>>,
    /// How many times the module asked for the route to be picked again.
    pub route_cache_cleared: u32,
    /// The upstream host the module asked for, and whether strictly.
    pub upstream_host: Option<(String, bool)>,
}

impl StreamInfo {
    pub fn metadata_get(
        &self,
        source: MetadataSource,
        ns: &str,
        key: &str,
        kind: ValueKind,
    ) -> Option<envoyx_value> {
        // The string stays where it is until the metadata changes: Strings keep their heap
        // buffer when the map grows.
        self.metadata.get(&(source, ns.to_string(), key.to_string()))?.view(kind)
    }

    pub fn filter_state_get(&self, key: &str) -> Option<envoyx_bytes> {
        self.filter_state.get(key).map(|v| envoyx_bytes::from_slice(v))
    }
}
