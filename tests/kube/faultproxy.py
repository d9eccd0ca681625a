"""A TCP forwarder between chaosql and a real kube-apiserver, for network faults: ``cut()`` drops
every open connection (a watch breaks mid-stream), ``refuse()`` closes the port (connection
refused, as for a server that is down), ``hold()`` takes new connections but forwards nothing (a
server that hangs: every request waits for its timeout) and ``allow()`` opens it again on the same
port and forwards again. Bytes pass
through untouched (TLS end to end), so the apiserver chaosql talks to is the real one.
"""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import yaml


class FaultProxy:
    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._listener: socket.socket | None = None
        self.port = 0
        self.accepted = 0
        self.holding = False
        self.allow()

    @property
    def address(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def kubeconfig(self, source: str | Path, into: Path) -> Path:
        """A copy of the kubeconfig at ``source`` whose clusters point at this proxy."""
        config = yaml.safe_load(Path(source).read_text())
        for cluster in config["clusters"]:
            cluster["cluster"]["server"] = self.address
        into.write_text(yaml.safe_dump(config))
        return into

    def allow(self) -> None:
        """Listen (again, on the same port) and forward what comes in (connections held are dropped)."""
        if self.holding:
            self.holding = False
            self.cut()
        with self._lock:
            if self._listener is not None:
                return
            listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind(("127.0.0.1", self.port))
            listener.listen(64)
            self.port = listener.getsockname()[1]
            self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def refuse(self) -> None:
        """Close the port (new connections are refused) and drop the open ones."""
        with self._lock:
            listener, self._listener = self._listener, None
        if listener is not None:
            try:  # wakes the thread blocked in accept() (close alone would leave it accepting)
                listener.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            listener.close()
        self.cut()

    def hold(self) -> None:
        """Drop the open connections, then accept new ones but forward nothing until ``allow()``."""
        self.holding = True
        self.cut()

    def cut(self) -> None:
        """Drop every open connection, both ways."""
        with self._lock:
            conns, self._open = self._open, set()
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            conn.close()

    def close(self) -> None:
        self.refuse()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # closed by refuse()
            if self.holding:  # kept open, never answered (closed by cut() or allow())
                with self._lock:
                    self._open.add(client)
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            with self._lock:
                self.accepted += 1
                self._open |= {client, upstream}
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        for conn in (src, dst):
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        with self._lock:
            self._open.discard(src)
            self._open.discard(dst)
