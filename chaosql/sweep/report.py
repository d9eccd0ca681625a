"""A sweep's outcome as a report document, through the report renderers (Markdown, HTML, JSON):
the result first (last value that passed, first that failed, the verdict against
``must_hold_until``), the chart of the steady-state value against the parameter with the check's
bound and the breaking point marked, then one table per step (before, during, after).

Exit codes (``exit_code``): 0 no threshold, or one above ``must_hold_until``; 3 a value up to
``must_hold_until`` failed; 1 the sweep stopped on an error (or left an experiment behind); 130
interrupted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TextIO

from chaosql.reports import EXIT_CHECK_FAILED, EXIT_ERROR, EXIT_OK
from chaosql.reports.definition import QuerySpec
from chaosql.reports.runner import CHECK_FAILED, ERROR, OK, Outcome, Section
from chaosql.reports.saved import SavedQuery
from chaosql.sweep.definition import Sweep
from chaosql.sweep.runner import ERROR as STEP_ERROR
from chaosql.sweep.runner import FAIL, INTERRUPTED, Result, Step

EXIT_INTERRUPTED = 130


@dataclass
class SweepOutcome(Outcome):
    code: int = EXIT_OK

    @property
    def exit_code(self) -> int:  # the sweep's verdict, not the worst section
        return self.code


def exit_code(sweep: Sweep, result: Result) -> int:
    if result.interrupted:
        return EXIT_INTERRUPTED
    if result.left or any(s.outcome == STEP_ERROR for s in result.steps):
        return EXIT_ERROR
    if (
        result.first_fail is not None
        and sweep.must_hold_until is not None
        and result.first_fail <= sweep.must_hold_until
    ):
        return EXIT_CHECK_FAILED
    return EXIT_OK


def verdict(sweep: Sweep, result: Result) -> str:
    shown = sweep.parameter.shown
    if result.interrupted:
        return "interrupted before a threshold was found" if result.first_fail is None else "interrupted"
    if result.first_fail is None:
        if result.stopped:
            return f"stopped: {result.stopped}"
        return f"no threshold: every value up to {shown(sweep.parameter.values[-1])} held"
    found = f"breaks at {shown(result.first_fail)}"
    found += f" (held at {shown(result.last_pass)})" if result.last_pass is not None else " (the first value)"
    if sweep.must_hold_until is not None:
        held = result.first_fail > sweep.must_hold_until
        found += f"; must hold until {shown(sweep.must_hold_until)}: " + ("ok" if held else "FAILED")
    return found


def sections(sweep: Sweep, result: Result) -> list[Section]:
    code = exit_code(sweep, result)
    parameter = sweep.parameter
    summary = _section(
        "result",
        "Result",
        f"Sweep of {parameter.name} ({parameter.unit or 'no unit'}), steady state: {sweep.check.describe()}.",
        ["parameter", "last_pass", "first_fail", "must_hold_until", "steps", "run", "left_behind", "verdict"],
        ["VARCHAR", "VARCHAR", "VARCHAR", "VARCHAR", "BIGINT", "VARCHAR", "VARCHAR", "VARCHAR"],
        [
            (
                parameter.name,
                _shown(sweep, result.last_pass),
                _shown(sweep, result.first_fail),
                _shown(sweep, sweep.must_hold_until),
                len(result.steps),
                result.run,
                ", ".join(result.left) or None,
                verdict(sweep, result),
            )
        ],
    )
    summary.status = CHECK_FAILED if code == EXIT_CHECK_FAILED else (ERROR if code == EXIT_ERROR else OK)
    summary.message = verdict(sweep, result) if summary.status != OK else ""
    out = [summary]
    ordered = sorted((s for s in result.steps if s.measures), key=lambda s: (s.value, s.index))
    if ordered:
        chart: dict[str, Any] = {"type": "line", "x": parameter.name, "y": "before,during,after", "title": sweep.column}
        if sweep.limit == sweep.limit:  # not NaN: the check's bound
            chart["hline"] = sweep.limit
        if result.first_fail is not None:
            chart["vline"] = parameter.shown(result.first_fail)
        rows = [
            (parameter.shown(s.value), *(_value(s, phase) for phase in ("before", "during", "after")), s.outcome)
            for s in ordered
        ]
        out.append(
            _section(
                "chart",
                f"{sweep.column} against {parameter.name}",
                f"The steady-state value before, during and after each step; the dashed line is the check's "
                f"bound ({sweep.check.describe()}), the dotted one the first value that failed.",
                [parameter.name, "before", "during", "after", "outcome"],
                ["VARCHAR", "DOUBLE", "DOUBLE", "DOUBLE", "VARCHAR"],
                rows,
                chart=chart,
            )
        )
    out.extend(_step_section(sweep, step) for step in result.steps)
    return out


def _step_section(sweep: Sweep, step: Step) -> Section:
    title = f"Step {step.index}: {sweep.parameter.name} = {sweep.parameter.shown(step.value)} — {step.outcome}"
    if step.bisecting:
        title += " (bisecting)"
    section = _section(
        f"step-{step.index}",
        title,
        f"Experiment {step.name}.",
        ["phase", "at", sweep.column, "passed", "detail"],
        ["VARCHAR", "TIMESTAMP WITH TIME ZONE", "DOUBLE", "BOOLEAN", "VARCHAR"],
        [(m.phase, m.at, m.value, m.passed, m.detail or None) for m in step.measures],
    )
    if step.outcome == FAIL:
        section.status, section.message = CHECK_FAILED, step.message
    elif step.outcome in (STEP_ERROR, INTERRUPTED):
        section.status, section.message = ERROR, step.message
    return section


def _section(
    id: str,
    title: str,
    description: str,
    columns: list[str],
    types: list[str],
    rows: list[tuple],
    *,
    chart: dict | None = None,
) -> Section:
    spec = QuerySpec(
        id=id,
        query=SavedQuery(name=id, sql=""),
        params={},
        title=title,
        description=description,
        format="both" if chart else "table",
        chart=chart,
        check=None,
        timeout=None,
        sources=None,
        limit=None,
    )
    return Section(spec, columns=columns, types=types, rows=rows)


def _value(step: Step, phase: str) -> float | None:
    found = step.measured(phase)
    return found.value if found is not None else None


def _shown(sweep: Sweep, value: float | None) -> str | None:
    return None if value is None else sweep.parameter.shown(value)


def render(sweep: Sweep, result: Result, out: TextIO, fmt: str, *, sources: dict[str, str]) -> int:
    """Write the document; returns the sweep's exit code."""
    from chaosql.reports.render import RENDERERS

    renderer = RENDERERS[fmt](out, title=sweep.title, description=sweep.description, sources=sources)
    outcome = SweepOutcome(code=exit_code(sweep, result))
    renderer.begin()
    for section in sections(sweep, result):
        renderer.section(section)
        outcome.sections.append(section)
    renderer.end(outcome)
    return outcome.exit_code
