"""chaosql tables: list the virtual tables, or one table's columns, with their docs."""

from __future__ import annotations

import argparse
import sys

NAME = "tables"
HELP = "list the tables, or the columns of one table, with their docs"
DESCRIPTION = "List chaosql's tables (no source is contacted)."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("table", nargs="?", help="show this table's columns")


def run(args: argparse.Namespace) -> int:
    from chaosql.commands._context import report_error
    from chaosql.errors import UsageError
    from chaosql.output import render
    from chaosql.tables import registry

    tables = registry()
    try:
        if args.table:
            if args.table not in tables:
                raise UsageError(f'unknown table "{args.table}"', hint="chaosql tables lists them")
            t = tables[args.table]
            rows = [(c.name, c.type, c.doc) for c in t.columns]
            render(["column", "type", "description"], ["VARCHAR"] * 3, rows, "table", sys.stdout)
        else:
            render(
                ["table", "description"],
                ["VARCHAR"] * 2,
                [(t.name, t.doc) for t in tables.values()],
                "table",
                sys.stdout,
            )
        return 0
    except Exception as err:
        return report_error(err)
