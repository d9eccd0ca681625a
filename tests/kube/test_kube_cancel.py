"""Cancelling a statement stops its list calls: no further pages, no further retries.

The engine answers a cancel at once; these tests check what happens behind it, in the calls the
statement's sources make (its CallLog: each page or failed request is one entry, recorded when it ends).
"""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import pytest
import seed
import yaml

from chaosql.errors import QueryCancelled

BULK = "SELECT count(*) FROM experiments WHERE namespace = 'bulk' AND kind = 'PodChaos'"
PAGE = 5
PAGES = -(-seed.BULK_COUNT // PAGE)  # 124 pages of 5


def _pages(log) -> int:
    return sum(1 for c in list(log.calls) if "/namespaces/bulk/podchaos" in c.what)


def _cancel_when(session, ready, *, timeout: float = 20.0) -> dict:
    """Cancel ``session`` from another thread once ``ready(log)`` holds; returns what was seen then."""
    seen: dict = {}
    before = session.statement  # the last statement; each statement starts a new one

    def watch() -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            running = session.running  # the running statement (its calls are Result.calls once it ends)
            log = running.log if running is not None and running is not before else None
            if log is not None and ready(log):
                session.cancel()
                seen["log"], seen["pages"], seen["at"] = log, _pages(log), time.monotonic()
                return
            time.sleep(0.002)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    seen["thread"] = thread
    return seen


def test_a_cancelled_list_fetches_no_further_pages(kube_env, kube_source, kube_session):
    session = kube_session(kube_source(kube_env, page_size=PAGE))
    assert session.execute(BULK).scalar() == seed.BULK_COUNT  # discovery is cached; the list takes PAGES pages
    seen = _cancel_when(session, lambda log: _pages(log) >= 1)
    with pytest.raises(QueryCancelled):
        session.execute(BULK)
    seen["thread"].join(5)
    log = seen["log"]
    time.sleep(1.0)  # ample time for the remaining pages, had the list gone on in the background
    settled = _pages(log)
    # at most the page in flight when the cancel came finishes; none is asked for after it
    assert settled <= seen["pages"] + 1 and settled < PAGES // 2, (seen["pages"], settled, PAGES)
    time.sleep(0.5)
    assert _pages(log) == settled
    result = session.execute(BULK)  # the session answers the next statement normally, every page
    assert result.scalar() == seed.BULK_COUNT
    assert sum(1 for c in result.calls if "/namespaces/bulk/podchaos" in c.what) == PAGES


def test_a_cancel_ends_the_retries_of_an_unreachable_cluster(kube_env, tmp_path, kube_session):
    from chaosql.sources.kube import KubeSource

    with socket.socket() as sock:  # a port nothing listens on: every request is refused and retried
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = yaml.safe_load(Path(kube_env.kubeconfig).read_text())
    config["clusters"][0]["cluster"]["server"] = f"https://127.0.0.1:{port}"
    (tmp_path / "gone.yaml").write_text(yaml.safe_dump(config))
    # pauses of 0.5, 1 and 2 s: 3.5 s of retrying unless cancelled
    source = KubeSource(kubeconfig=str(tmp_path / "gone.yaml"), context="admin", name="gone", backoff=0.5)
    session = kube_session(source)
    started = time.monotonic()  # pods need no discovery: the first request is the list, refused and retried
    seen = _cancel_when(session, lambda log: time.monotonic() - started > 0.3)
    with pytest.raises(QueryCancelled):
        session.execute("SELECT count(*) FROM pods")
    assert time.monotonic() - started < 2
    seen["thread"].join(5)
    log = seen["log"]
    deadline = time.monotonic() + 5
    while not log.calls and time.monotonic() < deadline:  # the failed call is recorded when its retries end
        time.sleep(0.02)
    assert [c.what.split("?")[0] for c in log.calls] == ["GET /api/v1/pods"]
    # cancelled 0.3 s in, during the first pause: not after all of them
    assert log.calls[0].seconds < 1.5, log.calls[0]
    assert log.calls[0].what.endswith(" (cancelled)")
    assert session.execute("SELECT 42").scalar() == 42
