#!/usr/bin/env bash
# `cargo publish --dry-run --workspace`: every published crate packaged, then built from its
# package alone against the other packaged crates, as crates.io would take it.
set -euo pipefail
cd "$(dirname "$0")/.."
# The packaged crates come from a temporary registry (target/package/tmp-registry), and cargo
# takes a registry crate of a given version as never changing: it unpacks it once (into
# $CARGO_HOME/registry/src/-<hash of that path>/) and reuses what it compiled of it. A second
# run with the same target directory would verify the first run's code. So the unpacked copies
# (a local registry's folders, named from a hash alone) and what was compiled of any envoyx
# crate go first; the third-party crates stay compiled.
cargo_home=${CARGO_HOME:-$HOME/.cargo}
rm -rf "$cargo_home"/registry/src/-*
target=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
rm -rf "$target"/debug/.fingerprint/envoyx* "$target"/debug/deps/libenvoyx* "$target"/debug/build/envoyx*
cargo publish --dry-run --workspace 2>&1 | grep -v "^warning: ignoring test"
