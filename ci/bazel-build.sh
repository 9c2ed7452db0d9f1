#!/usr/bin/env bash
# Builds and tests the custom Envoy (//:envoy-envoyx) against one Envoy release:
#   ci/bazel-build.sh 1.40.0 [extra bazel args...]
# 1. Gets Envoy's source through ci/envoy-source.sh, pinned by bazel/envoy-versions.tsv: the
#    release archive checked against its sha256, or (sha256 UNPINNED) a git fetch of exactly the
#    commit the official release binary reports.
# 2. Checks the Bazel files against that source (ci/check-bazel-repos.py --envoy-src), then
#    builds from it: --override_module (1.40, bzlmod; Envoy's registries as the release's own
#    .bazelrc pins them) or --override_repository (1.38/1.39, WORKSPACE, importing the release's
#    .bazelrc), with the Bazel version the source's .bazelversion names.
# 3. bazel build //:envoy-envoyx, then bazel test //... (the extension's tests and the
#    seed-config end-to-end test), and copies the binary to out/envoy-envoyx-VERSION.
# Needs bazelisk (as `bazel`) and Envoy's build dependencies: run it inside Envoy's build image
# (docker/Dockerfile.envoyx does) or on a GitHub runner set up by .github/workflows/envoyx.yml.
set -euo pipefail
cd "$(dirname "$0")/.."

die() { echo "ci/bazel-build.sh: $*" >&2; exit 1; }

version=${1:-}
[[ -n "$version" ]] || die "usage: ci/bazel-build.sh ENVOY_VERSION [bazel args...]"
shift
mode=$(awk -F'\t' -v v="$version" '!/^#/ && $1 == v {print $2}' bazel/envoy-versions.tsv)
command -v bazel >/dev/null || die "bazel (bazelisk) is not on PATH"
src=$(ci/envoy-source.sh "$version")
echo "== Envoy $version source verified: $src"

# Bazel as Envoy itself pins it.
USE_BAZEL_VERSION=$(tr -d '[:space:]' <"$src/.bazelversion")
export USE_BAZEL_VERSION
echo "== Bazel $USE_BAZEL_VERSION (from Envoy $version's .bazelversion)"

mkdir -p bazel/.generated
rc=bazel/.generated/envoy-version.bazelrc
# The Envoy commit being built, for bazel/get_workspace_status (Envoy's version stamp).
commit=$(awk -F'\t' -v v="$version" '!/^#/ && $1 == v {print $5}' bazel/envoy-versions.tsv)
echo "$commit" >bazel/.generated/SOURCE_VERSION

# Before Bazel: the Bazel files against this release's own source (the Envoy macros and setup
# functions called exist and take the arguments given, every @envoy// label the flags name exists,
# WORKSPACE runs every setup step of Envoy's consumer at this release).
python3 ci/check-bazel-repos.py --envoy-src "$src" --mode "$([[ "$mode" == bzlmod ]] && echo bzlmod || echo workspace)" --version "$version"

startup=()
if [[ "$mode" == bzlmod ]]; then
  [[ "$(tr -d '[:space:]' <.bazelversion)" == "$USE_BAZEL_VERSION" ]] ||
    echo "warning: .bazelversion ($(cat .bazelversion)) differs from Envoy $version's ($USE_BAZEL_VERSION)" >&2
  # Envoy's registries exactly as Envoy $version's own .bazelrc lists them (the BCR, then Envoy's
  # registry at the commit that carries this release's `.envoy` modules), plus the verified source.
  registries=$(grep -E '^common --registry=' "$src/.bazelrc" || true)
  grep -q 'envoyproxy/bazel-registry' <<<"$registries" ||
    die "Envoy $version's .bazelrc names no envoyproxy/bazel-registry --registry line"
  {
    echo "$registries"
    echo "common --override_module=envoy=$src"
    echo "common --override_module=envoy_api=$src/api"
  } >"$rc"
else
  startup=(--noworkspace_rc --bazelrc=bazel/workspace.bazelrc)
  {
    echo "import $src/.bazelrc"
    # Envoy's .bazelrc must not switch the mode back.
    echo "common --noenable_bzlmod"
    echo "common --enable_workspace"
    # envoy/BUILD passes `repository = "@envoy"`, which an outside workspace needs in this mode;
    # Envoy's own .bazelrc may forbid the argument for Envoy's own tree.
    if grep -q 'deprecated_repo_arg_allowed=false' "$src/.bazelrc"; then
      echo "common --@envoy//bazel:deprecated_repo_arg_allowed=true"
    fi
    echo "common --override_repository=envoy=$src"
    echo "common --repo_env=ENVOYX_ENVOY_VERSION=$version"
  } >"$rc"
  # The cxxbridge-cmd lock and the lock WORKSPACE gives Envoy's own crate index start empty;
  # crate_universe fills them on the first fetch.
  if [[ ! -s bazel/cxxbridge-cmd.Cargo.lock || ! -s bazel/envoy.Cargo.Bazel.lock ]]; then
    export CARGO_BAZEL_REPIN=1
  fi
fi

echo "== bazel build //:envoy-envoyx (Envoy $version, $mode)"
bazel "${startup[@]}" build -c opt //:envoy-envoyx "$@"
echo "== bazel test //..."
bazel "${startup[@]}" test -c opt //... "$@"

mkdir -p out
cp -f "$(bazel "${startup[@]}" cquery -c opt --output=files //:envoy-envoyx "$@" 2>/dev/null | head -n1)" "out/envoy-envoyx-$version"
echo "== out/envoy-envoyx-$version"
# The stock path's e2e suite, against the binary just linked: the custom Envoy still carries
# upstream's own dynamic-modules filter, so every stock-host test must pass on it as well.
echo "== stock-host e2e suite against out/envoy-envoyx-$version (ENVOYX_E2E_ENVOY)"
ENVOYX_E2E_ENVOY="$PWD/out/envoy-envoyx-$version" cargo test -p envoyx-stock-host
