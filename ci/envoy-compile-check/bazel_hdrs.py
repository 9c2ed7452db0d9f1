#!/usr/bin/env python3
"""Crude check of Bazel's "undeclared inclusion" rule for the EnvoyX extension: is every Envoy
header that envoy/*.cc|h include directly declared (hdrs/srcs) by a target in the transitive
closure of the target's @envoy deps? Parses Envoy's BUILD files textually (envoy_cc_library,
envoy_cc_extension, envoy_cc_test_library, envoy_basic_cc_library, cc_library calls; select()
branches all taken, which over-approximates).

usage: bazel_hdrs.py ENVOY_TREE
"""
import os
import re
import sys

E = sys.argv[1]
CALL = re.compile(r'^(envoy_cc_library|envoy_cc_extension|envoy_cc_test_library|envoy_basic_cc_library|'
                  r'envoy_cc_posix_library|envoy_cc_linux_library|envoy_cc_platform_dep|cc_library|'
                  r'envoy_cc_mock|envoy_cc_posix_without_linux_library|envoy_cc_win32_library|'
                  r'envoy_quiche_platform_impl_cc_library|envoy_proto_library)\(', re.M)


def parse_call(src, start):
    depth = 0
    i = start
    while i < len(src):
        c = src[i]
        if c == '(':
            depth += 1
        elif c == ')':
            depth -= 1
            if depth == 0:
                return src[start:i + 1]
        elif c in '"\'':
            q = c
            i += 1
            while i < len(src) and src[i] != q:
                i += 1
        elif c == '#':
            while i < len(src) and src[i] != '\n':
                i += 1
        i += 1
    return src[start:]


def strings(s):
    return re.findall(r'"([^"]*)"', s)


def attr(body, name):
    m = re.search(r'\b' + name + r'\s*=\s*', body)
    if not m:
        return []
    i = m.end()
    # grab until the next top-level attr (a line starting with 4 spaces + name =) or end
    depth = 0
    j = i
    while j < len(body):
        c = body[j]
        if c in '([{':
            depth += 1
        elif c in ')]}':
            if depth == 0:
                break
            depth -= 1
        elif c == ',' and depth == 0:
            break
        elif c == '"':
            j += 1
            while j < len(body) and body[j] != '"':
                j += 1
        j += 1
    return strings(body[i:j])


targets = {}
for root, dirs, files in os.walk(E):
    if 'BUILD' not in files:
        continue
    pkg = os.path.relpath(root, E)
    if pkg.startswith(('api', 'bazel', 'test/', 'mobile', 'contrib', 'tools', 'docs', 'examples')):
        if not pkg.startswith('test/mocks') and not pkg.startswith('test/test_common'):
            continue
    src = open(os.path.join(root, 'BUILD')).read()
    for m in CALL.finditer(src):
        body = parse_call(src, m.end() - 1)
        names = re.findall(r'^\s*name\s*=\s*"([^"]+)"', body, re.M)
        if not names:
            continue
        name = names[0]
        files_ = set()
        for a in ('hdrs', 'srcs', 'textual_hdrs'):
            for f in attr(body, a):
                if f.startswith(':'):
                    continue
                files_.add(os.path.normpath(os.path.join(pkg, f)))
        # include_prefix: headers are also reachable under that prefix
        ip = attr(body, 'include_prefix')
        sp = attr(body, 'strip_include_prefix')
        if ip:
            for f in list(files_):
                base = f
                for s in sp:
                    pre = os.path.normpath(os.path.join(pkg, s)) + '/'
                    if f.startswith(pre):
                        base = f[len(pre):]
                        files_.add(os.path.join(ip[0], base))
        deps = []
        for d in attr(body, 'deps'):
            if d.startswith('@envoy//'):
                d = d[len('@envoy'):]
            if d.startswith(':'):
                d = '//' + pkg + d
            elif d.startswith('//') and ':' not in d:
                d = d + ':' + d.rsplit('/', 1)[-1]
            deps.append(d)
        targets['//' + pkg + ':' + name] = (files_, deps)


def closure(roots):
    seen = set()
    stack = list(roots)
    files_ = set()
    while stack:
        t = stack.pop()
        if t in seen:
            continue
        seen.add(t)
        if t not in targets:
            continue
        fs, ds = targets[t]
        files_ |= fs
        stack.extend(ds)
    return seen, files_


def check(label, deps, sources):
    roots = [d if ':' in d else d + ':' + d.rsplit('/', 1)[-1] for d in deps]
    missing_t = [r for r in roots if r not in targets]
    _, files_ = closure(roots)
    print(f"== {label}: {len(roots)} @envoy deps ({len(missing_t)} not found: {missing_t}), {len(files_)} files in closure")
    n = 0
    for s in sources:
        for inc in re.findall(r'^#include "((?:envoy|source|test)/[^"]+)"', open(s).read(), re.M):
            if inc.startswith('envoy/envoyx_'):
                continue
            n += 1
            if inc not in files_:
                print(f"   NOT IN CLOSURE: {inc}   (included by {os.path.basename(s)})")
    print(f"   {n} Envoy includes checked in {len(sources)} files")


PROJ = os.environ['PROJECT']
# The project's own targets, read from envoy/BUILD and envoy/test/BUILD (not hard-coded, so a split
# of the sources or a change of deps is followed): srcs+hdrs, @envoy deps, and local //envoy deps.
ptargets = {}
for pkg in ('envoy', 'envoy/test'):
    bsrc = open(os.path.join(PROJ, pkg, 'BUILD')).read()
    for m in re.finditer(r'^(envoy_cc_library|envoy_cc_extension|envoy_cc_test|envoy_cc_test_library)\(', bsrc, re.M):
        body = parse_call(bsrc, m.end() - 1)
        name = re.findall(r'^\s*name\s*=\s*"([^"]+)"', body, re.M)[0]
        files_ = [os.path.join(PROJ, pkg, f) for a in ('srcs', 'hdrs') for f in attr(body, a)
                  if not f.startswith((':', '/'))]
        edeps, ldeps = [], []
        for d in attr(body, 'deps'):
            if d.startswith('@envoy//'):
                edeps.append(d[len('@envoy'):])
            elif d.startswith(':'):
                ldeps.append('//' + pkg + d)
            elif d.startswith('//envoy'):
                ldeps.append(d)
        ptargets['//' + pkg + ':' + name] = (files_, edeps, ldeps)


def all_edeps(label, seen=None):
    seen = seen if seen is not None else set()
    if label in seen or label not in ptargets:
        return []
    seen.add(label)
    _, e, l = ptargets[label]
    out = list(e)
    for d in l:
        out += all_edeps(d, seen)
    return out


for label, (files_, _, _) in ptargets.items():
    deps = sorted(set(all_edeps(label)))
    check(label + ' (+ its //envoy deps)', deps, [f for f in files_ if f.endswith(('.cc', '.h'))])
