"""Which families an exporter serves: the shipped ones (``chaosql/export/families/*.sql``, saved
queries like any other) and every saved query with a ``-- metric:`` header in the user's query
directories (``[queries] dir`` of the config, ``--families DIR``).

A user query with the name of a shipped family's query replaces it (so a team can change a
default). A user file that cannot be read or whose header is wrong is ``broken``: reported with
its file name and served as ``chaosql_export_family_up{family="<file stem>"} 0``, the other
families unaffected; so is a family whose metric name another one already takes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from chaosql.errors import UsageError
from chaosql.export.exporter import SELF_PREFIX
from chaosql.export.family import FamilySpec, from_query

BUILTIN_DIR = Path(__file__).resolve().parent / "families"
_METRIC_HEADER = re.compile(r"^\s*--\s?metric:", re.M)


def builtin() -> list[FamilySpec]:
    """The shipped families, in file order."""
    from chaosql.reports.saved import load_file

    return [from_query(load_file(path, builtin=True)) for path in sorted(BUILTIN_DIR.glob("*.sql"))]


def families(dirs: Iterable[Path] = (), *, defaults: bool = True) -> tuple[list[FamilySpec], dict[str, str]]:
    """The families to serve and the broken ones (file stem -> why), shipped ones first."""
    from chaosql.reports.saved import load_file

    specs: dict[str, FamilySpec] = {spec.query.name: spec for spec in builtin()} if defaults else {}
    broken: dict[str, str] = {}
    for directory in dirs:
        if not directory.is_dir():
            raise UsageError(f"families directory {directory} does not exist")
        for path in sorted(directory.glob("*.sql")):
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as err:
                broken[path.stem] = f"cannot read {path}: {err}"
                continue
            if not _METRIC_HEADER.search(text):
                continue  # an ordinary saved query
            try:
                spec = from_query(load_file(path))
            except UsageError as err:
                broken[path.stem] = str(err)
                continue
            specs[spec.query.name] = spec
    taken: dict[str, FamilySpec] = {}
    kept = []
    for spec in specs.values():
        names = {spec.metric, *(v.family for v in spec.declared)}
        clash = next((n for n in sorted(names) if n in taken), None)
        if spec.metric.startswith(SELF_PREFIX):
            broken[_stem(spec)] = (
                f"family {spec.query.origin}: {spec.metric}: names starting {SELF_PREFIX} are the exporter's own"
            )
        elif clash is not None:
            broken[_stem(spec)] = (
                f"family {spec.query.origin}: metric {clash} is already defined by {taken[clash].query.origin}"
            )
        else:
            taken.update(dict.fromkeys(names, spec))
            kept.append(spec)
    return kept, broken


def _stem(spec: FamilySpec) -> str:
    return spec.query.path.stem if spec.query.path is not None else spec.query.name
