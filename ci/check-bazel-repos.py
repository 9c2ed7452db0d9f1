#!/usr/bin/env python3
"""Checks that every external repository the Bazel files name is declared, without Bazel.

    python3 ci/check-bazel-repos.py                      # lint: runs in ci/lint-bazel.sh
    python3 ci/check-bazel-repos.py --envoy-src DIR --mode bzlmod|workspace
                                                         # also against one Envoy release's source
                                                         # (ci/bazel-build.sh, before Bazel runs)

Under bzlmod (Envoy 1.40) an apparent repository name in a label resolves through the repo
mapping of the module whose file the label is written in. For this project's files that is the
root module, MODULE.bazel: a repository named in .bazelrc flags (`--@repo//...`,
`--host_platform=@repo`), in BUILD files and their load()s, or by an Envoy macro's expansion
(macros write labels as plain strings, resolved in the calling BUILD file's repository) must be
declared there, by bazel_dep (its repo_name, else its name) or use_repo. Otherwise every command
fails while parsing options or loading packages. Lint findings:

  - a repository named in .bazelrc, bazel/workspace.bazelrc, a BUILD file, a .bzl file or
    MODULE.bazel itself that MODULE.bazel does not declare;
  - an Envoy macro called from a BUILD file whose expansion names an undeclared repository, or a
    package-relative label that does not exist here (KNOWN_EXPANSIONS below), or an Envoy macro
    with no entry in KNOWN_EXPANSIONS (add one, from Envoy's source, before using it);
  - a flag Envoy 1.40.0 removed (REMOVED_IN_1_40) still set in .bazelrc;
  - a crate_universe crate.spec or crate.annotation without `repositories`, or naming a
    repository no crate.from_cargo/from_specs of the same extension defines (a spec without it
    joins every crate universe of the module).

With --envoy-src (the verified source of the release being built), also:
  - every `@envoy//pkg:name` the rc file of that mode names exists in that release;
  - every Envoy macro and WORKSPACE setup function this project calls is defined in that release
    and accepts the keyword arguments passed;
  - WORKSPACE mode: WORKSPACE calls every Envoy setup function that release's own consumer,
    bazel/tests/external/WORKSPACE, calls, and Envoy's .bazelrc defines the `clang` config that
    bazel/workspace.bazelrc selects.

Each finding is printed as FILE:LINE: message naming the repository; the exit status is 1 if
there is any.
"""

import argparse
import ast
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Repositories every Bazel workspace has without declaring them.
BUILTIN_REPOS = {"bazel_tools", "local_config_platform"}

# What Envoy's macros add as plain label strings (so resolved in the caller's repository), by the
# file they are loaded from and their name. "repos": apparent repository names; "local": labels
# relative to the calling repository, each with the keyword argument that replaces it (None: none
# does). An entry is needed for every Envoy macro a BUILD file here calls.
KNOWN_EXPANSIONS = {
    # envoy api/bazel/api_build_system.bzl (bzlmod-era copy, with _IS_BZLMOD and java=True):
    # _COMMON_PROTO_DEPS and the cc_deps of pgv_cc_proto_library name @com_google_protobuf,
    # @com_google_googleapis and @com_envoyproxy_protoc_gen_validate; it also creates
    # <name>_py_proto (grpc's py_proto_library) and <name>_java_proto targets.
    ("@envoy_api//bazel:api_build_system.bzl", "api_cc_py_proto_library"): {
        "repos": ["com_google_protobuf", "com_google_googleapis", "com_envoyproxy_protoc_gen_validate"],
    },
    # Same file: api_proto_package() calls api_cc_py_proto_library.
    ("@envoy_api//bazel:api_build_system.bzl", "api_proto_package"): {
        "repos": ["com_google_protobuf", "com_google_googleapis", "com_envoyproxy_protoc_gen_validate"],
    },
    # envoy bazel/envoy_test.bzl: envoy_cc_test adds gtest to deps (envoy_external_dep_path(
    # "googletest") in the WORKSPACE-era copy, @googletest//:gtest under bzlmod, which Envoy's
    # consumer bazel/tests/external/MODULE.bazel (1.40.0-dev) and filter-cc/MODULE.bazel declare),
    # plus repository + "//test:main" etc.
    ("@envoy//bazel:envoy_build_system.bzl", "envoy_cc_test"): {"repos": ["envoy", "googletest"]},
    # Same file: envoy_cc_test_library/envoy_cc_mock add gtest the same way when PCH is off.
    ("@envoy//bazel:envoy_build_system.bzl", "envoy_cc_test_library"): {"repos": ["envoy", "googletest"]},
    ("@envoy//bazel:envoy_build_system.bzl", "envoy_cc_mock"): {"repos": ["envoy", "googletest"]},
    # envoy bazel/envoy_library.bzl, envoy_binary.bzl: labels are repository + "//..." or
    # "@envoy//...".
    ("@envoy//bazel:envoy_build_system.bzl", "envoy_cc_library"): {"repos": ["envoy"]},
    ("@envoy//bazel:envoy_build_system.bzl", "envoy_cc_extension"): {"repos": ["envoy"]},
    ("@envoy//bazel:envoy_build_system.bzl", "envoy_cc_binary"): {"repos": ["envoy"]},
    # envoy bazel/envoy_build_system.bzl: envoy_package(default_visibility =
    # ["//visibility:public"]).
    ("@envoy//bazel:envoy_build_system.bzl", "envoy_package"): {"repos": []},
    # Same file: envoy_extension_package(enabled_default = True, default_visibility =
    # EXTENSION_PACKAGE_VISIBILITY), which @envoy_build_config's extensions_build_config.bzl sets
    # to ["//:extension_library"]: a package group of the calling repository.
    ("@envoy//bazel:envoy_build_system.bzl", "envoy_extension_package"): {
        "repos": [],
        "local": [("//:extension_library", "default_visibility")],
    },
}

