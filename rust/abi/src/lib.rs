//! Rust mirror of `x/abi.h`, the EnvoyX module ABI.
//!
//! Every item here has the name and layout of one item of the C header, so that the header
//! stays the single description of the contract: read its comments for ownership, lifetimes and
//! threads. `tests/header_matches.rs` fails when this file and the header disagree on names,
//! struct layouts or constant values, and compiles the header alone as C and as C++.
//!
//! Nothing here is safe to call by itself: this crate only declares. The core (`envoyx-core`)
//! implements the host side, the SDK (`envoyx-sdk`) the module side.
#![allow(non_camel_case_types)]

use std::ffi::c_void;

// The host table (`envoyx_host_api`), `for_each_host_function!` and the minor version, written
// from x/abi.h by `cargo run -p envoyx-codegen` (docs/adding-an-abi-call.md).
#[macro_use]
mod host_api;
pub use host_api::*;

/// `ENVOYX_ABI_VERSION_MAJOR`.
pub const ENVOYX_ABI_VERSION_MAJOR: u32 = 1;

/// `envoyx_abi_version`: an ABI version, major.minor.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct envoyx_abi_version {
    pub major: u32,
    pub minor: u32,
}

/// `envoyx_bytes`: a read-only view of `len` bytes at `ptr`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct envoyx_bytes {
    pub ptr: *const u8,
    pub len: usize,
}

/// `envoyx_slice`: a writable view of one slice of a body, in host memory.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct envoyx_slice {
    pub ptr: *mut u8,
    pub len: usize,
}

impl envoyx_slice {
    /// A writable view of `bytes`.
    pub fn from_mut_slice(bytes: &mut [u8]) -> Self {
        Self { ptr: bytes.as_mut_ptr(), len: bytes.len() }
    }

    /// The bytes this view points at.
    ///
    /// # Safety
    /// `ptr` must point at `len` writable bytes that nothing else reads or writes for `'a` (or
    /// `len` must be 0).
    pub unsafe fn as_mut_slice<'a>(self) -> &'a mut [u8] {
        if self.len == 0 || self.ptr.is_null() {
            &mut []
        } else {
            // Safety: the caller guarantees `ptr..ptr+len` is writable and ours for 'a.
            unsafe { std::slice::from_raw_parts_mut(self.ptr, self.len) }
        }
    }
}

/// `envoyx_header`: one header, a key and one of its values.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct envoyx_header {
    pub key: envoyx_bytes,
    pub value: envoyx_bytes,
}

/// `envoyx_stream`: the host's side of one HTTP stream (opaque).
#[repr(C)]
pub struct envoyx_stream {
    _opaque: [u8; 0],
}

/// `envoyx_stream_handle`: a thread-safe handle to a stream (opaque).
#[repr(C)]
pub struct envoyx_stream_handle {
    _opaque: [u8; 0],
}

/// `envoyx_config_handle`: a thread-safe handle to a filter configuration (opaque, ABI 1.1).
#[repr(C)]
pub struct envoyx_config_handle {
    _opaque: [u8; 0],
}

/// `envoyx_error`: where a module reports why init or a config failed (opaque).
#[repr(C)]
pub struct envoyx_error {
    _opaque: [u8; 0],
}

/// `envoyx_module_config`: the module's filter configuration object.
pub type envoyx_module_config = c_void;
/// `envoyx_module_stream`: the module's per-stream object.
pub type envoyx_module_stream = c_void;
/// `envoyx_module_route_config`: the module's own per-route configuration object (ABI 1.1).
pub type envoyx_module_route_config = c_void;

/// `envoyx_headers_status`.
pub type envoyx_headers_status = u32;
pub const ENVOYX_HEADERS_CONTINUE: envoyx_headers_status = 0;
pub const ENVOYX_HEADERS_STOP_ITERATION: envoyx_headers_status = 1;
pub const ENVOYX_HEADERS_CONTINUE_AND_DONT_END_STREAM: envoyx_headers_status = 2;
pub const ENVOYX_HEADERS_STOP_ALL_ITERATION_AND_BUFFER: envoyx_headers_status = 3;
pub const ENVOYX_HEADERS_STOP_ALL_ITERATION_AND_WATERMARK: envoyx_headers_status = 4;

/// `envoyx_body_status`.
pub type envoyx_body_status = u32;
pub const ENVOYX_BODY_CONTINUE: envoyx_body_status = 0;
pub const ENVOYX_BODY_STOP_ITERATION_AND_BUFFER: envoyx_body_status = 1;
pub const ENVOYX_BODY_STOP_ITERATION_AND_WATERMARK: envoyx_body_status = 2;
pub const ENVOYX_BODY_STOP_ITERATION_NO_BUFFER: envoyx_body_status = 3;

