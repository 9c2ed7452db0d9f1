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
    /// The chosen upstream host's `metadata` (its LbEndpoint's), once one is chosen: in the
    /// response hooks (ABI 1.2).
    Host,
    /// The chosen upstream host's locality's `metadata` (ABI 1.2).
    HostLocality,
}

impl MetadataSource {
    pub(crate) fn to_abi(self) -> u32 {
        match self {
            MetadataSource::Dynamic => envoyx_abi::ENVOYX_METADATA_DYNAMIC,
            MetadataSource::Route => envoyx_abi::ENVOYX_METADATA_ROUTE,
            MetadataSource::Cluster => envoyx_abi::ENVOYX_METADATA_CLUSTER,
            MetadataSource::Host => envoyx_abi::ENVOYX_METADATA_HOST,
            MetadataSource::HostLocality => envoyx_abi::ENVOYX_METADATA_HOST_LOCALITY,
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
/// [`Stream::attribute_str`](crate::Stream::attribute_str),
/// [`Stream::attribute_u64`](crate::Stream::attribute_u64) or
/// [`Stream::attribute_bool`](crate::Stream::attribute_bool) (the kind each variant says). A
/// proxy version that cannot tell one at all refuses it (logged, naming the versions that can). Absent
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
    /// The request's path with its query (text; `request.path`; ABI 1.2).
    RequestPath,
    /// The request's path without its query (text; `request.url_path`; ABI 1.2).
    RequestUrlPath,
    /// The request's host (`:authority`) (text; `request.host`; ABI 1.2).
    RequestHost,
    /// The request's scheme, http or https (text; `request.scheme`; ABI 1.2).
    RequestScheme,
    /// The request's method (text; `request.method`; ABI 1.2).
    RequestMethod,
    /// The request's `referer` header (text; `request.referer`; ABI 1.2).
    RequestReferer,
    /// The request's `user-agent` header (text; `request.useragent`; ABI 1.2).
    RequestUserAgent,
    /// The request's query, without `?` (text; `request.query`; ABI 1.2).
    RequestQuery,
    /// Request body bytes received so far (number; `request.size`; ABI 1.2).
    RequestSize,
    /// Request bytes received so far, headers included (number; `request.total_size`; ABI 1.2).
    RequestTotalSize,
    /// Why the response has its code (e.g. via_upstream) (text; `response.code_details`; ABI 1.2).
    ResponseCodeDetails,
    /// Envoy's response flags, a bit set (number; `response.flags`; ABI 1.2).
    ResponseFlags,
    /// The gRPC status of a gRPC response (number; `response.grpc_status`; ABI 1.2).
    ResponseGrpcStatus,
    /// Response body bytes sent so far (number; `response.size`; ABI 1.2).
    ResponseSize,
    /// Response bytes sent so far, headers included (number; `response.total_size`; ABI 1.2).
    ResponseTotalSize,
    /// Whether the client presented a certificate (absent without TLS) (boolean; `connection.mtls`; ABI 1.2).
    ConnectionMtls,
    /// The SNI the client asked for (text; `connection.requested_server_name`; ABI 1.2).
    ConnectionSni,
    /// The listener certificate's subject (text; `connection.subject_local_certificate`; ABI 1.2).
    TlsLocalSubject,
    /// The listener certificate's first DNS SAN (text; `connection.dns_san_local_certificate`; ABI 1.2).
    TlsLocalDnsSan,
    /// The listener certificate's first URI SAN (text; `connection.uri_san_local_certificate`; ABI 1.2).
    TlsLocalUriSan,
    /// Why the client's TLS failed (text; `connection.transport_failure_reason`; ABI 1.2).
    ConnectionTransportFailure,
    /// Why the proxy closed the client's connection (text; `connection.termination_details`; ABI 1.2).
    ConnectionTerminationDetails,
    /// The chosen upstream host's port (once chosen) (number; `upstream.port`; ABI 1.2).
    UpstreamPort,
    /// TLS to the upstream (absent without): its version (text; `upstream.tls_version`; ABI 1.2).
    UpstreamTlsVersion,
    /// The proxy's client certificate's subject (text; `upstream.subject_local_certificate`; ABI 1.2).
    UpstreamTlsLocalSubject,
    /// The upstream certificate's subject (text; `upstream.subject_peer_certificate`; ABI 1.2).
    UpstreamTlsPeerSubject,
    /// The proxy's client certificate's first DNS SAN (text; `upstream.dns_san_local_certificate`; ABI 1.2).
    UpstreamTlsLocalDnsSan,
    /// The upstream certificate's first DNS SAN (text; `upstream.dns_san_peer_certificate`; ABI 1.2).
    UpstreamTlsPeerDnsSan,
    /// The proxy's client certificate's first URI SAN (text; `upstream.uri_san_local_certificate`; ABI 1.2).
    UpstreamTlsLocalUriSan,
    /// The upstream certificate's first URI SAN (text; `upstream.uri_san_peer_certificate`; ABI 1.2).
    UpstreamTlsPeerUriSan,
    /// The upstream certificate's SHA-256 digest, hex (text; `upstream.sha256_peer_certificate_digest`; ABI 1.2).
    UpstreamTlsPeerSha256,
    /// The proxy's side of the upstream connection, `ip:port` (text; `upstream.local_address`; ABI 1.2).
    UpstreamLocalAddress,
    /// Why the upstream connection failed (text; `upstream.transport_failure_reason`; ABI 1.2).
    UpstreamTransportFailure,
    /// How many times the request was tried upstream (retries included) (number; `upstream.request_attempt_count`; ABI 1.2).
    UpstreamAttempts,
    /// The listener's traffic direction: 0 unspecified, 1 inbound, 2 outbound (number; `xds.listener_direction`; ABI 1.2).
    ListenerDirection,
    /// The matched virtual host's name (text; `xds.virtual_host_name`; ABI 1.2).
    VirtualHostName,
    /// The listener filter chain's name (absent when unnamed) (text; `xds.filter_chain_name`; ABI 1.2).
    FilterChainName,
    /// Whether the request is a health check (boolean; `health_check`; ABI 1.2).
    HealthCheck,
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
            Attribute::RequestPath => ENVOYX_ATTRIBUTE_REQUEST_PATH,
            Attribute::RequestUrlPath => ENVOYX_ATTRIBUTE_REQUEST_URL_PATH,
            Attribute::RequestHost => ENVOYX_ATTRIBUTE_REQUEST_HOST,
            Attribute::RequestScheme => ENVOYX_ATTRIBUTE_REQUEST_SCHEME,
            Attribute::RequestMethod => ENVOYX_ATTRIBUTE_REQUEST_METHOD,
            Attribute::RequestReferer => ENVOYX_ATTRIBUTE_REQUEST_REFERER,
            Attribute::RequestUserAgent => ENVOYX_ATTRIBUTE_REQUEST_USER_AGENT,
            Attribute::RequestQuery => ENVOYX_ATTRIBUTE_REQUEST_QUERY,
            Attribute::RequestSize => ENVOYX_ATTRIBUTE_REQUEST_SIZE,
            Attribute::RequestTotalSize => ENVOYX_ATTRIBUTE_REQUEST_TOTAL_SIZE,
            Attribute::ResponseCodeDetails => ENVOYX_ATTRIBUTE_RESPONSE_CODE_DETAILS,
            Attribute::ResponseFlags => ENVOYX_ATTRIBUTE_RESPONSE_FLAGS,
            Attribute::ResponseGrpcStatus => ENVOYX_ATTRIBUTE_RESPONSE_GRPC_STATUS,
            Attribute::ResponseSize => ENVOYX_ATTRIBUTE_RESPONSE_SIZE,
            Attribute::ResponseTotalSize => ENVOYX_ATTRIBUTE_RESPONSE_TOTAL_SIZE,
            Attribute::ConnectionMtls => ENVOYX_ATTRIBUTE_CONNECTION_MTLS,
            Attribute::ConnectionSni => ENVOYX_ATTRIBUTE_CONNECTION_SNI,
            Attribute::TlsLocalSubject => ENVOYX_ATTRIBUTE_TLS_LOCAL_SUBJECT,
            Attribute::TlsLocalDnsSan => ENVOYX_ATTRIBUTE_TLS_LOCAL_DNS_SAN,
            Attribute::TlsLocalUriSan => ENVOYX_ATTRIBUTE_TLS_LOCAL_URI_SAN,
            Attribute::ConnectionTransportFailure => ENVOYX_ATTRIBUTE_CONNECTION_TRANSPORT_FAILURE,
            Attribute::ConnectionTerminationDetails => ENVOYX_ATTRIBUTE_CONNECTION_TERMINATION_DETAILS,
            Attribute::UpstreamPort => ENVOYX_ATTRIBUTE_UPSTREAM_PORT,
            Attribute::UpstreamTlsVersion => ENVOYX_ATTRIBUTE_UPSTREAM_TLS_VERSION,
            Attribute::UpstreamTlsLocalSubject => ENVOYX_ATTRIBUTE_UPSTREAM_TLS_LOCAL_SUBJECT,
            Attribute::UpstreamTlsPeerSubject => ENVOYX_ATTRIBUTE_UPSTREAM_TLS_PEER_SUBJECT,
            Attribute::UpstreamTlsLocalDnsSan => ENVOYX_ATTRIBUTE_UPSTREAM_TLS_LOCAL_DNS_SAN,
            Attribute::UpstreamTlsPeerDnsSan => ENVOYX_ATTRIBUTE_UPSTREAM_TLS_PEER_DNS_SAN,
            Attribute::UpstreamTlsLocalUriSan => ENVOYX_ATTRIBUTE_UPSTREAM_TLS_LOCAL_URI_SAN,
            Attribute::UpstreamTlsPeerUriSan => ENVOYX_ATTRIBUTE_UPSTREAM_TLS_PEER_URI_SAN,
            Attribute::UpstreamTlsPeerSha256 => ENVOYX_ATTRIBUTE_UPSTREAM_TLS_PEER_SHA256,
            Attribute::UpstreamLocalAddress => ENVOYX_ATTRIBUTE_UPSTREAM_LOCAL_ADDRESS,
            Attribute::UpstreamTransportFailure => ENVOYX_ATTRIBUTE_UPSTREAM_TRANSPORT_FAILURE,
            Attribute::UpstreamAttempts => ENVOYX_ATTRIBUTE_UPSTREAM_ATTEMPTS,
            Attribute::ListenerDirection => ENVOYX_ATTRIBUTE_LISTENER_DIRECTION,
            Attribute::VirtualHostName => ENVOYX_ATTRIBUTE_VIRTUAL_HOST_NAME,
            Attribute::FilterChainName => ENVOYX_ATTRIBUTE_FILTER_CHAIN_NAME,
            Attribute::HealthCheck => ENVOYX_ATTRIBUTE_HEALTH_CHECK,
        }
    }
}

