"""A snapshot directory as a write target: SQL writes become tidy YAML files (GitOps).

INSERT writes ``<dir>/<cluster>/<namespace>/<kind-lower>-<name>.yaml`` (a cluster that is the
directory's top level gets ``<dir>/<namespace>_<kind-lower>-<name>.yaml``), UPDATE rewrites the
object where it is, DELETE removes its file, or its document from a multi-document file or List.
Files are written with PyYAML ``safe_dump(sort_keys=False)``, so a diff shows only what changed.

Every object was checked against its CRD's schema and Chaos Mesh's admission rules before it gets
here (``chaosql.writers.validate``); validation adds what the API server would check first: a name,
a namespace, a kind chaosql knows, and that the object does not exist yet (or still does).
Each file's earlier content is kept until the statement ends, so ``undo`` restores it exactly.
"""

from __future__ import annotations

import contextlib
import copy
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chaosql.errors import WriteRefused
from chaosql.sources.base import CallLog
from chaosql.writers.plan import ObjectRef, TargetError

if TYPE_CHECKING:
    from chaosql.sources.snapshot import SnapshotSource

_DNS_NAME = re.compile(r"[a-z0-9]([-a-z0-9.]*[a-z0-9])?")


def check_writable(source: SnapshotSource) -> None:
    """Refuse sources whose files must not change: the bundled demo data, a single file."""
    from chaosql.sources import DEMO_PATH

    path = source.path.resolve()
    if path == DEMO_PATH.resolve() or DEMO_PATH.resolve() in path.parents:
        raise WriteRefused(
            f"snapshot {source.name}: the demo data ships with chaosql and is read-only",
            hint=f"copy it (cp -r {DEMO_PATH} DIR) and use --source snapshot:DIR",
        )
    if not path.is_dir():
        raise WriteRefused(
            f"snapshot {source.name}: {path} is a single file; writes need a snapshot directory",
            hint="split it into a directory (one sub-directory per cluster) and use snapshot:DIR",
        )


