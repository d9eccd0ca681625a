"""Text functions and operators: ``SIMILAR TO``, ``LIKE``'s backslash, ``split_part``, ``encode``,
``char(n)``, ``format()``, ``jsonb ->``."""

from __future__ import annotations

import re

from sqlglot import exp

from chaosql.server.semantics.kinds import _declared, outer_projections

T = exp.DataType.Type


def jsonb_extracts(tree: exp.Expr, kinds: dict[str, str]) -> None:
    """``m -> 'k'`` of a map column (jsonb over the wire) is jsonb in PostgreSQL; DuckDB says JSON."""
    for projection in outer_projections(tree):
        node = projection.this if isinstance(projection, exp.Alias) else projection
        base = node.this if isinstance(node, exp.JSONExtract) else None
        if isinstance(base, exp.Column) and kinds.get(base.name.lower(), "").startswith("MAP("):
            projection.meta["pg_type"] = "jsonb"


def strings(tree: exp.Expr, kinds: dict[str, str]) -> None:
    """Text operations DuckDB answers differently: ``SIMILAR TO`` (SQL's pattern, DuckDB reads a
    regular expression: ``'abc' SIMILAR TO 'a%'`` was false), ``::varchar(n)`` and ``::char(n)``
    (cut to n characters; a ``char(n)``'s trailing blanks do not count, and it is written padded as
    a result column of its own), ``split_part(s, d, 0)`` (22023), ``encode(b, 'hex'|'base64')``.

    >>> import sqlglot
    >>> tree = sqlglot.parse_one("SELECT 'a.c' SIMILAR TO 'a_(b|c)%', length(x::char(3)), 'abc'::varchar(2)", read="postgres")
    >>> strings(tree, {})
    >>> tree.sql("duckdb")
    "SELECT 'a.c' SIMILAR TO 'a.(b|c).*', LENGTH(RTRIM(LEFT(CAST(x AS TEXT), 3))), CAST(LEFT(CAST('abc' AS TEXT), 2) AS TEXT(2))"
    """
    from chaosql.errors import SqlError, UnsupportedError

    own = {id(p.this if isinstance(p, exp.Alias) else p): p for p in outer_projections(tree)}
    for node in list(tree.find_all(exp.SimilarTo, exp.Cast, exp.SplitPart, exp.Encode)):
        if isinstance(node, exp.SimilarTo):
            pattern = node.expression
            if not (isinstance(pattern, exp.Literal) and pattern.is_string):
                raise UnsupportedError("SIMILAR TO with a pattern that is not a literal is not supported")
            node.set("expression", exp.Literal.string(_similar_regex(pattern.this)))
        elif isinstance(node, exp.SplitPart):
            index = node.args.get("part_index")
            if isinstance(index, exp.Literal) and index.this == "0":
                raise SqlError("field position must not be zero", sqlstate="22023")
        elif isinstance(node, exp.Encode):
            charset = node.args.get("charset")
            name = charset.this.lower() if isinstance(charset, exp.Literal) else ""
            if name in ("hex", "base64"):
                value = node.this.copy()
                node.replace(exp.Lower(this=exp.Hex(this=value)) if name == "hex" else exp.ToBase64(this=value))
        elif isinstance(to := node.args.get("to"), exp.DataType) and to.this in (T.VARCHAR, T.CHAR) and to.expressions:
            size = to.expressions[0].this
            cut = exp.func("left", exp.cast(node.this.copy(), "TEXT"), size.copy())
            if to.this == T.VARCHAR:
                node.set("this", cut)
                continue
            trimmed = exp.func("rtrim", cut)  # char(n): its blanks are padding
            projection = own.get(id(node))
            if projection is not None:
                projection.meta["pg_type"] = "bpchar"
                node.replace(exp.func("rpad", trimmed, size.copy(), exp.Literal.string(" ")))
            else:
                node.replace(trimmed)


