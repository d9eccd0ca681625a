"""A write plan: the list of small operations one INSERT/UPDATE/DELETE becomes.

Every operation says what it will do (``describe``), checks it without changing anything
(``validate``: a server-side dry run, or a local check for files), does it (``apply``) and, where
possible, takes it back (``undo``). ``Plan`` runs them in that order for a whole statement:

1. validate every operation; if any fails, nothing is written and the error names the row;
2. apply them one by one; if one fails, undo the applied ones in reverse order and say exactly
   what state is left (``WriteFailed``).

The kinds of operation (``Create``, ``MergePatch``, ``Delete``) talk to a ``Target``: the live
Kubernetes API (``chaosql.writers.kube``) or a snapshot directory (``chaosql.writers.snapshot``).
Other systems plug in by subclassing ``Operation`` (``chaosql.writers.chaosd``: ChaosdAttack and
ChaosdRecover).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from chaosql.errors import ChaosqlError, Forbidden, QueryCancelled, WriteCancelled, WriteFailed, WriteRefused
from chaosql.sources.base import CallLog

#: How often a patch or delete is retried after a 409 Conflict (each time on a fresh read).
CONFLICT_RETRIES = 5


@dataclass(frozen=True)
class ObjectRef:
    """Which object: its cluster (configured source name), kind, namespace and name."""

    cluster: str
    kind: str
    namespace: str
    name: str

    def __str__(self) -> str:
        return f"{self.cluster}/{self.namespace}/{self.name}" if self.namespace else f"{self.cluster}/{self.name}"


class TargetError(Exception):
    """A target refused or failed one call: HTTP-like ``status`` (403, 404, 409, 422, 500...),
    the API's ``reason`` (Forbidden, Conflict, Invalid...) and its ``message``."""

    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.status, self.reason, self.message = status, reason, message


class Skipped(Exception):
    """Raised by a conflict retry when the object no longer matches the statement's WHERE."""


class Target(Protocol):
    """Where objects are written: one Kubernetes cluster, or a snapshot directory. Each call is
    recorded in ``log`` (the statement's), so ``-v`` and EXPLAIN ANALYZE show it."""

    label: str  # for messages: cluster "prod" (kube), snapshot "dir"

    def path(self, ref: ObjectRef, *, collection: bool = False) -> str: ...

    def create(self, ref: ObjectRef, obj: dict, *, dry_run: bool, log: CallLog | None = None) -> dict: ...

    def patch(self, ref: ObjectRef, patch: dict, *, dry_run: bool, log: CallLog | None = None) -> dict: ...

    def delete(
        self, ref: ObjectRef, *, preconditions: dict | None, dry_run: bool, log: CallLog | None = None
    ) -> dict | None: ...

    def get(self, ref: ObjectRef, *, log: CallLog | None = None) -> dict | None: ...


@dataclass
class WriteContext:
    """What operations may use while running: settings, the statement's call log, and test hooks.

    ``log`` is the statement's: every call is recorded there, and a cancel of the statement (Ctrl-C,
    SIGTERM, a Postgres cancel request, the statement timeout) stops further forward calls.
    ``undoing()`` gives the context a rollback runs in: its calls go into the same log, but a cancel
    does not stop them. ``before_apply(index, operation)`` is called before each operation is
    applied; tests use it to inject a failure or a concurrent change between validation and apply.
    """

    settings: dict[str, Any] = field(default_factory=dict)
    before_apply: Callable[[int, Operation], None] | None = None
    warnings: list[str] = field(default_factory=list)
    log: CallLog = field(default_factory=CallLog)

    def cancelled(self) -> bool:
        return self.log.cancelled.is_set()

    def undoing(self) -> WriteContext:
        """This context for a rollback: same log of calls, no cancel."""
        return replace(self, log=CallLog(calls=self.log.calls, _lock=self.log._lock))


class Operation:
    """One planned call. Subclasses set ``method`` and implement the four steps."""

    method = ""
    #: the object as the target returned it after apply (server values: uid, creationTimestamp)
    result: dict | None = None
    #: True once apply succeeded
    applied = False
    #: True when a conflict retry found the object no longer matching; nothing was done
    skipped = False
    #: set by a failed apply that may have changed something anyway (an attack chaosd may have
    #: carried out): what is known, so the error never says nothing was written
    uncertain: str | None = None

    ref: ObjectRef

    def describe(self) -> tuple[str, str, str]:
        """(method, path, summary) as EXPLAIN shows it."""
        raise NotImplementedError

    def checks(self) -> str:
        """What ``validate`` asks, as EXPLAIN ANALYZE tells it: the target's dry run by default."""
        return str(getattr(getattr(self, "target", None), "checks", "a dry run"))

    def validate(self, ctx: WriteContext) -> None:
        """Check the operation without changing anything; raise ``TargetError`` if it would fail."""
        raise NotImplementedError

    def apply(self, ctx: WriteContext) -> None:
        raise NotImplementedError

    def undo(self, ctx: WriteContext) -> str:
        """Take the applied operation back; return what was done. Raise when it cannot be."""
        raise NotImplementedError(f"{self.method} {self.ref} cannot be undone")

    def what(self) -> str:
        """Past tense for state messages: "created c1/ns/x"."""
        return f"{self.method} {self.ref}"


