"""Run a sweep: one step per value, each leaving nothing behind, until the steady state breaks.

One step, for a value v:

1. **before**: the steady-state check must pass (else the system is not steady: the sweep stops);
2. **create** the template's experiment with v at the parameter's path (``INSERT INTO
   experiments``: validated by a server-side dry run first, like every chaosql write), labelled
   ``chaosql/sweep=<run>`` so it can always be found again;
3. **settle** for ``settle`` seconds, then **during**: the check decides whether v passes;
4. **remove** it (``DELETE``; a Chaosd attack is recovered) and **wait for recovery**: the object
   gone and the check passing again, at most ``recover`` seconds (**after**).

The sweep stops at the first value that fails; with ``bisect`` it then tries values between the
last pass and the first fail until they are ``resolution`` apart. Whatever happens — a failed
write, a source down, a timeout, Ctrl-C, SIGTERM (which cancel a read or the step's INSERT, never a
removal) — the current step's experiment is removed, and
at the end every object labelled with the run is deleted and counted (``left`` says what could not
be, if anything).
"""

from __future__ import annotations

import secrets
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from chaosql.daemon.log import EventLog
from chaosql.errors import ChaosqlError, QueryCancelled
from chaosql.sweep.definition import Sweep

if TYPE_CHECKING:
    from chaosql.engine.session import Session

#: The label every experiment of a sweep run carries (its value: the run id).
RUN_LABEL = "chaosql/sweep"
PASS, FAIL, ERROR, INTERRUPTED = "pass", "fail", "error", "interrupted"
READING, CREATING = "reading", "creating"


class Interrupted(Exception):
    """The sweep was asked to stop (SIGINT, SIGTERM)."""


@dataclass
class Measure:
    phase: str  # before, during, after
    at: datetime
    value: float | None
    passed: bool
    detail: str = ""  # what the check found, or the error


@dataclass
class Step:
    index: int
    value: float
    name: str
    bisecting: bool = False
    outcome: str = ""
    message: str = ""
    measures: list[Measure] = field(default_factory=list)

    def measured(self, phase: str) -> Measure | None:
        return next((m for m in reversed(self.measures) if m.phase == phase), None)


@dataclass
class Result:
    run: str
    steps: list[Step] = field(default_factory=list)
    last_pass: float | None = None
    first_fail: float | None = None
    stopped: str = ""  # why the sweep ended early: an error, or "interrupted"
    left: list[str] = field(default_factory=list)  # experiments that could not be removed
    interrupted: bool = False


