-- name: never-injected
-- title: Targets never injected
-- description: Injection records with no successful injection at all: the pod, container or
--   machine an experiment picked but never hit, and the last message about it.
-- param: namespace text = null   -- only experiments in this namespace (default: all)
-- format: table
SELECT cluster,
       namespace,
       kind,
       experiment,
       experiment_phase,
       target_id,
       coalesce(node, physical_machine, address) AS node_or_machine,
       last_operation,
       last_event_type,
       last_message
FROM targets
WHERE coalesce(injected_count, 0) = 0
  AND ($namespace IS NULL OR namespace = $namespace)
ORDER BY cluster, namespace, experiment, target_id
