"""User documentation generated from the table modules, so it cannot drift from the code.

``python -m chaosql.docs`` rewrites ``docs/tables.md`` and the table reference in ``README.md``;
``python -m chaosql.docs --check`` fails when they are out of date (a test runs it).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
START, END = "<!-- tables:start -->", "<!-- tables:end -->"


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
    """docs/tables.md: one section per table: what a row is, its columns, pushdown, examples."""
    from chaosql.tables import registry

    out = ["# Tables", "", "Generated from the table modules in `chaosql/tables/` by `python -m chaosql.docs`.",
           "Columns marked in *pushdown* are filtered at the source when a query constrains them;",
           "DuckDB applies every predicate again, so pushdown never changes an answer.", ""]
    for table in registry().values():
        out += [f"## {table.name}", "", table.doc, "", "| column | type | pushdown | description |", "|---|---|---|---|"]
        for c in table.columns:
            doc = c.doc.replace("|", "\\|")
            out.append(f"| `{c.name}` | {c.type} | {_pushdown(c)} | {doc} |")
        out.append("")
        for question, sql in table.examples:
            out += [f"*{question}*", "", "```sql", sql, "```", ""]
    return "\n".join(out)


def readme_reference() -> str:
    """The compact reference in README.md: each table, what a row is, its key columns."""
    from chaosql.tables import registry

    lines = [START, "| table | one row per | pushdown keys |", "|---|---|---|"]
    for table in registry().values():
        keys = ", ".join(f"`{c.name}`" for c in table.key_columns)
        lines.append(f"| [`{table.name}`](docs/tables.md#{table.name}) | {table.doc} | {keys} |")
    lines.append(END)
    return "\n".join(lines)


def _updated_readme(text: str) -> str:
    if START not in text or END not in text:
        raise SystemExit(f"README.md lacks the {START} ... {END} markers")
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    return head + readme_reference() + tail


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Regenerate docs/tables.md and README.md's table reference.")
    parser.add_argument("--check", action="store_true", help="exit 1 if they are out of date")
    args = parser.parse_args(argv)
    targets = {
        REPO / "docs" / "tables.md": tables_page() + "\n",
        REPO / "README.md": _updated_readme((REPO / "README.md").read_text()),
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
