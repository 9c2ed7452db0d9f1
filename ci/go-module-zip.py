#!/usr/bin/env python3
"""Writes a Go module as a module proxy serves it (GOPROXY=file://PROXY), the layout
`go help goproxy` describes: PROXY/<module>/@v/{list, <version>.info, <version>.mod, <version>.zip}.

The zip holds the module's files as `go mod download` expects them (golang.org/x/mod/zip's
rules): every file under DIR that git tracks or would (not ignored), at `<module>@<version>/<path>`, except directories
that hold a go.mod of their own (other modules) and vendor/ directories. Go computes the h1:
checksum it records in go.sum from these contents.

Usage: go-module-zip.py DIR MODULE VERSION PROXY
"""
import json
import os
import subprocess
import sys
import zipfile

def main():
    directory, module, version, proxy = sys.argv[1:5]
    tracked = subprocess.run(
        ["git", "-C", directory, "ls-files", "-z", "--cached", "--others", "--exclude-standard", "."], check=True, capture_output=True
    ).stdout.decode().split("\0")
    tracked = sorted(path for path in tracked if path)
    nested = {os.path.dirname(p) for p in tracked if os.path.basename(p) == "go.mod" and os.path.dirname(p)}
    def inside_nested(path):
        return any(path == n or path.startswith(n + "/") for n in nested)
    files = [
        p for p in tracked
        if not inside_nested(p) and "vendor" not in p.split("/")[:-1]
    ]
    if "go.mod" not in files:
        sys.exit(f"go-module-zip.py: {directory} has no go.mod tracked by git")
    at = os.path.join(proxy, module, "@v")
    os.makedirs(at, exist_ok=True)
    with zipfile.ZipFile(os.path.join(at, version + ".zip"), "w", zipfile.ZIP_DEFLATED) as z:
        for path in files:
            z.write(os.path.join(directory, path), f"{module}@{version}/{path}")
    with open(os.path.join(directory, "go.mod"), "rb") as src, open(os.path.join(at, version + ".mod"), "wb") as dst:
        dst.write(src.read())
    with open(os.path.join(at, version + ".info"), "w") as info:
        # The time of the commit the files come from, as a tag's .info says it.
        time = subprocess.run(
            ["git", "-C", directory, "log", "-1", "--format=%cd", "--date=format-local:%Y-%m-%dT%H:%M:%SZ"],
            check=True, capture_output=True, env={**os.environ, "TZ": "UTC"},
        ).stdout.decode().strip()
        json.dump({"Version": version, "Time": time}, info)
    with open(os.path.join(at, "list"), "a") as listing:
        listing.write(version + "\n")
    print(f"{module} {version}: {len(files)} files")

if __name__ == "__main__":
    main()
