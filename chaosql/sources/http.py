"""chaosql's one HTTP layer: retries, cancellable pauses, error mapping and call logging for every
source that speaks HTTP (the Kubernetes API, Prometheus, Chaosd) and for the writers that use them.

A source makes one ``HttpClient`` per server (or per kind of connection) and calls ``request``;
what differs between uses is the ``Policy``:

* ``read_policy()`` (GET, and anything safe to repeat): a refused connection, a broken one and the
  statuses 429, 500, 502, 503 and 504 are tried again after short pauses (``Retry-After`` honoured,
  up to ``MAX_RETRY_AFTER``);
* ``write_policy()`` (POST, PATCH, PUT, DELETE): tried again only when the request cannot have
  reached the server (the connection was never made); a status is never replayed, and a timeout
  says the write may or may not have happened;
* ``write_policy(resend=True)``: a write the server treats idempotently (Chaosd's recover) may be
  resent after a broken connection too, but still never on a status.

Every pause waits on the statement's ``CallLog`` (``log.pause``), so a cancel (Ctrl-C, a Postgres
cancel request, the statement timeout) ends it at once with ``QueryCancelled``, and ``log.check()``
runs before every attempt. A failed transport becomes one of chaosql's errors with one line naming
the source, the URL and the cause (``Unavailable``, ``SourceTimeout``, ``Forbidden`` for TLS);
``status_error`` does the same for an HTTP status the caller has no better words for. Statuses
come back to the caller as a ``Response``: only the caller knows what a 404 means to it.

Each ``request`` given a ``Call`` records it in the log once, with its retries: ``seconds`` is the
time spent on the wire and in pauses; the time spent setting the client up (loading a kubeconfig,
running an exec credential plugin, building a TLS context: the first call of a process) is kept
apart in ``Call.setup``, so a 5 ms answer is logged as 5 ms.

``stream`` opens a long-lived response (a Kubernetes watch) with the same retries and errors for the
connection, and its own read timeout for the body.

httpx is imported on first use, so importing this module costs nothing at CLI start.
"""

from __future__ import annotations

import json
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from chaosql.errors import Forbidden, SourceError, SourceTimeout, Unavailable

try:
    from orjson import loads as _fast_loads
except ImportError:  # pragma: no cover - a declared dependency; the standard library still reads it
    _fast_loads = json.loads  # type: ignore[assignment]

if TYPE_CHECKING:
    import httpx

    from chaosql.sources.base import Call, CallLog

#: Statuses a read tries again: the server is overloaded, restarting, or behind a busy proxy.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
#: Retries after the first attempt, and the pause before the first of them (doubling after).
#: 0.1 + 0.2 + 0.4 s: a server that is down is reported 0.7 s after the first attempt (a restarting
#: one that comes back meanwhile answers); a server's Retry-After stretches a pause.
RETRIES = 3
FIRST_PAUSE = 0.1
#: The longest ``Retry-After`` obeyed (seconds); a server asking for more gets this.
MAX_RETRY_AFTER = 2.0
#: Seconds to open a connection. A server that answers at all accepts within a fraction of a
#: second; a host that is down (packets dropped, no "refused") is reported after this.
CONNECT_TIMEOUT = 3.0


@dataclass(frozen=True)
class Policy:
    """When a request is tried again: after ``pauses`` (one per retry), on ``statuses``, and
    whether a request that may have reached the server is sent again (``resend``)."""

    pauses: tuple[float, ...]
    statuses: frozenset[int] = frozenset()
    resend: bool = False
    #: a write: a timeout then says the write may or may not have happened
    write: bool = False
    #: for an answer with one of ``statuses``: whether it is worth another try (default: yes)
    retry_if: Callable[[Response], bool] | None = None

    def retries(self, response: Response) -> bool:
        return response.status in self.statuses and (self.retry_if is None or self.retry_if(response))


def pauses(retries: int = RETRIES, first: float = FIRST_PAUSE) -> tuple[float, ...]:
    """The pauses before each retry: ``first``, doubling.

    >>> pauses(3, 0.1)
    (0.1, 0.2, 0.4)
    """
    return tuple(first * 2**i for i in range(max(0, retries)))


def read_policy(retries: int = RETRIES, first: float = FIRST_PAUSE) -> Policy:
    return Policy(pauses(retries, first), RETRY_STATUSES, resend=True)


def write_policy(retries: int = RETRIES, first: float = FIRST_PAUSE, *, resend: bool = False) -> Policy:
    return Policy(pauses(retries, first), resend=resend, write=True)


