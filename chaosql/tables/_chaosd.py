"""The feeds that turn Chaosd nodes into rows of ``nodes``, ``experiments`` and ``events``.

One ``ChaosdFeed`` per table, with the table's shaper. Every node of a source is asked
concurrently; ``cluster`` is the source name and ``node`` the node's address. A node that cannot
be reached fails the ``experiments`` and ``events`` fetch with an error naming it (or a warning
under ``on_source_error = 'warn'``), but is a ``nodes`` row with ``ready = false``.

Pushdown: ``source``, ``cluster`` and ``type`` (nodes) filters skip the source entirely;
``kind`` (experiments) and ``object_kind``/``object_name`` (events) choose which experiments'
runs are fetched. Chaosd itself filters nothing but ``launch_mode``.

Chaosd statuses become experiment phases like this (``experiment_phase``):

=============  ============  ==========================================================
chaosd status  phase         why
=============  ============  ==========================================================
created        injecting     row written, the attack has not returned (or crashed)
success        running       attack applied
scheduled      running       cron job registered; each run applies and recovers itself
error          failed        attack failed; chaosd never retries (Chaos Mesh would)
destroyed      finished      recovered by DELETE
revoked        finished      declared by chaosd, never set
=============  ============  ==========================================================
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from chaosql.errors import SourceError
from chaosql.tables._table import Feed, Row

if TYPE_CHECKING:
    from chaosql.engine.pushdown import Constraints
    from chaosql.sources.chaosd import ChaosdSource, Node

#: The value of the engine column for Chaosd's rows.
ENGINE = "chaosd"

PHASES = {
    "created": "injecting",
    "success": "running",
    "scheduled": "running",
    "error": "failed",
    "destroyed": "finished",
    "revoked": "finished",
}
#: Run statuses as Chaos Mesh event reasons, so ``reason = 'Failed'`` reads both worlds alike.
RUN_REASONS = {"started": "Started", "success": "Applied", "failed": "Failed", "recovered": "Recovered"}
#: Kinds chaosd stores under another name than its route (API.md 2.1).
KIND_ROUTES = {"disk-server": "disk", "userDefined": "user_defined"}
_ZERO_TIME = "0001-01-01T00:00:00Z"


class ChaosdFeed(Feed):
    """Rows of one table from a chaosd source; ``what`` picks the fetch: nodes, experiments or runs."""

    family = "chaosd"

    def __init__(self, what: str, rows: Callable[[dict, ChaosdSource, Node], Iterable[Row]]) -> None:
        if what not in ("nodes", "experiments", "runs"):
            raise ValueError(f"ChaosdFeed: unknown fetch {what!r}")
        self.what = what
        self.rows = rows
        self.table = None
        self.covers = {"engine": frozenset({ENGINE})}

    def _allowed(self, constraints: Constraints, column: str, value: str) -> bool:
        assert self.table is not None
        if self.table.column(column) is None:
            return True
        wanted = constraints.values(column)
        return wanted is None or value in wanted

    def fetch(
        self, source: ChaosdSource, constraints: Constraints, fetcher: Any
    ) -> Iterator[tuple[str, Iterable[Row]]]:
        if not self._allowed(constraints, "cluster", source.name) or not self._allowed(constraints, "source", "chaosd"):
            return
        if self.what == "nodes" and not self._allowed(constraints, "type", "chaosd"):
            return
        nodes = source.nodes(fetcher.log)
        work = {"nodes": _node_facts, "experiments": _experiments, "runs": _runs}[self.what]
        # a write's reads, and a session that turned the cache off, ask the nodes themselves
        settings = getattr(fetcher, "settings", None) or {}
        live = getattr(fetcher, "seen", None) is not None or not settings.get("cache", True)
        futures = [(node, fetcher.submit(work, source, node, constraints, fetcher.log, live)) for node in nodes]
        for node, future in futures:
            yield source.name, self._shape(future, source, node)

    def _shape(self, future, source: ChaosdSource, node: Node) -> Iterator[Row]:
        for obj in future.result():
            yield from self.rows(obj, source, node)


def _node_facts(source: ChaosdSource, node: Node, constraints: Constraints, log, live: bool) -> list[dict]:
    """Health and version; an unreachable or refusing node is still a row (ready = false)."""
    facts: dict[str, Any] = {"ready": False, "version": None, "error": None}
    try:
        facts["ready"] = source.health(node, log, live=live)
        facts["version"] = source.version(node, log, live=live)
    except SourceError as err:
        facts["error"] = err.message
        source.warnings.append(f"nodes: {err.message}")
    return [facts]


def _experiments(source: ChaosdSource, node: Node, constraints: Constraints, log, live: bool) -> list[dict]:
    return newest_per_uid(source.experiments(node, log, live=live))


def _runs(source: ChaosdSource, node: Node, constraints: Constraints, log, live: bool) -> list[dict]:
    """Runs exist only for scheduled experiments (API.md 3.2), so only those are asked."""
    kinds, names = constraints.values("object_kind"), constraints.values("object_name")
    out = []
    for exp in newest_per_uid(source.experiments(node, log, live=live)):
        if kinds is not None and exp.get("kind") not in kinds:
            continue
        if names is not None and exp.get("uid") not in names:
            continue
        if not parameters(exp).get("schedule"):
            continue
        for run in source.runs(node, exp["uid"], log, live=live):
            out.append({**run, "experiment": run.get("experiment") or exp})
    return out


def newest_per_uid(experiments: list[dict]) -> list[dict]:
    """One row per uid: the newest (highest id). chaosd keeps a row per POST, and a re-used uid
    updates every older row too (tests/chaosd-env/README.md, 3.), so older rows add nothing.

    >>> [e["id"] for e in newest_per_uid([{"uid": "a", "id": 1}, {"uid": "b", "id": 2}, {"uid": "a", "id": 3}])]
    [2, 3]
    """
    best: dict[str, dict] = {}
    for exp in experiments:
        uid = exp.get("uid") or f"#{exp.get('id')}"
        if uid not in best or (exp.get("id") or 0) > (best[uid].get("id") or 0):
            best[uid] = exp
    return sorted(best.values(), key=lambda e: (e.get("created_at") or "", e.get("id") or 0))


# --- row shapers ---------------------------------------------------------------------------------


def node_rows(facts: dict, source: ChaosdSource, node: Node) -> Iterator[Row]:
    version = facts.get("version") or {}
    annotations = {"chaosd.chaosql/system-url": node.system_url, "chaosd.chaosql/origin": node.origin}
    if facts.get("error"):
        annotations["chaosd.chaosql/error"] = facts["error"]
    if version.get("platform"):
        annotations["chaosd.chaosql/platform"] = version["platform"]
    yield {
        "cluster": source.name,
        "type": "chaosd",
        "name": node.name,
        "address": node.url,
        "ready": bool(facts.get("ready")),
        "version": version.get("gitVersion"),
        "labels": {},
        "annotations": annotations,
    }


def experiment_rows(exp: dict, source: ChaosdSource, node: Node) -> Iterator[Row]:
    params = parameters(exp)
    status = exp.get("status") or ""
    from chaosql.tables._common import duration_seconds, to_json

    duration = params.get("duration") or None
    yield {
        "cluster": source.name,
        "source": "chaosd",
        "engine": ENGINE,
        "namespace": None,
        "name": exp.get("uid"),
        "kind": exp.get("kind"),
        "uid": exp.get("uid"),
        "action": exp.get("action") or params.get("action") or None,
        "duration": duration,
        "duration_seconds": duration_seconds(duration),
        "paused": False,  # chaosd has no pause (API.md 3.1)
        "desired_phase": "Stop" if status in ("destroyed", "revoked") else "Run",
        "phase": experiment_phase(status),
        "created_at": go_time(exp.get("created_at")),
        "deleted_at": go_time(exp.get("updated_at")) if status == "destroyed" else None,
        "target_count": 1,
        "injected_count": 1 if status in ("success", "scheduled", "destroyed") else 0,
        "recovered_count": 1 if status == "destroyed" else 0,
        "node": node.url,
        "labels": {},
        "annotations": {},
        "spec": to_json(params),
        "status": to_json(
            {
                "status": status,
                "error": exp.get("error") or "",
                "id": exp.get("id"),
                "launch_mode": exp.get("launch_mode"),
                "updated_at": exp.get("updated_at"),
            }
        ),
    }


def run_rows(run: dict, source: ChaosdSource, node: Node) -> Iterator[Row]:
    exp = run.get("experiment") or {}
    status = run.get("status") or ""
    start = go_time(run.get("start_at"))
    finished = run.get("finished_at")
    end = go_time(finished) if finished and finished != _ZERO_TIME else None  # never written (API.md 3.2)
    message = f"chaosd run {status} on {node.url}" + (f": {run['error']}" if run.get("error") else "")
    yield {
        "cluster": source.name,
        "engine": ENGINE,
        "namespace": None,
        "name": run.get("uid"),
        "uid": run.get("uid"),
        "object_kind": exp.get("kind"),
        "object_name": exp.get("uid"),
        "object_uid": exp.get("uid"),
        "reason": RUN_REASONS.get(status, status.capitalize() or None),
        "type": "Warning" if status == "failed" else "Normal",
        "message": message,
        "count": 1,
        "first_at": start,
        "last_at": end or start,
        "component": "chaosd",
        "created_at": start,
    }


# --- derived values ------------------------------------------------------------------------------


def experiment_phase(status: str) -> str | None:
    """The experiments.phase of a chaosd status (table in the module docstring).

    >>> experiment_phase("success"), experiment_phase("destroyed"), experiment_phase("error")
    ('running', 'finished', 'failed')
    """
    return PHASES.get(status, status or None)


def parameters(exp: dict) -> dict:
    """The attack's parameters: ``recover_command`` parsed (a JSON string of the whole config)."""
    text = exp.get("recover_command") or ""
    try:
        value = json.loads(text) if text else {}
    except ValueError:
        return {"recover_command": text}
    return value if isinstance(value, dict) else {"recover_command": value}


def go_time(text: str | None) -> str | None:
    """A Go ``time.Time`` in JSON (RFC 3339, nanoseconds, any offset) as RFC 3339 in UTC with
    microseconds: the string form the kube rows use too, so one column parses in one go.

    >>> go_time("2026-11-27T04:05:06.123456789+01:00")
    '2026-11-27T03:05:06.123456Z'
    >>> go_time("0001-01-01T00:00:00Z") is None
    True
    """
    if not text or text.startswith("0001-01-01"):
        return None
    head, dot, rest = text.partition(".")
    if dot:
        digits = ""
        for ch in rest:
            if not ch.isdigit():
                break
            digits += ch
        text = f"{head}.{digits[:6].ljust(6, '0')}{rest[len(digits) :]}"
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        return None
    return when.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