@dataclass(eq=False)
class Create(Operation):
    """Create ``obj`` (a full manifest)."""

    target: Target
    ref: ObjectRef
    obj: dict
    method = "POST"

    def describe(self) -> tuple[str, str, str]:
        spec = self.obj.get("spec") or {}
        bits = [f"create {self.ref.kind} {self.ref}"]
        bits += [f"{k}={spec[k]}" for k in ("action", "mode", "duration", "type", "schedule", "entry") if spec.get(k)]
        return self.method, self.target.path(self.ref, collection=True), " ".join(bits)

    def validate(self, ctx: WriteContext) -> None:
        self.target.create(self.ref, copy.deepcopy(self.obj), dry_run=True, log=ctx.log)

    def apply(self, ctx: WriteContext) -> None:
        self.result = self.target.create(self.ref, copy.deepcopy(self.obj), dry_run=False, log=ctx.log)
        self.applied = True

    def undo(self, ctx: WriteContext) -> str:
        uid = ((self.result or {}).get("metadata") or {}).get("uid")
        self.target.delete(self.ref, preconditions={"uid": uid} if uid else None, dry_run=False, log=ctx.log)
        return f"deleted {self.ref} again"

    def what(self) -> str:
        return f"created {self.ref.kind} {self.ref}"


class _Retrying(Operation):
    """A change to an object that was read: a 409 Conflict (the object changed since) re-reads it
    through ``refresh`` and tries again with the change rebuilt from the fresh object; an object
    deleted meanwhile, or no longer matching the statement, is skipped with a warning."""

    refresh: Callable[[], tuple[dict, dict]] | None = None
    not_done = "not changed"

    def _call(self, dry_run: bool, log: CallLog) -> Any:
        raise NotImplementedError

    def _refreshed(self, fresh: tuple[dict, dict]) -> None:
        raise NotImplementedError

    def _run(self, ctx: WriteContext, *, dry_run: bool) -> bool:
        """Call until it succeeds or is skipped; False when skipped."""
        if self.skipped:
            return False
        for attempt in range(CONFLICT_RETRIES + 1):
            try:
                self.result = self._call(dry_run, ctx.log)
                return True
            except TargetError as err:
                if self.refresh is None or err.status not in (404, 409) or attempt == CONFLICT_RETRIES:
                    raise
                if err.status == 404:
                    self.skipped = True
                    ctx.warnings.append(
                        f"{self.ref}: was deleted concurrently"
                        + ("" if self.method == "DELETE" else f"; {self.not_done}")
                    )
                    return False
                try:
                    self._refreshed(self.refresh())
                except Skipped as why:
                    self.skipped = True
                    ctx.warnings.append(f"{self.ref}: {why}; {self.not_done}")
                    return False
        return False

    def validate(self, ctx: WriteContext) -> None:
        # controllers rewrite experiments often: a conflict here is retried like one while applying
        self._run(ctx, dry_run=True)


@dataclass(eq=False)
class MergePatch(_Retrying):
    """A JSON merge patch (RFC 7386) of one object.

    ``before`` is the object as read, so ``undo`` can write the old values back. ``refresh`` is
    called after a 409 Conflict: it re-reads the object, checks that it still matches the
    statement and returns ``(new patch, fresh object)``, or raises ``Skipped``.
    """

    target: Target
    ref: ObjectRef
    patch: dict
    before: dict | None = None
    summary: str = ""
    refresh: Callable[[], tuple[dict, dict]] | None = None
    method = "PATCH"
    not_done = "not updated"

    def describe(self) -> tuple[str, str, str]:
        return self.method, self.target.path(self.ref), self.summary or f"merge-patch {self.ref.kind} {self.ref}"

    def _call(self, dry_run: bool, log: CallLog) -> Any:
        return self.target.patch(self.ref, self.patch, dry_run=dry_run, log=log)

    def _refreshed(self, fresh: tuple[dict, dict]) -> None:
        self.patch, self.before = fresh

    def apply(self, ctx: WriteContext) -> None:
        self.applied = self._run(ctx, dry_run=False)

    def undo(self, ctx: WriteContext) -> str:
        restore = getattr(self.target, "restore", None)  # a file is put back byte for byte
        if restore is not None:
            restore(self.ref, log=ctx.log)
        elif self.before is None:
            raise NotImplementedError(f"no earlier state of {self.ref} to restore")
        else:
            self.target.patch(self.ref, reverse_patch(self.patch, self.before), dry_run=False, log=ctx.log)
        return f"restored {self.ref}"

    def what(self) -> str:
        return f"patched {self.ref.kind} {self.ref}"