/// `envoyx_trailers_status`.
pub type envoyx_trailers_status = u32;
pub const ENVOYX_TRAILERS_CONTINUE: envoyx_trailers_status = 0;
pub const ENVOYX_TRAILERS_STOP_ITERATION: envoyx_trailers_status = 1;

/// `envoyx_header_map`.
pub type envoyx_header_map = u32;
pub const ENVOYX_REQUEST_HEADERS: envoyx_header_map = 0;
pub const ENVOYX_REQUEST_TRAILERS: envoyx_header_map = 1;
pub const ENVOYX_RESPONSE_HEADERS: envoyx_header_map = 2;
pub const ENVOYX_RESPONSE_TRAILERS: envoyx_header_map = 3;

/// `envoyx_body_kind`.
pub type envoyx_body_kind = u32;
pub const ENVOYX_BODY_REQUEST_RECEIVED: envoyx_body_kind = 0;
pub const ENVOYX_BODY_REQUEST_BUFFERED: envoyx_body_kind = 1;
pub const ENVOYX_BODY_RESPONSE_RECEIVED: envoyx_body_kind = 2;
pub const ENVOYX_BODY_RESPONSE_BUFFERED: envoyx_body_kind = 3;

/// `envoyx_direction`.
pub type envoyx_direction = u32;
pub const ENVOYX_DIRECTION_REQUEST: envoyx_direction = 0;
pub const ENVOYX_DIRECTION_RESPONSE: envoyx_direction = 1;

/// `envoyx_local_reply_status` (ABI 1.2): what a module says of a local reply.
pub type envoyx_local_reply_status = u32;
pub const ENVOYX_LOCAL_REPLY_CONTINUE: envoyx_local_reply_status = 0;
pub const ENVOYX_LOCAL_REPLY_RESET: envoyx_local_reply_status = 1;

/// `envoyx_reset_reason` (ABI 1.2): what a reset tells the client.
pub type envoyx_reset_reason = u32;
pub const ENVOYX_RESET_LOCAL: envoyx_reset_reason = 0;
pub const ENVOYX_RESET_REFUSED: envoyx_reset_reason = 1;

/// `envoyx_callout_status` (ABI 1.1): how an HTTP callout ended.
pub type envoyx_callout_status = u32;
pub const ENVOYX_CALLOUT_RESPONSE: envoyx_callout_status = 0;
pub const ENVOYX_CALLOUT_NO_CLUSTER: envoyx_callout_status = 1;
pub const ENVOYX_CALLOUT_UNAVAILABLE: envoyx_callout_status = 2;
pub const ENVOYX_CALLOUT_RESET: envoyx_callout_status = 3;
pub const ENVOYX_CALLOUT_TOO_LARGE: envoyx_callout_status = 4;

/// `envoyx_callout_event` (ABI 1.1): what happened on a streaming callout.
pub type envoyx_callout_event = u32;
pub const ENVOYX_CALLOUT_EVENT_HEADERS: envoyx_callout_event = 0;
pub const ENVOYX_CALLOUT_EVENT_DATA: envoyx_callout_event = 1;
pub const ENVOYX_CALLOUT_EVENT_TRAILERS: envoyx_callout_event = 2;
pub const ENVOYX_CALLOUT_EVENT_COMPLETE: envoyx_callout_event = 3;
pub const ENVOYX_CALLOUT_EVENT_FAILED: envoyx_callout_event = 4;

/// `envoyx_metric_kind` (ABI 1.1).
pub type envoyx_metric_kind = u32;
pub const ENVOYX_METRIC_COUNTER: envoyx_metric_kind = 0;
pub const ENVOYX_METRIC_GAUGE: envoyx_metric_kind = 1;
pub const ENVOYX_METRIC_HISTOGRAM: envoyx_metric_kind = 2;

/// `envoyx_metric_op` (ABI 1.1).
pub type envoyx_metric_op = u32;
pub const ENVOYX_METRIC_ADD: envoyx_metric_op = 0;
pub const ENVOYX_METRIC_SUBTRACT: envoyx_metric_op = 1;
pub const ENVOYX_METRIC_SET: envoyx_metric_op = 2;
pub const ENVOYX_METRIC_RECORD: envoyx_metric_op = 3;

/// `ENVOYX_METRIC_LABEL_LIMIT` (ABI 1.1).
pub const ENVOYX_METRIC_LABEL_LIMIT: u32 = 1024;