class SnapshotTarget:
    """Writes to the files of one ``SnapshotSource`` (a directory)."""

    checks = "a check against the snapshot's files (required fields, names in use); no server is asked"

    def __init__(self, source: SnapshotSource) -> None:
        check_writable(source)
        self.source = source
        self.root = source.path
        self.label = f"snapshot {source.name}"
        self._saved: dict[Path, str | None] = {}  # file -> content before this statement (None: absent)
        self._created: dict[ObjectRef, Path] = {}  # files this statement created, before reload

    # --- the Target protocol ------------------------------------------------------------------

    def path(self, ref: ObjectRef, *, collection: bool = False) -> str:
        return str(self._file_of(ref) or self._new_file(ref))

    def create(self, ref: ObjectRef, obj: dict, *, dry_run: bool, log: CallLog | None = None) -> dict:
        with self._noted(log, "POST", ref, dry_run):
            return self._create(ref, obj, dry_run=dry_run)

    def patch(self, ref: ObjectRef, patch: dict, *, dry_run: bool, log: CallLog | None = None) -> dict:
        with self._noted(log, "PATCH", ref, dry_run):
            return self._patch(ref, patch, dry_run=dry_run)

    def delete(
        self, ref: ObjectRef, *, preconditions: dict | None, dry_run: bool, log: CallLog | None = None
    ) -> dict | None:
        with self._noted(log, "DELETE", ref, dry_run):
            file, docs, found = self._locate(ref)
            if not dry_run:
                self._rewrite(file, docs, found, None)
            return None

    def get(self, ref: ObjectRef, *, log: CallLog | None = None) -> dict | None:
        try:
            return self._locate(ref)[2]
        except TargetError:
            return None

    @contextlib.contextmanager
    def _noted(self, log: CallLog | None, method: str, ref: ObjectRef, dry_run: bool) -> Iterator[None]:
        """Record the file change in the statement's log (``-v`` lists files like API calls)."""
        what = f"{method} {self.path(ref)}" + (" (checked, not written)" if dry_run else "")
        with (log if log is not None else CallLog()).timed(self.source.name, ref.cluster, what) as call:
            yield
            call.items = 1

    def _create(self, ref: ObjectRef, obj: dict, *, dry_run: bool) -> dict:
        self._check_fields(obj, ref)
        if self._file_of(ref) is not None:
            raise TargetError(409, "AlreadyExists", f'{ref.kind} "{ref.name}" already exists in {self._file_of(ref)}')
        if dry_run:
            return obj
        file = self._new_file(ref)
        if file.exists():
            raise TargetError(409, "AlreadyExists", f"{file} exists already (it holds other objects)")
        self._save(file)
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(_dump([obj]), encoding="utf-8")
        self._created[ref] = file
        return obj

    def _patch(self, ref: ObjectRef, patch: dict, *, dry_run: bool) -> dict:
        file, docs, found = self._locate(ref)
        patch = copy.deepcopy(patch)
        (patch.get("metadata") or {}).pop("resourceVersion", None)  # files have no optimistic locking
        new = apply_merge_patch(copy.deepcopy(found), patch)
        if dry_run:
            return new
        self._rewrite(file, docs, found, new)
        return new

    # --- statement end ------------------------------------------------------------------------

    def restore(self, ref: ObjectRef, *, log: CallLog | None = None) -> None:
        """Put back the file that held ``ref`` as it was before this statement (undo of a patch
        or a delete: operations are undone in reverse order, so this is exact)."""
        file = self.source.origin.get((ref.cluster, ref.kind, ref.namespace, ref.name))
        if file is None or file not in self._saved:
            raise NotImplementedError(f"no saved copy of {ref}")
        text = self._saved[file]
        with (log if log is not None else CallLog()).timed(self.source.name, ref.cluster, f"RESTORE {file}"):
            if text is not None:
                file.write_text(text, encoding="utf-8")

    def finish(self) -> None:
        self._saved.clear()
        self._created.clear()
        self.source.reload()

    # --- files --------------------------------------------------------------------------------

    def _file_of(self, ref: ObjectRef) -> Path | None:
        if ref in self._created:
            return self._created[ref]
        self.source.clusters()  # loads the files, filling origin
        return self.source.origin.get((ref.cluster, ref.kind, ref.namespace, ref.name))

    def _new_file(self, ref: ObjectRef) -> Path:
        base = f"{ref.kind.lower()}-{ref.name}.yaml"
        if ref.cluster == self.source.name and not (self.root / ref.cluster).is_dir():
            return self.root / f"{ref.namespace}_{base}"  # the top level is this cluster
        return self.root / ref.cluster / ref.namespace / base

    def _locate(self, ref: ObjectRef) -> tuple[Path, list, dict]:
        file = self._file_of(ref)
        if file is None or not file.exists():
            raise TargetError(404, "NotFound", f'{ref.kind} "{ref.name}" not found in {self.label}')
        docs = _load(file)
        for obj in _walk(docs):
            meta = obj.get("metadata") or {}
            if (
                obj.get("kind") == ref.kind
                and meta.get("name") == ref.name
                and (meta.get("namespace") or "") == ref.namespace
            ):
                return file, docs, obj
        raise TargetError(404, "NotFound", f'{ref.kind} "{ref.name}" is no longer in {file}')

    def _save(self, file: Path) -> None:
        if file not in self._saved:
            self._saved[file] = file.read_text(encoding="utf-8") if file.exists() else None

    def _rewrite(self, file: Path, docs: list, old: dict, new: dict | None) -> None:
        """Replace (or drop, when ``new`` is None) ``old`` in the file's documents."""
        self._save(file)
        docs = _replace(docs, old, new)
        if not docs:
            file.unlink()
            return
        if file.suffix == ".json":
            body = docs[0] if len(docs) == 1 else {"apiVersion": "v1", "kind": "List", "items": docs}
            file.write_text(json.dumps(body, indent=2) + "\n", encoding="utf-8")
        else:
            file.write_text(_dump(docs), encoding="utf-8")

    def _check_fields(self, obj: dict, ref: ObjectRef) -> None:
        from chaosql.sources.snapshot import known_kind

        if not known_kind(obj.get("apiVersion") or "", ref.kind):
            raise TargetError(422, "Invalid", f"kind {ref.kind!r} is not a Chaos Mesh kind chaosql knows")
        if not ref.name or not _DNS_NAME.fullmatch(ref.name) or len(ref.name) > 253:
            raise TargetError(422, "Invalid", f"metadata.name {ref.name!r}: must be a lower-case DNS name")
        if not ref.namespace or not _DNS_NAME.fullmatch(ref.namespace):
            raise TargetError(422, "Invalid", f"metadata.namespace {ref.namespace!r}: must be a lower-case DNS label")
        if not isinstance(obj.get("spec"), dict) or not obj["spec"]:
            raise TargetError(422, "Invalid", "spec: Required value")


def _load(file: Path) -> list:
    text = file.read_text(encoding="utf-8")
    if file.suffix == ".json":
        return [json.loads(text)]
    import yaml

    return [d for d in yaml.safe_load_all(text) if d is not None]


def _walk(docs: list):
    for doc in docs:
        if isinstance(doc, dict) and isinstance(doc.get("items"), list) and str(doc.get("kind", "")).endswith("List"):
            yield from _walk(doc["items"])
        elif isinstance(doc, dict):
            yield doc


def _replace(docs: list, old: dict, new: dict | None) -> list:
    out = []
    for doc in docs:
        if doc is old:
            if new is not None:
                out.append(new)
        elif isinstance(doc, dict) and isinstance(doc.get("items"), list) and str(doc.get("kind", "")).endswith("List"):
            doc = {**doc, "items": _replace(doc["items"], old, new)}
            out.append(doc)
        else:
            out.append(doc)
    return out


def _dump(docs: list[Any]) -> str:
    import yaml

    return yaml.safe_dump_all(docs, sort_keys=False, default_flow_style=False, allow_unicode=True, width=100)


def apply_merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch.

    >>> apply_merge_patch({"a": {"b": 1, "c": 2}}, {"a": {"b": None, "d": 3}})
    {'a': {'c': 2, 'd': 3}}
    """
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if not isinstance(target, dict):
        target = {}
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        else:
            target[key] = apply_merge_patch(target.get(key), value)
    return target


__all__ = ["SnapshotTarget", "apply_merge_patch", "check_writable"]