@dataclass(eq=False)
class Delete(_Retrying):
    """Delete one object, with preconditions (uid, resourceVersion) so a recreated or changed
    object is not deleted by mistake. ``force`` also clears its finalizers (Chaos Mesh's, LitmusChaos's)."""

    target: Target
    ref: ObjectRef
    preconditions: dict | None = None
    force: bool = False
    before: dict | None = None
    refresh: Callable[[], tuple[dict, dict]] | None = None  # -> (preconditions, fresh object)
    method = "DELETE"
    not_done = "not deleted"

    def describe(self) -> tuple[str, str, str]:
        summary = f"delete {self.ref.kind} {self.ref}"
        if self.force:
            summary += " (forced: then clear its finalizers, no recovery)"
        return self.method, self.target.path(self.ref), summary

    def _call(self, dry_run: bool, log: CallLog) -> Any:
        return self.target.delete(self.ref, preconditions=self.preconditions, dry_run=dry_run, log=log)

    def _refreshed(self, fresh: tuple[dict, dict]) -> None:
        self.preconditions, self.before = fresh

    def apply(self, ctx: WriteContext) -> None:
        self.applied = self._run(ctx, dry_run=False)
        if self.applied and self.force and self.result and (self.result.get("metadata") or {}).get("finalizers"):
            force = getattr(self.target, "force_finalize", None)
            if force is not None:
                force(self.ref, log=ctx.log)

    def undo(self, ctx: WriteContext) -> str:
        restore = getattr(self.target, "restore", None)  # files can be put back; API objects cannot
        if restore is None:
            raise NotImplementedError(f"{self.ref} cannot be undeleted")
        restore(self.ref, log=ctx.log)
        return f"restored {self.ref}"

    def what(self) -> str:
        return f"deleted {self.ref.kind} {self.ref}"


def reverse_patch(patch: dict, before: dict) -> dict:
    """The merge patch that puts back what ``patch`` changed in ``before``.

    >>> reverse_patch({"metadata": {"labels": {"a": "2", "b": None}}}, {"metadata": {"labels": {"a": "1", "b": "x"}}})
    {'metadata': {'labels': {'a': '1', 'b': 'x'}}}
    >>> reverse_patch({"spec": {"new": 1}}, {"spec": {}})
    {'spec': {'new': None}}
    """
    out: dict = {}
    for key, value in patch.items():
        if key == "resourceVersion":
            continue
        old = before.get(key) if isinstance(before, dict) else None
        if isinstance(value, dict) and isinstance(old, dict):
            out[key] = reverse_patch(value, old)
        else:
            out[key] = copy.deepcopy(old)
    return out


def merge_diff(old: Any, new: Any) -> Any:
    """The merge patch that turns ``old`` into ``new`` (keys that disappear become null).

    >>> merge_diff({"a": 1, "b": {"c": 1, "d": 2}}, {"a": 1, "b": {"c": 3}, "e": 4})
    {'b': {'c': 3, 'd': None}, 'e': 4}
    """
    if not isinstance(old, dict) or not isinstance(new, dict):
        return copy.deepcopy(new)
    out: dict = {}
    for key, value in new.items():
        if key not in old:
            out[key] = copy.deepcopy(value)
        elif old[key] != value:
            out[key] = merge_diff(old[key], value)
    for key in old:
        if key not in new:
            out[key] = None
    return out


# --- the plan ------------------------------------------------------------------------------------