# Repositories Envoy's WORKSPACE setup functions define, for names bazel/workspace.bazelrc may
# use (WORKSPACE mode has no MODULE.bazel mapping): envoy bazel/toolchains.bzl envoy_toolchains()
# defines @clang_platform (issue 15; bazel/tests/external/WORKSPACE calls it), envoy
# bazel/repo.bzl envoy_repo() defines @envoy_repo.
WORKSPACE_MACRO_REPOS = {
    "envoy_toolchains": ["clang_platform"],
    "envoy_repo": ["envoy_repo"],
}

# Flags Envoy 1.40.0 removed: "The --@envoy//bazel:libc++ and --@envoy//bazel:libstdc++ flags
# and the force_libcpp define have been removed" (envoy changelogs/1.40.0.yaml). .bazelrc (1.40,
# bzlmod) must not set them; WORKSPACE mode gets them from Envoy 1.38/1.39's own .bazelrc.
REMOVED_IN_1_40 = [
    (re.compile(r"--@envoy//bazel:libc\+\+(?![\w_])"), "--@envoy//bazel:libc++"),
    (re.compile(r"--@envoy//bazel:libstdc\+\+(?![\w_])"), "--@envoy//bazel:libstdc++"),
    (re.compile(r"force_libcpp"), "the force_libcpp define"),
]

REPO_RE = re.compile(r"(?<![@\w])@([A-Za-z0-9_.+\-]+)(?=//|:|\s|$|\"|'|,|\))")
CALL_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

findings = []


def finding(path, line, message):
    findings.append("%s:%d: %s" % (os.path.relpath(path, ROOT), line, message))


def parse(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    try:
        return ast.parse(text, filename=path), text
    except SyntaxError as e:
        finding(path, e.lineno or 1, "cannot parse as Starlark: %s" % e.msg)
        return None, text


def const_str(node):
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def kwargs_of(call):
    return {k.arg: k.value for k in call.keywords if k.arg}


def repos_in(text):
    return set(REPO_RE.findall(text))


def tracked_files(patterns):
    out = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "--"] + patterns,
        cwd=ROOT, check=True, capture_output=True, text=True).stdout
    return [os.path.join(ROOT, p) for p in out.splitlines() if os.path.exists(os.path.join(ROOT, p))]


def calls(tree):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            yield node


def loads(tree):
    """{local name: (file label, exported name)} for every load() in a BUILD/.bzl/WORKSPACE file."""
    out = {}
    for call in calls(tree):
        if isinstance(call.func, ast.Name) and call.func.id == "load" and call.args:
            label = const_str(call.args[0])
            for arg in call.args[1:]:
                name = const_str(arg)
                if name:
                    out[name] = (label, name, call.lineno)
            for k in call.keywords:
                exported = const_str(k.value)
                if exported:
                    out[k.arg] = (label, exported, call.lineno)
    return out


