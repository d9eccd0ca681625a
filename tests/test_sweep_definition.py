"""Sweep files (what ``chaosql sweep --check`` accepts, and the usage errors), the step rows, and the
verdict and exit code from a sweep's result. Nothing here starts a server."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from chaosql.cli import main
from chaosql.errors import UsageError
from chaosql.sweep.definition import load
from chaosql.sweep.report import exit_code, sections, verdict
from chaosql.sweep.runner import FAIL, PASS, Measure, Result, Step

REPO = Path(__file__).resolve().parent.parent

EXPERIMENT = """
[experiment]
namespace = "shop"
name = "lat"
kind = "NetworkChaos"
spec = { action = "delay", mode = "all", delay = { latency = "1ms" }, selector = { namespaces = ["shop"] } }
"""
STEADY = """
[steady_state]
sql = "SELECT max(value) AS p99 FROM metrics WHERE query = 'p99{service=\\"checkout\\"}' AND $value > 0"
check = { column = "p99", max = 0.3 }
"""


def sweep(parameter: str = 'path = "spec.delay.latency"\nvalues = [20, 50, 100]\nunit = "ms"', *, top: str = "") -> str:
    return f"{top}\n{EXPERIMENT}\n[parameter]\n{parameter}\n{STEADY}"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sweep.toml"
    path.write_text(text)
    return path


def test_values_ranges_units_and_the_step_row(tmp_path):
    found = load(write(tmp_path, sweep()))
    assert found.parameter.values == [20, 50, 100] and found.column == "p99" and found.limit == 0.3
    row = found.row(50, "lat-1")
    assert row["name"] == "lat-1" and row["spec"]["delay"]["latency"] == "50ms"
    assert found.template["spec"]["delay"]["latency"] == "1ms"  # the template itself is untouched
    ranged = load(write(tmp_path, sweep('path = "spec.stressors.cpu.load"\nfrom = 10\nto = 100\nstep = 30')))
    assert ranged.parameter.values == [10, 40, 70, 100]
    assert ranged.row(40, "x")["spec"]["stressors"]["cpu"]["load"] == 40  # no unit: the number itself
    doubling = load(write(tmp_path, sweep('path = "spec.delay.latency"\nfrom = 25\nto = 400\nfactor = 2')))
    assert doubling.parameter.values == [25, 50, 100, 200, 400]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (sweep('path = "spec.delay.latency"\nvalues = [50, 20]'), "values must go up"),
        (sweep('path = "spec.delay.latency"\nvalues = ["20ms"]'), "values takes a list of numbers"),
        (sweep('path = "spec.delay.latency"'), "give either values = [...] or from/to"),
        (sweep('path = "status.x"\nvalues = [1]'), "does not start with a column of the experiment"),
        (sweep('path = "spec.x"\nvalues = [1]\nresolution = 0'), "resolution takes a number > 0"),
        (sweep(top="must_hold_until = '200ms'"), "must_hold_until takes a number"),
        (sweep(top="format = 'pdf'"), "format 'pdf' is not one of markdown, html, json"),
        (sweep().replace('kind = "NetworkChaos"\n', ""), "[experiment]: kind is required"),
        (sweep().replace('name = "lat"', 'name = "Lat_1"'), "name takes lowercase letters"),
        (sweep().replace("AND $value > 0", "AND $latency > 0"), "sql uses $latency"),
        (sweep().replace('check = { column = "p99", max = 0.3 }', 'check = "empty"'), "check needs min or max"),
        (sweep().replace("FROM metrics", "FROM metrix"), "sql reads an unknown table 'metrix'"),
        (sweep() + '\n[timing]\nsettle = "soon"\n', "settle takes a duration"),
    ],
)
def test_mistakes_are_usage_errors_naming_the_key(tmp_path, text, message):
    with pytest.raises(UsageError) as err:
        load(write(tmp_path, text))
    assert message in str(err.value)


def test_check_accepts_the_shipped_example(capsys):
    assert main(["sweep", "--check", str(REPO / "examples" / "sweep.toml")]) == 0
    assert "latency over 20ms, 50ms" in capsys.readouterr().out


def step(index: int, value: float, outcome: str, during: float) -> Step:
    now = datetime(2026, 11, 20, tzinfo=UTC)
    measures = [
        Measure("before", now, 0.05, True),
        Measure("during", now, during, outcome == PASS),
        Measure("after", now, 0.05, True),
    ]
    return Step(index, value, f"lat-{index}", outcome=outcome, measures=measures)


def test_exit_3_only_when_it_breaks_at_or_below_must_hold_until(tmp_path):
    found = load(write(tmp_path, sweep(top="must_hold_until = 50")))
    result = Result("run", [step(1, 20, PASS, 0.1), step(2, 50, FAIL, 2.0)], last_pass=20, first_fail=50)
    assert exit_code(found, result) == 3
    assert verdict(found, result) == "breaks at 50ms (held at 20ms); must hold until 50ms: FAILED"
    result = Result("run", [step(1, 20, PASS, 0.1), step(2, 50, PASS, 0.2), step(3, 100, FAIL, 2.0)], 50, 100)
    assert exit_code(found, result) == 0
    assert exit_code(found, Result("run", [step(1, 20, PASS, 0.1)], last_pass=20)) == 0
    assert exit_code(found, Result("run", [], interrupted=True)) == 130
    assert exit_code(found, Result("run", [step(1, 20, PASS, 0.1)], left=["lat-1"])) == 1


def test_report_sections_chart_the_value_against_the_parameter_with_the_threshold(tmp_path):
    found = load(write(tmp_path, sweep(top="must_hold_until = 20")))
    result = Result("run", [step(1, 20, PASS, 0.1), step(2, 100, FAIL, 2.0), step(3, 50, PASS, 0.2)], 50, 100)
    out = sections(found, result)
    assert [s.spec.id for s in out] == ["result", "chart", "step-1", "step-2", "step-3"]
    chart = out[1]
    assert [r[0] for r in chart.rows] == ["20ms", "50ms", "100ms"]  # by value, bisection steps in place
    assert chart.spec.chart == {
        "type": "line",
        "x": "latency",
        "y": "before,during,after",
        "title": "p99",
        "hline": 0.3,
        "vline": "100ms",
    }
    assert [s.status for s in out[2:]] == ["ok", "check-failed", "ok"]
    from chaosql.reports.charts import draw

    svg = draw(chart.spec.chart, chart.columns, chart.rows, fmt="svg")
    assert svg.startswith("<svg") and svg.count("stroke-dasharray") >= 2  # the two reference lines
