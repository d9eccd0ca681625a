"""What every source shares: the ``Source`` protocol, the list filter a table hands down, and the
log of calls made.

Sources talk to systems and know nothing about SQL. A Kubernetes-like source (``family = "kube"``:
the live API and snapshots) answers ``list(cluster, kind, ListFilter)`` with plain dicts shaped
exactly like the API's JSON objects, so one row-shaping code path serves every such source.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable


@dataclass(frozen=True)
class ListFilter:
    """Server-side filters for one list call; ``None`` means "no filter"."""

    namespaces: frozenset[str] | None = None
    names: frozenset[str] | None = None
    labels: tuple[tuple[str, frozenset[str]], ...] = ()  # label key -> allowed values
    fields: tuple[tuple[str, str], ...] = ()  # field selector path -> value
    limit: int | None = None  # the first this many objects are enough (per list call)

    def matches(self, obj: dict) -> bool:
        """Apply the filter in memory (for sources that cannot filter server-side)."""
        meta = obj.get("metadata") or {}
        if self.namespaces is not None and (meta.get("namespace") or "") not in self.namespaces:
            return False
        if self.names is not None and meta.get("name") not in self.names:
            return False
        if self.labels:
            labels = meta.get("labels") or {}
            if any(labels.get(key) not in allowed for key, allowed in self.labels):
                return False
        return all(str(_dig(obj, path.split("."))) == value for path, value in self.fields)

    def describe(self) -> str:
        parts = []
        if self.namespaces is not None:
            parts.append("namespace in (" + ", ".join(sorted(self.namespaces)) + ")")
        if self.names is not None:
            parts.append("name in (" + ", ".join(sorted(self.names)) + ")")
        parts += [f"label {k} in ({', '.join(sorted(v))})" for k, v in self.labels]
        parts += [f"field {k}={v}" for k, v in self.fields]
        if self.limit is not None:
            parts.append(f"first {self.limit}")
        return ", ".join(parts) or "all"


def _dig(obj: Any, path: list[str]) -> Any:
    for part in path:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(part)
    return obj


@dataclass
class Call:
    """One request a source made (or an in-memory scan), for EXPLAIN ANALYZE and ``--verbose``."""

    source: str
    cluster: str
    what: str  # e.g. "GET /apis/chaos-mesh.org/v1alpha1/namespaces/shop/podchaos"
    items: int = 0
    seconds: float = 0.0  # on the wire and in retry pauses
    setup: float = 0.0  # making the client first (kubeconfig, credentials, TLS context): not in seconds

    def __str__(self) -> str:
        text = f"{self.source}/{self.cluster}: {self.what} -> {self.items} objects in {self.seconds * 1000:.0f} ms"
        return text + (f" (+{self.setup * 1000:.0f} ms client set-up)" if self.setup >= 0.0005 else "")


#: What a statement says when it was cancelled without a reason given.
CANCELLED = "query cancelled"


@dataclass
class CallLog:
    """Thread-safe list of the calls made while answering one statement, and whether that statement
    was cancelled: sources call ``check()`` before each request (each page, each retry) and
    ``pause()`` instead of sleeping, so a cancelled statement stops calling in the background."""

    calls: list[Call] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    cancelled: threading.Event = field(default_factory=threading.Event, repr=False)
    #: why the statement was cancelled ("query cancelled", "statement timeout: ...", "interrupted
    #: (SIGTERM)"): kept here so whichever source, writer or DuckDB call notices the cancel says it
    reason: str = CANCELLED

    def record(self, call: Call) -> None:
        with self._lock:
            self.calls.append(call)

    def extend(self, calls: list[Call]) -> None:
        with self._lock:
            self.calls.extend(calls)

    def cancel(self, reason: str = CANCELLED) -> bool:
        """Stop the statement's further calls (its log is its own: the next statement gets a new
        one). The first reason given is kept; returns False when it was cancelled already. No
        lock: a signal handler may cancel from the thread that holds ``_lock`` in ``record``."""
        if self.cancelled.is_set():
            return False
        self.reason = reason
        self.cancelled.set()
        return True

    def check(self) -> None:
        """Raise ``QueryCancelled``, saying why, if the statement was cancelled."""
        if self.cancelled.is_set():
            from chaosql.errors import QueryCancelled

            raise QueryCancelled(self.reason)

    def pause(self, seconds: float) -> None:
        """Sleep before a retry, waking up (and raising ``QueryCancelled``) on cancel."""
        self.cancelled.wait(seconds)
        self.check()

    def timed(self, source: str, cluster: str, what: str) -> _Timer:
        return _Timer(self, Call(source, cluster, what))


class _Timer:
    def __init__(self, log: CallLog, call: Call) -> None:
        self.log, self.call = log, call

    def __enter__(self) -> Call:
        self.start = time.perf_counter()
        return self.call

    def __exit__(self, *exc) -> None:
        self.call.seconds = time.perf_counter() - self.start
        self.log.record(self.call)


@runtime_checkable
class Source(Protocol):
    """What the engine, the writers and the front ends may ask of any source, built-in or a
    plugin's (``register_sources``). The rest is between a source and the feeds of its family."""

    #: which tables' feeds read it: "kube", "chaosd", "prometheus", "history" (a plugin may add one)
    family: str

    @property
    def name(self) -> str:
        """The configured name; two sources may not share one, and rows' cluster column defaults to it."""
        ...

    #: what the experiments.source column and messages call it: "kube", "snapshot", "chaosd", ...
    kind_label: str
    #: what reading skipped (an unknown kind, a node that did not answer); the session shows each
    #: once after the statement, then clears the list
    warnings: list[str]

    def describe(self) -> str:
        """The source in a message, e.g. ``cluster "prod" (kube)`` or ``snapshot ~/chaos/lab``."""
        ...

    def close(self) -> None:
        """Release connections and threads; the source is not used afterwards."""
        ...


@runtime_checkable
class KubeLikeSource(Source, Protocol):
    """A source of Kubernetes objects: the live API (``kube``) or files (``snapshot``); its
    ``family`` is always "kube", its ``name`` the default for the cluster column."""

    def clusters(self) -> list[str]: ...

    def chaos_kinds(self, cluster: str) -> list[str]:
        """The chaos-mesh.org experiment kinds this cluster has (discovered, not hard-coded)."""
        ...

    def has_kind(self, cluster: str, kind: str) -> bool: ...

    def list(self, cluster: str, kind: str, flt: ListFilter, log: CallLog) -> Iterable[dict]: ...