READ = read_policy()
WRITE = write_policy()


@dataclass(frozen=True)
class Hints:
    """What to tell the user to do next, per kind of failure (the source knows its own words)."""

    unreachable: str | None = None
    timeout: str | None = None
    tls: str | None = None


def parse_json(text: bytes | str) -> Any:
    """JSON to Python values, as ``json.loads`` reads them. orjson parses a page of 500 experiments
    in half the time; what it refuses and ``json`` reads (integers beyond 64 bits, NaN, a UTF-16
    body) goes to ``json``, which also raises the ``ValueError`` for text that is not JSON.

    >>> parse_json(b'{"spec": {"duration": "5m"}, "big": 18446744073709551616, "ratio": NaN}')
    {'spec': {'duration': '5m'}, 'big': 18446744073709551616, 'ratio': nan}
    """
    try:
        return _fast_loads(text)
    except ValueError:
        return json.loads(text)


@dataclass
class Response:
    """A status, the headers and the body as sent; ``data`` parses the JSON once."""

    status: int
    content: bytes
    headers: Mapping[str, str] = field(default_factory=dict)
    reason: str = ""

    @cached_property
    def data(self) -> Any:
        """The body as JSON, or ``None`` when it is not JSON."""
        try:
            return parse_json(self.content)
        except ValueError:
            return None

    @property
    def body(self) -> dict[str, Any]:
        """The JSON object of the body; ``{"message": <text>}`` when it is not JSON, ``{}`` when
        it is JSON but not an object (the Kubernetes source's view of an answer)."""
        data = self.data
        if isinstance(data, dict):
            return data
        return {"message": self.text[:200].strip()} if data is None else {}

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")

    @property
    def message(self) -> str:
        """The server's own words for an error: a Kubernetes Status message, else the reason."""
        body = self.body
        return str(body.get("message") or body.get("reason") or self.reason or f"HTTP {self.status}")


@dataclass
class _Tally:
    """The attempts of one request: how many were sent, and the seconds spent setting up."""

    sent: int = 0
    setup: float = 0.0


class Streamed:
    """An open streaming response: ``status``, ``headers``, and the body read line by line.

    Each read waits at most the stream's ``read_timeout`` (``SourceTimeout`` after it); ``close()``
    (from any thread) ends the stream. For a status other than 2xx the body is read whole and
    ``error`` holds it as a ``Response``.
    """

    def __init__(self, raw: httpx.Response, client: HttpClient) -> None:
        self._raw, self._client = raw, client
        self._url = _server(None, str(raw.request.url))
        self.status = raw.status_code
        self.headers = raw.headers
        self.error: Response | None = None
        self._closed = False
        if not 200 <= self.status < 300:
            raw.read()
            self.error = Response(self.status, raw.content, raw.headers, raw.reason_phrase)

    def lines(self) -> Iterator[str]:
        """The body's lines as they arrive (without the line break; empty lines skipped)."""
        import httpx

        try:
            for line in self._raw.iter_lines():
                if line:
                    yield line
        except (httpx.HTTPError, OSError) as err:
            if self._closed:  # close() from another thread: the reader stops, no error
                return
            if isinstance(err, httpx.TimeoutException):
                raise SourceTimeout(
                    f"{self._client.who}: {self._url} sent nothing for {self._read_timeout():g}s",
                    source=self._client.source,
                ) from err
            raise Unavailable(
                f"{self._client.who}: the stream from {self._url} broke: {_reason(err)}", source=self._client.source
            ) from err

    def _read_timeout(self) -> float:
        timeout = (self._raw.request.extensions.get("timeout") or {}).get("read")
        return float(timeout) if timeout is not None else float("inf")

    def json_lines(self) -> Iterator[Any]:
        """Each line parsed as JSON (a Kubernetes watch sends one event per line)."""
        for line in self.lines():
            yield parse_json(line)

    def close(self) -> None:
        """End the stream, from any thread. The socket is shut down, which wakes a reader blocked on
        it (it sees the end of the stream); the connection is then closed by the thread that reads
        it, as it leaves ``HttpClient.stream``. Closing it here instead would free its file
        descriptor while that thread's TLS layer still reads from it and may write an alert to it:
        into whatever file the process opens next under that number."""
        self._closed = True
        sock = _socket_of(self._raw)
        if sock is None:
            self._raw.close()
            return
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:  # not connected any more: the reader has already seen the end
            pass


