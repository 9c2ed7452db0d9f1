// Generates the C++ side of the bridge in src/lib.rs and compiles it with the loader's own C++.
fn main() {
    cxx_build::bridge("src/lib.rs")
        .file("src/loader.cc")
        .std("c++17")
        .flags(["-Wall", "-Wextra", "-Werror"])
        .compile("envoyx-loader");
    for path in ["src/lib.rs", "src/loader.cc", "include/envoyx/loader.h"] {
        println!("cargo:rerun-if-changed={path}");
    }
}