def _similar_regex(pattern: str) -> str:
    r"""A SIMILAR TO pattern as the regular expression DuckDB matches with it (the whole string).

    >>> print(_similar_regex(r"a%b_.c[%_]\%$"))
    a.*b.\.c[%_]%\$
    """
    out, i, bracket = [], 0, False
    while i < len(pattern):
        c = pattern[i]
        if c == "\\" and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        if bracket:
            bracket = c != "]"
            out.append(c)
        elif c == "[":
            bracket = True
            out.append(c)
        else:
            out.append({"%": ".*", "_": ".", ".": "\\.", "^": "\\^", "$": "\\$"}.get(c, c))
        i += 1
    return "".join(out)


def like_escapes(tree: exp.Expr) -> None:
    r"""A backslash escapes ``%`` and ``_`` in a LIKE pattern in PostgreSQL (its default ESCAPE);
    DuckDB has no default. Patterns that may hold one get ``ESCAPE '\'``.

    >>> import sqlglot
    >>> tree = sqlglot.parse_one(r"SELECT 'a_c' LIKE 'a\_c', name LIKE 'a%', x ILIKE '%' || $1", read="postgres")
    >>> like_escapes(tree)
    >>> print(tree.sql("duckdb"))
    SELECT 'a_c' LIKE 'a\_c' ESCAPE '\', name LIKE 'a%', x ILIKE '%' || $1 ESCAPE '\'
    """
    for like in list(tree.find_all(exp.Like, exp.ILike)):
        pattern = like.expression
        if isinstance(like.parent, exp.Escape) or (isinstance(pattern, exp.Literal) and "\\" not in pattern.this):
            continue
        if isinstance(pattern, (exp.Literal, exp.Column, exp.Placeholder, exp.Parameter, exp.DPipe, exp.Concat)):
            like.replace(exp.Escape(this=like.copy(), expression=exp.Literal.string("\\")))


_FORMAT_SPEC = re.compile(r"%(?:(\d+)\$)?([sIL%])")


def _format(func: exp.Expr) -> exp.Expr | None:
    """PostgreSQL's ``format(fmt, args...)`` for a literal ``fmt`` (%s, %I, %L, %%, %n$)."""
    args = func.expressions if isinstance(func, exp.Anonymous) else [func.this, *func.expressions]
    if not args or not (isinstance(args[0], exp.Literal) and args[0].is_string):
        return None
    fmt, values = args[0].this, args[1:]
    pieces: list[exp.Expr] = []
    pos, nxt = 0, 0
    for m in _FORMAT_SPEC.finditer(fmt):
        if m.start() > pos:
            pieces.append(exp.Literal.string(fmt[pos : m.start()]))
        pos = m.end()
        if m.group(2) == "%":
            pieces.append(exp.Literal.string("%"))
            continue
        index = int(m.group(1)) - 1 if m.group(1) else nxt
        nxt = index + 1
        if index >= len(values):
            from chaosql.errors import SqlError

            raise SqlError("too few arguments for format()", sqlstate="22023")
        value = exp.cast(values[index].copy(), "TEXT")
        if m.group(2) == "s":
            pieces.append(exp.func("coalesce", value, exp.Literal.string("")))
        elif m.group(2) == "I":
            pieces.append(exp.Anonymous(this="pgc.main.quote_ident", expressions=[value]))
        else:
            pieces.append(exp.Anonymous(this="pgc.main.quote_nullable", expressions=[value]))
    if pos < len(fmt):
        pieces.append(exp.Literal.string(fmt[pos:]))
    if "%" in _FORMAT_SPEC.sub("", fmt):
        return None  # widths and flags (%-10s): left to DuckDB, which refuses them
    return exp.func("concat", *(pieces or [exp.Literal.string("")]))


def _character_type(value: exp.Expr) -> str | None:
    """The type name of a cast to ``char(n)``/``varchar(n)`` (DuckDB's typeof says VARCHAR), or of
    a string literal (``unknown`` until something gives it a type)."""
    while isinstance(value, exp.Paren):
        value = value.this
    if isinstance(value, exp.Literal) and value.is_string:
        return "unknown"
    to = value.args.get("to") if isinstance(value, exp.Cast) else None
    if isinstance(to, exp.DataType) and to.this in (T.CHAR, T.NCHAR, T.BPCHAR):
        return "character"
    if isinstance(to, exp.DataType) and to.this in (T.VARCHAR, T.NVARCHAR) and value.meta.get("spelled") != "text":
        return "character varying"
    return None