/// `envoyx_metadata_source` (ABI 1.1).
pub type envoyx_metadata_source = u32;
pub const ENVOYX_METADATA_DYNAMIC: envoyx_metadata_source = 0;
pub const ENVOYX_METADATA_ROUTE: envoyx_metadata_source = 1;
pub const ENVOYX_METADATA_CLUSTER: envoyx_metadata_source = 2;
pub const ENVOYX_METADATA_HOST: envoyx_metadata_source = 3;
pub const ENVOYX_METADATA_HOST_LOCALITY: envoyx_metadata_source = 4;

/// `envoyx_value_kind` (ABI 1.1).
pub type envoyx_value_kind = u32;
pub const ENVOYX_VALUE_STRING: envoyx_value_kind = 0;
pub const ENVOYX_VALUE_NUMBER: envoyx_value_kind = 1;
pub const ENVOYX_VALUE_BOOL: envoyx_value_kind = 2;

/// `envoyx_value` (ABI 1.1): a metadata value; `kind` says which field holds it.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct envoyx_value {
    pub kind: envoyx_value_kind,
    pub string: envoyx_bytes,
    pub number: f64,
    pub boolean: bool,
}

impl envoyx_value {
    /// A string value viewing `s`.
    pub const fn string(s: &[u8]) -> Self {
        Self { kind: ENVOYX_VALUE_STRING, string: envoyx_bytes::from_slice(s), number: 0.0, boolean: false }
    }
    pub const fn number(n: f64) -> Self {
        Self { kind: ENVOYX_VALUE_NUMBER, string: envoyx_bytes::EMPTY, number: n, boolean: false }
    }
    pub const fn boolean(b: bool) -> Self {
        Self { kind: ENVOYX_VALUE_BOOL, string: envoyx_bytes::EMPTY, number: 0.0, boolean: b }
    }
}