impl crate::Stream {
    /// Merges the JSON object `json` into namespace `ns` of the stream's dynamic metadata, as a
    /// google.protobuf.Struct (ABI 1.2): its keys replace those already there, the others stay.
    /// A flat object (strings, numbers, booleans) works on every host; a nested list or object,
    /// or a null, where the proxy takes a whole Struct (stock Envoy 1.40 and later). False, with
    /// a warning in the proxy's log, when refused.
    ///
    /// ```
    /// use envoyx_sdk::Stream;
    ///
    /// fn record(stream: &mut Stream, user: &str) -> bool {
    ///     let json = format!(r#"{{"user": {user:?}, "checked": true, "score": 0.9}}"#);
    ///     stream.set_metadata_struct("my_filter", &json)
    /// }
    /// ```
    pub fn set_metadata_struct(&mut self, ns: &str, json: &str) -> bool {
        // Safety: inside a hook of this stream on its worker thread; the views live for the call.
        unsafe {
            (self.host().metadata_set_struct)(
                self.as_raw(),
                envoyx_abi::envoyx_bytes::from_slice(ns.as_bytes()),
                envoyx_abi::envoyx_bytes::from_slice(json.as_bytes()),
            )
        }
    }

    /// The typed metadata of namespace `ns` of `source` (its `typed_filter_metadata` entry, a
    /// google.protobuf.Any; ABI 1.2): the type URL and the message's serialized protobuf bytes,
    /// valid while the stream is borrowed. None when absent, and where the proxy serves no
    /// typed metadata (stock Envoy before 1.40; logged once).
    ///
    /// ```
    /// use envoyx_sdk::{MetadataSource, Stream};
    ///
    /// fn route_policy(stream: &mut Stream) -> Option<Vec<u8>> {
    ///     let (type_url, value) = stream.metadata_typed(MetadataSource::Route, "my_filter")?;
    ///     (type_url == "type.googleapis.com/my.Policy").then(|| value.to_vec())
    /// }
    /// ```
    pub fn metadata_typed(&mut self, source: MetadataSource, ns: &str) -> Option<(&str, &[u8])> {
        let (mut url, mut value) = (envoyx_abi::envoyx_bytes::EMPTY, envoyx_abi::envoyx_bytes::EMPTY);
        // Safety: inside a hook of this stream on its worker thread; `ns` is read during the
        // call, `url` and `value` are ours to write.
        let found = unsafe {
            (self.host().metadata_get_typed)(
                self.as_raw(),
                source.to_abi(),
                envoyx_abi::envoyx_bytes::from_slice(ns.as_bytes()),
                &mut url,
                &mut value,
            )
        };
        if !found {
            return None;
        }
        // Safety: the proxy's views, valid until the metadata changes or the hook returns; the
        // results borrow the stream, which rules out both.
        let (url, value) = unsafe { (url.as_slice(), value.as_slice()) };
        Some((std::str::from_utf8(url).ok()?, value))
    }

