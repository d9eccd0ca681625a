-- name: failed-injections
-- title: Failed injection events of each experiment
-- description: Events with reason Failed about each experiment still held by Kubernetes (which
--   keeps events for an hour by default) or Chaosd, counting repeats an event folds into its count.
-- metric: chaosql_experiment_failed_events
-- value: failed_events
SELECT cluster,
       namespace,
       object_kind AS kind,
       object_name AS name,
       CAST(sum(count) AS BIGINT) AS failed_events
FROM events
WHERE reason = 'Failed'
GROUP BY ALL
