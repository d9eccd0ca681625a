"""Write a report as Markdown, self-contained HTML or JSON, one section at a time.

Sections are written as soon as their query is done, so a long report shows progress on stdout
and ``--out`` never holds more than one section in memory. HTML needs nothing from the network:
styles are inline, charts are inline SVG, CSV/JSON downloads are ``data:`` links, and there is no
script. Its summary is written last but shown first (CSS ``order``).
"""

from __future__ import annotations

import base64
import html
import io
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal, TextIO, overload

from chaosql.output import cell, json_value, with_maps
from chaosql.output import render as render_rows
from chaosql.reports.runner import CHECK_FAILED, ERROR, OK, SOURCE_FAILED, Outcome, Section

DEFAULT_LIMIT = 100
LABELS = {OK: "ok", CHECK_FAILED: "check failed", SOURCE_FAILED: "source failed", ERROR: "error"}


class Renderer:
    """``begin`` once, ``section`` per query, ``end`` once with the whole outcome."""

    def __init__(
        self,
        out: TextIO,
        *,
        title: str,
        description: str = "",
        sources: dict[str, str] | None = None,
        started: datetime | None = None,
    ) -> None:
        self.out, self.title, self.description = out, title, description
        self.sources = sources or {}
        self.started = started or datetime.now().astimezone()

    def begin(self) -> None: ...

    def section(self, section: Section) -> None: ...

    def end(self, outcome: Outcome) -> None: ...

    def flush(self) -> None:
        self.out.flush()


def shown_rows(section: Section, *, default: int | None = DEFAULT_LIMIT) -> Sequence[tuple]:
    limit = section.spec.limit if section.spec.limit is not None else default
    return section.rows if limit is None or limit == 0 else section.rows[:limit]


@overload
def _chart(section: Section, fmt: Literal["svg"]) -> str | None: ...
@overload
def _chart(section: Section, fmt: Literal["png"]) -> bytes | None: ...
def _chart(section: Section, fmt: Literal["svg", "png"]) -> str | bytes | None:
    """The section's chart, or None; a chart that does not fit its data marks the section an error."""
    spec = section.spec
    if not spec.chart or spec.format not in ("chart", "both") or section.status not in (OK, CHECK_FAILED):
        return None
    if section.chart_error or not section.rows:
        return None
    from chaosql.reports.charts import ChartError, draw

    try:
        return draw(spec.chart, section.columns, section.rows, fmt=fmt)
    except ChartError as err:
        section.chart_error = str(err)
        if section.status == OK:
            section.status, section.message = ERROR, str(err)
        return None


def _text(section: Section, fmt: str, rows: Sequence[tuple]) -> str:
    buffer = io.StringIO()
    render_rows(section.columns, section.types, rows, fmt, buffer)
    return buffer.getvalue()


def _summary_line(outcome: Outcome) -> str:
    parts = [f"{len(outcome.sections)} sections"]
    for status in (CHECK_FAILED, SOURCE_FAILED, ERROR):
        n = outcome.count(status)
        if n:
            parts.append(f"{n} {LABELS[status]}")
    return ", ".join(parts) + (" — all ok" if outcome.exit_code == 0 else "")


# --- Markdown ----------------------------------------------------------------------------------


class MarkdownRenderer(Renderer):
    def begin(self) -> None:
        self.out.write(f"# {self.title}\n\n")
        if self.description:
            self.out.write(self.description.strip() + "\n\n")
        self.out.write(
            f"Generated {_stamp(self.started)} from {', '.join(self.sources.values()) or 'the default sources'}.\n\n"
        )

    def section(self, section: Section) -> None:
        spec, w = section.spec, self.out.write
        chart = _chart(section, "png")
        w(f"## {spec.title}\n\n")
        if section.status != OK:
            w(f"> **{LABELS[section.status].upper()}**: {section.message}\n\n")
        elif spec.check:
            w(f"Check passed: {spec.check.describe()}.\n\n")
        if spec.description:
            w(spec.description + "\n\n")
        if section.status in (SOURCE_FAILED, ERROR) and not section.columns:
            return
        if chart:
            w(f"![{spec.title}](data:image/png;base64,{base64.b64encode(chart).decode()})\n\n")
        rows = shown_rows(section)
        if spec.format in ("table", "both", "chart"):  # Markdown has no folding: the data follows the chart
            w(_text(section, "markdown", rows) + "\n" if section.rows else "_No rows._\n\n")
        elif spec.format in ("csv", "json"):
            w(f"```{spec.format}\n{_text(section, spec.format, rows)}```\n\n")
        if len(rows) < len(section.rows):
            w(f"_First {len(rows)} of {len(section.rows)} rows._\n\n")
        for warning in section.warnings:
            w(f"> warning: {warning}\n\n")

    def end(self, outcome: Outcome) -> None:
        self.out.write(f"---\n\n**Summary:** {_summary_line(outcome)}.\n")
        for s in outcome.sections:
            if s.failed:
                self.out.write(f"- {s.spec.id}: {LABELS[s.status]}: {s.message}\n")


