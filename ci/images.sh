#!/usr/bin/env bash
# Builds the two EnvoyX images for one Envoy release and, with --push, pushes them:
#   ci/images.sh ENVOY_VERSION ENVOYX_VERSION [--push]
#   e.g. ci/images.sh 1.40.0 0.1.0 --push
# - ghcr.io/$ENVOYX_IMAGE_ORG/envoy:v1.40-latest-envoyx-v0.1.0  the custom Envoy (drop-in)
# - ghcr.io/$ENVOYX_IMAGE_ORG/envoy:v1.40-latest-stock-envoyx-v0.1.0  stock Envoy + stock host
# - ghcr.io/$ENVOYX_IMAGE_ORG/stock-host:v0.1.0  the stock host alone (for sidecars' image volumes)
# - ghcr.io/$ENVOYX_IMAGE_ORG/module-headers:v0.1.0  the headers example as a module image
# The build image is the one the pinned Envoy archive's .github/config.yml names (build-image
# repo and tag), so the custom Envoy is compiled where Envoy compiles itself.
set -euo pipefail
cd "$(dirname "$0")/.."

die() { echo "ci/images.sh: $*" >&2; exit 1; }

[[ $# -ge 2 ]] || die "usage: ci/images.sh ENVOY_VERSION ENVOYX_VERSION [--push]"
envoy_version=$1
envoyx_version=${2#v}
push=${3:-}
[[ -z "$push" || "$push" == "--push" ]] || die "unknown argument $push"
command -v docker >/dev/null || die "docker is not on PATH"
org=${ENVOYX_IMAGE_ORG:-envoyx}
minor=${envoy_version%.*}

src=$(ci/envoy-source.sh "$envoy_version")
build_repo=$(awk '/^build-image:/{b=1} b && /^  repo:/{print $2; exit}' "$src/.github/config.yml")
build_tag=$(awk '/^build-image:/{b=1} b && /^  tag:/{print $2; exit}' "$src/.github/config.yml")
[[ -n "$build_repo" && -n "$build_tag" ]] || die "no build-image repo/tag in Envoy $envoy_version's .github/config.yml"

custom="ghcr.io/$org/envoy:v$minor-latest-envoyx-v$envoyx_version"
stock="ghcr.io/$org/envoy:v$minor-latest-stock-envoyx-v$envoyx_version"
stock_host="ghcr.io/$org/stock-host:v$envoyx_version"
module="ghcr.io/$org/module-headers:v$envoyx_version"

echo "== $custom (built in $build_repo:$build_tag)"
docker build -f docker/Dockerfile.envoyx \
  --build-arg "ENVOY_BUILD_IMAGE=$build_repo:$build_tag" \
  --build-arg "ENVOY_VERSION=$envoy_version" \
  --build-arg "ENVOY_MINOR=$minor" \
  -t "$custom" .
echo "== $stock"
docker build -f docker/Dockerfile.stock --build-arg "ENVOY_MINOR=$minor" -t "$stock" .
echo "== $stock_host"
docker build -f docker/Dockerfile.stock-host -t "$stock_host" .
echo "== $module"
docker build -f docker/Dockerfile.module --build-arg MODULE=headers -t "$module" .

if [[ "$push" == "--push" ]]; then
  docker push "$custom"
  docker push "$stock"
  docker push "$stock_host"
  docker push "$module"
fi
