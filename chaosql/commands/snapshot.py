"""chaosql snapshot: append the current experiments, targets and events to a Parquet history."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC

from chaosql.commands._context import open_session, report_error

NAME = "snapshot"
HELP = "append current experiments, targets and events to a Parquet history (read back with history:DIR)"
DESCRIPTION = """\
Append the rows of experiments, targets and events to a Parquet dataset partitioned hive-style by
date and cluster, and the samples of the PromQL queries the config lists over the last hour:

  [snapshot]
  metrics = ['sum by (namespace) (rate(http_requests_total{code=~"5.."}[5m]))']
  metrics_window = "1h"          # match how often cron runs the snapshot

The layout:

  DIR/experiments/date=2026-11-20/cluster=prod-eu/part-20261120T120000Z-<id>.parquet

Read it back with --source history:DIR and the tables history_experiments, history_targets and
history_events, or with Spark, Trino, Athena or DuckDB directly (see docs/reports.md).
Run it from cron (e.g. hourly): Kubernetes forgets events after an hour.

examples:
  chaosql snapshot --to /var/lib/chaosql/history
  chaosql snapshot --to ./history --at 2026-11-13T12:00:00Z      # pretend it is another day

exit codes: 0 ok, 1 error (nothing could be read), 2 usage, 4 partial (a table's source failed; the others
were written)
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--to", required=True, metavar="DIR", help="history directory (created if missing)")
    parser.add_argument(
        "--at", metavar="TIMESTAMP", help="snapshot time to record (default: now), e.g. to backfill or test"
    )
    parser.add_argument("--tables", metavar="A,B", help="tables to snapshot (default: experiments,targets,events)")


def run(args: argparse.Namespace) -> int:
    from chaosql.reports import EXIT_ERROR, EXIT_OK, EXIT_PARTIAL

    try:
        from datetime import datetime
        from pathlib import Path

        from chaosql.config import load_config
        from chaosql.errors import UsageError
        from chaosql.reports.saved import parse_timestamp
        from chaosql.reports.snapshot import DEFAULT_TABLES, take
        from chaosql.tables._common import duration_seconds

        now = datetime.now(UTC)
        try:
            at = parse_timestamp(args.at, now) if args.at else now
        except ValueError:
            raise UsageError(f"--at {args.at}: expected an ISO 8601 timestamp, e.g. 2026-11-20T12:00:00Z") from None
        config = load_config(args.config)
        section = config.section("snapshot")
        tables = tuple(
            t.strip()
            for t in (args.tables or ",".join(section.get("tables") or DEFAULT_TABLES)).split(",")
            if t.strip()
        )
        session = open_session(args)
        try:
            unknown = [t for t in tables if t not in session.tables or t.startswith("history_")]
            if unknown:
                raise UsageError(f"--tables: cannot snapshot {unknown[0]!r}", hint="e.g. experiments,targets,events")
            root = Path(args.to).expanduser()
            window = duration_seconds(str(section.get("metrics_window") or "1h"))
            if window is None:
                raise UsageError(
                    f"[snapshot] metrics_window: expected a duration such as 1h or 15m, not {section['metrics_window']!r}"
                )
            results = take(
                session, root, at=at, tables=tables, metrics=tuple(section.get("metrics") or ()), metrics_window=window
            )
        finally:
            session.close()
        failed = [w for w in results if w.error]
        for w in results:
            if w.error:
                print(f"chaosql: snapshot of {w.table} failed: {w.error}", file=sys.stderr)
            elif args.verbose:
                print(f"{w.table}: {w.rows} rows in {len(w.files)} files under {root / w.table}", file=sys.stderr)
        if failed and len(failed) == len(results):
            return EXIT_ERROR  # nothing could be read: not a partial snapshot, a failed one
        return EXIT_PARTIAL if failed else EXIT_OK
    except (Exception, KeyboardInterrupt) as err:
        return report_error(err)
