"""``json_build_object``, ``jsonb_build_object`` and ``json_object_agg`` written as PostgreSQL
writes them: ``{"a" : 1, "b" : "x"}`` (DuckDB: ``{"a":1,"b":"x"}``), ``{ "k" : "v" }`` for the
aggregate, and jsonb's ``{"a": 1, "bb": 2}`` (keys sorted shorter first, a repeated key's last value).

Only values whose JSON text is the same in both are written: text, integers, booleans, NULL, json
(kept as it is); any other (a timestamp, a double, a numeric, an array...) is refused (0A000) when
the statement runs, by its DuckDB type, which DuckDB knows when it binds the statement.
"""

from __future__ import annotations

from sqlglot import exp

from chaosql.server.semantics.kinds import outer_projections

#: DuckDB writes these control characters' escapes with upper-case hex digits, PostgreSQL lower-case
_UPPER_HEX_ESCAPES = [f"\\u00{c:02X}" for c in (0x0B, 0x0E, 0x0F, 0x1A, 0x1B, 0x1C, 0x1D, 0x1E, 0x1F)]
_SAME_TEXT_TYPES = ("BOOLEAN", "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", '"NULL"')
_KEY_TYPES = ("VARCHAR", "BOOLEAN", "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT")


def _text(value: str) -> exp.Literal:
    return exp.Literal.string(value)


def _string_json(value: exp.Expr) -> exp.Expr:
    """``value`` (text) as a JSON string as PostgreSQL escapes it: DuckDB's, its upper-case
    ``\\u001F`` lowered; an escaped backslash (``\\\\``) is set aside first (as NUL, which a JSON
    text never holds) so ``\\\\u001F`` (a backslash, then u001F) stays."""
    out: exp.Expr = exp.cast(exp.func("to_json", value.copy()), "VARCHAR")
    out = exp.func("replace", out, _text("\\\\"), exp.func("chr", exp.Literal.number(0)))
    for escape in _UPPER_HEX_ESCAPES:
        out = exp.func("replace", out, _text(escape), _text(escape.lower()))
    return exp.func("replace", out, exp.func("chr", exp.Literal.number(0)), _text("\\\\"))


def _refusal(function: str, value: exp.Expr) -> exp.Expr:
    message = exp.DPipe(
        this=_text(f"{function}() of a value of type "),
        expression=exp.DPipe(
            this=exp.func("typeof", value.copy()),
            expression=_text(" is not supported: PostgreSQL writes its JSON text otherwise"),
        ),
    )
    return exp.func("error", message)


def _typeof_in(value: exp.Expr, types: tuple[str, ...]) -> exp.Expr:
    return exp.In(this=exp.func("typeof", value.copy()), expressions=[_text(t) for t in types])


def _value_json(value: exp.Expr, function: str, nested_json: bool = True) -> exp.Expr:
    """The JSON text PostgreSQL writes for ``value``, or a refusal when it runs."""
    ifs = [
        exp.If(
            this=exp.EQ(this=exp.func("typeof", value.copy()), expression=_text("VARCHAR")), true=_string_json(value)
        )
    ]
    if nested_json:
        ifs.append(
            exp.If(
                this=exp.EQ(this=exp.func("typeof", value.copy()), expression=_text("JSON")),
                true=exp.cast(value.copy(), "VARCHAR"),
            )
        )
    ifs.append(
        exp.If(this=_typeof_in(value, _SAME_TEXT_TYPES), true=exp.cast(exp.func("to_json", value.copy()), "VARCHAR"))
    )
    return exp.func("coalesce", exp.Case(ifs=ifs, default=_refusal(function, value)), _text("null"))


def _key_json(key: exp.Expr, function: str, position: int) -> exp.Expr:
    """A key as PostgreSQL writes it (its text as a JSON string); NULL is PostgreSQL's error."""
    if isinstance(key, exp.Literal) and key.is_string:
        import json

        return _text(json.dumps(key.this, ensure_ascii=False))  # escaped as PostgreSQL does
    null = exp.func("error", _text(f"argument {position} cannot be null"))
    text = exp.Case(
        ifs=[
            exp.If(this=exp.Is(this=key.copy(), expression=exp.Null()), true=null),
            exp.If(this=_typeof_in(key, _KEY_TYPES), true=_string_json(exp.cast(key.copy(), "VARCHAR"))),
        ],
        default=_refusal(function, key),
    )
    return text


