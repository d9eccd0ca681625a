-- name: injected-time
-- title: Clock skew injected
-- description: How far each time fault moves the clock, in seconds (negative: back): Chaos Mesh
--   TimeChaos and PhysicalMachineChaos (clock), and Chaosd clock attacks.
-- metric: chaosql_injected_time_offset_seconds
-- value: offset_seconds
SELECT cluster, namespace, 'TimeChaos' AS kind, name, NULL AS action,
       epoch(time_offset) AS offset_seconds
FROM time_chaos
UNION ALL
SELECT cluster, namespace, 'PhysicalMachineChaos', name, action,
       epoch(TRY_CAST(clock_time_offset AS INTERVAL))
FROM physical_machine_chaos
WHERE action = 'clock'
UNION ALL
SELECT cluster, namespace, kind, name, action,
       epoch(TRY_CAST(spec->>'$."time-offset"' AS INTERVAL))
FROM experiments
WHERE source = 'chaosd' AND kind = 'clock'
