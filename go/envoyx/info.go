package envoyx

/*
#include "host.h"

static inline bool envoyxgo_metadata_set(envoyx_stream* stream, const char* ns, size_t ns_len,
    const char* key, size_t key_len, envoyx_value* value, const char* text, size_t text_len) {
  envoyx_value v = *value; // the view of `text` lives in C memory only
  v.string = envoyxgo_bytes(text, text_len);
  return envoyxgo_host->metadata_set(stream, envoyxgo_bytes(ns, ns_len), envoyxgo_bytes(key, key_len), v);
}

static inline bool envoyxgo_metadata_get(envoyx_stream* stream, uint32_t source, const char* ns,
    size_t ns_len, const char* key, size_t key_len, uint32_t kind, envoyx_value* out) {
  return envoyxgo_host->metadata_get(stream, source, envoyxgo_bytes(ns, ns_len), envoyxgo_bytes(key, key_len), kind, out);
}

static inline bool envoyxgo_filter_state_set(envoyx_stream* stream, const char* key, size_t key_len,
    const char* value, size_t value_len) {
  return envoyxgo_host->filter_state_set(stream, envoyxgo_bytes(key, key_len), envoyxgo_bytes(value, value_len));
}

static inline bool envoyxgo_filter_state_get(envoyx_stream* stream, const char* key, size_t key_len,
    envoyx_bytes* out) {
  return envoyxgo_host->filter_state_get(stream, envoyxgo_bytes(key, key_len), out);
}

static inline bool envoyxgo_refresh_route_cluster(envoyx_stream* stream) {
  return envoyxgo_host->refresh_route_cluster(stream);
}

static inline bool envoyxgo_filter_state_has(envoyx_stream* stream, const char* key, size_t key_len) {
  return envoyxgo_host->filter_state_has(stream, envoyxgo_bytes(key, key_len));
}

static inline bool envoyxgo_clear_route_cache(envoyx_stream* stream) { return envoyxgo_host->clear_route_cache(stream); }

static inline bool envoyxgo_upstream_override_host(envoyx_stream* stream, const char* h, size_t len,
    bool strict) {
  return envoyxgo_host->upstream_override_host(stream, envoyxgo_bytes(h, len), strict);
}

static inline bool envoyxgo_attribute_get(envoyx_stream* stream, uint32_t attribute,
    envoyx_value* out) {
  return envoyxgo_host->attribute_get(stream, attribute, out);
}

static inline bool envoyxgo_span_set_tag(envoyx_stream* stream, const char* key, size_t key_len,
    const char* value, size_t value_len) {
  return envoyxgo_host->span_set_tag(stream, envoyxgo_bytes(key, key_len), envoyxgo_bytes(value, value_len));
}
*/
import "C"

// Metadata, filter state, attributes, tracing and routing: what a stream knows and tells beyond
// its headers and bodies (ABI 1.1). Each works inside any hook of the stream; strings are
// copied into Go.

// MetadataSource is where metadata is read from.
type MetadataSource uint32

const (
	// MetadataDynamic is the stream's dynamic metadata (what SetMetadata wrote, and other
	// filters').
	MetadataDynamic MetadataSource = 0
	// MetadataRoute is the matched route's `metadata`.
	MetadataRoute MetadataSource = 1
	// MetadataCluster is the upstream cluster's `metadata` (once the route picked one).
	MetadataCluster MetadataSource = 2
	// MetadataHost is the chosen upstream host's `metadata` (its LbEndpoint's), once one is
	// chosen: in the response hooks (ABI 1.2).
	MetadataHost MetadataSource = 3
	// MetadataHostLocality is the chosen upstream host's locality's `metadata` (ABI 1.2).
	MetadataHostLocality MetadataSource = 4
)

const (
	valueString = 0
	valueNumber = 1
	valueBool   = 2
)

func (s *Stream) setMetadata(ns, key string, value C.envoyx_value, text string) bool {
	return bool(C.envoyxgo_metadata_set(s.raw, cstr(ns), C.size_t(len(ns)), cstr(key), C.size_t(len(key)), &value, cstr(text), C.size_t(len(text))))
}

// SetMetadataString sets `key` in the namespace `ns` of the stream's dynamic metadata, where
// Envoy's access log (%DYNAMIC_METADATA(ns:key)%) and later filters read it. False when refused
// (logged): `ns` and `key` are 1-256 bytes and the value at most 64 KiB, UTF-8 without control
// bytes.
func (s *Stream) SetMetadataString(ns, key, value string) bool {
	return s.setMetadata(ns, key, C.envoyx_value{kind: valueString}, value)
}

// SetMetadataNumber sets a number (finite).
func (s *Stream) SetMetadataNumber(ns, key string, value float64) bool {
	return s.setMetadata(ns, key, C.envoyx_value{kind: valueNumber, number: C.double(value)}, "")
}

// SetMetadataBool sets a boolean.
func (s *Stream) SetMetadataBool(ns, key string, value bool) bool {
	return s.setMetadata(ns, key, C.envoyx_value{kind: valueBool, boolean: C.bool(value)}, "")
}

