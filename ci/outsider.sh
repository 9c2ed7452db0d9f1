#!/usr/bin/env bash
# An outsider's path through EnvoyX, with nothing of this checkout: the published crates and Go
# module (ci/package.sh) served as crates.io and a Go module proxy, a fresh HOME and CARGO_HOME,
# and this checkout hidden (an empty tmpfs mounted over it in a private mount namespace), so any
# command that reads a path inside it fails. Then, as the README's first section says:
#   cargo install envoyx; envoyx --version
#   Rust: envoyx new my_filter; cargo test; envoyx check; envoyx run --module … ; curl
#   Go:   envoyx new --lang go my_go_filter; envoyx go test ./...; envoyx go build; envoyx check;
#         envoyx run --module … ; curl
# `envoyx run` builds the stock host from the published envoyx-stock-host crate on first use,
# and `envoyx go test` the test host's C library from envoyx-testhost-c (cached by version).
# Seeded, to spare the downloads: official Envoy 1.40.0 and the Go toolchain, links into the
# EnvoyX cache where `envoyx envoy install` put them (sha256-checked when installed).
# Usage: ci/outsider.sh [WORK]   (WORK: a scratch directory, default a new one under /tmp)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
if [[ -n ${1:-} ]]; then
  work=$1
else
  # A scratch folder of our own: its builds run to gigabytes, so it goes when the script ends.
  work=$(mktemp -d /tmp/envoyx-outsider.XXXXXX)
  trap 'rm -rf "$work"' EXIT
fi
mkdir -p "$work"
work=$(cd "$work" && pwd)
case "$work/" in "$root"/*) echo "ci/outsider.sh: WORK must be outside the checkout" >&2; exit 2 ;; esac

bash ci/package.sh "$work/published"
version=$(cat "$work/published/VERSION")

# The official binaries, installed by this checkout's installer (it checks their sha256).
cargo run --quiet -p envoyx -- envoy install 1.40.0 > /dev/null
envoy_cache=${ENVOYX_CACHE:-$HOME/.cache/envoyx/envoy}
cargo run --quiet -p envoyx -- go version > /dev/null
rm -rf "$work/envoy-cache" && mkdir -p "$work/envoy-cache"
ln -s "$envoy_cache/1.40.0" "$work/envoy-cache/1.40.0"
ln -s "$envoy_cache"/go-* "$work/envoy-cache/"

# The outsider's own Rust: the same toolchain (rustup's), nothing else of this machine's cargo.
rustup_home=${RUSTUP_HOME:-$HOME/.rustup}
cargo_bin=$(dirname "$(command -v cargo)")
rm -rf "${work:?}/home" "${work:?}/user" "${work:?}/target"
mkdir -p "$work/home/.cargo" "$work/user"
cat > "$work/home/.cargo/config.toml" <<TOML
# crates.io as it will be after the release: the packaged crates and what they use.
[source.crates-io]
replace-with = "envoyx-published"
[source.envoyx-published]
directory = "$work/published/registry"
[net]
offline = true
TOML

cat > "$work/inside.sh" <<'INSIDE'
set -euo pipefail
step() { printf '\n== outsider: %s\n' "$*"; }
fail() { echo "ci/outsider.sh: $*" >&2; exit 1; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# Serves MODULE=CONFIG through envoyx run until a request answers, checks the header, stops it.
serve_and_check() {
  local module=$1 expected=$2 port admin pid log
  port=$(free_port); admin=$(free_port); log=$work/run-$port.log
  envoyx run --module "$module" --listen "127.0.0.1:$port" --admin-port "$admin" > "$log" 2>&1 &
  pid=$!
  # The first run builds the stock host from the registry: minutes on two cores.
  for _ in $(seq 1 900); do
    if curl -s -o /dev/null "http://127.0.0.1:$port/"; then break; fi
    kill -0 "$pid" 2> /dev/null || { cat "$log"; fail "envoyx run exited before serving"; }
    sleep 1
  done
  local answer
  answer=$(curl -si "http://127.0.0.1:$port/")
  kill -TERM "$pid"; wait "$pid" || fail "envoyx run did not stop cleanly on SIGTERM: $(tail -5 "$log")"
  echo "$answer" | head -20
  echo "$answer" | tr -d '\r' | grep -qx "x-hello: $expected" || { cat "$log"; fail "no 'x-hello: $expected' in the answer"; }
}

[[ -z "$(ls -A "$ROOT")" ]] || fail "the checkout $ROOT is still visible"

step "cargo install envoyx (from the packaged crates)"
cargo install --quiet envoyx
envoyx --version | tee "$work/version.txt"
grep -q "^envoyx $VERSION$" "$work/version.txt" || fail "envoyx --version does not say $VERSION"

step "the demo needs a checkout, and says so"
if envoyx demo > "$work/demo.log" 2>&1; then fail "envoyx demo ran without a checkout"; fi
grep -q "installed from a registry" "$work/demo.log" || fail "envoyx demo's error does not say why: $(cat "$work/demo.log")"

step "Rust: envoyx new my_filter; cargo test"
cd "$work/user"
envoyx new my_filter
cd my_filter
grep -qx "envoyx-sdk = \"$VERSION\"" Cargo.toml || fail "Cargo.toml does not depend on envoyx-sdk = \"$VERSION\": $(cat Cargo.toml)"
cargo test --quiet 2>&1 | tail -5
module=$CARGO_TARGET_DIR/debug/libmy_filter.so
envoyx check "$module"
step "Rust: envoyx run --module … (official Envoy 1.40.0)"
serve_and_check "$module=from-an-outsider" from-an-outsider

step "Go: envoyx new --lang go my_go_filter; envoyx go test"
cd "$work/user"
envoyx new --lang go my_go_filter
cd my_go_filter
grep -q "replace" go.mod && fail "go.mod has a replace: $(cat go.mod)"
grep -qx "require github.com/envoyx/envoyx/go v$VERSION" go.mod || fail "go.mod does not require the SDK v$VERSION: $(cat go.mod)"
envoyx go test ./... 2>&1 | tail -3
grep -q "^github.com/envoyx/envoyx/go v$VERSION h1:" go.sum || fail "go.sum records no checksum of the SDK: $(cat go.sum 2>/dev/null)"
envoyx go build -buildmode=c-shared -o libmy_go_filter.so .
envoyx check libmy_go_filter.so
step "Go: envoyx run --module … (official Envoy 1.40.0)"
serve_and_check "$PWD/libmy_go_filter.so=hi-from-go" hi-from-go

step "nothing generated names the checkout"
if grep -rl --exclude-dir=target "$ROOT" "$work/user" "$work/home"; then fail "the files above name $ROOT"; fi
echo "outsider: all steps passed"
INSIDE

# Inside: the checkout hidden, HOME/CARGO_HOME fresh, the published packages as the registries.
# shellcheck disable=SC2016 # $ROOT and $work are expanded by the inner shell, from this environment
env -i PATH="$work/home/.cargo/bin:$cargo_bin:/usr/local/bin:/usr/bin:/bin" \
  HOME="$work/home" CARGO_HOME="$work/home/.cargo" RUSTUP_HOME="$rustup_home" \
  CARGO_TARGET_DIR="$work/target" ENVOYX_CACHE="$work/envoy-cache" \
  GOPROXY="file://$work/published/goproxy" GONOSUMDB="github.com/envoyx" GOFLAGS="-mod=mod" \
  ROOT="$root" VERSION="$version" work="$work" TERM=dumb \
  unshare --mount --map-root-user --propagation private \
  bash -c 'mount -t tmpfs -o ro tmpfs "$ROOT" && exec bash "$work/inside.sh"'
