//! Attributes (ABI 1.1; the rest of Envoy's vocabulary in 1.2): facts the proxy knows about a
//! stream (addresses, ids, the request line, sizes, codes, the route, the upstream host and its
//! attempts, TLS both ways), read-only. The core checks the attribute asked for, refuses one the
//! proxy cannot tell at all (the host says why: a proxy version that does not serve it), and
//! checks that the host's value has the kind the ABI gives it; absent values are absent, not
//! errors, and so is an empty string (Envoy's name of an unnamed route).

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
    RequestPath = envoyx_abi::ENVOYX_ATTRIBUTE_REQUEST_PATH,
    RequestUrlPath = envoyx_abi::ENVOYX_ATTRIBUTE_REQUEST_URL_PATH,
    RequestHost = envoyx_abi::ENVOYX_ATTRIBUTE_REQUEST_HOST,
    RequestScheme = envoyx_abi::ENVOYX_ATTRIBUTE_REQUEST_SCHEME,
    RequestMethod = envoyx_abi::ENVOYX_ATTRIBUTE_REQUEST_METHOD,
    RequestReferer = envoyx_abi::ENVOYX_ATTRIBUTE_REQUEST_REFERER,
    RequestUserAgent = envoyx_abi::ENVOYX_ATTRIBUTE_REQUEST_USER_AGENT,
    RequestQuery = envoyx_abi::ENVOYX_ATTRIBUTE_REQUEST_QUERY,
    RequestSize = envoyx_abi::ENVOYX_ATTRIBUTE_REQUEST_SIZE,
    RequestTotalSize = envoyx_abi::ENVOYX_ATTRIBUTE_REQUEST_TOTAL_SIZE,
    ResponseCodeDetails = envoyx_abi::ENVOYX_ATTRIBUTE_RESPONSE_CODE_DETAILS,
    ResponseFlags = envoyx_abi::ENVOYX_ATTRIBUTE_RESPONSE_FLAGS,
    ResponseGrpcStatus = envoyx_abi::ENVOYX_ATTRIBUTE_RESPONSE_GRPC_STATUS,
    ResponseSize = envoyx_abi::ENVOYX_ATTRIBUTE_RESPONSE_SIZE,
    ResponseTotalSize = envoyx_abi::ENVOYX_ATTRIBUTE_RESPONSE_TOTAL_SIZE,
    ConnectionMtls = envoyx_abi::ENVOYX_ATTRIBUTE_CONNECTION_MTLS,
    ConnectionSni = envoyx_abi::ENVOYX_ATTRIBUTE_CONNECTION_SNI,
    TlsLocalSubject = envoyx_abi::ENVOYX_ATTRIBUTE_TLS_LOCAL_SUBJECT,
    TlsLocalDnsSan = envoyx_abi::ENVOYX_ATTRIBUTE_TLS_LOCAL_DNS_SAN,
    TlsLocalUriSan = envoyx_abi::ENVOYX_ATTRIBUTE_TLS_LOCAL_URI_SAN,
    ConnectionTransportFailure = envoyx_abi::ENVOYX_ATTRIBUTE_CONNECTION_TRANSPORT_FAILURE,
    ConnectionTerminationDetails = envoyx_abi::ENVOYX_ATTRIBUTE_CONNECTION_TERMINATION_DETAILS,
    UpstreamPort = envoyx_abi::ENVOYX_ATTRIBUTE_UPSTREAM_PORT,
    UpstreamTlsVersion = envoyx_abi::ENVOYX_ATTRIBUTE_UPSTREAM_TLS_VERSION,
    UpstreamTlsLocalSubject = envoyx_abi::ENVOYX_ATTRIBUTE_UPSTREAM_TLS_LOCAL_SUBJECT,
    UpstreamTlsPeerSubject = envoyx_abi::ENVOYX_ATTRIBUTE_UPSTREAM_TLS_PEER_SUBJECT,
    UpstreamTlsLocalDnsSan = envoyx_abi::ENVOYX_ATTRIBUTE_UPSTREAM_TLS_LOCAL_DNS_SAN,
    UpstreamTlsPeerDnsSan = envoyx_abi::ENVOYX_ATTRIBUTE_UPSTREAM_TLS_PEER_DNS_SAN,
    UpstreamTlsLocalUriSan = envoyx_abi::ENVOYX_ATTRIBUTE_UPSTREAM_TLS_LOCAL_URI_SAN,
    UpstreamTlsPeerUriSan = envoyx_abi::ENVOYX_ATTRIBUTE_UPSTREAM_TLS_PEER_URI_SAN,
    UpstreamTlsPeerSha256 = envoyx_abi::ENVOYX_ATTRIBUTE_UPSTREAM_TLS_PEER_SHA256,
    UpstreamLocalAddress = envoyx_abi::ENVOYX_ATTRIBUTE_UPSTREAM_LOCAL_ADDRESS,
    UpstreamTransportFailure = envoyx_abi::ENVOYX_ATTRIBUTE_UPSTREAM_TRANSPORT_FAILURE,
    UpstreamAttempts = envoyx_abi::ENVOYX_ATTRIBUTE_UPSTREAM_ATTEMPTS,
    ListenerDirection = envoyx_abi::ENVOYX_ATTRIBUTE_LISTENER_DIRECTION,
    VirtualHostName = envoyx_abi::ENVOYX_ATTRIBUTE_VIRTUAL_HOST_NAME,
    FilterChainName = envoyx_abi::ENVOYX_ATTRIBUTE_FILTER_CHAIN_NAME,
    HealthCheck = envoyx_abi::ENVOYX_ATTRIBUTE_HEALTH_CHECK,
}

