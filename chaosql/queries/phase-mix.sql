-- name: phase-mix
-- title: Phase mix
-- description: Experiments per phase and cluster: deleting, paused, finished, running, injecting.
-- format: both
-- chart: bar x=phase y=experiments series=cluster
SELECT phase,
       cluster,
       count(*) AS experiments
FROM experiments
GROUP BY phase, cluster
ORDER BY CASE phase WHEN 'running' THEN 1 WHEN 'injecting' THEN 2 WHEN 'paused' THEN 3
                    WHEN 'deleting' THEN 4 ELSE 5 END, cluster
