"""Informers: one Kubernetes resource of one cluster kept current in memory, the way client-go does.

An ``Informer`` lists the resource (all pages, one consistent snapshot), hands the objects to its
``Sink``, then watches from the list's resourceVersion with bookmarks (``allowWatchBookmarks``), so
every change after the list arrives as one event, in order, within milliseconds:

* the server ends a watch after ``timeoutSeconds``: it is opened again from the last
  resourceVersion seen (an event's or a bookmark's), nothing is missed;
* a dropped connection or an unreachable server: the informer is ``broken``; it tries again
  after a growing pause (``BACKOFF``) and resumes from the last resourceVersion;
* ``410 Gone`` (the resourceVersion is older than what etcd or the apiserver's watch cache still
  holds): it lists again, and the sink replaces everything it had (``relisting`` meanwhile);
* 401: credentials are loaded again; 403 or 404 (RBAC revoked, CRD removed): it stops, ``failed``.

The informer knows nothing about tables; the sink (``chaosql.sources.cache``) does the rest. All
sink calls come from the informer's own thread. States and their meaning for a reader:

============  ===============================================================
``starting``  the first list is under way: nothing to serve yet
``synced``    the watch is open: the sink is current within the watch's latency
``broken``    the connection dropped; the sink holds what was true ``broken_since``
``relisting`` after a 410; the sink holds what was true before it
``failed``    the first list failed, or the server refused (``error`` says why)
``stopped``   ``stop()`` was called
============  ===============================================================
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from chaosql.errors import Forbidden, QueryCancelled, SourceError
from chaosql.sources.base import CallLog

if TYPE_CHECKING:
    from chaosql.sources.kube import KubeSource, Resource

#: Pauses before reconnecting a broken watch (seconds, the last one repeats), with +-20% jitter.
BACKOFF = (0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 5.0)
#: The server closes a watch after a random time in this range (client-go: 5-10 minutes).
WATCH_SECONDS = (300, 600)
#: Seconds without a byte from the server after which the connection counts as dead. The watch
#: cache sends a bookmark about every minute, so a live watch is never silent this long.
READ_TIMEOUT = 90.0

STATES = ("starting", "synced", "broken", "relisting", "failed", "stopped")


class Sink(Protocol):
    """Where an informer delivers what it learns (called from the informer's thread only)."""

    def listing(self) -> None:
        """A list begins (again, after a 410): pages follow, then ``listed``."""

    def page(self, objects: list[dict]) -> None:
        """One page of the list (the sink keeps what it needs and lets the page go)."""

    def listed(self, version: int) -> None:
        """The list is complete: what its pages held is everything there is at ``version``."""

    def apply(self, event: str, obj: dict, version: int) -> None:
        """One change: ``event`` is ADDED, MODIFIED or DELETED."""

    def progress(self, version: int) -> None:
        """A bookmark: nothing else changed up to ``version``."""


class Gone(Exception):
    """The server no longer has the history to resume from (410): list again."""


class Informer:
    """List-then-watch of one resource, in ``namespace`` or cluster-wide (``None``).

    ``params`` are selectors every list and watch carries (the events' ``fieldSelector``).
    ``state`` changes are announced on ``changed`` (a Condition) so readers can wait for them.
    """

    def __init__(
        self,
        source: KubeSource,
        resource: Resource,
        namespace: str | None,
        sink: Sink,
        *,
        params: dict[str, str] | None = None,
        on_state: Callable[[Informer], None] | None = None,
    ) -> None:
        self.source = source
        self.resource = resource
        self.namespace = namespace
        self.sink = sink
        self.params = dict(params or {})
        self.on_state = on_state
        self.state = "starting"
        self.error: SourceError | None = None
        self.version = 0  # last resourceVersion the sink has seen
        self.synced_at = 0.0  # time.monotonic() of the last complete list
        self.heard_at = 0.0  # time.monotonic() of the last byte of news (list, event, bookmark)
        self.broken_since = 0.0
        self.relists = 0  # lists after the first (410s); tests and -v read it
        self.reconnects = 0
        self.changed = threading.Condition()
        self._log = CallLog()  # cancelled by stop(): pauses and list pages end at once
        self._stream: Any = None
        self._thread = threading.Thread(target=self._run, name=f"chaosql-watch-{resource.plural}", daemon=True)

    def __repr__(self) -> str:
        where = f" in {self.namespace}" if self.namespace else ""
        return f"<Informer {self.source.name}/{self.resource.plural}{where} {self.state} rv={self.version}>"

    @property
    def what(self) -> str:
        return self.resource.rbac_name + (f' in "{self.namespace}"' if self.namespace else "")

    def start(self) -> Informer:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop watching (from any thread); the informer's thread ends shortly after."""
        self._set("stopped")
        self._log.cancel()
        stream = self._stream
        if stream is not None:
            try:
                stream.close()
            except Exception:
                pass

    def join(self, timeout: float) -> None:
        """Wait (at most ``timeout`` seconds) for the thread to end after ``stop``."""
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    @property
    def stopped(self) -> bool:
        return self.state == "stopped"

    def wait(self, until: Callable[[Informer], bool], timeout: float, log: CallLog | None = None) -> bool:
        """Wait until ``until(self)`` holds, at most ``timeout`` seconds; a cancelled statement
        (``log``) stops the wait with ``QueryCancelled``."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while not until(self):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                if log is not None:
                    log.check()
                self.changed.wait(min(left, 0.05))
        return True

    # --- the loop ------------------------------------------------------------------------------

    def _run(self) -> None:
        failures = 0
        need_list = True
        while not self.stopped:
            try:
                if need_list:
                    self._list()
                    need_list = False
                    failures = 0
                self._watch()  # returns when the server ends the watch: open it again
                failures = 0
            except Gone:
                self.relists += 1
                need_list = True
                self._set("relisting")
            except QueryCancelled:
                return  # stop() cancelled a list page or a pause
            except Forbidden as err:  # RBAC refused (or revoked): nothing to serve
                self._fail(err)
                return
            except SourceError as err:
                if self.stopped:
                    return
                if self.synced_at == 0.0:
                    self._fail(err)  # the first list failed: say so; a later statement tries anew
                    return
                self._broken(err)
                failures += 1
                if not self._pause(failures):
                    return
            except Exception as err:  # a bug here must not end the thread silently
                self._broken(SourceError(f"{self.source.label}: watch of {self.what}: {type(err).__name__}: {err}"))
                failures += 1
                if not self._pause(failures):
                    return

    def _list(self) -> None:
        # page by page: the parsed objects of one page are let go before the next is read, so a
        # large list never holds all its objects at once
        def page(objects: list[dict], first: bool) -> None:
            if first:
                self.sink.listing()
            self.sink.page(objects)

        _, version = self.source.list_versioned(
            self.resource, self.namespace, self.params, self._log, on_page=page, conn=self.source.watch_conn
        )
        if self.stopped:
            return
        self.sink.listed(version)
        now = time.monotonic()
        with self.changed:
            self.version, self.synced_at, self.heard_at = version, now, now
            self.error = None
        self._set("synced")

    def _watch(self) -> None:
        query = {
            **self.params,
            "watch": "true",
            "allowWatchBookmarks": "true",
            "resourceVersion": str(self.version),
            "timeoutSeconds": str(random.randint(*WATCH_SECONDS)),
        }
        path = self.resource.path(self.namespace)
        with self.source.watch_conn.stream(path, query, read_timeout=READ_TIMEOUT, log=self._log) as stream:
            if stream.error is not None:
                if stream.error.status == 410:
                    raise Gone()
                raise self.source._error(stream.error, None, self.resource, "watch", self.namespace)
            self._stream = stream
            try:
                if self.state in ("broken", "relisting"):
                    self._set("synced")  # connected again, resumed where we were
                for event in stream.json_lines():
                    if self.stopped:
                        return
                    self._event(event)
            finally:
                self._stream = None

    def _event(self, event: dict) -> None:
        kind = event.get("type")
        obj = event.get("object") or {}
        self.heard_at = time.monotonic()
        if kind == "ERROR":  # a Status in the stream: 410 means the history is gone
            if obj.get("code") == 410:
                raise Gone()
            raise SourceError(f"{self.source.label}: watch of {self.what}: {obj.get('message') or obj}")
        version = version_of(obj)
        if kind == "BOOKMARK":
            self.sink.progress(version)
        elif kind in ("ADDED", "MODIFIED", "DELETED"):
            if "kind" not in obj:
                obj["kind"], obj["apiVersion"] = self.resource.kind, self.resource.api_version
            self.sink.apply(kind, obj, version)
        else:
            return
        if version > self.version:
            with self.changed:
                self.version = version
                self.changed.notify_all()

    # --- state ----------------------------------------------------------------------------------

    def _set(self, state: str) -> None:
        with self.changed:
            if self.state == "stopped" or self.state == state:
                return
            self.state = state
            if state == "broken":
                self.broken_since = time.monotonic()
            self.changed.notify_all()
        if self.on_state is not None:
            self.on_state(self)

    def _broken(self, err: SourceError) -> None:
        self.error = err
        if self.state == "synced":
            self._set("broken")

    def _fail(self, err: SourceError) -> None:
        self.error = err
        self._set("failed")

    def _pause(self, failures: int) -> bool:
        """Wait before trying again; False when stopped meanwhile."""
        self.reconnects += 1
        delay = BACKOFF[min(failures, len(BACKOFF)) - 1]
        try:
            self._log.pause(delay * random.uniform(0.8, 1.2))
        except QueryCancelled:
            return False
        return not self.stopped


def version_of(obj: dict) -> int:
    """An object's resourceVersion as a number (0 when it has none). Kubernetes calls them opaque,
    but every apiserver backed by etcd hands out etcd revisions, and the watch cache itself
    compares them as numbers."""
    try:
        return int((obj.get("metadata") or {}).get("resourceVersion") or 0)
    except ValueError:
        return 0


__all__ = ["BACKOFF", "STATES", "Informer", "Sink", "version_of"]
