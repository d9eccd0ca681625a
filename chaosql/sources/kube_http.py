"""One Kubernetes cluster's HTTP connection: kubeconfig credentials in, parsed JSON out.

The kubeconfig is read by ``chaosql.sources.kubeconfig`` (client certificates, bearer tokens, exec
plugins), and by the ``kubernetes`` package only for a legacy auth-provider (OIDC refresh), which
is why that costly import is rare; requests go through one pooled ``httpx.Client`` per cluster, and
response bodies are parsed straight into dicts, never into client model objects. httpx is imported
on first use, so a CLI that never touches a cluster stays fast.

Retries, pauses, errors and the call log are chaosql.sources.http's: ``get`` reads under its read
policy, ``send`` writes under its write policy, ``stream`` opens a watch.
"""

from __future__ import annotations

import json
import os
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from chaosql.errors import SourceError
from chaosql.sources.http import (
    CONNECT_TIMEOUT,
    FIRST_PAUSE,
    RETRIES,
    Hints,
    HttpClient,
    Response,
    Streamed,
    read_policy,
    write_policy,
)

if TYPE_CHECKING:
    import httpx

    from chaosql.sources.base import Call, CallLog

__all__ = ["KubeConnection", "Response", "Streamed"]


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
        connect_timeout: float = CONNECT_TIMEOUT,
        max_connections: int = 16,
        retries: int = RETRIES,
        backoff: float = FIRST_PAUSE,
    ) -> None:
        self.requested_context = context
        self.kubeconfig = kubeconfig
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self.max_connections = max_connections
        self.read_policy = read_policy(retries, backoff)
        self.write_policy = write_policy(retries, backoff)
        self._lock = threading.Lock()
        self._config: Any = None  # the context's Credentials once loaded
        self._context_name: str | None = None
        self.http = HttpClient(
            self._new_client, who="kube", auth=self._auth_headers, extensions=self._extensions, renew=self.reset
        )

    @property
    def label(self) -> str:
        return self.http.who

    @label.setter
    def label(self, value: str) -> None:
        self.http.who = value

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
        from chaosql.sources.kubeconfig import KubeconfigError, current_context

        try:
            return current_context(self._config_file())
        except KubeconfigError as err:  # missing file, bad YAML, no current-context
            raise SourceError(
                f"kube: cannot read the kubeconfig{self._where()}: {err}",
                hint="pass --source kube:CONTEXT or set KUBECONFIG",
            ) from err

    def _where(self) -> str:
        return f" {self._config_file()}"

    def _load(self) -> Any:
        """The server and credentials of the context (``chaosql.sources.kubeconfig``; the
        ``kubernetes`` package only for a legacy auth-provider). Runs exec credential plugins."""
        from chaosql.sources.kubeconfig import KubeconfigError, NeedsKubernetes, load

        try:
            return load(self._config_file(), self.context)
        except NeedsKubernetes:
            return self._load_with_kubernetes()
        except (KubeconfigError, OSError, ssl.SSLError, ValueError) as err:
            raise SourceError(
                f'{self.label}: cannot load context "{self.context}" from kubeconfig{self._where()}: {_first_line(err)}',
                hint="kubectl config get-contexts lists the contexts",
            ) from err

    def _load_with_kubernetes(self) -> Any:
        """A kubernetes ``Configuration`` for the context: it refreshes OIDC and the legacy
        auth-providers' tokens."""
        from kubernetes import client as kclient
        from kubernetes import config as kconfig

        cfg = kclient.Configuration()
        try:
            kconfig.load_kube_config(
                config_file=self._config_file(), context=self.context, client_configuration=cfg, persist_config=False
            )
        except Exception as err:
            raise SourceError(
                f'{self.label}: cannot load context "{self.context}" from kubeconfig{self._where()}: {_first_line(err)}',
                hint="kubectl config get-contexts lists the contexts",
            ) from err
        return _KubernetesCredentials(cfg)

    def _cfg(self) -> Any:
        with self._lock:
            if self._config is None:
                self._config = self._load()
            return self._config

    @property
    def server(self) -> str:
        return self._cfg().host

    def _new_client(self) -> httpx.Client:
        import httpx

        cfg = self._cfg()
        self.http.hints = Hints(
            unreachable=f'check that the cluster is up and that kubeconfig context "{self.context}" points at it',
            timeout="check the cluster's health, or raise the timeout",
            tls=f'check the certificate-authority and server of kubeconfig context "{self.context}"',
        )
        context = cfg.ssl_context()
        return httpx.Client(
            base_url=cfg.host,
            verify=context,
            proxy=cfg.proxy or None,
            # pool=None: list calls queue for a free connection instead of failing under load;
            # the session's statement timeout still bounds the whole fetch.
            timeout=httpx.Timeout(self.timeout, connect=min(self.timeout, self.connect_timeout), pool=None),
            limits=httpx.Limits(max_connections=self.max_connections, max_keepalive_connections=self.max_connections),
            headers={"Accept": "application/json", "User-Agent": "chaosql"},
        )

    def prepare(self) -> None:
        """Do now what the first request would: load the kubeconfig and credentials, make the
        client and its TLS context, and import what a request uses (``KubeSource.warm_up``)."""
        import encodings.idna  # noqa: F401 - the first request encodes the host name with it

        self.http.prepare()

    def _auth_headers(self) -> dict[str, str]:
        """The Authorization header of a token credential (static, file, exec plugin, OIDC),
        renewed when it expires."""
        return self._cfg().headers()

    def _extensions(self) -> dict[str, Any] | None:
        name = getattr(self._cfg(), "tls_server_name", None)
        return {"sni_hostname": name} if name else None

    def reset(self) -> None:
        """Forget credentials: the next request loads the kubeconfig again."""
        with self._lock:
            self._config = None
        self.http.reset()

    # --- requests -----------------------------------------------------------------------------

    def get(
        self,
        path: str,
        params: dict[str, str] | None = None,
        *,
        log: CallLog | None = None,
        call: Call | None = None,
    ) -> Response:
        """GET ``path`` under the read policy (connection failures and 429/5xx tried again, the
        credentials reloaded once on 401). Raises ``Unavailable`` or ``SourceTimeout`` when the server
        cannot be reached; any HTTP status comes back as a ``Response`` for the caller to explain.
        With the statement's ``log``, a cancel stops the retries (``QueryCancelled``), also during
        the pause before one, and ``call`` is recorded with the number of ``items`` listed."""
        return self.http.request("GET", path, policy=self.read_policy, params=params, log=log, call=call, count=_items)

    def send(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        body: Any = None,
        content_type: str = "application/json",
        log: CallLog | None = None,
        call: Call | None = None,
    ) -> Response:
        """A write (POST, PATCH, PUT, DELETE) for chaosql.writers, under the write policy: tried
        again only when the request cannot have reached the server, never on a status."""
        return self.http.request(
            method,
            path,
            policy=self.write_policy,
            params=params,
            content=None if body is None else json.dumps(body).encode(),
            headers={"Content-Type": content_type},
            log=log,
            call=call,
        )

    @contextmanager
    def stream(
        self, path: str, params: dict[str, str] | None = None, *, read_timeout: float | None, log: CallLog | None = None
    ) -> Iterator[Streamed]:
        """A long-lived GET (``watch=true``): connecting as ``get`` does, then the body line by line,
        waiting at most ``read_timeout`` seconds for each (``Streamed.json_lines()`` yields a
        watch's events). A status other than 2xx is in ``Streamed.error``.

        A watch: ``with conn.stream(path, {"watch": "true", "resourceVersion": rv,
        "allowWatchBookmarks": "true", "timeoutSeconds": "300"}, read_timeout=330) as s:``
        ``for event in s.json_lines(): ...``
        """
        with self.http.stream(
            "GET", path, read_timeout=read_timeout, policy=self.read_policy, params=params, log=log
        ) as streamed:
            yield streamed

    def close(self) -> None:
        with self._lock:
            self._config = None
        self.http.close()


