"""Prometheus source: one HTTP API client per configured server.

The client speaks Prometheus's HTTP API v1: instant queries (``/api/v1/query``), range queries
(``/api/v1/query_range``), series (``/api/v1/series``) and label names and values. It knows
nothing about SQL: the ``metrics`` and ``impact`` tables turn its answers into rows.

Errors are translated at the boundary: PromQL that Prometheus rejects becomes a ``SqlError``
carrying Prometheus's own message, a server that cannot be reached becomes ``Unavailable``
naming it, a query that takes too long ``SourceTimeout``. Every call is a read, retried under
chaosql.sources.http's read policy (connection errors, 429 and 5xx, but not a query Prometheus
itself timed out or could not run).

>>> PrometheusSource("http://127.0.0.1:9090", name="eu").describe()
'prometheus "eu" at http://127.0.0.1:9090'
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from chaosql.errors import SourceError, SourceTimeout, SqlError, Unavailable
from chaosql.sources.http import CONNECT_TIMEOUT, FIRST_PAUSE, RETRIES, Hints, HttpClient, Response, read_policy

if TYPE_CHECKING:
    import httpx

    from chaosql.sources.base import CallLog

#: Seconds to connect, and to wait for an answer; a query may legitimately take a while.
DEFAULT_CONNECT_TIMEOUT = CONNECT_TIMEOUT
DEFAULT_READ_TIMEOUT = 60.0
#: Prometheus's own verdicts on a query: running it again would give the same answer.
_FINAL_ERRORS = frozenset({"timeout", "canceled", "execution"})
#: URLs longer than this are sent as a POST form instead (long PromQL, many series matchers).
_MAX_GET_URL = 4000


@dataclass(frozen=True)
class Series:
    """One series of a query answer: its labels and its samples ``(unix seconds, value)``."""

    labels: Mapping[str, str]
    samples: Sequence[tuple[float, float]]


class PrometheusSource:
    """A Prometheus server, named as configured; its name fills the ``server`` column.

    ``clusters`` names the Kubernetes clusters (source names) this server watches; ``impact``
    pairs an experiment only with the servers that watch its cluster (all, when none say).
    ``transport`` is the httpx seam: tests may hand in any ``httpx.BaseTransport``.
    """

    family = "prometheus"
    kind_label = "prometheus"

    def __init__(
        self,
        url: str,
        *,
        name: str = "prometheus",
        clusters: Iterable[str] = (),
        headers: Mapping[str, str] | None = None,
        timeout: float = DEFAULT_READ_TIMEOUT,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        retries: int = RETRIES,
        backoff: float = FIRST_PAUSE,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self.name = name
        self.clusters = frozenset(clusters)
        self.headers = dict(headers or {})
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self.retries = retries
        self.backoff = backoff
        self.transport = transport
        self.warnings: list[str] = []
        # a query Prometheus itself gave up on (timeout, canceled, execution) is not run again
        self.policy = replace(read_policy(retries, backoff), retry_if=lambda r: _error_type(r) not in _FINAL_ERRORS)
        self.http = HttpClient(
            self._new_client,
            who=f'prometheus "{name}"',
            source=name,
            hints=Hints(
                unreachable="check that Prometheus runs and the URL is right, or SET chaosql.on_source_error = 'warn'",
                timeout="narrow the time range, raise the step, or simplify the query",
            ),
        )

    def describe(self) -> str:
        return f'prometheus "{self.name}" at {self.url}'

    def watches(self, cluster: str | None) -> bool:
        return not self.clusters or cluster in self.clusters

    # --- the API ----------------------------------------------------------------------------

    def query(self, promql: str, *, at: datetime | None = None, log: CallLog | None = None) -> list[Series]:
        """Instant query at ``at`` (the server's now when ``None``)."""
        params = {"query": promql}
        if at is not None:
            params["time"] = format_time(at)
        return _series(self._call("/api/v1/query", params, log, promql=promql))

    def query_range(
        self, promql: str, start: datetime, end: datetime, step: float, *, log: CallLog | None = None
    ) -> list[Series]:
        """Range query: evaluated at ``start``, ``start + step``, ... up to ``end`` inclusive."""
        params = {"query": promql, "start": format_time(start), "end": format_time(end), "step": format_step(step)}
        return _series(self._call("/api/v1/query_range", params, log, promql=promql))

    def series(
        self,
        match: Sequence[str],
        *,
        start: datetime | None = None,
        end: datetime | None = None,
        log: CallLog | None = None,
    ) -> list[dict[str, str]]:
        """Label sets of the series that ``match`` selects (each a PromQL series selector)."""
        params: list[tuple[str, str]] = [("match[]", m) for m in match] + _window(start, end)
        return list(self._call("/api/v1/series", params, log) or [])

    def label_names(
        self,
        *,
        match: Sequence[str] = (),
        start: datetime | None = None,
        end: datetime | None = None,
        log: CallLog | None = None,
    ) -> list[str]:
        params = [("match[]", m) for m in match] + _window(start, end)
        return list(self._call("/api/v1/labels", params, log) or [])

    def label_values(
        self,
        label: str,
        *,
        match: Sequence[str] = (),
        start: datetime | None = None,
        end: datetime | None = None,
        log: CallLog | None = None,
    ) -> list[str]:
        params = [("match[]", m) for m in match] + _window(start, end)
        return list(self._call(f"/api/v1/label/{label}/values", params, log) or [])

    def close(self) -> None:
        self.http.close()

    # --- one call ---------------------------------------------------------------------------

    def _new_client(self) -> httpx.Client:
        import httpx

        return httpx.Client(
            base_url=self.url,
            headers={"Accept": "application/json", **self.headers},
            timeout=httpx.Timeout(self.timeout, connect=self.connect_timeout),
            transport=self.transport,
        )

    def _call(self, path: str, params: Any, log: CallLog | None, *, promql: str | None = None) -> Any:
        """GET (POST when the URL would be too long) ``path``; returns the answer's ``data``."""
        from chaosql.sources.base import Call

        items = list(params.items()) if isinstance(params, Mapping) else list(params)
        encoded = urlencode(items)
        method = "POST" if len(self.url) + len(path) + len(encoded) > _MAX_GET_URL else "GET"
        call = Call(self.name, self.name, f"{method} {path}?" + " ".join(f"{k}={v}" for k, v in items))
        form: dict[str, list[str]] = {}
        for key, value in items:
            form.setdefault(key, []).append(value)
        response = self.http.request(
            method,
            path,
            policy=self.policy,  # a POST here is a read too: retried like a GET
            params=items if method == "GET" else None,
            data=form if method == "POST" else None,
            log=log,
            call=call,
            count=lambda r: _count((r.data or {}).get("data") if isinstance(r.data, dict) else None),
        )
        return self._answer(response, promql)

    def _answer(self, response: Response, promql: str | None) -> Any:
        """The ``data`` of a success answer; otherwise the error, translated."""
        body = response.data
        if not isinstance(body, dict):
            if response.status in (401, 403):
                from chaosql.errors import Forbidden

                raise Forbidden(
                    f"{self.describe()} refused the request (HTTP {response.status})",
                    source=self.name,
                    hint="check the credentials (headers) configured for it",
                )
            error = Unavailable if response.status >= 500 else SourceError  # e.g. a proxy's 502 page
            raise error(
                f"{self.describe()} answered HTTP {response.status} without a Prometheus API body"
                + (f": {response.text.strip()[:200]}" if response.text.strip() else ""),
                source=self.name,
                hint="is the URL the Prometheus server itself (not its UI path or a proxy)?",
            )
        if body.get("status") == "success":
            for warning in body.get("warnings") or []:
                self.warnings.append(f"{self.describe()}: {warning}")
            return body.get("data")
        kind, message = body.get("errorType") or "", body.get("error") or "unknown error"
        if kind == "bad_data":
            shown = f" in {promql!r}" if promql else ""
            raise SqlError(
                f"{self.describe()} rejected the query{shown}: {message}",
                sqlstate="42601",
                hint="see https://prometheus.io/docs/prometheus/latest/querying/basics/",
            )
        if kind == "execution":
            raise SqlError(f"{self.describe()} could not run the query: {message}", sqlstate="22000")
        if kind in ("timeout", "canceled"):
            raise SourceTimeout(
                f"{self.describe()}: query {kind}: {message}",
                source=self.name,
                hint="narrow the time range or raise the step",
            )
        if response.status >= 500:
            raise Unavailable(f"{self.describe()} failed: HTTP {response.status}: {message}", source=self.name)
        raise SourceError(f"{self.describe()}: {kind or 'HTTP ' + str(response.status)}: {message}", source=self.name)


# --- helpers ------------------------------------------------------------------------------------


def format_time(when: datetime) -> str:
    """Unix seconds with millisecond precision, Prometheus's own resolution.

    >>> format_time(datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC))
    '1767323045.678'
    """
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    millis = round(when.timestamp() * 1000)
    return f"{millis // 1000}.{millis % 1000:03d}"


def format_step(step: float) -> str:
    """A step in seconds as the API takes it.

    >>> format_step(15.0), format_step(0.5)
    ('15', '0.5')
    """
    return f"{step:g}" if step != int(step) else str(int(step))


def _window(start: datetime | None, end: datetime | None) -> list[tuple[str, str]]:
    out = []
    if start is not None:
        out.append(("start", format_time(start)))
    if end is not None:
        out.append(("end", format_time(end)))
    return out


def _series(data: Any) -> list[Series]:
    """Every result type as series: vector and matrix as they are, a scalar as one unlabelled series.

    >>> _series({"resultType": "vector", "result": [{"metric": {"job": "a"}, "value": [10.5, "2"]}]})
    [Series(labels={'job': 'a'}, samples=[(10.5, 2.0)])]
    >>> _series({"resultType": "scalar", "result": [10, "NaN"]})[0].samples[0][1]
    nan
    """
    kind, result = (data or {}).get("resultType"), (data or {}).get("result")
    if kind == "vector":
        return [Series(r.get("metric") or {}, [_sample(r["value"])]) for r in result or [] if "value" in r]
    if kind == "matrix":
        return [Series(r.get("metric") or {}, [_sample(v) for v in r.get("values") or []]) for r in result or []]
    if kind == "scalar" and result:
        return [Series({}, [_sample(result)])]
    if kind == "string" and result:
        return [Series({"value": str(result[1])}, [(float(result[0]), math.nan)])]
    return []


def _sample(pair: Sequence[Any]) -> tuple[float, float]:
    return float(pair[0]), float(pair[1])  # float() reads "NaN", "+Inf", "-Inf" as Prometheus writes them


def _error_type(response: Response) -> str:
    body = response.data
    return str(body.get("errorType") or "") if isinstance(body, dict) else ""


def _count(data: Any) -> int:
    """Samples (query answers) or items (series, labels) in an answer's data, for the call log."""
    if isinstance(data, dict):
        result = data.get("result") or []
        if data.get("resultType") == "matrix":
            return sum(len(r.get("values") or []) for r in result)
        return len(result) if data.get("resultType") == "vector" else 1
    return len(data) if isinstance(data, list) else 0


def open_prometheus(name: str, spec: str, config: dict) -> PrometheusSource:
    """The factory behind ``--source prometheus:URL`` and ``[sources.NAME] type = "prometheus"``.

    Options of the config section: ``url``, ``clusters`` (or ``cluster``), ``headers``,
    ``timeout``, ``retries``.
    """
    from chaosql.errors import UsageError

    options = dict(config.get("source") or {})
    url = spec or options.get("url") or ""
    if not url.startswith(("http://", "https://")):
        raise UsageError(
            f"prometheus source needs an http(s) URL, not {url!r}", hint="use --source prometheus:http://127.0.0.1:9090"
        )
    clusters = options.get("clusters") or ([options["cluster"]] if options.get("cluster") else [])
    try:
        return PrometheusSource(
            url,
            name=name or "prometheus",
            clusters=[str(c) for c in clusters],
            headers={str(k): str(v) for k, v in (options.get("headers") or {}).items()},
            timeout=float(options.get("timeout", DEFAULT_READ_TIMEOUT)),
            retries=int(options.get("retries", RETRIES)),
        )
    except (TypeError, ValueError) as err:
        raise UsageError(f"prometheus source {name or url}: {err}") from err
