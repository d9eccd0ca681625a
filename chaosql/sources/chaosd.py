"""Chaosd source: the HTTP API of one or more Chaosd servers ("nodes"), grouped under one name.

Chaosd has no node registry: a node is the base URL of one ``chaosd server``. Nodes come from the
configuration (``nodes = [...]``), from ``--source chaosd:URL[,URL...]``, and, when ``discover``
says so, from the ``spec.address`` of the PhysicalMachine objects of kube-family sources.

What the client relies on is chaosd v1.4.0's HTTP API (its ``pkg/server/httpserver``; Chaosd
publishes no OpenAPI document) as the real server showed it (tests/chaosd-env/README.md):

- Plain HTTP (``http://host:31767``) serves every route. With TLS (``https://host:31768``) the
  attack and experiment routes are on HTTPS only, and ``/api/system/health`` and ``/version`` on
  the plain port only, so a TLS node has a second, plain "system" URL.
- Chaos Mesh issues chaosd server certificates for ``chaosd.chaos-mesh.org`` (no IP SANs), so the
  client dials the address as given and verifies that name (httpx's ``sni_hostname`` extension),
  as the Chaos Mesh controller does. ``server_name = ""`` verifies the URL's own host instead.
- ``GET /api/experiments`` answers 301 to the trailing-slash path; the client asks for the slash.
- Errors are JSON ``{"error": true, "code": ..., "message": "<code>: <text>", "full_text": ...}``.

Errors are translated at the boundary into chaosql's classes: a node that cannot be reached is
``Unavailable`` naming the node, 401/403 ``Forbidden``, a slow node ``SourceTimeout``, and any
other chaosd error a ``ChaosdError`` (a ``SourceError``) carrying chaosd's own message, its status
and code, so writers can tell "not found" from "cannot recover".

>>> ChaosdSource(["http://127.0.0.1:31767"], name="lab").describe()
'chaosd "lab" (1 node)'
"""

from __future__ import annotations

import ssl
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from chaosql.errors import Forbidden, SourceError, UsageError
from chaosql.sources.http import (
    CONNECT_TIMEOUT,
    FIRST_PAUSE,
    RETRIES,
    Hints,
    HttpClient,
    Response,
    read_policy,
    write_policy,
)

if TYPE_CHECKING:
    import httpx

    from chaosql.sources.base import CallLog
    from chaosql.sources.poll import PollCache

#: The name Chaos Mesh's PKI puts into chaosd server certificates (CN and DNS SAN).
CHAOSD_SERVER_NAME = "chaosd.chaos-mesh.org"
DEFAULT_HTTP_PORT = 31767
DEFAULT_CONNECT_TIMEOUT = CONNECT_TIMEOUT
#: Attacks run synchronously inside the request (user_defined waits for its command).
DEFAULT_TIMEOUT = 30.0


class ChaosdError(SourceError):
    """An error answer of a chaosd node: ``status`` (HTTP), ``code`` (errorx type) and ``text``
    (chaosd's message without the code prefix)."""

    def __init__(
        self, message: str, *, status: int, code: str, text: str, source: str | None = None, hint: str | None = None
    ) -> None:
        super().__init__(message, source=source, hint=hint)
        self.status = status
        self.code = code
        self.text = text


@dataclass(frozen=True)
class Node:
    """One chaosd server: ``url`` (its API base URL, the rows' ``node`` value) and the plain
    ``system_url`` serving health and version; ``origin`` says where it was found."""

    url: str
    system_url: str
    origin: str = "config"

    @property
    def name(self) -> str:
        """host:port, the ``nodes.name`` value."""
        return urlsplit(self.url).netloc

    @property
    def tls(self) -> bool:
        return self.url.startswith("https://")


def normalize_url(url: str) -> str:
    """The canonical form of a node address: scheme added (http, as Chaos Mesh's webhook does),
    no trailing slash or path.

    >>> normalize_url("10.0.0.5:31767"), normalize_url("https://h:31768/")
    ('http://10.0.0.5:31767', 'https://h:31768')
    """
    url = url.strip()
    if "://" not in url:
        url = "http://" + url
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(
            f"chaosd node address {url!r} is not an http(s) URL",
            hint="write nodes as http://HOST:31767 or https://HOST:31768",
        )
    return urlunsplit((parts.scheme, parts.netloc, "", "", ""))


