"""Statement time limits and cancellation, as a user of the Session sees them."""

from __future__ import annotations

import threading
import time

import pytest

from chaosql.errors import QueryCancelled, SqlError

LONG = "SELECT count(*) FROM range(100000000000) a, range(10) b"


def test_statement_timeout_cancels_and_the_session_goes_on(demo_session):
    demo_session.execute("SET chaosql.timeout = 0.5")
    started = time.monotonic()
    with pytest.raises(QueryCancelled):
        demo_session.execute(LONG)
    assert time.monotonic() - started < 10
    demo_session.execute("SET chaosql.timeout = 300")  # reading the demo may take 0.5 s on a busy machine
    assert demo_session.execute("SELECT count(*) FROM experiments").scalar() == 360


def test_a_deadline_that_passes_before_the_query_starts_still_stops_it(demo_source):
    """A fresh session's first statement builds its catalog before DuckDB starts the query, and a
    short limit runs out meanwhile: DuckDB forgets an interrupt that comes before its query
    begins, so the query must still be stopped (it ran for hours once)."""
    from chaosql.engine.session import Session

    for limit in [0.001, 0.003, 0.005, 0.01, 0.02, 0.03, 0.05, 0.08, 0.1, 0.15] * 2:
        session = Session([demo_source])
        session.execute(f"SET chaosql.timeout = {limit}")
        outcome: list[BaseException] = []
        worker = threading.Thread(target=_capture, args=(outcome, session.execute, LONG), daemon=True)
        worker.start()
        worker.join(60)
        if worker.is_alive():  # stop it, so a failure leaves no query running
            while worker.is_alive():
                session.con.interrupt()
                worker.join(0.1)
            pytest.fail(f"chaosql.timeout = {limit} did not stop the query in 60 s")
        assert len(outcome) == 1 and isinstance(outcome[0], QueryCancelled), outcome
        session.execute("SET chaosql.timeout = 300")
        assert session.execute("SELECT count(*) FROM experiments").scalar() == 360
        session.close()


def _capture(outcome: list[BaseException], fn, *args) -> None:
    try:
        fn(*args)
    except BaseException as err:  # the test looks at what it was
        outcome.append(err)


def _seconds(fn) -> float:
    started = time.monotonic()
    fn()
    return time.monotonic() - started


def test_cancel_from_another_thread(demo_session):
    threading.Timer(0.5, demo_session.cancel).start()
    with pytest.raises(QueryCancelled):
        demo_session.execute(LONG)
    assert demo_session.execute("SELECT 1").scalar() == 1


def test_a_finished_statement_is_never_cancelled_later(demo_session):
    demo_session.execute("SELECT count(*) FROM experiments")  # the first statement builds the catalog
    slowest = max(_seconds(lambda: demo_session.execute("SELECT 1")) for _ in range(5))
    # short, but far longer than a SELECT 1 takes on this machine now: only a stale deadline stops one
    limit = max(0.3, 20 * slowest)
    demo_session.execute(f"SET chaosql.timeout = {limit}")
    for _ in range(5):
        assert demo_session.execute("SELECT 1").scalar() == 1
    time.sleep(limit + 0.3)  # the deadlines of the statements above have passed
    demo_session.execute("SET chaosql.timeout = 300")  # its own limit must not be what stops it
    assert demo_session.execute("SELECT count(*) FROM experiments").scalar() == 360


@pytest.mark.parametrize("value", ["1e10", "'inf'", "1e400", "-1", "'nan'", "'-inf'", "'soon'", "true"])
def test_timeouts_out_of_range_are_refused(demo_session, value):
    with pytest.raises(SqlError) as info:
        demo_session.execute(f"SET chaosql.timeout = {value}")
    assert "chaosql.timeout takes a number from 0 to 2.14748e+06" in str(info.value)
    assert "0 means no limit" in str(info.value)


