//! The generated protobuf types of `x/config.proto` (prost, by `build.rs`).

include!(concat!(env!("OUT_DIR"), "/envoy.extensions.filters.http.dynamic_modules.v3.rs"));
