"""Helpers of the Chaosd tests (imported by the test modules; conftest.py holds the fixtures)."""

from __future__ import annotations

import time
from pathlib import Path

from chaosdenv import ChaosdTestEnv

#: Sources made by source_for, closed after each test (conftest.py) so no socket is left open.
OPENED: list = []


def source_for(env: ChaosdTestEnv, *, name: str = "lab", with_client_cert: bool = True, **options):
    """A ChaosdSource on ``env`` as a user would configure it (TLS: CA, client cert, system URL)."""
    from chaosql.sources.chaosd import ChaosdSource

    node = {"url": env.base_url, "system_url": env.system_url}
    if env.mode != "http":
        options.setdefault("ca", str(env.ca_cert))
        if env.mode == "mtls" and with_client_cert:
            options.setdefault("client_cert", str(env.client_cert))
            options.setdefault("client_key", str(env.client_key))
    options.setdefault("retries", 0)
    source = ChaosdSource([node], name=name, **options)
    OPENED.append(source)
    return source


def proc_state(pid: int) -> str:
    """Linux process state letter from /proc/PID/stat (T = stopped, S = sleeping)."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]


def wait_for(pred, timeout: float = 5.0, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while True:
        value = pred()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)
