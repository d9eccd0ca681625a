"""Refusing a row before any call: an object's problems (its CRD's schema, ``validate``, and
Chaos Mesh's admission rules, ``webhook``) told in the words of the statement: the table, the row,
the column the user wrote (a typed column, a convenience column, or ``spec`` and the path in it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chaosql.errors import WriteRefused
from chaosql.writers.validate import dotted

if TYPE_CHECKING:
    from chaosql.crds import Crd
    from chaosql.tables._table import Table


def crd_of(table: str | Table, kind: str, cluster: str = "", live: Crd | None = None) -> Crd | None:
    """The CRD an object of ``kind`` written through ``table`` is checked against: the cluster's
    own (``live``, or the one a typed table read), else the one chaosql ships."""
    if live is not None:
        return live
    model = None if isinstance(table, str) else table.model
    if model is not None and model.kind == kind:
        return model.crd_for(cluster)
    from chaosql.sources import groups

    group = groups.group_of(kind)
    return group.shipped().get(kind) if group is not None and group.shipped is not None else None


def check_offline(
    table: str | Table,
    obj: dict,
    where: str,
    *,
    cluster: str = "",
    before: dict | None = None,
    live: Crd | None = None,
) -> None:
    """Refuse ``obj`` if its CRD's schema or Chaos Mesh's webhook would; with ``before`` (an
    UPDATE), only for problems the change brings (an object already stored is not re-judged)."""
    from chaosql.writers.validate import problems

    crd = crd_of(table, str(obj.get("kind")), cluster, live)
    found = problems(obj, crd)
    if found and before is not None:
        old = {(p.path, p.message) for p in problems(before, crd)}
        found = [p for p in found if (p.path, p.message) not in old]
    if not found:
        return
    first = found[0]
    column, detail = column_of(table, first.path, str(obj.get("kind") or ""))
    more = f" (and {len(found) - 1} more problem{'s' if len(found) > 2 else ''})" if len(found) > 1 else ""
    kind, meta = obj.get("kind"), obj.get("metadata") or {}
    version = f" ({crd.origin}'s CRD)" if crd is not None and crd.origin else ""
    raise WriteRefused(
        f"{(table if isinstance(table, str) else table.name)}: {where} ({kind} {meta.get('namespace')}/{meta.get('name')}): "
        f"column {column}{' ' if first.message.startswith('is ') else ': '}{first.message}{detail}{more}",
        hint=f"{kind}{version} {first.where()}; checked before any call, nothing was written",
    )


def column_of(table: str | Table, path: tuple, kind: str = "") -> tuple[str, str]:
    """(column, detail) that holds the field at ``path`` (from the object root) for ``table``: a
    typed column, a convenience column, or ``spec`` with the field's path as detail."""
    name = table if isinstance(table, str) else table.name
    if path and path[0] == "metadata":
        return (path[1] if len(path) > 1 and path[1] in ("name", "namespace") else "metadata"), ""
    inner = tuple(path[1:]) if path and path[0] == "spec" else tuple(path)
    from chaosql.writers.objects import kind_writes

    engine = kind_writes(name, kind) if kind else None
    told = engine.column_of(tuple(path)) if engine is not None else None
    if told is not None:  # an engine plugin's object: its own columns
        return told, (f" (at {dotted(inner)})" if inner else "")
    model = None if isinstance(table, str) else table.model
    if model is not None:
        best = max(
            (leaf for leaf in model.leaves if inner[: len(leaf.path)] == leaf.path),
            key=lambda leaf: len(leaf.path),
            default=None,
        )
        if best is not None:
            rest = inner[len(best.path) :]
            return best.column, (f" (at {dotted(rest)})" if rest else "")
        under = [leaf.column for leaf in model.leaves if leaf.path[: len(inner)] == inner]
        if under and inner:
            shown = ", ".join(under[:4]) + (", ..." if len(under) > 4 else "")
            return shown, ""
    from chaosql.writers.objects import WRITABLE

    writes = WRITABLE.get(name)
    if writes is not None and inner:
        for col, field_name in writes.spec_columns.items():
            if inner[0] == field_name:
                rest = inner[1:]
                return col, (f" (at {dotted(rest)})" if rest else "")
    return "spec", (f" (at {dotted(inner)})" if inner else "")
