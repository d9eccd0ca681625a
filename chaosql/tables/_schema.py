"""Typed columns generated from a CRD's OpenAPI v3 schema: one column per leaf of an object.

Works on any structural schema (Chaos Mesh's, LitmusChaos's, ...). An object's properties are
walked depth first; each leaf becomes a ``Leaf`` whose column name is its path in snake case
joined by ``_`` (``delay.latency`` -> ``delay_latency``, ``stressors.cpu.workers`` ->
``stressors_cpu_workers``, ``selector.labelSelectors`` -> ``selector_label_selectors``). Types:

=====================================================  ======================================
schema                                                 column
=====================================================  ======================================
string (a ``duration`` format: Go duration)            INTERVAL
string (a ``float-string``/``percent-string`` format)  DOUBLE (the string parsed)
string, ``x-kubernetes-int-or-string``                 VARCHAR
string with ``format: date-time``                      TIMESTAMPTZ
integer / number / boolean                             BIGINT / DOUBLE / BOOLEAN
array of string / integer / number / boolean           VARCHAR[] / BIGINT[] / DOUBLE[] / BOOLEAN[]
object of strings / of string arrays (a map)           MAP(VARCHAR, VARCHAR) / MAP(VARCHAR, VARCHAR[])
object with properties                                 its leaves, one column each
anything else (arrays of objects, free-form objects)   JSON
=====================================================  ======================================

Formats come from the caller (facts the schema does not carry, e.g. ``chaosql.crds.chaos_mesh``)
or from a pattern that only Go durations match. ``values`` reads a leaf's value out of an object
as its column holds it; a value of the wrong shape (a snapshot file may hold anything) is NULL.
Writing goes the other way in ``chaosql.writers.typed``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from chaosql.sources.chaosmesh import go_duration_ns
from chaosql.tables._common import to_json

#: Formats (see ``chaosql.crds.chaos_mesh``) that change a string leaf's column type.
DURATION, FLOAT_STRING, PERCENT_STRING = "duration", "float-string", "percent-string"

#: A schema pattern only Go durations of one unit match (Chaos Mesh's delay.latency has it).
_DURATION_PATTERN = re.compile(r"\(ns\|us\|ms\|s\|m\|h\)")

_SCALARS = {"string": ("VARCHAR", "text"), "integer": ("BIGINT", "int"), "number": ("DOUBLE", "float")}
_SCALARS["boolean"] = ("BOOLEAN", "bool")


@dataclass(frozen=True)
class Leaf:
    """One typed column: its name, the JSON path it reads (from the object the leaves were taken
    from, e.g. the spec), its DuckDB type, doc, and how values convert (``codec``)."""

    column: str
    path: tuple[str, ...]
    type: str
    doc: str
    codec: (
        str  # text, int, float, bool, duration, float-string, int-or-string, timestamp, json, list:<codec>, map:<codec>
    )
    schema: Mapping[str, Any]

    @property
    def enum(self) -> tuple[Any, ...] | None:
        found = self.schema.get("enum")
        return tuple(found) if found else None

    @property
    def dotted(self) -> str:
        return ".".join(self.path)


def snake(name: str) -> str:
    """A JSON property name as a column name part.

    >>> [snake(n) for n in ("labelSelectors", "oomScoreAdj", "network-delay", "IPAddress", "externalTargets")]
    ['label_selectors', 'oom_score_adj', 'network_delay', 'ip_address', 'external_targets']
    """
    name = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name)
    return re.sub(r"[^A-Za-z0-9]+", "_", name).strip("_").lower()


def leaves(
    schema: Mapping[str, Any],
    *,
    formats: Mapping[str, str] | None = None,
    skip: Collection[str] = (),
    reserved: Collection[str] = (),
    where: str = "spec",
) -> list[Leaf]:
    """The leaves of object ``schema``, in the schema's property order.

    ``formats`` maps dotted paths to formats; ``skip`` names top-level properties to leave out;
    a column whose name is in ``reserved`` (the table's own columns) is prefixed with ``spec_``,
    and a later leaf whose name an earlier one took is joined with ``__`` instead. ``where``
    prefixes the path in docs (``spec.delay.latency``).
    """
    out: list[Leaf] = []
    taken = set(reserved)
    formats = formats or {}

    def visit(node: Mapping[str, Any], path: tuple[str, ...]) -> None:
        props = node.get("properties") if node.get("type", "object") == "object" else None
        if props or not path:
            for key, child in (props or {}).items():
                if not path and key in skip:
                    continue
                visit(child, (*path, key))
            return
        column_type, codec = column_type_of(node, formats.get(".".join(path)))
        name = "_".join(snake(p) for p in path)
        if name in reserved:
            name = "spec_" + name
        if name in taken:
            name = "__".join(snake(p) for p in path)
        taken.add(name)
        out.append(Leaf(name, path, column_type, _doc(node, path, where, codec), codec, node))

    visit(schema, ())
    return out


def column_type_of(node: Mapping[str, Any], fmt: str | None = None) -> tuple[str, str]:
    """(DuckDB type, codec) of a leaf schema."""
    if node.get("x-kubernetes-int-or-string"):
        return "VARCHAR", "int-or-string"
    kind = node.get("type")
    if kind == "string":
        if fmt == DURATION or _DURATION_PATTERN.search(node.get("pattern") or ""):
            return "INTERVAL", "duration"
        if fmt in (FLOAT_STRING, PERCENT_STRING):
            return "DOUBLE", "float-string"
        if node.get("format") == "date-time":
            return "TIMESTAMPTZ", "timestamp"
        return "VARCHAR", "text"
    if kind in _SCALARS:
        return _SCALARS[kind]
    if kind == "array":
        items = node.get("items") or {}
        if items.get("type") in _SCALARS and not items.get("x-kubernetes-int-or-string"):
            item_type, item_codec = _SCALARS[items["type"]]
            return f"{item_type}[]", f"list:{item_codec}"
        return "JSON", "json"
    if kind == "object" and not node.get("properties"):
        values = node.get("additionalProperties")
        if isinstance(values, dict):
            if values.get("type") == "string" and not values.get("x-kubernetes-int-or-string"):
                return "MAP(VARCHAR, VARCHAR)", "map:text"
            items = values.get("items") or {}
            if values.get("type") == "array" and items.get("type") == "string":
                return "MAP(VARCHAR, VARCHAR[])", "map:list:text"
    return "JSON", "json"


_NOTES = {
    "duration": "A Go duration (100ms, 1.5s, 2m) read as INTERVAL",
    "float-string": "A number the object writes as a string",
    "int-or-string": "An integer or a string",
}


def _doc(node: Mapping[str, Any], path: tuple[str, ...], where: str, codec: str) -> str:
    text = " ".join(str(node.get("description") or "").split())
    if text and text[-1] not in ".!?":
        text += "."
    bits = [f"{where}.{'.'.join(path)}" + (f": {text}" if text else ".")]
    if codec in _NOTES:
        bits.append(_NOTES[codec] + ".")
    if node.get("enum"):
        bits.append("One of: " + ", ".join(str(v) for v in node["enum"]) + ".")
    if codec == "json" and node.get("type") == "array":
        fields = ((node.get("items") or {}).get("properties") or {}).keys()
        if fields:
            bits.append("JSON list of {" + ", ".join(fields) + "}.")
    return " ".join(bits)


# --- object -> row values -----------------------------------------------------------------------


def _text(v: Any) -> str | None:
    if isinstance(v, str):
        return v
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return str(v)
    return None


def _int(v: Any) -> int | None:
    if isinstance(v, bool):
        return None
    if isinstance(v, int):
        return v
    if isinstance(v, float) and v.is_integer():
        return int(v)
    return None


def _float(v: Any) -> float | None:
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None


def _bool(v: Any) -> bool | None:
    return v if isinstance(v, bool) else None


def _duration(v: Any) -> tuple[int, int, int] | None:
    ns = go_duration_ns(v) if isinstance(v, str) else None
    return None if ns is None else (0, 0, ns)


def _float_string(v: Any) -> float | None:
    if isinstance(v, bool):
        return None
    try:
        return float(v) if isinstance(v, (str, int, float)) else None
    except ValueError:
        return None


def _int_or_string(v: Any) -> str | None:
    return _text(v)


def _timestamp(v: Any) -> str | None:
    return v if isinstance(v, str) else None


READERS: dict[str, Callable[[Any], Any]] = {
    "text": _text,
    "int": _int,
    "float": _float,
    "bool": _bool,
    "duration": _duration,
    "float-string": _float_string,
    "int-or-string": _int_or_string,
    "timestamp": _timestamp,
    "json": to_json,
}


def reader(codec: str) -> Callable[[Any], Any]:
    """The function that turns a JSON value into the column's value (None when it does not fit)."""
    if codec.startswith("list:"):
        item = reader(codec[5:])
        return lambda v: [item(x) for x in v] if isinstance(v, list) else None
    if codec.startswith("map:"):
        item = reader(codec[4:])
        return lambda v: {str(k): item(x) for k, x in v.items()} if isinstance(v, dict) else None
    return READERS[codec]


def value_at(obj: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj


class RowReader:
    """Reads the leaves' columns out of objects; compiled once per table, used for every row.

    Leaves are grouped by their first key: most of a spec's sub-objects are absent (a delay has no
    loss, no bandwidth, ...), and one lookup then settles all their columns. The plan for a set of
    wanted columns is compiled on first use."""

    def __init__(self, leaves: Iterable[Leaf]) -> None:
        self.leaves = list(leaves)
        self._plans: dict[frozenset[str] | None, list] = {}

    def _plan(self, columns: frozenset[str] | None) -> list:
        plan = self._plans.get(columns)
        if plan is None:
            groups: dict[str, list[tuple[str, tuple[str, ...], Callable[[Any], Any]]]] = {}
            for leaf in self.leaves:
                if columns is None or leaf.column in columns:
                    groups.setdefault(leaf.path[0], []).append((leaf.column, leaf.path[1:], reader(leaf.codec)))
            plan = [(key, dict.fromkeys(c for c, _, _ in readers), readers) for key, readers in groups.items()]
            if len(self._plans) > 64:  # statements read few distinct column sets
                self._plans.clear()
            self._plans[columns] = plan
        return plan

    def values(self, root: Any, columns: frozenset[str] | None = None) -> dict[str, Any]:
        """{column: value} for ``root`` (the object the leaves' paths start from), only for
        ``columns`` (those the statement reads; None: all)."""
        out: dict[str, Any] = {}
        get = root.get if isinstance(root, dict) else None
        for key, nones, readers in self._plan(columns):
            sub = get(key) if get is not None else None
            if sub is None:
                out.update(nones)
                continue
            for column, rest, read in readers:
                value = value_at(sub, rest) if rest else sub
                out[column] = None if value is None else read(value)
        return out