def system_url_for(url: str, port: int = DEFAULT_HTTP_PORT) -> str:
    """Where health and version live: the URL itself for plain HTTP, else ``http://host:port``.

    >>> system_url_for("https://10.0.0.5:31768")
    'http://10.0.0.5:31767'
    """
    parts = urlsplit(url)
    if parts.scheme == "http":
        return url
    host = parts.hostname or ""
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    return f"http://{host}:{port}"


class ChaosdSource:
    """The chaosd nodes configured under one source name (the ``cluster`` column).

    Keyword options: ``ca``/``client_cert``/``client_key`` (PEM paths), ``server_name`` (name to
    verify on HTTPS; ``""`` = the URL's host), ``insecure`` (no certificate check), ``system_port``
    (plain port of health/version for HTTPS nodes), ``timeout``/``connect_timeout`` (seconds),
    ``retries``/``backoff`` (reads and unsent requests only), ``discover_from`` (kube-family
    sources whose PhysicalMachine addresses become nodes), ``not_discovered`` (node URLs another
    source lists, never discovered here too), ``transport`` (the httpx seam).
    """

    family = "chaosd"
    kind_label = "chaosd"

    def __init__(
        self,
        nodes: Iterable[str | Node | dict] = (),
        *,
        name: str = "chaosd",
        ca: str | None = None,
        client_cert: str | None = None,
        client_key: str | None = None,
        server_name: str | None = CHAOSD_SERVER_NAME,
        insecure: bool = False,
        system_port: int = DEFAULT_HTTP_PORT,
        timeout: float = DEFAULT_TIMEOUT,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        retries: int = RETRIES,
        backoff: float = FIRST_PAUSE,
        discover_from: Sequence[Any] = (),
        not_discovered: frozenset[str] = frozenset(),
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.name = name
        self.ca, self.client_cert, self.client_key = ca, client_cert, client_key
        if (client_cert is None) != (client_key is None) and client_key is not None:
            raise UsageError(f'chaosd source "{name}": client_key needs client_cert')
        self.server_name = server_name or None
        self.insecure = insecure
        self.system_port = system_port
        self.timeout, self.connect_timeout = timeout, connect_timeout
        self.retries, self.backoff = retries, backoff
        self.discover_from = list(discover_from)
        self.not_discovered = not_discovered  # nodes another source lists: read there, not here too
        self.transport = transport
        self.warnings: list[str] = []
        self.cache: PollCache | None = None  # in long-running processes (enable_cache)
        self._static = [self._node(n) for n in nodes]
        self._read = read_policy(retries, backoff)
        self._write = write_policy(retries, backoff)
        self._recover = write_policy(retries, backoff, resend=True)
        hints = Hints(
            unreachable="check that chaosd runs there, or SET chaosql.on_source_error = 'warn'",
            timeout="check the node, or raise timeout in the source's config",
            tls=self._tls_hint(),
        )
        self._http = {
            tls: HttpClient(partial(self._new_client, tls), who=f'chaosd "{name}"', source=name, hints=hints)
            for tls in (False, True)
        }

    @property
    def configured_nodes(self) -> list[Node]:
        """The nodes the configuration lists (discovered ones come on top, in ``nodes``)."""
        return list(self._static)

    def describe(self) -> str:
        n = len(self._static)
        more = " + discovered" if self.discover_from else ""
        return f'chaosd "{self.name}" ({n} node{"s" if n != 1 else ""}{more})'

    def _node(self, spec: str | Node | dict, origin: str = "config") -> Node:
        if isinstance(spec, Node):
            return spec
        if isinstance(spec, dict):
            if not spec.get("url"):
                raise UsageError(f'chaosd source "{self.name}": a node table needs url = "..."')
            url = normalize_url(str(spec["url"]))
            system = spec.get("system_url")
            return Node(url, normalize_url(str(system)) if system else system_url_for(url, self.system_port), origin)
        url = normalize_url(str(spec))
        return Node(url, system_url_for(url, self.system_port), origin)

    # --- nodes ------------------------------------------------------------------------------

    def nodes(self, log: CallLog | None = None) -> list[Node]:
        """Configured nodes, then discovered ones (PhysicalMachine ``spec.address``), each URL once."""
        found: dict[str, Node] = {n.url: n for n in self._static}
        for node in self._discover(log):
            found.setdefault(node.url, node)
        return list(found.values())

    def node(self, url: str, log: CallLog | None = None) -> Node | None:
        """The known node with this address (any spelling ``normalize_url`` accepts), or None."""
        try:
            wanted = normalize_url(url)
        except UsageError:
            return None
        return next((n for n in self.nodes(log) if n.url == wanted), None)

    def _discover(self, log: CallLog | None) -> list[Node]:
        from chaosql.sources.base import CallLog, ListFilter
        from chaosql.sources.chaosmesh import PHYSICAL_MACHINE

        out = []
        for source in self.discover_from:
            for cluster in source.clusters():
                if not source.has_kind(cluster, PHYSICAL_MACHINE):
                    continue
                try:
                    objs = source.list(cluster, PHYSICAL_MACHINE, ListFilter(), log or CallLog())
                except SourceError as err:  # discovery is best effort: configured nodes still answer
                    self.warnings.append(f'{self.describe()}: cannot discover nodes from "{cluster}": {err}')
                    continue
                for obj in objs:
                    address = (obj.get("spec") or {}).get("address")
                    meta = obj.get("metadata") or {}
                    if not address:
                        continue
                    try:
                        node = self._node(address, origin=f"{cluster}/{meta.get('namespace')}/{meta.get('name')}")
                        if node.url not in self.not_discovered:
                            out.append(node)
                    except UsageError as err:
                        self.warnings.append(f"{self.describe()}: PhysicalMachine {meta.get('name')}: {err.message}")
        return out

    # --- the API ----------------------------------------------------------------------------

    def enable_cache(self, *, idle: float = 600.0, interval: float | None = None) -> PollCache:
        """Keep the nodes' answers, asked again every few seconds (``chaosql.sources.poll``):
        chaosd has no change feed to watch."""
        from chaosql.sources.poll import INTERVAL, PollCache

        if self.cache is None:
            self.cache = PollCache(source=self.name, interval=interval or INTERVAL, idle=idle)
        return self.cache

    def health(self, node: Node, log: CallLog | None = None, *, live: bool = False) -> bool:
        """Whether ``GET /api/system/health`` answers ``{"status": 0}`` (on the plain port);
        ``live``: ask the node now, whatever the poll cache holds (what a write decides on)."""
        body = self._get(node, "/api/system/health", log, base=node.system_url, live=live)
        return isinstance(body, dict) and body.get("status") == 0

    def version(self, node: Node, log: CallLog | None = None, *, live: bool = False) -> dict:
        """``GET /api/system/version``: gitVersion, gitCommit, buildDate, goVersion, platform..."""
        body = self._get(node, "/api/system/version", log, base=node.system_url, live=live)
        return body if isinstance(body, dict) else {}

    def experiments(self, node: Node, log: CallLog | None = None, *, live: bool = False) -> list[dict]:
        """``GET /api/experiments/``: every experiment row of the node, in chaosd's order."""
        return list(self._get(node, "/api/experiments/", log, count=True, live=live) or [])

    def runs(self, node: Node, uid: str, log: CallLog | None = None, *, live: bool = False) -> list[dict]:
        """``GET /api/experiments/{uid}/runs``: the runs of a scheduled experiment ([] otherwise)."""
        return list(self._get(node, f"/api/experiments/{uid}/runs", log, count=True, live=live) or [])

    def attack(self, node: Node, route: str, body: dict, log: CallLog | None = None) -> dict:
        """``POST /api/attack/{route}``; returns chaosd's ``{"status", "message", "uid"}``."""
        try:
            return self._call(node, "POST", f"/api/attack/{route}", log, json=body)
        finally:
            self._wrote(node)

    def recover(self, node: Node, uid: str, log: CallLog | None = None) -> dict:
        """``DELETE /api/attack/{uid}``; a ChaosdError keeps chaosd's status and text."""
        try:
            return self._call(node, "DELETE", f"/api/attack/{uid}", log)
        finally:
            self._wrote(node)

    def close(self) -> None:
        if self.cache is not None:
            self.cache.close()
        for http in self._http.values():
            http.close()

    def _get(
        self,
        node: Node,
        path: str,
        log: CallLog | None,
        *,
        base: str | None = None,
        count: bool = False,
        live: bool = False,
    ) -> Any:
        """A read: from the poll cache in long-running processes (unless ``live``), else from the node."""
        if self.cache is None or live:
            return self._call(node, "GET", path, log, base=base, count=count)
        url = (base or node.url) + path
        return self.cache.get(
            ("GET", node.url, url),
            lambda lg: self._call(node, "GET", path, lg, base=base, count=count),
            log,
            node=node.url,
            what=f"GET {url}",
        )

    def _wrote(self, node: Node) -> None:
        if self.cache is not None:  # read-your-writes: the next statement asks the node again
            self.cache.forget(node.url)

    # --- one call ---------------------------------------------------------------------------

    def _new_client(self, tls: bool) -> httpx.Client:
        import httpx

        return httpx.Client(
            timeout=httpx.Timeout(self.timeout, connect=self.connect_timeout),
            verify=self._ssl_context() if tls else True,
            follow_redirects=False,
            headers={"Accept": "application/json"},
            transport=self.transport,
        )

    def _ssl_context(self) -> ssl.SSLContext | bool:
        if self.insecure:
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        else:
            try:
                ctx = ssl.create_default_context(cafile=self.ca) if self.ca else ssl.create_default_context()
            except (OSError, ssl.SSLError) as err:
                raise UsageError(f'chaosd source "{self.name}": cannot read CA {self.ca}: {err}') from err
        if self.client_cert:
            try:
                ctx.load_cert_chain(self.client_cert, self.client_key)
            except (OSError, ssl.SSLError) as err:
                raise UsageError(
                    f'chaosd source "{self.name}": cannot load client certificate {self.client_cert}: {err}'
                ) from err
        return ctx

    def _call(
        self,
        node: Node,
        method: str,
        path: str,
        log: CallLog | None,
        *,
        base: str | None = None,
        json: Any = None,
        count: bool = False,
    ) -> Any:
        from chaosql.sources.base import Call

        base = base or node.url
        tls = base.startswith("https://")
        # Reads under the read policy; a recover (DELETE) is answered idempotently by chaosd, so it
        # may be resent after a broken connection; an attack (POST) only when it surely never left.
        policy = self._read if method == "GET" else self._recover if method == "DELETE" else self._write
        response = self._http[tls].request(
            method,
            base + path,
            policy=policy,
            json_body=json,
            extensions={"sni_hostname": self.server_name} if tls and self.server_name else None,
            log=log,
            call=Call(self.name, node.url, f"{method} {base}{path}"),
            count=(lambda r: len(r.data or [])) if count else None,
        )
        where = f"chaosd node {node.url}" + (f' (source "{self.name}")' if self.name else "")
        return self._answer(response, where, method, path)

    def _answer(self, response: Response, where: str, method: str, path: str) -> Any:
        body = response.data
        status = response.status
        if status == 200:
            return body
        code = text = ""
        if isinstance(body, dict) and body.get("error"):
            code = str(body.get("code") or "")
            text = str(body.get("message") or "")
            if code and text.startswith(code + ": "):
                text = text[len(code) + 2 :]  # the real server prefixes the errorx code (README 2.)
        else:
            text = response.text.strip()[:200] or response.reason
        if status in (401, 403):
            hint = (
                "configure client_cert and client_key (signed by the CA chaosd trusts)"
                if status == 401
                else "the client certificate is not signed by the CA chaosd trusts"
            )
            raise Forbidden(f"{where} refused {method} {path} (HTTP {status}): {text}", source=self.name, hint=hint)
        if status in (301, 302, 307, 308):
            text = f"redirected to {response.headers.get('location')}"
        raise ChaosdError(
            f"{where}: {method} {path} failed (HTTP {status}): {text}",
            status=status,
            code=code,
            text=text,
            source=self.name,
        )

    def _tls_hint(self) -> str:
        name = f"the name {self.server_name}" if self.server_name else "the URL's host name"
        return (
            f"chaosql verifies {name} against the CA "
            f'{self.ca or "(system store)"}; set ca, server_name ("" for the URL\'s host) or client_cert'
        )


def open_chaosd(name: str, spec: str, config: dict) -> ChaosdSource:
    """The factory behind ``--source chaosd:URL[,URL...]`` and ``[sources.NAME] type = "chaosd"``.

    Section options: ``nodes`` (URLs, or tables ``{url, system_url}``), ``url``, ``ca``,
    ``client_cert``, ``client_key``, ``server_name``, ``insecure``, ``system_port``, ``timeout``,
    ``connect_timeout``, ``retries``, and ``discover`` (``true``: every other kube-family source of
    the config file; or a list of source names) for PhysicalMachine addresses.
    """
    options = dict(config.get("source") or {})
    nodes: list[Any] = [u for u in spec.split(",") if u.strip()] if spec else []
    nodes += list(options.get("nodes") or [])
    if options.get("url") and options["url"] != spec:
        nodes.append(options["url"])
    discover = _discovery_sources(name, options.get("discover"), config)
    elsewhere = _nodes_of_other_sources(name, options.get("discover"), config)
    if not nodes and not discover:
        raise UsageError(
            f"chaosd source {name or '(unnamed)'} has no nodes",
            hint='use --source chaosd:http://HOST:31767 or nodes = ["http://HOST:31767"], or discover = true',
        )

    def path(key: str) -> str | None:
        from pathlib import Path

        value = options.get(key)
        return str(Path(str(value)).expanduser()) if value else None

    try:
        return ChaosdSource(
            nodes,
            name=name or "chaosd",
            ca=path("ca"),
            client_cert=path("client_cert"),
            client_key=path("client_key"),
            server_name=str(options["server_name"]) if "server_name" in options else CHAOSD_SERVER_NAME,
            insecure=bool(options.get("insecure", False)),
            system_port=int(options.get("system_port", DEFAULT_HTTP_PORT)),
            timeout=float(options.get("timeout", DEFAULT_TIMEOUT)),
            connect_timeout=float(options.get("connect_timeout", DEFAULT_CONNECT_TIMEOUT)),
            retries=int(options.get("retries", RETRIES)),
            discover_from=discover,
            not_discovered=elsewhere,
        )
    except (TypeError, ValueError) as err:
        raise UsageError(f"chaosd source {name or spec}: {err}") from err


def _nodes_of_other_sources(name: str, discover: Any, config: dict) -> frozenset[str]:
    """The node URLs the config's other chaosd sources list: a discovered node among them is read
    through that source, not a second time through this one. Two sources discovering from the same
    kube source would each read every node it names: refused."""
    sections = config.get("sources") or {}
    others = {n: s for n, s in sections.items() if n != name and isinstance(s, dict) and s.get("type") == "chaosd"}
    mine = set(_discovery_names(name, discover, sections))
    for other, section in others.items():
        shared = mine & set(_discovery_names(other, section.get("discover"), sections))
        if shared:
            raise UsageError(
                f"chaosd sources {name} and {other} both discover nodes from {sorted(shared)[0]}: "
                "its nodes would be read twice",
                hint="let one of them discover",
            )
    urls = set()
    for section in others.values():
        for node in [*(section.get("nodes") or []), *([section["url"]] if section.get("url") else [])]:
            try:
                urls.add(normalize_url(str(node["url"] if isinstance(node, dict) else node)))
            except (UsageError, KeyError):
                continue
    return frozenset(urls)


def _discovery_names(name: str, discover: Any, sections: dict) -> list[str]:
    if not discover:
        return []
    if discover is True:
        return [n for n, s in sections.items() if n != name and s.get("type") not in ("chaosd", "prometheus")]
    return [str(n) for n in (discover if isinstance(discover, list) else [discover])]


def _discovery_sources(name: str, discover: Any, config: dict) -> list[Any]:
    """The kube-family sources of the config file whose PhysicalMachines to read (opened here:
    sources are independent objects, so discovery keeps its own clients)."""
    if not discover:
        return []
    from chaosql.sources import open_source

    sections = config.get("sources") or {}
    wanted = _discovery_names(name, discover, sections)
    out = []
    for other in wanted:
        if other not in sections:
            raise UsageError(
                f"chaosd source {name}: discover names {other!r}, which is not a configured source",
                hint="known: " + ", ".join(sorted(sections)),
            )
        section = dict(sections[other])
        kind = section.pop("type")
        target = section.get("path") or section.get("context") or section.get("url") or ""
        source = open_source(f"{kind}:{target}" if target else kind, name=other, config={**config, "source": section})
        if source.family == "kube":
            out.append(source)
    return out
