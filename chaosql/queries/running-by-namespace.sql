-- name: running-by-namespace
-- title: Running experiments by namespace
-- description: Experiments whose faults are in place right now (phase running), per cluster and
--   namespace, with their kinds and names.
-- param: namespace text = null   -- only this namespace (default: every namespace)
-- format: table
SELECT cluster,
       namespace,
       count(*) AS running,
       string_agg(kind || '/' || name, ', ' ORDER BY kind, name) AS experiments
FROM experiments
WHERE phase = 'running'
  AND ($namespace IS NULL OR namespace = $namespace)
GROUP BY cluster, namespace
ORDER BY cluster, running DESC, namespace