# --- HTML --------------------------------------------------------------------------------------

CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:#1d2430;margin:0;background:#f6f7f9}
main{display:flex;flex-direction:column;max-width:1100px;margin:0 auto;padding:24px}
header{order:-2}#summary{order:-1}
h1{font-size:24px;margin:0 0 4px}h2{font-size:18px;margin:0 0 6px}
.meta,.note{color:#5b6472;font-size:12px}
section{background:#fff;border:1px solid #dde1e6;border-left:4px solid #2e7d32;border-radius:6px;padding:14px 16px;margin:10px 0}
section.check-failed{border-left-color:#c62828}section.source-failed,section.error{border-left-color:#ef6c00}
.badge{display:inline-block;font-size:11px;font-weight:600;padding:1px 7px;border-radius:9px;margin-left:8px;vertical-align:middle;background:#e8f5e9;color:#2e7d32}
.check-failed .badge{background:#ffebee;color:#c62828}.source-failed .badge,.error .badge{background:#fff3e0;color:#e65100}
.problem{background:#fff8f6;border:1px solid #f3c1b9;padding:6px 10px;border-radius:4px;margin:6px 0}
.table-wrap{overflow-x:auto;max-height:520px;overflow-y:auto}
table{border-collapse:collapse;font-size:12.5px;width:100%}
th,td{border-bottom:1px solid #eceff3;padding:3px 8px;text-align:left;vertical-align:top;white-space:nowrap;max-width:420px;overflow:hidden;text-overflow:ellipsis}
th{position:sticky;top:0;background:#f0f2f5}td.num{text-align:right;font-variant-numeric:tabular-nums}
figure.chart{margin:6px 0}figure.chart svg{max-width:100%;height:auto}
#summary ul{margin:4px 0 0;padding-left:20px}pre{background:#f4f5f7;padding:8px;overflow:auto;font-size:12px}
"""


class HtmlRenderer(Renderer):
    def begin(self) -> None:
        t = html.escape(self.title)
        self.out.write(
            f'<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{t}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<main>\n"
            f"<header><h1>{t}</h1>\n"
        )
        if self.description:
            self.out.write(f"<p>{html.escape(self.description)}</p>\n")
        sources = ", ".join(html.escape(s) for s in self.sources.values()) or "the default sources"
        self.out.write(f'<p class="meta">Generated {_stamp(self.started)} from {sources}.</p></header>\n')

    def section(self, section: Section) -> None:
        spec, w = section.spec, self.out.write
        svg = _chart(section, "svg")
        w(f'<section id="{html.escape(spec.id)}" class="{section.status}" data-status="{section.status}">\n')
        w(f'<h2>{html.escape(spec.title)}<span class="badge">{LABELS[section.status]}</span></h2>\n')
        if spec.description:
            w(f'<p class="note">{html.escape(spec.description)}</p>\n')
        if section.status != OK:
            w(
                f'<p class="problem"><strong>{LABELS[section.status].capitalize()}:</strong> {html.escape(section.message)}</p>\n'
            )
        elif spec.check:
            w(f'<p class="note">Check passed: {html.escape(spec.check.describe())}.</p>\n')
        if section.status in (SOURCE_FAILED, ERROR) and not section.columns:
            w("</section>\n")
            return
        if svg:
            w(f'<figure class="chart" aria-label="{html.escape(spec.title)}">{svg}</figure>\n')
        rows = shown_rows(section)
        if spec.format in ("table", "both") or (spec.format == "chart" and not svg):
            w(self._table(section, rows))
        elif spec.format == "chart":
            w(f"<details><summary>Data</summary>{self._table(section, rows)}</details>\n")
        else:
            text = _text(section, spec.format, rows)
            mime = "text/csv" if spec.format == "csv" else "application/json"
            data = base64.b64encode(_text(section, spec.format, section.rows).encode()).decode()
            w(
                f'<p><a download="{html.escape(spec.id)}.{spec.format}" href="data:{mime};base64,{data}">'
                f"Download {spec.format.upper()}</a></p>\n<pre>{html.escape(text)}</pre>\n"
            )
        if len(rows) < len(section.rows):
            w(f'<p class="note">First {len(rows)} of {len(section.rows)} rows.</p>\n')
        for warning in section.warnings:
            w(f'<p class="note">warning: {html.escape(warning)}</p>\n')
        w(f'<p class="note">{len(section.rows)} rows in {section.elapsed * 1000:.0f} ms</p>\n</section>\n')

    @staticmethod
    def _table(section: Section, rows: Sequence[tuple]) -> str:
        if not section.rows:
            return '<p class="note">No rows.</p>\n'
        numeric = [t.upper() in _NUMERIC or t.upper().startswith("DECIMAL") for t in section.types]
        rows = with_maps(section.types, rows)
        head = "".join(f"<th>{html.escape(c)}</th>" for c in section.columns)
        body = "".join(
            "<tr>"
            + "".join(
                f'<td class="num">{html.escape(cell(v))}</td>'
                if numeric[i]
                else f'<td title="{html.escape(cell(v))}">{html.escape(cell(v))}</td>'
                for i, v in enumerate(row)
            )
            + "</tr>\n"
            for row in rows
        )
        return (
            f'<div class="table-wrap"><table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}</tbody></table></div>\n'
        )

    def end(self, outcome: Outcome) -> None:
        w = self.out.write
        status = "ok" if outcome.exit_code == 0 else "failed"
        w(
            f'<section id="summary" class="{"ok" if status == "ok" else "check-failed"}" data-exit-code="{outcome.exit_code}">\n'
            f"<h2>Summary</h2>\n<p>{html.escape(_summary_line(outcome))}.</p>\n"
        )
        failed = [s for s in outcome.sections if s.failed]
        if failed:
            w(
                "<ul>\n"
                + "".join(
                    f'<li><a href="#{html.escape(s.spec.id)}">{html.escape(s.spec.title)}</a>: {LABELS[s.status]}: '
                    f"{html.escape(s.message)}</li>\n"
                    for s in failed
                )
                + "</ul>\n"
            )
        w("</section>\n</main>\n</body>\n</html>\n")


_NUMERIC = {"BIGINT", "INTEGER", "SMALLINT", "TINYINT", "HUGEINT", "UBIGINT", "UINTEGER", "DOUBLE", "FLOAT", "REAL"}


# --- JSON --------------------------------------------------------------------------------------


class JsonRenderer(Renderer):
    """One JSON document; every row of every section (unless the query sets a limit)."""

    def begin(self) -> None:
        head = {
            "title": self.title,
            "description": self.description,
            "generated_at": _stamp(self.started),
            "sources": self.sources,
        }
        self.out.write(json.dumps(head, indent=2)[:-2] + ',\n  "sections": [')
        self._first = True

    def section(self, section: Section) -> None:
        spec = section.spec
        rows = shown_rows(section, default=None)
        json_cols = {i for i, t in enumerate(section.types) if t.upper() == "JSON"}
        body = {
            "id": spec.id,
            "title": spec.title,
            "status": section.status,
            "message": section.message or None,
            "check": spec.check.describe() if spec.check else None,
            "columns": section.columns,
            "types": section.types,
            "row_count": len(section.rows),
            "rows": [
                {c: json_value(v, i in json_cols) for i, (c, v) in enumerate(zip(section.columns, row))}
                for row in with_maps(section.types, rows)
            ],
            "elapsed_ms": round(section.elapsed * 1000, 1),
            "warnings": section.warnings,
        }
        self.out.write(("\n" if self._first else ",\n") + json.dumps(body, default=str))
        self._first = False

    def end(self, outcome: Outcome) -> None:
        summary = {
            "exit_code": outcome.exit_code,
            "sections": len(outcome.sections),
            **{status: outcome.count(status) for status in (OK, CHECK_FAILED, SOURCE_FAILED, ERROR)},
        }
        self.out.write('\n  ],\n  "summary": ' + json.dumps(summary) + "\n}\n")


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S %Z").strip()


class CsvDirRenderer(Renderer):
    """One CSV file per query in a directory (``--format csv --out DIR``), each written atomically.

    A failed section writes no file, so a consumer never reads an error as data; the exit code and
    stderr say which one failed.
    """

    def __init__(self, out: TextIO, *, directory: str, **kwargs: Any) -> None:
        super().__init__(out, **kwargs)
        from pathlib import Path

        self.directory = Path(directory)

    def begin(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)

    def section(self, section: Section) -> None:
        from chaosql.reports.atomic import atomic_writer

        if section.status in (SOURCE_FAILED, ERROR):
            return
        with atomic_writer(self.directory / f"{section.spec.id}.csv") as fh:
            render_rows(section.columns, section.types, shown_rows(section, default=None), "csv", fh)


RENDERERS = {"markdown": MarkdownRenderer, "html": HtmlRenderer, "json": JsonRenderer}
