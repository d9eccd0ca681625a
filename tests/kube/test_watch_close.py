"""Ending a watch from another thread, against the real kube-apiserver.

A watch is read by its informer's thread while another thread stops it. Closing the socket from
the stopping thread would free its file descriptor while the reader's TLS layer still uses it: the
next file the process opened could get that number and receive a TLS alert (a ``chaosql sweep``
report began with 24 bytes of one). So ``Streamed.close`` shuts the socket down (the reader wakes at
the end of the stream) and the reader closes it; a source's close waits for its watches to end.
"""

from __future__ import annotations

import os
import stat
import threading
import time

PATH = "/apis/chaos-mesh.org/v1alpha1/podchaos"


def _socket(stream):
    return stream._raw.extensions["network_stream"].get_extra_info("socket")


def test_closing_a_stream_from_another_thread_leaves_its_descriptor_to_the_reader(kube_env, kube_source):
    source = kube_source(kube_env)
    with source.watch_conn.stream(PATH, {"watch": "true", "timeoutSeconds": "60"}, read_timeout=60) as stream:
        sock = _socket(stream)
        fd = sock.fileno()
        closer = threading.Thread(target=stream.close)
        closer.start()
        closer.join(10)
        # still this socket's descriptor: nothing else can be handed that number while a reader may use it
        assert stat.S_ISSOCK(os.fstat(fd).st_mode) and sock.fileno() == fd
        started = time.monotonic()
        list(stream.lines())  # the reader sees the end of the stream, quietly
        assert time.monotonic() - started < 5
    assert sock.fileno() == -1  # closed by the reading thread itself


def test_closing_a_stream_from_another_thread_wakes_a_blocked_reader(kube_env, kube_source):
    source = kube_source(kube_env)
    opened, done = threading.Event(), threading.Event()
    found: dict = {}

    def read() -> None:
        try:
            with source.watch_conn.stream(PATH, {"watch": "true", "timeoutSeconds": "60"}, read_timeout=60) as stream:
                found["stream"] = stream
                opened.set()
                found["events"] = sum(1 for _ in stream.lines())
        except Exception as err:  # the reader must end quietly
            found["error"] = err
        finally:
            done.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    assert opened.wait(30)
    sock = _socket(found["stream"])
    started = time.monotonic()
    found["stream"].close()
    assert done.wait(10), "the reader was not woken up"
    assert time.monotonic() - started < 5
    assert "error" not in found
    reader.join(5)
    assert sock.fileno() == -1


def test_closing_a_source_ends_its_watch_threads_first(kube_env, kube_source):
    from chaosql.engine.session import Session

    source = kube_source(kube_env)
    source.enable_cache()
    session = Session([source])
    # only this source's threads: other tests' sources in this process keep watches of their own
    before = set(threading.enumerate())
    session.execute("SELECT count(*) FROM experiments WHERE kind = 'PodChaos'")
    watching = [t for t in threading.enumerate() if t.name.startswith("chaosql-watch-") and t not in before]
    assert watching
    session.close()
    source.close()
    assert not [t for t in watching if t.is_alive()]
