"""chaosql report: run a report definition (TOML) and write one Markdown, HTML or JSON document."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from chaosql.commands._context import report_error

if TYPE_CHECKING:
    from chaosql.reports.render import Renderer

NAME = "report"
HELP = "run a report definition (TOML) and write Markdown, HTML or JSON; made for cron"
DESCRIPTION = """\
Run the queries of a report definition and write one document: Markdown, self-contained HTML
(tables and inline SVG charts, nothing fetched from the network) or JSON; or, with --format csv,
one CSV file per query in the directory --out names. With --out the file is
written atomically (a temporary file beside it, then a rename), so cron never leaves half a report.

Quiet on success: nothing on stderr unless -v. Failed checks and failed sections are marked in the
document and named on stderr. See docs/reports.md for the TOML format.

examples:
  chaosql report examples/report.toml --out /var/www/chaos/nightly.html
  chaosql report examples/report.toml --format markdown --param now=2026-11-20T12:00:00Z

exit codes (the first that applies):
  2  usage: bad option, report file, query name or parameter; nothing was run or written
  1  error: a query failed (SQL error, a chart that does not fit), or the report could not be written
  4  partial: a source was down or timed out; its sections are marked failed, the rest rendered
  3  check failed: every section rendered, at least one check failed
  0  ok
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from chaosql.reports.definition import DOCUMENT_FORMATS

    parser.add_argument("file", help="report definition (TOML)")
    parser.add_argument(
        "--out", "-o", metavar="FILE", help="write here, atomically (default: stdout); with --format csv, a directory"
    )
    parser.add_argument(
        "--format",
        "-F",
        choices=DOCUMENT_FORMATS,
        default=None,
        help="document format (default: from --out's suffix, else the report's format, else markdown)",
    )
    parser.add_argument(
        "--param",
        "-p",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a value for every query that declares this parameter (overrides [params])",
    )


def run(args: argparse.Namespace) -> int:
    from chaosql.engine.interrupt import cancel_on_signals
    from chaosql.reports import EXIT_ERROR

    # SIGINT/SIGTERM cancel the running section (a write rolls back); the report stops, --out untouched
    with cancel_on_signals() as interrupts:
        try:
            report, fmt, config = _prepare(args)
            return _write(report, fmt, config, args, interrupts)
        except OSError as err:  # --out in a missing or read-only directory (found before any query runs)
            print(f"chaosql: cannot write {args.out}: {err.strerror or err}", file=sys.stderr)
            return EXIT_ERROR
        except (Exception, KeyboardInterrupt) as err:
            code = report_error(err, verbose=getattr(args, "verbose", False))  # UsageError: 2, else 1
            return interrupts.exit_code or code


def _prepare(args: argparse.Namespace):
    from chaosql.config import load_config
    from chaosql.errors import UsageError
    from chaosql.reports.definition import load
    from chaosql.reports.saved import catalog, parse_assignments, user_dirs

    config = load_config(args.config)
    report = load(args.file, catalog(user_dirs(config)))
    report.params.update(parse_assignments(args.param))
    for item in args.source:  # --source NAME=SPEC replaces one of the report's sources
        name, eq, spec = item.partition("=")
        if eq and name in report.sources:
            report.sources[name] = spec
        elif not report.sources:
            report.sources[item] = item
        else:
            raise UsageError(
                f"--source {item}: the report names its sources ({', '.join(report.sources)})",
                hint="replace one with --source NAME=SPEC",
            )
    report.bind(datetime.now(UTC))
    fmt = args.format or _format_of(args.out) or report.format or "markdown"
    if fmt == "csv" and not args.out:
        raise UsageError("--format csv writes one file per query", hint="give the directory: --out DIR")
    return report, fmt, config


def _format_of(out: str | None) -> str | None:
    if not out:
        return None
    return {".md": "markdown", ".markdown": "markdown", ".html": "html", ".htm": "html", ".json": "json"}.get(
        Path(out).suffix.lower()
    )


def _write(report, fmt: str, config, args: argparse.Namespace, interrupts: Any) -> int:
    import contextlib

    from chaosql.reports.atomic import atomic_writer
    from chaosql.reports.render import RENDERERS
    from chaosql.reports.runner import OK, Outcome
    from chaosql.reports.runner import run as run_report

    opener = _opener(report, config, args)
    sources = lambda names, timeout: interrupts.watch(opener(names, timeout))  # noqa: E731
    outcome = Outcome()
    shown = report.sources or {"default": ", ".join(args.source) or "configured sources"}
    target: contextlib.AbstractContextManager[TextIO]
    make: Callable[[TextIO], Renderer]
    if fmt == "csv":  # one file per query: each is atomic, the directory is not
        from chaosql.reports.render import CsvDirRenderer

        target = contextlib.nullcontext(sys.stdout)
        make = lambda out: CsvDirRenderer(out, directory=args.out, title=report.title, sources=shown)  # noqa: E731
    else:
        target = atomic_writer(args.out) if args.out else contextlib.nullcontext(sys.stdout)
        make = lambda out: RENDERERS[fmt](out, title=report.title, description=report.description, sources=shown)  # noqa: E731
    with target as out:
        renderer = make(out)
        renderer.begin()
        for section in run_report(report, sources):
            renderer.section(section)  # may mark the section failed (a chart that does not fit)
            renderer.flush()
            outcome.sections.append(section)
            if args.verbose:
                state = "ok" if section.status == OK else section.status
                print(
                    f"section {section.spec.id}: {state}, {len(section.rows)} rows in {section.elapsed * 1000:.0f} ms",
                    file=sys.stderr,
                )
        renderer.end(outcome)
    for section in outcome.sections:
        if section.status == "check-failed":
            print(f"chaosql: check {section.spec.id} failed: {section.message}", file=sys.stderr)
        elif section.failed:
            print(f"chaosql: section {section.spec.id} failed ({section.status}): {section.message}", file=sys.stderr)
    if args.verbose and args.out:
        print(f"wrote {args.out}", file=sys.stderr)
    return outcome.exit_code


def _opener(report, config, args: argparse.Namespace):
    """A factory for Sessions over some of the report's sources, each opened once."""
    from chaosql.config import open_sources
    from chaosql.engine.session import Session
    from chaosql.errors import UsageError

    settings = dict(config.settings)
    for item in args.settings:
        name, eq, value = item.partition("=")
        if not eq:
            raise UsageError(f"--set {item}: expected NAME=VALUE")
        settings[name.strip()] = value.strip()
    opened: dict[str, object] = {}

    def source(name: str):
        if name not in opened:
            spec = report.sources[name]
            found = open_sources([spec], config) if spec in config.sources else None
            if found is None:
                from chaosql.sources import open_source

                # a source named after its own spec (--source SPEC) keeps the source's default name
                found = [open_source(spec, name="" if spec in ("demo", name) else name, config=config.raw)]
            opened[name] = found[0]
        return opened[name]

    def make(names: tuple[str, ...], timeout: float | None):
        if report.sources:
            sources = [source(n) for n in names]
        else:
            sources = open_sources([], config, notice=lambda m: print(m, file=sys.stderr))
        session = Session(sources, settings=settings)
        if timeout:
            session.set("timeout", timeout)
        return session

    return make
