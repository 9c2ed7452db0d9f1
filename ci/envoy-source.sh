#!/usr/bin/env bash
# Prints the directory of Envoy ENVOY_VERSION's source, downloaded once into the cache and
# checked against the sha256 pinned in bazel/envoy-versions.tsv:
#   src=$(ci/envoy-source.sh 1.40.0)
# An UNPINNED version stops here with the hash it computed, to check against the release and pin.
set -euo pipefail
cd "$(dirname "$0")/.."

die() { echo "ci/envoy-source.sh: $*" >&2; exit 1; }

version=${1:-}
[[ -n "$version" ]] || die "usage: ci/envoy-source.sh ENVOY_VERSION (one of: $(awk -F'\t' '!/^#/ && $1 != "version" {printf "%s ", $1}' bazel/envoy-versions.tsv))"
row=$(awk -F'\t' -v v="$version" '!/^#/ && $1 == v' bazel/envoy-versions.tsv)
[[ -n "$row" ]] || die "Envoy $version is not in bazel/envoy-versions.tsv"
IFS=$'\t' read -r _ mode url pinned <<<"$row"

cache=${ENVOYX_ENVOY_SRC_CACHE:-$HOME/.cache/envoyx/envoy-src}
archive="$cache/envoy-$version.tar.gz"
src="$cache/envoy-$version"
mkdir -p "$cache"
if [[ ! -f "$archive" ]]; then
  echo "downloading $url" >&2
  curl --fail --location --silent --show-error -o "$archive.part" "$url"
  mv "$archive.part" "$archive"
fi
actual=$(sha256sum "$archive" | cut -d' ' -f1)
if [[ "$pinned" == "UNPINNED" ]]; then
  where="bazel/envoy-versions.tsv"
  [[ "$mode" == bzlmod ]] && where="$where and MODULE.bazel (integrity)"
  die "Envoy $version is not pinned. The archive from $url has sha256 $actual; check it against the release, then pin it in $where."
fi
[[ "$actual" == "$pinned" ]] || die "Envoy $version archive sha256 is $actual, bazel/envoy-versions.tsv pins $pinned"
if [[ ! -d "$src" ]]; then
  rm -rf "$src.part"
  mkdir -p "$src.part"
  tar -xzf "$archive" -C "$src.part" --strip-components=1
  mv "$src.part" "$src"
fi
echo "$src"
