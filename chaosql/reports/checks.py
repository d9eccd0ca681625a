"""Checks: what a query's result must look like for a report (or ``chaosql run``) to pass.

A check is declared in a saved query's header (``-- check: empty``) or in a report's
``[[query]]`` (``check = "empty"`` or ``check = { column = "n", max = 5 }``):

- ``empty``: the query must return no rows (e.g. nothing stuck injecting);
- ``min_rows`` / ``max_rows``: bounds on the number of rows;
- ``min`` / ``max`` (with an optional ``column``, default the first): bounds on the value in the
  first row; no row, or NULL, fails.

>>> Check.parse("empty").verify(["n"], [])
>>> Check.parse("column=n max=5").verify(["n"], [(7,)])
'n = 7, above the maximum 5'
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from chaosql.errors import UsageError

_KEYS = {"empty", "min_rows", "max_rows", "column", "min", "max"}


@dataclass(frozen=True)
class Check:
    min_rows: int | None = None
    max_rows: int | None = None
    column: str | None = None
    min: float | None = None
    max: float | None = None

    @classmethod
    def parse(cls, spec: Any, *, where: str = "check") -> Check | None:
        """A check from a header string (``empty``, ``max_rows=0``, ``column=n min=1 max=9``) or a TOML value."""
        if spec is None or spec is False:
            return None
        if isinstance(spec, str):
            spec = spec.strip()
            if spec in ("", "none"):
                return None
            if spec == "empty":
                return cls(max_rows=0)
            items: dict[str, Any] = {}
            for part in spec.split():
                key, eq, value = part.partition("=")
                if not eq:
                    raise UsageError(
                        f"{where}: expected empty or KEY=VALUE pairs, not {part!r}",
                        hint="keys: " + ", ".join(sorted(_KEYS - {"empty"})),
                    )
                items[key] = value
            spec = items
        if not isinstance(spec, dict):
            raise UsageError(f'{where}: expected "empty" or a table like {{ column = "n", max = 5 }}')
        unknown = set(spec) - _KEYS
        if unknown:
            raise UsageError(f"{where}: unknown key {sorted(unknown)[0]!r}", hint="keys: " + ", ".join(sorted(_KEYS)))
        if spec.get("empty") in (True, "true"):
            return cls(max_rows=0)
        try:
            check = cls(
                min_rows=_int(spec.get("min_rows")),
                max_rows=_int(spec.get("max_rows")),
                column=spec.get("column"),
                min=_num(spec.get("min")),
                max=_num(spec.get("max")),
            )
        except (TypeError, ValueError) as err:
            raise UsageError(f"{where}: {err}") from None
        if check == cls():
            raise UsageError(f"{where}: says nothing to check", hint="use empty, min_rows, max_rows, min or max")
        return check

    def verify(self, columns: list[str], rows: Sequence[tuple]) -> str | None:
        """``None`` when the result passes, else one line saying what is wrong."""
        n = len(rows)
        if self.max_rows is not None and n > self.max_rows:
            return f"{n} rows, expected none" if self.max_rows == 0 else f"{n} rows, more than {self.max_rows}"
        if self.min_rows is not None and n < self.min_rows:
            return f"{n} rows, fewer than {self.min_rows}"
        if self.min is None and self.max is None:
            return None
        name = self.column or (columns[0] if columns else "?")
        if name not in columns:
            return f"no column {name!r} in the result (columns: {', '.join(columns)})"
        if not rows:
            return f"no row, so no value of {name} to check"
        value = rows[0][columns.index(name)]
        if value is None:
            return f"{name} is NULL"
        try:
            number = float(value)
        except (TypeError, ValueError):
            return f"{name} = {value!r} is not a number"
        if self.min is not None and number < self.min:
            return f"{name} = {_show(value)}, below the minimum {_show(self.min)}"
        if self.max is not None and number > self.max:
            return f"{name} = {_show(value)}, above the maximum {_show(self.max)}"
        return None

    def describe(self) -> str:
        if self.max_rows == 0 and self.min_rows is None and self.min is None and self.max is None:
            return "no rows"
        parts = []
        if self.min_rows is not None:
            parts.append(f"at least {self.min_rows} rows")
        if self.max_rows is not None:
            parts.append(f"at most {self.max_rows} rows")
        if self.min is not None or self.max is not None:
            name = self.column or "first column"
            lo = _show(self.min) if self.min is not None else "-inf"
            hi = _show(self.max) if self.max is not None else "+inf"
            parts.append(f"{name} in [{lo}, {hi}]")
        return ", ".join(parts)


def _int(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or int(value) < 0:
        raise ValueError(f"row bounds take a whole number >= 0, not {value!r}")
    return int(value)


def _num(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError(f"bounds take a number, not {value!r}")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ValueError(f"bounds take a number, not {value!r}") from None


def _show(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
