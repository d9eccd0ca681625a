"""chaosql repl: the interactive SQL shell."""

from __future__ import annotations

import argparse

NAME = "repl"
HELP = "interactive SQL shell (the default on a terminal)"
DESCRIPTION = """\
Interactive SQL shell: statements end with ";", Tab completes tables, columns and values,
\\? lists meta-commands (\\dt, \\d TABLE, \\x, \\timing, \\format, \\o, \\i, \\q), Ctrl-C cancels
a running query, Ctrl-D quits. History is kept in ~/.local/share/chaosql/history.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    pass


def run(args: argparse.Namespace) -> int:
    from chaosql.commands._context import open_session, report_error
    from chaosql.repl.app import Repl

    try:
        from chaosql.config import load_config
        from chaosql.reports.saved import user_dirs

        session = open_session(args, watch=True)
        repl = Repl(session)
        repl.verbose = bool(getattr(args, "verbose", False))
        repl.query_dirs = user_dirs(load_config(args.config))
        return repl.run()
    except Exception as err:
        return report_error(err)
