"""A CRD manifest's schemas, compacted into a small JSON file chaosql loads at run time.

The Chaos Mesh manifest is 3 MB of YAML (half a second to parse): Schedule, Workflow and
WorkflowNode each embed every experiment kind's schema again. ``compact(manifest)`` keeps what
chaosql needs of each CustomResourceDefinition (group, storage version, plural, scope and the
``spec`` part of its openAPIV3Schema, descriptions included) and stores every sub-schema that
occurs more than once a single time, under ``shared``, replaced by ``{"$ref": "<id>"}`` where it
occurs. ``load`` resolves the references back into shared Python objects, so a loaded schema is
the manifest's own ``spec`` schema, equal to it key for key (a test checks this).

``python -m chaosql.crds`` rewrites ``schema.json`` beside each manifest; ``--check`` fails when
one is out of date.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import Counter
from pathlib import Path
from typing import Any

#: Sub-schemas shorter than this (as JSON) stay inline: a reference would not save much.
MIN_SHARED = 400


def crd_entries(docs: list[dict]) -> dict[str, dict]:
    """kind -> {group, version, plural, scope, spec} for each CustomResourceDefinition in ``docs``
    (the storage version's schema; the ``spec`` property only)."""
    out = {}
    for doc in docs:
        if not isinstance(doc, dict) or doc.get("kind") != "CustomResourceDefinition":
            continue
        entry = crd_entry(doc)
        if entry is not None:
            out[entry["kind"]] = entry
    return out


def crd_entry(crd: dict) -> dict | None:
    """One CustomResourceDefinition object (from a manifest or from the apiserver) -> its entry."""
    spec = crd.get("spec") or {}
    versions = spec.get("versions") or []
    version = next((v for v in versions if v.get("storage")), versions[0] if versions else None)
    if version is None:
        return None
    schema = ((version.get("schema") or {}).get("openAPIV3Schema") or {}).get("properties") or {}
    names = spec.get("names") or {}
    return {
        "kind": names.get("kind"),
        "group": spec.get("group"),
        "version": version.get("name"),
        "plural": names.get("plural"),
        "scope": spec.get("scope"),
        "spec": schema.get("spec") or {"type": "object"},
    }


def compact(manifest: Path) -> dict:
    """The compact form of ``manifest`` (see the module doc)."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    raw = manifest.read_bytes()
    entries = crd_entries(list(yaml.load_all(raw, Loader=loader)))
    counts: Counter[str] = Counter()
    for entry in entries.values():
        _count(entry["spec"], counts)
    shared: dict[str, Any] = {}
    ids: dict[str, str] = {}

    def squeeze(node: Any) -> Any:
        if isinstance(node, dict):
            key = _key(node)
            if counts[key] > 1 and len(key) >= MIN_SHARED:
                if key not in ids:
                    ids[key] = str(len(ids))
                    shared[ids[key]] = {k: squeeze(v) for k, v in node.items()}
                return {"$ref": ids[key]}
            return {k: squeeze(v) for k, v in node.items()}
        if isinstance(node, list):
            return [squeeze(v) for v in node]
        return node

    crds = {kind: {**entry, "spec": squeeze(entry["spec"])} for kind, entry in sorted(entries.items())}
    return {
        "manifest": manifest.name,
        "sha256": hashlib.sha256(raw).hexdigest(),
        "crds": crds,
        "shared": shared,
    }


def dumps(data: dict) -> str:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False) + "\n"


def load(path: Path) -> dict[str, dict]:
    """kind -> entry (as ``crd_entries`` gives it) from a compact file; each entry's ``spec`` is a
    function that resolves the references on first call (start-up only parses the JSON)."""
    data = json.loads(path.read_bytes())
    shared = data["shared"]
    done: set[str] = set()
    lock = threading.Lock()

    def resolve(node: Any) -> Any:
        """Replace references by the shared objects, in place (each shared object once)."""
        if isinstance(node, dict):
            for key, value in node.items():
                if isinstance(value, dict) and len(value) == 1 and "$ref" in value:
                    node[key] = shared_object(value["$ref"])
                else:
                    resolve(value)
        elif isinstance(node, list):
            for i, value in enumerate(node):
                if isinstance(value, dict) and len(value) == 1 and "$ref" in value:
                    node[i] = shared_object(value["$ref"])
                else:
                    resolve(value)
        return node

    def shared_object(ref: str) -> Any:
        if ref not in done:
            done.add(ref)
            resolve(shared[ref])
        return shared[ref]

    def thunk(entry: dict) -> Any:
        def spec() -> dict:
            with lock:
                node = entry["spec"]
                if len(node) == 1 and "$ref" in node:
                    return shared_object(node["$ref"])
                return resolve(node)

        return spec

    return {kind: {**entry, "spec": thunk(entry)} for kind, entry in data["crds"].items()}


def _key(node: dict) -> str:
    return json.dumps(node, sort_keys=True, separators=(",", ":"))


def _count(node: Any, counts: Counter[str]) -> None:
    if isinstance(node, dict):
        counts[_key(node)] += 1
        for value in node.values():
            _count(value, counts)
    elif isinstance(node, list):
        for value in node:
            _count(value, counts)
