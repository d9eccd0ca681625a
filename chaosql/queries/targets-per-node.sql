-- name: targets-per-node
-- title: Targets per node
-- description: How many injection records hit pods on each node, in how many experiments, how
--   many of them never got injected, and whether the node runs chaos-daemon.
-- format: table
-- chart: barh x=node y=targets series=cluster
SELECT t.cluster,
       t.node,
       count(*) AS targets,
       count(DISTINCT t.experiment) AS experiments,
       count(*) FILTER (WHERE coalesce(t.injected_count, 0) = 0) AS never_injected,
       any_value(n.chaos_daemon) AS chaos_daemon
FROM targets t
LEFT JOIN nodes n ON n.cluster = t.cluster AND n.name = t.node
WHERE t.node IS NOT NULL
GROUP BY t.cluster, t.node
ORDER BY targets DESC, t.cluster, t.node