def functions(tree: exp.Expr) -> bool:
    """format(), pg_typeof(), EXTRACT; returns whether the catalog macros are needed."""
    needs_catalog = False
    for func in list(tree.find_all(exp.Anonymous, exp.Format if hasattr(exp, "Format") else exp.Anonymous)):
        name = func.name.lower() if isinstance(func, exp.Anonymous) else "format"
        if name == "format" or func.meta.get("spelled") == "format":
            replacement = _format(func)
            if replacement is not None:
                func.replace(replacement)
                needs_catalog = True
    for func in list(tree.find_all(exp.Anonymous)):
        if func.name.lower() == "pg_typeof" and len(func.expressions) == 1:  # PostgreSQL's type names
            named = _character_type(func.expressions[0])
            if named is not None:  # DuckDB has only VARCHAR
                func.replace(exp.Literal.string(named))
                continue
            typeof = exp.Anonymous(this="typeof", expressions=[func.expressions[0].copy()])
            func.replace(exp.Anonymous(this="pgc.main.pg_typeof_name", expressions=[typeof]))
            needs_catalog = True
    for pipe in list(tree.find_all(exp.DPipe)):
        sides = (pipe.this, pipe.expression)
        if any(isinstance(side, (exp.Array, exp.ArrayAgg)) for side in sides):
            # array || array: a NULL array is empty in PostgreSQL, DuckDB's || makes the whole NULL
            pipe.replace(exp.ArrayConcat(this=pipe.this.copy(), expressions=[pipe.expression.copy()]))
    for node in list(tree.find_all(exp.Length, exp.StrPosition, exp.ArraySize, exp.BitLength, exp.Anonymous)):
        if isinstance(node, exp.Anonymous) and node.name.lower() != "cardinality":
            continue
        node.replace(exp.cast(node.copy(), "INTEGER"))  # int4 in PostgreSQL, BIGINT in DuckDB
    for node in list(tree.find_all(exp.StrToTime, exp.Localtimestamp, exp.Localtime)):  # in the session's zone
        if isinstance(node, exp.StrToTime):
            node.replace(exp.cast(node.copy(), "TIMESTAMPTZ"))  # to_timestamp(text, fmt)
            continue
        local = exp.cast(exp.CurrentTimestamp(), "TIMESTAMP")  # localtimestamp, localtime: now() there
        node.replace(local if isinstance(node, exp.Localtimestamp) else exp.cast(local, "TIME"))
    for extract in list(tree.find_all(exp.Extract)):
        field = extract.this.name.lower() if extract.this is not None else ""
        value: exp.Expr = extract.copy()
        if field in ("second", "seconds", "millisecond", "milliseconds"):
            # with the fraction in PostgreSQL (7.250000); DuckDB's are whole: from the microseconds
            micros = exp.Extract(this=exp.var("microseconds"), expression=extract.expression.copy())
            value = exp.Mul(
                this=exp.cast(micros, exp.DataType.build("DECIMAL(38, 0)")),
                expression=exp.Literal.number("0.000001" if field.startswith("second") else "0.001"),
            )
        if extract.meta.get("spelled") == "date_part":
            extract.replace(exp.cast(value, "DOUBLE"))
        elif field in ("epoch", "second", "seconds"):
            scale = 0 if field == "epoch" and _declared(extract.expression, {}) == "date" else 6  # a date's: whole
            extract.replace(exp.cast(value, exp.DataType.build(f"DECIMAL(38, {scale})")))
        elif field in ("millisecond", "milliseconds"):
            extract.replace(exp.cast(value, exp.DataType.build("DECIMAL(38, 3)")))
        else:
            extract.replace(exp.cast(extract.copy(), exp.DataType.build("DECIMAL(38, 0)")))
    return needs_catalog


