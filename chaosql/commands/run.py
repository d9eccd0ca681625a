"""chaosql run: run one saved query with its parameters; a failed check exits 3."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from chaosql.commands._context import EXIT_OK, open_session, print_diagnostics, report_error

NAME = "run"
HELP = "run a saved query: chaosql run NAME --param key=value"
DESCRIPTION = """\
Run one saved query (see chaosql queries) and print its result. Parameters are checked against
their declared types and bound as SQL literals, never pasted into the SQL text.

If the query declares a check (e.g. stuck-injecting must return no rows) and the result fails it,
the result is still printed, the check is named on stderr and the exit code is 3.

examples:
  chaosql run stuck-injecting --param minutes=30
  chaosql run warning-events --param now=2026-11-20T12:00:00Z --format csv
  chaosql run stuck-injecting --quiet || page-the-on-call     # in CI after a canary deploy

exit codes: 0 ok, 1 query or source error, 2 usage (unknown query or bad parameter), 3 check failed
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from chaosql.output import FORMATS

    parser.add_argument("name", help="saved query name")
    parser.add_argument(
        "--param", "-p", action="append", default=[], metavar="NAME=VALUE", help="a parameter value; repeat for several"
    )
    parser.add_argument(
        "--format", "-F", choices=FORMATS, default=None, help="output format (default: the query's own, else table)"
    )
    parser.add_argument("--quiet", "-q", action="store_true", help="print nothing but errors and failed checks")


def run(args: argparse.Namespace) -> int:
    from chaosql.engine.interrupt import cancel_on_signals

    with cancel_on_signals() as interrupts:  # a saved write stopped by SIGINT/SIGTERM rolls back
        try:
            return _run(args, interrupts)
        except (Exception, KeyboardInterrupt) as err:
            code = report_error(err, verbose=getattr(args, "verbose", False))
            return interrupts.exit_code or code


def _run(args: argparse.Namespace, interrupts: Any) -> int:
    from chaosql.config import load_config
    from chaosql.output import render
    from chaosql.reports import EXIT_CHECK_FAILED
    from chaosql.reports.saved import catalog, find, parse_assignments, user_dirs

    query = find(args.name, catalog(user_dirs(load_config(args.config))))
    sql = query.bind(parse_assignments(args.param))
    fmt = args.format or (query.format if query.format in ("csv", "json") else "table")
    session = interrupts.watch(open_session(args))
    try:
        result = session.execute(sql)
    finally:
        session.close()
    print_diagnostics(result, args.verbose)
    rows = result.rows()
    if not args.quiet:
        render(result.columns, result.types, rows, fmt, sys.stdout)
    if query.check:
        problem = query.check.verify(result.columns, rows)
        if problem:
            print(f"chaosql: check {query.name} failed: {problem}", file=sys.stderr)
            return EXIT_CHECK_FAILED
        if args.verbose:
            print(f"check {query.name}: ok", file=sys.stderr)
    return EXIT_OK