class HttpClient:
    """chaosql's client for one server: a pooled ``httpx.Client`` made on first use by ``factory``,
    with the retries, errors and call records of this module.

    ``who`` names the source in messages (``cluster "prod" (kube)``, ``prometheus "eu"``) and may be
    changed later; ``source`` is the source's name for ``SourceError.source``. ``auth`` returns
    per-request headers (a bearer token a credential plugin renews) and ``extensions`` per-request
    httpx extensions (``sni_hostname``); both count as set-up. ``renew``, when given, is
    called once after a 401 and the request tried again with fresh credentials (it must make the
    next ``factory``/``auth`` call load them, e.g. by calling ``reset``).
    """

    def __init__(
        self,
        factory: Callable[[], httpx.Client],
        *,
        who: str,
        source: str | None = None,
        hints: Hints = Hints(),
        auth: Callable[[], Mapping[str, str]] | None = None,
        extensions: Callable[[], dict[str, Any] | None] | None = None,
        renew: Callable[[], None] | None = None,
    ) -> None:
        self.factory = factory
        self.extensions = extensions
        self.who = who
        self.source = source
        self.hints = hints
        self.auth = auth
        self.renew = renew
        self._lock = threading.Lock()
        self._client: httpx.Client | None = None
        self._retired: list[httpx.Client] = []

    # --- the pooled client ----------------------------------------------------------------------

    def client(self) -> httpx.Client:
        """The pooled client, made now if needed (this is the set-up a first call pays for)."""
        with self._lock:
            if self._client is None:
                self._client = self.factory()
            return self._client

    def reset(self) -> None:
        """Make a new client on the next request (new credentials, certificates). The old one stays
        open until ``close``: other threads may still have requests in flight on it."""
        with self._lock:
            if self._client is not None:
                self._retired.append(self._client)
            self._client = None
            stale, self._retired = self._retired[:-4], self._retired[-4:]  # older ones are long done
        for old in stale:
            old.close()

    def close(self) -> None:
        with self._lock:
            clients = self._retired + ([self._client] if self._client is not None else [])
            self._client, self._retired = None, []
        for old in clients:
            old.close()

    def prepare(self) -> None:
        """Make the client and load the credentials now instead of on the first request."""
        self._prepare()

    def _prepare(self) -> tuple[httpx.Client, dict[str, str], dict[str, Any]]:
        """The client, the per-request headers and extensions: the set-up of an attempt."""
        client = self.client()
        headers = dict(self.auth()) if self.auth is not None else {}
        extensions = (self.extensions() or {}) if self.extensions is not None else {}
        return client, headers, dict(extensions)

    # --- one request ----------------------------------------------------------------------------

    def request(
        self,
        method: str,
        url: str,
        *,
        policy: Policy = READ,
        params: Any = None,
        content: bytes | None = None,
        json_body: Any = None,
        data: Any = None,
        headers: Mapping[str, str] | None = None,
        extensions: dict[str, Any] | None = None,
        timeout: float | None = None,
        log: CallLog | None = None,
        call: Call | None = None,
        count: Callable[[Response], int] | None = None,
    ) -> Response:
        """Send one request under ``policy``; return the final ``Response`` (any status).

        ``url`` is absolute or relative to the client's ``base_url``. With ``log``, a cancel stops
        the attempts (``QueryCancelled``) and ``call`` is recorded once the request ends, with the
        number of items ``count`` finds in a 2xx answer. Raises ``Unavailable``, ``SourceTimeout``
        or ``Forbidden`` (TLS) when no answer came.
        """
        import httpx

        started = time.perf_counter()
        tally = _Tally()
        response: Response | None = None
        failure = ""
        try:
            raw = self._exchange(
                method,
                url,
                policy,
                log,
                tally,
                stream=False,
                params=params,
                content=content,
                json=json_body,
                data=data,
                headers=headers,
                extensions=extensions,
                timeout=httpx.USE_CLIENT_DEFAULT if timeout is None else timeout,
            )
            response = Response(raw.status_code, raw.content, raw.headers, raw.reason_phrase)
            return response
        except BaseException as err:
            failure = _short(err)
            raise
        finally:
            if log is not None and call is not None and tally.sent:  # a call cancelled before it began is none
                call.seconds = time.perf_counter() - started - tally.setup
                call.setup = tally.setup
                if failure:
                    call.what += f" ({failure})"
                elif response is not None and response.status >= 400:
                    call.what += f" (HTTP {response.status})"  # -v and EXPLAIN ANALYZE show how a call failed
                elif response is not None and count is not None:
                    try:
                        call.items = count(response)
                    except Exception:  # a body the caller will refuse anyway
                        pass
                log.record(call)

    @contextmanager
    def stream(
        self,
        method: str,
        url: str,
        *,
        read_timeout: float | None,
        policy: Policy = READ,
        params: Any = None,
        headers: Mapping[str, str] | None = None,
        extensions: dict[str, Any] | None = None,
        log: CallLog | None = None,
    ) -> Iterator[Streamed]:
        """Open a long-lived response (a watch): connecting is retried and its failures mapped as
        for ``request``; once the status line arrived, the body is read by the ``Streamed`` with
        ``read_timeout`` seconds at most between two chunks (``None``: no limit). A retryable status
        is tried again under ``policy``; any other comes back as ``Streamed.error``."""
        import httpx

        def timeout(client: httpx.Client) -> httpx.Timeout:
            base = client.timeout
            return httpx.Timeout(connect=base.connect, read=read_timeout, write=base.write, pool=base.pool)

        raw = self._exchange(
            method,
            url,
            policy,
            log,
            _Tally(),
            stream=True,
            params=params,
            headers=headers,
            extensions=extensions,
            timeout=timeout,
        )
        try:
            yield Streamed(raw, self)
        finally:
            raw.close()

    def _exchange(
        self,
        method: str,
        url: str,
        policy: Policy,
        log: CallLog | None,
        tally: _Tally,
        *,
        stream: bool,
        **kwargs: Any,
    ) -> httpx.Response:
        """The attempts of one request: the answer to the last one, or the error of its failure,
        counted in ``tally``. A streamed answer is open (the caller closes it)."""
        import httpx

        attempt, renewed = 0, False
        headers, extensions, timeout = kwargs.pop("headers"), kwargs.pop("extensions"), kwargs.pop("timeout")
        while True:
            if log is not None:
                log.check()  # a cancelled statement makes no further attempt
            setup_started = time.perf_counter()
            client, extra, more = self._prepare()
            tally.setup += time.perf_counter() - setup_started
            tally.sent += 1
            request = client.build_request(
                method,
                url,
                headers={**extra, **(headers or {})},
                extensions={**more, **(extensions or {})} or None,
                timeout=timeout(client) if callable(timeout) else timeout,
                **kwargs,
            )
            try:
                raw = client.send(request, stream=stream)
            except httpx.HTTPError as err:
                if self._retryable(err, policy) and attempt < len(policy.pauses):
                    pause(log, policy.pauses[attempt])
                    attempt += 1
                    continue
                raise self.transport_error(err, method, url, policy, client) from err
            if raw.status_code == 401 and self.renew is not None and not renewed:
                renewed = True  # an expired token or rotated certificate: load the credentials again
                raw.close()
                setup_started = time.perf_counter()
                self.renew()
                tally.setup += time.perf_counter() - setup_started
                continue
            if raw.status_code in policy.statuses and attempt < len(policy.pauses):
                try:
                    answer = Response(raw.status_code, raw.read(), raw.headers, raw.reason_phrase)
                except httpx.HTTPError:
                    answer = Response(raw.status_code, b"", raw.headers, raw.reason_phrase)
                if policy.retries(answer):
                    raw.close()
                    pause(log, _retry_after(answer) or policy.pauses[attempt])
                    attempt += 1
                    continue
            return raw

    # --- what went wrong ------------------------------------------------------------------------

    def _retryable(self, err: Exception, policy: Policy) -> bool:
        """Whether trying ``err``'s request again is allowed: never after a timeout (a hung server
        would multiply the wait) or a TLS failure; after a broken connection only under ``resend``."""
        import httpx

        if isinstance(err, httpx.TimeoutException) or _tls_failure(err):
            return False
        if isinstance(err, httpx.ConnectError):
            return True  # the connection was never made: the request never left
        return policy.resend and isinstance(err, (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError))

    def transport_error(
        self, err: Exception, method: str, url: str, policy: Policy, client: httpx.Client | None = None
    ) -> SourceError:
        """One line for a request that got no answer."""
        import httpx

        where = _server(client, url)
        if isinstance(err, httpx.TimeoutException):
            # a connect timeout also covers a TLS handshake the server never answered: "did not
            # answer" is true of both, "cannot reach" would not be
            limit = _timeout_of(client, "connect" if isinstance(err, httpx.ConnectTimeout) else "read")
            message = f"{self.who}: {where} did not answer within {limit:g}s"
            if policy.write:
                message = f"{self.who}: {where} did not answer {method} within {limit:g}s; the write may or may not have happened"
            return SourceTimeout(message, source=self.source, hint=self.hints.timeout)
        if _tls_failure(err):
            return Forbidden(
                f"{self.who}: TLS handshake with {where} failed: {_reason(err)}",
                source=self.source,
                hint=self.hints.tls,
            )
        if isinstance(err, httpx.ConnectError):
            return Unavailable(
                f"{self.who}: cannot reach {where}: {_reason(err)}", source=self.source, hint=self.hints.unreachable
            )
        if isinstance(err, (httpx.TransportError, OSError)):
            note = "; the write may or may not have happened" if policy.write else ""
            return Unavailable(
                f"{self.who}: the connection to {where} broke during {method}: {_reason(err)}{note}",
                source=self.source,
                hint=self.hints.unreachable,
            )
        return SourceError(f"{self.who}: {method} {where}: {type(err).__name__}: {err}", source=self.source)


