// Bazel's stand-in for rust/core/build.rs: compiles x/config.proto (path in ENVOYX_CONFIG_PROTO)
// with protox and generates the Rust with prost-build into OUT_DIR, under the same file name
// (envoy.extensions.filters.http.dynamic_modules.v3.rs) that rust/core/src/load/config.rs includes.
fn main() {
    let proto = std::path::PathBuf::from(
        std::env::var("ENVOYX_CONFIG_PROTO").expect("ENVOYX_CONFIG_PROTO names x/config.proto"),
    );
    let dir = proto.parent().expect("x/config.proto has a directory").to_path_buf();
    let descriptors = protox::compile([&proto], [&dir]).expect("compile x/config.proto");
    prost_build::Config::new().compile_fds(descriptors).expect("generate Rust for x/config.proto");
}
