// Generates the C++ side of the bridge in src/lib.rs and compiles it with the loader's own C++.
// Then the same for the C++ test host in tests/host: it is only linked into binaries that call
// it (the tests), since a static library contributes only the objects a binary uses.
fn main() {
    let warnings = ["-Wall", "-Wextra", "-Werror"];
    cxx_build::bridge("src/lib.rs")
        .file("src/loader.cc")
        .std("c++17")
        .flags(warnings)
        .compile("envoyx-loader");
    cxx_build::bridge("tests/host/mod.rs")
        .file("tests/host/test_host.cc")
        .include("../x")
        .std("c++17")
        .flags(warnings)
        .compile("envoyx-loader-testhost");
    for path in ["src", "include", "tests/host", "../x/abi.h"] {
        println!("cargo:rerun-if-changed={path}");
    }
}