class SweepRunner:
    def __init__(self, sweep: Sweep, session: Session, log: EventLog) -> None:
        self.sweep, self.session, self.log = sweep, session, log
        self.run_id = datetime.now(UTC).strftime("%Y%m%d%H%M%S") + "-" + secrets.token_hex(2)
        self.stopping = threading.Event()
        self._busy = ""  # READING or CREATING while such a statement runs
        self._lock = threading.Lock()
        self._made: list[dict[str, Any]] = []  # what this run created (identity), for the cleanup
        session.set("timeout", sweep.timeout)
        session.set("confirm_rows", 10_000)  # the sweep's own deletes are bounded by what it made

    # --- stopping -------------------------------------------------------------------------------

    def stop(self) -> None:
        """Stop as soon as it is safe, then clean the current step up: a read in progress is
        cancelled, and so is the step's INSERT (a cancelled write rolls back what it made); a
        removal is never cancelled, it is what leaves nothing behind."""
        self.stopping.set()
        with self._lock:
            if self._busy in (READING, CREATING):
                self.session.cancel("sweep interrupted")

    @contextmanager
    def _busy_with(self, what: str) -> Iterator[None]:
        """Mark a statement ``stop()`` may cancel; a stop that came first prevents it."""
        with self._lock:
            self._check()
            self._busy = what
        try:
            yield
        except QueryCancelled:
            if self.stopping.is_set():  # cancelled by stop(): an interruption (a write rolled back)
                raise Interrupted() from None
            raise
        finally:
            with self._lock:
                self._busy = ""

    def _wait(self, seconds: float) -> None:
        if self.stopping.wait(max(0.0, seconds)):
            raise Interrupted()

    def _check(self) -> None:
        if self.stopping.is_set():
            raise Interrupted()

    # --- the sweep ------------------------------------------------------------------------------

    def run(self) -> Result:
        sweep, result = self.sweep, Result(self.run_id)
        self.log.info(
            "sweep",
            title=sweep.title,
            run=self.run_id,
            parameter=sweep.parameter.name,
            values=[sweep.parameter.shown(v) for v in sweep.parameter.values],
            check=sweep.check.describe(),
        )
        try:
            for value in sweep.parameter.values:
                step = self._step(result, value)
                if step.outcome == PASS:
                    result.last_pass = value
                    continue
                if step.outcome == FAIL:
                    result.first_fail = value
                break
            if result.first_fail is not None and result.last_pass is not None and sweep.parameter.bisect:
                self._bisect(result)
        except Interrupted:
            result.interrupted, result.stopped = True, "interrupted"
            self.log.warning("interrupted", run=self.run_id)
        finally:
            result.left = self._cleanup()
        self.log.info(
            "threshold" if result.first_fail is not None else "no-threshold",
            last_pass=self._shown(result.last_pass),
            first_fail=self._shown(result.first_fail),
            steps=len(result.steps),
            left=result.left or None,
        )
        return result

    def _bisect(self, result: Result) -> None:
        parameter = self.sweep.parameter
        assert result.last_pass is not None and result.first_fail is not None
        while result.first_fail - result.last_pass > parameter.resolution:
            middle = round((result.last_pass + result.first_fail) / 2 / parameter.resolution) * parameter.resolution
            if not result.last_pass < middle < result.first_fail:
                break
            step = self._step(result, middle, bisecting=True)
            if step.outcome == PASS:
                result.last_pass = middle
            elif step.outcome == FAIL:
                result.first_fail = middle
            else:
                break

    def _shown(self, value: float | None) -> str | None:
        return None if value is None else self.sweep.parameter.shown(value)

    # --- one step -------------------------------------------------------------------------------

    def _step(self, result: Result, value: float, *, bisecting: bool = False) -> Step:
        sweep = self.sweep
        index = len(result.steps) + 1
        step = Step(index, value, f"{sweep.template['name']}-{self.run_id[8:14]}-{index}", bisecting)
        result.steps.append(step)
        self.log.info("step", step=index, value=sweep.parameter.shown(value), bisecting=bisecting or None)
        made: dict[str, Any] | None = None
        try:
            before = self._measure(step, "before")
            if not before.passed:
                return self._end(step, result, ERROR, f"not in steady state before the step: {before.detail}")
            self._check()
            made = self._create(step)
            self._wait(sweep.settle)
            during = self._measure(step, "during", made)
            step.outcome = PASS if during.passed else FAIL
            step.message = during.detail
        except ChaosqlError as err:
            self._end(step, result, ERROR, str(err))
        except Interrupted:
            step.outcome, step.message = INTERRUPTED, "interrupted"
            raise
        finally:
            if made is not None:
                self._remove(made)
        if step.outcome in (PASS, FAIL):
            try:
                self._recover(step, made)
            except ChaosqlError as err:
                self._end(step, result, ERROR, f"did not recover: {err}")
        self.log.info(
            "step-done",
            step=index,
            value=sweep.parameter.shown(value),
            outcome=step.outcome,
            message=step.message or None,
        )
        return step

    def _end(self, step: Step, result: Result, outcome: str, message: str) -> Step:
        step.outcome, step.message = outcome, message
        result.stopped = f"step {step.index}: {message}"
        self.log.error("step-failed", step=step.index, error=message)
        return step

    def _measure(self, step: Step, phase: str, made: dict[str, Any] | None = None) -> Measure:
        sweep = self.sweep
        values = {
            "value": step.value,
            "name": (made or {}).get("name") or step.name,
            "namespace": sweep.template.get("namespace"),
            "cluster": (made or {}).get("cluster") or sweep.template.get("cluster"),
            "kind": sweep.template.get("kind"),
            "phase": phase,
            "started_at": (made or {}).get("created_at"),
        }
        sql = sweep.steady.bind({k: v for k, v in values.items() if v is not None})
        at = datetime.now(UTC)
        with self._busy_with(READING):
            found = self.session.execute(sql)
        self._check()  # a read cancelled by stop() is an interruption, not a failed check
        rows = found.rows()
        problem = sweep.check.verify(found.columns, rows)
        value = None
        if rows and sweep.column in found.columns:
            cell = rows[0][found.columns.index(sweep.column)]
            value = float(cell) if isinstance(cell, (int, float)) or hasattr(cell, "as_tuple") else None
        measure = Measure(phase, at, value, problem is None, problem or "")
        step.measures.append(measure)
        self.log.info("measured", step=step.index, phase=phase, value=value, passed=measure.passed, detail=problem)
        return measure

    def _create(self, step: Step) -> dict[str, Any]:
        """INSERT the step's experiment; returns what identifies it for the removal."""
        sweep = self.sweep
        row = sweep.row(step.value, step.name)
        if sweep.chaosd:
            row.pop("name", None)
            row["uid"] = str(uuid.uuid4())  # known before the attack is sent: it can always be recovered
        else:
            labels = dict(row.get("labels") or {})
            labels[RUN_LABEL] = self.run_id
            row["labels"] = labels
        columns = list(row)
        identity = {"uid": row["uid"]} if sweep.chaosd else {"name": step.name}
        with self._lock:  # recorded before the write: a cleanup after a crash mid-write still finds it
            self._made.append(identity)
        sql = (
            f"INSERT INTO experiments ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)}) "
            "RETURNING cluster, namespace, name, kind, uid, created_at"
        )
        with self._busy_with(CREATING):
            created = self.session.execute(sql, [row[c] for c in columns]).dicts()[0]
        identity.update(created)
        self.log.info(
            "created", step=step.index, experiment=_identity(created), value=sweep.parameter.shown(step.value)
        )
        return identity

    def _remove(self, made: dict[str, Any]) -> None:
        """Remove the step's experiment (a write: never cancelled midway)."""
        try:
            if self.sweep.chaosd:
                done = self.session.execute(
                    "DELETE FROM experiments WHERE source = 'chaosd' AND uid = ?", [made["uid"]]
                )
            else:
                done = self.session.execute(
                    "DELETE FROM experiments WHERE cluster = ? AND namespace = ? AND name = ? AND kind = ?",
                    [made["cluster"], made["namespace"], made["name"], made["kind"]],
                )
            self.log.info("removed", experiment=_identity(made), status=done.status)
        except ChaosqlError as err:  # the final cleanup tries again
            self.log.error("remove-failed", experiment=_identity(made), error=str(err))

    def _recover(self, step: Step, made: dict[str, Any] | None) -> None:
        """Wait until the experiment is gone and the steady state holds again (``after``)."""
        sweep = self.sweep
        deadline = time.monotonic() + sweep.recover
        while True:
            gone = made is None or not self._still_there(made)
            after = self._measure(step, "after", made)
            if gone and after.passed:
                return
            if time.monotonic() + sweep.poll > deadline:
                what = after.detail if gone else "the experiment is still there"
                raise _NotRecovered(f"not within {sweep.recover:g} s ({what})")
            self._wait(sweep.poll)

    def _still_there(self, made: dict[str, Any]) -> bool:
        if self.sweep.chaosd:
            sql = "SELECT count(*) FROM experiments WHERE source = 'chaosd' AND uid = ? AND phase = 'running'"
            return bool(self.session.execute(sql, [made["uid"]]).scalar())
        sql = "SELECT count(*) FROM experiments WHERE cluster = ? AND namespace = ? AND name = ? AND kind = ?"
        return bool(
            self.session.execute(sql, [made["cluster"], made["namespace"], made["name"], made["kind"]]).scalar()
        )

    # --- leaving nothing behind -------------------------------------------------------------------

    def _cleanup(self) -> list[str]:
        """Delete whatever this run created that is still there; returns what could not be."""
        sweep, left = self.sweep, []
        if not self._made:
            return []
        try:
            if sweep.chaosd:
                uids = [m["uid"] for m in self._made]
                marks = ", ".join("?" for _ in uids)
                self.session.execute(
                    f"DELETE FROM experiments WHERE source = 'chaosd' AND uid IN ({marks}) AND phase = 'running'", uids
                )
                rest = self.session.execute(
                    f"SELECT uid AS name FROM experiments WHERE source = 'chaosd' AND uid IN ({marks}) "
                    "AND phase = 'running'",
                    uids,
                )
            else:
                where = "kind = ? AND namespace = ? AND labels[?] = ?"
                params = [sweep.template["kind"], sweep.template["namespace"], RUN_LABEL, self.run_id]
                self.session.execute(f"DELETE FROM experiments WHERE {where} AND deleted_at IS NULL", params)
                rest = self.session.execute(f"SELECT name FROM experiments WHERE {where}", params)
            left = [str(r[0]) for r in rest.rows()]
        except ChaosqlError as err:
            left = [f"{m.get('name') or m.get('uid')} (cleanup failed: {err})" for m in self._made]
        self.log.info("cleanup", run=self.run_id, created=len(self._made), left=left or None)
        return left


class _NotRecovered(ChaosqlError):
    pass


def _identity(made: dict[str, Any]) -> dict[str, Any]:
    return {k: made.get(k) for k in ("cluster", "namespace", "name", "kind", "uid") if made.get(k)}
