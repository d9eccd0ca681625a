"""Kubernetes source: chaos objects, pods, nodes and events listed live from a kube-apiserver.

One source is one cluster: a kubeconfig context (the current one by default). Its name, the
``cluster`` column, is the configured source name or else the context name. The kinds of each chaos
engine's API group (``chaosql.sources.groups``: ``/apis/chaos-mesh.org/v1alpha1``,
``/apis/litmuschaos.io/v1alpha1``) are discovered when first needed (cached for ``DISCOVERY_TTL``
seconds), so a cluster with fewer CRDs, or with only one of the engines, works, and a newer one
with more kinds shows them.

A list call is built from the table's ``ListFilter`` (see ``plan_list``):

* namespaces -> one namespaced list call per namespace;
* one name -> ``fieldSelector=metadata.name=NAME`` (several names are filtered here);
* labels -> ``labelSelector=key in (a,b)``;
* fields -> ``fieldSelector`` where the kind supports that field (``FIELD_SELECTORS``).

Whatever the server could not filter is filtered in memory. Lists paginate with ``limit`` and
``continue``; each page is one entry in the ``CallLog``.
"""

from __future__ import annotations

import builtins
import contextlib
import re
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import quote

from chaosql.errors import Forbidden, SourceError
from chaosql.sources import groups
from chaosql.sources.base import Call, CallLog, ListFilter
from chaosql.sources.chaosmesh import API_GROUP, CORE_KINDS, is_experiment_kind
from chaosql.sources.http import CONNECT_TIMEOUT, FIRST_PAUSE, RETRIES, status_error
from chaosql.sources.kube_http import KubeConnection, Response

if TYPE_CHECKING:
    from chaosql.crds import Crd
    from chaosql.sources.cache import ClusterCache

PAGE_SIZE = 500
DISCOVERY_TTL = 60.0
CHAOS_PREFIX = API_GROUP.prefix
CRD_PREFIX = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"

#: Core kinds that live in namespaces (the others in CORE_KINDS are cluster-scoped).
NAMESPACED_CORE = frozenset({"Pod", "Event"})

#: Field selectors the apiserver accepts per kind, besides metadata.name and metadata.namespace
#: (which every kind accepts). From Kubernetes' registries: pkg/registry/core/pod/strategy.go
#: (PodToSelectableFields), core/event/strategy.go (ToSelectableFields) and core/node/strategy.go.
#: Custom resources accept only the metadata fields unless their CRD declares selectableFields,
#: which Chaos Mesh's do not. Update this when a table pushes a new field.
FIELD_SELECTORS: dict[str, frozenset[str]] = {
    "Pod": frozenset(
        {
            "spec.nodeName",
            "spec.restartPolicy",
            "spec.schedulerName",
            "spec.serviceAccountName",
            "spec.hostNetwork",
            "status.phase",
            "status.podIP",
            "status.nominatedNodeName",
        }
    ),
    "Event": frozenset(
        {
            "involvedObject.kind",
            "involvedObject.namespace",
            "involvedObject.name",
            "involvedObject.uid",
            "involvedObject.apiVersion",
            "involvedObject.resourceVersion",
            "involvedObject.fieldPath",
            "reason",
            "reportingComponent",
            "source",
            "type",
        }
    ),
    "Node": frozenset({"spec.unschedulable"}),
}
META_FIELDS = frozenset({"metadata.name", "metadata.namespace"})