def text_shapes(tree: exp.Expr, kinds: dict[str, str]) -> None:
    """Calls PostgreSQL answers and DuckDB refuses or reads otherwise: ``octet_length('literal')``
    (DuckDB: no octet_length of text), ``ARRAY[1,2] || 3`` and ``3 || ARRAY[1,2]`` (an element
    appended or prepended; DuckDB: no list_concat of a list and a number), ``substring(s FROM
    'regex')`` (the first match of a regular expression, or of its first parenthesized part; NULL
    without a match; DuckDB read the pattern as the start position).

    >>> import sqlglot
    >>> tree = sqlglot.parse_one("SELECT octet_length('ab'), ARRAY[1] || 2, substring(s FROM 'o(.)b')", read="postgres")
    >>> text_shapes(tree, {})
    >>> tree.sql("duckdb")
    "SELECT CAST(STRLEN('ab') AS INT), LIST_APPEND([1], 2), CASE WHEN REGEXP_MATCHES(s, 'o(.)b') THEN REGEXP_EXTRACT(s, 'o(.)b', 1) END"
    """
    from chaosql.server.semantics.kinds import _kind

    for node in list(tree.find_all(exp.Anonymous, exp.DPipe, exp.ArrayConcat, exp.Substring)):
        if isinstance(node, exp.Anonymous):
            args = node.expressions
            if node.name.lower() == "octet_length" and len(args) == 1 and isinstance(args[0], exp.Literal):
                if args[0].is_string:
                    node.replace(exp.cast(exp.func("strlen", args[0].copy()), "INTEGER"))
        elif isinstance(node, (exp.DPipe, exp.ArrayConcat)):
            others = node.expressions if isinstance(node, exp.ArrayConcat) else [node.expression]
            if len(others) != 1:
                continue
            left, right = node.this, others[0]
            if isinstance(left, exp.Array) and not isinstance(right, exp.Array) and _kind(right, kinds):
                node.replace(exp.func("list_append", left.copy(), right.copy()))
            elif isinstance(right, exp.Array) and not isinstance(left, exp.Array) and _kind(left, kinds):
                node.replace(exp.func("list_prepend", left.copy(), right.copy()))
        else:
            pattern = node.args.get("start")
            if isinstance(pattern, exp.Literal) and pattern.is_string and node.args.get("length") is None:
                group = 1 if re.search(r"\((?!\?)", pattern.this) else 0
                found = exp.RegexpExtract(
                    this=node.this.copy(), expression=pattern.copy(), group=exp.Literal.number(group)
                )
                matches = exp.RegexpLike(this=node.this.copy(), expression=pattern.copy())
                found.meta["regex_of"] = matches.meta["regex_of"] = "substring"  # for refusals' messages
                node.replace(exp.Case(ifs=[exp.If(this=matches, true=found)]))


#: PostgreSQL's regular-expression functions DuckDB has under the same name: (pattern, flags) argument positions
_REGEX_FUNCTIONS = {"regexp_split_to_array": (1, 2), "regexp_split_to_table": (1, 2), "regexp_match": (1, 2)}
#: the regular-expression nodes sqlglot parses PostgreSQL's operators and functions into
REGEX_NODES = (
    exp.RegexpLike,
    exp.RegexpILike,
    exp.RegexpReplace,
    exp.RegexpExtract,
    exp.RegexpCount,
    exp.RegexpSubstr,
)
#: what \s is in PostgreSQL (isspace: vertical tab too); RE2's \s has no \v
_SPACE = "\\t\\n\\v\\f\\r "


