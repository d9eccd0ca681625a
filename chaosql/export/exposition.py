"""The Prometheus text format (0.0.4) and OpenMetrics text (1.0.0), and choosing between them.

The scraper says what it takes in its Accept header (prometheus.io/docs/instrumenting/
content_negotiation): the exporter answers with the accepted format of highest ``q`` (the first
listed among equals), and with the Prometheus text format 0.0.4 when nothing it names is
served here (no Accept header, ``*/*``, protobuf only). The two differ in little: OpenMetrics
names a counter family without ``_total`` (its samples keep it), puts TYPE before HELP, escapes
``"`` in HELP and ends with ``# EOF``.

>>> fmt = negotiate("application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5,*/*;q=0.1")
>>> fmt.name, fmt.content_type
('openmetrics', 'application/openmetrics-text; version=1.0.0; charset=utf-8')
>>> negotiate("").content_type
'text/plain; version=0.0.4; charset=utf-8'
>>> print(render([Shaped("chaos_runs", "counter", 'Runs "so far".', [('{a="x"}', 3.0)])], OPENMETRICS), end="")
# TYPE chaos_runs counter
# HELP chaos_runs Runs \\"so far\\".
chaos_runs_total{a="x"} 3
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from chaosql.export.family import Shaped, format_number


@dataclass(frozen=True)
class Format:
    name: str  # text | openmetrics
    content_type: str

    @property
    def openmetrics(self) -> bool:
        return self.name == "openmetrics"


TEXT = Format("text", "text/plain; version=0.0.4; charset=utf-8")
OPENMETRICS = Format("openmetrics", "application/openmetrics-text; version=1.0.0; charset=utf-8")
#: What the two media types may ask for, by version ("" when the Accept header names none).
_SERVED = {
    "text/plain": {"": "0.0.4", "0.0.4": "0.0.4", "1.0.0": "1.0.0"},
    "application/openmetrics-text": {"": "1.0.0", "1.0.0": "1.0.0", "0.0.1": "0.0.1"},
}
ESCAPING_SCHEMES = ("allow-utf8", "underscores", "dots", "values")


def negotiate(accept: str) -> Format:
    """The format to answer an Accept header with (TEXT when it names none served here)."""
    best: tuple[float, int, Format] | None = None
    for position, part in enumerate(accept.split(",")):
        media, *raw = (p.strip() for p in part.split(";"))
        params = {}
        for item in raw:
            key, _, value = item.partition("=")
            params[key.strip().lower()] = value.strip().strip('"')
        versions = _SERVED.get(media.lower())
        if versions is None:
            continue
        version = versions.get(params.get("version", ""))
        if version is None:
            continue
        try:
            q = float(params.get("q", "1"))
        except ValueError:
            continue
        if not 0 < q <= 1:
            continue
        fmt = _format(media.lower(), version, params.get("escaping"))
        if best is None or q > best[0]:
            best = (q, position, fmt)
    return best[2] if best is not None else TEXT


def _format(media: str, version: str, escaping: str | None) -> Format:
    name = "openmetrics" if media == "application/openmetrics-text" else "text"
    content_type = f"{media}; version={version}; charset=utf-8"
    if version == "1.0.0" and escaping in ESCAPING_SCHEMES:
        # our names are plain Prometheus names: valid, unchanged, under every escaping scheme
        content_type += f"; escaping={escaping}"
    return Format(name, content_type)


def render(families: Iterable[Shaped], fmt: Format) -> str:
    """The families as exposition text (without OpenMetrics' final ``# EOF``: see ``EOF``)."""
    out: list[str] = []
    for family in families:
        sample = family.name + "_total" if family.type == "counter" else family.name
        if fmt.openmetrics:
            out.append(f"# TYPE {family.name} {family.type}\n")
            if family.help:
                out.append(f"# HELP {family.name} {_escape_help(family.help, quotes=True)}\n")
        else:
            if family.help:
                out.append(f"# HELP {sample} {_escape_help(family.help, quotes=False)}\n")
            out.append(f"# TYPE {sample} {family.type}\n")
        out.extend(f"{sample}{labels} {format_number(value)}\n" for labels, value in family.samples)
    return "".join(out)


EOF = "# EOF\n"


def _escape_help(text: str, *, quotes: bool) -> str:
    text = text.replace("\\", "\\\\").replace("\n", "\\n")
    return text.replace('"', '\\"') if quotes else text
