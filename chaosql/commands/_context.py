"""What every command shares: global options, opening the session, printing errors."""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Any, TextIO

EXIT_OK, EXIT_QUERY_ERROR, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


#: The global options' destinations, with the value each takes when it is not given.
GLOBAL_DEFAULTS: dict[str, Any] = {"source": [], "config": None, "settings": [], "verbose": False}
#: Where a subcommand's parser stores the global options given after the command name.
AFTER_COMMAND = "after_command_"


def add_global_options(parser: argparse.ArgumentParser, *, after_command: bool = False) -> None:
    """The options every command takes, before the command name or after it.

    The main parser and each subcommand's parser both define them. argparse copies a
    subcommand's defaults over what the main parser already read, so on a subcommand they are
    stored apart (``AFTER_COMMAND`` + dest, no default) and ``merge_global_options`` joins the two.
    """
    g = parser.add_argument_group("sources and settings")

    def dest(name: str) -> dict[str, Any]:
        if after_command:
            return {"dest": AFTER_COMMAND + name, "default": argparse.SUPPRESS}
        return {"dest": name, "default": GLOBAL_DEFAULTS[name]}

    g.add_argument(
        "--source",
        "-s",
        action="append",
        **dest("source"),
        metavar="SPEC",
        help="where rows come from: demo, snapshot:PATH, kube[:CONTEXT], or a source named in the "
        "config; repeat for several (default: the config's sources, else demo)",
    )
    g.add_argument(
        "--config",
        **dest("config"),
        metavar="FILE",
        help="TOML config file (default: $CHAOSQL_CONFIG, ~/.config/chaosql/config.toml)",
    )
    g.add_argument(
        "--set",
        action="append",
        **dest("settings"),
        metavar="NAME=VALUE",
        help="a session setting, e.g. --set on_source_error=warn (see SET chaosql.*)",
    )
    g.add_argument(
        "--verbose",
        "-v",
        action="store_true",
        **dest("verbose"),
        help="print what was pushed down and each call made, on stderr",
    )


def merge_global_options(args: argparse.Namespace) -> argparse.Namespace:
    """Join the global options given before the command name with those given after it:
    lists (``--source``, ``--set``) in the order written, one ``--config`` (given twice with
    different files is a usage error), ``--verbose`` from either place."""
    from chaosql.errors import UsageError

    for name, default in GLOBAL_DEFAULTS.items():
        before = getattr(args, name, default)
        if not hasattr(args, AFTER_COMMAND + name):
            setattr(args, name, before)
            continue
        after = getattr(args, AFTER_COMMAND + name)
        delattr(args, AFTER_COMMAND + name)
        if isinstance(default, list):
            setattr(args, name, [*before, *after])
        elif isinstance(default, bool):
            setattr(args, name, before or after)
        else:
            if before is not None and before != after:
                raise UsageError(f"--config given twice ({before} and {after})", hint="name one config file")
            setattr(args, name, after)
    return args


def sources_and_settings(args: argparse.Namespace) -> tuple[list[Any], dict[str, Any], Any]:
    """The sources, session settings and config that the global options and config file name."""
    from chaosql.config import load_config, open_sources
    from chaosql.errors import UsageError

    config = load_config(getattr(args, "config", None))
    sources = open_sources(getattr(args, "source", []) or [], config, notice=warn)
    settings = dict(config.settings)
    for item in getattr(args, "settings", []) or []:
        name, eq, value = item.partition("=")
        if not eq:
            raise UsageError(f"--set {item}: expected NAME=VALUE")
        settings[name.strip()] = value.strip()
    return sources, settings, config


def open_session(args: argparse.Namespace, *, watch: bool = False) -> Any:
    """A Session over the sources the options name; ``watch``: a long-running front end (the
    shell), whose Kubernetes sources keep a watch cache unless ``cache = false``."""
    sources, settings, _ = sources_and_settings(args)
    for source in sources:  # connect while the engine (DuckDB, sqlglot: tenths of a second) imports
        warm_up = getattr(source, "warm_up", None)
        if warm_up is not None:
            warm_up()
    from chaosql.engine.session import Session

    session = Session(sources, settings=settings, owns_sources=True)
    if watch:
        start_caches(sources, session.settings)
    return session


def start_caches(sources: list[Any], settings: dict[str, Any]) -> None:
    """Give every source that can keep one a watch cache (chaosql.sources.cache), as the
    settings ask (``cache``, ``cache_idle``); they start watching on the first statement."""
    if not settings.get("cache", True):
        return
    for source in sources:
        enable = getattr(source, "enable_cache", None)
        if enable is not None:
            enable(idle=float(settings.get("cache_idle", 600.0)))


def warn(message: str, stream: TextIO | None = None) -> None:
    print(message, file=stream or sys.stderr)


def report_error(err: BaseException, stream: TextIO | None = None, *, verbose: bool = False) -> int:
    """One line on stderr (or ``stream``), never a traceback; returns the exit code. With
    ``verbose``, a failed statement's calls and, for a write, every object it rolled back or left
    follow that line."""
    code = _report(err, stream)
    if verbose:
        for call in getattr(err, "calls", None) or []:
            warn(f"call {call}", stream)
        for line in getattr(err, "details", None) or []:
            warn(line, stream)
    return code


def _report(err: BaseException, stream: TextIO | None) -> int:
    from chaosql.errors import ChaosqlError, SqlError, UsageError

    if isinstance(err, BrokenPipeError) and stream is None:  # `chaosql query ... | head`: all it wanted
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so the interpreter's final flush does not fail again
        return EXIT_OK
    if isinstance(err, UsageError):
        warn(f"chaosql: {err}", stream)
        return EXIT_USAGE
    if isinstance(err, ChaosqlError):
        where = f" (line {err.line}, column {err.col})" if isinstance(err, SqlError) and err.line else ""
        warn(f"chaosql: {err}{where}", stream)
        return EXIT_QUERY_ERROR
    if isinstance(err, KeyboardInterrupt):
        warn("chaosql: interrupted", stream)
        return EXIT_INTERRUPTED
    warn(f"chaosql: internal error: {type(err).__name__}: {err}", stream)
    return EXIT_QUERY_ERROR


def print_diagnostics(result: Any, verbose: bool, stream: TextIO | None = None) -> None:
    for warning in result.warnings:
        warn(f"warning: {warning}", stream)
    if verbose:
        for table, pushed in result.pushdown.items():
            warn(f"pushdown {table}: {pushed}", stream)
        for call in result.calls:
            warn(f"call {call}", stream)
        if result.reused is not None:
            since = time.strftime("%H:%M:%S", time.localtime(result.reused))
            warn(f"answer reused: inputs unchanged since {since}", stream)
        warn(f"time {result.elapsed * 1000:.0f} ms", stream)
