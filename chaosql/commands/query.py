"""chaosql query: run SQL once and print the result."""

from __future__ import annotations

import argparse
import sys
from typing import Any, TextIO

from chaosql.commands._context import EXIT_OK, open_session, print_diagnostics, report_error
from chaosql.output import FORMATS

NAME = "query"
HELP = "run SQL (an argument, -c SQL, -f FILE, or stdin) and print the result"
DESCRIPTION = """\
Run one statement or a script and print each result.

examples:
  chaosql query "SELECT kind, phase, count(*) FROM experiments GROUP BY ALL"
  chaosql query -f report.sql --format csv > out.csv
  echo "SELECT * FROM nodes" | chaosql query --format json

With CHAOSQL_SERVICE=auto (or `auto = true` under the config's [service]), a query that no running
chaosql service answered starts one for the same sources after printing its answer, so the next
queries are answered from its warm cache; it stops after 600 s without a query ([service] idle_exit).

json and jsonl are strict JSON: NaN and infinite numbers are written as the strings "NaN",
"Infinity" and "-Infinity" (as PostgreSQL's to_json writes them), JSON columns as JSON values.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_sql_arguments(parser)


def add_sql_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("sql", nargs="?", help="the SQL to run")
    parser.add_argument("-c", "--command", dest="command_sql", metavar="SQL", help="the SQL to run (as psql -c)")
    parser.add_argument("-f", "--file", metavar="FILE", help="run the statements in FILE")
    parser.add_argument("--format", "-F", choices=FORMATS, default="table", help="output format (default: table)")
    parser.add_argument("--yes", "-y", action="store_true", help="apply writes that touch many rows without asking")
    parser.add_argument(
        "--no-service",
        action="store_true",
        help="list the sources here even when a chaosql service or serve with the same sources is running",
    )


def read_sql(args: argparse.Namespace) -> str | None:
    from chaosql.errors import UsageError

    given = [x for x in (args.sql, args.command_sql, args.file) if x]
    if len(given) > 1:
        raise UsageError("give the SQL once: as an argument, with -c, or with -f")
    if args.file:
        try:
            with open(args.file, encoding="utf-8") as fh:
                return fh.read()
        except OSError as err:
            raise UsageError(f"cannot read {args.file}: {err.strerror}") from err
    if args.sql or args.command_sql:
        return args.sql or args.command_sql
    if not sys.stdin.isatty():
        return sys.stdin.read()
    return None


def run(args: argparse.Namespace) -> int:
    from chaosql.engine.interrupt import cancel_on_signals
    from chaosql.errors import UsageError

    # SIGINT and SIGTERM cancel the running statement: a write rolls back and says what is left
    with cancel_on_signals() as interrupts:
        try:
            sql = read_sql(args)
            if sql is None or not sql.strip():
                raise UsageError("no SQL given", hint='try: chaosql query "SELECT * FROM experiments LIMIT 5"')
            auto_idle_exit = None  # seconds: start a service after answering (CHAOSQL_SERVICE=auto)
            if not getattr(args, "no_service", False):
                from chaosql.server import local

                answered = local.ask(args, sql, sys.stdout, sys.stderr)
                if answered is not None:  # a running chaosql with the same sources answered
                    return interrupts.exit_code or answered
                auto_idle_exit = local.auto_start(args)  # a bad [service] section fails before the query
            session = interrupts.watch(open_session(args))
            try:
                run_sql(session, sql, args, sys.stdout, sys.stderr)
            finally:
                session.close()
            if auto_idle_exit is not None:
                start_service(args, auto_idle_exit)
            return EXIT_OK
        except (Exception, KeyboardInterrupt) as err:
            code = report_error(err, verbose=getattr(args, "verbose", False))
            return interrupts.exit_code or code


def start_service(args: argparse.Namespace, idle_exit: float) -> None:
    """After answering a query itself, start a service for the same sources (the user asked for
    that: ``CHAOSQL_SERVICE=auto``, ``[service] auto = true``), so the next queries are answered from
    its warm cache. It starts in the background: this command does not wait for it."""
    from chaosql.commands.service import spawn
    from chaosql.server import local

    key, described = local.identity(args)
    if not local.claim_start(key):  # another query is starting it right now
        return
    path = local.socket_path(key)
    if local.request(path, {"status": True}, timeout=1.0) is not None:
        # one started while this query listed by itself (a query side by side claimed first)
        local.starting_done(path)
        return
    # without --set: each query brings its own settings to the service
    process, log = spawn(args, idle_exit, settings=False)
    if getattr(args, "verbose", False):
        print(
            f"chaosql: started a service for {described} (pid {process.pid}, stops after {idle_exit:g} s "
            f"without a query; log: {log})",
            file=sys.stderr,
        )


def run_sql(session: Any, sql: str, args: argparse.Namespace, out: TextIO, err: TextIO) -> None:
    """Run a script on ``session``, each result rendered to ``out`` (diagnostics to ``err``) as the
    options ask: ``format``, ``verbose``, ``yes``. Raises the first error."""
    from chaosql.output import render

    if getattr(args, "yes", False):
        session.confirm = lambda *_: True
    for result in session.execute_script(sql):
        print_diagnostics(result, args.verbose, err)
        if result.has_rows:
            render(result.columns, result.types, result.rows(), args.format, out)
        elif result.status:
            print(result.status, file=out)
