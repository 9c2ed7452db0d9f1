// Which of upstream's attribute ids carries each EnvoyX attribute, as what, and from which
// Envoy minor on the official binaries serve it — read off Envoy 1.38.3, 1.39.3 and 1.40.0 by
// `tests/attributes.rs`, which holds this table to them. Shared by the host and that test
// (`include!`), so it names nothing outside itself. `xds.cluster_name` is not here: the host
// reads it through `get_cluster_name`, which every version has.

/// (EnvoyX attribute id, upstream attribute id, kind: `s` string, `n` number, `b` boolean, the
/// first Envoy 1.N whose filter serves it), by upstream id.
pub const ATTRIBUTE_IDS: &[(u32, u32, char, u32)] = &[
    (16, 0, 's', 38),  // request.path
    (17, 1, 's', 38),  // request.url_path
    (18, 2, 's', 38),  // request.host
    (19, 3, 's', 38),  // request.scheme
    (20, 4, 's', 38),  // request.method
    (21, 6, 's', 38),  // request.referer
    (22, 7, 's', 38),  // request.useragent
    (4, 9, 's', 38),   // request.id
    (5, 10, 's', 38),  // request.protocol
    (23, 11, 's', 38), // request.query
    (24, 13, 'n', 40), // request.size
    (25, 14, 'n', 40), // request.total_size
    (9, 15, 'n', 38),  // response.code
    (26, 16, 's', 39), // response.code_details
    (27, 17, 'n', 39), // response.flags
    (28, 18, 'n', 40), // response.grpc_status
    (29, 21, 'n', 39), // response.size
    (30, 22, 'n', 40), // response.total_size
    (0, 24, 's', 38),  // source.address
    (1, 25, 'n', 38),  // source.port
    (2, 26, 's', 38),  // destination.address
    (3, 27, 'n', 38),  // destination.port
    (10, 28, 'n', 38), // connection.id
    (31, 29, 'b', 38), // connection.mtls
    (32, 30, 's', 39), // connection.requested_server_name
    (11, 31, 's', 38), // connection.tls_version
    (33, 32, 's', 38), // connection.subject_local_certificate
    (12, 33, 's', 38), // connection.subject_peer_certificate
    (34, 34, 's', 38), // connection.dns_san_local_certificate
    (13, 35, 's', 38), // connection.dns_san_peer_certificate
    (35, 36, 's', 38), // connection.uri_san_local_certificate
    (14, 37, 's', 38), // connection.uri_san_peer_certificate
    (15, 38, 's', 38), // connection.sha256_peer_certificate_digest
    (36, 39, 's', 39), // connection.transport_failure_reason
    (37, 40, 's', 39), // connection.termination_details
    (8, 41, 's', 38),  // upstream.address
    (38, 42, 'n', 38), // upstream.port
    (39, 43, 's', 39), // upstream.tls_version
    (40, 44, 's', 39), // upstream.subject_local_certificate
    (41, 45, 's', 39), // upstream.subject_peer_certificate
    (42, 46, 's', 39), // upstream.dns_san_local_certificate
    (43, 47, 's', 39), // upstream.dns_san_peer_certificate
    (44, 48, 's', 39), // upstream.uri_san_local_certificate
    (45, 49, 's', 39), // upstream.uri_san_peer_certificate
    (46, 50, 's', 39), // upstream.sha256_peer_certificate_digest
    (47, 51, 's', 39), // upstream.local_address
    (48, 52, 's', 39), // upstream.transport_failure_reason
    (49, 53, 'n', 39), // upstream.request_attempt_count
    (50, 59, 'n', 40), // xds.listener_direction
    (6, 61, 's', 38),  // xds.route_name
    (51, 63, 's', 39), // xds.virtual_host_name
    (52, 66, 's', 40), // xds.filter_chain_name
    (53, 67, 'b', 39), // health_check
];
