"""chaosql queries: list the saved queries (built-in and the user's), or show one."""

from __future__ import annotations

import argparse
import sys

from chaosql.commands._context import EXIT_OK, EXIT_USAGE, report_error

NAME = "queries"
HELP = "list saved queries (built-in and from [queries] dir in the config), or show one"
DESCRIPTION = """\
List the saved queries chaosql ships and those in the directory the config names:

  [queries]
  dir = "~/chaosql/queries"      # *.sql files with a comment header; see docs/reports.md

A user query with a built-in's name replaces it. Give a NAME to see its parameters and SQL.

examples:
  chaosql queries
  chaosql queries stuck-injecting
  chaosql run stuck-injecting --param minutes=30
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from chaosql.output import FORMATS

    parser.add_argument("name", nargs="?", help="show this query: header, parameters and SQL")
    parser.add_argument(
        "--format", "-F", choices=FORMATS, default="table", help="output format of the list (default: table)"
    )


def run(args: argparse.Namespace) -> int:
    try:
        from chaosql.config import load_config
        from chaosql.output import render
        from chaosql.reports.saved import catalog, find, user_dirs

        queries = catalog(user_dirs(load_config(args.config)))
        if args.name:
            query = find(args.name, queries)
            out = sys.stdout
            out.write(f"{query.name}: {query.title}\n")
            out.write(f"  from: {query.origin if query.builtin else query.path}\n")
            if query.description:
                out.write(f"  {query.description}\n")
            for p in query.params:
                out.write(f"  --param {p.describe()}\n")
            if query.check:
                out.write(f"  check: {query.check.describe()}\n")
            out.write("\n" + query.sql + "\n")
            return EXIT_OK
        rows = [
            (
                q.name,
                ", ".join(f"{p.name}={p.default if not p.required else '(required)'}" for p in q.params),
                "check" if q.check else "",
                q.origin,
                q.description,
            )
            for q in sorted(queries.values(), key=lambda q: q.name)
        ]
        render(["name", "parameters", "check", "origin", "description"], ["VARCHAR"] * 5, rows, args.format, sys.stdout)
        for err in queries.broken.values():  # listed after the good ones; each names its file
            print(f"chaosql: {err}", file=sys.stderr)
        return EXIT_USAGE if queries.broken else EXIT_OK
    except (Exception, KeyboardInterrupt) as err:
        return report_error(err)