def regular_expressions(tree: exp.Expr, kinds: dict[str, str]) -> None:
    r"""Regular expressions (``~``, ``~*``, ``regexp_replace``, ``substring(s FROM 'regex')``,
    ``regexp_split_to_*``, ``regexp_match``) are PostgreSQL's ARE syntax; DuckDB's are RE2. A
    literal pattern is translated where the two agree once spelled differently (``.`` matches a
    newline, ``\s`` a vertical tab, ``\Z`` and ``\y``), and refused (0A000) where they do not
    (see ``posix_regex``); a pattern that is not a literal is refused. ``regexp_matches`` (a set of
    arrays in PostgreSQL, a boolean in DuckDB) is refused.

    >>> import sqlglot
    >>> tree = sqlglot.parse_one(r"SELECT s ~ 'a.b', regexp_replace(s, '\s+', '[\&]', 'g')", read="postgres")
    >>> regular_expressions(tree, {})
    >>> print(tree.sql("duckdb"))
    SELECT REGEXP_MATCHES(s, '(?s)a.b'), REGEXP_REPLACE(s, '(?s)[\t\n\v\f\r ]+', '[\0]', 'g')
    """
    from chaosql.errors import UnsupportedError

    for node in list(tree.find_all(*REGEX_NODES, exp.Anonymous)):
        if isinstance(node, exp.Anonymous):
            name = node.name.lower()
            if name == "regexp_matches":
                raise UnsupportedError("regexp_matches() is not supported: DuckDB's is a boolean; use regexp_match()")
            if name not in _REGEX_FUNCTIONS:
                continue
            at, flags_at = _REGEX_FUNCTIONS[name]
            args = node.expressions
            pattern = args[at] if len(args) > at else None
            flags = args[flags_at] if len(args) > flags_at else None
        else:
            operators: dict[type, str] = {exp.RegexpLike: "~", exp.RegexpILike: "~*"}
            name = node.meta.get("regex_of") or operators.get(
                type(node), type(node).__name__.lower().replace("regexp", "regexp_")
            )
            pattern, flags = node.expression, node.args.get("modifiers")
        if pattern is None:
            continue
        if not (isinstance(pattern, exp.Literal) and pattern.is_string):
            if name == "regexp_match":
                raise UnsupportedError(f"{name} with a pattern that is not a literal is not supported")
            # a parameter's or a column's pattern (pgcli's \\d sends $1): checked when it is known
            pattern.replace(exp.Anonymous(this="pgc.main.pg_regex", expressions=[pattern.copy()]))
            pattern = None
        if flags is not None and not (
            isinstance(flags, exp.Literal) and flags.is_string and set(flags.this) <= set("gic")
        ):
            raise UnsupportedError(f"{name} with flags other than g, i and c is not supported")
        if pattern is not None:
            pattern.replace(exp.Literal.string(posix_regex(pattern.this, name)))
        if isinstance(node, exp.RegexpReplace) and isinstance(node.args.get("replacement"), exp.Literal):
            text = node.args["replacement"].this  # \& is the whole match in PostgreSQL, \0 in RE2
            node.set(
                "replacement",
                exp.Literal.string(re.sub(r"\\(.)", lambda m: "\\0" if m.group(1) == "&" else m.group(0), text)),
            )
        if name == "regexp_match":
            value, pattern = node.expressions[0], node.expressions[1]
            if flags is not None and "g" in flags.this:
                from chaosql.errors import SqlError

                raise SqlError('regexp_match() does not support the "global" option', sqlstate="22023")
            if _folds_case(flags):
                value = _ascii_cased(value, pattern, name)
                pattern = exp.Literal.string("(?i)" + pattern.this)
            node.replace(_regexp_match(value, pattern))
        elif isinstance(node, exp.RegexpCount):
            node.replace(exp.cast(node.copy(), "INTEGER"))  # int4 in PostgreSQL


def _regexp_match(value: exp.Expr, pattern: exp.Literal) -> exp.Expr:
    """regexp_match(s, p): the first match's parenthesized parts as text[] (the whole match
    without any), NULL without a match. A part that may not take part in the match (behind ``?``,
    ``*``, ``|``, ``{``) is NULL in PostgreSQL and '' in DuckDB: refused."""
    from chaosql.errors import UnsupportedError

    groups = len(re.findall(r"(?<!\\)\((?!\?)", pattern.this))
    if groups and re.search(r"[?*|{]", re.sub(r"^(\(\?[si]\))+", "", pattern.this)):
        raise UnsupportedError("regexp_match() of a pattern with optional parts is not supported")
    parts = [
        exp.RegexpExtract(this=value.copy(), expression=pattern.copy(), group=exp.Literal.number(g))
        for g in (range(1, groups + 1) if groups else [0])
    ]
    return exp.Case(
        ifs=[
            exp.If(this=exp.RegexpLike(this=value.copy(), expression=pattern.copy()), true=exp.Array(expressions=parts))
        ]
    )