    /// Sets namespace `ns` of the stream's typed dynamic metadata to a google.protobuf.Any of
    /// `type_url` (`type.googleapis.com/package.Message`) holding `value`, the message's
    /// serialized protobuf bytes (at most 64 KiB; ABI 1.2), replacing what the namespace held:
    /// what Envoy's own consumers of typed metadata read (ext_authz's
    /// `typed_metadata_context_namespaces`). Read back with
    /// [`metadata_typed`](Self::metadata_typed)`(MetadataSource::Dynamic, ns)`. False, with a
    /// warning in the proxy's log, when refused: a bad namespace or type URL, and where the proxy
    /// takes no typed metadata from modules (stock Envoy before 1.40).
    ///
    /// ```
    /// use envoyx_sdk::Stream;
    ///
    /// /// Hands the next filters a google.protobuf.StringValue (field 1, a string).
    /// fn tag_tenant(stream: &mut Stream, tenant: &str) -> bool {
    ///     let mut value = vec![0x0a, tenant.len() as u8];
    ///     value.extend_from_slice(tenant.as_bytes());
    ///     stream.set_metadata_typed("my_filter", "type.googleapis.com/google.protobuf.StringValue", &value)
    /// }
    /// # let _ = tag_tenant;
    /// ```
    pub fn set_metadata_typed(&mut self, ns: &str, type_url: &str, value: &[u8]) -> bool {
        // Safety: inside a hook of this stream on its worker thread; the views are read during
        // the call (the host copies them).
        unsafe {
            (self.host().metadata_set_typed)(
                self.as_raw(),
                envoyx_abi::envoyx_bytes::from_slice(ns.as_bytes()),
                envoyx_abi::envoyx_bytes::from_slice(type_url.as_bytes()),
                envoyx_abi::envoyx_bytes::from_slice(value),
            )
        }
    }