impl Attribute {
    /// Every attribute, in ABI order.
    pub const ALL: [Attribute; 54] = [
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
        Attribute::RequestPath,
        Attribute::RequestUrlPath,
        Attribute::RequestHost,
        Attribute::RequestScheme,
        Attribute::RequestMethod,
        Attribute::RequestReferer,
        Attribute::RequestUserAgent,
        Attribute::RequestQuery,
        Attribute::RequestSize,
        Attribute::RequestTotalSize,
        Attribute::ResponseCodeDetails,
        Attribute::ResponseFlags,
        Attribute::ResponseGrpcStatus,
        Attribute::ResponseSize,
        Attribute::ResponseTotalSize,
        Attribute::ConnectionMtls,
        Attribute::ConnectionSni,
        Attribute::TlsLocalSubject,
        Attribute::TlsLocalDnsSan,
        Attribute::TlsLocalUriSan,
        Attribute::ConnectionTransportFailure,
        Attribute::ConnectionTerminationDetails,
        Attribute::UpstreamPort,
        Attribute::UpstreamTlsVersion,
        Attribute::UpstreamTlsLocalSubject,
        Attribute::UpstreamTlsPeerSubject,
        Attribute::UpstreamTlsLocalDnsSan,
        Attribute::UpstreamTlsPeerDnsSan,
        Attribute::UpstreamTlsLocalUriSan,
        Attribute::UpstreamTlsPeerUriSan,
        Attribute::UpstreamTlsPeerSha256,
        Attribute::UpstreamLocalAddress,
        Attribute::UpstreamTransportFailure,
        Attribute::UpstreamAttempts,
        Attribute::ListenerDirection,
        Attribute::VirtualHostName,
        Attribute::FilterChainName,
        Attribute::HealthCheck,
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
            | Attribute::ConnectionId
            | Attribute::RequestSize
            | Attribute::RequestTotalSize
            | Attribute::ResponseFlags
            | Attribute::ResponseGrpcStatus
            | Attribute::ResponseSize
            | Attribute::ResponseTotalSize
            | Attribute::UpstreamPort
            | Attribute::UpstreamAttempts
            | Attribute::ListenerDirection => ValueKind::Number,
            Attribute::ConnectionMtls | Attribute::HealthCheck => ValueKind::Bool,
            _ => ValueKind::String,
        }
    }

    /// Envoy's name of it (its CEL attribute), for log lines and documents.
    pub fn name(self) -> &'static str {
        match self {
            Attribute::SourceAddress => "source.address",
            Attribute::SourcePort => "source.port",
            Attribute::DestinationAddress => "destination.address",
            Attribute::DestinationPort => "destination.port",
            Attribute::RequestId => "request.id",
            Attribute::Protocol => "request.protocol",
            Attribute::RouteName => "xds.route_name",
            Attribute::ClusterName => "xds.cluster_name",
            Attribute::UpstreamAddress => "upstream.address",
            Attribute::ResponseCode => "response.code",
            Attribute::ConnectionId => "connection.id",
            Attribute::TlsVersion => "connection.tls_version",
            Attribute::TlsPeerSubject => "connection.subject_peer_certificate",
            Attribute::TlsPeerDnsSan => "connection.dns_san_peer_certificate",
            Attribute::TlsPeerUriSan => "connection.uri_san_peer_certificate",
            Attribute::TlsPeerSha256 => "connection.sha256_peer_certificate_digest",
            Attribute::RequestPath => "request.path",
            Attribute::RequestUrlPath => "request.url_path",
            Attribute::RequestHost => "request.host",
            Attribute::RequestScheme => "request.scheme",
            Attribute::RequestMethod => "request.method",
            Attribute::RequestReferer => "request.referer",
            Attribute::RequestUserAgent => "request.useragent",
            Attribute::RequestQuery => "request.query",
            Attribute::RequestSize => "request.size",
            Attribute::RequestTotalSize => "request.total_size",
            Attribute::ResponseCodeDetails => "response.code_details",
            Attribute::ResponseFlags => "response.flags",
            Attribute::ResponseGrpcStatus => "response.grpc_status",
            Attribute::ResponseSize => "response.size",
            Attribute::ResponseTotalSize => "response.total_size",
            Attribute::ConnectionMtls => "connection.mtls",
            Attribute::ConnectionSni => "connection.requested_server_name",
            Attribute::TlsLocalSubject => "connection.subject_local_certificate",
            Attribute::TlsLocalDnsSan => "connection.dns_san_local_certificate",
            Attribute::TlsLocalUriSan => "connection.uri_san_local_certificate",
            Attribute::ConnectionTransportFailure => "connection.transport_failure_reason",
            Attribute::ConnectionTerminationDetails => "connection.termination_details",
            Attribute::UpstreamPort => "upstream.port",
            Attribute::UpstreamTlsVersion => "upstream.tls_version",
            Attribute::UpstreamTlsLocalSubject => "upstream.subject_local_certificate",
            Attribute::UpstreamTlsPeerSubject => "upstream.subject_peer_certificate",
            Attribute::UpstreamTlsLocalDnsSan => "upstream.dns_san_local_certificate",
            Attribute::UpstreamTlsPeerDnsSan => "upstream.dns_san_peer_certificate",
            Attribute::UpstreamTlsLocalUriSan => "upstream.uri_san_local_certificate",
            Attribute::UpstreamTlsPeerUriSan => "upstream.uri_san_peer_certificate",
            Attribute::UpstreamTlsPeerSha256 => "upstream.sha256_peer_certificate_digest",
            Attribute::UpstreamLocalAddress => "upstream.local_address",
            Attribute::UpstreamTransportFailure => "upstream.transport_failure_reason",
            Attribute::UpstreamAttempts => "upstream.request_attempt_count",
            Attribute::ListenerDirection => "xds.listener_direction",
            Attribute::VirtualHostName => "xds.virtual_host_name",
            Attribute::FilterChainName => "xds.filter_chain_name",
            Attribute::HealthCheck => "health_check",
        }
    }
}

/// `attribute_get`.
pub(crate) fn get(cell: &StreamCell, attribute: u32) -> Option<envoyx_value> {
    let Some(attribute) = Attribute::from_abi(attribute) else {
        cell.refuse(format_args!("attribute_get of attribute {attribute}"), &"no such attribute");
        return None;
    };
    if let Some(reason) = cell.host.borrow().attribute_unserved(attribute) {
        cell.refuse(format_args!("attribute_get of {}", attribute.name()), &reason);
        return None;
    }
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
