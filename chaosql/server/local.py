"""The local service: a running chaosql (``chaosql service``, ``chaosql serve``) answers the one-shot
CLI over a Unix socket, so ``chaosql query`` gets its warm watch cache instead of starting cold.

A socket is named after the sources it serves (``identity``: the ``--source`` specs or the config's,
the config file and the kubeconfig files, by content), so the CLI only ever talks to a chaosql that
would read exactly what it would read itself. The socket lives in ``$XDG_RUNTIME_DIR/chaosql`` (else
``~/.cache/chaosql/run``), a directory only its user may enter.

The exchange is JSON lines. The CLI sends one request (the SQL, output format, ``--set`` settings,
``-v``, ``--yes``); the service runs it on a Session over its shared sources and answers with
``{"out": text}`` and ``{"err": text}`` pieces, then ``{"exit": code}``, exactly what the CLI would
have printed itself. A CLI that goes away (Ctrl-C) cancels its statement.

Sessions are reused: a request gets an idle Session made with the same ``--set`` settings, and its
Session goes back for the next request only when it ran one plain query without error
(``Classified.changes_nothing``), so no client sees another's settings, tables or views. Anything
else (SET, CREATE, a write, a script of several statements, an error) closes it.

With ``CHAOSQL_SERVICE=auto`` or ``[service] auto = true`` (``auto_start``), a ``chaosql query`` that
no service answered starts one for its sources after printing its own answer (opt-in: it leaves a
process behind, stopped after ``[service] idle_exit`` seconds without a query).

The client side (``ask``) imports nothing but the standard library: it runs before the CLI has
loaded DuckDB, Arrow or sqlglot, and a one-shot query through a service costs little more than
starting Python.
"""

from __future__ import annotations

import _socket  # the client's socket: the ``socket`` module's enum set-up costs the quick path ~2 ms
import io
import json
import os
import threading
import time
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    import socket
    from pathlib import Path

try:  # CPython's own SHA-256: hashlib loads OpenSSL first, ~2.5 ms of the quick path's ~50
    from _sha256 import sha256  # type: ignore[import-not-found,unused-ignore]
except ImportError:  # Python 3.12 renamed it _sha2
    from hashlib import sha256


PROTOCOL = 1
#: What ``identity`` calls the sources when nothing names any (the CLI then reads the demo data).
DEFAULT_DEMO = "the demo data (no sources configured)"
#: Seconds the CLI waits to connect to a socket (a stale socket file is refused at once).
CONNECT_TIMEOUT = 0.5
#: Idle Sessions the service keeps for the next requests (per set of ``--set`` settings, at most).
IDLE_SESSIONS = 4
#: How long stopping waits for a client's statement to end after cancelling it (a write's rollback).
STOP_WAIT = 120.0
#: What ``$CHAOSQL_SERVICE`` says to turn services off (ask none, start none).
OFF = ("off", "0", "no", "false")
#: Seconds a claim to start a service holds (``claim_start``): longer than any start takes.
STARTING_FOR = 60.0
#: Idle seconds after which a service that ``chaosql query`` started by itself stops (``[service] idle_exit``).
AUTO_IDLE_EXIT = 600.0


# --- where and who --------------------------------------------------------------------------


def socket_dir() -> Path:
    from pathlib import Path

    return Path(_socket_dir())


def _socket_dir() -> str:
    # os.path, not pathlib, on the CLI's path: the quick path to a service does without pathlib
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime:
        return os.path.join(runtime, "chaosql")
    return os.path.join(os.path.expanduser("~"), ".cache", "chaosql", "run")


def identity(args: Any) -> tuple[str, str]:
    """(key, description) of the sources the options name, computed without opening them: the
    source specs (``--source``, ``$CHAOSQL_SOURCE``, else the config's), and the content of the
    config file and of the kubeconfig files they may read."""
    from chaosql.config import config_file

    specs = list(getattr(args, "source", None) or [])
    if not specs:
        specs = [s.strip() for s in os.environ.get("CHAOSQL_SOURCE", "").split(",") if s.strip()]
    specs = [_absolute(spec) for spec in specs]
    path = config_file(getattr(args, "config", None))
    parts: dict[str, Any] = {"specs": specs, "config": _fingerprint(path) if path else None}
    kubeconfigs = os.environ.get("KUBECONFIG") or os.path.join(os.path.expanduser("~"), ".kube", "config")
    parts["kubeconfig"] = [_fingerprint(p) for p in kubeconfigs.split(os.pathsep) if p]
    if path is not None:  # kubeconfig files a config section names
        import tomllib

        try:
            with open(path, encoding="utf-8") as fh:
                sections = tomllib.loads(fh.read()).get("sources") or {}
        except (OSError, ValueError):
            sections = {}
        named = [s.get("kubeconfig") for s in sections.values() if isinstance(s, dict) and s.get("kubeconfig")]
        parts["named"] = [_fingerprint(os.path.expanduser(str(p))) for p in named]
    key = sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:20]
    described = ", ".join(specs) or (f"the sources of {path}" if path else DEFAULT_DEMO)
    return key, described


