-- name: injection-failures-total
-- title: Failed injections, ever
-- description: Failed injection events per cluster, namespace and kind since the counter began
--   (each event's count, by event uid, so events Kubernetes expires stay counted; keep the
--   state with chaosql export --state FILE to carry the count across restarts).
-- metric: chaosql_injection_failures
-- metric_type: counter
-- key: uid
-- value: failures
SELECT cluster,
       namespace,
       object_kind AS kind,
       uid,
       count AS failures
FROM events
WHERE reason = 'Failed'
