#!/bin/bash
# Prepares the syntax-check tree for one Envoy version (called by check.sh --prepare; see
# docs/verification.md, "The custom build's compile check", for what ROOT must hold first):
#   overlay/$V  : Bazel include_prefix/strip_include_prefix mappings (posix/standard headers,
#                 quiche_platform_impl), generated version headers
#   gen/$V      : protoc C++ (.pb.h/.pb.cc) and PGV declaration headers (.pb.validate.h) for every
#                 .proto the project's includes reach, plus x/config.proto
# usage: prepare.sh V PROTOBUF FMT QUICHE PROTOCONVERTER_PATCHSET (versions.tsv has them)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
V=$1 PB=$2 FMT=$3 QUICHE=$4 PC=$5
C=${CHECK_ROOT:?set CHECK_ROOT to the prepared folder (deps/, envoy/V/, protoc/, venv/ inside)}
D=$C/deps
E=$C/envoy/$V
O=$C/overlay/$V
G=$C/gen/$V
P=${PROJECT:?set PROJECT to the project checkout}
rm -rf "$O" "$G"
mkdir -p "$O" "$G"

# 1. include_prefix mappings (the Linux branch of each select in Envoy's BUILD files).
link_dir() { # src_dir dst_dir
  mkdir -p "$2"
  for h in "$1"/*.h; do [ -e "$h" ] && ln -sf "$h" "$2/$(basename "$h")"; done
}
link_dir "$E/source/common/api/posix" "$O/source/common/api"
link_dir "$E/source/common/common/posix" "$O/source/common/common"
link_dir "$E/source/common/common/standard" "$O/source/common/common"
link_dir "$E/source/common/event/posix" "$O/source/common/event"
link_dir "$E/source/common/filesystem/posix" "$O/source/common/filesystem"
# quiche platform impl: quiche's defaults, then Envoy's own (which win).
link_dir "$D/quiche-$QUICHE/quiche/common/platform/default/quiche_platform_impl" "$O/quiche_platform_impl"
link_dir "$E/source/common/quic/platform" "$O/quiche_platform_impl"
# Generated version headers (source/common/version/BUILD genrules).
mkdir -p "$O/source/common/version"
echo "#define BUILD_VERSION_NUMBER \"$(cat "$E/VERSION.txt")\"" > "$O/source/common/version/version_number.h"
API=$(cat "$E/API_VERSION.txt")
IFS=. read -r MA MI PA <<< "$API"
cat > "$O/source/common/version/api_version_number.h" <<EOF
#pragma once
#include "source/common/version/api_version_struct.h"

namespace Envoy {

constexpr ApiVersion api_version = {$MA, $MI, $PA};
constexpr ApiVersion oldest_api_version = {$MA, $MI, 0};

} // namespace Envoy
EOF

# 2. Which protos the includes reach.
INC=(-I "$P" -I "$P/x" -I "$C/cxx" -I "$O" -I "$G" -I "$E" -I "$D/abseil-20260107.1"
  -I "$D/protobuf-$PB/src" -I "$D/protobuf-$PB/third_party/utf8_range" -I "$D/pc-inc-$PC" -I "$D/fmt-$FMT/include"
  -I "$D/spdlog-1.17.0/include" -I "$D/re2-2024-07-02" -I "$D/googletest-1.17.0/googletest/include"
  -I "$D/googletest-1.17.0/googlemock/include" -I "$D/xxhash-${XXHASH:-0.8.2}" -I "$D/pgv-1.3.3"
  -I "$D/boringssl-0.20260413.0/include" -I "$D/libcircllhist-0.3.2/src" -I "$D/quiche-$QUICHE"
  -I "$D/bazel-runfiles")
PROTO_PATH=(-I "$P" -I "$E/api" -I "$D/xds-snapshot" -I "$D/pgv-1.3.3" -I "$D/pip/googleapis" -I "$D/protobuf-$PB/src")
python3 "$HERE/closure.py" "${INC[@]}" -P "$P" -P "$E/api" -P "$D/xds-snapshot" -P "$D/pgv-1.3.3" \
  -P "$D/pip/googleapis" -P "$D/protobuf-$PB/src" -o "$G/protos.txt" \
  "$P"/envoy/*.cc "$P"/envoy/*.h "$P"/envoy/test/*.cc > "$G/closure.txt"
# google/protobuf/*.pb.h are checked in to protobuf's src/.
cut -f2 "$G/protos.txt" | grep -v '^google/protobuf/' > "$G/protos.list"
awk -F'\t' '$3=="V"{print $2}' "$G/protos.txt" | grep -v '^google/protobuf/' > "$G/validate.list" || true

# 3. protoc (the release Envoy pins) for C++, and PGV declaration headers.
mapfile -t protos < "$G/protos.list"
mapfile -t validated < "$G/validate.list"
"$C/protoc/protoc-$PB" "${PROTO_PATH[@]}" --cpp_out="$G" \
  --descriptor_set_out="$G/descriptors.pb" --include_imports "${protos[@]}"
"$C/venv/bin/python" "$HERE/pgv_stub.py" "$G/descriptors.pb" "$G" "${validated[@]}"
echo "setup $V: $(wc -l < "$G/protos.list") protos, $(wc -l < "$G/validate.list") with validate headers"
grep UNRESOLVED "$G/closure.txt" | grep -vE 'UNRESOLVED (sys/|netinet|arpa/|linux/|bits/|mach/|windows|winsock|ws2|crt|os/|android|jni|emscripten|zircon|lib/|__|dispatch/|machine/|net/|CoreFoundation|TargetConditionals|asm/|ifaddrs|execinfo|mswsock|wchar|xlocale|processthreadsapi|wincrypt|mstcpip|experimental/|ext/|ppc|tr1|valgrind|sanitizer|Security/|sys)' || true

# The include flags for clang (compile.sh reads them).
printf '%s\n' "${INC[@]}" > "$C/includes-$V.rsp"
