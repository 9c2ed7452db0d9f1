#!/usr/bin/env python3
"""Validates the Kubernetes manifests under deploy/kubernetes/ offline.

- Kubernetes' own kinds against the JSON schemas of Kubernetes 1.35.0 that the PyPI package
  kubernetes-validate carries, strictly (an unknown field is an error, as with
  `kubectl apply --validate=strict`).
- Custom resources against the openAPIV3Schema of their CRDs kept in deploy/kubernetes/schemas/
  (Envoy Gateway v1.9.0, Gateway API v1.6.1 standard, Istio 1.31.0-rc.0), just as strictly: an
  object with `properties` takes no other keys unless the CRD preserves unknown fields. The CRDs'
  CEL rules (x-kubernetes-validations) are not evaluated.
- Manifests under deploy/kubernetes/envoy-gateway/v1.10/ use Envoy Gateway v1.10's fields: the
  same schemas, with EnvoyExtensionPolicy's `spec.backends` added from
  schemas/envoy-gateway-v1.10-extension-backends.yaml (aliases unique, as its listType=map asks);
  every other manifest is held to v1.9.0, where `backends` is an unknown field.
- A document of a kind no schema covers is an error, not a skip.
- The EnvoyX configurations inside (an EnvoyExtensionPolicy's dynamicModule[].config, an
  EnvoyFilter's StringValue filter_config) are written, one JSON document per line, to the file
  given with --envoyx-configs, for `envoyx check-config` to parse with EnvoyX's own rules.

`--self-test` breaks copies of the manifests in known ways and fails unless each is caught.
"""

import argparse
import copy
import glob
import gzip
import json
import os
import sys

import jsonschema
import kubernetes_validate
import yaml

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
MANIFESTS = os.path.join(ROOT, "deploy", "kubernetes")
SCHEMAS = os.path.join(MANIFESTS, "schemas")
EG_V1_10 = os.path.join("deploy", "kubernetes", "envoy-gateway", "v1.10") + os.sep
EXTENSION_BACKENDS = os.path.join(SCHEMAS, "envoy-gateway-v1.10-extension-backends.yaml")
POLICY = ("gateway.envoyproxy.io/v1alpha1", "EnvoyExtensionPolicy")
KUBERNETES_VERSION = "1.35.0"


