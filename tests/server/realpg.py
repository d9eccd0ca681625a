"""A real PostgreSQL 15 (Debian's) on 127.0.0.1, in a temporary directory, for capture and comparison.

Used by the corpus capture script and the benchmark, never by the chaosql server itself. PostgreSQL
refuses to run as root, so when we are root the data directory belongs to the ``postgres`` user and
the server runs as that user.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

BIN_DIRS = ["/usr/lib/postgresql/15/bin", "/usr/lib/postgresql/16/bin", "/usr/local/bin"]
PASSWORD = "chaos"


def pg_bin(name: str) -> str | None:
    for d in BIN_DIRS:
        if os.path.exists(os.path.join(d, name)):
            return os.path.join(d, name)
    return shutil.which(name)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RealPostgres:
    """``with RealPostgres() as pg: pg.dsn`` — user ``postgres``, password ``chaos``, database ``postgres``."""

    def __init__(self, *, log_statements: bool = False, options: str = "") -> None:
        """``options``: more server settings, as ``-c name=value`` arguments of postgres."""
        self.log_statements = log_statements
        self.options = options
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="chaosql-realpg-"))
        self.data = self.dir / "data"
        self.log = self.dir / "postgres.log"

    @property
    def dsn(self) -> str:
        return f"postgresql://postgres:{PASSWORD}@127.0.0.1:{self.port}/postgres"

    def _run(self, args: list[str]) -> None:
        if os.geteuid() == 0:
            args = ["runuser", "-u", "postgres", "--"] + args
        subprocess.run(args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def start(self) -> RealPostgres:
        initdb, pg_ctl = pg_bin("initdb"), pg_bin("pg_ctl")
        if not initdb or not pg_ctl:
            raise RuntimeError("PostgreSQL server binaries not found (apt-get install postgresql)")
        pwfile = self.dir / "pw"
        pwfile.write_text(PASSWORD + "\n")
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres")
            shutil.chown(pwfile, "postgres")
        self._run(
            [
                initdb,
                "-D",
                str(self.data),
                "-U",
                "postgres",
                "--pwfile",
                str(pwfile),
                "-A",
                "scram-sha-256",
                "-E",
                "UTF8",
                "--locale",
                "C",
            ]
        )
        opts = f"-c listen_addresses=127.0.0.1 -c port={self.port} -c unix_socket_directories={self.dir} -c fsync=off"
        if self.log_statements:
            opts += " -c log_statement=all -c log_line_prefix='%a|%p|' -c log_min_error_statement=panic"
        if self.options:
            opts += " " + self.options
        self._run([pg_ctl, "-D", str(self.data), "-l", str(self.log), "-o", opts, "-w", "start"])
        return self

    def stop(self) -> None:
        pg_ctl = pg_bin("pg_ctl")
        try:
            self._run([pg_ctl, "-D", str(self.data), "-m", "immediate", "-w", "stop"])
        except Exception:
            pass
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> RealPostgres:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


if __name__ == "__main__":
    with RealPostgres() as pg:
        print(pg.dsn)
        time.sleep(1)
