"""What long-running chaosql processes share (``chaosql export``, ``chaosql guard``, ...).

- ``http``: a small HTTP endpoint on a background thread: a table of GET routes (``/metrics``,
  ``/healthz``), ``HOST:PORT`` parsing with one readable error, HEAD, 404/405, and a handler's
  failure answered with 500 and one line instead of a dropped connection.
- ``log``: the process's log on stderr, one line per event, as text for people or as JSON lines
  (``--log-format json``) for a log pipeline.

Both use only the standard library, so a process that serves metrics or health starts fast.
"""
