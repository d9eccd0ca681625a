"""Offline validation of an object against its CRD's schema, before any call is made.

``problems(obj, crd)`` checks what the API server would check of a custom resource (its
structural OpenAPI v3 schema: types, enums, required fields, patterns, formats, bounds, ``oneOf``
and friends), refuses fields the schema does not know (the server would drop them silently), and
adds Chaos Mesh's own admission rules (``chaosql.writers.webhook``) for chaos-mesh.org kinds. It
works on any CRD's schema; CEL rules (``x-kubernetes-validations``) are left to the server.

Each ``Problem`` has the path of the offending field in the object and a message that says what is
accepted; ``chaosql.writers.objects`` turns the path into the column the user wrote.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chaosql.crds import Crd

Path = tuple[Any, ...]

_DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})")
_INT_RANGES = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1)}


@dataclass(frozen=True)
class Problem:
    """One reason the object would be refused: where (a path in the object) and why."""

    path: Path
    message: str

    def where(self) -> str:
        return dotted(self.path)


def dotted(path: Path) -> str:
    """A path as Kubernetes prints it.

    >>> dotted(("spec", "delay", "latency")), dotted(("spec", "templates", 2, "name"))
    ('spec.delay.latency', 'spec.templates[2].name')
    """
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else ("." if out else "") + str(part)
    return out


def problems(obj: dict, crd: Crd | None) -> list[Problem]:
    """Every problem of ``obj`` (a full manifest) against ``crd`` and, for Chaos Mesh kinds, the
    webhook's rules. ``crd`` None: only the metadata and webhook rules are checked."""
    from chaosql.writers import webhook

    found = list(_metadata(obj, namespaced=crd.namespaced if crd else True))
    spec = obj.get("spec")
    if crd is not None:
        if spec is None and crd.spec.get("required"):
            found.append(Problem(("spec",), "is required"))
        elif spec is not None:
            found.extend(check(crd.spec, spec, ("spec",)))
    if not found:  # the webhook runs on objects the schema accepted
        found.extend(webhook.problems(obj))
    return found


def _metadata(obj: dict, *, namespaced: bool) -> Iterator[Problem]:
    meta = obj.get("metadata") or {}
    name = meta.get("name")
    if not isinstance(name, str) or not name:
        yield Problem(("metadata", "name"), "is required")
    elif len(name) > 253 or not _DNS_SUBDOMAIN.fullmatch(name):
        yield Problem(
            ("metadata", "name"),
            f"{name!r} is not a valid name: lower-case letters, digits, '-' and '.', "
            "starting and ending with a letter or digit (at most 253)",
        )
    namespace = meta.get("namespace")
    if namespaced:
        if not isinstance(namespace, str) or not namespace:
            yield Problem(("metadata", "namespace"), "is required")
        elif len(namespace) > 63 or not _DNS_LABEL.fullmatch(namespace):
            yield Problem(
                ("metadata", "namespace"),
                f"{namespace!r} is not a valid namespace: lower-case letters, digits and '-' (at most 63)",
            )


def check(schema: Mapping[str, Any], value: Any, path: Path = ()) -> list[Problem]:
    """Problems of ``value`` against a structural schema node (nulls count as absent, as the
    server prunes them unless the field is nullable)."""
    out: list[Problem] = []
    _check(schema, value, path, out)
    return out


def _check(schema: Mapping[str, Any], value: Any, path: Path, out: list[Problem]) -> None:
    if value is None:
        return
    if schema.get("x-kubernetes-int-or-string"):
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            out.append(Problem(path, f"expected an integer or a string, got {_show(value)}"))
            return
    elif not _type_ok(schema.get("type"), value):
        out.append(Problem(path, f"expected {_type_name(schema)}, got {_show(value)}"))
        return
    enum = schema.get("enum")
    if enum and value not in enum:
        out.append(Problem(path, f"{_show(value)} is not allowed; one of: {', '.join(str(v) for v in enum)}"))
        return
    if isinstance(value, str):
        _check_string(schema, value, path, out)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        _check_number(schema, value, path, out)
    elif isinstance(value, list):
        _check_array(schema, value, path, out)
    elif isinstance(value, dict):
        _check_object(schema, value, path, out)
    for key in ("allOf", "anyOf", "oneOf"):
        alternatives = schema.get(key) or []
        if not alternatives:
            continue
        results = [check(alt, value, path) for alt in alternatives]
        passed = sum(1 for r in results if not r)
        if key == "allOf":
            for r in results:
                out.extend(r)
        elif key == "anyOf" and passed == 0:
            out.append(Problem(path, f"{_show(value)} matches none of the allowed forms"))
        elif key == "oneOf" and passed != 1:
            out.append(Problem(path, f"{_show(value)} must match exactly one of the allowed forms ({passed} match)"))
    if "not" in schema and not check(schema["not"], value, path):
        out.append(Problem(path, f"{_show(value)} is not allowed here"))