def status_error(
    who: str, response: Response, what: str, *, source: str | None = None, hint: str | None = None
) -> SourceError:
    """The error class and one line for a failed status a caller has no better words for:
    401/403 ``Forbidden``, 429 and 5xx ``Unavailable`` (the server is overloaded or failing),
    anything else ``SourceError``. ``what`` is what was being done (``list pods``).

    >>> str(status_error('prometheus "p"', Response(503, b"overloaded", reason="Service Unavailable"), "query"))
    'prometheus "p": cannot query: HTTP 503 Service Unavailable: overloaded'
    """
    detail = response.message if isinstance(response.data, dict) else response.text.strip()[:200]
    status = f"HTTP {response.status}" + (f" {response.reason}" if response.reason else "")
    message = f"{who}: cannot {what}: {status}" + (f": {detail}" if detail and detail != response.reason else "")
    if response.status in (401, 403):
        return Forbidden(message, source=source, hint=hint)
    if response.status == 429 or response.status >= 500:
        return Unavailable(message, source=source, hint=hint)
    return SourceError(message, source=source, hint=hint)


# --- helpers ------------------------------------------------------------------------------------


def pause(log: CallLog | None, seconds: float) -> None:
    """Wait before a retry; a cancel of the statement ends the wait (``QueryCancelled``)."""
    if log is None:
        time.sleep(seconds)
    else:
        log.pause(seconds)