class Module:
    """What MODULE.bazel declares."""

    def __init__(self, path):
        self.path = path
        self.repos = set(BUILTIN_REPOS)
        self.tree, _ = parse(path)
        self.extensions = {}  # variable -> (bzl label, extension name)
        if not self.tree:
            return
        for call in calls(self.tree):
            fn = call.func
            kw = kwargs_of(call)
            if isinstance(fn, ast.Name) and fn.id == "module" and const_str(kw.get("name")):
                self.repos.add(const_str(kw["name"]))
            elif isinstance(fn, ast.Name) and fn.id == "bazel_dep":
                self.repos.add(const_str(kw.get("repo_name")) or const_str(kw.get("name")))
            elif isinstance(fn, ast.Name) and fn.id == "use_repo":
                self.repos.update(const_str(a) for a in call.args[1:] if const_str(a))
                self.repos.update(k.arg for k in call.keywords if k.arg)
            elif isinstance(fn, ast.Name) and fn.id == "use_repo_rule":
                pass
        for node in ast.walk(self.tree):
            if (isinstance(node, ast.Assign) and len(node.targets) == 1 and
                    isinstance(node.targets[0], ast.Name) and isinstance(node.value, ast.Call) and
                    isinstance(node.value.func, ast.Name) and node.value.func.id == "use_extension"):
                args = [const_str(a) for a in node.value.args]
                self.extensions[node.targets[0].id] = tuple(args[:2])
            # A repository a use_repo_rule() call creates: `name = ...` of the rule's call.
        self.repos.discard(None)

    def check_crate_universes(self):
        """crate.spec/crate.annotation must name the crate universes they belong to."""
        if not self.tree:
            return
        by_var = {}
        for call in calls(self.tree):
            fn = call.func
            if (isinstance(fn, ast.Attribute) and isinstance(fn.value, ast.Name) and
                    self.extensions.get(fn.value.id, (None,))[0] == "@rules_rust//crate_universe:extensions.bzl"):
                by_var.setdefault(fn.value.id, []).append((fn.attr, call))
        for var, tags in by_var.items():
            universes = {const_str(kwargs_of(c).get("name")) for t, c in tags if t in ("from_cargo", "from_specs")}
            for tag, call in tags:
                if tag not in ("spec", "annotation"):
                    continue
                kw = kwargs_of(call)
                what = const_str(kw.get("package")) or const_str(kw.get("crate")) or "?"
                repos = kw.get("repositories")
                if repos is None:
                    finding(self.path, call.lineno,
                            "%s.%s(%s) has no `repositories`: it joins every crate universe of this "
                            "module (%s); name the one it belongs to" % (var, tag, what, ", ".join(sorted(universes))))
                    continue
                names = [const_str(e) for e in getattr(repos, "elts", [])]
                for name in names:
                    if name not in universes:
                        finding(self.path, call.lineno,
                                "%s.%s(%s) names repository %r, which no %s.from_cargo/from_specs "
                                "defines" % (var, tag, what, name, var))


def check_rc(path, declared, where):
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            text = line.split("#", 1)[0] if line.lstrip().startswith("#") else line
            if line.lstrip().startswith("#"):
                continue
            for repo in sorted(repos_in(text)):
                if repo not in declared:
                    finding(path, n, "flag names repository @%s, which %s" % (repo, where))


def check_removed_flags(path):
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if line.lstrip().startswith("#"):
                continue
            for pattern, what in REMOVED_IN_1_40:
                if pattern.search(line):
                    finding(path, n, "%s was removed in Envoy 1.40.0 (changelogs/1.40.0.yaml)" % what)


def check_starlark_labels(path, tree, declared, where):
    for node in ast.walk(tree):
        s = const_str(node)
        if s is None or "@" not in s:
            continue
        for repo in sorted(repos_in(s)):
            if repo not in declared:
                finding(path, node.lineno, "names repository @%s, which %s" % (repo, where))


def local_label_exists(label):
    pkg, _, name = label[2:].partition(":")
    for build in ("BUILD", "BUILD.bazel"):
        p = os.path.join(ROOT, pkg, build)
        if os.path.exists(p):
            with open(p, encoding="utf-8") as f:
                if re.search(r'name\s*=\s*"%s"' % re.escape(name), f.read()):
                    return True
    return False


def envoy_macro_calls(path, tree):
    """(call, file label, exported name) for every call of a function loaded from Envoy."""
    loaded = loads(tree)
    for call in calls(tree):
        if isinstance(call.func, ast.Name) and call.func.id in loaded:
            label, exported, _ = loaded[call.func.id]
            if label and (label.startswith("@envoy//") or label.startswith("@envoy_api//")):
                yield call, label, exported


