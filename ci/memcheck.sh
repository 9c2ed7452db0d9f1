#!/usr/bin/env bash
# valgrind memcheck over the core's tests, the test host's suites (the conformance module, every
# bad-input case with the C test modules, lifecycles, callouts, metrics, routes, reload) and the
# C++ loader through its C++ test host (issue 14, item 2). valgrind, not AddressSanitizer and
# UBSan: their Rust runtime needs nightly's -Zsanitizer, and this machine has the stable
# toolchain only. Any invalid read or write, use of uninitialised memory, bad free or definite
# leak fails the run, except what ci/memcheck.supp suppresses, each with its reason. The Go
# tests are left out: the Go runtime's own memory handling is outside what memcheck can judge.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v valgrind >/dev/null; then
  apt-get install -y -q valgrind >/dev/null
fi
suppressions="$(pwd)/ci/memcheck.supp"
export CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUNNER="valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite --show-leak-kinds=definite --suppressions=$suppressions"
# Deadlines on work from other threads stretch under valgrind (envoyx_testhost::patience).
export ENVOYX_TEST_SLOWDOWN=10
# The conformance runs of the Go conformance module (`go_module` in their names) are left out
# too, for the same reason.
cargo test -q -p envoyx-abi -p envoyx-core -p envoyx-loader --lib --tests -- --skip go_module
cargo test -q -p envoyx-testhost --test conformance --test lifecycle --test bad_input \
  --test callout_streams --test background --test metrics --test routes --test stream_info \
  --test compat --test reload -- --skip go_module
echo "memcheck: 0 errors"