_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_LABEL_VALUE = re.compile(r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?")
_LABEL_KEY = re.compile(r"([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?")


@dataclass(frozen=True)
class Resource:
    """Where a kind is listed: its API path prefix, plural and scope."""

    kind: str
    prefix: str  # /api/v1, /apis/chaos-mesh.org/v1alpha1, /apis/litmuschaos.io/v1alpha1
    plural: str
    namespaced: bool

    @property
    def api_version(self) -> str:
        return "v1" if self.prefix == "/api/v1" else self.prefix.removeprefix("/apis/")

    @property
    def rbac_name(self) -> str:
        """The name RBAC rules use: ``events``, ``podchaos.chaos-mesh.org``."""
        return self.plural if self.prefix == "/api/v1" else f"{self.plural}.{self.api_version.split('/')[0]}"

    def path(self, namespace: str | None = None) -> str:
        if namespace is not None:
            return f"{self.prefix}/namespaces/{quote(namespace)}/{self.plural}"
        return f"{self.prefix}/{self.plural}"


CORE_RESOURCES = {
    kind: Resource(kind, prefix, plural, kind in NAMESPACED_CORE) for kind, (prefix, plural) in CORE_KINDS.items()
}


@dataclass
class ListPlan:
    """The list calls that answer one ``ListFilter``, and whether rows still need filtering here."""

    namespaces: Sequence[str | None]  # None: all namespaces (one cluster-wide call)
    params: dict[str, str] = field(default_factory=dict)
    refilter: bool = False
    empty: bool = False  # nothing can match: make no call


def plan_list(resource: Resource, flt: ListFilter) -> ListPlan:
    """Turn a filter into list calls, pushing to the server what it can evaluate exactly.

    >>> pods = CORE_RESOURCES["Pod"]
    >>> plan = plan_list(pods, ListFilter(namespaces=frozenset({"a", "b"}), labels=(("app", frozenset({"web"})),)))
    >>> plan.namespaces, plan.params, plan.refilter
    (['a', 'b'], {'labelSelector': 'app in (web)'}, False)
    >>> plan_list(pods, ListFilter(names=frozenset({"x", "y"}))).refilter
    True
    """
    plan = ListPlan(namespaces=[None])
    if flt.namespaces is not None:
        wanted = sorted(ns for ns in flt.namespaces if _DNS_LABEL.fullmatch(ns))
        if not resource.namespaced or not wanted:  # cluster-scoped objects have no namespace
            return ListPlan(namespaces=[], empty=True)
        plan.namespaces = wanted
    fields: list[str] = []
    if flt.names is not None:
        if not flt.names:
            return ListPlan(namespaces=[], empty=True)
        if len(flt.names) == 1:
            fields.append("metadata.name=" + _escape_field(next(iter(flt.names))))
        else:
            plan.refilter = True
    selectors = []
    for key, allowed in flt.labels:
        values = sorted(allowed)
        if (
            values
            and _LABEL_KEY.fullmatch(key)
            and all(v and _LABEL_VALUE.fullmatch(v) and len(v) <= 63 for v in values)
        ):
            selectors.append(f"{key} in ({','.join(values)})")
        else:
            plan.refilter = True
    supported = FIELD_SELECTORS.get(resource.kind, frozenset()) | META_FIELDS
    for path, value in flt.fields:
        if path in supported:
            fields.append(f"{path}={_escape_field(value)}")
        else:
            plan.refilter = True
    if selectors:
        plan.params["labelSelector"] = ",".join(selectors)
    if fields:
        plan.params["fieldSelector"] = ",".join(fields)
    return plan


def _escape_field(value: str) -> str:
    """Escape a field selector value as the apiserver's fields.EscapeValue does."""
    return value.replace("\\", "\\\\").replace(",", "\\,").replace("=", "\\=")


class KubeSource:
    """The live objects of one Kubernetes cluster (one kubeconfig context)."""

    family = "kube"
    kind_label = "kube"

    def __init__(
        self,
        *,
        context: str | None = None,
        kubeconfig: str | None = None,
        name: str | None = None,
        page_size: int = PAGE_SIZE,
        timeout: float = 30.0,
        connect_timeout: float = CONNECT_TIMEOUT,
        max_connections: int = 16,
        retries: int = RETRIES,
        backoff: float = FIRST_PAUSE,
    ) -> None:
        self.conn = KubeConnection(
            context=context,
            kubeconfig=kubeconfig,
            timeout=timeout,
            connect_timeout=connect_timeout,
            max_connections=max_connections,
            retries=retries,
            backoff=backoff,
        )
        self._name = name
        self.page_size = page_size
        self.warnings: list[str] = []
        self._lock = threading.Lock()
        # API group -> (when discovered, kind -> Resource; empty when the cluster does not serve it)
        self._kinds: dict[str, tuple[float, dict[str, Resource]]] = {}
        self._warned: set[str] = set()
        self._crds: dict[str, tuple[float, str, Crd | None]] = {}  # kind -> (when, resourceVersion, CRD)
        self._pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="chaosql-kube")
        self._watch_conn: KubeConnection | None = None
        self.cache: ClusterCache | None = None  # the watch cache, in long-running processes

    def enable_cache(self, *, idle: float = 600.0) -> ClusterCache:
        """Keep what statements read current with watches (``chaosql.sources.cache``)."""
        from chaosql.sources.cache import ClusterCache

        with self._lock:
            if self.cache is None:
                self.cache = ClusterCache(self, idle=idle)
            return self.cache

    def warm_up(self) -> None:
        """Start connecting now: read the kubeconfig and make the TLS context here, then connect and
        discover Chaos Mesh's API in the background while the caller does other work (the one-shot
        CLI imports DuckDB and sqlglot meanwhile, so a remote cluster's round trips overlap with
        that). Nothing is reported from here: a statement that needs the cluster meets any failure
        itself. A daemon thread, so a cluster that does not answer never holds up the exit."""
        try:
            self.conn.prepare()  # in the caller's thread: its imports must not race the caller's
        except Exception:
            return
        threading.Thread(target=self._warm, name="chaosql-kube-warm-up", daemon=True).start()

    def _warm(self) -> None:
        with contextlib.suppress(Exception):  # the statement meets the same error and reports it
            self._discover(API_GROUP, warn=False, remember_empty=False)

    @property
    def watch_conn(self) -> KubeConnection:
        """A second connection for the watch cache's informers: open watches hold their connections
        for minutes, and must never leave statements waiting for one. An informer lists over it
        too, so its watch reuses the connection its list opened (one TLS handshake, not two)."""
        with self._lock:
            if self._watch_conn is None:
                self._watch_conn = KubeConnection(
                    context=self.conn.requested_context,
                    kubeconfig=self.conn.kubeconfig,
                    timeout=self.conn.timeout,
                    connect_timeout=self.conn.connect_timeout,
                    max_connections=1000,
                )
                self._watch_conn.label = self.label
            return self._watch_conn

    def wrote(self, kind: str, namespace: str, answer: dict | None, *, uid: str | None = None) -> None:
        """A write of this process succeeded (``answer``: what the server returned): the watch
        cache makes reads wait until it has seen the change (read-your-writes)."""
        if self.cache is not None:
            from chaosql.sources.watch import version_of

            self.cache.wrote(kind, namespace, version_of(answer or {}), uid)

    @property
    def name(self) -> str:
        if self._name is None:
            try:
                self._name = self.conn.context
            except SourceError:
                return "kube"
        return self._name

    @property
    def label(self) -> str:
        return f'cluster "{self.name}" (kube)'

    def describe(self) -> str:
        return self.label

    def __repr__(self) -> str:
        return f"KubeSource(name={self._name!r}, context={self.conn.requested_context!r})"

    # --- the KubeLikeSource protocol ---------------------------------------------------------

    def clusters(self) -> list[str]:
        return [self.name]

    def chaos_kinds(self, cluster: str) -> list[str]:
        return sorted(kind for kind in self._discover(API_GROUP) if is_experiment_kind(kind))

    def has_kind(self, cluster: str, kind: str) -> bool:
        if kind in CORE_RESOURCES:
            return True
        group = groups.group_of(kind)
        return group is not None and kind in self._discover(group)

    def list(self, cluster: str, kind: str, flt: ListFilter, log: CallLog) -> list[dict]:
        """Every object of ``kind`` that may match ``flt``, all pages, as the API's JSON dicts."""
        resource = self._resource(kind)
        plan = plan_list(resource, flt)
        if plan.empty:
            return []
        first = flt.limit if not plan.refilter else None  # what the server filters, it may also count
        if first == 0:
            return []
        if len(plan.namespaces) == 1:
            items = self.list_versioned(resource, plan.namespaces[0], plan.params, log, first=first)[0]
        else:
            parts = self._pool.map(
                lambda ns: self.list_versioned(resource, ns, plan.params, log, first=first)[0], plan.namespaces
            )
            items = [obj for part in parts for obj in part]
        if plan.refilter:
            items = [obj for obj in items if flt.matches(obj)]
        return items

    def post_event(
        self,
        involved: dict[str, str],
        *,
        reason: str,
        message: str,
        type: str = "Warning",
        component: str = "chaosql",
        log: CallLog | None = None,
    ) -> dict:
        """Create a core/v1 Event about an object (``involved``: apiVersion, kind, namespace, name,
        uid), so ``kubectl describe`` and the events table show it. Returns the Event as stored.

        Written the way controllers record events (``firstTimestamp``/``lastTimestamp``, ``count``,
        ``source.component``), under the write policy: sent again only when it cannot have arrived.
        """
        import os
        import socket
        from datetime import UTC, datetime

        namespace = involved.get("namespace") or "default"
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        body = {
            "apiVersion": "v1",
            "kind": "Event",
            # named as client-go's recorder names them: the object, a dot, a unique suffix
            "metadata": {"name": f"{involved.get('name')}.{time.time_ns():x}", "namespace": namespace},
            "involvedObject": {k: v for k, v in involved.items() if v},
            "reason": reason,
            "message": message,
            "type": type,
            "count": 1,
            "firstTimestamp": now,
            "lastTimestamp": now,
            "source": {"component": component, "host": socket.gethostname()},
            "reportingComponent": component,
            "reportingInstance": f"{socket.gethostname()}-{os.getpid()}",
        }
        path = f"/api/v1/namespaces/{quote(namespace)}/events"
        self.conn.label = self.label
        response = self.conn.send("POST", path, body=body, log=log, call=Call(self.name, self.name, f"POST {path}"))
        if response.status not in (200, 201):
            what = f'create an Event in "{namespace}"'
            if response.status == 404:  # the namespace is gone
                raise status_error(self.label, response, what, source=self.name)
            raise self._error(response, what, CORE_RESOURCES["Event"], "create", namespace)
        return response.body

    def close(self) -> None:
        if self.cache is not None:
            self.cache.close()
        self._pool.shutdown(wait=False, cancel_futures=True)
        self.conn.close()
        if self._watch_conn is not None:
            self._watch_conn.close()

    # --- discovery ------------------------------------------------------------------------------

    def _resource(self, kind: str) -> Resource:
        if kind in CORE_RESOURCES:
            return CORE_RESOURCES[kind]
        group = groups.group_of(kind) or API_GROUP
        found = self._discover(group).get(kind)
        if found is None:
            raise SourceError(
                f"{self.label}: {kind} ({group.api_version}) is not served: its CRD is not installed",
                source=self.name,
                hint=f"install {group.title}'s CRDs in this cluster, or query another one",
            )
        return found

    def _discover(
        self, group: groups.ApiGroup = API_GROUP, *, warn: bool = True, remember_empty: bool = True
    ) -> dict[str, Resource]:
        """kind -> Resource for the kinds of ``group`` the cluster serves (cached a while); empty
        when it serves none (that engine is not installed there). Not ``remember_empty``: an empty
        answer is not cached (``warm_up``: the statement asks again, and warns)."""
        with self._lock:
            known = self._kinds.get(group.group)
            if known is not None and time.monotonic() - known[0] < DISCOVERY_TTL:
                return known[1]
        self.conn.label = self.label
        response = self.conn.get(group.prefix)
        if response.status == 404:
            kinds: dict[str, Resource] = {}
        elif response.status != 200:
            raise self._error(response, f"discover the {group.api_version} API", None, "get")
        else:
            kinds = {
                r["kind"]: Resource(r["kind"], group.prefix, r["name"], bool(r.get("namespaced")))
                for r in response.body.get("resources") or []
                if "/" not in r.get("name", "") and "list" in (r.get("verbs") or ["list"]) and group.owns(r["kind"])
            }
        if not kinds and not remember_empty:
            return kinds
        with self._lock:
            self._kinds[group.group] = (time.monotonic(), kinds)
        if not kinds and warn:
            self._warn_if_no_engine()
        return kinds

    def crd(self, kind: str, log: CallLog | None = None) -> Crd | None:
        """The cluster's own CustomResourceDefinition of a chaos engine's ``kind`` (one GET, cached
        for ``DISCOVERY_TTL`` seconds; the same object while its resourceVersion is unchanged), or
        None when it is not installed or the user may not read CRDs (the shipped schema serves)."""
        from chaosql.crds import Crd

        with self._lock:
            cached = self._crds.get(kind)
        if cached is not None and time.monotonic() - cached[0] < DISCOVERY_TTL:
            return cached[2]
        try:
            resource = self._discover(groups.group_of(kind) or API_GROUP).get(kind)
            if resource is None:
                return None
            path = f"{CRD_PREFIX}/{resource.rbac_name}"
            if log is not None:
                with log.timed(self.name, self.name, f"GET {path}") as call:
                    response = self.conn.get(path, log=log)
                    call.items = 1 if response.status == 200 else 0
            else:
                response = self.conn.get(path)
        except SourceError:
            return None  # unreachable: the list calls that follow say so
        found: Crd | None = None
        version = ""
        if response.status == 200:
            version = str((response.body.get("metadata") or {}).get("resourceVersion") or "")
            if cached is not None and cached[1] == version and version:
                found = cached[2]
            else:
                found = Crd.from_object(response.body, origin=self.name)
        with self._lock:
            self._crds[kind] = (time.monotonic(), version, found)
        return found

    def _warn_if_no_engine(self) -> None:
        """One warning when the cluster serves no chaos engine's group at all: its chaos tables
        are empty, which is worth saying (a wrong context?). A cluster with one engine only is
        normal and says nothing."""
        everything = groups.api_groups()
        if "no-engine" in self._warned or any(self._discover(g, warn=False) for g in everything):
            return
        apis = " or ".join(g.api_version for g in everything)
        self._warn_once(
            "no-engine", f"{self.label}: no chaos engine is installed (no {apis} API); its chaos tables are empty"
        )

    def forget_discovery(self) -> None:
        with self._lock:
            self._kinds.clear()
        if self.cache is not None:
            self.cache.touch()  # reads kept by the cache were planned with what discovery said

    def discovery_until(self) -> float:
        """``time.monotonic()`` at which this source next asks the cluster which kinds it serves
        (the soonest of the groups it knows; never, while it knows none): what was planned with
        discovery holds until then."""
        with self._lock:
            return min((at + DISCOVERY_TTL for at, _ in self._kinds.values()), default=float("inf"))

    def _warn_once(self, key: str, message: str) -> None:
        with self._lock:
            if key not in self._warned:
                self._warned.add(key)
                self.warnings.append(message)

    # --- listing ------------------------------------------------------------------------------

    def _list_all(
        self, resource: Resource, namespace: str | None, params: dict[str, str], log: CallLog
    ) -> builtins.list[dict]:  # builtins: in this class, "list" is the method above
        return self.list_versioned(resource, namespace, params, log)[0]

    def list_versioned(
        self,
        resource: Resource,
        namespace: str | None,
        params: dict[str, str],
        log: CallLog,
        *,
        first: int | None = None,
        on_page: Callable[[builtins.list[dict], bool], None] | None = None,
        conn: KubeConnection | None = None,
    ) -> tuple[builtins.list[dict], int]:
        """Every object of one list (all pages, one consistent snapshot) and the list's
        resourceVersion, from which a watch resumes; with ``first``, only that many objects (one
        page of that size). ``on_page(objects, first_page)`` takes each page instead (the list
        returned is then empty); a list started over after an expired continue token calls it
        with ``first_page`` true again. ``conn``: the connection to list over (default: the
        statements' own)."""
        conn = conn or self.conn
        path = resource.path(namespace)
        items: builtins.list[dict] = []
        token = ""
        restarted = False
        fresh = True  # the next page is the first of a list
        count = 0
        while True:
            log.check()  # a cancelled statement fetches no further page
            query = {"limit": str(min(self.page_size, first) if first else self.page_size), **params}
            if token:
                query["continue"] = token
            shown = "&".join(f"{k}={v}" for k, v in query.items() if k != "continue")
            call = Call(self.name, self.name, f"GET {path}?{shown}" + (" (continued)" if token else ""))
            conn.label = self.label
            response = conn.get(path, query, log=log, call=call)
            page = response.body.get("items") if response.status == 200 else None
            if response.status == 410 and token and not restarted:
                # the continue token expired (etcd compacted): start over once, from a fresh list
                items, token, restarted, fresh, count = [], "", True, True, 0
                continue
            if page is None:
                raise self._error(response, None, resource, "list", namespace)
            for obj in page:  # list items of built-in kinds carry no kind/apiVersion; the shapers need them
                if "kind" not in obj:
                    obj["kind"] = resource.kind
                    obj["apiVersion"] = resource.api_version
            count += len(page)
            if on_page is not None:
                on_page(page, fresh)
            else:
                items.extend(page)
            fresh = False
            token = (response.body.get("metadata") or {}).get("continue") or ""
            if not token or (first is not None and count >= first):
                break
        try:
            version = int((response.body.get("metadata") or {}).get("resourceVersion") or 0)
        except ValueError:
            version = 0
        return items, version

    def _error(
        self, response: Response, what: str | None, resource: Resource | None, verb: str, namespace: str | None = None
    ) -> SourceError:
        """One clear message for a failed call: who refused what, and what to do next."""
        target = what
        if not target:
            assert resource is not None, "a failed call names what it asked for, or its resource"
            target = f"{verb} {resource.rbac_name}" + (f' in "{namespace}"' if namespace else "")
        where = f"{self.label}: "
        if response.status == 401:
            return Forbidden(
                f"{where}credentials rejected (401 Unauthorized) by {self.conn.server} trying to {target}",
                source=self.name,
                hint=f'renew the credentials of kubeconfig context "{self.conn.context}" (log in again)',
            )
        if response.status == 403:
            if resource is None:
                hint = "ask for get on the API groups of the chaos engines (discovery)"
            elif namespace:
                hint = f"ask for {verb} on {resource.rbac_name} or pick another namespace"
            elif resource.namespaced:
                hint = (
                    f"ask for {verb} on {resource.rbac_name} in all namespaces (a ClusterRole), "
                    "or filter on namespace = '...' to read only namespaces you may"
                )
            else:
                hint = f"ask for {verb} on {resource.rbac_name} (a ClusterRole)"
            scope = "" if namespace or resource is None or not resource.namespaced else " in all namespaces"
            return Forbidden(f"{where}forbidden to {target}{scope}", source=self.name, hint=hint)
        if response.status == 404 and resource is not None:
            self.forget_discovery()
            group = groups.group_of(resource.kind) or API_GROUP
            return SourceError(
                f"{where}{resource.rbac_name} is not served (404 Not Found): its CRD is not installed",
                source=self.name,
                hint=f"install {group.title}'s CRDs in this cluster, or query another one",
            )
        return status_error(self.label, response, target, source=self.name)


def open_kube(name: str, spec: str, config: dict) -> KubeSource:
    """``kube``, ``kube:CONTEXT`` or a ``[sources.NAME] type = "kube"`` section -> a KubeSource."""
    section = config.get("source") or {}
    context = spec or section.get("context") or None
    kubeconfig = section.get("kubeconfig")
    if kubeconfig:
        from pathlib import Path

        kubeconfig = str(Path(kubeconfig).expanduser())
    return KubeSource(
        context=context,
        kubeconfig=kubeconfig,
        name=name or context or None,
        page_size=int(section.get("page_size") or PAGE_SIZE),
        timeout=float(section.get("timeout") or 30.0),
        connect_timeout=float(section.get("connect_timeout") or CONNECT_TIMEOUT),
        retries=int(section.get("retries", RETRIES)),
    )
