#!/usr/bin/env python3
"""Writes a CycloneDX 1.5 SBOM (JSON) of what a shipped binary of the workspace is built from:
PACKAGE and every crate it depends on for normal (not build- or dev-) use on TARGET, each with
its version, license expression, source and package URL, from `cargo metadata`'s resolved graph.

Usage: sbom.py PACKAGE TARGET OUT.json   (run in the workspace)
"""
import json
import subprocess
import sys
import uuid


def main():
    package, target, out = sys.argv[1:4]
    metadata = json.loads(subprocess.run(
        ["cargo", "metadata", "--format-version", "1", "--locked", "--filter-platform", target],
        check=True, capture_output=True).stdout)
    packages = {p["id"]: p for p in metadata["packages"]}
    nodes = {n["id"]: n for n in metadata["resolve"]["nodes"]}
    roots = [p for p in metadata["packages"] if p["name"] == package and p["source"] is None]
    if len(roots) != 1:
        sys.exit(f"sbom.py: no workspace package named {package}")
    root = roots[0]["id"]
    seen, todo = set(), [root]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        for dep in nodes[current]["deps"]:
            if any(kind["kind"] is None for kind in dep["dep_kinds"]):
                todo.append(dep["pkg"])

    def component(pid):
        p = packages[pid]
        entry = {
            "type": "library",
            "bom-ref": pid,
            "name": p["name"],
            "version": p["version"],
            "purl": f"pkg:cargo/{p['name']}@{p['version']}",
        }
        if p.get("license"):
            entry["licenses"] = [{"expression": p["license"]}]
        if p.get("source"):
            entry["externalReferences"] = [{"type": "distribution", "url": p["source"]}]
        return entry

    commit_time = subprocess.run(["git", "log", "-1", "--format=%cI"], capture_output=True).stdout.decode().strip()
    main_component = component(root)
    main_component["type"] = "application"
    sbom = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "serialNumber": f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, root + target)}",
        "version": 1,
        "metadata": {
            "timestamp": commit_time,
            "tools": [{"name": "ci/sbom.py (EnvoyX, from cargo metadata)"}],
            "component": main_component,
            "properties": [{"name": "target", "value": target}],
        },
        "components": [component(pid) for pid in sorted(seen - {root}, key=lambda i: (packages[i]["name"], packages[i]["version"]))],
        "dependencies": [
            {"ref": pid, "dependsOn": sorted(d["pkg"] for d in nodes[pid]["deps"]
                                             if d["pkg"] in seen and any(k["kind"] is None for k in d["dep_kinds"]))}
            for pid in sorted(seen)
        ],
    }
    with open(out, "w") as f:
        json.dump(sbom, f, indent=1)
    print(f"{out}: {package} and {len(seen) - 1} crates it is built from")


if __name__ == "__main__":
    main()
