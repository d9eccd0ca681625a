"""``to_char(timestamp, template)`` and ``to_char(number, template)`` as PostgreSQL writes them."""

from __future__ import annotations

import re

from sqlglot import exp

T = exp.DataType.Type


#: to_char's template patterns chaosql writes, as strftime (FM: without padding); case matters
_TEMPLATE = [
    ("FMMonth", "%B"), ("FMDay", "%A"), ("FMDD", "%-d"), ("FMMM", "%-m"), ("FMHH24", "%-H"), ("FMHH12", "%-I"),
    ("FMHH", "%-I"), ("FMMI", "%-M"), ("FMSS", "%-S"), ("YYYY", "%Y"), ("DDD", "%j"), ("YY", "%y"), ("MM", "%m"),
    ("DD", "%d"), ("HH24", "%H"), ("HH12", "%I"), ("HH", "%I"), ("MI", "%M"), ("SS", "%S"), ("MS", "%g"),
    ("US", "%f"), ("AM", "%p"), ("PM", "%p"), ("Mon", "%b"), ("Dy", "%a"),
]  # fmt: skip


def _matches(template: str, i: int, pattern: str) -> bool:
    """Number patterns are read in either case (``yyyy``); names and AM/PM as written (``MON``,
    ``am`` would be upper- and lower-case names: not written by chaosql)."""
    if pattern.isupper() and pattern not in ("AM", "PM"):
        return template[i : i + len(pattern)].upper() == pattern
    return template.startswith(pattern, i)


def to_char_templates(tree: exp.Expr) -> None:
    """``to_char(timestamp, template)`` with PostgreSQL's template patterns; one chaosql does not
    write (``Month`` padded to 9, ``Q``, ``IW`` ...) is refused (0A000), never printed as text.

    >>> import sqlglot
    >>> from chaosql.engine.dialect import Postgres
    >>> sql = "SELECT to_char(ts, 'FMMonth Dy, YYYY-MM-DD HH24:MI 100%')"
    >>> tree = sqlglot.parse_one(sql, read=Postgres)
    >>> to_char_templates(tree)
    >>> print(tree.sql("duckdb"))
    SELECT STRFTIME(ts, '%B %a, %Y-%m-%d %H:%M 100%%')
    """
    from chaosql.errors import UnsupportedError

    for node in list(tree.find_all(exp.TimeToStr)):
        template = node.meta.get("pg_template")
        if template is None:
            continue
        if _NUMBER_TEMPLATE.fullmatch(template):  # to_char(number, '999.99')
            node.replace(_number_text(node.this, template))
            continue
        out, i = [], 0
        while i < len(template):
            if template[i] == '"':  # quoted text is written as it is
                end = template.find('"', i + 1)
                end = len(template) if end < 0 else end
                out.append(template[i + 1 : end].replace("%", "%%"))
                i = end + 1
                continue
            pattern = next((p for p in _TEMPLATE if _matches(template, i, p[0])), None)
            if pattern is None and template[i].isalpha():
                raise UnsupportedError(
                    f'to_char template pattern at "{template[i : i + 8]}" is not supported (quote literal text: "T")'
                )
            out.append(pattern[1] if pattern else template[i].replace("%", "%%"))
            i += len(pattern[0]) if pattern else 1
        node.set("format", exp.Literal.string("".join(out)))


#: a number's template: digit positions and only the letters of number patterns (FM, S, MI, PR, PL,
#: SG, L, V, EEEE, RN, TH, G, D); a date's has other letters (a 0 in its text is written as it is)
_NUMBER_TEMPLATE = re.compile(r"(?=.*[90])[90,.\sFMSIPRLGVEDNTHB]+", re.I)


