-- name: schedules
-- title: Schedules and their state
-- description: One series per Chaos Mesh Schedule and value: paused, its active experiments, when
--   it last created one, and how many experiments it created that still exist.
-- metric: chaosql_schedule
-- value: paused -- 1 while the schedule is paused, else 0.
-- value: active_experiments -- Experiments the schedule lists as active (status.active).
-- value: last_scheduled_time_seconds -- When the schedule last created an experiment (Unix seconds).
-- value: experiments -- Experiments the schedule created that still exist.
WITH children AS (
    SELECT cluster, namespace, schedule AS name, count(*) AS experiments
    FROM experiments
    WHERE schedule IS NOT NULL
    GROUP BY ALL
)
SELECT s.cluster,
       s.namespace,
       s.name,
       s.type AS kind,
       s.paused,
       s.active_count AS active_experiments,
       s.last_scheduled_at AS last_scheduled_time_seconds,
       coalesce(c.experiments, 0) AS experiments
FROM schedules s
LEFT JOIN children c ON c.cluster = s.cluster AND c.namespace = s.namespace AND c.name = s.name
