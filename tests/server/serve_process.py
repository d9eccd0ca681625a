"""``chaosql serve`` as its own process, as users run it: its port, and its memory from /proc."""

from __future__ import annotations

import os
import re
import select
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


class Served:
    """``with Served("--source", "demo") as s: s.port, s.rss_mb(), s.peak_mb()``."""

    def __init__(self, *args: str, env: dict[str, str] | None = None) -> None:
        self.args = args
        self.env = env or {}
        self.proc: subprocess.Popen | None = None
        self.port = 0
        self.log: list[str] = []

    def start(self, timeout: float = 60) -> Served:
        env = {**os.environ, "CHAOSQL_CONFIG": "", "XDG_CONFIG_HOME": "/nonexistent", **self.env}
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "chaosql", "serve", "--port", "0", *self.args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        deadline = time.monotonic() + timeout
        assert self.proc.stderr is not None
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.proc.stderr], [], [], 0.5)
            if ready:
                line = self.proc.stderr.readline()
                self.log.append(line)
                m = re.search(r"serving PostgreSQL protocol on [\d.]+:(\d+)", line)
                if m:
                    self.port = int(m.group(1))
                    return self
            if self.proc.poll() is not None:
                break
        self.stop()
        raise RuntimeError("chaosql serve did not start: " + "".join(self.log))

    def _status(self, key: str) -> float:
        assert self.proc is not None
        text = Path(f"/proc/{self.proc.pid}/status").read_text()
        return int(re.search(rf"^{key}:\s+(\d+) kB", text, re.M).group(1)) / 1024

    def rss_mb(self) -> float:
        """Resident memory now, in MB."""
        return self._status("VmRSS")

    def peak_mb(self) -> float:
        """The most resident memory the process ever had, in MB (VmHWM)."""
        return self._status("VmHWM")

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def __enter__(self) -> Served:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
