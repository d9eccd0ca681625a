-- name: experiments-per-team
-- title: Experiments per team
-- description: Experiments per owning team (the label team; children of Schedules and Workflows
--   carry none and count as "(no team label)"), split by phase.
-- format: table
-- chart: bar x=team y=experiments series=cluster
SELECT cluster,
       coalesce(labels['team'], '(no team label)') AS team,
       count(*) AS experiments,
       count(*) FILTER (WHERE phase = 'running') AS running,
       count(*) FILTER (WHERE phase = 'injecting') AS injecting,
       count(*) FILTER (WHERE phase = 'paused') AS paused,
       count(*) FILTER (WHERE phase = 'finished') AS finished,
       count(*) FILTER (WHERE phase = 'deleting') AS deleting
FROM experiments
GROUP BY ALL
ORDER BY cluster, experiments DESC, team
