//! Attributes (ABI 1.1): facts the proxy knows about a stream (addresses, ids, the route, the
//! upstream host, TLS), read-only. The core checks the attribute asked for and that the host's
//! value has the kind the ABI gives it; absent values are absent, not errors, and so is an empty
//! string (Envoy's name of an unnamed route).

use envoyx_abi::envoyx_value;

use crate::stream::cell::StreamCell;
use crate::stream::stream_info::ValueKind;

/// A stream attribute. Mirrors `envoyx_attribute`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum Attribute {
    SourceAddress = envoyx_abi::ENVOYX_ATTRIBUTE_SOURCE_ADDRESS,
    SourcePort = envoyx_abi::ENVOYX_ATTRIBUTE_SOURCE_PORT,
    DestinationAddress = envoyx_abi::ENVOYX_ATTRIBUTE_DESTINATION_ADDRESS,
    DestinationPort = envoyx_abi::ENVOYX_ATTRIBUTE_DESTINATION_PORT,
    RequestId = envoyx_abi::ENVOYX_ATTRIBUTE_REQUEST_ID,
    Protocol = envoyx_abi::ENVOYX_ATTRIBUTE_PROTOCOL,
    RouteName = envoyx_abi::ENVOYX_ATTRIBUTE_ROUTE_NAME,
    ClusterName = envoyx_abi::ENVOYX_ATTRIBUTE_CLUSTER_NAME,
    UpstreamAddress = envoyx_abi::ENVOYX_ATTRIBUTE_UPSTREAM_ADDRESS,
    ResponseCode = envoyx_abi::ENVOYX_ATTRIBUTE_RESPONSE_CODE,
    ConnectionId = envoyx_abi::ENVOYX_ATTRIBUTE_CONNECTION_ID,
    TlsVersion = envoyx_abi::ENVOYX_ATTRIBUTE_TLS_VERSION,
    TlsPeerSubject = envoyx_abi::ENVOYX_ATTRIBUTE_TLS_PEER_SUBJECT,
    TlsPeerDnsSan = envoyx_abi::ENVOYX_ATTRIBUTE_TLS_PEER_DNS_SAN,
    TlsPeerUriSan = envoyx_abi::ENVOYX_ATTRIBUTE_TLS_PEER_URI_SAN,
    TlsPeerSha256 = envoyx_abi::ENVOYX_ATTRIBUTE_TLS_PEER_SHA256,
}

impl Attribute {
    /// Every attribute, in ABI order.
    pub const ALL: [Attribute; 16] = [
        Attribute::SourceAddress,
        Attribute::SourcePort,
        Attribute::DestinationAddress,
        Attribute::DestinationPort,
        Attribute::RequestId,
        Attribute::Protocol,
        Attribute::RouteName,
        Attribute::ClusterName,
        Attribute::UpstreamAddress,
        Attribute::ResponseCode,
        Attribute::ConnectionId,
        Attribute::TlsVersion,
        Attribute::TlsPeerSubject,
        Attribute::TlsPeerDnsSan,
        Attribute::TlsPeerUriSan,
        Attribute::TlsPeerSha256,
    ];

    pub fn from_abi(attribute: u32) -> Option<Self> {
        Self::ALL.into_iter().find(|a| *a as u32 == attribute)
    }

    /// The kind of its value.
    pub fn kind(self) -> ValueKind {
        match self {
            Attribute::SourcePort
            | Attribute::DestinationPort
            | Attribute::ResponseCode
            | Attribute::ConnectionId => ValueKind::Number,
            _ => ValueKind::String,
        }
    }
}

/// `attribute_get`.
pub(crate) fn get(cell: &StreamCell, attribute: u32) -> Option<envoyx_value> {
    let Some(attribute) = Attribute::from_abi(attribute) else {
        cell.refuse(format_args!("attribute_get of attribute {attribute}"), &"no such attribute");
        return None;
    };
    let value = cell.host.borrow_mut().attribute(attribute)?;
    // A host bug, not the module's: say so, and give the module nothing.
    if value.kind != attribute.kind() as u32 {
        crate::log::core_log!(
            Error,
            "EnvoyX host: attribute {attribute:?} came back as value kind {}",
            value.kind
        );
        return None;
    }
    // Envoy gives an unnamed route's name as "": absent, as on every other host.
    if attribute.kind() == ValueKind::String && value.string.len == 0 {
        return None;
    }
    Some(value)
}
