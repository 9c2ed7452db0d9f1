#!/bin/bash
# Syntax-only compile of the project's Envoy C++ against one prepared Envoy version (prepare.sh);
# check.sh calls it once per tree and compiler.
# usage: compile.sh V [extra clang flags...]   (CXX: the compiler; TAG: a log-name suffix;
#   FILES: the files, default every .cc of envoy/ and envoy/test/)
# Envoy's own warning flags: bazel/envoy_internal.bzl envoy_copts() posix_options + the
# clang_build branch, .bazelrc's --cxxopt=-std=c++20 / -DABSL_MIN_LOG_LEVEL=4 /
# -fsized-deallocation, and the defines a default Linux x86_64 build gets (envoy_copts selects,
# bazel/envoy_mobile_defines.bzl). Envoy's and the project's headers are -I (warnings apply, as
# with Bazel's -iquote); third-party headers (and generated protos) are -isystem.
set -uo pipefail
V=$1
shift
C=${CHECK_ROOT:?set CHECK_ROOT to the folder prepare.sh prepared}
PROJECT=${PROJECT:?set PROJECT to the project checkout}
# SRC: the tree to compile (default: PROJECT); a patched copy is put first on the include path.
SRC=${SRC:-$PROJECT}
CXX=${CXX:-clang++-19}
WARN=(-Wall -Wextra -Werror -Woverloaded-virtual -Wold-style-cast -Wformat -Wformat-security -Wvla
  -Wno-deprecated-declarations -Wreturn-type
  -fno-limit-debug-info -Wgnu-conditional-omitted-operand -Wc++2a-extensions -Wrange-loop-analysis
  # Not one of Envoy's copts: the extension owns polymorphic objects through base pointers
  # (StreamHost, Scheduler, ConfigHost, the callouts), so a base without a virtual destructor is
  # an error here.
  -Wnon-virtual-dtor)
DEFS=(-DABSL_MIN_LOG_LEVEL=4 -DSPDLOG_FMT_EXTERNAL -DSPDLOG_NO_EXCEPTIONS -DFMT_HEADER_ONLY -DTCMALLOC -DENVOY_OBJECT_TRACE_ON_DUMP -DENVOY_HOT_RESTART
  -DENVOY_NGHTTP2 -DENVOY_ADMIN_HTML -DENVOY_GOOGLE_GRPC -DENVOY_HANDLE_SIGNALS
  -DENVOY_ADMIN_FUNCTIONALITY -DENVOY_ENABLE_QUIC -DENVOY_ENABLE_FULL_PROTOS -DENVOY_ENABLE_YAML
  -DENVOY_ENABLE_HTTP_DATAGRAMS -DENVOY_MOBILE_ENABLE_LISTENER -DENVOY_MOBILE_XDS)
# -I for the project, the overlay, Envoy; -isystem for the rest.
INC=()
[ "$SRC" != "$PROJECT" ] && INC+=(-I "$SRC")
while read -r _flag; do
  read -r dir
  case "$dir" in
  "$PROJECT"* | "$C"/overlay/* | "$C"/envoy/* | "$C/cxx") INC+=(-I "$dir") ;;
  *) INC+=(-isystem "$dir") ;;
  esac
done < "$C/includes-$V.rsp"
OUT=$C/logs/$V
mkdir -p "$OUT"
rc_all=0
FILES=${FILES:-$(cd "$SRC" && ls envoy/*.cc envoy/test/*.cc)}
for f in $FILES; do
  log=$OUT/$(basename "$f" .cc)${TAG:+-$TAG}.log
  start=$(date +%s)
  nice "$CXX" -fsyntax-only -std=c++20 -stdlib=libc++ -fsized-deallocation -fPIC "${WARN[@]}" "${DEFS[@]}" "$@" \
    "${INC[@]}" "$SRC/$f" > "$log" 2>&1
  rc=$?
  [ $rc -ne 0 ] && rc_all=1
  echo "$V $f rc=$rc errors=$(grep -c ' error: ' "$log") warnings=$(grep -c ' warning: ' "$log") $(($(date +%s) - start))s"
done
exit $rc_all
