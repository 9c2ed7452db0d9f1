//! Upstream's plain types, enumerations and constants as this host uses them, and their views
//! as EnvoyX's.

use std::ffi::{c_char, c_void};

/// `envoy_dynamic_module_type_http_filter_envoy_ptr`: Envoy's per-stream filter object.
pub type FilterEnvoyPtr = *mut c_void;
/// `envoy_dynamic_module_type_http_filter_module_ptr`: this host's per-stream object.
pub type FilterModulePtr = *const c_void;
/// `envoy_dynamic_module_type_http_filter_config_envoy_ptr`.
pub type ConfigEnvoyPtr = *mut c_void;
/// `envoy_dynamic_module_type_http_filter_config_module_ptr`: this host's filter config.
pub type ConfigModulePtr = *const c_void;
/// `envoy_dynamic_module_type_http_filter_scheduler_module_ptr`.
pub type SchedulerPtr = *mut c_void;

/// `envoy_dynamic_module_type_envoy_buffer`: bytes owned by Envoy.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct EnvoyBuffer {
    pub ptr: *const c_char,
    pub length: usize,
}

impl EnvoyBuffer {
    pub const EMPTY: Self = Self { ptr: std::ptr::null(), length: 0 };
}

/// `envoy_dynamic_module_type_module_buffer`: bytes owned by this host, read during the call.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct ModuleBuffer {
    pub ptr: *const c_char,
    pub length: usize,
}

impl ModuleBuffer {
    pub fn new(bytes: &[u8]) -> Self {
        Self { ptr: bytes.as_ptr().cast(), length: bytes.len() }
    }
    pub const NULL: Self = Self { ptr: std::ptr::null(), length: 0 };
}

/// `envoy_dynamic_module_type_envoy_http_header` and `..._module_http_header` (same layout).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct HttpHeader {
    pub key_ptr: *const c_char,
    pub key_length: usize,
    pub value_ptr: *const c_char,
    pub value_length: usize,
}

impl HttpHeader {
    pub const EMPTY: Self =
        Self { key_ptr: std::ptr::null(), key_length: 0, value_ptr: std::ptr::null(), value_length: 0 };
}

// The enumerations are C `enum`s: 4 bytes, numbered from 0.

/// `envoy_dynamic_module_type_http_header_type`. The values equal `envoyx_header_map`'s.
pub type HeaderType = u32;
/// `envoy_dynamic_module_type_http_body_type`: received/buffered × request/response. The values
/// equal `envoyx_body_kind`'s.
pub type BodyType = u32;
/// `envoy_dynamic_module_type_log_level`. The values equal `envoyx_log_level`'s.
pub type LogLevel = u32;
/// `envoy_dynamic_module_type_http_filter_stream_reset_reason`.
pub type StreamResetReason = u32;
pub const RESET_LOCAL_RESET: StreamResetReason = 0;
pub const RESET_LOCAL_REFUSED_STREAM_RESET: StreamResetReason = 1;
/// `envoy_dynamic_module_type_http_callout_result` (only in stub signatures).
pub type HttpCalloutResult = u32;
pub const CALLOUT_SUCCESS: HttpCalloutResult = 0;
pub const CALLOUT_RESET: HttpCalloutResult = 1;
pub const CALLOUT_EXCEED_RESPONSE_BUFFER_LIMIT: HttpCalloutResult = 2;
/// `envoy_dynamic_module_type_metrics_result`: 0 Success, 1 MetricNotFound, 2 InvalidLabels,
/// 3 Frozen.
pub type MetricsResult = u32;
pub const METRICS_SUCCESS: MetricsResult = 0;
pub const METRICS_INVALID_LABELS: MetricsResult = 2;

/// `envoy_dynamic_module_type_http_callout_init_result`.
pub type CalloutInitResult = u32;
pub const CALLOUT_INIT_SUCCESS: CalloutInitResult = 0;
pub const CALLOUT_INIT_CLUSTER_NOT_FOUND: CalloutInitResult = 2;
/// `envoy_dynamic_module_type_http_stream_reset_reason` (EnvoyX reports every reason as a reset).
pub type HttpStreamResetReason = u32;

/// The statuses the event hooks return. Header, body and trailer statuses equal Envoy's
/// `FilterHeadersStatus`, `FilterDataStatus` and `FilterTrailersStatus` ordinals, as EnvoyX's do.
pub type HookStatus = u32;
pub const STATUS_CONTINUE: HookStatus = 0;

/// The ABI version strings `envoy_dynamic_module_on_program_init` may return.
pub const ABI_V0_1_0: &std::ffi::CStr = c"v0.1.0";
pub const ABI_V0_2_0: &std::ffi::CStr = c"v0.2.0";

impl HttpHeader {
    /// Envoy's views of `headers` (which must outlive their use).
    pub fn list<'a>(headers: impl Iterator<Item = (&'a [u8], &'a [u8])>) -> Vec<HttpHeader> {
        headers
            .map(|(k, v)| HttpHeader {
                key_ptr: k.as_ptr().cast(),
                key_length: k.len(),
                value_ptr: v.as_ptr().cast(),
                value_length: v.len(),
            })
            .collect()
    }

    /// The same header as EnvoyX's view (Envoy's memory, no copy).
    pub fn view(&self) -> envoyx_abi::envoyx_header {
        envoyx_abi::envoyx_header {
            key: envoyx_abi::envoyx_bytes { ptr: self.key_ptr.cast(), len: self.key_length },
            value: envoyx_abi::envoyx_bytes { ptr: self.value_ptr.cast(), len: self.value_length },
        }
    }
}

impl EnvoyBuffer {
    /// The same bytes as EnvoyX's view (Envoy's memory, no copy).
    pub fn view(&self) -> envoyx_abi::envoyx_bytes {
        envoyx_abi::envoyx_bytes { ptr: self.ptr.cast(), len: self.length }
    }
}

/// `len` entries at `ptr` (empty for NULL).
///
/// # Safety
/// `ptr` is NULL or points at `len` readable entries for `'a`.
pub unsafe fn raw_list<'a, T>(ptr: *const T, len: usize) -> &'a [T] {
    if ptr.is_null() || len == 0 {
        &[]
    } else {
        // Safety: per the caller.
        unsafe { std::slice::from_raw_parts(ptr, len) }
    }
}