def socket_path(key: str) -> Path:
    from pathlib import Path

    return Path(_socket_file(key))


def _socket_file(key: str) -> str:
    return os.path.join(_socket_dir(), f"{key}.sock")


def _absolute(spec: str) -> str:
    scheme, _, rest = spec.partition(":")
    if scheme in ("snapshot", "history") and rest:
        return f"{scheme}:{os.path.realpath(os.path.expanduser(rest))}"
    return spec


def _fingerprint(path: str) -> list[str]:
    try:
        with open(path, "rb") as fh:
            return [path, sha256(fh.read()).hexdigest()]
    except OSError:
        return [path, ""]


# --- the CLI's side ---------------------------------------------------------------------------


def ask(args: Any, sql: str, out: TextIO, err: TextIO) -> int | None:
    """Have a running chaosql with the same sources run ``sql``; its exit code, or None when there
    is none (the CLI then runs the statement itself). Ctrl-C here cancels it there."""
    if os.environ.get("CHAOSQL_SERVICE", "").lower() in OFF:
        return None
    key, described = identity(args)
    path = _socket_file(key)
    if not os.path.exists(path):
        return None
    conn = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    conn.settimeout(CONNECT_TIMEOUT)
    try:
        conn.connect(path)
    except OSError:  # a socket left behind by a service that died
        conn.close()
        return None
    conn.settimeout(None)
    if described == DEFAULT_DEMO:  # as the CLI says when it opens the demo data itself
        from chaosql.config import DEMO_NOTICE

        err.write(DEMO_NOTICE + "\n")
    request = {
        "protocol": PROTOCOL,
        "sql": sql,
        "format": getattr(args, "format", "table"),
        "verbose": bool(getattr(args, "verbose", False)),
        "yes": bool(getattr(args, "yes", False)),
        "settings": list(getattr(args, "settings", None) or []),
    }
    try:
        conn.sendall(json.dumps(request).encode() + b"\n")
        pending = b""
        while True:
            try:
                while chunk := conn.recv(1 << 16):
                    *lines, pending = (pending + chunk).split(b"\n")
                    for line in lines:
                        message = json.loads(line)
                        if "out" in message:
                            out.write(message["out"])
                        elif "err" in message:
                            err.write(message["err"])
                        elif "exit" in message:
                            out.flush()
                            return int(message["exit"])
                err.write("chaosql: the chaosql service closed the connection before answering\n")
                return 1
            except (
                KeyboardInterrupt
            ):  # Ctrl-C or SIGTERM: the service cancels (a write rolls back) and says what is left
                try:
                    conn.shutdown(_socket.SHUT_WR)
                except OSError:
                    pass
    finally:
        conn.close()


def auto_start(args: Any) -> float | None:
    """The idle exit (seconds) of the service ``chaosql query`` should start after answering a query
    itself, or None when it should not: ``CHAOSQL_SERVICE=auto`` or ``auto = true`` under the config's
    ``[service]`` turn it on (``CHAOSQL_SERVICE=off`` wins over the config), ``idle_exit`` there says
    how long the service waits for a query before it stops."""
    from chaosql.config import load_config
    from chaosql.errors import UsageError

    mode = os.environ.get("CHAOSQL_SERVICE", "").lower()
    if mode in OFF:
        return None
    config = load_config(getattr(args, "config", None))
    section = config.section("service")
    auto = section.get("auto", False)
    if not isinstance(auto, bool):
        raise UsageError(f"config file {config.path}: [service] auto must be true or false, not {auto!r}")
    if mode != "auto" and not auto:
        return None
    idle = section.get("idle_exit", AUTO_IDLE_EXIT)
    if isinstance(idle, bool) or not isinstance(idle, (int, float)) or idle < 0:
        raise UsageError(f"config file {config.path}: [service] idle_exit must be a number of seconds, not {idle!r}")
    return float(idle)


def claim_start(key: str) -> bool:
    """Whether this process may start the service for ``key``: False while another has been starting
    it for less than ``STARTING_FOR`` seconds (queries run side by side start one service, not one
    each). The service removes the claim once it listens (``starting_done``)."""
    marker = _socket_file(key).removesuffix(".sock") + ".starting"
    os.makedirs(os.path.dirname(marker), mode=0o700, exist_ok=True)
    for _ in range(2):
        try:
            os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
            return True
        except FileExistsError:
            try:
                if time.time() - os.stat(marker).st_mtime < STARTING_FOR:
                    return False
                os.unlink(marker)  # left by a start that failed: claim it afresh
            except FileNotFoundError:
                pass
    return False


