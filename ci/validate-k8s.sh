#!/usr/bin/env bash
# The Kubernetes manifests under deploy/kubernetes/, offline (issue 16): every document against
# Kubernetes 1.35.0's schemas or its CRD (Envoy Gateway v1.9.0, Gateway API v1.6.1, Istio
# 1.31.0-rc.0; kept in deploy/kubernetes/schemas/), strictly; the validator's self-test (known
# breaks must be caught); then the EnvoyX configurations inside them through `envoyx
# check-config`, the core's own rules. Python packages from PyPI with --require-hashes.
# With FILE arguments (e.g. what `envoyx deploy` printed), those instead, without the self-test.
set -euo pipefail
files=() # absolute, before the cd below
for f in "$@"; do files+=("$(cd "$(dirname "$f")" && pwd)/$(basename "$f")"); done
cd "$(dirname "$0")/.."

venv=ci/.venv-k8s
if [[ ! -x "$venv/bin/python" ]] || ! "$venv/bin/python" -c 'import kubernetes_validate' 2>/dev/null; then
  echo "== installing the validator's packages (pip --require-hashes)"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check --require-hashes -r ci/requirements-k8s.txt
fi

configs=$(mktemp)
trap 'rm -f "$configs"' EXIT
echo "== manifests against their schemas"
"$venv/bin/python" ci/validate-k8s.py --envoyx-configs "$configs" "${files[@]}"
if [[ ${#files[@]} -eq 0 ]]; then
  echo "== the validator catches known breaks"
  "$venv/bin/python" ci/validate-k8s.py --self-test
fi
echo "== the EnvoyX configurations in them (envoyx check-config)"
cargo run --quiet -p envoyx -- check-config "$configs"
