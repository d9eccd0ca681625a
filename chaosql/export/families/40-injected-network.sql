-- name: injected-network
-- title: Network faults injected
-- description: What each network fault injects, whichever engine runs it: Chaos Mesh
--   NetworkChaos and PhysicalMachineChaos (network-*), and Chaosd network attacks.
-- metric: chaosql_injected_network
-- value: delay_seconds -- Delay added to each packet, in seconds.
-- value: jitter_seconds -- Jitter of that delay, in seconds.
-- value: loss_ratio -- Share of packets dropped (0-1).
-- value: duplicate_ratio -- Share of packets duplicated (0-1).
-- value: corrupt_ratio -- Share of packets corrupted (0-1).
-- value: bandwidth_bytes_per_second -- Bandwidth the traffic is limited to, in bytes per second.
WITH raw AS (
    SELECT cluster, namespace, 'NetworkChaos' AS kind, name, action,
           delay_latency AS delay, delay_jitter AS jitter, loss_loss AS loss,
           duplicate_duplicate AS duplicate, corrupt_corrupt AS corrupt, bandwidth_rate AS rate
    FROM network_chaos
    UNION ALL
    SELECT cluster, namespace, 'PhysicalMachineChaos', name, action,
           network_delay_latency, network_delay_jitter, network_loss_percent,
           network_duplicate_percent, network_corrupt_percent, network_bandwidth_rate
    FROM physical_machine_chaos
    WHERE action LIKE 'network-%'
    UNION ALL
    -- Chaosd: one "percent" whose meaning is the action's
    SELECT cluster, namespace, kind, name, action,
           TRY_CAST(spec->>'$.latency' AS INTERVAL), TRY_CAST(spec->>'$.jitter' AS INTERVAL),
           CASE WHEN action = 'loss' THEN TRY_CAST(spec->>'$.percent' AS DOUBLE) END,
           CASE WHEN action = 'duplicate' THEN TRY_CAST(spec->>'$.percent' AS DOUBLE) END,
           CASE WHEN action = 'corrupt' THEN TRY_CAST(spec->>'$.percent' AS DOUBLE) END,
           spec->>'$.rate'
    FROM experiments
    WHERE source = 'chaosd' AND kind = 'network'
)
SELECT cluster,
       namespace,
       kind,
       name,
       action,
       epoch(delay) AS delay_seconds,
       epoch(jitter) AS jitter_seconds,
       loss / 100 AS loss_ratio,
       duplicate / 100 AS duplicate_ratio,
       corrupt / 100 AS corrupt_ratio,
       -- tc's units: bit/kbit/... are bits per second, bps/kbps/... bytes per second (1000-based)
       TRY_CAST(regexp_extract(lower(rate), '^\s*([0-9.]+)', 1) AS DOUBLE)
           * CASE regexp_extract(lower(rate), '^\s*[0-9.]+\s*([a-z]+)\s*$', 1)
                 WHEN 'bit' THEN 0.125 WHEN 'kbit' THEN 125 WHEN 'mbit' THEN 125e3
                 WHEN 'gbit' THEN 125e6 WHEN 'tbit' THEN 125e9
                 WHEN 'bps' THEN 1 WHEN 'kbps' THEN 1e3 WHEN 'mbps' THEN 1e6
                 WHEN 'gbps' THEN 1e9 WHEN 'tbps' THEN 1e12
             END AS bandwidth_bytes_per_second
FROM raw
