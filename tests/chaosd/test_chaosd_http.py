"""chaosql.sources.http against a real chaosd: a node that is down is reported soon after the first
try, an attack chaosd answered is never sent again, and a cancel ends a retry pause of a
write. chaosd's access log (gin) counts the requests that reached it."""

from __future__ import annotations

import threading
import time

import pytest
from chaosd_support import source_for

from chaosql.errors import Unavailable, WriteFailed
from chaosql.sources.http import READ, RETRIES


@pytest.fixture
def own_chaosd(chaosd_binary, tmp_path_factory):
    """A chaosd of the test's own, which it may stop."""
    from chaosdenv import ChaosdTestEnv

    env = ChaosdTestEnv("http", binary=chaosd_binary, workdir=tmp_path_factory.mktemp("own")).start()
    yield env
    env.stop()


def served(env, method: str, path: str) -> int:
    """How many ``method path`` requests chaosd answered (its gin access log)."""
    time.sleep(0.2)
    return sum(
        1
        for line in env.log_path.read_text().splitlines()
        if line.startswith("[GIN]") and f"{method} " in line and f'"{path}"' in line
    )


def test_a_stopped_node_is_reported_soon_after_the_first_try(own_chaosd, session_for):
    session = session_for(source_for(own_chaosd, name="lab", retries=RETRIES))
    assert session.execute("SELECT count(*) FROM experiments").scalar() == 0
    own_chaosd.stop()
    started = time.monotonic()
    with pytest.raises(Unavailable, match=f"cannot reach {own_chaosd.base_url}: connection refused"):
        session.execute("SELECT count(*) FROM experiments")
    took = time.monotonic() - started
    assert sum(READ.pauses) <= took < sum(READ.pauses) + 2.0, took


def test_an_attack_chaosd_answered_is_not_sent_again(chaosd, session_for):
    """chaosd answers 500 to a process attack on a process that does not exist; a read would be
    tried again, an attack never is."""
    session = session_for(source_for(chaosd, retries=RETRIES))
    before = served(chaosd, "POST", "/api/attack/process")
    with pytest.raises(WriteFailed, match="process no-such-process-for-chaosql not found"):
        session.execute(
            "INSERT INTO experiments (source, node, kind, action, spec) VALUES "
            f"""('chaosd', '{chaosd.base_url}', 'process', 'kill', '{{"process": "no-such-process-for-chaosql"}}')"""
        )
    assert served(chaosd, "POST", "/api/attack/process") - before == 1


def test_a_cancel_ends_a_retry_pause_of_a_write(own_chaosd, session_for):
    """The node stops between the checks (health, uid) and the attack: the attack's connection is
    refused and would be tried again after 1, 2 and 4 s; a cancel during the first pause ends it."""
    session = session_for(source_for(own_chaosd, name="lab", retries=3, backoff=1.0))
    seen: dict[str, float] = {}

    def cancel() -> None:
        seen["cancelled"] = time.monotonic()
        session.cancel()

    def the_node_stops(index, op) -> None:
        own_chaosd.stop()
        threading.Timer(0.4, cancel).start()

    session.writer.before_apply = the_node_stops
    with pytest.raises(WriteFailed) as caught:
        session.execute(
            "INSERT INTO experiments (source, node, kind, spec) VALUES "
            f"""('chaosd', '{own_chaosd.base_url}', 'user_defined', '{{"attackCmd": "true", "recoverCmd": "true"}}')"""
        )
    ended = time.monotonic()
    assert "cancelled" in str(caught.value) and "nothing had been written" in str(caught.value)
    assert ended - seen["cancelled"] < 1.5, ended - seen["cancelled"]  # not the 7 s of pauses
    assert served(own_chaosd, "POST", "/api/attack/user_defined") == 0
