"""Pushdown: which predicates reach the sources, and that they never change an answer."""

from __future__ import annotations

from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures" / "pushdown.sql"


def fixture_cases() -> list[tuple[str, dict[str, str]]]:
    cases = []
    for block in FIXTURES.read_text().split("\n\n"):
        lines = [ln for ln in block.strip().splitlines() if ln and not ln.startswith("--")]
        if not lines:
            continue
        sql = lines[0].rstrip(";")
        expected = dict(ln.split(": ", 1) for ln in lines[1:])
        cases.append((sql, expected))
    return cases


@pytest.mark.parametrize("sql,expected", fixture_cases(), ids=[c[0][:70] for c in fixture_cases()])
def test_pushdown_fixture(demo_session, sql, expected):
    rows = demo_session.execute("EXPLAIN " + sql).rows()
    pushed = {
        step.removeprefix("fetch "): detail.removeprefix("pushed down: ")
        for step, detail in rows
        if step.startswith("fetch ")
    }
    assert pushed == expected


QUERIES = [
    "SELECT name FROM experiments WHERE namespace = 'shop'",
    "SELECT name FROM experiments WHERE (namespace = 'shop' AND kind = 'PodChaos') OR namespace = 'auth'",
    "SELECT name FROM experiments WHERE namespace = 'shop' OR phase = 'running'",
    "SELECT name FROM experiments WHERE labels['team'] = 'payments' AND cluster IN ('prod-eu')",
    "SELECT e.name, t.pod FROM experiments e LEFT JOIN targets t ON t.cluster = e.cluster AND t.experiment = e.name "
    "AND t.namespace = e.namespace AND t.kind = 'PodChaos' WHERE e.namespace = 'shop'",
    "SELECT e.name, t.pod FROM targets t RIGHT JOIN experiments e ON t.experiment = e.name AND t.kind = 'PodChaos'",
    "SELECT e.name, t.pod FROM experiments e FULL JOIN targets t ON t.experiment = e.name AND t.namespace = 'auth' "
    "WHERE e.kind = 'NetworkChaos' OR t.pod IS NULL",
    "SELECT a.name FROM experiments a JOIN experiments b ON a.name = b.name WHERE a.namespace = 'shop' AND b.kind = 'PodChaos'",
    "SELECT count(*) FROM events WHERE object_name IN (SELECT name FROM experiments WHERE kind = 'PodChaos' AND namespace = 'shop')",
    "SELECT name FROM experiments WHERE namespace = 'shop' UNION SELECT name FROM experiments WHERE kind = 'TimeChaos'",
    "WITH x AS (SELECT * FROM experiments WHERE cluster = 'staging-us') SELECT kind, count(*) FROM x GROUP BY ALL",
    "SELECT n.name, count(t.pod) FROM nodes n LEFT JOIN targets t ON t.node = n.name AND t.cluster = n.cluster "
    "WHERE n.type = 'kubernetes' AND n.cluster = 'prod-eu' GROUP BY ALL",
    "SELECT e.name FROM experiments e WHERE EXISTS (SELECT 1 FROM events v WHERE v.object_name = e.name AND v.reason = 'Failed')",
    "SELECT reason, count(*) FROM events WHERE type = 'Warning' AND object_kind = 'PodChaos' GROUP BY ALL",
    "SELECT name FROM experiments WHERE namespace = 'shop' AND namespace = 'auth'",
    "SELECT name FROM experiments WHERE name IN ('nope', NULL)",
    # projection: only the columns a statement reads are shaped; these read the costly ones
    "SELECT name, spec->>'$.action' FROM experiments WHERE kind = 'PodChaos'",
    "SELECT e FROM experiments e WHERE e.kind = 'DNSChaos'",
    "SELECT * FROM schedules",
    "SELECT count(*) FILTER (WHERE status IS NOT NULL AND selector IS NOT NULL) FROM experiments",
    "SELECT count(*) FROM experiments JOIN schedules USING (cluster, namespace) WHERE experiments.spec IS NOT NULL",
    "SELECT e.* EXCLUDE (spec) FROM experiments e WHERE e.namespace = 'auth'",
]


@pytest.mark.parametrize("sql", QUERIES)
def test_pushdown_never_changes_the_answer(demo_session, sql):
    """Filters and projection pushed down (or not) give the same rows."""
    with_pushdown = sorted(map(repr, demo_session.execute(sql).rows()))
    demo_session.execute("SET chaosql.pushdown = false")
    without = sorted(map(repr, demo_session.execute(sql).rows()))
    assert with_pushdown == without


def test_pushdown_reduces_what_is_fetched(demo_session):
    result = demo_session.execute("SELECT count(*) FROM experiments WHERE kind = 'PodChaos' AND namespace = 'shop'")
    scanned = [c for c in result.calls]
    assert scanned and all("PodChaos" in c.what for c in scanned)  # only the PodChaos lists were read
    assert all("namespace in (shop)" in c.what for c in scanned)
    total = demo_session.execute("SELECT count(*) FROM experiments WHERE kind = 'PodChaos'").scalar()
    assert sum(c.items for c in scanned) < total
