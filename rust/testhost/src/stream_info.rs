//! Dynamic metadata, filter state and routing on the test host: what the module wrote, kept for
//! the test to read, and route and cluster metadata the test gives the stream
//! ([`crate::TestStream::set_source_metadata`]).

use std::collections::HashMap;

use envoyx_abi::{envoyx_bytes, envoyx_value};
use envoyx_core::{Attribute, MetadataSource, MetadataValue, ValueKind};

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

/// Some of Envoy's filter-state object factories (the names Envoy registers them by), whose
/// objects the test host makes for `filter_state_set_typed`: each keeps the bytes it was made
/// from as its serialized form, as these do in Envoy.
pub const OBJECT_FACTORIES: &[&str] = &[
    "envoy.network.upstream_server_name",
    "envoy.network.application_protocols",
    "envoy.network.upstream_subject_alt_names",
    "envoy.tcp_proxy.cluster",
];

/// One stream's metadata, filter state and routing requests.
#[derive(Default)]
pub(crate) struct StreamInfo {
    /// By (source, namespace, key). Dynamic entries are the module's; route and cluster ones
    /// the test's.
    pub metadata: HashMap<(MetadataSource, String, String), StoredValue>,
    /// Typed metadata by (source, namespace): an Any's type URL and serialized value (ABI 1.2).
    pub typed_metadata: HashMap<(MetadataSource, String), (String, Vec<u8>)>,
    /// By key: a string (what a module or another filter set), or None for an object of the
    /// proxy's that is not a string (exists, but reads as absent).
    pub filter_state: HashMap<String, Option<Vec<u8>>>,
    /// The serialized form of each object of `filter_state` that is not a string (ABI 1.2
    /// `filter_state_get_serialized`), where it has one.
    pub filter_state_serialized: HashMap<String, Vec<u8>>,
    /// Sets over a filter-state key that existed: what Envoy counts as its own bug
    /// (`server.envoy_bug_failures`); the core must never make one.
    pub envoy_bugs: u32,
    /// How many times the module asked for the route to be picked again.
    pub route_cache_cleared: u32,
    /// How many times the module asked for the route's cluster to be picked again.
    pub route_cluster_refreshed: u32,
    /// The upstream host the module asked for, and whether strictly.
    pub upstream_host: Option<(String, bool)>,
    /// The stream's spans (the test turns tracing on).
    pub tracer: crate::tracing::Tracer,
    /// The stream's number (the trace id of its span).
    pub number: u64,
    /// Attributes the test gave the stream, over [`connection_defaults`].
    pub attributes: HashMap<Attribute, StoredValue>,
    /// Attributes derived from the request headers (`from_request`), one slot each.
    pub derived: HashMap<Attribute, String>,
    /// The buffer limit the module set (ABI 1.2), if any; Envoy's default otherwise
    /// ([`crate::DEFAULT_BUFFER_LIMIT`]).
    pub buffer_limit: Option<u64>,
    /// The stream's moments (ABI 1.2 `timing_get`).
    pub timing: crate::timing::Clock,
    /// The secret value a module read last (its view points here).
    pub secret_read: Option<std::sync::Arc<[u8]>>,
    /// The upstream hosts the test says the request was sent to (ABI 1.2
    /// `upstream_hosts_attempted`); unset: [`UPSTREAM_HOST`] once the request headers went on.
    pub hosts_attempted: Option<Vec<String>>,
}

/// The upstream host the test host sends a request to (one attempt, once its headers went on).
pub const UPSTREAM_HOST: &str = "127.0.0.1:10001";