/// `envoyx_attribute` (ABI 1.1).
pub type envoyx_attribute = u32;
pub const ENVOYX_ATTRIBUTE_SOURCE_ADDRESS: envoyx_attribute = 0;
pub const ENVOYX_ATTRIBUTE_SOURCE_PORT: envoyx_attribute = 1;
pub const ENVOYX_ATTRIBUTE_DESTINATION_ADDRESS: envoyx_attribute = 2;
pub const ENVOYX_ATTRIBUTE_DESTINATION_PORT: envoyx_attribute = 3;
pub const ENVOYX_ATTRIBUTE_REQUEST_ID: envoyx_attribute = 4;
pub const ENVOYX_ATTRIBUTE_PROTOCOL: envoyx_attribute = 5;
pub const ENVOYX_ATTRIBUTE_ROUTE_NAME: envoyx_attribute = 6;
pub const ENVOYX_ATTRIBUTE_CLUSTER_NAME: envoyx_attribute = 7;
pub const ENVOYX_ATTRIBUTE_UPSTREAM_ADDRESS: envoyx_attribute = 8;
pub const ENVOYX_ATTRIBUTE_RESPONSE_CODE: envoyx_attribute = 9;
pub const ENVOYX_ATTRIBUTE_CONNECTION_ID: envoyx_attribute = 10;
pub const ENVOYX_ATTRIBUTE_TLS_VERSION: envoyx_attribute = 11;
pub const ENVOYX_ATTRIBUTE_TLS_PEER_SUBJECT: envoyx_attribute = 12;
pub const ENVOYX_ATTRIBUTE_TLS_PEER_DNS_SAN: envoyx_attribute = 13;
pub const ENVOYX_ATTRIBUTE_TLS_PEER_URI_SAN: envoyx_attribute = 14;
pub const ENVOYX_ATTRIBUTE_TLS_PEER_SHA256: envoyx_attribute = 15;
pub const ENVOYX_ATTRIBUTE_REQUEST_PATH: envoyx_attribute = 16;
pub const ENVOYX_ATTRIBUTE_REQUEST_URL_PATH: envoyx_attribute = 17;
pub const ENVOYX_ATTRIBUTE_REQUEST_HOST: envoyx_attribute = 18;
pub const ENVOYX_ATTRIBUTE_REQUEST_SCHEME: envoyx_attribute = 19;
pub const ENVOYX_ATTRIBUTE_REQUEST_METHOD: envoyx_attribute = 20;
pub const ENVOYX_ATTRIBUTE_REQUEST_REFERER: envoyx_attribute = 21;
pub const ENVOYX_ATTRIBUTE_REQUEST_USER_AGENT: envoyx_attribute = 22;
pub const ENVOYX_ATTRIBUTE_REQUEST_QUERY: envoyx_attribute = 23;
pub const ENVOYX_ATTRIBUTE_REQUEST_SIZE: envoyx_attribute = 24;
pub const ENVOYX_ATTRIBUTE_REQUEST_TOTAL_SIZE: envoyx_attribute = 25;
pub const ENVOYX_ATTRIBUTE_RESPONSE_CODE_DETAILS: envoyx_attribute = 26;
pub const ENVOYX_ATTRIBUTE_RESPONSE_FLAGS: envoyx_attribute = 27;
pub const ENVOYX_ATTRIBUTE_RESPONSE_GRPC_STATUS: envoyx_attribute = 28;
pub const ENVOYX_ATTRIBUTE_RESPONSE_SIZE: envoyx_attribute = 29;
pub const ENVOYX_ATTRIBUTE_RESPONSE_TOTAL_SIZE: envoyx_attribute = 30;
pub const ENVOYX_ATTRIBUTE_CONNECTION_MTLS: envoyx_attribute = 31;
pub const ENVOYX_ATTRIBUTE_CONNECTION_SNI: envoyx_attribute = 32;
pub const ENVOYX_ATTRIBUTE_TLS_LOCAL_SUBJECT: envoyx_attribute = 33;
pub const ENVOYX_ATTRIBUTE_TLS_LOCAL_DNS_SAN: envoyx_attribute = 34;
pub const ENVOYX_ATTRIBUTE_TLS_LOCAL_URI_SAN: envoyx_attribute = 35;
pub const ENVOYX_ATTRIBUTE_CONNECTION_TRANSPORT_FAILURE: envoyx_attribute = 36;
pub const ENVOYX_ATTRIBUTE_CONNECTION_TERMINATION_DETAILS: envoyx_attribute = 37;
pub const ENVOYX_ATTRIBUTE_UPSTREAM_PORT: envoyx_attribute = 38;
pub const ENVOYX_ATTRIBUTE_UPSTREAM_TLS_VERSION: envoyx_attribute = 39;
pub const ENVOYX_ATTRIBUTE_UPSTREAM_TLS_LOCAL_SUBJECT: envoyx_attribute = 40;
pub const ENVOYX_ATTRIBUTE_UPSTREAM_TLS_PEER_SUBJECT: envoyx_attribute = 41;
pub const ENVOYX_ATTRIBUTE_UPSTREAM_TLS_LOCAL_DNS_SAN: envoyx_attribute = 42;
pub const ENVOYX_ATTRIBUTE_UPSTREAM_TLS_PEER_DNS_SAN: envoyx_attribute = 43;
pub const ENVOYX_ATTRIBUTE_UPSTREAM_TLS_LOCAL_URI_SAN: envoyx_attribute = 44;
pub const ENVOYX_ATTRIBUTE_UPSTREAM_TLS_PEER_URI_SAN: envoyx_attribute = 45;
pub const ENVOYX_ATTRIBUTE_UPSTREAM_TLS_PEER_SHA256: envoyx_attribute = 46;
pub const ENVOYX_ATTRIBUTE_UPSTREAM_LOCAL_ADDRESS: envoyx_attribute = 47;
pub const ENVOYX_ATTRIBUTE_UPSTREAM_TRANSPORT_FAILURE: envoyx_attribute = 48;
pub const ENVOYX_ATTRIBUTE_UPSTREAM_ATTEMPTS: envoyx_attribute = 49;
pub const ENVOYX_ATTRIBUTE_LISTENER_DIRECTION: envoyx_attribute = 50;
pub const ENVOYX_ATTRIBUTE_VIRTUAL_HOST_NAME: envoyx_attribute = 51;
pub const ENVOYX_ATTRIBUTE_FILTER_CHAIN_NAME: envoyx_attribute = 52;
pub const ENVOYX_ATTRIBUTE_HEALTH_CHECK: envoyx_attribute = 53;

