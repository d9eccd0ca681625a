"""``chaosql export --once`` over a real chaosd: its attacks are experiments of engine chaosd in the
shipped families, by phase as SQL counts them, a running attack its one injected target and a
destroyed one its recovered target.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

from chaosd_support import source_for
from test_export import parse

REPO = Path(__file__).resolve().parent.parent.parent


def test_chaosd_attacks_are_metrics_as_sql_sees_them(chaosd, session_for, tmp_path):
    running, destroyed = str(uuid.uuid4()), str(uuid.uuid4())
    with chaosd.httpx_client() as c:
        body = {"uid": running, "action": "touch", "attackCmd": f"touch {tmp_path}/a", "recoverCmd": "true"}
        assert c.post("/api/attack/user_defined", json=body).status_code == 200
        body = {"uid": destroyed, "attackCmd": "true", "recoverCmd": "true"}
        assert c.post("/api/attack/user_defined", json=body).status_code == 200
        assert c.delete(f"/api/attack/{destroyed}").status_code == 200

    done = subprocess.run(
        [sys.executable, "-m", "chaosql", "export", "--once", "--source", f"chaosd:{chaosd.base_url}"],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert done.returncode == 0, done.stderr
    samples = parse(done.stdout)

    session = session_for(source_for(chaosd, name="lab"))
    by_phase = dict(session.execute("SELECT phase, count(*) FROM experiments GROUP BY 1").rows())
    got: dict[str, float] = {}
    for labels, value in samples["chaosql_experiments"].items():
        assert dict(labels)["engine"] == "chaosd"
        got[dict(labels)["phase"]] = got.get(dict(labels)["phase"], 0) + value
    assert got == {phase: float(n) for phase, n in by_phase.items()}
    assert got.get("running", 0) >= 1

    names = dict(session.execute(f"SELECT uid, name FROM experiments WHERE uid IN ('{running}', '{destroyed}')").rows())
    injected = {dict(k)["name"]: v for k, v in samples["chaosql_experiment_injected_targets"].items()}
    recovered = {dict(k)["name"]: v for k, v in samples["chaosql_experiment_recovered_targets"].items()}
    assert (injected[names[running]], recovered[names[running]]) == (1.0, 0.0)
    assert (injected[names[destroyed]], recovered[names[destroyed]]) == (0.0, 1.0)