    /// The namespaces of `source`'s metadata, in the proxy's order (ABI 1.2): what other filters,
    /// the proxy or the configuration put there. Empty when the source has none (yet).
    ///
    /// ```
    /// use envoyx_sdk::{MetadataSource, Stream};
    ///
    /// fn authorized_by_someone(stream: &mut Stream) -> bool {
    ///     stream.metadata_namespaces(MetadataSource::Dynamic).iter().any(|ns| ns == "envoy.filters.http.ext_authz")
    /// }
    /// ```
    pub fn metadata_namespaces(&mut self, source: MetadataSource) -> Vec<String> {
        self.metadata_names(source, None)
    }

    /// The keys of namespace `ns` of `source`'s metadata, in the proxy's order (ABI 1.2); empty
    /// when the namespace is absent.
    pub fn metadata_keys(&mut self, source: MetadataSource, ns: &str) -> Vec<String> {
        self.metadata_names(source, Some(ns))
    }

    fn metadata_names(&mut self, source: MetadataSource, ns: Option<&str>) -> Vec<String> {
        let list = |stream: &mut Self, out: &mut [envoyx_abi::envoyx_bytes]| {
            let (raw, host, cap) = (stream.as_raw(), stream.host(), out.len());
            // Safety: inside a hook of this stream on its worker thread; `out` has room for
            // `cap` views and `ns` is read during the call.
            unsafe {
                match ns {
                    None => (host.metadata_namespaces)(raw, source.to_abi(), out.as_mut_ptr(), cap),
                    Some(ns) => (host.metadata_keys)(
                        raw,
                        source.to_abi(),
                        envoyx_abi::envoyx_bytes::from_slice(ns.as_bytes()),
                        out.as_mut_ptr(),
                        cap,
                    ),
                }
            }
        };
        let mut views = [envoyx_abi::envoyx_bytes::EMPTY; 16];
        let total = list(self, &mut views);
        let mut more;
        let views: &[envoyx_abi::envoyx_bytes] = if total > views.len() {
            more = vec![envoyx_abi::envoyx_bytes::EMPTY; total];
            let again = list(self, &mut more);
            &more[..again.min(total)]
        } else {
            &views[..total]
        };
        // Safety: the proxy's views, valid until the metadata changes; copied at once.
        views.iter().map(|v| String::from_utf8_lossy(unsafe { v.as_slice() }).into_owned()).collect()
    }

