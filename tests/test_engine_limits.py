"""Statement time limits and cancellation, as a user of the Session sees them."""

from __future__ import annotations

import threading
import time

import pytest

from chaosql.errors import QueryCancelled

LONG = "SELECT count(*) FROM range(100000000000) a, range(10) b"


def test_statement_timeout_cancels_and_the_session_goes_on(demo_session):
    demo_session.execute("SET chaosql.timeout = 0.5")
    started = time.monotonic()
    with pytest.raises(QueryCancelled):
        demo_session.execute(LONG)
    assert time.monotonic() - started < 10
    assert demo_session.execute("SELECT count(*) FROM experiments").scalar() == 360


def test_cancel_from_another_thread(demo_session):
    threading.Timer(0.5, demo_session.cancel).start()
    with pytest.raises(QueryCancelled):
        demo_session.execute(LONG)
    assert demo_session.execute("SELECT 1").scalar() == 1


def test_a_finished_statement_is_never_cancelled_later(demo_session):
    demo_session.execute("SET chaosql.timeout = 0.3")
    for _ in range(5):
        assert demo_session.execute("SELECT 1").scalar() == 1
    time.sleep(0.6)  # the deadlines of the statements above have passed
    assert demo_session.execute("SELECT count(*) FROM experiments").scalar() == 360