def _number_text(value: exp.Expr, template: str) -> exp.Expr:
    """``to_char(number, template)`` for the templates of digits (``9`` blank-padded, ``0``
    zero-padded), ``,``/``G``, ``.``/``D`` and ``FM``, as PostgreSQL writes them: rounded to the
    template's decimals (a numeric half away from zero, a double as printf), a sign position before
    the number, ``#`` when the number has more digits than the template; ``FM`` drops the padding
    and the fraction's trailing zeros. Any other pattern (``S``, ``MI``, ``PR``, ``EEEE``, ``RN``,
    ``V``, ``L``, ``TH``) is refused (0A000).

    >>> import sqlglot, duckdb
    >>> def run(v, t):
    ...     return duckdb.sql("SELECT " + _number_text(sqlglot.parse_one(v), t).sql("duckdb")).fetchall()[0][0]
    >>> [run("1234.5", "FM999999.99"), run("42", "0000"), run("1234567", "9,999,999"), run("3.14159", "999.99")]
    ['1234.5', ' 0042', ' 1,234,567', '   3.14']
    >>> [run("-0.5", "999.99"), run("12345", "9,999"), run("0", "FM999.99"), run("2.5::double", "999")]
    ['   -.50', ' #,###', '0.', '   2']
    """
    from chaosql.errors import UnsupportedError

    fill = template[2:] if template[:2].upper() == "FM" else template
    parts = re.fullmatch(r"([90,G]*)(?:([.D])([90]*))?", fill)
    if parts is None:
        raise UnsupportedError(
            f'to_char template "{template}" for a number is not supported: chaosql writes digits (9, 0), '
            "separators (, . G D) and FM"
        )
    whole, pointed, fraction = parts[1], bool(parts[2]), parts[3] or ""
    digits, places = sum(c in "90" for c in whole), len(fraction)
    padded_from = next((i for i, c in enumerate(c for c in whole if c in "90") if c == "0"), digits)
    v = "__v"
    number = (
        f"CASE WHEN typeof({v}) IN ('DOUBLE', 'FLOAT') THEN printf('%.{places}f', abs({v})) "
        f"ELSE CAST(abs(CAST({v} AS DECIMAL(38, {places}))) AS VARCHAR) END"
    )
    integer = f"split_part({number}, '.', 1)"
    if places:  # a zero integer part is no digit when there is a fraction (.50)
        integer = f"CASE WHEN {integer} = '0' THEN '' ELSE {integer} END"
    blanked = f"lpad({integer}, {digits}, ' ')"
    if padded_from < digits:
        blanked = f"left({blanked}, {padded_from}) || replace(substr({blanked}, {padded_from + 1}), ' ', '0')"
    pieces, seen = [], 0
    for c in whole:  # a separator is written once a digit is
        if c in "90":
            seen += 1
            pieces.append(f"substr({blanked}, {seen}, 1)")
        else:
            pieces.append(f"CASE WHEN trim(left({blanked}, {seen})) = '' THEN ' ' ELSE ',' END")
    int_part = " || ".join(pieces) or "''"
    frac = f"split_part({number}, '.', 2)" if places else "''"
    last_zero = fraction.rfind("0") + 1
    fm_frac = f"left({frac}, {last_zero}) || rtrim(substr({frac}, {last_zero + 1}), '0')" if places else "''"
    negative = f"({v} < 0 AND regexp_matches({number}, '[1-9]'))"
    overflow = "true" if not digits else f"length({integer}) > {digits}"
    hashes = re.sub(r"[90]", "#", whole.replace("G", ",")) + ("." + "#" * places if pointed else "")
    point = "'.'" if pointed else "''"
    if fill is template:
        body = f"({int_part}) || {point} || {frac}"
        sign = f"CASE WHEN {negative} THEN '-' ELSE ' ' END"
        text = f"repeat(' ', length({body}) - length(ltrim({body}))) || {sign} || ltrim({body})"
    else:
        shown = f"ltrim({int_part})"
        sign = f"CASE WHEN {negative} THEN '-' ELSE '' END"
        text = f"{sign} || CASE WHEN {shown} = '' AND {fm_frac} = '' THEN '0' ELSE {shown} END || {point} || {fm_frac}"
    sql = f"CASE WHEN {v} IS NULL THEN NULL WHEN {overflow} THEN {sign} || '{hashes}' ELSE {text} END"
    import sqlglot

    out = sqlglot.parse_one(sql, read="duckdb")
    for column in list(out.find_all(exp.Column)):
        if column.name == v:
            column.replace(value.copy())
    return out
