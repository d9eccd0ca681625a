"""litmus_results: one row per LitmusChaos ChaosResult, typed.

What a run of an experiment concluded (phase, verdict, probe success percentage, the error) and
the running totals LitmusChaos keeps per result name (passed, failed and stopped runs). These are
the numbers Litmus's chaos-exporter turns into Prometheus gauges, as plain columns.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from chaosql.litmus import facts
from chaosql.tables._common import meta_columns, meta_values, to_json
from chaosql.tables._kube import KubeFeed
from chaosql.tables._table import Col, Row, RowContext, Table

COLUMNS = [
    *meta_columns()[:2],
    Col("name", "VARCHAR", "ChaosResult name: <chaos_engine>-<experiment>.", key="name"),
    *meta_columns()[3:4],
    Col("chaos_engine", "VARCHAR", "spec.engine: the ChaosEngine that ran the experiment; join with experiments.name."),
    Col("experiment", "VARCHAR", "spec.experiment: the experiment; join with experiments.action."),
    Col("instance", "VARCHAR", "spec.instance: the run's instance id, if any."),
    Col("engine_uid", "VARCHAR", f"uid of the ChaosEngine of the latest run (label {facts.CHAOS_UID_LABEL})."),
    Col(
        "phase",
        "VARCHAR",
        "status.experimentStatus.phase as LitmusChaos writes it: Running, Completed, Completed_With_Error, "
        "Completed_With_Probe_Failure, Stopped or Error.",
    ),
    Col("verdict", "VARCHAR", "status.experimentStatus.verdict: Pass, Fail, Stopped, Awaited or Error."),
    Col(
        "probe_success_percentage",
        "DOUBLE",
        "status.experimentStatus.probeSuccessPercentage as a number; NULL while Awaited.",
    ),
    Col("probes", "BIGINT", "Number of probes the run evaluates (status.probeStatuses)."),
    Col("probes_passed", "BIGINT", "Probes whose verdict is Passed."),
    Col("probes_failed", "BIGINT", "Probes whose verdict is Failed."),
    Col("passed_runs", "BIGINT", "status.history.passedRuns: runs with verdict Pass so far."),
    Col("failed_runs", "BIGINT", "status.history.failedRuns: runs with verdict Fail so far."),
    Col("stopped_runs", "BIGINT", "status.history.stoppedRuns: runs stopped (aborted) so far."),
    Col("target_count", "BIGINT", "Targets in status.history.targets (rows in targets)."),
    Col("error_code", "VARCHAR", "status.experimentStatus.errorOutput.errorCode of a failed run."),
    Col("error_reason", "VARCHAR", "status.experimentStatus.errorOutput.reason of a failed run."),
    *meta_columns()[4:],
    Col("probe_statuses", "JSON", "status.probeStatuses: each probe's name, type, mode and status."),
    Col("status", "JSON", "The whole status."),
]


def result_rows(result: dict, ctx: RowContext) -> Iterator[Row]:
    spec = _dict(result.get("spec"))
    status = _dict(result.get("status"))
    outcome = facts.result_status(result)
    history = facts.history(result)
    error = _dict(outcome.get("errorOutput"))
    probes = [p for p in status.get("probeStatuses") or () if isinstance(p, dict)]
    verdicts = [_dict(p.get("status")).get("verdict") for p in probes]
    row = meta_values(result, ctx.cluster)
    row.update(
        chaos_engine=spec.get("engine"),
        experiment=spec.get("experiment"),
        instance=spec.get("instance") or None,
        engine_uid=(row["labels"] or {}).get(facts.CHAOS_UID_LABEL),
        phase=outcome.get("phase") or None,
        verdict=outcome.get("verdict") or None,
        probe_success_percentage=facts.percent(outcome.get("probeSuccessPercentage")),
        probes=len(probes),
        probes_passed=verdicts.count("Passed"),
        probes_failed=verdicts.count("Failed"),
        passed_runs=_count(history.get("passedRuns")),
        failed_runs=_count(history.get("failedRuns")),
        stopped_runs=_count(history.get("stoppedRuns")),
        target_count=len(facts.targets(result)),
        error_code=error.get("errorCode") or None,
        error_reason=error.get("reason") or None,
        probe_statuses=to_json(probes) if ctx.wants("probe_statuses") else None,
        status=to_json(status) if ctx.wants("status") else None,
    )
    yield row


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


TABLE = Table(
    "litmus_results",
    "One row per LitmusChaos ChaosResult: a run's verdict, probe success and the pass/fail/stop totals.",
    COLUMNS,
    feeds=[KubeFeed((facts.CHAOS_RESULT,), result_rows)],
    examples=[
        (
            "Which LitmusChaos experiments fail most?",
            "SELECT cluster, namespace, experiment, failed_runs, passed_runs FROM litmus_results "
            "ORDER BY failed_runs DESC",
        ),
        (
            "Which runs' probes did not all pass?",
            "SELECT chaos_engine, experiment, verdict, probe_success_percentage FROM litmus_results "
            "WHERE probe_success_percentage < 100",
        ),
    ],
)
