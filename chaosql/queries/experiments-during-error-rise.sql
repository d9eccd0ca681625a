-- name: experiments-during-error-rise
-- title: Which experiments were injecting while the error rate rose?
-- description: Every experiment started in the $days days up to $now (only $namespace when given),
--   with the error rate ($errors, PromQL) in the $window before it and while it ran; rose is true
--   where the rate during the experiment averaged at least $factor times the rate before it. Risers
--   come first. The rates come from Prometheus (--source prometheus:URL), one range query per window;
--   without a Prometheus source they are NULL. {{namespace}} and {{name}} in the PromQL are the
--   experiment's own.
-- param: errors text = sum(rate(http_requests_total{namespace="{{namespace}}",code=~"5.."}[1m]))   -- PromQL of the error rate
-- param: factor number = 1.5     -- how many times the rate before counts as a rise
-- param: namespace text = null   -- only experiments in this namespace (default: any)
-- param: window text = 5m        -- length of the window before each experiment
-- param: days integer = 7        -- how many days back an experiment may have started
-- param: now timestamp = now     -- end of that period
-- format: table
WITH rates AS (
    SELECT cluster, namespace, name,
           max(avg) FILTER (WHERE window = 'before') AS errors_before,
           max(avg) FILTER (WHERE window = 'during') AS errors_during
    FROM impact
    WHERE query = $errors
      AND ($namespace IS NULL OR namespace = $namespace)
      AND before = $window
      AND started_at > $now - INTERVAL 1 DAY * $days AND started_at <= $now
    GROUP BY ALL
)
SELECT e.cluster,
       e.namespace,
       e.kind,
       e.name,
       e.created_at AS started,
       e.phase,
       r.errors_before,
       r.errors_during,
       r.errors_during >= $factor * r.errors_before AND r.errors_during > 0 AS rose
FROM experiments e
LEFT JOIN rates r USING (cluster, namespace, name)
WHERE ($namespace IS NULL OR e.namespace = $namespace)
  AND e.created_at > $now - INTERVAL 1 DAY * $days AND e.created_at <= $now
ORDER BY rose DESC NULLS LAST, r.errors_during / nullif(r.errors_before, 0) DESC NULLS LAST, started DESC