def starting_done(path: Path) -> None:
    """The service for ``path`` listens (or gave up): another process may start one again."""
    try:
        os.unlink(path.with_suffix(".starting"))
    except FileNotFoundError:
        pass


# --- the service's side -----------------------------------------------------------------------


class LocalServer:
    """Answers the CLI on a Unix socket, each request on a new Session over ``sources``."""

    def __init__(self, sources: list[Any], settings: dict[str, Any], path: Path, *, description: str = "") -> None:
        self.sources = sources
        self.settings = settings
        self.path = path
        self.description = description
        self.started = time.time()
        self.last_request = time.monotonic()
        self.requests = 0
        self.stopping = threading.Event()  # a "stop" request came (chaosql service stop)
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._idle: dict[tuple[str, ...], list[Any]] = {}  # request settings -> idle Sessions
        self._busy: dict[Any, threading.Thread] = {}  # Sessions answering a request, with their thread
        self._idle_lock = threading.Lock()

    def start(self) -> bool:
        """Listen; False when another live chaosql already serves these sources here."""
        import socket

        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(self.path.parent, 0o700)
        if self.path.exists():
            probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                probe.connect(str(self.path))
                return False  # someone answers: leave it be
            except OSError:
                self.path.unlink(missing_ok=True)  # left behind by a chaosql that died
            finally:
                probe.close()
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.bind(str(self.path))
        os.chmod(self.path, 0o600)
        sock.listen(64)
        self._sock = sock
        self._thread = threading.Thread(target=self._accept, name="chaosql-local", daemon=True)
        self._thread.start()
        return True

    def stop(self, reason: str = "chaosql is stopping") -> None:
        """Stop listening, cancel the statements running for clients (a write rolls back what it
        made, and its client is told) and wait for them, then close the sessions."""
        with self._idle_lock:
            sock, self._sock = self._sock, None
            busy = dict(self._busy)
        if sock is not None:
            try:
                sock.shutdown(_socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()
            try:
                if self.path.exists():
                    self.path.unlink()
            except OSError:
                pass
        for session in busy:
            session.cancel(reason)
        for thread in busy.values():
            thread.join(STOP_WAIT)  # a rollback's calls are not stopped by the cancel: let them end
        with self._idle_lock:
            idle, self._idle = self._idle, {}
        for sessions in idle.values():
            for session in sessions:
                session.close()

    def _accept(self) -> None:
        while self._sock is not None:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), name="chaosql-local-request", daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        try:
            reader = conn.makefile("r", encoding="utf-8")
            line = reader.readline()
            if not line:
                return
            request = json.loads(line)
            if request.get("status"):
                self._send(conn, {"status": self.status()})
                return
            if request.get("stop"):
                self._send(conn, {"stopping": os.getpid()})
                self.stopping.set()
                return
            self.requests += 1
            self.last_request = time.monotonic()
            try:
                code = self._run(conn, request)
            finally:
                self.last_request = time.monotonic()
            self._send(conn, {"exit": code})
        except (OSError, ValueError):
            pass  # the CLI went away, or sent something else
        finally:
            conn.close()

    def _run(self, conn: socket.socket, request: dict) -> int:
        import argparse

        from chaosql.commands._context import report_error
        from chaosql.commands.query import run_sql

        out, err = _Stream(conn, "out"), _Stream(conn, "err")
        args = argparse.Namespace(
            format=request.get("format") or "table", verbose=bool(request.get("verbose")), yes=bool(request.get("yes"))
        )
        key = tuple(str(item) for item in request.get("settings") or [])
        sql = request.get("sql") or ""
        session, reusable = None, False
        hangup = _Hangup(conn)
        try:
            session = self._session(key)
            hangup.watch(session)
            run_sql(session, sql, args, out, err)
            code = 0
            last = session.statement.classified if session.statement is not None else None
            reusable = last is not None and last.changes_nothing and len(session.split(sql)) == 1
        except (Exception, KeyboardInterrupt) as failure:
            code = report_error(failure, err, verbose=args.verbose)
        finally:
            hangup.done()  # from here on a hang-up cancels nothing: the session may serve another client
            if session is not None:
                with self._idle_lock:
                    self._busy.pop(session, None)
                self._release(key, session, reusable)
        out.flush()
        err.flush()
        return code

    def _session(self, key: tuple[str, ...]) -> Any:
        """An idle Session made with the request's ``--set`` settings, or a new one; it counts as
        busy (``stop`` cancels its statement) until ``_run`` releases it."""
        with self._idle_lock:
            if self._sock is None:
                from chaosql.errors import Unavailable

                raise Unavailable("the chaosql service is stopping", hint="run the query again")
            idle = self._idle.get(key)
            if idle:
                session = idle.pop()
                self._busy[session] = threading.current_thread()
                return session
        from chaosql.engine.session import Session

        settings = dict(self.settings)
        for item in key:
            name, eq, value = item.partition("=")
            if not eq:
                from chaosql.errors import UsageError

                raise UsageError(f"--set {item}: expected NAME=VALUE")
            settings[name.strip()] = value.strip()
        session = Session(self.sources, settings=settings)
        with self._idle_lock:
            self._busy[session] = threading.current_thread()
        return session

    def _release(self, key: tuple[str, ...], session: Any, reusable: bool) -> None:
        """Keep ``session`` for the next request with the same settings when its request changed
        nothing in it (and the service runs on); close it otherwise."""
        session.confirm = None  # --yes was this request's answer, not the next one's
        if reusable and self._sock is not None and session.settings == session.initial_settings:
            with self._idle_lock:
                idle = self._idle.setdefault(key, [])
                if len(idle) < IDLE_SESSIONS:
                    idle.append(session)
                    return
        session.close()

    def status(self) -> dict[str, Any]:
        caches = []
        for source in self.sources:
            cache = getattr(source, "cache", None)
            if cache is not None:
                caches += [{"cluster": source.name, **line} for line in cache.status()]
        return {
            "pid": os.getpid(),
            "sources": self.description,
            "started": self.started,
            "requests": self.requests,
            "idle_seconds": time.monotonic() - self.last_request,
            "watches": caches,
        }

    @staticmethod
    def _send(conn: socket.socket, message: dict) -> None:
        conn.sendall(json.dumps(message).encode() + b"\n")


