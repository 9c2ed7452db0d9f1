"""Envoy's source archive for the WORKSPACE builds (Envoy 1.38.3, 1.39.3).

The version comes from `--repo_env=ENVOYX_ENVOY_VERSION=...` and its URL, sha256 and commit
from bazel/envoy-versions.tsv, the one table `ci/bazel-build.sh` reads too. With a pinned sha256
the release archive is downloaded and checked; with an UNPINNED one the source is fetched with
git at exactly the pinned commit (git checks every object against it). Bazel never builds an
unverified Envoy.
"""

_REMOTE = "https://github.com/envoyproxy/envoy.git"

def _run(ctx, args):
    result = ctx.execute(args)
    if result.return_code != 0:
        fail("%s failed: %s" % (" ".join(args), result.stderr))
    return result.stdout.strip()

def _fetch_commit(ctx, commit):
    _run(ctx, ["git", "init", "-q", "."])
    _run(ctx, ["git", "fetch", "-q", "--depth", "1", _REMOTE, commit])
    _run(ctx, ["git", "checkout", "-q", "FETCH_HEAD"])
    head = _run(ctx, ["git", "rev-parse", "HEAD"])
    if head != commit:
        fail("fetched Envoy at %s, expected %s" % (head, commit))
    ctx.delete(".git")

    # Envoy stamps its binary from SOURCE_VERSION when there is no git checkout.
    ctx.file("SOURCE_VERSION", commit + "\n")

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
        mode, url, sha256, commit = fields[1], fields[2], fields[3], fields[4]
        if mode != "workspace":
            fail("Envoy %s builds with bzlmod (MODULE.bazel), not WORKSPACE" % version)
        if sha256 == "UNPINNED":
            _fetch_commit(ctx, commit)
        else:
            ctx.download_and_extract(url = url, sha256 = sha256, stripPrefix = "envoy-" + version)
            ctx.file("SOURCE_VERSION", commit + "\n")
        return
    fail("Envoy %s is not in bazel/envoy-versions.tsv" % version)

envoy_archive = repository_rule(
    implementation = _envoy_archive_impl,
    attrs = {"versions": attr.label(default = "//bazel:envoy-versions.tsv")},
    environ = [_VERSION_ENV],
)