/// `envoyx_timing` (ABI 1.2): a moment of a stream, in nanoseconds.
pub type envoyx_timing = u32;
pub const ENVOYX_TIMING_START_UNIX: envoyx_timing = 0;
pub const ENVOYX_TIMING_DOWNSTREAM_CONNECTION_BEGIN: envoyx_timing = 1;
pub const ENVOYX_TIMING_DOWNSTREAM_HANDSHAKE_START: envoyx_timing = 2;
pub const ENVOYX_TIMING_DOWNSTREAM_HANDSHAKE_COMPLETE: envoyx_timing = 3;
pub const ENVOYX_TIMING_LAST_DOWNSTREAM_HEADER_RX: envoyx_timing = 4;
pub const ENVOYX_TIMING_LAST_DOWNSTREAM_RX: envoyx_timing = 5;
pub const ENVOYX_TIMING_UPSTREAM_CONNECT_START: envoyx_timing = 6;
pub const ENVOYX_TIMING_UPSTREAM_CONNECT_COMPLETE: envoyx_timing = 7;
pub const ENVOYX_TIMING_UPSTREAM_HANDSHAKE_COMPLETE: envoyx_timing = 8;
pub const ENVOYX_TIMING_FIRST_UPSTREAM_TX: envoyx_timing = 9;
pub const ENVOYX_TIMING_LAST_UPSTREAM_TX: envoyx_timing = 10;
pub const ENVOYX_TIMING_FIRST_UPSTREAM_RX: envoyx_timing = 11;
pub const ENVOYX_TIMING_FIRST_UPSTREAM_RX_BODY: envoyx_timing = 12;
pub const ENVOYX_TIMING_LAST_UPSTREAM_RX: envoyx_timing = 13;
pub const ENVOYX_TIMING_FIRST_DOWNSTREAM_TX: envoyx_timing = 14;
pub const ENVOYX_TIMING_LAST_DOWNSTREAM_TX: envoyx_timing = 15;
pub const ENVOYX_TIMING_LAST_DOWNSTREAM_ACK: envoyx_timing = 16;
pub const ENVOYX_TIMING_REQUEST_COMPLETE: envoyx_timing = 17;
pub const ENVOYX_TIMING_DOWNSTREAM_CONNECTION_END: envoyx_timing = 18;

/// `envoyx_shared_status` (ABI 1.2): what a call on the process-wide shared data says.
pub type envoyx_shared_status = u32;
pub const ENVOYX_SHARED_OK: envoyx_shared_status = 0;
pub const ENVOYX_SHARED_ABSENT: envoyx_shared_status = 1;
pub const ENVOYX_SHARED_TOO_SMALL: envoyx_shared_status = 2;
pub const ENVOYX_SHARED_CAS_MISMATCH: envoyx_shared_status = 3;
pub const ENVOYX_SHARED_REFUSED: envoyx_shared_status = 4;
/// A `cas` for `shared_data_set`: set whatever the key holds now.
pub const ENVOYX_SHARED_CAS_ANY: u64 = 0;
/// A `cas` for `shared_data_set`: set only where the key holds nothing; what `shared_data_get`
/// gives for an absent key.
pub const ENVOYX_SHARED_CAS_ABSENT: u64 = u64::MAX;
/// The longest shared value, in bytes.
pub const ENVOYX_SHARED_MAX_VALUE: usize = 1024 * 1024;
/// The bound on the shared store's keys and values together, in bytes.
pub const ENVOYX_SHARED_MAX_TOTAL: usize = 64 * 1024 * 1024;
/// The bound on the shared store's keys.
pub const ENVOYX_SHARED_MAX_KEYS: usize = 65536;

/// `envoyx_function` (ABI 1.2): a function shared across modules by name; None is C's NULL. Its
/// real signature is agreed between the modules: transmute it to that type to call it.
pub type envoyx_function = Option<unsafe extern "C" fn()>;

/// `envoyx_log_level`.
pub type envoyx_log_level = u32;
pub const ENVOYX_LOG_TRACE: envoyx_log_level = 0;
pub const ENVOYX_LOG_DEBUG: envoyx_log_level = 1;
pub const ENVOYX_LOG_INFO: envoyx_log_level = 2;
pub const ENVOYX_LOG_WARN: envoyx_log_level = 3;
pub const ENVOYX_LOG_ERROR: envoyx_log_level = 4;
pub const ENVOYX_LOG_CRITICAL: envoyx_log_level = 5;

/// One function of [`envoyx_host_api`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HostFunction {
    /// Its field name (the same in x/abi.h).
    pub name: &'static str,
    /// Its offset in the table: a table of `size` bytes has it when `offset + size_of::<fn>()`
    /// is at most `size`.
    pub offset: usize,
    /// The minor ABI version that appended it (1.`minor`).
    pub minor: u32,
}

impl HostFunction {
    /// Whether a table of `size` bytes (its `size` field) has this function.
    pub const fn in_table_of(&self, size: usize) -> bool {
        self.offset + std::mem::size_of::<unsafe extern "C" fn()>() <= size
    }
}

