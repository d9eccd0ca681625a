"""Reading Kubernetes manifest files that anyone may have written: nothing in them may hang,
exhaust or crash the process, and a wrong field is named with its file.

- ``read_text``: regular files only (a FIFO would block forever, ``/dev/zero`` never ends), at most
  ``MAX_FILE_BYTES``, opened without blocking and checked again once open;
- ``yaml_documents``: nesting deeper than ``MAX_YAML_NESTING`` is refused before libyaml sees the
  text (its composer recurses in C and crashes the process at ~30,000 levels); anchors and
  aliases are allowed, but a document whose aliases expand past ``MAX_EXPANDED_NODES`` values (a
  "billion laughs" bomb: 1 KB that becomes gigabytes of JSON) or refer to themselves is refused;
- ``json_document``: nesting too deep for Python's JSON parser is refused;
- ``check_object``: the fields chaosql's row shapers rely on have the type Kubernetes gives them
  (names and namespaces are strings, labels map strings to strings, timestamps are RFC 3339,
  ``spec`` and ``status`` are mappings, ``containerRecords`` is a list of mappings ...).

Every problem is a ``SourceError`` naming the source, the file and the field.
"""

from __future__ import annotations

import json
import os
import re
import stat
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from chaosql.errors import SourceError

#: The largest file read (a ``kubectl get -o yaml`` of 100,000 experiments is ~400 MB).
MAX_FILE_BYTES = 1024 * 1024 * 1024
#: Deepest YAML nesting handed to libyaml; Kubernetes objects nest about 20 levels.
MAX_YAML_NESTING = 1000
#: Values one YAML document may expand to through its aliases.
MAX_EXPANDED_NODES = 1_000_000


def problem(source: str, file: Path, what: str, *, hint: str | None = None) -> SourceError:
    return SourceError(f"snapshot {source}: {file}: {what}", source=source, hint=hint)


