"""Meta-commands (``\\dt``, ``\\d``, ``\\x`` ...): a registry, and ``\\?`` generated from it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from chaosql.errors import UsageError
from chaosql.output import FORMATS

if TYPE_CHECKING:
    from chaosql.repl.app import Repl


@dataclass(frozen=True)
class MetaCommand:
    name: str
    syntax: str
    description: str
    handler: Callable[[Repl, str], None]
    aliases: tuple[str, ...] = ()


REGISTRY: dict[str, MetaCommand] = {}


def command(name: str, syntax: str, description: str, aliases: tuple[str, ...] = ()):
    def register(fn: Callable[[Repl, str], None]) -> Callable[[Repl, str], None]:
        cmd = MetaCommand(name, syntax, description, fn, aliases)
        for key in (name, *aliases):
            REGISTRY[key] = cmd
        return fn

    return register


def lookup(text: str) -> tuple[MetaCommand, str]:
    name, _, arg = text.strip().partition(" ")
    cmd = REGISTRY.get(name)
    if cmd is None:
        raise UsageError(f"unknown command {name}", hint="\\? lists the commands")
    return cmd, arg.strip().rstrip(";").strip()


@command("\\?", "\\?", "show this help", aliases=("help",))
def _help(repl: Repl, arg: str) -> None:
    unique = {c.name: c for c in REGISTRY.values()}
    width = max(len(c.syntax) for c in unique.values())
    for c in unique.values():
        repl.write(f"  {c.syntax.ljust(width)}  {c.description}\n")


@command("\\q", "\\q", "quit", aliases=("quit", "exit"))
def _quit(repl: Repl, arg: str) -> None:
    repl.done = True


@command("\\dt", "\\dt", "list tables")
def _tables(repl: Repl, arg: str) -> None:
    repl.run_sql("SHOW TABLES")


@command("\\d", "\\d TABLE", "describe a table: columns, types, pushdown, docs")
def _describe(repl: Repl, arg: str) -> None:
    repl.run_sql(f"DESCRIBE {arg}" if arg else "SHOW TABLES")


@command("\\x", "\\x [on|off]", "toggle expanded output (one field per line)")
def _expanded(repl: Repl, arg: str) -> None:
    repl.expanded = _toggle(repl.expanded, arg)
    repl.write(f"Expanded display is {'on' if repl.expanded else 'off'}.\n")


@command("\\timing", "\\timing [on|off]", "toggle printing how long each statement took")
def _timing(repl: Repl, arg: str) -> None:
    repl.timing = _toggle(repl.timing, arg)
    repl.write(f"Timing is {'on' if repl.timing else 'off'}.\n")


@command("\\format", "\\format FMT", "output format: " + ", ".join(FORMATS))
def _format(repl: Repl, arg: str) -> None:
    if arg not in FORMATS:
        raise UsageError(f"unknown format {arg!r}", hint="choose one of " + ", ".join(FORMATS))
    repl.format = arg
    repl.write(f"Output format is {arg}.\n")


@command("\\o", "\\o [FILE]", "send results to FILE (no FILE: back to the terminal)")
def _output(repl: Repl, arg: str) -> None:
    repl.set_output(arg or None)


@command("\\i", "\\i FILE", "run the statements in FILE")
def _include(repl: Repl, arg: str) -> None:
    if not arg:
        raise UsageError("\\i needs a file name")
    try:
        with open(arg, encoding="utf-8") as fh:
            text = fh.read()
    except OSError as err:
        raise UsageError(f"cannot read {arg}: {err.strerror}") from err
    for statement in repl.session.split(text):
        repl.run_sql(statement)


@command("\\run", "\\run NAME [key=value ...]", "run a saved query (chaosql queries lists them)")
def _run_saved(repl: Repl, arg: str) -> None:
    from chaosql.reports.saved import catalog, find, parse_assignments

    if not arg:
        raise UsageError("\\run needs a saved query name", hint="chaosql queries lists them")
    name, *assignments = arg.split()
    query = find(name, catalog(repl.query_dirs))
    result = repl.run_sql(query.bind(parse_assignments(assignments)))
    problem = query.check.verify(result.columns, result.rows()) if query.check else None
    if problem:
        repl.err.write(f"CHECK FAILED: {name}: {problem}\n")


@command("\\refresh", "\\refresh", "re-read snapshots and refresh completion values")
def _refresh(repl: Repl, arg: str) -> None:
    for source in repl.session.sources:
        if hasattr(source, "reload"):
            source.reload()
    repl.refresh_values()
    repl.write("Refreshed.\n")


def _toggle(current: bool, arg: str) -> bool:
    if arg in ("on", "true"):
        return True
    if arg in ("off", "false"):
        return False
    if arg:
        raise UsageError(f"expected on or off, not {arg!r}")
    return not current
