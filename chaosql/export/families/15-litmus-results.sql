-- name: litmus-results
-- title: LitmusChaos results: probes and runs
-- description: One series per LitmusChaos ChaosResult and value: the latest run's probe success
--   and probes, and the pass, fail and stop totals of every run it recorded.
-- metric: chaosql_litmus_result
-- value: probe_success_ratio -- Share of the latest run's probes that passed (0-1); absent while Awaited.
-- value: probes -- Probes the latest run evaluates.
-- value: probes_failed -- Probes of the latest run whose verdict is Failed.
-- value: passed_runs -- Runs with verdict Pass so far (status.history.passedRuns).
-- value: failed_runs -- Runs with verdict Fail so far (status.history.failedRuns).
-- value: stopped_runs -- Runs stopped (aborted) so far (status.history.stoppedRuns).
SELECT cluster,
       namespace,
       name,
       chaos_engine,
       experiment,
       probe_success_percentage / 100 AS probe_success_ratio,
       probes,
       probes_failed,
       passed_runs,
       failed_runs,
       stopped_runs
FROM litmus_results
