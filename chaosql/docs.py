"""User documentation generated from the code, so it cannot drift from it.

``python -m chaosql.docs`` rewrites ``docs/tables.md`` (from the table modules),
``docs/reference.md`` (the CLI's --help, the settings, the REPL's meta-commands, the plugin hooks),
the table reference in ``README.md`` and the list of shipped metric families in
``docs/exporter.md`` (from ``chaosql/export/families``); ``python -m chaosql.docs --check`` fails when any of them
is out of date (a test runs it).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
START, END = "<!-- tables:start -->", "<!-- tables:end -->"
FAMILIES_START, FAMILIES_END = "<!-- families:start -->", "<!-- families:end -->"


def _pushdown(col) -> str:
    if not col.key:
        return ""
    if col.key == "range":
        return "time range"
    if col.key == "param":
        return "parameter"
    if col.key == "labels":
        return "`labels['k'] =`"
    return "`=`, `IN`"


def tables_page() -> str:
    """docs/tables.md: one section per table: what a row is, its columns, pushdown, examples.

    A typed table's columns are listed in full; the ``*_schedules`` and ``*_templates`` tables list
    their own columns and point at the experiment table for the template's typed columns."""
    from chaosql.tables import registry

    out = [
        "# Tables",
        "",
        "Generated from the table modules in `chaosql/tables/` by `python -m chaosql.docs`.",
        "Columns marked in *pushdown* are filtered at the source when a query constrains them;",
        "DuckDB applies every predicate again, so pushdown never changes an answer.",
        "",
        "The typed chaos tables (`network_chaos`, `pod_chaos`, ... and their `_schedules` and",
        "`_templates`) are generated from the Chaos Mesh CRD schemas shipped with chaosql; against a",
        "live cluster whose CRDs add fields, those fields are columns too (see",
        "[writes.md](writes.md#typed-chaos-tables)).",
        "",
    ]
    for table in registry().values():
        model = table.model
        columns = table.columns
        shared: list = []
        if model is not None and model.chaos_kind != model.kind:  # a schedule's or workflow's template
            template = {leaf.column for leaf in model.leaves if leaf.path[: len(model.template)] == model.template}
            shared = [c for c in columns if c.name in template]
            columns = [c for c in columns if c.name not in template]
        out += [
            f"## {table.name}",
            "",
            table.doc,
            "",
            "| column | type | pushdown | description |",
            "|---|---|---|---|",
        ]
        for c in columns:
            doc = c.doc.replace("|", "\\|")
            out.append(f"| `{c.name}` | {c.type} | {_pushdown(c)} | {doc} |")
        out.append("")
        if shared:
            base_name = _typed_name(model.chaos_kind)
            out += [
                f"Plus the template's {len(shared)} typed columns, named and typed as in "
                f"[`{base_name}`](#{base_name}) (`DESCRIBE {table.name}` lists them): "
                + ", ".join(f"`{c.name}`" for c in shared[:5])
                + ", ...",
                "",
            ]
        for question, sql in table.examples:
            out += [f"*{question}*", "", "```sql", sql, "```", ""]
    return "\n".join(out)


def _typed_name(kind: str) -> str:
    from chaosql.tables.chaos_kinds import table_name

    return table_name(kind)


def readme_reference() -> str:
    """The compact reference in README.md: each table, what a row is, its key columns (the typed
    chaos tables in one row per family)."""
    from chaosql.tables import registry

    lines = [START, "| table | one row per | pushdown keys |", "|---|---|---|"]
    families: dict[str, list] = {}
    for table in registry().values():
        keys = ", ".join(f"`{c.name}`" for c in table.key_columns)
        if table.model is not None:
            suffix = table.name[len(_typed_name(table.model.chaos_kind)) :]
            if suffix not in families:
                families[suffix] = []
                lines.append(suffix)  # placeholder, filled below
            families[suffix].append(table)
            continue
        lines.append(f"| [`{table.name}`](docs/tables.md#{table.name}) | {table.doc} | {keys} |")
    for suffix, members in families.items():
        names = ", ".join(f"[`{t.name}`](docs/tables.md#{t.name})" for t in members)
        keys = ", ".join(f"`{c.name}`" for c in members[0].key_columns)
        what = {
            "": "One row per experiment of that kind, one typed column per spec field (generated from the CRDs).",
            "_schedules": "One row per Schedule creating that kind, with its template's typed columns.",
            "_templates": "One row per Workflow template of that kind, with its typed columns.",
        }[suffix]
        lines[lines.index(suffix)] = f"| {names} | {what} | {keys} |"
    lines.append(END)
    return "\n".join(lines)