func (s *Stream) metadata(source MetadataSource, ns, key string, kind uint32) (C.envoyx_value, bool) {
	var out C.envoyx_value
	ok := C.envoyxgo_metadata_get(s.raw, C.uint32_t(source), cstr(ns), C.size_t(len(ns)), cstr(key), C.size_t(len(key)), C.uint32_t(kind), &out)
	return out, bool(ok)
}

// MetadataString reads a string `key` of namespace `ns` from `source`; false when absent or not
// a string.
func (s *Stream) MetadataString(source MetadataSource, ns, key string) (string, bool) {
	v, ok := s.metadata(source, ns, key, valueString)
	if !ok {
		return "", false
	}
	return goString(v.string.ptr, v.string.len), true
}

// MetadataNumber reads a number.
func (s *Stream) MetadataNumber(source MetadataSource, ns, key string) (float64, bool) {
	v, ok := s.metadata(source, ns, key, valueNumber)
	return float64(v.number), ok
}

// MetadataBool reads a boolean.
func (s *Stream) MetadataBool(source MetadataSource, ns, key string) (bool, bool) {
	v, ok := s.metadata(source, ns, key, valueBool)
	return bool(v.boolean), ok
}

// SetFilterState sets the stream's filter state `key` (as a metadata key) to `value` (at most
// 64 KiB), readable by later filters and by Envoy's own where the key is one they read. A key is
// set once: setting it again is refused. False when refused (logged).
func (s *Stream) SetFilterState(key string, value []byte) bool {
	return bool(C.envoyxgo_filter_state_set(s.raw, cstr(key), C.size_t(len(key)), cbytes(value), C.size_t(len(value))))
}

// FilterState reads the filter state `key` (set by any filter as a string); false when absent.
func (s *Stream) FilterState(key string) ([]byte, bool) {
	var out C.envoyx_bytes
	if !C.envoyxgo_filter_state_get(s.raw, cstr(key), C.size_t(len(key)), &out) {
		return nil, false
	}
	return []byte(goString(out.ptr, out.len)), true
}

// HasFilterState tells whether the stream's filter state has `key` (ABI 1.2), whoever set it and
// whatever its type: a string of any filter, an object of Envoy's (on stock Envoy before 1.40, an
// object with no string form reads as absent). False when refused (logged).
func (s *Stream) HasFilterState(key string) bool {
	return bool(C.envoyxgo_filter_state_has(s.raw, cstr(key), C.size_t(len(key))))
}

// RefreshRouteCluster makes Envoy pick the cluster of the request's route again when the request
// headers go on (ABI 1.2); the route stays. For a route whose cluster comes from a header
// (cluster_header) or from weights, after changing that header. Only while the request headers
// are held; false (logged) when they already went on.
func (s *Stream) RefreshRouteCluster() bool { return bool(C.envoyxgo_refresh_route_cluster(s.raw)) }

// ClearRouteCache makes Envoy pick the route again from the request headers as they are when
// they go on (after changing :path, :authority or a header routes match on). Only while the
// request headers are held; false when they already went on.
func (s *Stream) ClearRouteCache() bool { return bool(C.envoyxgo_clear_route_cache(s.raw)) }

// OverrideUpstreamHost sends the request to the host `host` (ip:port) of the cluster the route
// picks; `strict`: fail rather than use another host when that one is not in the cluster. As
// ClearRouteCache's hooks; false when refused (logged).
func (s *Stream) OverrideUpstreamHost(host string, strict bool) bool {
	return bool(C.envoyxgo_upstream_override_host(s.raw, cstr(host), C.size_t(len(host)), C.bool(strict)))
}

// SetSpanTag adds the tag `key: value` to the stream's active span; false without a tracer or
// when refused (logged).
func (s *Stream) SetSpanTag(key, value string) bool {
	return bool(C.envoyxgo_span_set_tag(s.raw, cstr(key), C.size_t(len(key)), cstr(value), C.size_t(len(value))))
}

// Attribute is a fact about a stream Envoy knows (x/abi.h's envoyx_attribute; Envoy's attribute
// names in brackets).
type Attribute uint32