def check_build_file(path, declared):
    tree, _ = parse(path)
    if not tree:
        return
    check_starlark_labels(path, tree, declared, "MODULE.bazel does not declare")
    for call, label, exported in envoy_macro_calls(path, tree):
        entry = KNOWN_EXPANSIONS.get((label, exported))
        if entry is None:
            finding(path, call.lineno,
                    "%s from %s has no entry in ci/check-bazel-repos.py KNOWN_EXPANSIONS: read what it "
                    "expands to in Envoy's source and add it" % (exported, label))
            continue
        for repo in entry["repos"]:
            if repo not in declared:
                finding(path, call.lineno,
                        "%s (%s) expands to labels in repository @%s, which MODULE.bazel does not "
                        "declare" % (exported, label, repo))
        kw = kwargs_of(call)
        for local, replaced_by in entry.get("local", []):
            if replaced_by and replaced_by in kw:
                continue
            if not local_label_exists(local):
                finding(path, call.lineno,
                        "%s (%s) names %s, which resolves in this repository and does not exist "
                        "here%s" % (exported, label, local,
                                    "; pass %s" % replaced_by if replaced_by else ""))


# --- against one release's source --------------------------------------------------------------

def envoy_defs(src):
    """{function name: (parameter names, takes **kwargs)} for every def in Envoy's .bzl files."""
    out = {}
    for top in ("bazel", os.path.join("api", "bazel")):
        for dirpath, _, files in os.walk(os.path.join(src, top)):
            for fname in files:
                if not fname.endswith(".bzl"):
                    continue
                with open(os.path.join(dirpath, fname), encoding="utf-8", errors="replace") as f:
                    text = f.read()
                try:
                    tree = ast.parse(text)
                except SyntaxError:
                    continue
                for node in tree.body:
                    if isinstance(node, ast.FunctionDef):
                        params = {a.arg for a in node.args.args + node.args.kwonlyargs}
                        out.setdefault(node.name, (params, node.args.kwarg is not None))
                    elif (isinstance(node, ast.Assign) and len(node.targets) == 1 and
                          isinstance(node.targets[0], ast.Name) and isinstance(node.value, ast.Name)):
                        # envoy_cc_test = _envoy_cc_test: resolved below.
                        out.setdefault("=" + node.targets[0].id, node.value.id)
    for key in [k for k in out if k.startswith("=")]:
        target = out.pop(key)
        if target in out and not target.startswith("="):
            out.setdefault(key[1:], out[target])
    return out


def check_calls_against(path, tree, defs, version, only_loaded_from_envoy=True):
    for call, label, exported in envoy_macro_calls(path, tree):
        sig = defs.get(exported)
        if sig is None:
            finding(path, call.lineno, "%s (%s) is not defined in Envoy %s's source" % (exported, label, version))
            continue
        params, takes_any = sig
        for k in call.keywords:
            if k.arg and k.arg not in params and not takes_any:
                finding(path, call.lineno,
                        "%s (%s) in Envoy %s takes no argument %r" % (exported, label, version, k.arg))


def envoy_target_exists(src, pkg, name):
    """Whether Envoy's BUILD file in pkg declares name: as `name = "..."`, or as a quoted string a
    macro gets (Envoy declares some targets through macros), or, for a toolchain's generated
    `<name>_definition`, its base name."""
    candidates = [name]
    if name.endswith("_definition"):
        candidates.append(name[: -len("_definition")])
    for build in ("BUILD", "BUILD.bazel"):
        p = os.path.join(src, pkg, build)
        if os.path.exists(p):
            with open(p, encoding="utf-8", errors="replace") as f:
                text = f.read()
            if any('"%s"' % c in text for c in candidates):
                return True
    return False


def check_envoy_labels_in_rc(path, src, version):
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if line.lstrip().startswith("#"):
                continue
            for pkg, name in re.findall(r"@envoy//([A-Za-z0-9_/.\-]*):([A-Za-z0-9_+.\-]+)", line):
                if not envoy_target_exists(src, pkg, name):
                    finding(path, n, "@envoy//%s:%s does not exist in Envoy %s" % (pkg, name, version))


def setup_calls(tree):
    """[(function, line)] for top-level calls of functions loaded from @envoy in a WORKSPACE."""
    loaded = loads(tree)
    out = []
    for node in tree.body:
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
            fn = node.value.func
            if isinstance(fn, ast.Name) and fn.id in loaded and (loaded[fn.id][0] or "").startswith("@envoy//"):
                out.append((fn.id, node.lineno))
    return out


