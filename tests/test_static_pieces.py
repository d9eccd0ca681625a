"""A snapshot's rows are listed and shaped once for every session of the process
(``KubeFeed._fetch_static``): sessions asking for the same new rows at the same moment wait for
one shaping, and all get the same answer."""

from __future__ import annotations

import threading
import time
from collections import Counter

from chaosql.engine.session import Session
from chaosql.sources import open_source

QUERY = "SELECT kind, count(*) AS n FROM experiments GROUP BY kind ORDER BY kind"


def test_sessions_asking_at_once_shape_the_rows_once():
    source = open_source("demo")  # its own: no session shaped its rows yet
    listed: Counter = Counter()
    lock = threading.Lock()
    real_list = source.list

    def slow_list(cluster, kind, flt, log):
        with lock:
            listed[(cluster, kind)] += 1
        time.sleep(0.05)  # shaping takes a while: the other sessions ask meanwhile
        return real_list(cluster, kind, flt, log)

    source.list = slow_list  # type: ignore[method-assign]
    sessions = [Session([source]) for _ in range(8)]
    start = threading.Barrier(len(sessions))
    answers: list = [None] * len(sessions)

    def ask(i: int) -> None:
        start.wait()
        answers[i] = sessions[i].execute(QUERY).rows()

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(len(sessions))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for session in sessions:
        session.close()
    assert listed and max(listed.values()) == 1, listed
    assert answers[0] and all(a == answers[0] for a in answers)
    alone = Session([open_source("demo")])
    assert alone.execute(QUERY).rows() == answers[0]
    alone.close()