def posix_regex(pattern: str, where: str = "a regular expression") -> str:
    r"""A PostgreSQL (ARE) regular expression as RE2 reads it the same way, or UnsupportedError
    naming the construct whose meaning differs: back-references, ``\b`` (backspace in
    PostgreSQL), ``\m``/``\M``/``[[:<:]]``, look-around and embedded options, non-greedy
    quantifiers (PostgreSQL's greediness is the whole expression's), collating elements, octal and
    hex escapes.

    >>> posix_regex(r"^\d+\s*\Z")
    '(?s)^\\d+[\\t\\n\\v\\f\\r ]*\\z'
    >>> posix_regex(r"(a)\1")
    Traceback (most recent call last):
    ...
    chaosql.errors.UnsupportedError: a regular expression with a back-reference (\1) is not supported
    """
    from chaosql.errors import UnsupportedError

    def refuse(what: str) -> UnsupportedError:
        return UnsupportedError(f"{where} with {what} is not supported")

    if pattern.startswith("***"):
        raise refuse("a director (***)")
    out: list[str] = []
    i, n, bracket, first = 0, len(pattern), False, False  # first: at a bracket's first member
    quantified = False  # the last thing written was a quantifier
    while i < n:
        c = pattern[i]
        if c == "\\" and i + 1 < n:
            e = pattern[i + 1]
            i += 2
            if e.isdigit():
                raise refuse(f"a back-reference (\\{e})" if e != "0" and not bracket else f"an octal escape (\\{e})")
            if e in "bBmMcxeuU" or (bracket and e == "S"):
                raise refuse(f"the escape \\{e}")
            if e == "s":
                out.append(_SPACE if bracket else f"[{_SPACE}]")
            elif e == "S":
                out.append(f"[^{_SPACE}]")
            else:
                out.append({"Z": "\\z", "y": "\\b", "Y": "\\B"}.get(e, "\\" + e))
            quantified = False
            continue
        if bracket:
            if c == "[" and i + 1 < n and pattern[i + 1] in ".=:":
                if pattern[i + 1] != ":":
                    raise refuse("a collating element or equivalence class")
                end = pattern.find(":]", i + 2)
                if end < 0 or pattern[i + 2 : end] in ("<", ">"):
                    raise refuse("a word-boundary class")
                out.append(pattern[i : end + 2])
                i = end + 2
                continue
            if c == "]" and not first:
                bracket = False
            first = False
            out.append(c)
            i += 1
            continue
        if c == "[":
            if pattern.startswith(("[[:<:]]", "[[:>:]]"), i):
                raise refuse("a word-boundary class")
            bracket, first = True, True
            out.append(c)
            i += 1
            if i < n and pattern[i] == "^":
                out.append("^")
                i += 1
            continue
        if c == "(" and i + 1 < n and pattern[i + 1] == "?" and not pattern.startswith("(?:", i):
            raise refuse("embedded options or look-around ((?...)")
        if c == "?" and quantified:
            raise refuse("a non-greedy quantifier")
        quantified = c in "*+?}"
        out.append(c)
        i += 1
    return "(?s)" + "".join(out)


