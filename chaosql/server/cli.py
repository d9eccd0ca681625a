"""chaosql serve: PostgreSQL clients (psql, Grafana, Metabase, DBeaver, drivers) query chaosql."""

from __future__ import annotations

import argparse
import sys

from chaosql.commands._context import EXIT_INTERRUPTED, EXIT_OK, report_error

NAME = "serve"
HELP = "serve chaosql over the PostgreSQL wire protocol (psql, Grafana, Metabase, JDBC ...)"
DESCRIPTION = """\
Listen for PostgreSQL clients; every connection gets its own session over the same sources.

Users and passwords come from the config file ([server.users.NAME] password = "..."); without
users the server trusts every client and then listens on loopback only (--insecure overrides).

examples:
  chaosql serve                                 # 127.0.0.1:5433, demo data or the config's sources
  psql -h 127.0.0.1 -p 5433 -U me chaosql -c '\\dt'
  chaosql serve --host 0.0.0.0 --tls-cert server.crt --tls-key server.key --config chaosql.toml
  chaosql serve --metrics 127.0.0.1:9466        # and Prometheus metrics, as chaosql export serves them
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default=None, help="address to listen on (default: 127.0.0.1, or [server] host)")
    parser.add_argument("--port", type=int, default=None, help="TCP port (default: 5433, or [server] port)")
    parser.add_argument("--tls-cert", metavar="FILE", help="PEM certificate: answer SSLRequest with TLS")
    parser.add_argument("--tls-key", metavar="FILE", help="PEM private key for --tls-cert")
    parser.add_argument(
        "--auth",
        choices=["scram-sha-256", "md5", "password", "trust"],
        help="password exchange (default: scram-sha-256 when users are configured, else trust)",
    )
    parser.add_argument(
        "--require-tls",
        action="store_true",
        help="refuse clients that do not switch to TLS (or [server] require_tls = true)",
    )
    parser.add_argument(
        "--insecure", action="store_true", help="allow listening on a non-loopback address without auth"
    )
    parser.add_argument(
        "--metrics",
        metavar="HOST:PORT",
        help="also serve Prometheus metrics (/metrics) there, from the same sources and watch cache, as "
        "chaosql export does (its other options from the config's [export] section; docs/exporter.md)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="statements run at once, over every connection (default: 2 per core, 4 to 32; or [server] workers)",
    )
    parser.add_argument(
        "--answer-cache",
        metavar="SIZE",
        help="memory for answers kept for statements asked again with the same inputs, e.g. 64MB; 0 or off: "
        "none (default: 64MB, or [server] answer_cache; docs/server.md)",
    )


def build(args: argparse.Namespace):
    """The Server for ``args`` (sources opened once and shared by every connection's Session), and
    with ``--metrics`` the exporter and its HTTP endpoint over the same sources."""
    from chaosql.commands._context import sources_and_settings, start_caches
    from chaosql.engine.answers import DEFAULT_BYTES, capacity_of
    from chaosql.engine.session import Session
    from chaosql.errors import UsageError
    from chaosql.server.auth import auth_config
    from chaosql.server.server import Server, server_session

    sources, settings, config = sources_and_settings(args)
    section = config.section("server")
    probe = Session(sources, settings=settings)  # bad settings fail now, not at the first client
    start_caches(sources, probe.settings)
    probe.close()
    from chaosql.server import local

    key, described = local.identity(args)  # `chaosql query` with the same sources asks this server
    answering = local.LocalServer(sources, settings, local.socket_path(key), description=described)

    def new_session() -> Session:
        return server_session(sources, settings)

    workers = args.workers if args.workers is not None else section.get("workers")
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int)):
        raise UsageError(f"[server] workers takes a whole number, not {workers!r}")
    server = Server(
        new_session,
        auth=auth_config(section, method=args.auth),
        host=args.host or section.get("host") or "127.0.0.1",
        port=args.port if args.port is not None else int(section.get("port", 5433)),
        tls_cert=args.tls_cert or section.get("tls_cert"),
        tls_key=args.tls_key or section.get("tls_key"),
        insecure=args.insecure,
        require_tls=args.require_tls or bool(section.get("require_tls", False)),
        workers=workers,
        settings=probe.settings,
        answer_cache=capacity_of(
            args.answer_cache if args.answer_cache is not None else section.get("answer_cache", DEFAULT_BYTES)
        ),
        owns_process=True,
    )
    server.local = answering
    return server, (_exporter(args, sources, settings, config) if args.metrics else None)


def _exporter(args: argparse.Namespace, sources: list, settings: dict, config: object):
    """The metrics endpoint of ``--metrics``: ``chaosql export``'s, over this server's sources."""
    from chaosql.daemon.http import parse_address
    from chaosql.daemon.log import EventLog
    from chaosql.export import endpoint

    address = parse_address(args.metrics, "--metrics")
    log = EventLog(sys.stderr, verbose=args.verbose)
    exporter = endpoint.build(sources, settings, config, endpoint.ExportOptions.read(config), log=log)
    return exporter, endpoint.http_endpoint(exporter, address, log, name="chaosql-metrics-http", option="--metrics")


def run(args: argparse.Namespace) -> int:
    """Serve until SIGTERM (exit 0) or Ctrl-C (exit 130), then stop as PostgreSQL's fast shutdown
    does: running statements are cancelled (a write rolls back), clients get FATAL 57P01."""
    import asyncio
    import signal

    try:
        server, metrics = build(args)

        async def main() -> int:
            await server.start()
            loop = asyncio.get_running_loop()
            stopped: asyncio.Future[int] = loop.create_future()

            def stop(signum: int) -> None:
                if not stopped.done():  # a second signal while stopping: the shutdown goes on
                    stopped.set_result(signum)

            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(signum, stop, signum)
            server.local.start()
            if metrics is not None:
                http = metrics[1].start()
                print(
                    f"chaosql: serving Prometheus metrics on http://{http.address}/metrics", file=sys.stderr, flush=True
                )
            tls = ", TLS" if server.ssl_context else ""
            print(
                f"chaosql: serving PostgreSQL protocol on {server.host}:{server.port} "
                f"(auth {server.auth.method}{tls}); Ctrl-C stops",
                file=sys.stderr,
                flush=True,
            )
            received = await stopped
            await server.shutdown(f"interrupted ({signal.Signals(received).name})")
            return EXIT_INTERRUPTED if received == signal.SIGINT else EXIT_OK

        try:
            code = asyncio.run(main())
        finally:
            server.local.stop()
            if metrics is not None:
                exporter, http = metrics
                http.stop()
                exporter.close()
                exporter.session.close()
            server.close()
        return code
    except KeyboardInterrupt:  # before the server listened
        return EXIT_INTERRUPTED
    except OSError as err:
        print(f"chaosql: cannot listen: {err.strerror or err}", file=sys.stderr)
        return 1
    except Exception as err:
        return report_error(err)
