-- name: network-chaos-p99-impact
-- title: Did this NetworkChaos raise p99 latency, and by how much?
-- description: Each NetworkChaos experiment started in the $days days up to $now (only $namespace
--   and $name when given), with the p99 latency ($latency, PromQL) in the $window before it, during
--   it and in the $window after it, and how much higher it was during the experiment than before.
--   The numbers come from Prometheus (--source prometheus:URL), one range query per window; without
--   a Prometheus source they are NULL. {{namespace}} and {{name}} in the PromQL are the experiment's.
-- param: latency text = histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{namespace="{{namespace}}"}[1m])))   -- PromQL of the p99 latency
-- param: namespace text = null   -- only experiments in this namespace (default: any)
-- param: name text = null        -- only the experiment of this name (default: any)
-- param: window text = 5m        -- length of the before and after windows
-- param: days integer = 7        -- how many days back an experiment may have started
-- param: now timestamp = now     -- end of that period
-- format: table
WITH windows AS (
    SELECT cluster, namespace, name, window, max(avg) AS p99
    FROM impact
    WHERE query = $latency
      AND kind = 'NetworkChaos'
      AND ($namespace IS NULL OR namespace = $namespace)
      AND ($name IS NULL OR name = $name)
      AND before = $window AND after = $window
      AND started_at > $now - INTERVAL 1 DAY * $days AND started_at <= $now
    GROUP BY ALL
), pivoted AS (
    SELECT cluster, namespace, name,
           max(p99) FILTER (WHERE window = 'before') AS p99_before,
           max(p99) FILTER (WHERE window = 'during') AS p99_during,
           max(p99) FILTER (WHERE window = 'after') AS p99_after
    FROM windows
    GROUP BY ALL
)
SELECT e.cluster,
       e.namespace,
       e.name,
       e.action,
       e.created_at AS started,
       e.duration,
       p.p99_before,
       p.p99_during,
       p.p99_after,
       p.p99_during - p.p99_before AS raised_by,
       round(100 * (p.p99_during / nullif(p.p99_before, 0) - 1), 1) AS raised_pct
FROM experiments e
LEFT JOIN pivoted p USING (cluster, namespace, name)
WHERE e.kind = 'NetworkChaos'
  AND ($namespace IS NULL OR e.namespace = $namespace)
  AND ($name IS NULL OR e.name = $name)
  AND e.created_at > $now - INTERVAL 1 DAY * $days AND e.created_at <= $now
ORDER BY raised_by DESC NULLS LAST, started DESC
