-- name: events-per-reason
-- title: Events per reason
-- description: Events about chaos objects in the $hours hours up to $now, per reason and type
--   (occurrences, counting repeats an event folds into its count).
-- param: hours integer = 168    -- how far back to look (default: a week)
-- param: now timestamp = now    -- end of the window (the demo data's now is 2026-11-20T12:00:00Z)
-- format: both
-- chart: barh x=reason y=occurrences series=type
SELECT reason,
       type,
       CAST(sum(count) AS BIGINT) AS occurrences,
       count(DISTINCT object_name) AS objects
FROM events
WHERE last_at > $now - INTERVAL 1 HOUR * $hours
  AND last_at <= $now
GROUP BY ALL
ORDER BY occurrences DESC, reason, type