const (
	AttributeSourceAddress      Attribute = 0  // client ip:port, string [source.address]
	AttributeSourcePort         Attribute = 1  // number [source.port]
	AttributeDestinationAddress Attribute = 2  // ip:port the client connected to, string
	AttributeDestinationPort    Attribute = 3  // number
	AttributeRequestID          Attribute = 4  // x-request-id, string
	AttributeProtocol           Attribute = 5  // HTTP/1.1, HTTP/2, ..., string
	AttributeRouteName          Attribute = 6  // string; absent for an unnamed route
	AttributeClusterName        Attribute = 7  // the cluster the route picked, string
	AttributeUpstreamAddress    Attribute = 8  // ip:port, string; once chosen
	AttributeResponseCode       Attribute = 9  // number; once a response exists
	AttributeConnectionID       Attribute = 10 // number
	AttributeTLSVersion         Attribute = 11 // string; absent without TLS
	AttributeTLSPeerSubject     Attribute = 12 // string
	AttributeTLSPeerDNSSAN      Attribute = 13 // string
	AttributeTLSPeerURISAN      Attribute = 14 // string
	AttributeTLSPeerSHA256      Attribute = 15 // hex string
	// ABI 1.2: the rest of Envoy's vocabulary; a proxy version that cannot tell one refuses it
	// (logged, naming the versions that can).
	AttributeRequestPath                  Attribute = 16 // string [request.path]
	AttributeRequestURLPath               Attribute = 17 // string [request.url_path]
	AttributeRequestHost                  Attribute = 18 // string [request.host]
	AttributeRequestScheme                Attribute = 19 // string [request.scheme]
	AttributeRequestMethod                Attribute = 20 // string [request.method]
	AttributeRequestReferer               Attribute = 21 // string [request.referer]
	AttributeRequestUserAgent             Attribute = 22 // string [request.useragent]
	AttributeRequestQuery                 Attribute = 23 // string [request.query]
	AttributeRequestSize                  Attribute = 24 // number [request.size]
	AttributeRequestTotalSize             Attribute = 25 // number [request.total_size]
	AttributeResponseCodeDetails          Attribute = 26 // string [response.code_details]
	AttributeResponseFlags                Attribute = 27 // number [response.flags]
	AttributeResponseGRPCStatus           Attribute = 28 // number [response.grpc_status]
	AttributeResponseSize                 Attribute = 29 // number [response.size]
	AttributeResponseTotalSize            Attribute = 30 // number [response.total_size]
	AttributeConnectionMTLS               Attribute = 31 // boolean [connection.mtls]
	AttributeConnectionSNI                Attribute = 32 // string [connection.requested_server_name]
	AttributeTLSLocalSubject              Attribute = 33 // string [connection.subject_local_certificate]
	AttributeTLSLocalDNSSAN               Attribute = 34 // string [connection.dns_san_local_certificate]
	AttributeTLSLocalURISAN               Attribute = 35 // string [connection.uri_san_local_certificate]
	AttributeConnectionTransportFailure   Attribute = 36 // string [connection.transport_failure_reason]
	AttributeConnectionTerminationDetails Attribute = 37 // string [connection.termination_details]
	AttributeUpstreamPort                 Attribute = 38 // number [upstream.port]
	AttributeUpstreamTLSVersion           Attribute = 39 // string [upstream.tls_version]
	AttributeUpstreamTLSLocalSubject      Attribute = 40 // string [upstream.subject_local_certificate]
	AttributeUpstreamTLSPeerSubject       Attribute = 41 // string [upstream.subject_peer_certificate]
	AttributeUpstreamTLSLocalDNSSAN       Attribute = 42 // string [upstream.dns_san_local_certificate]
	AttributeUpstreamTLSPeerDNSSAN        Attribute = 43 // string [upstream.dns_san_peer_certificate]
	AttributeUpstreamTLSLocalURISAN       Attribute = 44 // string [upstream.uri_san_local_certificate]
	AttributeUpstreamTLSPeerURISAN        Attribute = 45 // string [upstream.uri_san_peer_certificate]
	AttributeUpstreamTLSPeerSHA256        Attribute = 46 // string [upstream.sha256_peer_certificate_digest]
	AttributeUpstreamLocalAddress         Attribute = 47 // string [upstream.local_address]
	AttributeUpstreamTransportFailure     Attribute = 48 // string [upstream.transport_failure_reason]
	AttributeUpstreamAttempts             Attribute = 49 // number [upstream.request_attempt_count]
	AttributeListenerDirection            Attribute = 50 // number [xds.listener_direction]
	AttributeVirtualHostName              Attribute = 51 // string [xds.virtual_host_name]
	AttributeFilterChainName              Attribute = 52 // string [xds.filter_chain_name]
	AttributeHealthCheck                  Attribute = 53 // boolean [health_check]
)

// AttributeString reads a string attribute; false when absent (or a number attribute).
func (s *Stream) AttributeString(a Attribute) (string, bool) {
	var out C.envoyx_value
	if !C.envoyxgo_attribute_get(s.raw, C.uint32_t(a), &out) || out.kind != valueString {
		return "", false
	}
	return goString(out.string.ptr, out.string.len), true
}

// AttributeBool reads a boolean attribute (AttributeConnectionMTLS, AttributeHealthCheck); false
// in `ok` when absent (or another kind).
func (s *Stream) AttributeBool(a Attribute) (value, ok bool) {
	var out C.envoyx_value
	if !C.envoyxgo_attribute_get(s.raw, C.uint32_t(a), &out) || out.kind != valueBool {
		return false, false
	}
	return bool(out.boolean), true
}

// AttributeNumber reads a number attribute; false when absent (or a string attribute).
func (s *Stream) AttributeNumber(a Attribute) (float64, bool) {
	var out C.envoyx_value
	if !C.envoyxgo_attribute_get(s.raw, C.uint32_t(a), &out) || out.kind != valueNumber {
		return 0, false
	}
	return float64(out.number), true
}
