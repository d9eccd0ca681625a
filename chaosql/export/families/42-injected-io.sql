-- name: injected-io
-- title: I/O faults injected
-- description: What each I/O fault injects: Chaos Mesh IOChaos (latency, fault, ...) and
--   BlockChaos (delay).
-- metric: chaosql_injected_io
-- value: delay_seconds -- Delay added to each I/O call, in seconds.
-- value: jitter_seconds -- Jitter of that delay, in seconds (BlockChaos).
-- value: fault_ratio -- Share of I/O calls the fault hits (IOChaos percent, 0-1).
-- value: errno -- Error number returned by a faulted I/O call (IOChaos fault).
SELECT cluster, namespace, 'IOChaos' AS kind, name, action,
       epoch(delay) AS delay_seconds,
       NULL::DOUBLE AS jitter_seconds,
       "percent" / 100 AS fault_ratio,
       errno
FROM io_chaos
UNION ALL
SELECT cluster, namespace, 'BlockChaos', name, action,
       epoch(delay_latency), epoch(delay_jitter), NULL, NULL
FROM block_chaos
