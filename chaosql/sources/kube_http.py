"""One Kubernetes cluster's HTTP connection: kubeconfig credentials in, parsed JSON out.

The ``kubernetes`` package is used only to read the kubeconfig and produce credentials (client
certificates, bearer tokens, exec plugins, OIDC refresh); requests go through one pooled
``httpx.Client`` per cluster, and response bodies are parsed straight into dicts, never into client
model objects. Both imports happen on first use, so a CLI that never touches a cluster stays fast.
"""

from __future__ import annotations

import json
import os
import ssl
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from chaosql.errors import SourceError, SourceTimeout, Unavailable

if TYPE_CHECKING:
    import httpx

    from chaosql.sources.base import CallLog

#: Statuses worth a second try: the apiserver is overloaded or restarting.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
#: Pauses before the retries of a failed connection or a retryable status (seconds).
BACKOFF = (0.2, 0.6, 1.5)


@dataclass
class Response:
    """What a GET returned: the status and the parsed JSON body (``{}`` when it was not JSON)."""

    status: int
    body: dict[str, Any]

    @property
    def message(self) -> str:
        return str(self.body.get("message") or self.body.get("reason") or f"HTTP {self.status}")


class KubeConnection:
    """Credentials of one kubeconfig context and a thread-safe, pooled client for its server.

    ``label`` names the cluster in error messages (``cluster "prod" (kube)``).
    """

    def __init__(
        self,
        *,
        context: str | None = None,
        kubeconfig: str | None = None,
        timeout: float = 30.0,
        max_connections: int = 16,
    ) -> None:
        self.requested_context = context
        self.kubeconfig = kubeconfig
        self.timeout = timeout
        self.max_connections = max_connections
        self.label = "kube"
        self._lock = threading.Lock()
        self._config: Any = None  # kubernetes.client.Configuration once loaded
        self._client: httpx.Client | None = None
        self._context_name: str | None = None
        self._retired: list[httpx.Client] = []  # replaced after a 401; closed by close()

    # --- kubeconfig ---------------------------------------------------------------------------

    @property
    def context(self) -> str:
        """The kubeconfig context used: the requested one, else the current one."""
        if self._context_name is None:
            self._context_name = self.requested_context or self._current_context()
        return self._context_name

    def _config_file(self) -> str:
        """The kubeconfig path(s): the configured one, else $KUBECONFIG (read now, not when the
        kubernetes package was imported), else ~/.kube/config."""
        return self.kubeconfig or os.environ.get("KUBECONFIG") or os.path.expanduser("~/.kube/config")

    def _current_context(self) -> str:
        from kubernetes import config as kconfig

        try:
            _, active = kconfig.list_kube_config_contexts(config_file=self._config_file())
        except Exception as err:  # missing file, bad YAML, no current-context
            raise SourceError(
                f"kube: cannot read the kubeconfig{self._where()}: {_first_line(err)}",
                hint="pass --source kube:CONTEXT or set KUBECONFIG",
            ) from err
        if not active:
            raise SourceError(
                f"kube: the kubeconfig{self._where()} has no current context", hint="pass --source kube:CONTEXT"
            )
        return active["name"]

    def _where(self) -> str:
        return f" {self._config_file()}"

    def _load(self) -> Any:
        """A kubernetes ``Configuration`` for the context (runs exec plugins, refreshes OIDC)."""
        from kubernetes import client as kclient
        from kubernetes import config as kconfig

        cfg = kclient.Configuration()
        try:
            kconfig.load_kube_config(
                config_file=self._config_file(), context=self.context, client_configuration=cfg, persist_config=False
            )
        except SourceError:
            raise
        except Exception as err:
            raise SourceError(
                f'{self.label}: cannot load context "{self.context}" from kubeconfig{self._where()}: {_first_line(err)}',
                hint="kubectl config get-contexts lists the contexts",
            ) from err
        return cfg

    @property
    def server(self) -> str:
        return self._setup()[0].host

    def _setup(self) -> tuple[Any, httpx.Client]:
        with self._lock:
            if self._client is None:
                self._config = self._load()
                self._client = self._new_client(self._config)
            return self._config, self._client

    def _new_client(self, cfg: Any) -> httpx.Client:
        import httpx

        context = ssl.create_default_context(cafile=cfg.ssl_ca_cert or None)
        if not cfg.verify_ssl:  # insecure-skip-tls-verify: true in the kubeconfig
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        if cfg.cert_file and cfg.key_file:
            context.load_cert_chain(cfg.cert_file, cfg.key_file)
        return httpx.Client(
            base_url=cfg.host,
            verify=context,
            proxy=cfg.proxy or None,
            # pool=None: list calls queue for a free connection instead of failing under load;
            # the session's statement timeout still bounds the whole fetch.
            timeout=httpx.Timeout(self.timeout, connect=min(self.timeout, 10.0), pool=None),
            limits=httpx.Limits(max_connections=self.max_connections, max_keepalive_connections=self.max_connections),
            headers={"Accept": "application/json", "User-Agent": "chaosql"},
        )

    def _auth_headers(self, cfg: Any) -> dict[str, str]:
        """The Authorization header for a token credential (static, exec plugin or OIDC), asked of
        the Configuration itself: where it keeps the token differs between client versions."""
        with self._lock:  # auth_settings() runs the refresh hook, which renews an expired token in place
            settings = cfg.auth_settings() or {}
        return {
            s["key"]: s["value"]
            for s in settings.values()
            if s.get("in") == "header" and s.get("key") and s.get("value")
        }

    def reset(self) -> None:
        """Forget credentials: the next request loads the kubeconfig again. The old client stays
        open until ``close``, since other threads may still have requests in flight on it."""
        with self._lock:
            if self._client is not None:
                self._retired.append(self._client)
            self._client, self._config = None, None
            stale, self._retired = self._retired[:-4], self._retired[-4:]  # older ones are long done
        for client in stale:
            client.close()

    # --- requests -----------------------------------------------------------------------------

    def get(self, path: str, params: dict[str, str] | None = None, *, log: CallLog | None = None) -> Response:
        """GET ``path``; retries connection failures and 429/5xx, reloads credentials once on 401.

        Raises ``Unavailable`` or ``SourceTimeout`` when the server cannot be reached; any HTTP
        status comes back as a ``Response`` for the caller to explain. With the statement's
        ``log``, a cancel stops the retries (``QueryCancelled``), also during the pause before one.
        """
        import httpx

        reloaded = False
        attempt = 0
        while True:
            cfg, client = self._setup()
            extensions = {"sni_hostname": cfg.tls_server_name} if getattr(cfg, "tls_server_name", None) else None
            try:
                raw = client.get(path, params=params, headers=self._auth_headers(cfg), extensions=extensions)
            except httpx.TimeoutException as err:  # not retried: a hung server would multiply the wait
                raise SourceTimeout(
                    f"{self.label}: {cfg.host} did not answer within {self.timeout:g}s",
                    source=self.label,
                    hint="check the cluster's health, or raise the timeout",
                ) from err
            except (httpx.TransportError, OSError) as err:
                if attempt < len(BACKOFF):
                    _pause(log, BACKOFF[attempt])
                    attempt += 1
                    continue
                raise Unavailable(
                    f"{self.label}: cannot reach {cfg.host}: {_reason(err)}",
                    source=self.label,
                    hint=f'check that the cluster is up and that kubeconfig context "{self.context}" points at it',
                ) from err
            if raw.status_code == 401 and not reloaded:
                reloaded = True  # an expired token or rotated certificate: load the kubeconfig again
                self.reset()
                continue
            if raw.status_code in RETRY_STATUSES and attempt < len(BACKOFF):
                _pause(log, _retry_after(raw) or BACKOFF[attempt])
                attempt += 1
                continue
            return Response(raw.status_code, _json(raw.content))

    def send(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        body: Any = None,
        content_type: str = "application/json",
    ) -> Response:
        """A write (POST, PATCH, PUT, DELETE) for chaosql.writers. Unlike ``get`` it retries only
        when the request cannot have reached the server (connect errors), never on a status."""
        import httpx

        reloaded = False
        for attempt in range(len(BACKOFF) + 1):
            cfg, client = self._setup()
            extensions = {"sni_hostname": cfg.tls_server_name} if getattr(cfg, "tls_server_name", None) else None
            headers = {**self._auth_headers(cfg), "Content-Type": content_type}
            try:
                raw = client.request(
                    method,
                    path,
                    params=params,
                    headers=headers,
                    extensions=extensions,
                    content=None if body is None else json.dumps(body).encode(),
                )
            except (httpx.ConnectError, httpx.ConnectTimeout) as err:
                if attempt < len(BACKOFF):
                    time.sleep(BACKOFF[attempt])
                    continue
                raise Unavailable(f"{self.label}: cannot reach {cfg.host}: {_reason(err)}", source=self.label) from err
            except httpx.TimeoutException as err:
                raise SourceTimeout(
                    f"{self.label}: {cfg.host} did not answer {method} {path} within {self.timeout:g}s; "
                    "the write may or may not have happened",
                    source=self.label,
                ) from err
            if raw.status_code == 401 and not reloaded:
                reloaded = True
                self.reset()
                continue
            return Response(raw.status_code, _json(raw.content))
        raise AssertionError("unreachable")

    def close(self) -> None:
        self.reset()
        with self._lock:
            retired, self._retired = self._retired, []
        for client in retired:
            client.close()


def _pause(log: CallLog | None, seconds: float) -> None:
    if log is None:
        time.sleep(seconds)
    else:
        log.pause(seconds)


def _json(content: bytes) -> dict[str, Any]:
    try:
        body = json.loads(content)
    except ValueError:
        return {"message": content[:200].decode("utf-8", "replace").strip()}
    return body if isinstance(body, dict) else {}


def _retry_after(raw: httpx.Response) -> float | None:
    try:
        return min(float(raw.headers.get("Retry-After", "")), 2.0)
    except ValueError:
        return None


def _reason(err: BaseException) -> str:
    text = str(err) or type(err).__name__
    for known in ("Connection refused", "Name or service not known", "No route to host", "certificate verify failed"):
        if known.lower() in text.lower():
            return known.lower()
    return _first_line(err)


def _first_line(err: BaseException) -> str:
    text = str(err).strip() or type(err).__name__
    return text.splitlines()[0][:300]
