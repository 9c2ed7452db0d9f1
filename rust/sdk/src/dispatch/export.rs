//! [`export_module!`](crate::export_module): the module's `extern "C"` entry points of `x/abi.h`,
//! each a thin typed shim over the generic functions of `config.rs` and `stream.rs`.

/// Exports the `envoyx_*` functions of `x/abi.h` for the [`FilterConfig`] type `$config`: the 13
/// required ones and the optional scheduled hooks (ABI 1.1). `export_module!(MyConfig, route =
/// MyRouteConfig)` also exports the per-route hooks for the [`RouteConfig`] type given
/// (read in hooks with [`Stream::route_config`]).
///
/// Invoke it once, at the top level of the module's crate (a `cdylib`). The exports live in an
/// anonymous block, so they add no names to the crate; each one is checked at compile time
/// against the ABI's function-pointer type.
///
/// ```rust,standalone_crate
/// use envoyx_sdk::{Filter, FilterConfig};
///
/// struct PassConfig;
/// struct PassFilter;
///
/// impl Filter for PassFilter {}
///
/// impl FilterConfig for PassConfig {
///     type Filter = PassFilter;
///     fn new(_name: &str, _config: &[u8]) -> Result<Self, String> {
///         Ok(PassConfig)
///     }
///     fn new_filter(&self) -> PassFilter {
///         PassFilter
///     }
/// }
///
/// envoyx_sdk::export_module!(PassConfig);
/// ```
#[macro_export]
macro_rules! export_module {
    ($config:ty, route = $route:ty) => {
        $crate::export_module!($config);
        const _: () = {
            use $crate::abi as __abi;
            use $crate::dispatch as __dispatch;

            #[unsafe(no_mangle)]
            unsafe extern "C" fn envoyx_on_route_config_new(
                name: __abi::envoyx_bytes,
                config: __abi::envoyx_bytes,
                error: *mut __abi::envoyx_error,
            ) -> *mut __abi::envoyx_module_route_config {
                // Safety: called by the host as x/abi.h describes.
                unsafe { __dispatch::on_route_config_new::<$route>(name, config, error) }
            }
            const _: __abi::envoyx_on_route_config_new_fn = envoyx_on_route_config_new;

            #[unsafe(no_mangle)]
            unsafe extern "C" fn envoyx_on_route_config_destroy(
                config: *mut __abi::envoyx_module_route_config,
            ) {
                // Safety: called by the host as x/abi.h describes.
                unsafe { __dispatch::on_route_config_destroy(config) }
            }
            const _: __abi::envoyx_on_route_config_destroy_fn = envoyx_on_route_config_destroy;
        };
    };
    ($config:ty) => {
        const _: () = {
            use $crate::abi as __abi;
            use $crate::dispatch as __dispatch;

            #[unsafe(no_mangle)]
            unsafe extern "C" fn envoyx_module_abi_version() -> __abi::envoyx_abi_version {
                __dispatch::module_abi_version()
            }
            const _: __abi::envoyx_module_abi_version_fn = envoyx_module_abi_version;

            #[unsafe(no_mangle)]
            unsafe extern "C" fn envoyx_on_program_init(
                host: *const __abi::envoyx_host_api,
                error: *mut __abi::envoyx_error,
            ) -> bool {
                // A loaded module only: in process (tests) the program's own hook stays.
                __dispatch::install_panic_hook();
                // Safety: the host calls this export as x/abi.h describes, which is what the
                // dispatcher function requires (the same holds for every export below).
                unsafe { __dispatch::on_program_init(host, error) }
            }
            const _: __abi::envoyx_on_program_init_fn = envoyx_on_program_init;

            #[unsafe(no_mangle)]
            unsafe extern "C" fn envoyx_on_program_unload() -> bool {
                __dispatch::on_program_unload()
            }
            const _: __abi::envoyx_on_program_unload_fn = envoyx_on_program_unload;

            #[unsafe(no_mangle)]
            unsafe extern "C" fn envoyx_module_host_api_size() -> usize {
                __dispatch::module_host_api_size()
            }
            const _: __abi::envoyx_module_host_api_size_fn = envoyx_module_host_api_size;

            #[unsafe(no_mangle)]
            unsafe extern "C" fn envoyx_on_filter_config_new(
                name: __abi::envoyx_bytes,
                config: __abi::envoyx_bytes,
                error: *mut __abi::envoyx_error,
            ) -> *mut __abi::envoyx_module_config {
                // Safety: called by the host as x/abi.h describes.
                unsafe { __dispatch::on_filter_config_new::<$config>(name, config, error) }
            }
            const _: __abi::envoyx_on_filter_config_new_fn = envoyx_on_filter_config_new;

            #[unsafe(no_mangle)]
            unsafe extern "C" fn envoyx_on_filter_config_destroy(config: *mut __abi::envoyx_module_config) {
                // Safety: called by the host as x/abi.h describes.
                unsafe { __dispatch::on_filter_config_destroy::<$config>(config) }
            }
            const _: __abi::envoyx_on_filter_config_destroy_fn = envoyx_on_filter_config_destroy;

            #[unsafe(no_mangle)]
            unsafe extern "C" fn envoyx_on_stream_new(
                config: *mut __abi::envoyx_module_config,
                stream: *mut __abi::envoyx_stream,
            ) -> *mut __abi::envoyx_module_stream {
                // Safety: called by the host as x/abi.h describes.
                unsafe { __dispatch::on_stream_new::<$config>(config, stream) }
            }
            const _: __abi::envoyx_on_stream_new_fn = envoyx_on_stream_new;

            #[unsafe(no_mangle)]
            unsafe extern "C" fn envoyx_on_request_headers(
                stream: *mut __abi::envoyx_stream,
                module_stream: *mut __abi::envoyx_module_stream,
                end_of_stream: bool,
            ) -> __abi::envoyx_headers_status {
                // Safety: called by the host as x/abi.h describes.
                unsafe { __dispatch::on_request_headers::<$config>(stream, module_stream, end_of_stream) }
            }
            const _: __abi::envoyx_on_headers_fn = envoyx_on_request_headers;

            #[unsafe(no_mangle)]
            unsafe extern "C" fn envoyx_on_request_body(
                stream: *mut __abi::envoyx_stream,
                module_stream: *mut __abi::envoyx_module_stream,
                end_of_stream: bool,
            ) -> __abi::envoyx_body_status {
                // Safety: called by the host as x/abi.h describes.
                unsafe { __dispatch::on_request_body::<$config>(stream, module_stream, end_of_stream) }
            }
            const _: __abi::envoyx_on_body_fn = envoyx_on_request_body;

            #[unsafe(no_mangle)]
            unsafe extern "C" fn envoyx_on_request_trailers(
                stream: *mut __abi::envoyx_stream,
                module_stream: *mut __abi::envoyx_module_stream,
            ) -> __abi::envoyx_trailers_status {
                // Safety: called by the host as x/abi.h describes.
                unsafe { __dispatch::on_request_trailers::<$config>(stream, module_stream) }
            }
            const _: __abi::envoyx_on_trailers_fn = envoyx_on_request_trailers;

            #[unsafe(no_mangle)]
            unsafe extern "C" fn envoyx_on_response_headers(
                stream: *mut __abi::envoyx_stream,
                module_stream: *mut __abi::envoyx_module_stream,
                end_of_stream: bool,
            ) -> __abi::envoyx_headers_status {
                // Safety: called by the host as x/abi.h describes.
                unsafe { __dispatch::on_response_headers::<$config>(stream, module_stream, end_of_stream) }
            }
            const _: __abi::envoyx_on_headers_fn = envoyx_on_response_headers;

            #[unsafe(no_mangle)]
            unsafe extern "C" fn envoyx_on_response_body(
                stream: *mut __abi::envoyx_stream,
                module_stream: *mut __abi::envoyx_module_stream,
                end_of_stream: bool,
            ) -> __abi::envoyx_body_status {
                // Safety: called by the host as x/abi.h describes.
                unsafe { __dispatch::on_response_body::<$config>(stream, module_stream, end_of_stream) }
            }
            const _: __abi::envoyx_on_body_fn = envoyx_on_response_body;

            #[unsafe(no_mangle)]
            unsafe extern "C" fn envoyx_on_response_trailers(
                stream: *mut __abi::envoyx_stream,
                module_stream: *mut __abi::envoyx_module_stream,
            ) -> __abi::envoyx_trailers_status {
                // Safety: called by the host as x/abi.h describes.
                unsafe { __dispatch::on_response_trailers::<$config>(stream, module_stream) }
            }
            const _: __abi::envoyx_on_trailers_fn = envoyx_on_response_trailers;

            #[unsafe(no_mangle)]
            unsafe extern "C" fn envoyx_on_stream_complete(
                stream: *mut __abi::envoyx_stream,
                module_stream: *mut __abi::envoyx_module_stream,
            ) {
                // Safety: called by the host as x/abi.h describes.
                unsafe { __dispatch::on_stream_complete::<$config>(stream, module_stream) }
            }
            const _: __abi::envoyx_on_stream_complete_fn = envoyx_on_stream_complete;

            #[unsafe(no_mangle)]
            unsafe extern "C" fn envoyx_on_stream_destroy(module_stream: *mut __abi::envoyx_module_stream) {
                // Safety: called by the host as x/abi.h describes.
                unsafe { __dispatch::on_stream_destroy::<$config>(module_stream) }
            }
            const _: __abi::envoyx_on_stream_destroy_fn = envoyx_on_stream_destroy;

            #[unsafe(no_mangle)]
            unsafe extern "C" fn envoyx_on_stream_scheduled(
                stream: *mut __abi::envoyx_stream,
                module_stream: *mut __abi::envoyx_module_stream,
                event_id: u64,
            ) {
                // Safety: called by the host as x/abi.h describes.
                unsafe { __dispatch::on_stream_scheduled::<$config>(stream, module_stream, event_id) }
            }
            const _: __abi::envoyx_on_stream_scheduled_fn = envoyx_on_stream_scheduled;

            #[unsafe(no_mangle)]
            unsafe extern "C" fn envoyx_on_filter_config_scheduled(
                config: *mut __abi::envoyx_module_config,
                event_id: u64,
            ) {
                // Safety: called by the host as x/abi.h describes.
                unsafe { __dispatch::on_filter_config_scheduled::<$config>(config, event_id) }
            }
            const _: __abi::envoyx_on_filter_config_scheduled_fn = envoyx_on_filter_config_scheduled;

            #[unsafe(no_mangle)]
            #[allow(clippy::too_many_arguments)]
            unsafe extern "C" fn envoyx_on_stream_callout_done(
                stream: *mut __abi::envoyx_stream,
                module_stream: *mut __abi::envoyx_module_stream,
                callout_id: u64,
                status: __abi::envoyx_callout_status,
                headers: *const __abi::envoyx_header,
                headers_len: usize,
                body: *const __abi::envoyx_bytes,
                body_len: usize,
            ) {
                // Safety: called by the host as x/abi.h describes.
                unsafe {
                    __dispatch::on_stream_callout_done::<$config>(
                        stream,
                        module_stream,
                        callout_id,
                        status,
                        headers,
                        headers_len,
                        body,
                        body_len,
                    )
                }
            }
            const _: __abi::envoyx_on_stream_callout_done_fn = envoyx_on_stream_callout_done;

            #[unsafe(no_mangle)]
            #[allow(clippy::too_many_arguments)]
            unsafe extern "C" fn envoyx_on_stream_callout_event(
                stream: *mut __abi::envoyx_stream,
                module_stream: *mut __abi::envoyx_module_stream,
                callout_id: u64,
                event: __abi::envoyx_callout_event,
                status: __abi::envoyx_callout_status,
                headers: *const __abi::envoyx_header,
                headers_len: usize,
                data: *const __abi::envoyx_bytes,
                data_len: usize,
                end_of_stream: bool,
            ) {
                // Safety: called by the host as x/abi.h describes.
                unsafe {
                    __dispatch::on_stream_callout_event::<$config>(
                        stream,
                        module_stream,
                        callout_id,
                        event,
                        status,
                        headers,
                        headers_len,
                        data,
                        data_len,
                        end_of_stream,
                    )
                }
            }
            const _: __abi::envoyx_on_stream_callout_event_fn = envoyx_on_stream_callout_event;

            #[unsafe(no_mangle)]
            unsafe extern "C" fn envoyx_on_stream_watermark(
                stream: *mut __abi::envoyx_stream,
                module_stream: *mut __abi::envoyx_module_stream,
                direction: __abi::envoyx_direction,
                above: bool,
            ) {
                // Safety: called by the host as x/abi.h describes.
                unsafe { __dispatch::on_stream_watermark::<$config>(stream, module_stream, direction, above) }
            }
            const _: __abi::envoyx_on_stream_watermark_fn = envoyx_on_stream_watermark;

            #[unsafe(no_mangle)]
            unsafe extern "C" fn envoyx_on_stream_local_reply(
                stream: *mut __abi::envoyx_stream,
                module_stream: *mut __abi::envoyx_module_stream,
                status: u32,
                details: __abi::envoyx_bytes,
                reset_imminent: bool,
            ) -> __abi::envoyx_local_reply_status {
                // Safety: called by the host as x/abi.h describes.
                unsafe {
                    __dispatch::on_stream_local_reply::<$config>(
                        stream,
                        module_stream,
                        status,
                        details,
                        reset_imminent,
                    )
                }
            }
            const _: __abi::envoyx_on_stream_local_reply_fn = envoyx_on_stream_local_reply;

            #[unsafe(no_mangle)]
            unsafe extern "C" fn envoyx_on_filter_config_callout_done(
                config: *mut __abi::envoyx_module_config,
                callout_id: u64,
                status: __abi::envoyx_callout_status,
                headers: *const __abi::envoyx_header,
                headers_len: usize,
                body: *const __abi::envoyx_bytes,
                body_len: usize,
            ) {
                // Safety: called by the host as x/abi.h describes.
                unsafe {
                    __dispatch::on_filter_config_callout_done::<$config>(
                        config,
                        callout_id,
                        status,
                        headers,
                        headers_len,
                        body,
                        body_len,
                    )
                }
            }
            const _: __abi::envoyx_on_filter_config_callout_done_fn = envoyx_on_filter_config_callout_done;

            #[unsafe(no_mangle)]
            #[allow(clippy::too_many_arguments)]
            unsafe extern "C" fn envoyx_on_filter_config_callout_event(
                config: *mut __abi::envoyx_module_config,
                callout_id: u64,
                event: __abi::envoyx_callout_event,
                status: __abi::envoyx_callout_status,
                headers: *const __abi::envoyx_header,
                headers_len: usize,
                data: *const __abi::envoyx_bytes,
                data_len: usize,
                end_of_stream: bool,
            ) {
                // Safety: called by the host as x/abi.h describes.
                unsafe {
                    __dispatch::on_filter_config_callout_event::<$config>(
                        config,
                        callout_id,
                        event,
                        status,
                        headers,
                        headers_len,
                        data,
                        data_len,
                        end_of_stream,
                    )
                }
            }
            const _: __abi::envoyx_on_filter_config_callout_event_fn = envoyx_on_filter_config_callout_event;
        };
    };
}
