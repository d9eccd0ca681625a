-- name: workflow-state
-- title: State of each workflow
-- description: 1 for each Chaos Mesh Workflow, labelled with its state: running, accomplished or
--   aborted.
-- metric: chaosql_workflow_state
-- value: workflow
SELECT cluster,
       namespace,
       name,
       state,
       1 AS workflow
FROM workflows
