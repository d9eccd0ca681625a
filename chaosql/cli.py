"""The ``chaosql`` command line: thin dispatch to the modules in ``chaosql.commands``."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from chaosql.commands import COMMANDS, MODULES
from chaosql.commands._context import EXIT_USAGE, add_global_options, merge_global_options, report_error

DESCRIPTION = """\
SQL over chaos-engineering state: Chaos Mesh experiments, their targets, nodes and events
(and Prometheus metrics, Chaosd machines) as tables you can query and change.

Run with no command on a terminal to open the interactive shell. With nothing configured,
chaosql uses its bundled demo data, so this works anywhere:

  chaosql query "SELECT kind, phase, count(*) FROM experiments GROUP BY ALL ORDER BY ALL"

exit codes: 0 ok, 1 query or source error, 2 usage error, 130 interrupted (SIGINT), 143 stopped (SIGTERM)
"""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line and exit code 2, as for every usage error
        self.print_usage(sys.stderr)
        print(f"chaosql: {message}", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)


class _NotQuick(Exception):
    """The quick parser cannot read these arguments: the full parser reads them (and words the error)."""


class _QuickParser(_Parser):
    def error(self, message: str) -> NoReturn:
        raise _NotQuick(message)


def build_parser(
    modules: Sequence[str] = MODULES, parser_class: type[argparse.ArgumentParser] = _Parser
) -> argparse.ArgumentParser:
    """The command line's parser, with a subcommand for each of ``modules`` (default: all)."""
    parser = parser_class(prog="chaosql", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_global_options(parser)
    from chaosql import __version__

    parser.add_argument("--version", action="version", version=f"chaosql {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for path in modules:
        module = importlib.import_module(path)
        p = sub.add_parser(
            module.NAME,
            help=module.HELP,
            description=getattr(module, "DESCRIPTION", module.HELP),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        add_global_options(p, after_command=True)
        module.add_arguments(p)
        p.set_defaults(run=module.run)
    return parser


def subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    """Each command's parser, by name."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _first_positional(argv: Sequence[str]) -> str | None:
    """The first argument that is neither an option nor an option's value."""
    takes_value = {"--source", "-s", "--config", "--set", "--format", "-F", "-c", "--command", "-f", "--file"}
    skip = False
    for arg in argv:
        if skip:
            skip = False
            continue
        if arg in takes_value:
            skip = True
        elif not arg.startswith("-"):
            return arg
    return None


def _default_command(argv: list[str], commands: set[str]) -> list[str]:
    """``chaosql -c SQL``, ``chaosql "SQL"`` and piped stdin mean ``query``; a bare terminal means ``repl``."""
    positional = _first_positional(argv)
    if positional in commands or any(a in ("-h", "--help", "--version") for a in argv):
        return argv
    wants_query = positional is not None or any(a in ("-c", "--command", "-f", "--file") for a in argv)
    if wants_query or not sys.stdin.isatty():
        return ["query", *argv]
    return ["repl", *argv]


class _KeptOut:
    """A meta-path finder that says the named packages are not installed."""

    def __init__(self, names: frozenset[str]) -> None:
        self.names = names

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> None:
        top = name.partition(".")[0]
        if top in self.names:
            raise ModuleNotFoundError(f"{top} is kept out of the chaosql command line", name=name)
        return None


#: Packages the command line never uses, imported by its dependencies only to look around:
#: pyarrow imports pandas (~0.4 s) just to ask whether a list is a DataFrame, and httpcore imports
#: trio (~0.1 s), if installed, in case it runs under trio's event loop, which chaosql never does.
KEPT_OUT = ("pandas", "trio")
#: What one-shot ``chaosql query`` keeps out too: pyarrow imports numpy (~0.1 s) for conversions
#: the query path never asks for (the Postgres-wire server lays out its rows with numpy), and
#: cloudpickle, if installed, to pickle with (~20 ms; it falls back to pickle, which it never uses here).
KEPT_OUT_OF_QUERY = ("numpy", "cloudpickle")


def _keep_out(names: Sequence[str]) -> None:
    """Keep ``names`` out of this process (``CHAOSQL_ALLOW_PANDAS=1`` lets everything in). Library
    users are not affected."""
    absent = frozenset(name for name in names if name not in sys.modules)
    if absent and not os.environ.get("CHAOSQL_ALLOW_PANDAS"):
        sys.meta_path.insert(0, _KeptOut(absent))


def main(argv: Sequence[str] | None = None) -> int:
    _keep_out(KEPT_OUT)
    args_list = _default_command(list(sys.argv[1:] if argv is None else argv), set(COMMANDS))
    args = None
    if _first_positional(args_list) == "query":
        # the quick path: a one-shot query reads only its own options, so the other commands'
        # modules are not imported (a running service answers in about the time Python takes to start)
        try:
            args = build_parser([COMMANDS["query"]], _QuickParser).parse_args(args_list)
        except _NotQuick:
            args = None
    if args is None:
        args = build_parser().parse_args(args_list)
    try:
        merge_global_options(args)
    except Exception as err:
        return report_error(err)
    if args.command == "query":
        _keep_out(KEPT_OUT_OF_QUERY)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