def reference_page() -> str:
    """docs/reference.md: every command's --help, setting, meta-command and plugin hook."""
    import inspect
    import io
    from contextlib import redirect_stdout

    from chaosql import hookspecs
    from chaosql.cli import build_parser, subcommands
    from chaosql.engine.settings import SETTINGS
    from chaosql.repl.commands import REGISTRY

    out = ["# Reference", "", "Generated from the code by `python -m chaosql.docs`.", "", "## Command line", ""]
    parser = build_parser()
    helps = [("chaosql", parser)] + [(f"chaosql {name}", sub) for name, sub in subcommands(parser).items()]
    width = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "100"  # argparse wraps to the terminal: fix it so the page is stable
    for title, sub in helps:
        buf = io.StringIO()
        with redirect_stdout(buf):
            sub.print_help()
        text = buf.getvalue().replace("usage: chaosql", "usage: chaosql", 1)
        out += [f"### {title}", "", "```", text.rstrip(), "```", ""]
    if width is None:
        del os.environ["COLUMNS"]
    else:
        os.environ["COLUMNS"] = width
    out += [
        "## Settings",
        "",
        "Change one with `SET chaosql.NAME = value`, `--set NAME=VALUE` or the config's `[settings]`.",
        "",
        "| setting | default | meaning |",
        "|---|---|---|",
    ]
    for name, (default, doc) in SETTINGS.items():
        out.append(f"| `chaosql.{name}` | `{default!r}` | {doc} |")
    out += ["", "## Shell meta-commands", "", "| command | meaning |", "|---|---|"]
    for cmd in {c.name: c for c in REGISTRY.values()}.values():
        aliases = f" (also {', '.join(cmd.aliases)})" if cmd.aliases else ""
        out.append(f"| `{cmd.syntax}` | {cmd.description}{aliases} |")
    out += [
        "",
        "## Plugin hooks",
        "",
        "A plugin is a module with `@chaosql.hookspecs.hookimpl` functions, found through the",
        "`chaosql` entry-point group. chaosql's own tables and sources register through the same",
        "hooks (`chaosql.tables` and `chaosql.sources` implement them, and so does the LitmusChaos",
        "engine, `chaosql.litmus`: [docs/plugins.md](plugins.md) walks through it).",
        "",
    ]
    for name, fn in inspect.getmembers(hookspecs, inspect.isfunction):
        if hasattr(fn, "chaosql_spec"):
            out += [f"### `{name}{inspect.signature(fn)}`", "", inspect.getdoc(fn) or "", ""]
    return "\n".join(out)


def exporter_families() -> str:
    """docs/exporter.md's list of the shipped metric families: name, type, labels, help."""
    import sqlglot

    from chaosql.export.catalog import builtin

    out = ["", "| family | type | labels | what it says |", "|---|---|---|---|"]
    for spec in builtin():
        first: Any = sqlglot.parse_one(spec.query.sql, read="duckdb")
        while isinstance(first, sqlglot.exp.Union):  # the first branch names the columns
            first = first.this
        taken = {v.column for v in spec.declared} | set(spec.key)
        labels = ", ".join(f"`{c}`" for c in first.named_selects if c not in taken)
        suffix = "_total" if spec.type == "counter" else ""
        for value in spec.declared:
            out.append(f"| `{value.family}{suffix}` | {spec.type} | {labels} | {value.help} |")
    return "\n".join(out) + "\n"


def _between(text: str, start: str, end: str, body: str, where: str) -> str:
    if start not in text or end not in text:
        raise SystemExit(f"{where} lacks the {start} ... {end} markers")
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    return head + start + body + end + tail


def _updated_readme(text: str) -> str:
    if START not in text or END not in text:
        raise SystemExit(f"README.md lacks the {START} ... {END} markers")
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    return head + readme_reference() + tail


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Regenerate docs/tables.md, docs/reference.md, README.md's table reference and "
        "docs/exporter.md's list of metric families."
    )
    parser.add_argument("--check", action="store_true", help="exit 1 if they are out of date")
    args = parser.parse_args(argv)
    targets = {
        REPO / "docs" / "tables.md": tables_page() + "\n",
        REPO / "docs" / "reference.md": reference_page() + "\n",
        REPO / "README.md": _updated_readme((REPO / "README.md").read_text()),
        REPO / "docs" / "exporter.md": _between(
            (REPO / "docs" / "exporter.md").read_text(),
            FAMILIES_START,
            FAMILIES_END,
            exporter_families(),
            "docs/exporter.md",
        ),
    }
    stale = [p for p, text in targets.items() if not p.exists() or p.read_text() != text]
    if args.check:
        for path in stale:
            print(f"{path.relative_to(REPO)} is out of date: run python -m chaosql.docs", file=sys.stderr)
        return 1 if stale else 0
    for path in stale:
        path.parent.mkdir(exist_ok=True)
        path.write_text(targets[path])
        print(f"wrote {path.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