class _Stream(io.StringIO):
    """A text stream whose writes go to the CLI as ``{"out": ...}`` (or ``err``) messages."""

    def __init__(self, conn: socket.socket, name: str, size: int = 1 << 16) -> None:
        super().__init__()
        self.conn, self.name, self.size = conn, name, size
        self.parts: list[str] = []
        self.buffered = 0

    def write(self, text: str) -> int:
        self.parts.append(text)
        self.buffered += len(text)
        if self.buffered >= self.size:
            self.flush()
        return len(text)

    def flush(self) -> None:
        if self.parts:
            text, self.parts, self.buffered = "".join(self.parts), [], 0
            LocalServer._send(self.conn, {self.name: text})


class _Hangup:
    """Cancels the request's statement when the CLI goes away.

    The CLI sends nothing after its request: EOF means it went away or was interrupted (it shuts
    its side down on Ctrl-C and SIGTERM, and waits for what a cancelled write left). Once the
    request is ``done`` its session may already serve another client, so an EOF cancels nothing."""

    def __init__(self, conn: socket.socket) -> None:
        self.conn = conn
        self.session: Any = None
        self.finished = False
        self.lock = threading.Lock()

    def watch(self, session: Any) -> None:
        self.session = session
        threading.Thread(target=self._wait, daemon=True, name="chaosql-local-hangup").start()

    def done(self) -> None:
        with self.lock:
            self.finished = True

    def _wait(self) -> None:
        try:
            while self.conn.recv(1024):
                pass
        except OSError:
            pass
        with self.lock:
            if not self.finished:
                self.session.cancel("interrupted (the chaosql command was stopped)")


def request(path: Path, message: dict[str, Any], timeout: float = 5.0) -> dict[str, Any] | None:
    """One control request (``status``, ``stop``) to the service at ``path``; None if none answers."""
    import socket

    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    conn.settimeout(timeout)
    try:
        conn.connect(str(path))
        conn.sendall(json.dumps({"protocol": PROTOCOL, **message}).encode() + b"\n")
        return json.loads(conn.makefile("r", encoding="utf-8").readline() or "{}")
    except (OSError, ValueError):
        return None
    finally:
        conn.close()


def running() -> list[dict[str, Any]]:
    """What every chaosql service of this user says about itself (``chaosql service status``)."""
    directory = socket_dir()
    found = []
    for path in sorted(directory.glob("*.sock")) if directory.is_dir() else []:
        answer = request(path, {"status": True})
        if answer is not None:
            found.append({"socket": str(path), **answer.get("status", {})})
    return found


__all__ = ["LocalServer", "ask", "identity", "request", "running", "socket_dir", "socket_path"]