macro_rules! host_function_list {
    ($($name:ident $minor:literal),* $(,)?) => {
        /// Every function of [`envoyx_host_api`], in table order ([`for_each_host_function`]).
        pub const HOST_FUNCTIONS: &[HostFunction] = &[
            $(HostFunction { name: stringify!($name), offset: std::mem::offset_of!(envoyx_host_api, $name), minor: $minor }),*
        ];
    };
}
for_each_host_function!(host_function_list);

/// The size of the host table of ABI 1.`minor`: up to its last function.
pub const fn host_api_size_of_minor(minor: u32) -> usize {
    let mut size = std::mem::offset_of!(envoyx_host_api, log_enabled);
    let mut i = 0;
    while i < HOST_FUNCTIONS.len() {
        if HOST_FUNCTIONS[i].minor <= minor {
            size = HOST_FUNCTIONS[i].offset + std::mem::size_of::<unsafe extern "C" fn()>();
        }
        i += 1;
    }
    size
}

// The module's exports, as function-pointer types. The host resolves each symbol by the name in
// `MODULE_SYMBOLS` and calls it through the matching type; the SDK checks its exports against
// these types at compile time.

/// `envoyx_module_abi_version`.
pub type envoyx_module_abi_version_fn = unsafe extern "C" fn() -> envoyx_abi_version;
/// `envoyx_on_program_init`.
pub type envoyx_on_program_init_fn =
    unsafe extern "C" fn(host: *const envoyx_host_api, error: *mut envoyx_error) -> bool;
/// `envoyx_on_filter_config_new`.
pub type envoyx_on_filter_config_new_fn = unsafe extern "C" fn(
    name: envoyx_bytes,
    config: envoyx_bytes,
    error: *mut envoyx_error,
) -> *mut envoyx_module_config;
/// `envoyx_on_filter_config_destroy`.
pub type envoyx_on_filter_config_destroy_fn = unsafe extern "C" fn(config: *mut envoyx_module_config);
/// `envoyx_on_stream_new`.
pub type envoyx_on_stream_new_fn = unsafe extern "C" fn(
    config: *mut envoyx_module_config,
    stream: *mut envoyx_stream,
) -> *mut envoyx_module_stream;
/// `envoyx_on_request_headers` and `envoyx_on_response_headers`.
pub type envoyx_on_headers_fn = unsafe extern "C" fn(
    stream: *mut envoyx_stream,
    module_stream: *mut envoyx_module_stream,
    end_of_stream: bool,
) -> envoyx_headers_status;
/// `envoyx_on_request_body` and `envoyx_on_response_body`.
pub type envoyx_on_body_fn = unsafe extern "C" fn(
    stream: *mut envoyx_stream,
    module_stream: *mut envoyx_module_stream,
    end_of_stream: bool,
) -> envoyx_body_status;
/// `envoyx_on_request_trailers` and `envoyx_on_response_trailers`.
pub type envoyx_on_trailers_fn = unsafe extern "C" fn(
    stream: *mut envoyx_stream,
    module_stream: *mut envoyx_module_stream,
) -> envoyx_trailers_status;
/// `envoyx_on_stream_complete`.
pub type envoyx_on_stream_complete_fn =
    unsafe extern "C" fn(stream: *mut envoyx_stream, module_stream: *mut envoyx_module_stream);
/// `envoyx_on_stream_destroy`.
pub type envoyx_on_stream_destroy_fn = unsafe extern "C" fn(module_stream: *mut envoyx_module_stream);

/// `envoyx_on_stream_scheduled` (optional, ABI 1.1).
pub type envoyx_on_stream_scheduled_fn =
    unsafe extern "C" fn(stream: *mut envoyx_stream, module_stream: *mut envoyx_module_stream, event_id: u64);

/// `envoyx_on_filter_config_scheduled` (optional, ABI 1.1).
pub type envoyx_on_filter_config_scheduled_fn =
    unsafe extern "C" fn(config: *mut envoyx_module_config, event_id: u64);

/// `envoyx_on_stream_callout_done` (optional, ABI 1.1).
pub type envoyx_on_stream_callout_done_fn = unsafe extern "C" fn(
    stream: *mut envoyx_stream,
    module_stream: *mut envoyx_module_stream,
    callout_id: u64,
    status: envoyx_callout_status,
    headers: *const envoyx_header,
    headers_len: usize,
    body: *const envoyx_bytes,
    body_len: usize,
);

