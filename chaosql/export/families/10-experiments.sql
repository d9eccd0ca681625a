-- name: experiments
-- title: Experiments by phase
-- description: Chaos experiments per cluster, namespace, engine, kind and phase: deleting, paused,
--   finished, running or injecting (Chaosd and LitmusChaos: also failed), as experiments.phase
--   derives it for every engine.
-- metric: chaosql_experiments
-- value: experiments
SELECT cluster,
       namespace,
       engine,
       kind,
       phase,
       count(*) AS experiments
FROM experiments
GROUP BY ALL
