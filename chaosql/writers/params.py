"""Bind a write's parameters into its statement before it is planned.

Postgres clients send INSERT/UPDATE/DELETE with ``$1``-style parameters, DB-API code with ``?``;
DuckDB reads ``$name`` from a mapping. A write is not run by DuckDB as one statement: its VALUES,
SET expressions and WHERE are taken apart and run piece by piece (see ``dml``), so the parameters
become typed literals in the tree first: a str stays text (a JSON spec sent as text is parsed like
a spec literal), ints stay ints, None is NULL, a dict becomes JSON text.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from chaosql.errors import SqlError

if TYPE_CHECKING:
    from sqlglot import exp

_MARK = "__chaosql_param_"


def bind(tree: exp.Expr, params: Sequence[Any] | Mapping[str, Any] | None) -> exp.Expr:
    """``tree`` with every ``?``, ``$N`` and ``$name`` replaced by its parameter as a literal.

    Raises ``SqlError`` when the parameters given do not fit the placeholders (count, style)."""
    from sqlglot import exp

    marks: list[exp.Expr] = list(tree.find_all(exp.Placeholder, exp.Parameter))
    if not marks:
        if params:
            raise SqlError(
                f"the statement has no parameters but {_count(len(params))} given",
                hint="use ? or $1, $2, ... where the values go",
            )
        return tree
    tree = tree.copy()  # the caller's tree stays as written (EXPLAIN, messages)
    marks = _in_text_order(tree)
    keys = [_key(node) for node in marks]
    positional = [node for node, key in zip(marks, keys) if key is None]
    numbered = {key for key in keys if isinstance(key, int)}
    named = {key for key in keys if isinstance(key, str)}
    if sum(map(bool, (positional, numbered, named))) > 1:
        raise SqlError("the statement mixes parameter styles (?, $1, $name)", hint="use one style per statement")
    values: dict[int | str | None, Any]
    if named:
        if not isinstance(params, Mapping):
            raise SqlError(
                f"the statement has named parameters (${', $'.join(sorted(named))}) "
                "but no mapping of names to values was given"
            )
        missing = sorted(named - set(params))
        if missing:
            raise SqlError(f"no value given for parameter ${missing[0]}", hint="given: " + ", ".join(sorted(params)))
        values = {key: params[key] for key in named}
    else:
        given = list(params or ()) if not isinstance(params, Mapping) else None
        if given is None:
            raise SqlError("the statement has positional parameters but a mapping of names was given")
        wanted = len(positional) if positional else max(numbered)
        if len(given) != wanted:
            raise SqlError(
                f"the statement takes {wanted} parameter{'s' if wanted != 1 else ''} but {_count(len(given))} given"
            )
        values = {i: v for i, v in enumerate(given, 1)}
        keys = list(range(1, len(positional) + 1)) if positional else keys
    for node, key in zip(marks, keys):
        node.replace(_literal(values[key], f"${key}"))
    return tree


def _in_text_order(tree: exp.Expr) -> list[exp.Expr]:
    """The placeholders in the order they appear in the SQL text. sqlglot's tree walk follows its
    argument order (an INSERT's WITH comes after its body), which is not the order of ``?``."""
    from sqlglot import exp

    marks = list(tree.find_all(exp.Placeholder, exp.Parameter))
    originals = []
    for i, node in enumerate(marks):  # stand-ins with unique names, found in the generated text
        originals.append(node.copy())
        node.replace(exp.Placeholder(this=f"{_MARK}{i}_"))
    text = tree.sql(dialect="duckdb")
    for node in list(tree.find_all(exp.Placeholder)):
        node.replace(originals[int(node.name[len(_MARK) : -1])])
    restored = list(tree.find_all(exp.Placeholder, exp.Parameter))  # same walk, same order as ``marks``
    return [restored[i] for i in sorted(range(len(marks)), key=lambda i: text.find(f"{_MARK}{i}_"))]


def _count(n: int) -> str:
    return f"{n} {'was' if n == 1 else 'were'}"


def _key(node: exp.Expr) -> int | str | None:
    """None for ``?``, N for ``$N``, the name for ``$name``."""
    name = node.this.name if node.this is not None and hasattr(node.this, "name") else node.args.get("this")
    if name is None or name == "":
        return None
    text = str(name)
    return int(text) if text.isdigit() else text


def _literal(value: Any, what: str) -> exp.Expr:
    from sqlglot import exp

    if isinstance(value, (dict, tuple)) or (isinstance(value, list) and any(isinstance(v, dict) for v in value)):
        try:  # a spec, selector or labels as JSON text, read like a JSON literal would be
            return exp.Literal.string(json.dumps(value))
        except (TypeError, ValueError) as err:
            raise SqlError(f"parameter {what}: {err}") from err
    if isinstance(value, uuid.UUID):
        return exp.Literal.string(str(value))
    try:
        return exp.convert(value)
    except ValueError as err:
        raise SqlError(
            f"parameter {what}: a {type(value).__name__} value cannot be used in a write",
            hint="pass text, a number, a boolean, a timestamp, a list or a dict",
        ) from err