def _concat(pieces: list[exp.Expr]) -> exp.Expr:
    out = pieces[0]
    for piece in pieces[1:]:
        out = exp.DPipe(this=out, expression=piece)
    return out


def json_objects(tree: exp.Expr, kinds: dict[str, str]) -> None:
    """The rewrite (see the module's docstring).

    >>> import sqlglot
    >>> tree = sqlglot.parse_one("SELECT json_build_object('a', 1)", read="postgres")
    >>> tree.expressions[0].meta["pg_name"] = "json_build_object"
    >>> json_objects(tree, {})
    >>> "' : '" in tree.sql("duckdb")
    True
    """
    from chaosql.errors import SqlError, UnsupportedError

    own = {id(p.this if isinstance(p, exp.Alias) else p): p for p in outer_projections(tree)}
    for node in reversed(list(tree.find_all(exp.Anonymous, exp.JSONObjectAgg))):  # the innermost first
        if isinstance(node, exp.JSONObjectAgg):
            args = node.expressions
            if len(args) != 2 or isinstance(node.parent, (exp.Filter, exp.Window)):
                raise UnsupportedError("json_object_agg() with FILTER or OVER is not supported")
            key, value = args
            order = value if isinstance(value, exp.Order) else None  # json_object_agg(k, v ORDER BY ...)
            pair: exp.Expr = exp.DPipe(
                this=exp.DPipe(this=_key_json(key, "json_object_agg", 1), expression=_text(" : ")),
                expression=_value_json(order.this if order else value, "json_object_agg"),
            )
            if order is not None:
                pair = exp.Order(this=pair, expressions=[o.copy() for o in order.expressions])
            joined = exp.GroupConcat(this=pair, separator=_text(", "))
            node.replace(exp.cast(_concat([_text("{ "), joined, _text(" }")]), "JSON"))
            continue
        name = node.meta.get("pg_name")
        if name not in ("json_build_object", "jsonb_build_object"):
            continue
        args = node.expressions
        if len(args) % 2:
            raise SqlError("argument list must have even number of elements", sqlstate="22023")
        if name == "jsonb_build_object":
            node.replace(_jsonb_object(args, own.get(id(node))))
            continue
        pieces: list[exp.Expr] = [_text("{")]
        for i in range(0, len(args), 2):
            if i:
                pieces.append(_text(", "))
            pieces += [_key_json(args[i], name, i + 1), _text(" : "), _value_json(args[i + 1], name)]
        pieces.append(_text("}"))
        node.replace(exp.cast(_concat(pieces), "JSON"))


def _jsonb_object(args: list[exp.Expr], projection: exp.Expr | None) -> exp.Expr:
    """jsonb_build_object of literal keys: sorted as jsonb keeps them (shorter first, then by
    their bytes), a repeated key's last value; other keys and nested json are refused."""
    import json

    from chaosql.errors import UnsupportedError

    pairs: dict[str, exp.Expr] = {}
    for key, value in zip(args[0::2], args[1::2]):
        if not (isinstance(key, exp.Literal) and key.is_string):
            raise UnsupportedError("jsonb_build_object() with a key that is not a literal is not supported")
        pairs[key.this] = value
    pieces: list[exp.Expr] = [_text("{")]
    for i, name in enumerate(sorted(pairs, key=lambda k: (len(k.encode()), k.encode()))):
        if i:
            pieces.append(_text(", "))
        pieces += [
            _text(json.dumps(name, ensure_ascii=False) + ": "),
            _value_json(pairs[name], "jsonb_build_object", nested_json=False),
        ]
    pieces.append(_text("}"))
    if projection is not None:
        projection.meta["pg_type"] = "jsonb"
    return exp.cast(_concat(pieces), "JSON")