/// `envoyx_on_stream_callout_event` (optional, ABI 1.1).
pub type envoyx_on_stream_callout_event_fn = unsafe extern "C" fn(
    stream: *mut envoyx_stream,
    module_stream: *mut envoyx_module_stream,
    callout_id: u64,
    event: envoyx_callout_event,
    status: envoyx_callout_status,
    headers: *const envoyx_header,
    headers_len: usize,
    data: *const envoyx_bytes,
    data_len: usize,
    end_of_stream: bool,
);

/// `envoyx_on_filter_config_callout_done` (optional, ABI 1.1).
pub type envoyx_on_filter_config_callout_done_fn = unsafe extern "C" fn(
    config: *mut envoyx_module_config,
    callout_id: u64,
    status: envoyx_callout_status,
    headers: *const envoyx_header,
    headers_len: usize,
    body: *const envoyx_bytes,
    body_len: usize,
);

/// `envoyx_on_filter_config_callout_event` (optional, ABI 1.1).
pub type envoyx_on_filter_config_callout_event_fn = unsafe extern "C" fn(
    config: *mut envoyx_module_config,
    callout_id: u64,
    event: envoyx_callout_event,
    status: envoyx_callout_status,
    headers: *const envoyx_header,
    headers_len: usize,
    data: *const envoyx_bytes,
    data_len: usize,
    end_of_stream: bool,
);

/// `envoyx_on_program_unload` (optional, ABI 1.1).
pub type envoyx_on_program_unload_fn = unsafe extern "C" fn() -> bool;
/// `envoyx_module_host_api_size` (optional, ABI 1.1).
pub type envoyx_module_host_api_size_fn = unsafe extern "C" fn() -> usize;

/// `envoyx_on_stream_watermark` (optional, ABI 1.2).
pub type envoyx_on_stream_watermark_fn = unsafe extern "C" fn(
    stream: *mut envoyx_stream,
    module_stream: *mut envoyx_module_stream,
    direction: envoyx_direction,
    above: bool,
);

/// `envoyx_on_stream_local_reply` (optional, ABI 1.2).
pub type envoyx_on_stream_local_reply_fn = unsafe extern "C" fn(
    stream: *mut envoyx_stream,
    module_stream: *mut envoyx_module_stream,
    status: u32,
    details: envoyx_bytes,
    reset_imminent: bool,
) -> envoyx_local_reply_status;

/// `envoyx_on_route_config_new` (optional, ABI 1.1).
pub type envoyx_on_route_config_new_fn = unsafe extern "C" fn(
    name: envoyx_bytes,
    config: envoyx_bytes,
    error: *mut envoyx_error,
) -> *mut envoyx_module_route_config;
/// `envoyx_on_route_config_destroy` (optional, ABI 1.1).
pub type envoyx_on_route_config_destroy_fn = unsafe extern "C" fn(config: *mut envoyx_module_route_config);

/// Every export of one module as function pointers, in the header's order. Rust-only (x/abi.h
/// has no such struct): a host resolves these by name from a shared object, and a module linked
/// into the same program (the SDK's in-process test mode, `envoyx_sdk::module_exports`) hands
/// them over directly, so both go through the same loading path in the core.
#[derive(Clone, Copy, Debug)]
pub struct ModuleExports {
    pub module_abi_version: envoyx_module_abi_version_fn,
    pub on_program_init: envoyx_on_program_init_fn,
    pub on_filter_config_new: envoyx_on_filter_config_new_fn,
    pub on_filter_config_destroy: envoyx_on_filter_config_destroy_fn,
    pub on_stream_new: envoyx_on_stream_new_fn,
    pub on_request_headers: envoyx_on_headers_fn,
    pub on_request_body: envoyx_on_body_fn,
    pub on_request_trailers: envoyx_on_trailers_fn,
    pub on_response_headers: envoyx_on_headers_fn,
    pub on_response_body: envoyx_on_body_fn,
    pub on_response_trailers: envoyx_on_trailers_fn,
    pub on_stream_complete: envoyx_on_stream_complete_fn,
    pub on_stream_destroy: envoyx_on_stream_destroy_fn,
    /// Optional exports (added in a later minor): None when the module does not export it.
    pub on_stream_scheduled: Option<envoyx_on_stream_scheduled_fn>,
    pub on_filter_config_scheduled: Option<envoyx_on_filter_config_scheduled_fn>,
    pub on_route_config_new: Option<envoyx_on_route_config_new_fn>,
    pub on_route_config_destroy: Option<envoyx_on_route_config_destroy_fn>,
    pub on_stream_callout_done: Option<envoyx_on_stream_callout_done_fn>,
    pub on_stream_callout_event: Option<envoyx_on_stream_callout_event_fn>,
    pub on_filter_config_callout_done: Option<envoyx_on_filter_config_callout_done_fn>,
    pub on_filter_config_callout_event: Option<envoyx_on_filter_config_callout_event_fn>,
    pub on_program_unload: Option<envoyx_on_program_unload_fn>,
    pub module_host_api_size: Option<envoyx_module_host_api_size_fn>,
    pub on_stream_watermark: Option<envoyx_on_stream_watermark_fn>,
    pub on_stream_local_reply: Option<envoyx_on_stream_local_reply_fn>,
}

