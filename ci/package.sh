#!/usr/bin/env bash
# Packages what EnvoyX publishes, as a registry would serve it, into OUT:
#   OUT/crates/       the .crate file of every published crate (`cargo package`, unverified here:
#                     `cargo publish --dry-run --workspace` in .ci/run verifies them)
#   OUT/registry/     a cargo directory source: those crates unpacked, next to every third-party
#                     crate they (and the workspace) use (`cargo vendor`), for
#                     `[source.crates-io] replace-with` — crates.io as it will be after a release
#   OUT/goproxy/      a Go module proxy (GOPROXY=file://OUT/goproxy) serving the Go SDK,
#                     github.com/envoyx/envoyx/go, at the crates' version: list, .info, .mod, .zip
#   OUT/VERSION       that version
# Usage: ci/package.sh OUT   (from anywhere; OUT is replaced)
set -euo pipefail
out=${1:?usage: ci/package.sh OUT}
cd "$(dirname "$0")/.."
root=$PWD
rm -rf "$out"
mkdir -p "$out/crates" "$out/registry" "$out/goproxy"
out=$(cd "$out" && pwd)

# The published crates: the workspace members not marked `publish = false`.
mapfile -t crates < <(cargo metadata --no-deps --format-version 1 |
  python3 -c 'import json,sys; [print(p["name"]) for p in json.load(sys.stdin)["packages"] if p["publish"] != []]')
version=$(cargo metadata --no-deps --format-version 1 |
  python3 -c 'import json,sys; print({p["version"] for p in json.load(sys.stdin)["packages"] if p["publish"] != []}.pop())')
echo "$version" > "$out/VERSION"

echo "packaging ${#crates[@]} crates at $version: ${crates[*]}"
package_args=()
for crate in "${crates[@]}"; do package_args+=(-p "$crate"); done
cargo package --quiet --no-verify --allow-dirty "${package_args[@]}" 2>&1 | grep -v "^warning: ignoring test" || true
target=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
for crate in "${crates[@]}"; do
  file="$target/package/$crate-$version.crate"
  [[ -f $file ]] || { echo "ci/package.sh: cargo package made no $file" >&2; exit 1; }
  cp "$file" "$out/crates/"
done

echo "vendoring the third-party crates (cargo vendor)"
cargo vendor --quiet --versioned-dirs --locked "$out/registry" > /dev/null
for file in "$out"/crates/*.crate; do
  name=$(basename "$file" .crate)
  tar -xzf "$file" -C "$out/registry"
  # A directory source checks the files listed (none: the .crate's own checksum stands for them)
  # and records `package` in the user's Cargo.lock, as crates.io's checksum would be.
  printf '{"files":{},"package":"%s"}' "$(sha256sum "$file" | cut -d' ' -f1)" > "$out/registry/$name/.cargo-checksum.json"
done

echo "the Go SDK as a module proxy serves it"
python3 "$root/ci/go-module-zip.py" "$root/go" "github.com/envoyx/envoyx/go" "v$version" "$out/goproxy"

echo "packaged into $out: $(find "$out/crates" -name '*.crate' | wc -l) crates, $(find "$out/registry" -mindepth 1 -maxdepth 1 | wc -l) registry entries, Go module v$version"
