"""chaosql export: chaos state as Prometheus metrics, every family defined by a saved query.

- ``family``: a saved query's ``-- metric:`` header, which columns are labels and which values,
  and the samples of a result;
- ``exposition``: the Prometheus text format and OpenMetrics, and the Accept header that picks one;
- ``counters``: counters from state that can shrink (kept in a state file across restarts);
- ``exporter``: refreshes on demand, at most every ``min_interval``, bounded by the scrape's
  time; caps, staleness and the ``chaosql_export_*`` self-metrics;
- ``catalog``: the shipped families (``families/*.sql``) and the user's;
- ``endpoint``: the HTTP routes and how ``chaosql export`` / ``chaosql serve --metrics`` build it.
"""