/// The test host's connection, unless the test says otherwise: client 127.0.0.1:50000 to
/// 127.0.0.1:10000 over HTTP/1.1, a request id and a connection id of the stream's number.
pub(crate) fn connection_defaults(stream_number: u64) -> HashMap<Attribute, StoredValue> {
    HashMap::from([
        (Attribute::SourceAddress, StoredValue::String("127.0.0.1:50000".into())),
        (Attribute::SourcePort, StoredValue::Number(50000.0)),
        (Attribute::DestinationAddress, StoredValue::String("127.0.0.1:10000".into())),
        (Attribute::DestinationPort, StoredValue::Number(10000.0)),
        (Attribute::RequestId, StoredValue::String(format!("testhost-{stream_number}"))),
        (Attribute::Protocol, StoredValue::String("HTTP/1.1".into())),
        (Attribute::ConnectionId, StoredValue::Number(stream_number as f64)),
    ])
}

/// An attribute of the request line, from the request headers: `request.path` (with the query),
/// `request.url_path` (without), `request.host`, `request.scheme`, `request.method`,
/// `request.referer`, `request.useragent`, `request.query`. None for other attributes, or when
/// the header is absent.
pub(crate) fn from_request(attribute: Attribute, headers: &crate::HeaderMap) -> Option<String> {
    let path = || headers.get(":path");
    match attribute {
        Attribute::RequestPath => path(),
        Attribute::RequestUrlPath => path().map(|p| p.split('?').next().unwrap_or_default().to_string()),
        Attribute::RequestQuery => {
            path().map(|p| p.split_once('?').map(|(_, q)| q.to_string()).unwrap_or_default())
        }
        Attribute::RequestHost => headers.get(":authority"),
        Attribute::RequestScheme => headers.get(":scheme"),
        Attribute::RequestMethod => headers.get(":method"),
        Attribute::RequestReferer => headers.get("referer"),
        Attribute::RequestUserAgent => headers.get("user-agent"),
        _ => None,
    }
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

    pub fn attribute(&self, attribute: Attribute) -> Option<envoyx_value> {
        self.attributes.get(&attribute)?.view(attribute.kind())
    }

    /// A view of `value`, derived for `attribute` now; its slot keeps its buffer while the value
    /// stays the same, so a view handed out earlier in the hook stays valid.
    pub fn derived(&mut self, attribute: Attribute, value: String) -> Option<envoyx_value> {
        let slot = self.derived.entry(attribute).or_default();
        if *slot != value {
            *slot = value;
        }
        Some(envoyx_value::string(slot.as_bytes()))
    }

    pub fn filter_state_get(&self, key: &str) -> Option<envoyx_bytes> {
        self.filter_state.get(key)?.as_deref().map(envoyx_bytes::from_slice)
    }

    /// The serialized form of the object at `key`: a string's bytes, or an object's form.
    pub fn filter_state_serialized(&self, key: &str) -> Option<envoyx_bytes> {
        match self.filter_state.get(key)? {
            Some(string) => Some(envoyx_bytes::from_slice(string)),
            None => self.filter_state_serialized.get(key).map(|form| envoyx_bytes::from_slice(form)),
        }
    }

    /// Sets `key` to the object Envoy's factory of that name makes from `value` (ABI 1.2
    /// `filter_state_set_typed`), for the factories in [`OBJECT_FACTORIES`] and `envoy.string`
    /// (a plain string); false for any other name, as Envoy without such a factory.
    pub fn filter_state_set_typed(&mut self, key: &str, value: &[u8]) -> bool {
        if key == "envoy.string" {
            return self.filter_state_set(key, Some(value));
        }
        if !OBJECT_FACTORIES.contains(&key) || !self.filter_state_set(key, None) {
            return false;
        }
        self.filter_state_serialized.insert(key.to_string(), value.to_vec());
        true
    }

    /// Sets `key` read-only, as Envoy does: a set over an existing key changes nothing and
    /// counts as a proxy bug.
    pub fn filter_state_set(&mut self, key: &str, value: Option<&[u8]>) -> bool {
        if self.filter_state.contains_key(key) {
            self.envoy_bugs += 1;
            return false;
        }
        self.filter_state.insert(key.to_string(), value.map(<[u8]>::to_vec));
        true
    }
}
