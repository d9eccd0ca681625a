-- name: experiment-verdict
-- title: Verdict of each experiment run
-- description: 1 for each experiment run with a verdict (LitmusChaos: Pass, Fail, Stopped, Awaited or
--   Error, from its ChaosResult), labelled with it: count by (verdict) gives the passed, failed and
--   awaited experiments of LitmusChaos's exporter.
-- metric: chaosql_experiment_verdict
-- value: experiment
SELECT cluster,
       namespace,
       engine,
       kind,
       name,
       action,
       verdict,
       1 AS experiment
FROM experiments
WHERE verdict IS NOT NULL
