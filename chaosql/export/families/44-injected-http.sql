-- name: injected-http
-- title: HTTP and JVM faults injected
-- description: What each HTTP or JVM fault injects: Chaos Mesh HTTPChaos and JVMChaos, and
--   PhysicalMachineChaos (http-*, jvm-latency).
-- metric: chaosql_injected_app
-- value: http_delay_seconds -- Delay added to each matched HTTP request or response, in seconds.
-- value: http_abort -- 1 when matched HTTP connections are aborted.
-- value: jvm_latency_seconds -- Latency added to the matched Java method, in seconds.
SELECT cluster, namespace, 'HTTPChaos' AS kind, name, target AS action,
       epoch(delay) AS http_delay_seconds,
       abort AS http_abort,
       NULL::DOUBLE AS jvm_latency_seconds
FROM http_chaos
UNION ALL
SELECT cluster, namespace, 'JVMChaos', name, action, NULL, NULL, latency / 1000
FROM jvm_chaos
UNION ALL
SELECT cluster, namespace, 'PhysicalMachineChaos', name, action,
       epoch(TRY_CAST(http_delay_delay AS INTERVAL)),
       CASE WHEN action = 'http-abort' THEN TRUE END,
       jvm_latency_latency / 1000
FROM physical_machine_chaos
WHERE action IN ('http-delay', 'http-abort', 'jvm-latency')