def _socket_of(raw: httpx.Response) -> socket.socket | None:
    """The socket under a streamed response (httpcore's network stream), if it has one."""
    stream = raw.extensions.get("network_stream")
    try:
        sock = stream.get_extra_info("socket") if stream is not None else None
    except Exception:
        return None
    return sock if isinstance(sock, socket.socket) else None


def _retry_after(response: Response) -> float | None:
    """The server's ``Retry-After`` in seconds (the number form), at most ``MAX_RETRY_AFTER``."""
    try:
        seconds = float(response.headers.get("Retry-After", ""))
    except ValueError:
        return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


def _server(client: httpx.Client | None, url: str) -> str:
    """The server a request went to, as the user configured it: scheme, host and port."""
    from urllib.parse import urlsplit

    parts = urlsplit(url if "://" in url or client is None else str(client.base_url))
    return f"{parts.scheme}://{parts.netloc}" if parts.netloc else url


def _timeout_of(client: httpx.Client | None, which: str) -> float:
    value = getattr(client.timeout, which, None) if client is not None else None
    return float(value) if value is not None else float("inf")


def _tls_failure(err: BaseException) -> bool:
    seen: BaseException | None = err
    while seen is not None:
        if isinstance(seen, ssl.SSLError):
            return True
        seen = seen.__cause__ or seen.__context__
    text = str(err)
    return "SSL" in text or "certificate" in text.lower() or "TLS" in text


def _reason(err: BaseException) -> str:
    """The cause in a few words: ``connection refused``, ``certificate verify failed``..."""
    text = str(err) or type(err).__name__
    for known in (
        "Connection refused",
        "Name or service not known",
        "No route to host",
        "Network is unreachable",
        "Connection reset by peer",
        "certificate verify failed",
    ):
        if known.lower() in text.lower():
            return known.lower()
    return text.strip().splitlines()[0][:300]


def _short(err: BaseException) -> str:
    """How a failed call is marked in the call log."""
    from chaosql.errors import QueryCancelled

    if isinstance(err, QueryCancelled):
        return "cancelled"
    if isinstance(err, SourceTimeout):
        return "timed out"
    if isinstance(err, Unavailable):
        return "unreachable"
    if isinstance(err, Forbidden):
        return "refused"
    return "failed"