@pytest.mark.parametrize(
    "name,value,message",
    [
        ("confirm_rows", "-1", "chaosql.confirm_rows takes a whole number from 0"),
        ("confirm_rows", "2.5", "chaosql.confirm_rows takes a whole number"),
        ("confirm_rows", "1e12", "chaosql.confirm_rows takes a whole number"),
        ("max_statement_bytes", "10", "chaosql.max_statement_bytes takes a whole number from 1024"),
        ("max_statement_bytes", "'nan'", "chaosql.max_statement_bytes takes a whole number"),
        ("pushdown", "'maybe'", "chaosql.pushdown takes true or false"),
        ("on_source_error", "'ignore'", "chaosql.on_source_error takes fail or warn"),
    ],
)
def test_every_setting_checks_its_range(demo_session, name, value, message):
    with pytest.raises(SqlError) as info:
        demo_session.execute(f"SET chaosql.{name} = {value}")
    assert message in str(info.value)


def test_a_refused_setting_leaves_the_limit_working(demo_session):
    """The values that used to kill the shared watchdog thread (OverflowError) are refused, and the
    watchdog still cancels this session's statements, and those of a session opened later."""
    from chaosql.engine.session import Session
    from chaosql.sources import open_source

    for value in ("1e10", "'inf'", "1e400"):
        with pytest.raises(SqlError):
            demo_session.execute(f"SET chaosql.timeout = {value}")
    demo_session.execute("SET chaosql.timeout = 0.5")
    started = time.monotonic()
    with pytest.raises(QueryCancelled):
        demo_session.execute(LONG)
    assert (
        time.monotonic() - started < 60
    )  # cancelled at all (the statement would run for hours); generous for a busy machine
    other = Session([open_source("demo")], settings={"timeout": 0.5})
    try:
        with pytest.raises(QueryCancelled):
            other.execute(LONG)
    finally:
        other.close()


def test_timeout_zero_means_no_limit(demo_session):
    """As PostgreSQL's statement_timeout = 0: no limit, not "cancel at once"."""
    demo_session.execute("SET chaosql.timeout = 0")
    assert demo_session.execute("SELECT count(*) FROM experiments").scalar() == 360
    assert demo_session.execute("SELECT count(*) FROM range(30000000)").scalar() == 30000000


def test_the_watchdog_survives_any_deadline():
    """Huge, infinite and invalid deadlines neither stop the thread nor delay other deadlines."""
    from chaosql.engine.watchdog import Watchdog

    dog = Watchdog()
    fired = threading.Event()
    dog.arm(1e300, lambda: None)  # far away: sleeps in bounded steps, no OverflowError
    assert dog.arm(float("inf"), lambda: None) == dog.arm(0, lambda: None)  # no deadline at all
    for bad in (float("nan"), -1.0):
        with pytest.raises(ValueError):
            dog.arm(bad, lambda: None)
    dog.arm(1e9, lambda: 1 / 0)  # an action that fails later does not matter either
    dog.arm(0.2, fired.set)
    assert fired.wait(5)
    assert dog._thread is not None and dog._thread.is_alive()
    # a deadline behind one that was disarmed (the thread sleeps until that one) still comes
    later = threading.Event()
    dog.disarm(dog.arm(0.1, lambda: None))
    dog.arm(0.3, later.set)
    assert later.wait(5)


def test_results_nested_past_arrows_limit_are_refused_as_too_complex(demo_session):
    """DuckDB builds [[[...]]] 200 deep, but Arrow (which carries every result) stops at 62."""
    assert demo_session.execute("SELECT " + "[" * 62 + "1" + "]" * 62).rows()
    for stream in (False, True):
        with pytest.raises(SqlError) as info:
            demo_session.execute("SELECT " + "[" * 63 + "1" + "]" * 63, stream=stream)
        assert info.value.sqlstate == "54001" and "more than 62 levels deep" in str(info.value)
    assert demo_session.execute("SELECT 1").scalar() == 1
