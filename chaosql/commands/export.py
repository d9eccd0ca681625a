"""chaosql export: chaos state as Prometheus metrics, defined in SQL."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chaosql.export.endpoint import ExportOptions

from chaosql.commands._context import EXIT_INTERRUPTED, EXIT_OK, EXIT_QUERY_ERROR, report_error, warn

NAME = "export"
HELP = "serve chaos state as Prometheus metrics (/metrics), every family defined by a saved query"
DESCRIPTION = """\
Serve /metrics for Prometheus: experiments by phase, their targets, start, end and injection times,
schedules, workflows, failed injections, and what each fault injects (network delay, loss, stress
workers and load, I/O delay ...), for every cluster, Chaosd node and engine the sources name. Each
metric family is a saved query (chaosql/export/families/*.sql); any of your saved queries with a
`-- metric: NAME` header becomes one more (docs/exporter.md).

Kubernetes sources keep a watch cache, so a scrape reads memory, not the API server; a scrape
refreshes the metrics at most every --min-interval seconds, and one that would wait longer than
--scrape-timeout gets the last complete set (chaosql_export_stale_seconds says how old).

examples:
  chaosql export -s kube:prod -s kube:staging --listen :9466     # in a Deployment
  chaosql export --once > /var/lib/node_exporter/textfile/chaos.prom
  chaosql export --list

exit codes: 0 stopped by SIGTERM (or --once with every family fine), 1 a family failed (--once)
or a source error at start, 2 usage, 130 stopped by SIGINT
"""

OPTIONS_NOTE = "(or in the config file's [export] section; docs/exporter.md)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--listen",
        default=None,
        metavar="HOST:PORT",
        help="where to serve /metrics and /healthz (default: 127.0.0.1:9466; :9466 for every interface)",
    )
    parser.add_argument("--once", action="store_true", help="print the metrics once on stdout and exit")
    parser.add_argument(
        "--format", choices=["text", "openmetrics"], default="text", help="--once: exposition format (default: text)"
    )
    parser.add_argument("--list", action="store_true", help="list the metric families and exit")
    parser.add_argument(
        "--families",
        action="append",
        default=[],
        metavar="DIR",
        help="also serve the families in DIR/*.sql (besides the config's [queries] dir); repeat for several",
    )
    parser.add_argument(
        "--no-defaults",
        dest="defaults",
        action="store_const",
        const=False,
        default=None,
        help="serve only your own families, not chaosql's",
    )
    parser.add_argument(
        "--min-interval",
        type=float,
        default=None,
        metavar="SECONDS",
        help="refresh the metrics at most this often, however often they are scraped (default: 10)",
    )
    parser.add_argument(
        "--scrape-timeout",
        type=float,
        default=None,
        metavar="SECONDS",
        help="longest a scrape waits for a refresh before it gets the last complete set (default: 10; "
        "less when Prometheus says its scrape timeout is shorter)",
    )
    parser.add_argument(
        "--max-series",
        type=int,
        default=None,
        metavar="N",
        help="most series one family may have (default: 50000; a query's -- max_series: overrides); "
        "a family over its cap is left out and reported",
    )
    parser.add_argument(
        "--state",
        type=Path,
        default=None,
        metavar="FILE",
        help="keep the counters' totals in FILE, so they stay monotonic across restarts",
    )
    parser.add_argument(
        "--log-format", choices=["text", "json"], default="text", help="stderr log lines (default: text)"
    )


def run(args: argparse.Namespace) -> int:
    try:
        return _run(args)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except Exception as err:
        return report_error(err)


def options(args: argparse.Namespace, config: Any) -> ExportOptions:
    """The exporter's options: the command line's over the config's [export] section."""
    from chaosql.export.endpoint import ExportOptions

    return ExportOptions.read(
        config,
        listen=args.listen,
        families=args.families,
        defaults=args.defaults,
        min_interval=args.min_interval,
        scrape_timeout=args.scrape_timeout,
        max_series=args.max_series,
        state=args.state,
    )


def _run(args: argparse.Namespace) -> int:
    from chaosql.commands._context import sources_and_settings
    from chaosql.config import load_config
    from chaosql.daemon.http import parse_address
    from chaosql.daemon.log import EventLog
    from chaosql.export import endpoint

    if args.list:
        return _list(options(args, load_config(args.config)))
    log = EventLog(sys.stderr, fmt=args.log_format, verbose=args.verbose)
    sources, settings, config = sources_and_settings(args)
    try:
        chosen = options(args, config)
        address = parse_address(chosen.listen) if not args.once else None
        exporter = endpoint.build(sources, settings, config, chosen, log=log, watch=not args.once)
    except BaseException:
        for source in sources:
            source.close()
        raise
    try:
        if args.once:
            return _once(exporter, args.format)
        assert address is not None
        return _serve(exporter, address, log, sources)
    finally:
        exporter.close()
        exporter.session.close()
        for source in sources:
            source.close()


def _once(exporter, fmt_name: str) -> int:
    from chaosql.export.exposition import OPENMETRICS, TEXT

    collected = exporter.refresh_now()
    sys.stdout.write(exporter.scrape(OPENMETRICS if fmt_name == "openmetrics" else TEXT, wait=0))
    sys.stdout.flush()
    failed = [o for o in collected.outcomes.values() if not o.ok]
    return EXIT_QUERY_ERROR if failed else EXIT_OK


def _serve(exporter, address: tuple[str, int], log, sources) -> int:
    import signal
    import threading

    from chaosql.export.endpoint import http_endpoint

    stop = threading.Event()
    received: list[int] = []

    def on_signal(number: int, frame: object) -> None:
        received.append(number)
        stop.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, on_signal)
    http = http_endpoint(exporter, address, log, name="chaosql-export-http", option="--listen").start()
    log.info(
        "listening",
        address=http.address,
        metrics=f"http://{http.address}/metrics",
        sources=[getattr(s, "name", "?") for s in sources],
        families=len(exporter.specs),
        broken=sorted(exporter.broken) or None,
        min_interval=exporter.min_interval,
        scrape_timeout=exporter.scrape_timeout,
    )
    try:
        while not stop.wait(0.5):  # short waits: the signal handler runs on this thread
            pass
    finally:
        http.stop()
    signame = "SIGINT" if received and received[0] == signal.SIGINT else "SIGTERM"
    log.info("stopping", signal=signame)
    return EXIT_INTERRUPTED if signame == "SIGINT" else EXIT_OK


def _list(chosen: ExportOptions) -> int:
    from chaosql.export.catalog import families

    specs, broken = families(chosen.families, defaults=chosen.defaults)
    for spec in specs:
        origin = "built-in" if spec.query.builtin else str(spec.query.path)
        names = [v.family for v in spec.declared] or [f"{spec.metric}[_COLUMN] (one family per number column)"]
        suffix = "_total" if spec.type == "counter" else ""
        print(f"{spec.metric}  {spec.type}  ({spec.query.name}, {origin})")
        for name in names:
            print(f"  {name}{suffix}")
    for name, error in sorted(broken.items()):
        warn(f"chaosql: family {name} is broken: {error}")
    return EXIT_QUERY_ERROR if broken else EXIT_OK
