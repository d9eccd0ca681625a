-- name: stuck-injecting
-- title: Experiments stuck injecting
-- description: Experiments still injecting (not every target selected and injected) more than
--   $minutes minutes after they were created, with the last failure their targets reported.
--   Usually a target on a node without chaos-daemon, or a selector that matches nothing.
-- param: minutes integer = 10   -- how long injecting may take before it counts as stuck
-- param: now timestamp = now    -- the instant to compare with (the demo data's is 2026-11-20T12:00:00Z)
-- format: table
-- check: empty
WITH failures AS (
    SELECT cluster, namespace, experiment,
           count(*) FILTER (WHERE coalesce(injected_count, 0) = 0) AS targets_not_injected,
           max(last_message) FILTER (WHERE last_event_type = 'Failed') AS last_failure
    FROM targets
    WHERE experiment_phase = 'injecting'
    GROUP BY cluster, namespace, experiment
)
SELECT e.cluster,
       e.namespace,
       e.kind,
       e.name,
       e.created_at,
       date_diff('minute', e.created_at, $now) AS minutes_injecting,
       e.target_count,
       coalesce(f.targets_not_injected, 0) AS targets_not_injected,
       f.last_failure
FROM experiments e
LEFT JOIN failures f ON f.cluster = e.cluster AND f.namespace = e.namespace AND f.experiment = e.name
WHERE e.phase = 'injecting'
  AND e.created_at <= $now - INTERVAL 1 MINUTE * $minutes
ORDER BY e.created_at, e.cluster, e.namespace, e.name
