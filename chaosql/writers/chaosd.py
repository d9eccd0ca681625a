"""Chaosd writes: an INSERT row becomes ``POST /api/attack/{kind}``, a DELETE row ``DELETE /api/attack/{uid}``.

Rows of ``experiments`` with ``source = 'chaosd'`` are written here instead of to Kubernetes:

- ``ChaosdAttack``: the row's ``spec`` (JSON) is the attack body. chaosql adds a client-made uuid4
  ``uid`` (or the row's ``uid``/``name``), merges the ``action`` and ``duration`` columns, and
  handles chaosd's quirks (docs/chaosd.md, "Quirks that chaosql handles"): ``kind`` is never sent (it
  would overwrite the server's preset and break recover), nor ``spec.uid`` or the keys an attack
  fills in (``PIDs``...), so a row's ``spec`` can be inserted again; a process attack always carries
  ``signal`` (from the action: kill → 9, stop → 19); kafka gets both ``action`` and ``Action``;
  numeric strings become numbers where chaosd's Go types want them. Undo is a recover.
- ``ChaosdRecover``: a recover that chaosd answers 404 (already gone) or "can not recover
  destroyed experiment" counts as done, as Chaos Mesh treats it; after a 200 the row is read
  again, since non-recoverable attacks (process kill without ``recoverCmd``) stay ``success``.
  Rows that are not ``success``/``scheduled`` have nothing to recover and are skipped with a
  note. A recover cannot be undone.

Chaosd has no dry run, so ``validate`` checks locally what chaosd's ``Validate()`` would reject
(required fields per kind and action, known keys, types), that the uid is not in use on the node
(chaosd would rewrite that experiment's rows), and that the node answers its health check.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from chaosql.errors import ChaosqlError, Forbidden, SourceError, SourceTimeout, WriteRefused
from chaosql.sources.http import pause
from chaosql.writers.plan import ObjectRef, Operation, TargetError, WriteContext

if TYPE_CHECKING:
    from chaosql.sources.base import CallLog
    from chaosql.sources.chaosd import ChaosdSource, Node

COMMON_KEYS = {"schedule", "duration", "action", "uid"}
#: chaosd's JSON keys per attack route (pkg/core/*.go as API.md 2.4 quotes them); values:
#: "int", "bool", "list" or "str" (what Go decodes); derived keys the attack fills are accepted too,
#: so a ``spec`` read from a row can be written back.
KEYS: dict[str, dict[str, str]] = {
    "process": {"process": "str", "signal": "int", "PIDs": "list", "recoverCmd": "str"},
    "stress": {"load": "int", "workers": "int", "size": "str", "options": "list", "stress-ng-pid": "int"},
    "network": {
        k: "str"
        for k in (
            "latency",
            "jitter",
            "correlation",
            "percent",
            "device",
            "source-port",
            "egress-port",
            "ip-address",
            "ip-protocol",
            "hostname",
            "direction",
            "dns-server",
            "dns-ip",
            "dns-domain-name",
            "port",
            "rate",
            "accept-tcp-flags",
        )
    }
    | {
        "port-pid": "int",
        "parallel": "int",
        "iperf-pid": "int",
        "limit": "int",
        "buffer": "int",
        "peakrate": "int",
        "minburst": "int",
    },
    "disk": {
        "size": "str",
        "path": "str",
        "percent": "str",
        "payload-process-num": "int",
        "fallocate": "bool",
        "DdOptions": "any",
        "FAllocateOption": "any",
        "Path": "str",
    },
    "clock": {
        "pid": "int",
        "time-offset": "str",
        "clock-ids-slice": "str",
        "SecDelta": "int",
        "NsecDelta": "int",
        "Store": "any",
        "ClockIdsMask": "int",
    },
    "jvm": {
        "port": "int",
        "pid": "int",
        "class": "str",
        "method": "str",
        "cpu-count": "int",
        "mem-type": "str",
        "mysql-connector-version": "str",
        "database": "str",
        "table": "str",
        "sql-type": "str",
        "name": "str",
        "value": "str",
        "exception": "str",
        "latency": "int",
        "rule-file": "str",
        "rule-data": "str",
    },
    "kafka": {
        "Action": "str",
        "topic": "str",
        "host": "str",
        "port": "int",
        "username": "str",
        "password": "str",
        "authMechanism": "str",
        "messageSize": "int",
        "maxBytes": "int",
        "reloadCommand": "str",
        "threads": "int",
        "configFile": "str",
        "nonReadable": "bool",
        "nonWritable": "bool",
        "originModeOfFiles": "any",
        "originConfig": "str",
    },
    "redis": {
        "addr": "str",
        "password": "str",
        "conf": "str",
        "flushConfig": "bool",
        "redisPath": "str",
        "requestNum": "int",
        "cacheSize": "str",
        "percent": "str",
        "key": "str",
        "expiration": "str",
        "option": "str",
        "originCacheSize": "str",
    },
    "vm": {"vm-name": "str"},
    "user_defined": {"attackCmd": "str", "recoverCmd": "str"},
}
#: Keys the attack itself fills in (``recover_command`` has them): dropped from an INSERT's body,
#: so the ``spec`` of an existing row can be inserted again (``INSERT ... SELECT``).
DERIVED = {
    "PIDs",
    "stress-ng-pid",
    "port-pid",
    "iperf-pid",
    "DdOptions",
    "FAllocateOption",
    "Path",
    "SecDelta",
    "NsecDelta",
    "Store",
    "ClockIdsMask",
    "originModeOfFiles",
    "originConfig",
    "originCacheSize",
}
#: Actions chaosd accepts per route (None: any, the action is informational).
ACTIONS: dict[str, tuple[str, ...] | None] = {
    "process": ("kill", "stop"),
    "stress": ("cpu", "mem"),
    "network": ("delay", "loss", "corrupt", "duplicate", "dns", "partition", "bandwidth", "occupied", "down", "flood"),
    "disk": ("fill", "write-payload", "read-payload"),
    "clock": None,
    "jvm": ("latency", "exception", "return", "stress", "gc", "rule-file", "rule-data", "mysql"),
    "kafka": ("fill", "flood", "io"),
    "redis": ("restart", "stop", "penetration", "cacheLimit", "expiration"),
    "vm": None,
    "user_defined": None,
}
#: Fields chaosd's Validate() requires, per route and per (route, action) (API.md 2.4).
REQUIRED: dict[Any, tuple[Any, ...]] = {
    "process": ("process",),
    "clock": ("pid", "time-offset"),
    "jvm": ("pid",),
    "kafka": ("topic",),
    "redis": ("addr",),
    "vm": ("vm-name",),
    "user_defined": ("attackCmd", "recoverCmd"),
    ("network", "delay"): ("latency", "device"),
    ("network", "loss"): ("percent", "device"),
    ("network", "corrupt"): ("percent", "device"),
    ("network", "duplicate"): ("percent", "device"),
    ("network", "partition"): ("device", "direction"),
    ("network", "bandwidth"): ("rate", "limit", "buffer"),
    ("network", "down"): ("duration", "device"),
    ("network", "flood"): ("ip-address", "port", "rate", "duration"),
    ("network", "occupied"): ("port",),
    ("disk", "fill"): (("size", "percent"),),
    ("disk", "write-payload"): ("size",),
    ("disk", "read-payload"): ("size", "path"),
    ("redis", "penetration"): ("requestNum",),
}
#: Route of each accepted kind spelling: the stored kinds (experiments.kind) map back to routes.
ROUTES = {route: route for route in KEYS} | {
    "disk-server": "disk",
    "userDefined": "user_defined",
    "user-defined": "user_defined",
}
PROCESS_SIGNALS = {"kill": 9, "stop": 19}
#: chaosd's process scan fails when any process exits meanwhile: "open /proc/123/status: no such file".
_PROC_RACE = re.compile(r"/proc/\d+/\w+: no such file or directory")
PROCESS_SCAN_RETRIES = 3
#: INSERT columns that mean something for a Chaosd row; any other non-NULL value is refused.
INSERT_COLUMNS = {"source", "cluster", "node", "kind", "action", "spec", "uid", "name", "duration"}


@dataclass(frozen=True)
class ChaosdTarget:
    """One chaosd node of one source, where an operation goes. Each call takes the statement's
    ``log``: it is recorded there, and a cancel ends a retry pause (a rollback's log is not
    stopped by a cancel)."""

    source: ChaosdSource
    node: Node

    @property
    def label(self) -> str:
        return f'chaosd "{self.source.name}" node {self.node.url}'

    def check_node(self, log: CallLog | None = None) -> None:
        """The node answers its health check, else TargetError (503, or 401/403 when it refuses)."""
        try:
            healthy = self.source.health(self.node, log, live=True)
        except Forbidden as err:
            raise TargetError(403, "Forbidden", err.message) from err
        except SourceError as err:
            raise TargetError(503, "Unavailable", err.message) from err
        if not healthy:
            raise TargetError(
                503,
                "Unhealthy",
                f"chaosd node {self.node.url} is not healthy ({self.node.system_url}/api/system/health)",
            )

    def experiments(self, log: CallLog | None = None) -> list[dict]:
        try:
            return self.source.experiments(self.node, log, live=True)
        except ChaosqlError as err:
            raise _target_error(err) from err


@dataclass(eq=False)
class ChaosdAttack(Operation):
    """``POST {node}/api/attack/{route}`` with ``body`` (which carries the client's ``uid``)."""

    target: ChaosdTarget
    ref: ObjectRef
    route: str
    body: dict
    problems: list[str] = field(default_factory=list)  # found while planning, reported by validate
    method = "POST"

    @property
    def uid(self) -> str:
        return self.body["uid"]

    def describe(self) -> tuple[str, str, str]:
        bits = [f"attack {self.route}"] + ([self.body["action"]] if self.body.get("action") else [])
        bits.append(f"uid={self.uid}")
        shown = {k: v for k, v in self.body.items() if k not in ("uid",)}
        return (
            self.method,
            f"{self.target.node.url}/api/attack/{self.route}",
            " ".join(bits) + " " + json.dumps(shown, separators=(",", ":")),
        )

    def checks(self) -> str:
        return (
            "chaosql's own checks, as Chaosd has no dry run: the fields chaosd's Validate() requires, "
            "the node's health check, and that the uid is not in use on the node"
        )

    def validate(self, ctx: WriteContext) -> None:
        if self.problems:
            raise TargetError(422, "Invalid", "; ".join(self.problems))
        self.target.check_node(ctx.log)
        if any(e.get("uid") == self.uid for e in self.target.experiments(ctx.log)):
            raise TargetError(
                409,
                "AlreadyExists",
                f"uid {self.uid} is already used on {self.target.node.url}; chaosd would rewrite that "
                "experiment's rows (leave uid out and chaosql makes a new one)",
            )

    def apply(self, ctx: WriteContext) -> None:
        try:
            for attempt in range(PROCESS_SCAN_RETRIES + 1):
                try:
                    self.result = self.target.source.attack(self.target.node, self.route, self.body, ctx.log)
                    break
                except SourceError as err:
                    if not (self.route == "process" and _PROC_RACE.search(getattr(err, "text", ""))):
                        raise
                    # chaosd's process attack reads /proc of every process in PID order and stops at
                    # the first one that exits meanwhile (API.md 2.4): the processes before it may
                    # have been signalled already. Its experiment row lists them (PIDs). Trying again
                    # (the same uid rewrites that row) is safe when it lists none, or for SIGSTOP:
                    # stopping a stopped process changes nothing, and a success row can be recovered.
                    signalled = self._signalled(ctx.log)
                    again = signalled == [] or (signalled is not None and self.body.get("signal") == 19)
                    if not again or attempt == PROCESS_SCAN_RETRIES:
                        self.uncertain = self._partly(signalled)
                        raise
                    pause(ctx.log, 0.05 * (attempt + 1))
        except SourceTimeout as err:
            # chaosd runs the attack inside the request and goes on when the client gives up:
            # whether it is applied is unknown, so say how to find out rather than guess.
            self.uncertain = (
                f"attack {self.uid} may still be applied on {self.target.node.url}: check SELECT phase "
                f"FROM experiments WHERE uid = '{self.uid}', and DELETE it if needed"
            )
            raise TargetError(504, "Timeout", err.message) from err
        except ChaosqlError as err:
            error = _target_error(err)
            if error.status >= 500 and not self.uncertain:
                error.message += f" (chaosd keeps experiment {self.uid} with status error; nothing to recover)"
            raise error from err
        self.applied = True

    def _signalled(self, log: CallLog | None) -> list[int] | None:
        """The PIDs chaosd's row for this attack says were signalled; None when it cannot be read."""
        from chaosql.tables._chaosd import parameters

        try:
            rows = [
                e for e in self.target.source.experiments(self.target.node, log, live=True) if e.get("uid") == self.uid
            ]
        except ChaosqlError:
            return None
        if not rows:
            return []
        pids = parameters(max(rows, key=lambda e: e.get("id") or 0)).get("PIDs")
        return [p for p in pids if isinstance(p, int)] if isinstance(pids, list) else []

    def _partly(self, signalled: list[int] | None) -> str | None:
        """What is known about a process attack whose /proc scan failed."""
        signal = self.body.get("signal")
        if signalled is None:
            return (
                f"chaosd's process scan failed and its state could not be read: process "
                f"{self.body.get('process')} may have been signalled (signal {signal}); check SELECT spec, "
                f"status FROM experiments WHERE uid = '{self.uid}'"
            )
        if not signalled:
            return None
        pids = ", ".join(str(p) for p in signalled)
        effect = {9: "killed", 19: "stopped"}.get(signal if isinstance(signal, int) else -1, "signalled")
        resume = f" (kill -CONT {' '.join(str(p) for p in signalled)} resumes it)" if signal == 19 else ""
        return (
            f"chaosd had sent signal {signal} to PID {pids} before its process scan failed, so the "
            f"process may be {effect}{resume}; chaosd keeps experiment {self.uid} with status error "
            "and cannot recover it"
        )

    def undo(self, ctx: WriteContext) -> str:
        try:
            self.target.source.recover(self.target.node, self.uid, ctx.log)
        except ChaosqlError as err:
            raise _target_error(err) from err
        return f"recovered chaosd {self.route} attack {self.uid} on {self.target.node.url}"

    def what(self) -> str:
        return f"chaosd {self.route} attack {self.uid} on {self.target.node.url}"

    def returning_row(self) -> dict:
        """The experiments row RETURNING shows for this attack (as the read path would shape it)."""
        return _row(self.target, self.route, self.uid, self.body, "success" if self.applied else "")


@dataclass(eq=False)
class ChaosdRecover(Operation):
    """``DELETE {node}/api/attack/{uid}`` of one experiment row (``status`` as the row said)."""

    target: ChaosdTarget
    ref: ObjectRef
    uid: str
    status: str = ""
    method = "DELETE"

    @property
    def recoverable(self) -> bool:
        return self.status in ("success", "scheduled", "")

    def describe(self) -> tuple[str, str, str]:
        summary = f"recover chaosd {self.ref.kind} {self.uid}"
        if not self.recoverable:
            summary += f" (skipped: status {self.status}, nothing to recover)"
        elif self.status == "scheduled":
            summary += " (unschedules it; a run in progress recovers itself)"
        return self.method, f"{self.target.node.url}/api/attack/{self.uid}", summary

    def checks(self) -> str:
        return "chaosql's own check, as Chaosd has no dry run: the node's health check"

    def validate(self, ctx: WriteContext) -> None:
        if self.recoverable:
            self.target.check_node(ctx.log)

    def apply(self, ctx: WriteContext) -> None:
        if not self.recoverable:
            self.skipped = True
            ctx.warnings.append(
                f"chaosd {self.uid} on {self.target.node.url}: status {self.status}, nothing to recover"
            )
            return
        try:
            self.result = self.target.source.recover(self.target.node, self.uid, ctx.log)
        except ChaosqlError as err:
            status, text = getattr(err, "status", 0), getattr(err, "text", "")
            if status == 404:  # gone already: Chaos Mesh counts 404 as recovered too
                ctx.warnings.append(f"chaosd {self.uid} on {self.target.node.url}: not found; already gone")
            elif status == 500 and "can not recover destroyed experiment" in text:
                ctx.warnings.append(f"chaosd {self.uid} on {self.target.node.url}: already recovered")
            else:
                raise _target_error(err) from err
            self.applied = True
            return
        self.applied = True
        newest = [e for e in self.target.experiments(ctx.log) if e.get("uid") == self.uid]
        newest.sort(key=lambda e: e.get("id") or 0)
        if newest and newest[-1].get("status") != "destroyed":
            ctx.warnings.append(
                f"chaosd {self.ref.kind} {self.uid} on {self.target.node.url}: chaosd accepted the recover but the "
                f"experiment is still {newest[-1].get('status')}: this attack cannot be recovered "
                "(e.g. a process kill without recoverCmd)"
            )

    def what(self) -> str:
        return f"recovered chaosd {self.ref.kind} {self.uid} on {self.target.node.url}"

    def returning_row(self) -> dict:
        return _row(self.target, self.ref.kind, self.uid, None, "destroyed" if self.applied else self.status)


def _row(target: ChaosdTarget, kind: str, uid: str, body: dict | None, status: str) -> dict:
    from chaosql.tables._chaosd import experiment_phase
    from chaosql.tables._common import to_json

    return {
        "cluster": target.source.name,
        "source": "chaosd",
        "name": uid,
        "uid": uid,
        "kind": kind,
        "action": (body or {}).get("action") or None,
        "node": target.node.url,
        "paused": False,
        "phase": experiment_phase(status),
        "spec": to_json(body),
        "status": to_json({"status": status}),
        "labels": {},
        "annotations": {},
    }


# --- planning ------------------------------------------------------------------------------------


def is_chaosd_row(row: dict) -> bool:
    """Whether an experiments row (INSERT values or a row WHERE found) is written over chaosd."""
    return str(row.get("source") or "").lower() == "chaosd"


def plan_insert(rows: Iterable[dict], sources: Iterable[Any]) -> list[ChaosdAttack]:
    """One ``ChaosdAttack`` per INSERT row. Refuses (``WriteRefused``, nothing written) a row whose
    node, kind or columns cannot be written; body problems are reported by ``validate``."""
    chaosd = [s for s in sources if s.family == "chaosd"]
    attacks = [_attack(i, row, chaosd) for i, row in enumerate(rows, 1)]
    first: dict[tuple[str, str], int] = {}
    for i, attack in enumerate(attacks, 1):
        key = (attack.target.node.url, attack.uid)
        if key in first:  # chaosd would keep one record: DELETE could then undo only the second attack
            raise WriteRefused(
                f"experiments: rows {first[key]} and {i} both attack {key[0]} with uid {key[1]}; chaosd keeps "
                "one record per uid, so the first attack could never be recovered",
                hint="give each row its own uid, or leave uid out and chaosql makes one",
            )
        first[key] = i
    return attacks


def plan_delete(rows: Iterable[dict], sources: Iterable[Any]) -> list[ChaosdRecover]:
    """One ``ChaosdRecover`` per experiments row (as the read path found them: cluster, node,
    kind, uid, status JSON)."""
    chaosd = [s for s in sources if s.family == "chaosd"]
    ops = []
    seen: set[tuple[str, str]] = set()
    for i, row in enumerate(rows, 1):
        target = _target(i, row, chaosd)
        status = row.get("status")
        if isinstance(status, str):
            try:
                status = json.loads(status)
            except ValueError:
                status = {"status": status}
        uid = row.get("uid") or row.get("name")
        if not uid:
            raise WriteRefused(f"experiments: DELETE row {i}: a Chaosd row without uid cannot be recovered")
        if (target.node.url, uid) in seen:  # the same experiment found twice: recover it once
            continue
        seen.add((target.node.url, uid))
        ops.append(
            ChaosdRecover(
                target,
                ObjectRef(target.source.name, str(row.get("kind") or "chaosd"), "", uid),
                uid=uid,
                status=str((status or {}).get("status") or ""),
            )
        )
    return ops


def _target(i: int, row: dict, chaosd: list[Any]) -> ChaosdTarget:
    if not chaosd:
        raise WriteRefused(
            "experiments: no chaosd source is configured",
            hint='add --source chaosd:http://HOST:31767 or a [sources.NAME] type = "chaosd" section',
        )
    cluster = row.get("cluster")
    candidates = [s for s in chaosd if not cluster or s.name == cluster]
    if not candidates:
        raise WriteRefused(
            f"experiments: row {i}: no chaosd source is named {cluster!r}",
            hint="chaosd sources: " + ", ".join(s.name for s in chaosd),
        )
    node_url = row.get("node")
    if not node_url:
        only = [(s, n) for s in candidates for n in s.nodes()]
        if len(only) == 1:
            return ChaosdTarget(*only[0])
        raise WriteRefused(
            f"experiments: row {i}: a Chaosd row needs node (the chaosd address)",
            hint="known nodes: " + ", ".join(n.url for _, n in only) if only else None,
        )
    for source in candidates:
        node = source.node(str(node_url))
        if node is not None:
            return ChaosdTarget(source, node)
    known = [n.url for s in candidates for n in s.nodes()]
    raise WriteRefused(
        f"experiments: row {i}: {node_url!r} is not a node of "
        + ", ".join(f'chaosd source "{s.name}"' for s in candidates),
        hint=("known nodes: " + ", ".join(known)) if known else "configure it in nodes = [...]",
    )


def _attack(i: int, row: dict, chaosd: list[Any]) -> ChaosdAttack:
    extra = sorted(k for k, v in row.items() if v is not None and k not in INSERT_COLUMNS)
    if extra:
        raise WriteRefused(
            f"experiments: row {i}: column{'s' if len(extra) > 1 else ''} {', '.join(extra)} "
            "do not apply to Chaosd rows",
            hint="a Chaosd attack takes source, node, kind, action, duration, spec (and uid/name)",
        )
    kind = str(row.get("kind") or "")
    route = ROUTES.get(kind) or ROUTES.get(kind.lower())
    if route is None:
        raise WriteRefused(
            f"experiments: row {i}: chaosd has no attack kind {kind!r}"
            if kind
            else f"experiments: row {i}: a Chaosd row needs kind",
            hint="kinds: " + ", ".join(KEYS) + " (host, file and http are not served over HTTP)",
        )
    target = _target(i, row, chaosd)
    spec = row.get("spec")
    if isinstance(spec, str):
        try:
            spec = json.loads(spec) if spec.strip() else {}
        except ValueError as err:
            raise WriteRefused(f"experiments: row {i}: spec is not JSON: {err}") from None
    if spec is None:
        spec = {}
    if not isinstance(spec, dict):
        raise WriteRefused(
            f"experiments: row {i}: spec must be a JSON object (the attack body), not {type(spec).__name__}"
        )
    body, problems = attack_body(
        route, spec, action=row.get("action"), duration=row.get("duration"), uid=row.get("uid") or row.get("name")
    )
    ref = ObjectRef(target.source.name, route, "", body["uid"])
    return ChaosdAttack(target, ref, route=route, body=body, problems=problems)


def attack_body(
    route: str, spec: dict, *, action: Any = None, duration: Any = None, uid: Any = None
) -> tuple[dict, list[str]]:
    """The JSON body for ``POST /api/attack/{route}`` and the problems chaosd would reject it for.

    >>> attack_body("process", {"process": 1234}, action="stop", uid="u")
    ({'process': '1234', 'action': 'stop', 'signal': 19, 'uid': 'u'}, [])
    >>> attack_body("kafka", {"topic": "t"}, action="fill", uid="u")[0]["Action"]
    'fill'
    >>> attack_body("user_defined", {"attackCmd": "true"}, uid="u")[1]
    ['user_defined needs recoverCmd']
    """
    # Never send kind (API.md 2.4); the uid comes from the uid/name column or is new (a copied
    # spec carries its old experiment's uid); derived keys are the attack's output, not input.
    body = {k: v for k, v in spec.items() if k not in ("kind", "uid") and k not in DERIVED}
    if route == "kafka":
        body.pop("Action", None)  # set from action below
    problems: list[str] = []
    keys = KEYS[route]
    for key in list(body):
        if key in COMMON_KEYS:
            continue
        if key not in keys:
            problems.append(f"{route} has no field {key!r} (fields: {', '.join(sorted(keys))})")
            continue
        body[key], problem = _typed(key, body[key], keys[key])
        if problem:
            problems.append(problem)
    for name, value in (("action", action), ("duration", duration)):
        if value is None or value == "":
            continue
        if body.get(name) not in (None, "", value):
            problems.append(f"{name} column {value!r} differs from spec.{name} {body[name]!r}")
        body[name] = str(value)
    if route == "process":
        _process_signal(body, problems)
    if route == "kafka" and body.get("action"):
        body["Action"] = body["action"]  # chaosd validates the untagged field (API.md 2.6)
    allowed = ACTIONS[route]
    act = body.get("action") or ""
    if allowed is not None and act not in allowed:
        problems.append(
            f"{route} needs action, one of {', '.join(allowed)}"
            if not act
            else f"{route} has no action {act!r} (actions: {', '.join(allowed)})"
        )
    for need in REQUIRED.get(route, ()) + REQUIRED.get((route, act), ()):
        options = need if isinstance(need, tuple) else (need,)
        if not any(body.get(o) not in (None, "") for o in options):
            problems.append(f"{route}{' ' + act if (route, act) in REQUIRED else ''} needs {' or '.join(options)}")
    if body.get("schedule") and not body.get("duration"):
        problems.append("a scheduled attack needs duration (how long each run lasts)")
    body["uid"] = str(uid or uuid.uuid4())
    return body, problems


def _process_signal(body: dict, problems: list[str]) -> None:
    """chaosd has no default signal (0 is a silent no-op): take it from the action, or refuse."""
    if body.get("signal") in (None, 0):
        act = body.get("action")
        if act in PROCESS_SIGNALS:
            body["signal"] = PROCESS_SIGNALS[act]
        else:
            problems.append("process needs signal (e.g. 19 to stop, 9 to kill) or action stop/kill")
    elif not body.get("action"):
        body["action"] = {19: "stop"}.get(body["signal"], "kill")


def _typed(key: str, value: Any, kind: str) -> tuple[Any, str | None]:
    """``value`` as chaosd's Go type wants it (numbers from numeric strings, strings from numbers)."""
    if kind == "int":
        if isinstance(value, bool):
            return value, f"{key} must be a number"
        if isinstance(value, int):
            return value, None
        if isinstance(value, float) and value.is_integer():
            return int(value), None
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            return int(value), None
        return value, f"{key} must be a whole number, not {value!r}"
    if kind == "bool":
        return value, None if isinstance(value, bool) else f"{key} must be true or false"
    if kind == "list":
        return value, None if isinstance(value, list) else f"{key} must be a JSON array"
    if kind == "str":
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return str(value), None
        return value, None if isinstance(value, str) else f"{key} must be a string"
    return value, None


def _target_error(err: ChaosqlError) -> TargetError:
    """A source error as the TargetError the plan reports (chaosd's own message when it has one)."""
    status = getattr(err, "status", None)
    if status is None:
        status = 403 if isinstance(err, Forbidden) else 503
    return TargetError(status, getattr(err, "code", "") or type(err).__name__, err.message)
