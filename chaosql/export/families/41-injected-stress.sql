-- name: injected-stress
-- title: CPU and memory stress injected
-- description: What each stress fault injects, whichever engine runs it: Chaos Mesh StressChaos
--   and PhysicalMachineChaos (stress-cpu, stress-mem), and Chaosd stress attacks.
-- metric: chaosql_injected_stress
-- value: cpu_workers -- CPU stress workers.
-- value: cpu_load_ratio -- Load each CPU worker puts on its CPU (0-1).
-- value: memory_workers -- Memory stress workers.
-- value: memory_bytes -- Memory each memory worker takes, in bytes (when given as a size).
-- value: memory_ratio -- Memory each memory worker takes, as a share of the total (when given as a percentage).
WITH raw AS (
    SELECT cluster, namespace, 'StressChaos' AS kind, name, NULL AS action,
           stressors_cpu_workers AS cpu_workers, stressors_cpu_load AS cpu_load,
           stressors_memory_workers AS memory_workers, stressors_memory_size AS memory_size
    FROM stress_chaos
    UNION ALL
    SELECT cluster, namespace, 'PhysicalMachineChaos', name, action,
           stress_cpu_workers, stress_cpu_load, NULL, stress_mem_size
    FROM physical_machine_chaos
    WHERE action IN ('stress-cpu', 'stress-mem')
    UNION ALL
    SELECT cluster, namespace, kind, name, action,
           CASE WHEN action = 'cpu' THEN TRY_CAST(spec->>'$.workers' AS BIGINT) END,
           CASE WHEN action = 'cpu' THEN TRY_CAST(spec->>'$.load' AS BIGINT) END,
           CASE WHEN action = 'mem' THEN TRY_CAST(spec->>'$.workers' AS BIGINT) END,
           CASE WHEN action = 'mem' THEN spec->>'$.size' END
    FROM experiments
    WHERE source = 'chaosd' AND kind = 'stress'
)
SELECT cluster,
       namespace,
       kind,
       name,
       action,
       cpu_workers,
       cpu_load / 100 AS cpu_load_ratio,
       memory_workers,
       -- sizes: B, KB/MB/GB/TB (1000-based), KiB/MiB/GiB/TiB and stress-ng's bare K/M/G (1024-based), or N%
       TRY_CAST(regexp_extract(memory_size, '^\s*([0-9.]+)\s*[A-Za-z]*\s*$', 1) AS DOUBLE)
           * CASE upper(regexp_extract(memory_size, '^\s*[0-9.]+\s*([A-Za-z]*)\s*$', 1))
                 WHEN '' THEN 1 WHEN 'B' THEN 1
                 WHEN 'KB' THEN 1e3 WHEN 'MB' THEN 1e6 WHEN 'GB' THEN 1e9 WHEN 'TB' THEN 1e12
                 WHEN 'K' THEN 1024 WHEN 'M' THEN 1048576 WHEN 'G' THEN 1073741824
                 WHEN 'KIB' THEN 1024 WHEN 'MIB' THEN 1048576 WHEN 'GIB' THEN 1073741824
                 WHEN 'TIB' THEN 1099511627776
             END AS memory_bytes,
       TRY_CAST(regexp_extract(memory_size, '^\s*([0-9.]+)\s*%\s*$', 1) AS DOUBLE) / 100 AS memory_ratio
FROM raw