def strict(schema):
    """The CRD schema as JSON Schema that refuses unknown keys (and knows `nullable`)."""
    if isinstance(schema, list):
        return [strict(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    schema = {k: strict(v) for k, v in schema.items()}
    if schema.get("nullable") and isinstance(schema.get("type"), str):
        schema["type"] = [schema["type"], "null"]
    if schema.get("x-kubernetes-int-or-string"):
        schema.pop("type", None)
        schema["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    if (
        "properties" in schema
        and "additionalProperties" not in schema
        and not schema.get("x-kubernetes-preserve-unknown-fields")
    ):
        schema["additionalProperties"] = False
    return schema


def load_crds():
    """{(apiVersion, kind): JSON schema} for every served version of every CRD kept."""
    crds = {}
    for path in sorted(glob.glob(os.path.join(SCHEMAS, "**", "*.yaml.gz"), recursive=True)):
        with gzip.open(path, "rt", encoding="utf-8") as f:
            for doc in yaml.safe_load_all(f):
                if not doc or doc.get("kind") != "CustomResourceDefinition":
                    continue
                group, kind = doc["spec"]["group"], doc["spec"]["names"]["kind"]
                for version in doc["spec"]["versions"]:
                    schema = strict(version["schema"]["openAPIV3Schema"])
                    props = schema.setdefault("properties", {})
                    props["apiVersion"] = {"type": "string"}
                    props["kind"] = {"type": "string"}
                    props["metadata"] = {"type": "object"}
                    crds[(f"{group}/{version['name']}", kind)] = schema
    if not crds:
        sys.exit(f"validate-k8s: no CRDs under {SCHEMAS}")
    return crds


def with_extension_backends(crds):
    """`crds` with EnvoyExtensionPolicy's `spec.backends` (Envoy Gateway v1.10) added: the field
    from EXTENSION_BACKENDS, its `$same_as` parts taken from the v1.9.0 schema's own."""
    crds = dict(crds)
    policy = copy.deepcopy(crds[POLICY])
    spec = policy["properties"]["spec"]["properties"]

    def resolve(node):
        if isinstance(node, list):
            return [resolve(n) for n in node]
        if not isinstance(node, dict):
            return node
        if "$same_as" in node:
            found = spec
            for step in node["$same_as"]:
                found = found[step]
            return copy.deepcopy(found)
        return {k: resolve(v) for k, v in node.items()}

    with open(EXTENSION_BACKENDS, encoding="utf-8") as f:
        spec.update(strict(resolve(yaml.safe_load(f))))
    crds[POLICY] = policy
    return crds


def schemas_for(path, crds, crds_v1_10):
    """The schemas a manifest is held to: Envoy Gateway v1.10's under envoy-gateway/v1.10/."""
    return crds_v1_10 if path.startswith(EG_V1_10) else crds


def extension_backend_errors(doc):
    """`spec.backends` is a list keyed by name: a name given twice is refused."""
    if (doc.get("apiVersion"), doc.get("kind")) != POLICY:
        return []
    names = [b.get("name") for b in (doc.get("spec") or {}).get("backends") or [] if isinstance(b, dict)]
    return [f"spec/backends: the alias {n!r} is given more than once" for n in sorted(set(names)) if names.count(n) > 1]


def manifests(files=None):
    """[(file, index, document)] of every YAML document under deploy/kubernetes/ but schemas/,
    or of `files` (e.g. what `envoyx deploy` printed)."""
    docs = []
    paths = files or sorted(glob.glob(os.path.join(MANIFESTS, "**", "*.yaml"), recursive=True))
    for path in paths:
        if not files and path.startswith(SCHEMAS + os.sep):
            continue
        with open(path, encoding="utf-8") as f:
            for i, doc in enumerate(yaml.safe_load_all(f)):
                if doc:
                    docs.append((os.path.relpath(path, ROOT), i, doc))
    return docs


def errors(doc, crds):
    """Why `doc` is invalid: a list of messages, empty when it is valid."""
    key = (doc.get("apiVersion"), doc.get("kind"))
    if key in crds:
        validator = jsonschema.Draft7Validator(crds[key])
        found = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
        return [f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message[:300]}" for e in found]
    if "/" not in (key[0] or "") or key[0].split("/")[0] in ("apps", "batch", "policy"):
        try:
            kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
            return []
        except kubernetes_validate.SchemaNotFoundError:
            return [f"no schema for {key[0]} {key[1]} in Kubernetes {KUBERNETES_VERSION}"]
        except kubernetes_validate.ValidationError as e:
            where = "/".join(map(str, e.path)) or "(root)"
            return [f"{where}: {e.message[:300]}"]
    return [f"no schema for {key[0]} {key[1]}: add its CRD under deploy/kubernetes/schemas/"]


def istio_volume_errors(doc):
    """Istio's sidecar annotations carry volumes and mounts as JSON in strings: checked as the
    volumes and mounts of a Pod, so a misspelt field there is caught too."""
    annotations = doc.get("spec", {}).get("template", {}).get("metadata", {}).get("annotations", {})
    volumes = annotations.get("sidecar.istio.io/userVolume")
    mounts = annotations.get("sidecar.istio.io/userVolumeMount")
    if volumes is None and mounts is None:
        return []
    try:
        volumes, mounts = json.loads(volumes or "{}"), json.loads(mounts or "{}")
    except json.JSONDecodeError as e:
        return [f"sidecar.istio.io annotations: not JSON: {e}"]
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "istio-proxy-volumes"},
        "spec": {
            "containers": [
                {
                    "name": "istio-proxy",
                    "image": "istio/proxyv2",
                    "volumeMounts": [dict(mount, name=name) for name, mount in mounts.items()],
                }
            ],
            "volumes": [dict(volume, name=name) for name, volume in volumes.items()],
        },
    }
    found = errors(pod, {})
    missing = sorted(set(mounts) - set(volumes))
    if missing:
        found.append(f"userVolumeMount names volumes userVolume does not have: {missing}")
    return [f"sidecar.istio.io annotations: {message}" for message in found]


def envoyx_configs(doc):
    """The EnvoyX configurations (JSON text) a document carries."""
    kind = doc.get("kind")
    if kind == "EnvoyExtensionPolicy":
        for module in doc.get("spec", {}).get("dynamicModule", []):
            if "config" in module:
                yield json.dumps(module["config"])
    if kind == "EnvoyFilter":
        for patch in doc.get("spec", {}).get("configPatches", []):
            typed = patch.get("patch", {}).get("value", {}).get("typed_config", {})
            if typed.get("@type", "").endswith("DynamicModuleFilter"):
                value = typed.get("filter_config", {}).get("value")
                if value is not None:
                    yield value


def all_errors(path, doc, crds, crds_v1_10):
    found = errors(doc, schemas_for(path, crds, crds_v1_10)) + extension_backend_errors(doc)
    return found + (istio_volume_errors(doc) if doc.get("kind") == "Deployment" else [])


def validate(docs, crds, crds_v1_10, quiet=False):
    failed = 0
    for path, i, doc in docs:
        found = all_errors(path, doc, crds, crds_v1_10)
        name = doc.get("metadata", {}).get("name", "?")
        label = f"{path} #{i} {doc.get('kind')} {name}"
        if found:
            failed += 1
            for message in found:
                print(f"FAIL {label}: {message}")
        elif not quiet:
            print(f"ok   {label}")
    return failed


