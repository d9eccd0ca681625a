-- name: warning-events
-- title: Warning events of chaos objects
-- description: Kubernetes Warning events about chaos objects in the $hours hours up to $now,
--   newest first. Kubernetes keeps events for an hour by default: snapshot them for history.
-- param: hours integer = 24     -- how far back to look
-- param: now timestamp = now    -- end of the window (the demo data's now is 2026-11-20T12:00:00Z)
-- format: table
SELECT cluster,
       namespace,
       object_kind,
       object_name,
       reason,
       count,
       last_at,
       message
FROM events
WHERE type = 'Warning'
  AND last_at > $now - INTERVAL 1 HOUR * $hours
  AND last_at <= $now
ORDER BY last_at DESC, cluster, namespace, object_name