impl ModuleExports {
    /// Each optional export ([`OPTIONAL_MODULE_SYMBOLS`], in that order) and whether this module
    /// has it (a test checks the names against that list).
    pub fn optional_present(&self) -> [(&'static str, bool); OPTIONAL_MODULE_SYMBOLS.len()] {
        [
            ("envoyx_on_stream_scheduled", self.on_stream_scheduled.is_some()),
            ("envoyx_on_filter_config_scheduled", self.on_filter_config_scheduled.is_some()),
            ("envoyx_on_route_config_new", self.on_route_config_new.is_some()),
            ("envoyx_on_route_config_destroy", self.on_route_config_destroy.is_some()),
            ("envoyx_on_stream_callout_done", self.on_stream_callout_done.is_some()),
            ("envoyx_on_stream_callout_event", self.on_stream_callout_event.is_some()),
            ("envoyx_on_filter_config_callout_done", self.on_filter_config_callout_done.is_some()),
            ("envoyx_on_filter_config_callout_event", self.on_filter_config_callout_event.is_some()),
            ("envoyx_on_program_unload", self.on_program_unload.is_some()),
            ("envoyx_module_host_api_size", self.module_host_api_size.is_some()),
            ("envoyx_on_stream_watermark", self.on_stream_watermark.is_some()),
            ("envoyx_on_stream_local_reply", self.on_stream_local_reply.is_some()),
        ]
    }
}

/// The names of every function a module must export, in the header's order.
pub const MODULE_SYMBOLS: [&str; 13] = [
    "envoyx_module_abi_version",
    "envoyx_on_program_init",
    "envoyx_on_filter_config_new",
    "envoyx_on_filter_config_destroy",
    "envoyx_on_stream_new",
    "envoyx_on_request_headers",
    "envoyx_on_request_body",
    "envoyx_on_request_trailers",
    "envoyx_on_response_headers",
    "envoyx_on_response_body",
    "envoyx_on_response_trailers",
    "envoyx_on_stream_complete",
    "envoyx_on_stream_destroy",
];

/// The optional exports, in the header's order (after [`MODULE_SYMBOLS`]), each with the minor
/// version that added it. A host calls one only if the module exports it.
pub const OPTIONAL_MODULE_SYMBOLS: [(&str, u32); 12] = [
    ("envoyx_on_stream_scheduled", 1),
    ("envoyx_on_filter_config_scheduled", 1),
    ("envoyx_on_route_config_new", 1),
    ("envoyx_on_route_config_destroy", 1),
    ("envoyx_on_stream_callout_done", 1),
    ("envoyx_on_stream_callout_event", 1),
    ("envoyx_on_filter_config_callout_done", 1),
    ("envoyx_on_filter_config_callout_event", 1),
    ("envoyx_on_program_unload", 1),
    ("envoyx_module_host_api_size", 1),
    ("envoyx_on_stream_watermark", 2),
    ("envoyx_on_stream_local_reply", 2),
];

impl envoyx_abi_version {
    /// The version this crate (and so the header it mirrors) describes.
    pub const CURRENT: Self = Self { major: ENVOYX_ABI_VERSION_MAJOR, minor: ENVOYX_ABI_VERSION_MINOR };
}

impl envoyx_bytes {
    /// A view of `bytes`; valid as long as `bytes` is.
    pub const fn from_slice(bytes: &[u8]) -> Self {
        Self { ptr: bytes.as_ptr(), len: bytes.len() }
    }

    /// The empty view.
    pub const EMPTY: Self = Self { ptr: std::ptr::null(), len: 0 };

    /// The bytes this view points at.
    ///
    /// # Safety
    /// `ptr` must point at `len` readable bytes that stay valid and unchanged for `'a`
    /// (or `len` must be 0).
    pub unsafe fn as_slice<'a>(self) -> &'a [u8] {
        if self.len == 0 {
            &[]
        } else {
            // Safety: the caller guarantees `ptr..ptr+len` is readable for 'a.
            unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
        }
    }
}