def _type_ok(kind: str | None, value: Any) -> bool:
    if kind is None:
        return True
    if kind == "string":
        return isinstance(value, str)
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "array":
        return isinstance(value, list)
    if kind == "object":
        return isinstance(value, dict)
    return True


def _type_name(schema: Mapping[str, Any]) -> str:
    kind = schema.get("type")
    if kind == "object" and not schema.get("properties") and isinstance(schema.get("additionalProperties"), dict):
        return "a map (an object of key/value pairs)"
    if kind == "array":
        item = (schema.get("items") or {}).get("type")
        return f"a list of {item}s" if item in ("string", "integer", "number", "boolean") else "a list"
    return {"string": "text", "integer": "an integer", "number": "a number", "boolean": "true or false"}.get(
        kind or "", f"a JSON {kind}"
    )


def _check_string(schema: Mapping[str, Any], value: str, path: Path, out: list[Problem]) -> None:
    pattern = schema.get("pattern")
    if pattern and not re.search(pattern, value):
        out.append(Problem(path, f"{_show(value)} does not match the pattern {pattern}"))
    if "minLength" in schema and len(value) < schema["minLength"]:
        out.append(Problem(path, f"{_show(value)} is shorter than {schema['minLength']} characters"))
    if "maxLength" in schema and len(value) > schema["maxLength"]:
        out.append(Problem(path, f"is longer than {schema['maxLength']} characters"))
    if schema.get("format") == "date-time" and not _DATE_TIME.fullmatch(value):
        out.append(Problem(path, f"{_show(value)} is not an RFC 3339 time (e.g. 2026-11-20T12:00:00Z)"))


def _check_number(schema: Mapping[str, Any], value: float, path: Path, out: list[Problem]) -> None:
    bounds = _INT_RANGES.get(schema.get("format") or "")
    if bounds and not bounds[0] <= value <= bounds[1]:
        out.append(Problem(path, f"{value} is out of range for {schema['format']}"))
    low, high = schema.get("minimum"), schema.get("maximum")
    if low is not None and (value <= low if schema.get("exclusiveMinimum") is True else value < low):
        out.append(Problem(path, f"{value} is below the minimum {low}"))
    if high is not None and (value >= high if schema.get("exclusiveMaximum") is True else value > high):
        out.append(Problem(path, f"{value} is above the maximum {high}"))


def _check_array(schema: Mapping[str, Any], value: list, path: Path, out: list[Problem]) -> None:
    if "minItems" in schema and len(value) < schema["minItems"]:
        out.append(Problem(path, f"needs at least {schema['minItems']} items"))
    if "maxItems" in schema and len(value) > schema["maxItems"]:
        out.append(Problem(path, f"takes at most {schema['maxItems']} items"))
    if schema.get("x-kubernetes-list-type") == "set" and len({_key(v) for v in value}) != len(value):
        out.append(Problem(path, "holds the same item twice (it is a set)"))
    items = schema.get("items")
    if isinstance(items, dict):
        for i, item in enumerate(value):
            _check(items, item, (*path, i), out)


def _check_object(schema: Mapping[str, Any], value: dict, path: Path, out: list[Problem]) -> None:
    props = schema.get("properties") or {}
    for key in schema.get("required") or []:
        if value.get(key) is None:
            out.append(Problem((*path, key), "is required"))
    extra = schema.get("additionalProperties")
    for key, item in value.items():
        if key in props:
            _check(props[key], item, (*path, key), out)
        elif isinstance(extra, dict):
            _check(extra, item, (*path, key), out)
        elif extra is True or schema.get("x-kubernetes-preserve-unknown-fields"):
            continue
        elif props or extra is False:
            known = ", ".join(props) if len(props) <= 12 else ", ".join(list(props)[:12]) + ", ..."
            out.append(Problem((*path, key), f"is not a field here (known: {known})"))
    for bound, word in (("minProperties", "at least"), ("maxProperties", "at most")):
        if bound in schema and not (
            len(value) >= schema[bound] if bound == "minProperties" else len(value) <= schema[bound]
        ):
            out.append(Problem(path, f"needs {word} {schema[bound]} entries"))


def _key(value: Any) -> str:
    import json

    return json.dumps(value, sort_keys=True)


def _show(value: Any) -> str:
    text = repr(value) if isinstance(value, str) else _short_json(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _short_json(value: Any) -> str:
    import json

    return json.dumps(value, separators=(",", ":"), default=str)
