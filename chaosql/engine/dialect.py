"""Where sqlglot reads DuckDB SQL differently from DuckDB, put the tree back to DuckDB's meaning.

Each rule takes the parsed statement and returns it (changed in place where needed); the
session applies them right after parsing, so analysis, pushdown and the SQL handed back to
DuckDB all see what DuckDB itself would have run.

What a tree cannot be given back, because sqlglot's parser already dropped it, is fixed in the
parser: ``DuckDB`` and ``Postgres`` below are sqlglot's dialects with those slips corrected.

* ``INTERVAL '1 day 12:00:00'``: sqlglot keeps the first ``<number> <unit>`` of the string and
  drops the rest (``INTERVAL '1' DAY``), so ``ts - interval '1 day 12:00:00'`` would count the
  wrong rows. A literal that is not exactly one ``<number> <unit>`` is kept whole; DuckDB and
  PostgreSQL both read it. So is one whose unit DuckDB has no keyword for (``'1 mon'``: DuckDB
  would read ``INTERVAL '1' MON`` as one second named ``MON``).
* ``f(spec -> '$.path')``: inside a function's arguments sqlglot reads ``name -> expr`` as a
  lambda. DuckDB 2.0 has no arrow lambdas any more (they are ``lambda x: ...``) and PostgreSQL
  never had them: both read a JSON extraction, and so do these parsers.
* The PostgreSQL parser also records how a function was spelled (``now()``, ``date_part``), which
  sqlglot's typed nodes forget; the wire server names result columns from it as PostgreSQL does.

>>> import sqlglot
>>> from chaosql.engine.dialect import DuckDB, Postgres
>>> sqlglot.parse_one("SELECT INTERVAL '1 day 12:00:00'", read=DuckDB).sql("duckdb")
"SELECT INTERVAL '1 day 12:00:00'"
>>> sqlglot.parse_one("SELECT INTERVAL '3 days', INTERVAL '-1 mon'", read=Postgres).sql("duckdb")
"SELECT INTERVAL '3' DAYS, INTERVAL '-1 mon'"
>>> sqlglot.parse_one("SELECT json_array_length(spec -> '$.a' ->> '$.b')", read=DuckDB).sql("duckdb")
"SELECT JSON_ARRAY_LENGTH((spec -> '$.a') ->> '$.b')"
>>> sqlglot.parse_one("SELECT list_transform(l, lambda x: x + 1)", read=DuckDB).sql("duckdb")
'SELECT LIST_TRANSFORM(l, LAMBDA x : x + 1)'
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from sqlglot import exp

_ONE_UNIT = re.compile(r"\s*-?[0-9]+(?:\.[0-9]+)?\s*[a-zA-Z]+\s*")


#: Units DuckDB takes as keywords after ``INTERVAL 'n'``; any other (``mon``, ``hrs``) it would read
#: as a column alias (``INTERVAL '1' MON`` is one second), so such a literal is kept whole
_DUCKDB_UNITS = re.compile(
    r"(?:year|month|week|day|hour|minute|second|millisecond|microsecond|quarter|decade)s?|century|centuries|"
    r"millennium|millennia",
    re.I,
)


def _whole_interval(parser: Any, this: Any) -> Any:
    """``INTERVAL '<several parts>'`` with no unit after it, kept as one literal."""
    from sqlglot import exp

    one = _ONE_UNIT.fullmatch(this.name) if this is not None and this.is_string else None
    if this is None or not this.is_string or (one and _DUCKDB_UNITS.fullmatch(this.name.strip().split()[-1])):
        return None
    following = parser._curr
    if following is not None and following.text.upper() in parser.dialect.VALID_INTERVAL_UNITS:
        return None  # INTERVAL '1:30' HOUR TO MINUTE: sqlglot's own handling
    return exp.Interval(this=this)


def _typed_literal_first(node: Any) -> Any:
    """``TIMESTAMP 'x'::date`` is ``(TIMESTAMP 'x')::date`` in PostgreSQL; sqlglot applies the
    ``::date`` to the literal first (``TIMESTAMP ('x'::date)``). Re-nests such a typed literal."""
    from sqlglot import exp

    if not isinstance(node, exp.Cast) or node.meta.get("spelled") or isinstance(node.this, exp.Literal):
        return node
    chain, inner = node.this, node.this
    while isinstance(inner, (exp.Cast, exp.Bracket, exp.Dot)) and not inner.meta.get("spelled"):
        if isinstance(inner.this, exp.Literal) and inner.this.is_string:
            inner.set("this", exp.Cast(this=inner.this, to=node.args["to"]))
            return chain
        inner = inner.this
    return node


def _keeping_template(build: Any) -> Any:
    """to_char's builder, keeping PostgreSQL's template in ``meta["pg_template"]`` (sqlglot's
    translation to strftime is partial; the server translates it itself: server/semantics/)."""

    def to_char(args: list, dialect: Any) -> Any:
        node = build(args, dialect)
        template = args[1] if len(args) > 1 else None
        if template is not None and template.is_string:
            node.meta["pg_template"] = template.this
        return node

    return to_char


def _without_arrow(lambdas: dict) -> dict:
    """The parser's lambda syntaxes without ``x -> body``: ``->`` is JSON extraction."""
    from sqlglot.tokens import TokenType

    return {token: build for token, build in lambdas.items() if token != TokenType.ARROW}