    /// The serialized form of the filter-state object at `key`, whoever set it and whatever its
    /// type (ABI 1.2): a string's bytes, or an Envoy object's string form, valid while the stream
    /// is borrowed. None when absent or without one. [`Stream::filter_state`](crate::Stream::filter_state)
    /// reads strings only.
    ///
    /// ```
    /// use envoyx_sdk::Stream;
    ///
    /// fn upstream_sni(stream: &mut Stream) -> Option<String> {
    ///     let sni = stream.filter_state_serialized("envoy.network.upstream_server_name")?;
    ///     Some(String::from_utf8_lossy(sni).into_owned())
    /// }
    /// ```
    pub fn filter_state_serialized(&mut self, key: &str) -> Option<&[u8]> {
        let mut value = envoyx_abi::envoyx_bytes::EMPTY;
        // Safety: inside a hook of this stream on its worker thread; `value` is ours to write.
        let found = unsafe {
            (self.host().filter_state_get_serialized)(
                self.as_raw(),
                envoyx_abi::envoyx_bytes::from_slice(key.as_bytes()),
                &mut value,
            )
        };
        // Safety: the proxy's view, valid until the hook returns or the filter state changes;
        // the result borrows the stream, which rules out both.
        found.then(|| unsafe { value.as_slice() })
    }

    /// Sets filter state `key` to the object the proxy's factory of that name makes from
    /// `value` (ABI 1.2), read-only, for the request: how a filter hands Envoy's own filters a
    /// typed object, such as `envoy.network.upstream_server_name` (the upstream TLS SNI) or
    /// `envoy.tcp_proxy.cluster`; `envoy.string` makes a plain string. False, with a warning in
    /// the proxy's log, when the key is taken or the proxy has no such factory or it refuses
    /// the value.
    ///
    /// ```
    /// use envoyx_sdk::{Filter, HeadersStatus, Stream};
    ///
    /// struct Sni;
    ///
    /// impl Filter for Sni {
    ///     fn on_request_headers(&mut self, stream: &mut Stream, _end_of_stream: bool) -> HeadersStatus {
    ///         stream.set_filter_state_typed("envoy.network.upstream_server_name", "backend.internal");
    ///         HeadersStatus::Continue
    ///     }
    /// }
    /// ```
    pub fn set_filter_state_typed(&mut self, key: &str, value: impl AsRef<[u8]>) -> bool {
        let value = value.as_ref();
        // Safety: inside a hook of this stream on its worker thread; the host copies both.
        unsafe {
            (self.host().filter_state_set_typed)(
                self.as_raw(),
                envoyx_abi::envoyx_bytes::from_slice(key.as_bytes()),
                envoyx_abi::envoyx_bytes::from_slice(value),
            )
        }
    }

    /// The generic secret `name` the filter configuration declares (its `secrets`; ABI 1.2): the
    /// proxy's bytes, valid while the stream is borrowed (SDS may rotate the value between
    /// hooks: copy what must last); empty while SDS has not delivered it. None, with a warning in
    /// the proxy's log, for a name the configuration does not declare.
    ///
    /// ```
    /// use envoyx_sdk::{Filter, HeadersStatus, Stream};
    ///
    /// struct ApiKey;
    ///
    /// impl Filter for ApiKey {
    ///     fn on_request_headers(&mut self, stream: &mut Stream, _end_of_stream: bool) -> HeadersStatus {
    ///         // The configuration declares `secrets: [{name: upstream-api-key}]`.
    ///         let key = stream.secret("upstream-api-key").map(<[u8]>::to_vec);
    ///         if let Some(key) = key {
    ///             stream.request_headers().set("x-api-key", key);
    ///         }
    ///         HeadersStatus::Continue
    ///     }
    /// }
    /// ```
    pub fn secret(&mut self, name: &str) -> Option<&[u8]> {
        let mut value = envoyx_abi::envoyx_bytes::EMPTY;
        // Safety: inside a hook of this stream on its worker thread; `value` is ours to write.
        let found = unsafe {
            (self.host().secret_get)(
                self.as_raw(),
                envoyx_abi::envoyx_bytes::from_slice(name.as_bytes()),
                &mut value,
            )
        };
        // Safety: the proxy's view, valid until the hook returns; the result borrows the stream,
        // which a hook cannot keep past its return.
        found.then(|| unsafe { value.as_slice() })
    }
}
