"""Sources: one client per system. ``open_source`` turns a ``--source`` spec into a source.

The built-in schemes (``kube``, ``snapshot``, ``demo`` ...) come in through the ``register_sources``
hook below, the one plugins implement, so ``open_source`` knows no other path.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TypeGuard

from chaosql.errors import UsageError
from chaosql.hookspecs import hookimpl

if TYPE_CHECKING:
    from chaosql.sources.base import KubeLikeSource, Source

DEMO_PATH = Path(__file__).resolve().parent.parent / "demo"

Factory = Callable[[str, str, dict], "Source"]  # (name, spec after the colon, config) -> source


def _demo(name: str, spec: str, config: dict) -> Source:
    from chaosql.sources.snapshot import SnapshotSource

    return SnapshotSource(DEMO_PATH, name=name or "demo")


def _snapshot(name: str, spec: str, config: dict) -> Source:
    from chaosql.sources.snapshot import SnapshotSource

    if not spec:
        raise UsageError("snapshot source needs a path", hint="use --source snapshot:PATH")
    path = Path(spec).expanduser()
    return SnapshotSource(path, name=name or path.stem or "snapshot")


def _kube(name: str, spec: str, config: dict) -> Source:
    from chaosql.sources.kube import open_kube

    return open_kube(name, spec, config)


def _prometheus(name: str, spec: str, config: dict) -> Source:
    from chaosql.sources.prometheus import open_prometheus

    return open_prometheus(name, spec, config)


def _history(name: str, spec: str, config: dict) -> Source:
    from chaosql.sources.history import open_history

    return open_history(name, spec, config)


def _chaosd(name: str, spec: str, config: dict) -> Source:
    from chaosql.sources.chaosd import open_chaosd

    return open_chaosd(name, spec, config)


@hookimpl(tryfirst=True)  # the same hook plugins implement
def register_sources() -> dict[str, Factory]:
    return {
        "chaosd": _chaosd,
        "demo": _demo,
        "snapshot": _snapshot,
        "prometheus": _prometheus,
        "kube": _kube,
        "history": _history,
    }


@hookimpl(tryfirst=True)
def register_api_groups() -> list:
    from chaosql.sources.chaosmesh import API_GROUP

    return [API_GROUP]


def factories() -> dict[str, Factory]:
    """Every ``--source`` scheme, from every ``register_sources`` hook: chaosql's, then plugins'."""
    from chaosql import plugins

    found: dict[str, Factory] = {}
    for extra in plugins.hook().register_sources():
        for scheme, factory in (extra or {}).items():
            if scheme in found:
                raise ValueError(f"source scheme {scheme} is registered twice")
            found[scheme] = factory
    return found


def open_source(spec: str, *, name: str = "", config: dict | None = None) -> Source:
    """``demo``, ``snapshot:PATH``, ``kube[:CONTEXT]``, ... -> a source object."""
    scheme, _, rest = spec.partition(":")
    table = factories()
    if scheme not in table:
        known = ", ".join(sorted(table))
        raise UsageError(f"unknown source {spec!r}", hint=f"use one of: {known} (e.g. snapshot:PATH)")
    return table[scheme](name, rest, config or {})


def check_distinct(sources: Sequence[Source]) -> None:
    """Refuse two sources with one name: their rows would carry the same ``cluster`` and mix."""
    seen: dict[str, Source] = {}
    for source in sources:
        name = source.name
        if name in seen:
            raise UsageError(
                f'two sources are named "{name}" ({seen[name].describe()} and {source.describe()}): '
                "their rows could not be told apart",
                hint="give them different names ([sources.NAME] sections in the config file)",
            )
        seen[name] = source
    _check_distinct_nodes(sources)


def _check_distinct_nodes(sources: Sequence[Source]) -> None:
    """Refuse a Chaosd node configured in two sources: its experiments would be read twice (a
    DELETE by uid would recover it twice and report DELETE 2)."""
    owner: dict[str, Source] = {}
    for source in sources:
        for node in getattr(source, "configured_nodes", ()):
            if node.url in owner and owner[node.url] is not source:
                raise UsageError(
                    f"chaosd node {node.url} is configured in two sources ({owner[node.url].describe()} "
                    f"and {source.describe()}): its experiments would be read twice",
                    hint="list each node in one source only",
                )
            owner[node.url] = source


def _kube_like(source: Source) -> TypeGuard[KubeLikeSource]:
    """``isinstance(source, KubeLikeSource)``, decided once per class: a protocol's isinstance
    inspects every member, and every statement that reads a kube table asks this of each source."""
    known = _KUBE_LIKE.get(type(source))
    if known is None:
        from chaosql.sources.base import KubeLikeSource

        known = _KUBE_LIKE[type(source)] = isinstance(source, KubeLikeSource)
    return known


_KUBE_LIKE: dict[type, bool] = {}


def check_distinct_clusters(sources: Sequence[Source]) -> None:
    """Refuse two Kubernetes-like sources that serve a cluster of the same name (two snapshot
    directories with the same sub-directory, or a snapshot named like a context): a query would
    count that cluster's rows twice, or mix two clusters under one name."""
    owner: dict[str, Source] = {}
    for source in sources:
        if source.family != "kube" or not _kube_like(source):
            continue
        try:
            clusters = source.clusters()
        except Exception:  # a source that cannot be read fails (or warns) where its rows are fetched
            continue
        for cluster in clusters:
            if cluster in owner and owner[cluster] is not source:
                raise UsageError(
                    f'cluster "{cluster}" is served by two sources ({owner[cluster].describe()} and '
                    f"{source.describe()}): its rows would be mixed or counted twice",
                    hint="give one source another name, or rename the snapshot sub-directory",
                )
            owner[cluster] = source