def _build() -> dict[str, type]:
    from sqlglot import exp
    from sqlglot.dialects.duckdb import DuckDB as _DuckDB
    from sqlglot.dialects.postgres import Postgres as _Postgres

    if TYPE_CHECKING:  # what the dialects' Parser attributes are, named where mypy can see them
        from sqlglot.parsers.duckdb import DuckDBParser as _DuckDBParser
        from sqlglot.parsers.postgres import PostgresParser as _PostgresParser
    else:
        _DuckDBParser, _PostgresParser = _DuckDB.Parser, _Postgres.Parser

    class DuckDB(_DuckDB):
        class Parser(_DuckDBParser):
            LAMBDAS = _without_arrow(_DuckDBParser.LAMBDAS)

            def _parse_interval_span(self, this: Any, parse_function_unit: bool = True) -> Any:
                return _whole_interval(self, this) or super()._parse_interval_span(this, parse_function_unit)

    class Postgres(_Postgres):
        class Parser(_PostgresParser):
            LAMBDAS = _without_arrow(_PostgresParser.LAMBDAS)
            FUNCTIONS: ClassVar[dict] = {
                **_PostgresParser.FUNCTIONS,
                "TO_CHAR": _keeping_template(_PostgresParser.FUNCTIONS["TO_CHAR"]),
            }

            def _parse_interval_span(self, this: Any, parse_function_unit: bool = True) -> Any:
                return _whole_interval(self, this) or super()._parse_interval_span(this, parse_function_unit)

            def _parse_type(self, *args: Any, **kwargs: Any) -> Any:
                typed = self._curr is not None and self._curr.token_type in self.TYPE_TOKENS
                node = super()._parse_type(*args, **kwargs)
                return _typed_literal_first(node) if typed else node

            def _parse_function_call(self, *args: Any, **kwargs: Any) -> Any:
                token = self._curr
                node = super()._parse_function_call(*args, **kwargs)
                if node is not None and token is not None and isinstance(node, (exp.Func, exp.Binary)):  # mod(7, 2)
                    node.meta.setdefault("spelled", token.text.lower())
                return node

    return {"DuckDB": DuckDB, "Postgres": Postgres}


def __getattr__(name: str) -> Any:
    """``DuckDB`` and ``Postgres`` are built on first use: importing sqlglot costs CLI start-up."""
    if name in ("DuckDB", "Postgres"):
        globals().update(_build())
        return globals()[name]
    raise AttributeError(name)


def summarize_table(tree: exp.Expr) -> exp.Expr:
    """``SUMMARIZE experiments`` as ``SUMMARIZE SELECT * FROM experiments``: the table reference is
    replaced by a relation with an alias, which DuckDB's SUMMARIZE takes only inside a query.

    >>> import sqlglot
    >>> summarize_table(sqlglot.parse_one("SUMMARIZE experiments", read="duckdb")).sql(dialect="duckdb")
    'SUMMARIZE SELECT * FROM experiments'
    """
    from sqlglot import exp

    if isinstance(tree, exp.Summarize) and isinstance(tree.this, exp.Table):
        tree.set("this", exp.select("*").from_(tree.this.copy()))
    return tree


RULES = (summarize_table,)


def as_duckdb(tree: exp.Expr) -> exp.Expr:
    """Apply every rule."""
    for rule in RULES:
        tree = rule(tree)
    return tree
