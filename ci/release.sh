#!/usr/bin/env bash
# Makes an EnvoyX release into one folder, and publishes it unless --dry-run:
#   ci/release.sh [--dry-run] VERSION OUT
# OUT holds:
#   crates/*.crate                      every published crate (ci/package.sh)
#   go/github.com/envoyx/envoyx/go/@v/  the Go SDK as a module proxy serves it (list, .info, .mod, .zip)
#   stock-host/<target>/libenvoyx_stock_host.so   the stock host, per platform built here
#   images/*.oci.tar                    the stock Envoy image per supported Envoy version
#                                       (envoy-v1.40-latest-stock-envoyx-vVERSION), the stock host's
#                                       image (stock-host-vVERSION) and every example module's
#                                       (module-<name>-vVERSION), by ci/oci-images.sh --release
#   sbom/<binary>.cdx.json              CycloneDX SBOMs of the shipped binaries (ci/sbom.py)
#   RELEASE_NOTES.md                    VERSION's section of CHANGELOG.md
#   SHA256SUMS                          sha256sum of every file above (`sha256sum -c SHA256SUMS` in OUT)
# VERSION must be the workspace's version and have a CHANGELOG.md section. Without --dry-run it
# then publishes the crates (`cargo publish --workspace`, CARGO_REGISTRY_TOKEN). The GitHub
# workflow (job `release`) runs it on a `v*` tag, attaches OUT's files to the GitHub release and
# pushes the tag `go/vVERSION`, which publishes the Go module; its `images` job pushes the images
# to the registry with Docker (ci/images.sh, which also builds the custom Envoy in Envoy's own
# build image).
set -euo pipefail
cd "$(dirname "$0")/.."
die() { echo "ci/release.sh: $*" >&2; exit 1; }

dry_run=false
if [[ ${1:-} == --dry-run ]]; then dry_run=true; shift; fi
[[ $# -eq 2 ]] || die "usage: ci/release.sh [--dry-run] VERSION OUT"
version=${1#v}
out=$2

workspace_version=$(cargo metadata --no-deps --format-version 1 |
  python3 -c 'import json,sys; print({p["version"] for p in json.load(sys.stdin)["packages"] if p["publish"] != []}.pop())')
[[ $version == "$workspace_version" ]] || die "VERSION $version is not the workspace's version $workspace_version (Cargo.toml)"
notes=$(awk -v v="$version" '$0 ~ "^## " { if (found) exit; if (index($0, "## " v) == 1) { found = 1; next } } found' CHANGELOG.md)
[[ -n ${notes//[[:space:]]/} ]] || die "CHANGELOG.md has no section '## $version' (or it is empty)"

rm -rf "$out"
mkdir -p "$out"
out=$(cd "$out" && pwd)

echo "== crates and the Go module (ci/package.sh)"
bash ci/package.sh "$out/.package"
mv "$out/.package/crates" "$out/crates"
mv "$out/.package/goproxy" "$out/go"
rm -rf "$out/.package"

echo "== the stock host"
target=$(rustc -vV | sed -n 's/^host: //p')
cargo build --release --quiet -p envoyx-stock-host
target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
mkdir -p "$out/stock-host/$target"
cp "$target_dir/release/libenvoyx_stock_host.so" "$out/stock-host/$target/"

echo "== images (ci/oci-images.sh --release $version)"
image_args=(--release "$version" --out "$out/images")
for envoy in $(cargo run --quiet -p envoyx-envoy-install -- --list); do image_args+=(--envoy-version "$envoy"); done
for example in rust/examples/*/; do image_args+=(--module "$(basename "$example")"); done
bash ci/oci-images.sh "${image_args[@]}"

echo "== SBOMs"
mkdir -p "$out/sbom"
python3 ci/sbom.py envoyx-stock-host "$target" "$out/sbom/envoyx-stock-host.cdx.json"
python3 ci/sbom.py envoyx "$target" "$out/sbom/envoyx.cdx.json"

echo "== release notes and checksums"
{ echo "# EnvoyX $version"; echo; echo "$notes"; } > "$out/RELEASE_NOTES.md"
(cd "$out" && find . -type f | sed 's#^\./##' | LC_ALL=C sort | xargs sha256sum > "$out.SHA256SUMS" && mv "$out.SHA256SUMS" SHA256SUMS)
echo "$out: $(wc -l < "$out/SHA256SUMS") files"

if $dry_run; then
  echo "dry run: nothing published"
  exit 0
fi
cargo publish --workspace
