-- grafana-time-bucket (Grafana's $__timeGroup)
SELECT floor(extract(epoch from created_at)/3600)*3600 AS "time", count(*) AS value FROM experiments WHERE created_at BETWEEN '2026-11-13T00:00:00Z' AND '2026-11-21T00:00:00Z' GROUP BY 1 ORDER BY 1
;;
-- grafana-time-filter ($__timeFilter)
SELECT created_at AS "time", name FROM experiments WHERE created_at BETWEEN '2026-11-19T00:00:00Z' AND '2026-11-20T00:00:00Z' ORDER BY 1, 2
;;
-- grafana-version
SELECT current_setting('server_version_num')::int/100 AS version
;;
-- metabase-day-bucket (Metabase: date_trunc in the report time zone)
SELECT date_trunc('day', created_at) AS created_at, count(*) AS count FROM experiments GROUP BY date_trunc('day', created_at) ORDER BY date_trunc('day', created_at) ASC
;;
-- metabase-week-bucket
SELECT (date_trunc('week', (created_at + INTERVAL '1 day')) + INTERVAL '-1 day') AS created_at, count(*) AS count FROM experiments GROUP BY 1 ORDER BY 1 ASC
;;
-- metabase-filter
SELECT kind AS kind, count(*) AS count FROM experiments WHERE (phase = 'running' OR phase = 'injecting') AND created_at >= timestamp with time zone '2026-11-15 00:00:00.000Z' GROUP BY kind ORDER BY count DESC, kind ASC
;;
-- superset-time-grain (Superset: DATE_TRUNC('hour', ...))
SELECT DATE_TRUNC('hour', created_at) AS __timestamp, COUNT(*) AS count FROM experiments GROUP BY DATE_TRUNC('hour', created_at) ORDER BY count DESC, 1 LIMIT 10
;;
-- superset-percent
SELECT kind, 100.0 * count(*) / sum(count(*)) OVER () AS pct FROM experiments GROUP BY kind ORDER BY kind
;;
-- dbeaver-filter
SELECT x.cluster, x.namespace, x.name, x.kind, x.created_at, x.paused FROM public.experiments x WHERE x.kind = 'PodChaos' AND x.namespace LIKE 's%' ORDER BY x.name LIMIT 200
;;
-- join-targets
SELECT e.kind, count(t.pod) AS pods FROM experiments e JOIN targets t ON t.cluster = e.cluster AND t.namespace = e.namespace AND t.experiment = e.name GROUP BY e.kind ORDER BY e.kind
;;
-- in-list-and-like
SELECT name FROM experiments WHERE kind IN ('PodChaos', 'NetworkChaos') AND name ILIKE '%kill%' ORDER BY name
;;
-- stuck-injecting
SELECT namespace, name, TIMESTAMPTZ '2026-11-20 12:00:00+00' - created_at AS stuck_for FROM experiments WHERE phase = 'injecting' ORDER BY stuck_for DESC, name LIMIT 5
;;
-- case-when-buckets
SELECT CASE WHEN target_count = 0 THEN 'none' WHEN target_count < 3 THEN 'few' ELSE 'many' END AS bucket, count(*) FROM experiments GROUP BY 1 ORDER BY 1
;;
-- string-functions
SELECT lower(kind), length(name), substring(name from 1 for 5), replace(name, '-', '_'), split_part(name, '-', 1) FROM experiments ORDER BY name LIMIT 3
;;
-- distinct-count
SELECT count(DISTINCT kind), count(DISTINCT namespace) FROM experiments
;;
-- window
SELECT name, kind, row_number() OVER (PARTITION BY kind ORDER BY created_at, name) AS rn FROM experiments ORDER BY kind, rn LIMIT 10
;;
-- events-by-reason
SELECT reason, type, count(*) AS events FROM events WHERE last_at > TIMESTAMPTZ '2026-11-20 12:00:00+00' - INTERVAL '7 days' GROUP BY reason, type ORDER BY events DESC, reason, type

;;
-- maps (labels are MAP(VARCHAR, VARCHAR): jsonb, as in the PostgreSQL copy)
SELECT name, labels FROM experiments ORDER BY name LIMIT 5
