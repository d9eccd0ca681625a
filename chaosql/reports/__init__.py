"""Saved queries, reports and history: chaosql for cron and CI.

- ``saved``: a saved query is a ``.sql`` file with a small comment header (name, description,
  parameters with types and defaults, preferred format, an optional check); parameters are bound
  as typed SQL literals through sqlglot, never pasted as text.
- ``checks``: what a check asserts about a result (no rows, or a value within bounds).
- ``definition``: the report TOML (title, sources, the queries, per-query format and chart).
- ``runner``: runs a report's queries, each under its own timeout, and sorts out what failed.
- ``render`` and ``charts``: Markdown, self-contained HTML (charts as inline SVG), JSON, or one
  CSV file per query.
- ``atomic``: ``--out`` writes a temporary file beside the target and renames it over it.
- ``snapshot``: ``chaosql snapshot`` appends tables to a hive-partitioned Parquet dataset, which
  the ``history:DIR`` source (chaosql/sources/history.py) reads back.

Exit codes (``EXIT_*`` below) are what cron and CI act on; docs/reports.md lists them.
"""

EXIT_OK = 0
EXIT_ERROR = 1  # a query failed with an error, or the report could not be written
EXIT_USAGE = 2  # bad command line, report file, query name or parameter: nothing was run
EXIT_CHECK_FAILED = 3  # every section rendered, and at least one check failed
EXIT_PARTIAL = 4  # a source was down or too slow: its sections are marked failed

#: When several apply, the first one in this order is the exit code.
SEVERITY = (EXIT_USAGE, EXIT_ERROR, EXIT_PARTIAL, EXIT_CHECK_FAILED, EXIT_OK)


def worst(codes: "list[int]") -> int:
    """The exit code for a run with these outcomes.

    >>> worst([0, 3, 4])
    4
    >>> worst([])
    0
    """
    present = set(codes)
    return next((c for c in SEVERITY if c in present), EXIT_OK)