@dataclass
class Plan:
    """The operations of one statement on ``table`` (``verb``: INSERT, UPDATE or DELETE)."""

    table: str
    verb: str
    operations: list[Operation] = field(default_factory=list)
    #: what planning left out and why (rows already as SET asks, rows being deleted), for warnings
    notes: list[str] = field(default_factory=list)

    def explain(self) -> list[tuple[str, str, str]]:
        return [op.describe() for op in self.operations]

    def validate(self, ctx: WriteContext) -> None:
        """Dry-run every operation; on any failure raise, naming the first failing row."""
        failures: list[tuple[Operation, TargetError]] = []
        for op in self.operations:
            ctx.log.check()  # nothing is written before every row is checked: stop here
            try:
                op.validate(ctx)
            except TargetError as err:
                failures.append((op, err))
        if not failures:
            return
        op, first = failures[0]
        more = f" ({len(failures) - 1} more rows fail too)" if len(failures) > 1 else ""
        where = getattr(op.target, "label", "") if hasattr(op, "target") else ""
        text = (
            f"{self.table}: {where + ': ' if where else ''}{self.verb} refused for row "
            f"{self.operations.index(op) + 1} ({op.ref.kind} {op.ref}): {first.message}{more}"
        )
        hint = "nothing was written"
        if first.status in (401, 403):
            raise Forbidden(text, source=op.ref.cluster, hint=hint + "; ask for write access (RBAC) to this kind")
        raise WriteRefused(text, hint=hint)

    def apply(self, ctx: WriteContext) -> list[Operation]:
        """Apply in order; on a failure or a cancel, undo what was applied and raise
        ``WriteFailed`` (``WriteCancelled``) saying what state is left. The undo runs even after a
        cancel: a cancel stops the statement going forward, never its rollback."""
        done: list[Operation] = []
        for index, op in enumerate(self.operations):
            try:
                ctx.log.check()
                if ctx.before_apply is not None:
                    ctx.before_apply(index, op)
                op.apply(ctx)
            except (TargetError, ChaosqlError) as err:
                raise self._rolled_back(op, index, err, done, ctx) from err
            except KeyboardInterrupt as err:  # a library user's Ctrl-C in the middle of a call
                raise self._rolled_back(op, index, err, done, ctx, in_flight=True) from err
            if op.applied:
                done.append(op)
        return done

    def _rolled_back(
        self,
        failed: Operation,
        index: int,
        err: BaseException,
        done: list[Operation],
        ctx: WriteContext,
        *,
        in_flight: bool = False,
    ) -> WriteFailed:
        """Undo ``done`` (newest first) and describe the state left, briefly in the message and
        object by object in ``details``."""
        cancelled = isinstance(err, (QueryCancelled, KeyboardInterrupt)) or ctx.cancelled()
        if isinstance(err, KeyboardInterrupt):
            reason = "interrupted"
        else:  # a cancel's QueryCancelled says the reason the statement's log was given
            reason = err.message if isinstance(err, (TargetError, ChaosqlError)) else str(err)
        where = f"row {index + 1} of {len(self.operations)}"
        if cancelled:
            head = f"{self.table}: {self.verb} stopped at {where}: {reason}"
        else:
            head = f"{self.table}: {self.verb} failed at {where} ({failed.ref.kind} {failed.ref}): {reason}"
        undo_ctx = ctx.undoing()
        undone, left = [], []
        for op in reversed(done):
            try:
                undone.append(op.undo(undo_ctx))
            except NotImplementedError:
                left.append(op.what())
            except (TargetError, ChaosqlError) as undo_err:
                left.append(f"{op.what()} (undo failed: {getattr(undo_err, 'message', undo_err)})")
        undone.reverse()
        left.reverse()
        if in_flight:
            left.append(f"row {index + 1} ({failed.ref.kind} {failed.ref}) may or may not have been applied")
        untouched = len(self.operations) - index - 1
        state = []
        if failed.uncertain:  # the failed call itself may have done something: say what is known
            state.append(f"row {index + 1}: {failed.uncertain}")
        if undone:
            state.append(f"rolled back{_count(undone)}: {_first(undone)}")
        if left:
            state.append(f"still applied{_count(left)}: {_first(left)}")
        if not done and not in_flight:
            state.append("no other row had been written" if failed.uncertain else "nothing had been written")
        elif not left:
            state.append(
                "the other rows are as before the statement"
                if failed.uncertain
                else "the cluster is as before the statement"
            )
        if untouched:
            state.append(f"{untouched} later rows were not attempted")
        details = [f"rolled back: {what}" for what in undone] + [f"still applied: {what}" for what in left]
        hint = "-v lists every object" if len(undone) > SHOWN or len(left) > SHOWN else None
        kind = WriteCancelled if cancelled else WriteFailed
        return kind(head + "; " + "; ".join(state), hint=hint, details=details)


#: How many objects a write's error message names; ``details`` (``-v``) has them all.
SHOWN = 5


def _count(items: list[str]) -> str:
    return f" {len(items)}" if len(items) > SHOWN else ""


def _first(items: list[str]) -> str:
    """The first few of ``items``, and how many more.

    >>> _first(["a", "b"])
    'a, b'
    >>> _first([str(i) for i in range(8)])
    '0, 1, 2, 3, 4 and 3 more'
    """
    if len(items) <= SHOWN:
        return ", ".join(items)
    return ", ".join(items[:SHOWN]) + f" and {len(items) - SHOWN} more"
