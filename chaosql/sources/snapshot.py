"""Snapshot source: Kubernetes objects from YAML/JSON files, e.g. ``kubectl get ... -o yaml`` output.

A path is a file or a directory (read recursively, ``*.yaml``, ``*.yml``, ``*.json``). Files may hold
one object, several YAML documents, or a ``kind: List`` / ``*List`` as kubectl prints it. In a
directory, each top-level sub-directory is one cluster named after it; files at the top level
belong to a cluster named after the source. Unknown kinds are skipped and counted in one warning.
"""

from __future__ import annotations

import json
import os
import threading
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

from chaosql._gc import paused
from chaosql.errors import SourceError
from chaosql.sources.base import CallLog, ListFilter
from chaosql.sources.chaosmesh import CORE_KINDS, GROUP, is_experiment_kind

#: cluster -> kind -> objects (named here: inside SnapshotSource, ``list`` is its method)
Objects = dict[str, dict[str, list[dict]]]

CHAOS_MESH_KINDS = {"Schedule", "Workflow", "WorkflowNode", "PhysicalMachine", "StatusCheck"}
SUFFIXES = (".yaml", ".yml", ".json")


def known_kind(api_version: str, kind: str) -> bool:
    group = api_version.split("/")[0] if "/" in api_version else ""
    if group == GROUP:
        return is_experiment_kind(kind) or kind in CHAOS_MESH_KINDS
    return group == "" and kind in CORE_KINDS


class SnapshotSource:
    """Objects read once from files, then filtered in memory like a list call would."""

    family = "kube"
    kind_label = "snapshot"

    def __init__(self, path: str | os.PathLike, *, name: str | None = None) -> None:
        self.path = Path(path)
        self.name = name or self.path.stem or "snapshot"
        self.warnings: list[str] = []
        self._lock = threading.Lock()
        self._objects: Objects | None = None
        self.origin: dict[tuple[str, str, str, str], Path] = {}  # (cluster, kind, ns, name) -> file

    # --- the KubeLikeSource protocol ---------------------------------------------------------

    def describe(self) -> str:
        return f"{self.kind_label} {self.path}"

    def close(self) -> None:
        """Nothing to release: the files were read once and closed."""

    def clusters(self) -> list[str]:
        return sorted(self._load())

    def chaos_kinds(self, cluster: str) -> list[str]:
        return sorted(k for k in self._load().get(cluster, {}) if is_experiment_kind(k))

    def has_kind(self, cluster: str, kind: str) -> bool:
        return kind in self._load().get(cluster, {})

    def list(self, cluster: str, kind: str, flt: ListFilter, log: CallLog) -> list[dict]:
        with log.timed(self.name, cluster, f"scan {kind} where {flt.describe()}") as call:
            objs = self._load().get(cluster, {}).get(kind, [])
            if flt != ListFilter():
                objs = [o for o in objs if flt.matches(o)]
            call.items = len(objs)
        return objs

    # --- loading ----------------------------------------------------------------------------

    def _load(self) -> Objects:
        if self._objects is None:
            with self._lock:
                if self._objects is None:
                    with paused():
                        self._objects = self._read_all()
        return self._objects

    def reload(self) -> None:
        with self._lock:
            self._objects = None
            self.origin.clear()

    def _read_all(self) -> Objects:
        if not self.path.exists():
            raise SourceError(
                f"snapshot {self.name}: {self.path} does not exist",
                source=self.name,
                hint="pass an existing file or directory with --source snapshot:PATH",
            )
        objects: dict[str, dict[str, list[dict]]] = defaultdict(lambda: defaultdict(list))
        skipped: dict[str, int] = defaultdict(int)
        for cluster, file in self._files():
            for obj in _read_file(file, self.name):
                kind, api_version = obj.get("kind") or "", obj.get("apiVersion") or ""
                if not known_kind(api_version, kind):
                    skipped[kind or "(no kind)"] += 1
                    continue
                if not isinstance(obj.get("metadata"), dict) or not obj["metadata"].get("name"):
                    raise SourceError(f"snapshot {self.name}: {file}: a {kind} has no metadata.name", source=self.name)
                objects[cluster][kind].append(obj)
                meta = obj["metadata"]
                self.origin[(cluster, kind, meta.get("namespace") or "", meta["name"])] = file
        if skipped:
            detail = ", ".join(f"{n} {k}" for k, n in sorted(skipped.items()))
            self.warnings.append(
                f"snapshot {self.name}: skipped {sum(skipped.values())} objects of kinds chaosql does not read ({detail})"
            )
        return {c: dict(kinds) for c, kinds in objects.items()}

    def _files(self) -> Iterable[tuple[str, Path]]:
        if self.path.is_file():
            yield self.name, self.path
            return
        for entry in sorted(self.path.iterdir()):
            if entry.is_dir():
                for file in sorted(entry.rglob("*")):
                    if file.is_file() and file.suffix in SUFFIXES:
                        yield entry.name, file
            elif entry.suffix in SUFFIXES:
                yield self.name, entry


def _read_file(file: Path, source: str) -> Iterable[dict]:
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise SourceError(f"snapshot {source}: cannot read {file}: {err}", source=source) from err
    if file.suffix == ".json":
        try:
            docs: list = [json.loads(text)]
        except json.JSONDecodeError as err:
            raise SourceError(
                f"snapshot {source}: {file} line {err.lineno}: invalid JSON: {err.msg}", source=source
            ) from err
    else:
        docs = _yaml_docs(text, file, source)
    for doc in docs:
        yield from _objects(doc, file, source)


def _yaml_docs(text: str, file: Path, source: str) -> list:
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        return [d for d in yaml.load_all(text, Loader=loader) if d is not None]
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise SourceError(f"snapshot {source}: {file}{where}: invalid YAML: {problem}", source=source) from err


def _objects(doc, file: Path, source: str) -> Iterable[dict]:
    if not isinstance(doc, dict):
        raise SourceError(
            f"snapshot {source}: {file}: expected a Kubernetes object or List, found {type(doc).__name__}",
            source=source,
        )
    kind = doc.get("kind") or ""
    if kind == "List" or (kind.endswith("List") and isinstance(doc.get("items"), list)):
        item_kind = kind[: -len("List")] if kind != "List" else None
        for item in doc.get("items") or []:
            if isinstance(item, dict):
                if item_kind and not item.get("kind"):
                    item = {**item, "kind": item_kind, "apiVersion": doc.get("apiVersion", "")}
                yield from _objects(item, file, source)
        return
    yield doc