def check_against_envoy(src, mode, version, build_trees):
    defs = envoy_defs(src)
    if not defs:
        finding(os.path.join(src, "bazel"), 1, "no Envoy .bzl definitions found under %s" % src)
        return
    for path, tree in build_trees:
        check_calls_against(path, tree, defs, version)
    if mode == "bzlmod":
        check_envoy_labels_in_rc(os.path.join(ROOT, ".bazelrc"), src, version)
        return
    # WORKSPACE mode.
    ws_path = os.path.join(ROOT, "WORKSPACE")
    ws_tree, _ = parse(ws_path)
    if ws_tree:
        check_calls_against(ws_path, ws_tree, defs, version)
        ours = {fn for fn, _ in setup_calls(ws_tree)}
        consumer = os.path.join(src, "bazel", "tests", "external", "WORKSPACE")
        if os.path.exists(consumer):
            c_tree, _ = parse(consumer)
            for fn, line in setup_calls(c_tree) if c_tree else []:
                if fn not in ours:
                    finding(ws_path, 1,
                            "Envoy %s's consumer setup (bazel/tests/external/WORKSPACE:%d) calls %s(); "
                            "this WORKSPACE does not" % (version, line, fn))
        else:
            finding(ws_path, 1, "Envoy %s has no bazel/tests/external/WORKSPACE to compare with" % version)
    check_envoy_labels_in_rc(os.path.join(ROOT, "bazel", "workspace.bazelrc"), src, version)
    with open(os.path.join(ROOT, "bazel", "workspace.bazelrc"), encoding="utf-8") as f:
        selected = [(n, m.group(1)) for n, line in enumerate(f, 1)
                    for m in [re.match(r"\s*\w+\s+--config=(\S+)", line)] if m]
    with open(os.path.join(src, ".bazelrc"), encoding="utf-8", errors="replace") as f:
        envoy_rc = f.read()
    for n, config in selected:
        if not re.search(r"^\w+:%s\s" % re.escape(config), envoy_rc, re.M):
            finding(os.path.join(ROOT, "bazel", "workspace.bazelrc"), n,
                    "--config=%s is not defined in Envoy %s's .bazelrc" % (config, version))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--envoy-src", help="verified Envoy source of the release being built")
    ap.add_argument("--mode", choices=["bzlmod", "workspace"], help="with --envoy-src")
    ap.add_argument("--version", default="?", help="the Envoy version, for messages")
    args = ap.parse_args()

    module = Module(os.path.join(ROOT, "MODULE.bazel"))
    declared = module.repos
    module.check_crate_universes()
    if module.tree:
        check_starlark_labels(module.path, module.tree, declared, "MODULE.bazel does not declare")

    check_rc(os.path.join(ROOT, ".bazelrc"), declared, "MODULE.bazel does not declare")
    check_removed_flags(os.path.join(ROOT, ".bazelrc"))

    # WORKSPACE mode has no repo mapping: its flags may name what MODULE.bazel declares (the same
    # BUILD files serve both modes) or what WORKSPACE defines, directly or through the Envoy setup
    # functions in WORKSPACE_MACRO_REPOS.
    ws_repos = set(declared)
    ws_path = os.path.join(ROOT, "WORKSPACE")
    ws_tree, _ = parse(ws_path)
    if ws_tree:
        for call in calls(ws_tree):
            name = const_str(kwargs_of(call).get("name"))
            if name:
                ws_repos.add(name)
            if isinstance(call.func, ast.Name):
                ws_repos.update(WORKSPACE_MACRO_REPOS.get(call.func.id, []))
    check_rc(os.path.join(ROOT, "bazel", "workspace.bazelrc"), ws_repos,
             "neither MODULE.bazel nor WORKSPACE (or an Envoy setup function it calls) defines")

    build_trees = []
    for path in tracked_files(["BUILD", "*/BUILD", "BUILD.bazel", "*/BUILD.bazel", "*.bzl"]):
        if path.endswith(".bzl"):
            tree, _ = parse(path)
            if tree:
                check_starlark_labels(path, tree, declared, "MODULE.bazel does not declare")
            continue
        check_build_file(path, declared)
        tree, _ = parse(path)
        if tree:
            build_trees.append((path, tree))

    if args.envoy_src:
        if not args.mode:
            ap.error("--envoy-src needs --mode")
        check_against_envoy(os.path.abspath(args.envoy_src), args.mode, args.version, build_trees)

    for line in findings:
        print(line, file=sys.stderr)
    if findings:
        print("check-bazel-repos: %d finding(s)" % len(findings), file=sys.stderr)
        return 1
    print("check-bazel-repos: every repository named is declared (%d declared in MODULE.bazel)" % len(declared - BUILTIN_REPOS))
    return 0


if __name__ == "__main__":
    sys.exit(main())