def self_test(docs, crds, crds_v1_10):
    """Each break must be caught; returns the number that were not."""

    def first(kind, v1_10=False):
        return next(
            copy.deepcopy(d) for p, _, d in docs if d.get("kind") == kind and p.startswith(EG_V1_10) == v1_10
        )

    v1_9, v1_10 = "self-test.yaml", EG_V1_10 + "self-test.yaml"
    breaks = []
    proxy = first("EnvoyProxy")
    proxy["spec"]["dynamicModules"][0]["sourc"] = proxy["spec"]["dynamicModules"][0].pop("source")
    breaks.append(("EnvoyProxy with a misspelt field", proxy, v1_9))
    proxy = first("EnvoyProxy")
    proxy["spec"]["dynamicModules"][0]["name"] = "envoyx_stock_host"
    breaks.append(("EnvoyProxy module name with an underscore", proxy, v1_9))
    gateway = first("Gateway")
    gateway["spec"]["listeners"][0]["port"] = "eighty"
    breaks.append(("Gateway port as a word", gateway, v1_9))
    policy = first("EnvoyExtensionPolicy")
    policy["spec"]["dynamicModule"][0]["filtername"] = "x"
    breaks.append(("EnvoyExtensionPolicy with an unknown field", policy, v1_9))
    envoy_filter = first("EnvoyFilter")
    envoy_filter["spec"]["configPatches"][0]["patch"]["operation"] = "INSERT_SOMEWHERE"
    breaks.append(("EnvoyFilter with an unknown operation", envoy_filter, v1_9))
    deployment = first("Deployment")
    deployment["spec"]["replicas"] = "two"
    breaks.append(("Deployment replicas as a word", deployment, v1_9))
    breaks.append(("a kind without a schema", {"apiVersion": "example.com/v1", "kind": "Widget"}, v1_9))
    deployment = first("Deployment")
    annotations = deployment["spec"]["template"]["metadata"]["annotations"]
    annotations["sidecar.istio.io/userVolume"] = annotations["sidecar.istio.io/userVolume"].replace(
        '"reference"', '"refrence"'
    )
    breaks.append(("a misspelt image volume in Istio's annotation", deployment, v1_9))
    # Envoy Gateway v1.10's spec.backends
    policy = first("EnvoyExtensionPolicy", v1_10=True)
    breaks.append(("a v1.10 manifest as it is, held to v1.9.0 (no spec.backends there)", policy, v1_9))
    policy = first("EnvoyExtensionPolicy", v1_10=True)
    policy["spec"]["backends"][0]["name"] = "AuthZ"
    breaks.append(("a backend alias that is no lowercase DNS label", policy, v1_10))
    policy = first("EnvoyExtensionPolicy", v1_10=True)
    policy["spec"]["backends"].append(copy.deepcopy(policy["spec"]["backends"][0]))
    breaks.append(("a backend alias given twice", policy, v1_10))
    policy = first("EnvoyExtensionPolicy", v1_10=True)
    policy["spec"]["backends"][0]["backendRef"]["prot"] = policy["spec"]["backends"][0]["backendRef"].pop("port")
    breaks.append(("a misspelt field in a backend's backendRef", policy, v1_10))
    policy = first("EnvoyExtensionPolicy", v1_10=True)
    policy["spec"]["backends"][0]["backendSettings"]["timeout"]["tcp"]["connectTimeout"] = 2
    breaks.append(("a backend's connectTimeout as a number", policy, v1_10))
    policy = first("EnvoyExtensionPolicy", v1_10=True)
    backend = policy["spec"]["backends"][0]
    policy["spec"]["backends"] = [dict(copy.deepcopy(backend), name=f"b{n}") for n in range(17)]
    breaks.append(("17 backends, each its own alias (16 at most)", policy, v1_10))
    missed = 0
    for what, doc, path in breaks:
        if all_errors(path, doc, crds, crds_v1_10):
            print(f"ok   caught: {what}")
        else:
            print(f"FAIL not caught: {what}")
            missed += 1
    return missed


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--self-test", action="store_true")
    parser.add_argument("--envoyx-configs", metavar="FILE")
    parser.add_argument("files", nargs="*", help="validate these manifests instead of deploy/kubernetes/")
    args = parser.parse_args()
    crds = load_crds()
    crds_v1_10 = with_extension_backends(crds)
    docs = manifests([os.path.abspath(f) for f in args.files])
    if not docs:
        sys.exit(f"validate-k8s: no manifests in {args.files or MANIFESTS}")
    if args.self_test:
        missed = self_test(docs, crds, crds_v1_10)
        sys.exit(1 if missed else 0)
    failed = validate(docs, crds, crds_v1_10)
    print(f"{len(docs) - failed} of {len(docs)} documents valid ({len(crds)} custom kinds known)")
    if args.envoyx_configs:
        with open(args.envoyx_configs, "w", encoding="utf-8") as out:
            for path, i, doc in docs:
                for config in envoyx_configs(doc):
                    out.write(json.dumps({"where": f"{path} #{i}", "config": config}) + "\n")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
