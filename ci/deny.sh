#!/usr/bin/env bash
# Supply-chain checks of the Rust dependencies with cargo deny (deny.toml): licenses, bans
# (duplicate versions, wildcards), sources (crates.io only). The advisory database lives on
# GitHub, which CI cannot reach, so `advisories` runs in the GitHub workflow
# (`ci/deny.sh advisories`). cargo-deny is built from crates.io into target/tools (pinned, --locked; git ignores target/).
# Also checks that the Go SDK's module needs nothing but the standard library.
set -euo pipefail
cd "$(dirname "$0")/.."
version=0.20.2
tools=$PWD/target/tools
if [[ "$("$tools/bin/cargo-deny" --version 2>/dev/null)" != "cargo-deny $version" ]]; then
  echo "installing cargo-deny $version into target/tools (cargo install --locked)"
  cargo install --quiet --locked --root "$tools" cargo-deny --version "$version"
fi
if [[ $# -eq 0 ]]; then set -- licenses bans sources; fi
"$tools/bin/cargo-deny" --all-features check "$@"

# The Go SDK: a go.mod with no require and no import outside the standard library (and cgo).
if grep -q "^require\|^\s*require" go/go.mod; then
  echo "ci/deny.sh: go/go.mod requires other modules; the Go SDK must need only the standard library" >&2
  exit 1
fi
echo "go/go.mod: no requirements (standard library and cgo only)"
