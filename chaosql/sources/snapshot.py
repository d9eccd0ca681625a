"""Snapshot source: Kubernetes objects from YAML/JSON files, e.g. ``kubectl get ... -o yaml`` output.

A path is a file or a directory (read recursively, ``*.yaml``, ``*.yml``, ``*.json``). Files may hold
one object, several YAML documents, or a ``kind: List`` / ``*List`` as kubectl prints it. In a
directory, each top-level sub-directory is one cluster named after it; files at the top level
belong to a cluster named after the source. Unknown kinds are skipped and counted in one warning.

Only regular files are read (a FIFO or device is skipped with a warning), each read and checked by
``chaosql.sources.manifests``: bounded size, YAML without alias bombs or crashing depth, and the
fields the row shapers rely on of the right type, or an error naming the file and the field.
"""

from __future__ import annotations

import os
import threading
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

from chaosql._gc import paused
from chaosql.errors import SourceError
from chaosql.sources import groups, manifests
from chaosql.sources.base import CallLog, ListFilter
from chaosql.sources.chaosmesh import API_GROUP, CORE_KINDS, GROUP, is_experiment_kind

#: cluster -> kind -> objects (named here: inside SnapshotSource, ``list`` is its method)
Objects = dict[str, dict[str, list[dict]]]

CHAOS_MESH_KINDS = {"Schedule", "Workflow", "WorkflowNode", "PhysicalMachine", "StatusCheck"}
SUFFIXES = (".yaml", ".yml", ".json")


def known_kind(api_version: str, kind: str) -> bool:
    """Whether chaosql reads objects of ``kind`` in ``api_version``: Chaos Mesh's, an engine
    plugin's (``chaosql.sources.groups``) and the core kinds in ``CORE_KINDS``."""
    group = api_version.split("/")[0] if "/" in api_version else ""
    if group == GROUP:
        return (is_experiment_kind(kind) or kind in CHAOS_MESH_KINDS) and groups.group_of(kind) is API_GROUP
    if group == "":
        return kind in CORE_KINDS
    engine = groups.named(group)
    return engine is not None and engine.kinds is not None and kind in engine.kinds


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
        return sorted(
            k for k in self._load().get(cluster, {}) if is_experiment_kind(k) and groups.group_of(k) is API_GROUP
        )

    def has_kind(self, cluster: str, kind: str) -> bool:
        return kind in self._load().get(cluster, {})

    def list(self, cluster: str, kind: str, flt: ListFilter, log: CallLog) -> list[dict]:
        with log.timed(self.name, cluster, f"scan {kind} where {flt.describe()}") as call:
            objs = self._load().get(cluster, {}).get(kind, [])
            if flt != ListFilter():
                objs = [o for o in objs if flt.matches(o)]
            call.items = len(objs)
        return objs

    def preload(self) -> None:
        """Read the files now: ``chaosql serve`` does at start (in the background) what its first
        statements would otherwise all wait for."""
        self._load()

    def contents(self) -> object:
        """What the source holds now: the same object until ``reload`` (feeds keep the rows they
        shaped from it, ``tables._kube``)."""
        return self._load()

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
        known: dict[tuple[str, str], bool] = {}  # (apiVersion, kind) -> read it (asked once per pair)
        for cluster, file in self._files():
            for obj in _read_file(file, self.name):
                kind, api_version = obj.get("kind") or "", obj.get("apiVersion") or ""
                read = known.get((api_version, kind))
                if read is None:
                    read = known[(api_version, kind)] = known_kind(api_version, kind)
                if not read:
                    skipped[kind or "(no kind)"] += 1
                    continue
                manifests.check_object(obj, file, self.name, experiment=is_experiment_kind(kind))
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
        """(cluster, file) of every regular file to read: a FIFO, device or socket is never
        opened (reading one would block forever or never end), even behind a symlink."""
        if not self.path.is_dir():
            if not self.path.is_file():
                raise SourceError(
                    f"snapshot {self.name}: {self.path} is not a regular file or a directory", source=self.name
                )
            yield self.name, self.path
            return
        special: list[str] = []
        for entry in sorted(self.path.iterdir()):
            if entry.is_dir():
                for file in sorted(entry.rglob("*")):
                    if file.suffix in SUFFIXES and not file.is_dir():
                        if file.is_file():
                            yield entry.name, file
                        else:
                            special.append(str(file))
            elif entry.suffix in SUFFIXES:
                if entry.is_file():
                    yield self.name, entry
                else:
                    special.append(str(entry))
        if special:
            self.warnings.append(
                f"snapshot {self.name}: skipped {len(special)} files that are not regular files: " + ", ".join(special)
            )


def _read_file(file: Path, source: str) -> Iterable[dict]:
    text = manifests.read_text(file, source)
    if file.suffix == ".json":
        docs: list = [manifests.json_document(text, file, source)]
    else:
        docs = manifests.yaml_documents(text, file, source)
    for doc in docs:
        yield from _objects(doc, file, source)


def _objects(doc, file: Path, source: str) -> Iterable[dict]:
    if not isinstance(doc, dict):
        raise SourceError(
            f"snapshot {source}: {file}: expected a Kubernetes object or List, found {type(doc).__name__}",
            source=source,
        )
    kind = doc.get("kind") or ""
    for field in ("kind", "apiVersion"):
        if doc.get(field) is not None and not isinstance(doc[field], str):
            raise manifests.problem(source, file, f"{field} must be a string, not {doc[field]!r}")
    if kind == "List" or kind.endswith("List"):
        items = doc.get("items")
        if items is not None and not isinstance(items, list):
            raise manifests.problem(source, file, f"a {kind}'s items must be a list, not {type(items).__name__}")
        item_kind = kind[: -len("List")] if kind != "List" else None
        for item in items or []:
            if isinstance(item, dict):
                if item_kind and not item.get("kind"):
                    item = {**item, "kind": item_kind, "apiVersion": doc.get("apiVersion", "")}
                yield from _objects(item, file, source)
        return
    yield doc
