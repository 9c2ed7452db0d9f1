#!/usr/bin/env bash
# Prints the directory of Envoy ENVOY_VERSION's source, downloaded once into the cache and
# checked against bazel/envoy-versions.tsv:
#   src=$(ci/envoy-source.sh 1.40.0)
# With a pinned archive sha256: the release archive, checked against it. With an UNPINNED
# sha256: a git fetch of exactly the pinned commit (git checks every object against it), and
# the tag checked to still point there.
set -euo pipefail
cd "$(dirname "$0")/.."

die() { echo "ci/envoy-source.sh: $*" >&2; exit 1; }

version=${1:-}
[[ -n "$version" ]] || die "usage: ci/envoy-source.sh ENVOY_VERSION (one of: $(awk -F'\t' '!/^#/ && $1 != "version" {printf "%s ", $1}' bazel/envoy-versions.tsv))"
row=$(awk -F'\t' -v v="$version" '!/^#/ && $1 == v' bazel/envoy-versions.tsv)
[[ -n "$row" ]] || die "Envoy $version is not in bazel/envoy-versions.tsv"
IFS=$'\t' read -r _ _ url pinned commit <<<"$row"
[[ "$commit" =~ ^[0-9a-f]{40}$ ]] || die "Envoy $version: no 40-hex commit in bazel/envoy-versions.tsv"

cache=${ENVOYX_ENVOY_SRC_CACHE:-$HOME/.cache/envoyx/envoy-src}
archive="$cache/envoy-$version.tar.gz"
src="$cache/envoy-$version"
mkdir -p "$cache"
if [[ -d "$src" ]]; then
  echo "$src"
  exit 0
fi

if [[ "$pinned" == "UNPINNED" ]]; then
  remote=https://github.com/envoyproxy/envoy.git
  echo "fetching Envoy $version at commit $commit (archive sha256 not pinned; git verifies the commit)" >&2
  tagged=$(git ls-remote "$remote" "refs/tags/v$version^{}" "refs/tags/v$version" | awk 'NR == 1 {print $1}')
  [[ "$tagged" == "$commit" ]] ||
    die "tag v$version of $remote points at ${tagged:-nothing}, bazel/envoy-versions.tsv pins $commit"
  rm -rf "$src.part"
  git init -q "$src.part"
  git -C "$src.part" fetch -q --depth 1 "$remote" "$commit"
  git -C "$src.part" checkout -q FETCH_HEAD
  head=$(git -C "$src.part" rev-parse HEAD)
  [[ "$head" == "$commit" ]] || die "fetched $head, expected $commit"
  rm -rf "$src.part/.git"
  # Envoy stamps its binary from SOURCE_VERSION when there is no git checkout.
  echo "$commit" >"$src.part/SOURCE_VERSION"
  mv "$src.part" "$src"
  echo "$src"
  exit 0
fi

if [[ ! -f "$archive" ]]; then
  echo "downloading $url" >&2
  curl --fail --location --silent --show-error -o "$archive.part" "$url"
  mv "$archive.part" "$archive"
fi
actual=$(sha256sum "$archive" | cut -d' ' -f1)
[[ "$actual" == "$pinned" ]] || die "Envoy $version archive sha256 is $actual, bazel/envoy-versions.tsv pins $pinned"
rm -rf "$src.part"
mkdir -p "$src.part"
tar -xzf "$archive" -C "$src.part" --strip-components=1
[[ -f "$src.part/SOURCE_VERSION" ]] || echo "$commit" >"$src.part/SOURCE_VERSION"
mv "$src.part" "$src"
echo "$src"
