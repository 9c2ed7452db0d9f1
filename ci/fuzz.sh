#!/usr/bin/env bash
# The fuzz targets (fuzz/, issue 14), time-boxed: cargo fuzz 0.13.2 on the stable toolchain,
# without a sanitizer (AddressSanitizer needs nightly's -Zsanitizer; libFuzzer still catches
# every panic and abort). Each target runs SECONDS (default 30) from its committed corpus;
# new inputs go to a scratch folder, a failing one to fuzz/artifacts/<target>/.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-30}
if ! cargo fuzz --version 2>/dev/null | grep -q "0\.13\.2"; then
  cargo install cargo-fuzz --version 0.13.2 --locked
fi
cargo fmt --manifest-path fuzz/Cargo.toml -- --check
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
cd fuzz
cargo fuzz build --sanitizer none
for target in config stream; do
  mkdir -p "$scratch/$target"
  echo "== fuzz $target (${seconds}s)"
  if ! cargo fuzz run --sanitizer none "$target" "$scratch/$target" "corpus/$target" -- \
    -max_total_time="$seconds" -rss_limit_mb=2048 -print_final_stats=1 >"$scratch/$target.log" 2>&1; then
    tail -60 "$scratch/$target.log"
    echo "fuzz: $target failed; the input is in fuzz/artifacts/$target/" >&2
    exit 1
  fi
  grep -E "^(Done|INFO: seed corpus)" "$scratch/$target.log"
done
