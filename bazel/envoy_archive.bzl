"""Envoy's source archive for the WORKSPACE builds (Envoy 1.38.3, 1.39.3).

The version comes from `--repo_env=ENVOYX_ENVOY_VERSION=...` and its URL and sha256 from
bazel/envoy-versions.tsv, the one table `ci/bazel-build.sh` reads too. An unpinned sha256 is
refused: Bazel never builds an unverified Envoy.
"""

_VERSION_ENV = "ENVOYX_ENVOY_VERSION"

def _envoy_archive_impl(ctx):
    version = ctx.os.environ.get(_VERSION_ENV, "")
    if not version:
        fail("set --repo_env=%s to one of the versions in bazel/envoy-versions.tsv" % _VERSION_ENV)
    for line in ctx.read(ctx.attr.versions).splitlines():
        if not line or line.startswith("#"):
            continue
        fields = line.split("\t")
        if fields[0] != version:
            continue
        mode, url, sha256 = fields[1], fields[2], fields[3]
        if mode != "workspace":
            fail("Envoy %s builds with bzlmod (MODULE.bazel), not WORKSPACE" % version)
        if sha256 == "UNPINNED":
            fail("Envoy %s: the archive sha256 is not pinned in bazel/envoy-versions.tsv" % version)
        ctx.download_and_extract(url = url, sha256 = sha256, stripPrefix = "envoy-" + version)
        return
    fail("Envoy %s is not in bazel/envoy-versions.tsv" % version)

envoy_archive = repository_rule(
    implementation = _envoy_archive_impl,
    attrs = {"versions": attr.label(default = "//bazel:envoy-versions.tsv")},
    environ = [_VERSION_ENV],
)