def read_text(file: Path, source: str, *, max_bytes: int = MAX_FILE_BYTES) -> str:
    """The text of a regular file of at most ``max_bytes`` bytes, as UTF-8."""
    try:
        fd = os.open(file, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as err:
        raise problem(source, file, f"cannot read: {err.strerror or err}") from err
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise problem(source, file, "not a regular file (a FIFO, device or socket is never read)")
        if info.st_size > max_bytes:
            raise problem(source, file, f"{info.st_size} bytes, more than the {max_bytes} a snapshot file may have")
        with os.fdopen(fd, "rb", closefd=False) as fh:
            data = fh.read(max_bytes + 1)
    except OSError as err:
        raise problem(source, file, f"cannot read: {err.strerror or err}") from err
    finally:
        os.close(fd)
    if len(data) > max_bytes:  # it grew while we read it
        raise problem(source, file, f"more than the {max_bytes} bytes a snapshot file may have")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise problem(source, file, f"not UTF-8 text (byte {err.start})") from err


def json_document(text: str, file: Path, source: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise problem(source, file, f"line {err.lineno}: invalid JSON: {err.msg}") from err
    except RecursionError:
        raise problem(source, file, "JSON nested too deeply to read") from None


_FLOW_TOKENS = re.compile(r"""'(?:[^']|'')*'|"(?:[^"\\]|\\.)*"|#[^\n]*|[\[{]|[\]}]""")


def _yaml_nesting_bound(text: str) -> int:
    """An upper bound on how deep the YAML in ``text`` nests, found without parsing it: block
    nesting needs indentation or ``- `` on each level, flow nesting needs brackets."""
    prefix = re.search(rf"^[ \t?:-]{{{MAX_YAML_NESTING},}}", text, re.M)
    block = MAX_YAML_NESTING if prefix else 0
    if text.count("[") + text.count("{") < MAX_YAML_NESTING:
        return block
    depth = deepest = 0
    for match in _FLOW_TOKENS.finditer(text):
        token = match.group(0)
        if token in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif token in "]}":
            depth = max(depth - 1, 0)
    return max(block, deepest)


def yaml_documents(text: str, file: Path, source: str) -> list:
    """The documents of a YAML file, read safely (see the module doc)."""
    import yaml

    if _yaml_nesting_bound(text) >= MAX_YAML_NESTING:
        raise problem(source, file, f"YAML nested {MAX_YAML_NESTING} or more levels deep", hint="not read")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        docs = [d for d in yaml.load_all(text, Loader=loader) if d is not None]
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        what = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise SourceError(f"snapshot {source}: {file}{where}: invalid YAML: {what}", source=source) from err
    except RecursionError:
        raise problem(source, file, "YAML nested too deeply to read") from None
    if "*" in text:  # an alias may be used: check what the documents expand to
        for doc in docs:
            _check_expansion(doc, file, source)
    return docs


def _check_expansion(doc: Any, file: Path, source: str) -> None:
    """Refuse a document that refers to itself, or whose shared parts (YAML aliases) expand to more
    than ``MAX_EXPANDED_NODES`` values; each container is visited once, so this is linear."""
    size: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[Any, bool]] = [(doc, False)]
    while stack:
        node, done = stack.pop()
        if not isinstance(node, (dict, list)):
            continue
        key = id(node)
        children = list(node.values()) if isinstance(node, dict) else node
        if done:
            on_path.discard(key)
            size[key] = 1 + sum(size.get(id(c), 1) for c in children)
            if size[key] > MAX_EXPANDED_NODES:
                raise problem(
                    source,
                    file,
                    f"YAML aliases expand to more than {MAX_EXPANDED_NODES} values (an alias bomb?)",
                    hint="not read; write the values out instead of referring to anchors",
                )
            continue
        if key in on_path:
            raise problem(source, file, "a YAML alias refers to the value that contains it")
        if key in size:
            continue
        on_path.add(key)
        stack.append((node, True))
        stack.extend((c, False) for c in children if isinstance(c, (dict, list)))


# --- the fields shapers rely on ------------------------------------------------------------------

STR, MAP, LIST, STR_MAP, TIME, INT = "a string", "a mapping", "a list", "strings to strings", "a time", "an integer"
#: Fields particular kinds' rows are shaped from, beside metadata, spec, status and its
#: conditions (every kind) and the experiment records (experiment kinds): (parent path, field, type).
KIND_FIELDS: dict[str, tuple[tuple[str, str, str], ...]] = {
    "Event": (
        ("", "involvedObject", MAP),
        ("", "source", MAP),
        ("", "count", INT),
        ("", "firstTimestamp", TIME),
        ("", "lastTimestamp", TIME),
        ("", "eventTime", TIME),
    ),
    "Pod": (("spec", "containers", LIST),),
    "Node": (("status", "addresses", LIST), ("status", "nodeInfo", MAP), ("status", "capacity", MAP)),
    "Schedule": (("status", "active", LIST), ("status", "time", TIME), ("spec", "historyLimit", INT)),
    "Workflow": (("spec", "templates", LIST), ("status", "startTime", TIME), ("status", "endTime", TIME)),
    "WorkflowNode": (("spec", "startTime", TIME), ("spec", "deadline", TIME)),
}
_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})")
_HINTS = {
    STR_MAP: "a mapping of strings to strings (quote numbers and booleans)",
    TIME: "an RFC 3339 time such as 2026-11-20T12:00:00Z",
    LIST: "a list of mappings",
}


class _Wrong(Exception):
    def __init__(self, where: str, value: Any, expected: str) -> None:
        self.where, self.value, self.expected = where, value, expected


def check_object(obj: dict, file: Path, source: str, *, experiment: bool = False) -> None:
    """The fields chaosql's shapers read have Kubernetes' types, else a SourceError naming the
    file, the object and the field. A time YAML read as a datetime becomes RFC 3339 text again,
    as the API would give it. (Straight-line code: it runs for every object of a snapshot.)"""
    kind = obj.get("kind")
    meta = obj.get("metadata")
    if type(meta) is not dict:
        what = "has no metadata" if meta is None else f"metadata must be a mapping, not {_shown(meta)}"
        raise problem(source, file, f"a {kind} {what}")
    name = meta.get("name")
    if type(name) is not str or not name:
        what = (
            "has no metadata.name" if name is None else f"metadata.name must be a non-empty string, not {_shown(name)}"
        )
        raise problem(source, file, f"a {kind} {what}", hint="quote names that YAML reads as numbers")
    try:
        _check_fields(obj, meta, kind, experiment)
    except _Wrong as wrong:
        expected = _HINTS.get(wrong.expected, wrong.expected)
        raise problem(
            source, file, f"{kind} {name}: {wrong.where} must be {expected}, not {_shown(wrong.value)}"
        ) from None


