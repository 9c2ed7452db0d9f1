#!/usr/bin/env bash
# The drop-in claim, end to end: the custom Envoy given the seed-style config
# (`envoy.http.dynamic_modules` + DynamicModuleConfig) loads the C test module and runs it on a
# real request. The route answers directly, so no upstream is needed; the module's response
# header shows it ran. Usage: e2e-seed-config.sh ENVOY_BINARY MODULE_SO
set -euo pipefail

envoy=$(realpath "$1")
module=$(realpath "$2")
work=$(mktemp -d)
trap 'kill "${envoy_pid:-}" 2>/dev/null || true; rm -rf "$work"' EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port=$(free_port)
admin=$(free_port)

cat >"$work/envoy.yaml" <<YAML
admin:
  address: {socket_address: {address: 127.0.0.1, port_value: $admin}}
static_resources:
  listeners:
  - name: main
    address: {socket_address: {address: 127.0.0.1, port_value: $port}}
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: e2e
          route_config:
            virtual_hosts:
            - name: all
              domains: ["*"]
              routes:
              - match: {prefix: "/"}
                direct_response: {status: 200, body: {inline_string: "ok"}}
          http_filters:
          - name: envoy.http.dynamic_modules
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.dynamic_modules.v3.DynamicModuleConfig
              name: test
              file_path: $module
              filter_config: "basic"
              do_not_dlclose: true
          - name: envoy.filters.http.router
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
YAML

"$envoy" --mode validate -c "$work/envoy.yaml" >"$work/validate.log" 2>&1 || {
  cat "$work/validate.log" >&2
  echo "FAIL: the seed-style config does not validate" >&2
  exit 1
}

"$envoy" -c "$work/envoy.yaml" --base-id "$port" -l info >"$work/envoy.log" 2>&1 &
envoy_pid=$!

python3 - "$port" "$work/envoy.log" <<'PY'
import http.client, sys, time
port, log = int(sys.argv[1]), sys.argv[2]
deadline = time.time() + 60
while True:
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        c.request("GET", "/", headers={"x-copy-me": "seed"})
        r = c.getresponse(); r.read()
        break
    except OSError:
        if time.time() > deadline:
            sys.exit("FAIL: Envoy did not answer within 60 s; log:\n" + open(log).read())
        time.sleep(0.2)
got = r.getheader("x-envoyx-response")
if r.status != 200 or got != "hello from envoyx":
    sys.exit(f"FAIL: status {r.status}, x-envoyx-response={got!r}; log:\n" + open(log).read())
print("PASS: seed-style config served by the custom Envoy with the EnvoyX module")
PY
