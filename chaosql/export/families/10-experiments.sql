-- name: experiments
-- title: Experiments by phase
-- description: Chaos experiments per cluster, namespace, kind and phase: deleting, paused, finished,
--   running or injecting (Chaosd: also failed), as experiments.phase derives it.
-- metric: chaosql_experiments
-- value: experiments
SELECT cluster,
       namespace,
       kind,
       phase,
       count(*) AS experiments
FROM experiments
GROUP BY ALL
