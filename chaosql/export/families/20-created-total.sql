-- name: experiments-created-total
-- title: Experiments created, ever
-- description: Experiments created per cluster, namespace and kind since the counter began
--   (each experiment counted once, by uid; deleted ones stay counted: keep the state with
--   chaosql export --state FILE to carry the count across restarts).
-- metric: chaosql_experiments_created
-- metric_type: counter
-- key: uid
-- value: created
SELECT cluster,
       namespace,
       kind,
       uid,
       1 AS created
FROM experiments
