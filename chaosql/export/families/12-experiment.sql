-- name: experiment
-- title: Times, duration and targets of each experiment
-- description: One series per experiment and value: when it started, ends or ended, its
--   duration, whether it is paused, its targets, how many of them are injected now and since when.
-- metric: chaosql_experiment
-- value: start_time_seconds -- When the experiment was created (Unix seconds).
-- value: end_time_seconds -- When the experiment ends or ended (Unix seconds): created_at + duration, else when its deletion was asked for; absent while it runs with no end.
-- value: duration_seconds -- The experiment's duration (spec.duration) in seconds; absent when it runs until deleted.
-- value: paused -- 1 while the experiment is paused, else 0.
-- value: targets -- Targets (injection records) the experiment selected.
-- value: injected_targets -- Targets injected right now.
-- value: recovered_targets -- Targets recovered: not injected any more after at least one recovery.
-- value: injection_time_seconds -- When the targets injected now were injected (their latest successful apply, Unix seconds); absent when none is.
-- value: injections -- Successful injections over its targets (injectedCount summed).
-- value: recoveries -- Successful recoveries over its targets (recoveredCount summed).
WITH per_experiment AS (
    SELECT cluster, namespace, kind, experiment AS name,
           count(*) FILTER (WHERE phase = 'Injected') AS injected,
           count(*) FILTER (WHERE phase <> 'Injected' AND coalesce(recovered_count, 0) > 0) AS recovered,
           max(last_event_at) FILTER (
               WHERE phase = 'Injected' AND last_operation = 'Apply' AND last_event_type = 'Succeeded'
           ) AS injected_at
    FROM targets
    GROUP BY ALL
)
SELECT e.cluster,
       e.namespace,
       e.kind,
       e.name,
       e.action,
       e.created_at AS start_time_seconds,
       coalesce(e.ends_at, e.deleted_at) AS end_time_seconds,
       e.duration_seconds,
       e.paused,
       e.target_count AS targets,
       -- a Chaosd experiment is its own one target: injected while it runs, recovered once destroyed
       CASE WHEN e.source = 'chaosd' THEN CAST(e.phase = 'running' AS INTEGER) ELSE coalesce(t.injected, 0) END
           AS injected_targets,
       CASE WHEN e.source = 'chaosd' THEN e.recovered_count ELSE coalesce(t.recovered, 0) END AS recovered_targets,
       t.injected_at AS injection_time_seconds,
       e.injected_count AS injections,
       e.recovered_count AS recoveries
FROM experiments e
LEFT JOIN per_experiment t
  ON t.cluster = e.cluster AND t.namespace = e.namespace AND t.kind = e.kind AND t.name = e.name
