"""chaosql service: a background chaosql that keeps its watch cache warm for one-shot queries."""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import TYPE_CHECKING

from chaosql.commands._context import EXIT_OK, EXIT_QUERY_ERROR, report_error, warn

if TYPE_CHECKING:
    import subprocess
    from pathlib import Path

NAME = "service"
HELP = "start, stop or list background chaosql services that answer one-shot queries from a warm cache"
DESCRIPTION = """\
A chaosql service runs in the background for one set of sources (the same --source, --config and
kubeconfig as the command that starts it). While it runs, `chaosql query` with the same sources sends
its statement there over a Unix socket and gets rows from the service's watch cache instead of
listing every cluster itself. `chaosql serve` answers the same way. The service stops after
--idle-exit seconds without a query, or with `chaosql service stop`.

With CHAOSQL_SERVICE=auto, or `auto = true` under the config's [service] (with `idle_exit`, default
600), `chaosql query` starts a service by itself after answering a query that no service answered.

examples:
  chaosql service start -s kube:prod-admin      # then, as often as you like:
  chaosql query -s kube:prod-admin "SELECT phase, count(*) FROM experiments GROUP BY ALL"
  chaosql service status
  chaosql service stop -s kube:prod-admin
"""

#: Seconds a started service waits for its socket before giving up.
START_TIMEOUT = 60.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=["start", "stop", "status", "run"], help="run: in the foreground")
    parser.add_argument(
        "--idle-exit",
        type=float,
        default=3600.0,
        metavar="SECONDS",
        help="stop after this long without a query (default: 3600; 0: never)",
    )


def run(args: argparse.Namespace) -> int:
    try:
        return {"start": _start, "stop": _stop, "status": _status, "run": _run}[args.action](args)
    except (Exception, KeyboardInterrupt) as err:
        return report_error(err)


def _forwarded(args: argparse.Namespace, idle_exit: float, *, settings: bool = True) -> list[str]:
    """The global options of this command (without ``--set``: not ``settings``), for the service process."""
    out: list[str] = []
    for spec in args.source or []:
        out += ["--source", spec]
    if args.config:
        out += ["--config", args.config]
    for item in (args.settings or []) if settings else []:
        out += ["--set", item]
    return out + ["--idle-exit", str(idle_exit)]


def spawn(args: argparse.Namespace, idle_exit: float, *, settings: bool = True) -> tuple[subprocess.Popen, Path]:
    """Start ``chaosql service run`` for the sources ``args`` name, in the background: its own
    session (the terminal's Ctrl-C does not stop it), no terminal, its output in a log next to its
    socket. Returns the process and the log's path; the service may still be starting."""
    import subprocess

    from chaosql.server import local

    key, _ = local.identity(args)
    path = local.socket_path(key)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    log = path.with_suffix(".log")
    with open(log, "ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "chaosql", "service", "run", *_forwarded(args, idle_exit, settings=settings)],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=out,
            start_new_session=True,  # not stopped by the terminal's Ctrl-C
        )
    return process, log


def _start(args: argparse.Namespace) -> int:
    from chaosql.server import local

    key, described = local.identity(args)
    path = local.socket_path(key)
    if local.request(path, {"status": True}) is not None:
        warn(f"chaosql: a service for {described} is already running ({path})")
        return EXIT_OK
    process, log = spawn(args, args.idle_exit)
    deadline = time.monotonic() + START_TIMEOUT
    while local.request(path, {"status": True}, timeout=1.0) is None:
        if process.poll() is not None or time.monotonic() > deadline:
            tail = log.read_text(errors="replace").strip().splitlines()[-1:] if log.exists() else []
            warn(f"chaosql: the service did not start: {tail[0] if tail else 'no output'} (log: {log})")
            return EXIT_QUERY_ERROR
        time.sleep(0.05)
    warn(f"chaosql: service for {described} running (pid {process.pid}); `chaosql query` with these sources uses it")
    return EXIT_OK


def _stop(args: argparse.Namespace) -> int:
    from chaosql.server import local

    key, described = local.identity(args)
    answer = local.request(local.socket_path(key), {"stop": True})
    if answer is None:
        warn(f"chaosql: no service is running for {described}")
        return EXIT_QUERY_ERROR
    warn(f"chaosql: stopped the service for {described} (pid {answer.get('stopping')})")
    return EXIT_OK


def _status(args: argparse.Namespace) -> int:
    from chaosql.server import local

    found = local.running()
    if not found:
        print("no chaosql service is running")
    for service in found:
        idle = service.get("idle_seconds", 0.0)
        print(
            f"pid {service.get('pid')}: {service.get('sources')}; {service.get('requests')} queries, "
            f"idle {idle:.0f} s; socket {service.get('socket')}"
        )
        for watch in service.get("watches", []):
            where = f" in {watch['namespace']}" if watch.get("namespace") else ""
            print(
                f"  {watch['cluster']}: {watch['kind']}{where}: {watch['state']}, {watch['objects']} objects, "
                f"resourceVersion {watch['resource_version']}, read {watch['idle_seconds']:.0f} s ago"
            )
    return EXIT_OK


def _run(args: argparse.Namespace) -> int:
    import signal

    from chaosql.commands._context import sources_and_settings, start_caches
    from chaosql.engine.interrupt import on_signals
    from chaosql.engine.session import Session
    from chaosql.server import local

    key, described = local.identity(args)
    path = local.socket_path(key)
    try:
        sources, settings, _ = sources_and_settings(args)
        probe = Session(sources, settings=settings)  # bad settings fail now
        start_caches(sources, probe.settings)
        probe.close()
        server = local.LocalServer(sources, settings, path, description=described)
        if not server.start():
            warn(f"chaosql: a service for {described} is already running")
            return EXIT_OK
    finally:
        local.starting_done(path)  # listening, or given up: a query may start one again
    signalled: list[str] = []

    def stop_on(signum: int, frame: object) -> None:
        # a second signal while a client's write rolls back must not cut the rollback short
        signalled.append(signal.Signals(signum).name)
        server.stopping.set()

    warn(f"chaosql: service for {described} listening on {server.path} (pid {os.getpid()})")
    with on_signals(stop_on):
        try:
            while not server.stopping.wait(1.0):
                idle = time.monotonic() - server.last_request
                if args.idle_exit and idle > args.idle_exit:
                    warn(f"chaosql: no query for {idle:.0f} s; stopping")
                    break
        finally:
            server.stop(f"interrupted ({signalled[0]})" if signalled else "the chaosql service is stopping")
            for source in sources:
                close = getattr(source, "close", None)
                if close is not None:
                    close()
    return EXIT_OK
