"""Charts for reports, drawn by matplotlib (imported only when a report draws one).

A chart spec names the x column, the y column (a number) and optionally a series column whose
values become one bar group or line each: ``{type = "bar", x = "day", y = "n", series = "cluster"}``.
``hline`` (a y value) and ``vline`` (an x value) draw reference lines: a sweep marks the check's
bound and its breaking point with them.
Output is SVG text to inline in HTML (glyphs drawn as paths: no font is loaded from anywhere) or
PNG bytes for Markdown.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal, overload

KINDS = ("bar", "barh", "line")
#: Colours that stay apart for colour-blind readers (Okabe–Ito).
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000")


class ChartError(ValueError):
    """The chart does not fit the result (a named column is missing, y is not a number)."""


@overload
def draw(chart: dict[str, Any], columns: list[str], rows: Sequence[tuple], *, fmt: Literal["svg"] = ...) -> str: ...
@overload
def draw(chart: dict[str, Any], columns: list[str], rows: Sequence[tuple], *, fmt: Literal["png"]) -> bytes: ...
def draw(chart: dict[str, Any], columns: list[str], rows: Sequence[tuple], *, fmt: str = "svg") -> str | bytes:
    """The chart as SVG text (``fmt="svg"``) or PNG bytes (``fmt="png"``)."""
    x_name = chart.get("x") or (columns[0] if columns else "")
    # y is one column, or several ("p99_before,p99_during,p99_after"): then each is a series
    y_names = [y.strip() for y in str(chart.get("y") or (columns[-1] if columns else "")).split(",") if y.strip()]
    series_name = chart.get("series")
    check_columns(chart, columns)
    xi, yis = columns.index(x_name), [columns.index(y) for y in y_names]
    si = columns.index(series_name) if series_name else None
    y_name = y_names[0] if len(y_names) == 1 else "value"

    xs: list[Any] = []
    data: dict[str, dict[Any, float]] = {}
    for row in rows:
        x = row[xi]
        if x not in xs:
            xs.append(x)
        for name, yi in zip(y_names, yis):
            y = row[yi]
            if isinstance(y, bool) or (y is not None and not isinstance(y, (int, float, Decimal))):
                raise ChartError(f"chart: y column {name!r} must be a number, found {type(y).__name__}")
            key = str(row[si]) if si is not None else name
            data.setdefault(key, {})[x] = data.get(key, {}).get(x, 0.0) + float(y or 0)

    import matplotlib

    matplotlib.use("Agg")  # no display; safe in cron
    from matplotlib.figure import Figure

    with matplotlib.rc_context(
        {
            "svg.fonttype": "path",
            "svg.hashsalt": "chaosql",
            "font.size": 9,
            "axes.spines.top": False,
            "axes.spines.right": False,
        }
    ):
        kind = chart.get("type", "bar")
        # horizontal bars get taller with their number, so every label stays readable
        height = max(3.4, 0.22 * len(xs) + 1.0) if kind == "barh" else 3.4
        fig = Figure(figsize=(9.5, min(height, 12.0)), dpi=100)
        ax = fig.add_subplot()
        stacked = str(chart.get("stacked", "true")).lower() != "false"
        labels = [_label(x) for x in xs]
        if kind == "line":
            for i, (key, values) in enumerate(data.items()):
                ax.plot(
                    range(len(xs)),
                    [values.get(x, 0.0) for x in xs],
                    marker="o",
                    markersize=3,
                    label=key,
                    color=PALETTE[i % len(PALETTE)],
                )
            _ticks(ax, labels, axis="x")
        else:
            positions = list(range(len(xs)))
            bottom = [0.0] * len(xs)
            width = 0.8 if stacked or len(data) == 1 else 0.8 / len(data)
            for i, (key, values) in enumerate(data.items()):
                heights = [values.get(x, 0.0) for x in xs]
                offset = [
                    p + (0 if stacked or len(data) == 1 else (i - (len(data) - 1) / 2) * width) for p in positions
                ]
                base = bottom if stacked else None
                colour = PALETTE[i % len(PALETTE)]
                if kind == "barh":
                    ax.barh(offset, heights, width, left=base, label=key, color=colour)
                else:
                    ax.bar(offset, heights, width, bottom=base, label=key, color=colour)
                if stacked:
                    bottom = [b + h for b, h in zip(bottom, heights)]
            _ticks(ax, labels, axis="y" if kind == "barh" else "x")
            if kind == "barh":
                ax.invert_yaxis()
        marked = _marks(ax, chart, labels, horizontal=kind == "barh")
        ax.set_xlabel(y_name if kind == "barh" else x_name)
        ax.set_ylabel(x_name if kind == "barh" else y_name)
        if chart.get("title"):
            ax.set_title(chart["title"])
        if len(data) > 1 or marked:
            ax.legend(title=series_name, frameon=False, fontsize=8)
        ax.grid(axis="x" if kind == "barh" else "y", alpha=0.3)
        fig.tight_layout()
        out = io.BytesIO()
        if fmt == "png":
            fig.savefig(out, format="png")
            return out.getvalue()
        fig.savefig(out, format="svg", metadata={"Date": None, "Creator": None})
    return _inline_svg(out.getvalue().decode("utf-8"))


def _marks(ax: Any, chart: dict[str, Any], labels: list[str], *, horizontal: bool) -> bool:
    """Reference lines: ``hline`` a value of y (a check's bound), ``vline`` an x label (a sweep's
    breaking point). Returns whether any was drawn."""
    drawn = False
    if chart.get("hline") is not None:
        line = ax.axvline if horizontal else ax.axhline
        line(float(chart["hline"]), color="#C62828", linestyle="--", linewidth=1, label=f"limit {chart['hline']:g}")
        drawn = True
    mark = chart.get("vline")
    if mark is not None and str(mark) in labels:
        line = ax.axhline if horizontal else ax.axvline
        line(labels.index(str(mark)), color="#444444", linestyle=":", linewidth=1.2, label=f"breaks at {mark}")
        drawn = True
    return drawn


def check_columns(chart: dict[str, Any], columns: list[str]) -> None:
    """Raise ChartError when the chart names a column the result does not have."""
    names = [chart.get("x"), chart.get("series")] + str(chart.get("y") or "").split(",")
    for name in (n.strip() for n in names if n):
        if name and name not in columns:
            raise ChartError(f"chart: no column {name!r} in the result (columns: {', '.join(columns)})")


def _ticks(ax: Any, labels: list[str], *, axis: str) -> None:
    positions = list(range(len(labels)))
    step = 1 if axis == "y" and len(labels) <= 48 else max(1, len(labels) // 20)  # at most ~20 labels on x
    shown = positions[::step]
    if axis == "x":
        ax.set_xticks(
            shown,
            [labels[i] for i in shown],
            rotation=45 if len(labels) > 6 else 0,
            ha="right" if len(labels) > 6 else "center",
        )
    else:
        ax.set_yticks(shown, [labels[i] for i in shown])


def _label(value: Any) -> str:
    if isinstance(value, datetime):
        return (
            value.strftime("%Y-%m-%d")
            if (value.hour, value.minute, value.second) == (0, 0, 0)
            else value.strftime("%m-%d %H:%M")
        )
    if isinstance(value, date):
        return value.isoformat()
    return "(none)" if value is None else str(value)


def _inline_svg(text: str) -> str:
    """The <svg> element alone: no XML declaration, no DOCTYPE (its DTD URL), no RDF metadata, no comments."""
    start = text.find("<svg")
    text = text[start:]
    text = re.sub(r"<metadata>.*?</metadata>", "", text, flags=re.S)
    return re.sub(r"<!--.*?-->", "", text, flags=re.S)  # matplotlib's comments: the text it drew as paths
