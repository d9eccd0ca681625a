-- name: experiments-per-day
-- title: Experiments created per day
-- description: How many experiments were created each day of the $days days up to $now, per cluster.
-- param: days integer = 14      -- how many days back
-- param: now timestamp = now    -- end of the window (the demo data's now is 2026-11-20T12:00:00Z)
-- format: chart
-- chart: bar x=day y=experiments series=cluster
SELECT CAST(date_trunc('day', created_at) AS DATE) AS day,
       cluster,
       count(*) AS experiments
FROM experiments
WHERE created_at > $now - INTERVAL 1 DAY * $days
  AND created_at <= $now
GROUP BY ALL
ORDER BY day, cluster
