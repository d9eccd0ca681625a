-- name: workflows
-- title: Workflows and their times
-- description: One series per Chaos Mesh Workflow and value: when it started and ended, and its
--   steps (WorkflowNodes) that ran past their deadline.
-- metric: chaosql_workflow
-- value: start_time_seconds -- When the workflow started (status.startTime, Unix seconds).
-- value: end_time_seconds -- When the workflow ended (status.endTime, Unix seconds); absent while it runs.
-- value: steps -- Steps (WorkflowNodes) of the workflow that exist.
-- value: deadline_exceeded_steps -- Steps of the workflow that ran past their deadline.
WITH steps AS (
    SELECT cluster, namespace, workflow AS name, count(*) AS steps,
           count(*) FILTER (WHERE deadline_exceeded) AS deadline_exceeded_steps
    FROM workflow_nodes
    GROUP BY ALL
)
SELECT w.cluster,
       w.namespace,
       w.name,
       w.started_at AS start_time_seconds,
       w.ended_at AS end_time_seconds,
       coalesce(s.steps, 0) AS steps,
       coalesce(s.deadline_exceeded_steps, 0) AS deadline_exceeded_steps
FROM workflows w
LEFT JOIN steps s ON s.cluster = w.cluster AND s.namespace = w.namespace AND s.name = w.name