_ASCII_LOWER, _ASCII_UPPER = "abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def text_cases_and_orders(tree: exp.Expr, kinds: dict[str, str]) -> None:
    """``upper``/``lower`` change ASCII letters only, as PostgreSQL's do in the server's C locale
    (DuckDB's change every letter: ``upper('straße')`` is ``STRASSE``... ``STRAẞE``); ``array_agg``
    and ``string_agg`` of ``DISTINCT`` values list them sorted, as PostgreSQL's sort for
    DISTINCT does (DuckDB: in hash order).

    >>> import sqlglot
    >>> tree = sqlglot.parse_one("SELECT lower(x), array_agg(DISTINCT k)", read="postgres")
    >>> text_cases_and_orders(tree, {})
    >>> tree.sql("duckdb")
    "SELECT TRANSLATE(x, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz'), ARRAY_AGG(DISTINCT k ORDER BY k)"
    """
    for node in list(tree.find_all(exp.Upper, exp.Lower, exp.ArrayAgg, exp.GroupConcat)):
        if isinstance(node, (exp.Upper, exp.Lower)):
            node.replace(_ascii_case_translated(node.this, upper=isinstance(node, exp.Upper)))
            continue
        distinct = node.this
        if isinstance(distinct, exp.Distinct) and len(distinct.expressions) == 1:
            value = distinct.expressions[0]
            node.set(
                "this",
                exp.Order(this=distinct.copy(), expressions=[exp.Ordered(this=value.copy(), nulls_first=False)]),
            )


def _ascii_case_translated(value: exp.Expr, *, upper: bool) -> exp.Expr:
    """``translate(value, ...)``: its ASCII letters made upper or lower case and every other
    character kept, as PostgreSQL's case mapping in the C locale does (DuckDB's maps every letter)."""
    source, target = (_ASCII_LOWER, _ASCII_UPPER) if upper else (_ASCII_UPPER, _ASCII_LOWER)
    return exp.func("translate", value.copy(), exp.Literal.string(source), exp.Literal.string(target))


def _ascii_lower(value: exp.Expr) -> exp.Expr:
    """``value`` with its ASCII letters lowered (a literal's here, once), as ILIKE compares them."""
    if isinstance(value, exp.Literal) and value.is_string:
        return exp.Literal.string(value.this.translate(_TO_ASCII_LOWER))
    return _ascii_case_translated(value, upper=False)


_TO_ASCII_LOWER = str.maketrans(_ASCII_UPPER, _ASCII_LOWER)


def case_insensitive_matches(tree: exp.Expr, kinds: dict[str, str]) -> None:
    r"""``ILIKE``, ``~*`` and ``initcap`` as in PostgreSQL's C locale, where only ASCII letters have
    a case (DuckDB folds every letter: ``'É' ILIKE 'é'`` was true). ``a ILIKE p`` is ``a LIKE p``
    with both sides' ASCII letters lowered; ``a ~* 'p'`` is ``a ~ 'p'`` the same way (a pattern
    that is not a literal is refused, as lowering it could change its escapes); ``initcap`` of a
    text with a non-ASCII character is refused when it runs (PostgreSQL does not see such a
    character as a letter, DuckDB does).

    >>> import sqlglot
    >>> tree = sqlglot.parse_one(r"SELECT x ILIKE 'A%', x ~* '^K[A-F]\D'", read="postgres")
    >>> case_insensitive_matches(tree, {})
    >>> print(tree.sql("duckdb"))
    SELECT TRANSLATE(x, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz') LIKE 'a%', REGEXP_MATCHES(TRANSLATE(x, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz'), '^k[a-f]\D')
    """
    from chaosql.errors import UnsupportedError

    for node in list(tree.find_all(exp.ILike, exp.RegexpILike, exp.Initcap, exp.RegexpReplace, exp.Anonymous)):
        if isinstance(node, (exp.RegexpReplace, exp.Anonymous)):  # the flag i
            if isinstance(node, exp.RegexpReplace):
                flags, name, args = node.args.get("modifiers"), "regexp_replace", [node.this, node.expression]
            elif node.name.lower() in ("regexp_split_to_array", "regexp_split_to_table"):
                flags, name, args = (node.expressions + [None, None, None])[2], node.name.lower(), node.expressions
            else:
                continue
            if _folds_case(flags):
                args[0].replace(_ascii_cased(args[0], args[1], name))
        elif isinstance(node, exp.ILike):
            like = exp.Like(this=_ascii_lower(node.this), expression=_ascii_lower(node.expression))
            like.set("negate", node.args.get("negate"))
            node.replace(like)
        elif isinstance(node, exp.RegexpILike):
            pattern = node.expression
            if not (isinstance(pattern, exp.Literal) and pattern.is_string):
                raise UnsupportedError("~* with a pattern that is not a literal is not supported")
            folded = exp.Literal.string(_ascii_lower_regex(pattern.this))
            node.replace(exp.RegexpLike(this=_ascii_lower(node.this), expression=folded))
        else:
            node.set("this", _ascii_only(node.this, "initcap()"))


