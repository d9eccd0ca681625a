"""The exporter over HTTP, and how ``chaosql export`` and ``chaosql serve --metrics`` build one.

Routes: ``/metrics`` (the exposition, in the format the Accept header asks for), ``/healthz``
(JSON; 503 while a refresh is stuck) and ``/`` (a line saying where to look).

Options come from the command line, else the config file's ``[export]`` section, else the
defaults below::

    [export]
    listen = ":9466"
    families = ["/etc/chaosql/families"]   # family directories besides [queries] dir
    defaults = true                        # serve the shipped families too
    min_interval = 10                      # seconds between refreshes, at least
    scrape_timeout = 10                    # seconds a scrape waits for a refresh, at most
    max_series = 50000                     # series one family may have
    state = "/var/lib/chaosql/counters.json"
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from chaosql.daemon.http import Endpoint, Request, Response, Route, json_response
from chaosql.errors import UsageError
from chaosql.export.exporter import Exporter
from chaosql.export.exposition import negotiate
from chaosql.export.family import MAX_SERIES

#: Seconds kept free of the scraper's own timeout (X-Prometheus-Scrape-Timeout-Seconds) to answer in.
ANSWER_MARGIN = 0.5
#: Defaults an exporter's session takes unless the config or --set says otherwise: one cluster
#: down must not take every family down, and no family's query may run for ever.
SESSION_DEFAULTS = {"on_source_error": "warn", "timeout": 60.0}
DEFAULT_LISTEN = "127.0.0.1:9466"


@dataclass
class ExportOptions:
    listen: str = DEFAULT_LISTEN
    families: list[Path] = field(default_factory=list)
    defaults: bool = True
    min_interval: float = 10.0
    scrape_timeout: float = 10.0
    max_series: int = MAX_SERIES
    state: Path | None = None

    @classmethod
    def read(cls, config: Any, **given: Any) -> ExportOptions:
        """The options ``given`` on the command line (None: not given) over the config's
        ``[export]`` section over the defaults; a wrong value is a UsageError naming it."""
        section = config.section("export") if config is not None else {}
        base = config.path.parent if config is not None and config.path else Path.cwd()
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(section) - known)
        if unknown:
            raise UsageError(f"[export] {unknown[0]}: unknown key", hint="keys: " + ", ".join(sorted(known)))
        options = cls()
        dirs = section.get("families") or []
        if isinstance(dirs, str):
            dirs = [dirs]
        if not isinstance(dirs, list) or not all(isinstance(d, str) for d in dirs):
            raise UsageError("[export] families takes a list of directories")
        from chaosql.reports.saved import user_dirs

        # they add up: the saved queries' directories, the [export] ones and the command line's
        options.families = [*user_dirs(config), *(base / Path(d).expanduser() for d in dirs)]
        options.families += [Path(d).expanduser() for d in given.get("families") or []]
        for name in sorted(known - {"families"}):
            if given.get(name) is not None:
                setattr(options, name, _checked(name, given[name], "--" + name.replace("_", "-"), None))
            elif name in section:
                setattr(options, name, _checked(name, section[name], f"[export] {name}", base))
        return options


def _checked(name: str, value: Any, where: str, base: Path | None) -> Any:
    """``value`` of option ``name`` checked (``base``: the config file's directory, which a
    relative path in it is relative to)."""
    if name in ("min_interval", "scrape_timeout"):
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not math.isfinite(value)
            or not 0 <= value <= 86_400
        ):
            raise UsageError(f"{where} takes seconds from 0 to 86400, not {value!r}")
        return float(value)
    if name == "max_series":
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise UsageError(f"{where} takes a whole number >= 1, not {value!r}")
        return value
    if name == "defaults":
        if not isinstance(value, bool):
            raise UsageError(f"{where} takes true or false, not {value!r}")
        return value
    if name == "state":
        path = Path(str(value)).expanduser()
        return base / path if base is not None else path
    if name == "listen":
        from chaosql.daemon.http import parse_address

        parse_address(str(value), where)
        return str(value)
    return value


def routes(exporter: Exporter) -> dict[str, Route]:
    def metrics(request: Request) -> Response:
        fmt = negotiate(request.header("Accept"))
        wait = None
        told = request.header("X-Prometheus-Scrape-Timeout-Seconds")
        if told:
            try:
                wait = max(0.0, float(told) - ANSWER_MARGIN)
            except ValueError:
                pass
        body = exporter.scrape(fmt, wait=wait).encode()
        if exporter.log is not None:
            exporter.log.debug("scrape", format=fmt.content_type, bytes=len(body))
        return Response(200, body, fmt.content_type)

    def health(request: Request) -> Response:
        healthy, body = exporter.healthy()
        return json_response(body, 200 if healthy else 503)

    def index(request: Request) -> Response:
        return Response(200, b"chaosql export: metrics at /metrics, health at /healthz\n")

    return {"/metrics": metrics, "/healthz": health, "/": index}


def http_endpoint(exporter: Exporter, address: tuple[str, int], log: Any, *, name: str, option: str) -> Endpoint:
    """The exporter's routes at ``address`` (not started), a failing request logged as an error."""
    return Endpoint(
        address,
        routes(exporter),
        name=name,
        option=option,
        on_error=lambda path, err: log.error("request failed", path=path, error=f"{type(err).__name__}: {err}"),
    )


def build(
    sources: Sequence[Any],
    settings: dict[str, Any],
    config: Any,
    options: ExportOptions,
    *,
    log: Any = None,
    watch: bool = True,
) -> Exporter:
    """An Exporter over ``sources`` (with their watch caches unless ``watch`` is false or the
    settings say ``cache = false``), serving the shipped families (unless ``options.defaults`` is
    false) and the saved queries with a metric header in ``options.families``; its first refresh
    is already under way."""
    from chaosql.commands._context import start_caches
    from chaosql.engine.session import Session
    from chaosql.export.catalog import families
    from chaosql.export.counters import CounterState

    specs, broken = families(options.families, defaults=options.defaults)
    counters = CounterState(options.state)  # a bad state file fails now, before anything listens
    session = Session(sources, settings={**SESSION_DEFAULTS, **settings})
    if watch:
        start_caches(list(sources), session.settings)
    exporter = Exporter(
        session,
        specs,
        broken=broken,
        min_interval=options.min_interval,
        scrape_timeout=options.scrape_timeout,
        max_series=options.max_series,
        counters=counters,
        log=log,
    )
    exporter.start()  # the first refresh begins at start-up, not at the first scrape
    return exporter
