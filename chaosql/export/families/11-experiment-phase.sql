-- name: experiment-phase
-- title: Phase of each experiment
-- description: 1 for each experiment, labelled with its current phase (the series of a phase
--   it left goes away): count by (phase) counts them, and a query on phase="running" marks
--   when each one ran.
-- metric: chaosql_experiment_phase
-- value: experiment
SELECT cluster,
       namespace,
       engine,
       kind,
       name,
       action,
       phase,
       1 AS experiment
FROM experiments
