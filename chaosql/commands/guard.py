"""chaosql guard: halt chaos when a service suffers (a long-running process)."""

from __future__ import annotations

import argparse
import sys

from chaosql.commands._context import EXIT_OK, report_error

NAME = "guard"
HELP = "run guards: halt chaos experiments when a SQL condition over chaos state and metrics breaches"
DESCRIPTION = """\
Evaluate the guards of a guard file (TOML) until stopped: every `every` seconds each guard runs its
`when` query; a row that keeps coming back for `for` seconds is acted on with the guard's `then`
statement (e.g. pause the experiments), at most `max_rows` rows, each object acted on getting a
Kubernetes Event. Every decision is logged on stderr with its rows and statement.

Made to run under systemd or as a Kubernetes Deployment: logs as JSON lines with --log-format json,
a health endpoint with --health, and SIGTERM stops it cleanly (an action in progress finishes; a
second signal cancels it and it rolls back: never half-applied). The watch cache keeps Kubernetes
reads cheap (--set cache=false lists live instead). See docs/guards.md for the file format.

examples:
  chaosql guard --check guards.toml
  chaosql guard guards.toml --source kube:prod --source prometheus:http://prometheus:9090
  chaosql guard /etc/chaosql/guards.toml --log-format json --health :8080

exit codes:
  2  usage: bad option or guard file; nothing was started
  1  a guard's query cannot run at all, or a source could not be opened
  0  stopped by SIGTERM (or --check: the file is valid)
  130  stopped by SIGINT (Ctrl-C)
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from chaosql.daemon.log import FORMATS

    parser.add_argument("file", help="guard file (TOML)")
    parser.add_argument(
        "--check", action="store_true", help="validate the file (keys, durations, SQL) without running anything"
    )
    parser.add_argument(
        "--log-format", choices=FORMATS, default="text", help="decision log on stderr: text or JSON lines"
    )
    parser.add_argument(
        "--health",
        metavar="ADDR",
        help="serve GET /healthz on PORT, :PORT or HOST:PORT (200 while every guard evaluates on time)",
    )
    parser.add_argument("--dry-run", action="store_true", help="run every guard with dry_run = true")


def run(args: argparse.Namespace) -> int:
    from chaosql.guard.definition import load

    try:
        guards = load(args.file)
        if args.dry_run:
            for guard in guards.guards:
                guard.dry_run = True
        if args.check:
            shown = ", ".join(
                f"{g.name} ({'dry run, ' if g.dry_run else ''}{g.verb} {g.target})" for g in guards.guards
            )
            print(f"{args.file}: {len(guards.guards)} guards ok: {shown}")
            return EXIT_OK
        return _serve(guards, args)
    except (Exception, KeyboardInterrupt) as err:
        return report_error(err)


def _serve(guards, args: argparse.Namespace) -> int:
    from chaosql.commands._context import sources_and_settings, start_caches
    from chaosql.daemon.http import parse_address
    from chaosql.daemon.log import EventLog
    from chaosql.guard.process import GuardProcess

    health = parse_address(args.health, "--health") if args.health else None
    log = EventLog(sys.stderr, fmt=args.log_format, verbose=args.verbose)
    sources, settings, _ = sources_and_settings(args)
    start_caches(sources, settings)
    process = GuardProcess(guards, sources, settings, log, health=health)
    return process.run()
