"""The live Kubernetes API as a write target: create, merge-patch and delete chaos objects.

Every call can be a server-side dry run (``dryRun=All``: admission, schema validation and RBAC
run, nothing is stored). Patches carry ``metadata.resourceVersion`` and deletes carry
``preconditions`` (uid, resourceVersion), so a concurrent change answers 409 Conflict instead of
being overwritten. The connection (credentials, pooled client) is the KubeSource's own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chaosql.sources.base import Call
from chaosql.sources.chaosmesh import CLEAN_FINALIZER
from chaosql.writers.plan import ObjectRef, TargetError

if TYPE_CHECKING:
    from chaosql.sources.base import CallLog
    from chaosql.sources.kube import KubeSource, Resource

MERGE_PATCH = "application/merge-patch+json"


class KubeTarget:
    """Writes to the cluster of one ``KubeSource``. Each call takes the statement's ``log``: the
    call is recorded there, and a cancel ends a retry pause (chaosql.sources.http's write policy: a
    write is tried again only when it cannot have reached the server). A rollback passes a log that
    a cancel does not stop (``WriteContext.undoing``)."""

    checks = "a server-side dry run (dryRun=All: admission, CRD schema, RBAC)"

    def __init__(self, source: KubeSource) -> None:
        self.source = source
        self.label = f'cluster "{source.name}" (kube)'

    def _resource(self, kind: str) -> Resource:
        return self.source._resource(kind)

    def path(self, ref: ObjectRef, *, collection: bool = False) -> str:
        base = self._resource(ref.kind).path(ref.namespace or None)
        return base if collection else f"{base}/{ref.name}"

    def _send(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        dry_run: bool,
        log: CallLog | None,
        content_type: str = "application/json",
        ok: tuple[int, ...] = (200, 201, 202),
    ) -> dict:
        params = {"dryRun": "All"} if dry_run else None
        call = Call(self.source.name, self.source.name, f"{method} {path}" + ("?dryRun=All" if dry_run else ""))
        response = self.source.conn.send(
            method, path, params=params, body=body, content_type=content_type, log=log, call=call
        )
        if response.status not in ok:
            raise TargetError(
                response.status, str(response.body.get("reason") or ""), _message(response.status, response.body)
            )
        call.items = 1  # one object written (or checked)
        return response.body

    def create(self, ref: ObjectRef, obj: dict, *, dry_run: bool, log: CallLog | None = None) -> dict:
        answer = self._send("POST", self.path(ref, collection=True), body=obj, dry_run=dry_run, log=log)
        if not dry_run:
            self.source.wrote(ref.kind, ref.namespace, answer)
        return answer

    def patch(self, ref: ObjectRef, patch: dict, *, dry_run: bool, log: CallLog | None = None) -> dict:
        answer = self._send("PATCH", self.path(ref), body=patch, dry_run=dry_run, log=log, content_type=MERGE_PATCH)
        if not dry_run:
            self.source.wrote(ref.kind, ref.namespace, answer)
        return answer

    def delete(
        self, ref: ObjectRef, *, preconditions: dict | None, dry_run: bool, log: CallLog | None = None
    ) -> dict | None:
        body: dict[str, Any] = {"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": "Background"}
        if preconditions:
            body["preconditions"] = {k: v for k, v in preconditions.items() if v}
        if dry_run:
            body["dryRun"] = ["All"]
        found = self._send("DELETE", self.path(ref), body=body, dry_run=dry_run, log=log)
        if not dry_run:  # the answer is the object (with the delete's resourceVersion) or a Status
            uid = (preconditions or {}).get("uid") or (found.get("details") or {}).get("uid")
            self.source.wrote(ref.kind, ref.namespace, found if found.get("kind") == ref.kind else None, uid=uid)
        # The answer is the object while finalizers hold it (deletionTimestamp set), else a Status.
        return found if found.get("kind") == ref.kind else None

    def get(self, ref: ObjectRef, *, log: CallLog | None = None) -> dict | None:
        path = self.path(ref)
        response = self.source.conn.get(path, log=log, call=Call(self.source.name, self.source.name, f"GET {path}"))
        if response.status == 404:
            return None
        if response.status != 200:
            raise TargetError(
                response.status, str(response.body.get("reason") or ""), _message(response.status, response.body)
            )
        return response.body

    def force_finalize(self, ref: ObjectRef, *, log: CallLog | None = None) -> None:
        """Forced deletion: the finalizers cleared, and for Chaos Mesh's kinds its clean-finalizer
        annotation (the controller would clear them on seeing it; no recovery happens)."""
        from chaosql.sources import groups
        from chaosql.sources.chaosmesh import API_GROUP

        meta: dict[str, Any] = {"finalizers": None}
        if groups.group_of(ref.kind) is API_GROUP:
            meta["annotations"] = {CLEAN_FINALIZER: "forced"}
        patch = {"metadata": meta}
        try:
            answer = self._send("PATCH", self.path(ref), body=patch, dry_run=False, log=log, content_type=MERGE_PATCH)
            self.source.wrote(ref.kind, ref.namespace, answer)
        except TargetError as err:
            if err.status != 404:  # already gone: the finalizers were removed meanwhile
                raise


def _message(status: int, body: dict) -> str:
    """The API's own words: the Status message (schema violations are listed in it)."""
    message = str(body.get("message") or body.get("reason") or f"HTTP {status}")
    if status == 403:
        return message if "forbidden" in message else f"forbidden (403): {message}"
    if status == 409:
        return f"conflict (409): {message}"
    if status == 404:
        return f"not found (404): {message}"
    return message
