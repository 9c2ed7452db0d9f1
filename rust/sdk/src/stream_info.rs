//! Dynamic metadata, filter state and routing (ABI 1.1): what a filter tells the rest of the
//! proxy about a stream, and how it steers it. The methods are on [`Stream`](crate::Stream).
//!
//! ```
//! use envoyx_sdk::{Filter, HeadersStatus, MetadataSource, Stream};
//!
//! struct Route;
//!
//! impl Filter for Route {
//!     fn on_request_headers(&mut self, stream: &mut Stream, _end_of_stream: bool) -> HeadersStatus {
//!         // Envoy's access log prints it with %DYNAMIC_METADATA(my_filter:decision)%.
//!         stream.set_metadata("my_filter", "decision", "allow");
//!         // The route's own metadata, as the route configuration set it.
//!         let tier = stream.metadata_str(MetadataSource::Route, "my_filter", "tier").unwrap_or("free").to_string();
//!         // Re-route /v1/... to /v2/...: change :path, then have Envoy pick the route again.
//!         let path = stream.request_headers().get_str(":path").unwrap_or("/").to_string();
//!         if let Some(rest) = path.strip_prefix("/v1/") {
//!             stream.request_headers().set(":path", format!("/v2/{rest}"));
//!             stream.clear_route_cache();
//!         }
//!         stream.set_filter_state("my_filter.tier", tier.as_bytes());
//!         HeadersStatus::Continue
//!     }
//! }
//! ```

/// Where metadata is read from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetadataSource {
    /// The stream's dynamic metadata: what [`Stream::set_metadata`](crate::Stream::set_metadata)
    /// wrote, and other filters'.
    Dynamic,
    /// The matched route's `metadata`.
    Route,
    /// The upstream cluster's `metadata`, once the route picked one.
    Cluster,
}

impl MetadataSource {
    pub(crate) fn to_abi(self) -> u32 {
        match self {
            MetadataSource::Dynamic => envoyx_abi::ENVOYX_METADATA_DYNAMIC,
            MetadataSource::Route => envoyx_abi::ENVOYX_METADATA_ROUTE,
            MetadataSource::Cluster => envoyx_abi::ENVOYX_METADATA_CLUSTER,
        }
    }
}

/// A metadata value: a string (UTF-8, at most 64 KiB), a finite number or a bool.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum MetadataValue<'a> {
    /// Text (Envoy keeps it as a protobuf string).
    String(&'a str),
    /// A finite number (a protobuf double).
    Number(f64),
    /// True or false.
    Bool(bool),
}

impl<'a> From<&'a str> for MetadataValue<'a> {
    fn from(s: &'a str) -> Self {
        MetadataValue::String(s)
    }
}

impl From<f64> for MetadataValue<'_> {
    fn from(n: f64) -> Self {
        MetadataValue::Number(n)
    }
}

impl From<bool> for MetadataValue<'_> {
    fn from(b: bool) -> Self {
        MetadataValue::Bool(b)
    }
}

impl MetadataValue<'_> {
    pub(crate) fn to_abi(self) -> envoyx_abi::envoyx_value {
        match self {
            MetadataValue::String(s) => envoyx_abi::envoyx_value::string(s.as_bytes()),
            MetadataValue::Number(n) => envoyx_abi::envoyx_value::number(n),
            MetadataValue::Bool(b) => envoyx_abi::envoyx_value::boolean(b),
        }
    }
}

/// A fact the proxy knows about a stream, read with
/// [`Stream::attribute_str`](crate::Stream::attribute_str) or
/// [`Stream::attribute_u64`](crate::Stream::attribute_u64) (the kind each variant says). Absent
/// values (no TLS, no upstream host chosen yet, no response yet, a proxy that cannot tell) are
/// `None`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Attribute {
    /// The client's address, `ip:port` (text).
    SourceAddress,
    /// The client's port (number).
    SourcePort,
    /// The address the client connected to, `ip:port` (text).
    DestinationAddress,
    /// Its port (number).
    DestinationPort,
    /// The request id (`x-request-id`) (text).
    RequestId,
    /// The downstream protocol: `HTTP/1.1`, `HTTP/2`, ... (text).
    Protocol,
    /// The matched route's name (text; absent for an unnamed route).
    RouteName,
    /// The upstream cluster the route picked (text).
    ClusterName,
    /// The upstream host chosen, `ip:port` (text; once chosen).
    UpstreamAddress,
    /// The response status code (number; once a response exists).
    ResponseCode,
    /// The downstream connection's id (number).
    ConnectionId,
    /// The TLS version negotiated with the client, `TLSv1.3` (text; absent without TLS).
    TlsVersion,
    /// The client certificate's subject (text).
    TlsPeerSubject,
    /// The client certificate's first DNS SAN (text).
    TlsPeerDnsSan,
    /// The client certificate's first URI SAN (text).
    TlsPeerUriSan,
    /// The client certificate's SHA-256 digest, hex (text).
    TlsPeerSha256,
}

impl Attribute {
    pub(crate) fn to_abi(self) -> u32 {
        use envoyx_abi::*;
        match self {
            Attribute::SourceAddress => ENVOYX_ATTRIBUTE_SOURCE_ADDRESS,
            Attribute::SourcePort => ENVOYX_ATTRIBUTE_SOURCE_PORT,
            Attribute::DestinationAddress => ENVOYX_ATTRIBUTE_DESTINATION_ADDRESS,
            Attribute::DestinationPort => ENVOYX_ATTRIBUTE_DESTINATION_PORT,
            Attribute::RequestId => ENVOYX_ATTRIBUTE_REQUEST_ID,
            Attribute::Protocol => ENVOYX_ATTRIBUTE_PROTOCOL,
            Attribute::RouteName => ENVOYX_ATTRIBUTE_ROUTE_NAME,
            Attribute::ClusterName => ENVOYX_ATTRIBUTE_CLUSTER_NAME,
            Attribute::UpstreamAddress => ENVOYX_ATTRIBUTE_UPSTREAM_ADDRESS,
            Attribute::ResponseCode => ENVOYX_ATTRIBUTE_RESPONSE_CODE,
            Attribute::ConnectionId => ENVOYX_ATTRIBUTE_CONNECTION_ID,
            Attribute::TlsVersion => ENVOYX_ATTRIBUTE_TLS_VERSION,
            Attribute::TlsPeerSubject => ENVOYX_ATTRIBUTE_TLS_PEER_SUBJECT,
            Attribute::TlsPeerDnsSan => ENVOYX_ATTRIBUTE_TLS_PEER_DNS_SAN,
            Attribute::TlsPeerUriSan => ENVOYX_ATTRIBUTE_TLS_PEER_URI_SAN,
            Attribute::TlsPeerSha256 => ENVOYX_ATTRIBUTE_TLS_PEER_SHA256,
        }
    }
}