def _items(response: Response) -> int:
    data = response.data
    return len(data.get("items") or []) if isinstance(data, dict) else 0


class _KubernetesCredentials:
    """A kubernetes ``Configuration`` seen as ``chaosql.sources.kubeconfig.Credentials``."""

    def __init__(self, cfg: Any) -> None:
        self.cfg = cfg
        self.host = cfg.host
        self.proxy = cfg.proxy or None
        self.tls_server_name = getattr(cfg, "tls_server_name", None)
        self._lock = threading.Lock()

    def ssl_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(cafile=self.cfg.ssl_ca_cert or None)
        if not self.cfg.verify_ssl:  # insecure-skip-tls-verify: true in the kubeconfig
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        if self.cfg.cert_file and self.cfg.key_file:
            context.load_cert_chain(self.cfg.cert_file, self.cfg.key_file)
        return context

    def headers(self) -> dict[str, str]:
        """Asked of the Configuration itself: where it keeps the token differs between versions."""
        with self._lock:  # auth_settings() runs the refresh hook, which renews an expired token in place
            settings = self.cfg.auth_settings() or {}
        return {
            s["key"]: s["value"]
            for s in settings.values()
            if s.get("in") == "header" and s.get("key") and s.get("value")
        }


def _first_line(err: BaseException) -> str:
    text = str(err).strip() or type(err).__name__
    return text.splitlines()[0][:300]
