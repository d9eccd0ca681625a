"""chaosql sweep: find the strength at which a fault starts to hurt."""

from __future__ import annotations

import argparse
import sys

from chaosql.commands._context import EXIT_OK, report_error

NAME = "sweep"
HELP = "run one experiment at rising strengths until a steady-state check fails; report the threshold"
DESCRIPTION = """\
Run the experiment template of a sweep file (TOML) once per value of its parameter, in order: check
the steady state, create the experiment, let it settle, check again, remove it, wait for recovery.
Stop at the first value whose check fails (with bisect, narrow down between the last pass and the
first fail), and write a report: the threshold, a chart of the checked value against the parameter,
and a table per step. Ctrl-C, SIGTERM, errors and timeouts remove the current step's experiment;
every experiment of the run carries the label chaosql/sweep=<run>, and none is left behind.

Progress is logged on stderr (--log-format json for JSON lines). See docs/guards.md.

examples:
  chaosql sweep --check sweep.toml
  chaosql sweep examples/sweep.toml --source kube:staging --source prometheus:http://prom:9090 --out sweep.html

exit codes:
  2  usage: bad option or sweep file; nothing was run
  1  the sweep stopped on an error (a write refused, a source down, no recovery), or left something behind
  3  a threshold was found at or below must_hold_until
  0  no threshold, or one above must_hold_until (or --check: the file is valid)
  130  interrupted (Ctrl-C or SIGTERM); the current step was cleaned up and the report written
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from chaosql.daemon.log import FORMATS

    parser.add_argument("file", help="sweep file (TOML)")
    parser.add_argument("--check", action="store_true", help="validate the file without running anything")
    parser.add_argument("--out", "-o", metavar="FILE", help="write the report here, atomically (default: stdout)")
    parser.add_argument(
        "--format",
        "-F",
        choices=("markdown", "html", "json"),
        default=None,
        help="report format (default: from --out's suffix, else the file's format, else markdown)",
    )
    parser.add_argument("--log-format", choices=FORMATS, default="text", help="progress log on stderr")


def run(args: argparse.Namespace) -> int:
    from chaosql.sweep.definition import load

    try:
        sweep = load(args.file)
        if args.check:
            values = ", ".join(sweep.parameter.shown(v) for v in sweep.parameter.values)
            print(f"{args.file}: ok: {sweep.parameter.name} over {values}; check {sweep.check.describe()}")
            return EXIT_OK
        return _sweep(sweep, args)
    except (Exception, KeyboardInterrupt) as err:
        return report_error(err)


def _sweep(sweep, args: argparse.Namespace) -> int:
    import contextlib
    import signal

    from chaosql.commands._context import sources_and_settings, start_caches
    from chaosql.commands.report import _format_of
    from chaosql.daemon.log import EventLog
    from chaosql.engine.interrupt import on_signals
    from chaosql.engine.session import Session
    from chaosql.reports.atomic import atomic_writer
    from chaosql.sweep.report import render
    from chaosql.sweep.runner import SweepRunner

    fmt = args.format or _format_of(args.out) or sweep.format or "markdown"
    log = EventLog(sys.stderr, fmt=args.log_format, verbose=args.verbose)
    sources, settings, _ = sources_and_settings(args)
    start_caches(sources, settings)
    session = Session(sources, settings=settings, owns_sources=True)
    runner = SweepRunner(sweep, session, log)

    def on_signal(number: int, frame: object) -> None:
        name = signal.Signals(number).name
        if not runner.stopping.is_set():
            log.warning("stopping", signal=name, note="removing the current step's experiment first")
        runner.stop()

    try:
        with on_signals(on_signal):
            result = runner.run()
    finally:
        session.close()
    shown = {getattr(s, "name", str(i)): s.describe() for i, s in enumerate(sources)}
    target = atomic_writer(args.out) if args.out else contextlib.nullcontext(sys.stdout)
    with target as out:
        code = render(sweep, result, out, fmt, sources=shown)
    for line in result.left:
        print(f"chaosql: left behind: {line}", file=sys.stderr)
    return code
