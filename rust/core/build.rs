// Compiles x/config.proto with a pure-Rust protobuf compiler (protox), so no system protoc.
fn main() {
    let proto_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../x");
    let proto = proto_dir.join("config.proto");
    // Relative to this package (cargo's rule): the same in every checkout sharing a target dir.
    println!("cargo:rerun-if-changed=../../x/config.proto");
    let descriptors = protox::compile([&proto], [&proto_dir]).expect("compile x/config.proto");
    prost_build::Config::new().compile_fds(descriptors).expect("generate Rust for x/config.proto");
}