def _check_fields(obj: dict, meta: dict, kind: Any, experiment: bool) -> None:
    for field in ("namespace", "uid", "resourceVersion", "generateName"):
        value = meta.get(field)
        if value is not None and type(value) is not str:
            raise _Wrong(f"metadata.{field}", value, STR)
    for field in ("labels", "annotations"):
        value = meta.get(field)
        if value and (type(value) is not dict or not all(type(k) is str and type(v) is str for k, v in value.items())):
            raise _Wrong(f"metadata.{field}", value, STR_MAP)
    for field in ("creationTimestamp", "deletionTimestamp"):
        _time(meta, field, "metadata.")
    _list_of_maps(meta.get("ownerReferences"), "metadata.ownerReferences")
    finalizers = meta.get("finalizers")
    if finalizers is not None and (type(finalizers) is not list or not all(type(f) is str for f in finalizers)):
        raise _Wrong("metadata.finalizers", finalizers, "a list of strings")
    spec, status = obj.get("spec"), obj.get("status")
    if spec is not None and type(spec) is not dict:
        raise _Wrong("spec", spec, MAP)
    if status is not None and type(status) is not dict:
        raise _Wrong("status", status, MAP)
    if status:
        _list_of_maps(status.get("conditions"), "status.conditions")
    if experiment:
        _check_experiment(spec or {}, status or {})
    for parent, field, expected in KIND_FIELDS.get(kind, ()):
        holder = obj.get(parent) if parent else obj
        if type(holder) is not dict or holder.get(field) is None:
            continue
        where = f"{parent}.{field}" if parent else field
        value = holder[field]
        if expected == TIME:
            _time(holder, field, f"{parent}." if parent else "")
        elif expected == LIST:
            _list_of_maps(value, where)
        elif (expected == MAP and type(value) is not dict) or (expected == INT and (type(value) is not int)):
            raise _Wrong(where, value, expected)


def _check_experiment(spec: dict, status: dict) -> None:
    duration = spec.get("duration")
    if duration is not None and type(duration) is not str:
        raise _Wrong("spec.duration", duration, STR)
    selector = spec.get("selector")
    if selector is not None and type(selector) is not dict:
        raise _Wrong("spec.selector", selector, MAP)
    record = status.get("experiment")
    if record is None:
        return
    if type(record) is not dict:
        raise _Wrong("status.experiment", record, MAP)
    records = record.get("containerRecords")
    _list_of_maps(records, "status.experiment.containerRecords")
    for i, item in enumerate(records or ()):
        where = f"status.experiment.containerRecords[{i}]"
        for count in ("injectedCount", "recoveredCount"):
            value = item.get(count)
            if value is not None and type(value) is not int:
                raise _Wrong(f"{where}.{count}", value, INT)
        events = item.get("events")
        if events is not None and type(events) is not list:
            raise _Wrong(f"{where}.events", events, LIST)
        if events:  # the rows read the last event only
            if type(events[-1]) is not dict:
                raise _Wrong(f"{where}.events[{len(events) - 1}]", events[-1], MAP)
            _time(events[-1], "timestamp", f"{where}.events[{len(events) - 1}].")


def _list_of_maps(value: Any, where: str) -> None:
    if value is not None and (type(value) is not list or not all(type(v) is dict for v in value)):
        raise _Wrong(where, value, LIST)


def _time(holder: dict, field: str, prefix: str) -> None:
    value = holder.get(field)
    if value is None or (type(value) is str and _RFC3339.fullmatch(value)):
        return
    if isinstance(value, datetime):  # YAML reads an unquoted time as one: give it back as the API would
        holder[field] = _rfc3339(value)
        return
    raise _Wrong(prefix + field, value, TIME)


def _rfc3339(value: datetime) -> str:
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S") + (f".{value.microsecond:06d}" if value.microsecond else "") + "Z"


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