def _folds_case(flags: exp.Expr | None) -> bool:
    """Whether a regular expression's flags (``'gi'``) make it case-insensitive (the last of i, c)."""
    if not (isinstance(flags, exp.Literal) and flags.is_string):
        return False
    last = [f for f in flags.this if f in "ic"]
    return bool(last) and last[-1] == "i"


def _ascii_only(value: exp.Expr, what: str) -> exp.Expr:
    """``value``, refused when it runs if it holds a non-ASCII character (more bytes than characters)."""
    refusal = exp.func(
        "error",
        exp.Literal.string(
            f"{what} of a text with non-ASCII characters is not supported: "
            "only ASCII letters have a case in PostgreSQL's C locale"
        ),
    )
    different = exp.NEQ(this=exp.func("strlen", value.copy()), expression=exp.Length(this=value.copy()))
    return exp.Case(ifs=[exp.If(this=different, true=refusal)], default=value.copy())


def _ascii_cased(value: exp.Expr, pattern: exp.Expr, name: str) -> exp.Expr:
    """The text a case-insensitive regular expression (flag i) reads, refused unless it and the
    pattern are ASCII: DuckDB's (RE2's) case folding knows every letter (``'É'`` and ``'é'``, and
    ``'ſ'`` and ``'s'``), PostgreSQL's C locale ASCII letters only."""
    from chaosql.errors import UnsupportedError

    if not (isinstance(pattern, exp.Literal) and pattern.is_string and pattern.this.isascii()):
        raise UnsupportedError(f"{name} with the flag i and a pattern that is not an ASCII literal is not supported")
    return _ascii_only(value, f"{name} with the flag i")


def _ascii_lower_regex(pattern: str) -> str:
    r"""A case-insensitive regular expression as a case-sensitive one that matches a text whose
    ASCII letters are lowered the same way: its letters lowered, escapes kept (``\D`` is not
    ``\d``); a bracket range between letters of different cases or between a letter and a
    non-letter, and ``[:upper:]``/``[:lower:]``, are refused.

    >>> print(_ascii_lower_regex(r"^Ab[A-Fx_][[:alpha:]]\W"))
    ^ab[a-fx_][[:alpha:]]\W
    """
    from chaosql.errors import UnsupportedError

    out: list[str] = []
    i, n, bracket = 0, len(pattern), False
    while i < n:
        c = pattern[i]
        if c == "\\" and i + 1 < n:
            out.append(pattern[i : i + 2])
            i += 2
            continue
        if bracket and pattern.startswith("[:", i):
            end = pattern.find(":]", i + 2)
            name = pattern[i + 2 : end] if end >= 0 else ""
            if name in ("upper", "lower"):
                raise UnsupportedError(f"~* with [:{name}:] is not supported")
            out.append(pattern[i : end + 2] if end >= 0 else c)
            i = end + 2 if end >= 0 else i + 1
            continue
        if bracket and c == "-" and out and i + 1 < n and pattern[i + 1] != "]":
            low, high = pattern[i - 1], pattern[i + 1]
            if (low.isascii() and low.isalpha()) or (high.isascii() and high.isalpha()):
                if not (low.isascii() and high.isascii() and low.isalpha() and high.isalpha()) or (
                    low.isupper() != high.isupper()
                ):
                    raise UnsupportedError(f"~* with the range {low}-{high} is not supported")
        if c == "[" and not bracket:
            bracket = True
            out.append(c)
            i += 1
            if i < n and pattern[i] == "^":
                out.append("^")
                i += 1
            if i < n and pattern[i] == "]":  # a first ] is a member
                out.append("]")
                i += 1
            continue
        if c == "]" and bracket:
            bracket = False
        out.append(c.translate(_TO_ASCII_LOWER))
        i += 1
    return "".join(out)
