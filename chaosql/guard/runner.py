"""The evaluation loop: each guard in a thread of its own, with a Session of its own over the
process's shared sources (and their watch caches), evaluating ``when`` every ``every`` seconds.

One evaluation:

1. run ``when`` (at most ``timeout`` seconds); each row is a breach, named by its key columns;
2. a source that cannot be reached, refuses or times out makes the guard *blind*: ``hold`` does
   nothing and keeps what was pending; ``act`` runs ``blind`` once the guard has been blind for
   ``for`` seconds and acts on its rows instead;
3. otherwise the tracker (``state``) says which breaches are new, which ended (a blip shorter than
   ``for``), which are due (breaching for ``for`` seconds and not acted on within ``cooldown``);
4. the due rows are the ``breach`` table of ``then`` (``action``); what changed is logged and each
   Kubernetes object gets an Event (``events``).

Every decision is logged with its rows and statement (``log``). ``stop()`` lets each loop finish
what it is doing: a read in progress is cancelled, a write completes (it halts chaos); asked again
(``abandon_write``), the write is cancelled and rolls back what it did, as every cancelled chaosql
write does. Either way no write is left half-applied.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from chaosql.daemon.log import EventLog
from chaosql.errors import ChaosqlError, QueryCancelled, SourceError
from chaosql.guard import action, events
from chaosql.guard.definition import DEFAULT_KEY, Guard
from chaosql.guard.state import Key, Tracker

if TYPE_CHECKING:
    import pyarrow as pa

    from chaosql.engine.session import Session

IDLE, READING, WRITING = "idle", "reading", "writing"


class GuardLoop:
    """One guard: its session, what it remembers, and what the health endpoint reports."""

    def __init__(
        self,
        guard: Guard,
        session: Session,
        log: EventLog,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.guard = guard
        self.session = session
        self.log = log
        self.clock = clock
        self.tracker = Tracker(for_=guard.for_, cooldown=guard.cooldown)
        self.stopping = threading.Event()
        self.phase = IDLE
        self._phase_lock = threading.Lock()
        self.thread: threading.Thread | None = None
        self.fatal: ChaosqlError | None = None  # the first evaluation found `when` cannot run at all
        # for the health endpoint
        self.evaluations = 0
        self.last_started: float | None = None
        self.last_ok: float | None = None
        self.last_action: float | None = None
        self.actions = 0
        self.errors = 0
        self.blind = False
        session.set("timeout", guard.timeout)

    # --- the loop -------------------------------------------------------------------------------

    def start(self) -> None:
        self.thread = threading.Thread(target=self.run, name=f"chaosql-guard-{self.guard.name}", daemon=True)
        self.thread.start()

    def run(self) -> None:
        """Evaluate every ``every`` seconds (on a fixed grid: a slow evaluation skips ticks, it
        never makes the next one late) until stopped."""
        started = self.clock()
        tick = 0
        while not self.stopping.is_set():
            try:
                self.evaluate()
            except Exception as err:  # never let one guard's bug end its loop silently
                self.errors += 1
                self.log.error("internal-error", guard=self.guard.name, error=f"{type(err).__name__}: {err}")
            if self.fatal is not None:
                return
            now = self.clock()
            tick = max(tick + 1, math.floor((now - started) / self.guard.every) + 1)
            self.stopping.wait(max(0.0, started + tick * self.guard.every - now))

    def stop(self, *, abandon_write: bool = False) -> None:
        """Finish the current evaluation and stop: a read is cancelled, a write runs to its end
        (it halts chaos: stopping must not drop it). ``abandon_write`` (a second signal) cancels
        the write too, which then rolls back what it had done, so it is whole or not at all."""
        self.stopping.set()
        with self._phase_lock:
            if self.phase == READING or (self.phase == WRITING and abandon_write):
                self.session.cancel("guard stopping" if self.phase == READING else "guard stopped mid-action")

    def _enter(self, phase: str) -> bool:
        """Move to ``phase``; False when stopping (nothing new is started then, except that an
        action decided on still runs: stopping never drops a halt that is due)."""
        with self._phase_lock:
            if self.stopping.is_set() and phase == READING:
                return False
            self.phase = phase
            return True

    # --- one evaluation ---------------------------------------------------------------------------

    def evaluate(self) -> None:
        guard = self.guard
        now = self.clock()
        self.last_started = now
        if not self._enter(READING):
            return
        try:
            result = self.session.execute(guard.when)
            table = result.arrow()
        except (SourceError, QueryCancelled) as err:
            if self.stopping.is_set():
                return
            self._blind(err, now)
            return
        except ChaosqlError as err:
            self.errors += 1
            if self.evaluations == 0:
                self.fatal = err
            self.log.error("when-failed", guard=guard.name, error=str(err), statement=guard.when)
            return
        finally:
            self._enter(IDLE)
        self.evaluations += 1
        self.last_ok = self.clock()
        if self.blind:
            self.blind = False
            self.log.info(
                "sight-restored", guard=guard.name, blind_for=round(now - (self.tracker.blind_since or now), 1)
            )
        rows = table.to_pylist()
        key_columns = self._key_columns(table.column_names)
        if key_columns is None:
            return
        by_key: dict[Key, list[int]] = {}
        for index, row in enumerate(rows):
            by_key.setdefault(_key(row, key_columns), []).append(index)
        seen = self.tracker.observe(by_key, now=now)
        self.log.debug(
            "evaluated",
            guard=guard.name,
            breaches=len(by_key),
            elapsed_ms=round(result.elapsed * 1000, 1),
            warnings=result.warnings or None,
        )
        for key, lasted in seen.ended:
            self.log.info("breach-ended", guard=guard.name, key=_shown(key, key_columns), lasted=round(lasted, 1))
        if seen.new:
            self.log.info(
                "breach",
                guard=guard.name,
                rows=[rows[i] for key in seen.new for i in by_key[key]],
                acts_after=guard.for_,
                statement=guard.when,
            )
        if seen.cooling:
            self.log.debug("cooling-down", guard=guard.name, keys=[_shown(k, key_columns) for k in seen.cooling])
        if seen.due:
            indices = [i for key in seen.due for i in by_key[key]]
            since = {key: now - self.tracker.pending[key] for key in seen.due}
            self.act(table.take(indices), seen.due, key_columns, since, now=now)

    def _key_columns(self, columns: list[str]) -> list[str] | None:
        guard = self.guard
        if guard.key:
            missing = [c for c in guard.key if c not in columns]
            if missing:
                self.errors += 1
                self.log.error(
                    "when-failed",
                    guard=guard.name,
                    error=f"key column {missing[0]!r} is not in the result of when (columns: {', '.join(columns)})",
                )
                return None
            return list(guard.key)
        return [c for c in DEFAULT_KEY if c in columns] or list(columns)

    def _blind(self, err: ChaosqlError, now: float) -> None:
        guard = self.guard
        lasted = self.tracker.blind(now=now)
        if not self.blind:
            self.blind = True
            self.log.warning("blind", guard=guard.name, error=str(err), on_blind=guard.on_blind)
        else:
            self.log.debug("still-blind", guard=guard.name, blind_for=round(lasted, 1), error=str(err))
        if guard.on_blind != "act" or lasted < guard.for_ or not guard.blind:
            return
        try:
            self._enter(READING)
            table = self.session.execute(guard.blind).arrow()
        except ChaosqlError as failed:
            self.errors += 1
            self.log.error("blind-failed", guard=guard.name, error=str(failed), statement=guard.blind)
            return
        finally:
            self._enter(IDLE)
        key_columns = self._key_columns(table.column_names)
        if key_columns is None or not table.num_rows:
            return
        keys = [_key(row, key_columns) for row in table.to_pylist()]
        due = [k for k in dict.fromkeys(keys) if not self.tracker.cooling(k, now)]
        if due:
            wanted = set(due)
            indices = [i for i, k in enumerate(keys) if k in wanted]
            self.act(table.take(indices), due, key_columns, {k: lasted for k in due}, now=now, blind=True)

    # --- acting ---------------------------------------------------------------------------------

    def act(
        self,
        breach: pa.Table,
        keys: list[Key],
        key_columns: list[str],
        lasted: dict[Key, float],
        *,
        now: float,
        blind: bool = False,
    ) -> None:
        guard = self.guard
        rows = breach.to_pylist()
        self.log.info(
            "act" if not guard.dry_run else "would-act",
            guard=guard.name,
            why="blind" if blind else "breach",
            rows=rows,
            statement=guard.then,
            dry_run=guard.dry_run or None,
        )
        self._enter(WRITING)
        started = self.clock()
        try:
            outcome = action.run(self.session, guard, breach)
        except ChaosqlError as err:
            self.errors += 1
            self.log.error("action-failed", guard=guard.name, error=str(err), statement=guard.then)
            return  # nothing was written (or it was rolled back): the next evaluation tries again
        finally:
            self._enter(IDLE)
        self.tracker.acted(keys, now=now)
        self.last_action = self.clock()
        self.actions += 1
        elapsed = round((self.clock() - started) * 1000, 1)
        if guard.dry_run:
            self.log.info(
                "dry-run",
                guard=guard.name,
                statement=outcome.statement,
                plan=outcome.plan,
                calls=outcome.calls,
                refused_over_max_rows=outcome.over_limit or None,
                elapsed_ms=elapsed,
            )
            return
        self.log.info(
            "acted",
            guard=guard.name,
            status=outcome.status,
            changed=outcome.changed,
            statement=outcome.statement,
            warnings=outcome.warnings or None,
            elapsed_ms=elapsed,
        )
        self._post_events(outcome, rows, key_columns, lasted)

    def _post_events(
        self, outcome: action.Outcome, rows: list[dict], key_columns: list[str], lasted: dict[Key, float]
    ) -> None:
        guard = self.guard
        column = guard.value or _value_column(rows, key_columns)
        posted: set[tuple] = set()
        for changed in outcome.changed:
            # one Event per object: a LitmusChaos engine of several runs returns a row per run
            identity = tuple(changed.get(k) for k in ("cluster", "kind", "namespace", "name", "uid", "source"))
            if identity in posted:
                continue
            posted.add(identity)
            row = _matching(rows, changed, column)
            key = _key(row, key_columns) if row is not None else None
            text = events.message(
                guard,
                column if row is not None else None,
                row.get(column) if row is not None and column else None,
                lasted.get(key) if key is not None else None,
            )
            try:
                involved = events.post(self.session, guard, changed, text)
            except ChaosqlError as err:
                self.log.warning("event-failed", guard=guard.name, object=changed, error=str(err))
                continue
            if involved is not None:
                self.log.info("event", guard=guard.name, reason=guard.event_reason, object=involved, message=text)

    # --- what the health endpoint shows ------------------------------------------------------------

    def status(self, now: float) -> dict[str, Any]:
        guard = self.guard
        age = None if self.last_started is None else round(now - self.last_started, 1)
        return {
            "name": guard.name,
            "state": "blind" if self.blind else ("pending" if self.tracker.pending else "watching"),
            "dry_run": guard.dry_run,
            "evaluations": self.evaluations,
            "seconds_since_evaluation": age,
            "pending": len(self.tracker.pending),
            "actions": self.actions,
            "errors": self.errors,
            "phase": self.phase,
        }

    def healthy(self, now: float) -> bool:
        """Whether the loop is alive: an evaluation started lately enough (a stuck one is not)."""
        if self.fatal is not None:
            return False
        last = self.last_started
        limit = self.guard.every + 3 * self.guard.timeout + 5
        return last is None or now - last <= limit


def _key(row: dict, columns: list[str]) -> Key:
    return tuple(_hashable(row.get(c)) for c in columns)


def _hashable(value: Any) -> Any:
    try:
        hash(value)
        return value
    except TypeError:
        return json.dumps(value, default=str, sort_keys=True)


def _shown(key: Key, columns: list[str]) -> dict[str, Any]:
    return dict(zip(columns, key))


def _value_column(rows: list[dict], key_columns: list[str]) -> str | None:
    """The column an Event quotes when the guard names none: the first number not in the key."""
    for name, value in (rows[0] if rows else {}).items():
        if name not in key_columns and _is_number(value):
            return name
    return None


def _matching(rows: list[dict], changed: dict[str, Any], column: str | None) -> dict | None:
    """The breach row about the changed object (same cluster, namespace, name, kind, uid where
    both have them); of several (one per series), the one with the largest value."""
    found = []
    for row in rows:
        shared = [c for c in ("cluster", "namespace", "name", "kind", "uid") if c in row and c in changed]
        if shared and all(row[c] == changed[c] for c in shared):
            found.append(row)
    if not found:
        return rows[0] if len(rows) == 1 else None

    def size(row: dict) -> float:
        value = row.get(column) if column else None
        return float(value) if column and _is_number(value) else -math.inf  # type: ignore[arg-type]

    return max(found, key=size)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)
