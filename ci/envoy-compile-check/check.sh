#!/usr/bin/env bash
# The custom build (envoy/) compiled against real Envoy headers: every .cc of envoy/ and
# envoy/test/ with Envoy's own -Werror copts (compile.sh), for each Envoy tree of versions.tsv
# that ROOT holds, under clang 19 with libc++ 19 and clang 22 with libc++ 22, then Bazel's
# undeclared-inclusion rule for envoy/BUILD and envoy/test/BUILD (bazel_hdrs.py). Syntax and
# types only: nothing is linked and no test runs.
#
# usage: check.sh ROOT
#   ROOT holds the downloaded trees (docs/verification.md, "The custom build's compile check",
#   says how to make it; nothing in it is committed): envoy/<name>/ with COMMIT, deps/, protoc/,
#   venv/, and libcxx-22/ for clang 22. Each run regenerates the protos the sources reach (so a
#   new include or x/config.proto change is picked up) and the cxx bridge headers.
# Exit status: 0 clean; 1 an error or warning (the logs under ROOT/logs/<name>/ say where); 2 ROOT
# is not usable (the message says what is missing).
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
PROJECT=$(cd "$HERE/../.." && pwd)
ROOT=${1:?usage: check.sh ROOT (the prepared Envoy trees; see docs/verification.md)}
ROOT=$(cd "$ROOT" 2>/dev/null && pwd) || { echo "compile check: no folder $1" >&2; exit 2; }
export CHECK_ROOT=$ROOT PROJECT

# The cxx bridge's generated headers, as the loader's build makes them now.
cargo build -q -p envoyx-loader || { echo "compile check: cargo build -p envoyx-loader failed" >&2; exit 2; }
target=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
rm -rf "$ROOT/cxx"
mkdir -p "$ROOT/cxx/rust" "$ROOT/cxx/envoyx-loader/src" "$ROOT/cxx/envoyx-loader/include/envoyx"
cp -L "$target/cxxbridge/rust/cxx.h" "$ROOT/cxx/rust/"
cp -L "$target/cxxbridge/envoyx-loader/src/lib.rs.h" "$ROOT/cxx/envoyx-loader/src/"
cp -L "$PROJECT/loader/include/envoyx/loader.h" "$ROOT/cxx/envoyx-loader/include/envoyx/"

compilers=()
command -v clang++-19 > /dev/null && compilers+=(clang19)
libcxx22=$ROOT/libcxx-22/usr/lib/llvm-22/include/c++/v1
command -v clang++-22 > /dev/null && [ -d "$libcxx22" ] && compilers+=(clang22)
if [ ${#compilers[@]} -eq 0 ]; then
  echo "compile check: neither clang++-19 nor clang++-22 (with $libcxx22) is installed" >&2
  exit 2
fi

status=0
checked=0
summary=()
while IFS=$'\t' read -r name commit protobuf fmt quiche converter note; do
  case "$name" in '#'* | '') continue ;; esac
  tree=$ROOT/envoy/$name
  if [ ! -f "$tree/COMMIT" ]; then
    summary+=("$name: not in $ROOT (skipped)")
    continue
  fi
  if [ "$(cat "$tree/COMMIT")" != "$commit" ]; then
    echo "compile check: $tree is commit $(cat "$tree/COMMIT"), versions.tsv says $commit" >&2
    exit 2
  fi
  checked=$((checked + 1))
  echo "== Envoy $name ($commit; $note)"
  if ! bash "$HERE/prepare.sh" "$name" "$protobuf" "$fmt" "$quiche" "$converter"; then
    echo "compile check: preparing Envoy $name failed" >&2
    exit 2
  fi
  for compiler in "${compilers[@]}"; do
    start=$(date +%s)
    if [ "$compiler" = clang19 ]; then
      CXX=clang++-19 TAG='' bash "$HERE/compile.sh" "$name"
    else
      # -nostdinc++ with libc++ 22's headers: clang 22 would otherwise use the installed libc++
      # 19; -stdlib=libc++ is then unused, which -Werror would refuse.
      CXX=clang++-22 TAG=clang22 bash "$HERE/compile.sh" "$name" -nostdinc++ -isystem "$libcxx22" \
        -Wno-unused-command-line-argument
    fi
    rc=$?
    [ $rc -ne 0 ] && status=1
    summary+=("$name $compiler: $([ $rc -eq 0 ] && echo clean || echo FAILED) in $(($(date +%s) - start)) s")
  done
  hdrs=$(python3 "$HERE/bazel_hdrs.py" "$tree")
  echo "$hdrs"
  if grep -q "NOT IN CLOSURE\|not found: \[[^]]" <<< "$hdrs"; then
    status=1
    summary+=("$name Bazel: an include is not declared by envoy/BUILD's deps")
  else
    summary+=("$name Bazel: every Envoy include declared")
  fi
done < "$HERE/versions.tsv"

echo "== compile check summary"
printf '  %s\n' "${summary[@]}"
if [ $checked -eq 0 ]; then
  echo "compile check: no Envoy tree of versions.tsv is in $ROOT" >&2
  exit 2
fi
exit $status
