// Compiles the configuration proto with a pure-Rust protobuf compiler (protox), so no system
// protoc. `proto/config.proto` is a symbolic link to the contract's `x/config.proto`: one file in
// the checkout, and `cargo package` copies its content into the published crate, whose build
// then reads nothing outside the package.
fn main() {
    let proto_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("proto");
    let proto = proto_dir.join("config.proto");
    // Relative to this package (cargo's rule): the same in every checkout sharing a target dir.
    println!("cargo:rerun-if-changed=proto/config.proto");
    // Cargo looks at the link's own time, not its target's: in the checkout, also watch the
    // contract itself (a published crate has a plain file and no `x/`, and a path that does not
    // exist would rerun this script on every build).
    if proto_dir.join("../../../x/config.proto").exists() {
        println!("cargo:rerun-if-changed=../../x/config.proto");
    }
    let descriptors =
        protox::compile([&proto], [&proto_dir]).expect("compile proto/config.proto (x/config.proto)");
    prost_build::Config::new().compile_fds(descriptors).expect("generate Rust for proto/config.proto");
}
