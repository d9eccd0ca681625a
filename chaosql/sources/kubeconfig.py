"""A kubeconfig read the way kubectl reads it, without the ``kubernetes`` package.

Importing the ``kubernetes`` client costs a one-shot query about a third of a second, for what is
mostly reading a YAML file. This module covers what kubeconfigs hold in practice: the server, its
CA (file or data), ``insecure-skip-tls-verify``, ``tls-server-name``, ``proxy-url``; client
certificates (files or data), bearer tokens (inline or ``tokenFile``), basic auth, and exec
credential plugins (``aws eks get-token``, ``gke-gcloud-auth-plugin``, ``kubelogin``: the
``client.authentication.k8s.io`` ExecCredential protocol, renewed when it expires). Only the legacy
``auth-provider`` entries (OIDC refresh, the old gcp/azure providers) raise ``NeedsKubernetes``:
the caller then uses the ``kubernetes`` package, which knows how to refresh them.

``$KUBECONFIG`` may list several files; as kubectl does, the first file that defines a cluster,
user or context (by name), or a ``current-context``, wins. Relative paths in a file are relative to
that file's directory.
"""

from __future__ import annotations

import base64
import json
import os
import ssl
import subprocess
import tempfile
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

#: Seconds before an exec credential's expiry when it is renewed.
RENEW_BEFORE = 30.0


class KubeconfigError(Exception):
    """The kubeconfig cannot be read, or lacks what was asked for."""


class NeedsKubernetes(Exception):
    """The user's credentials need the ``kubernetes`` package (a legacy auth-provider)."""


@dataclass
class _Merged:
    clusters: dict[str, tuple[dict, Path]] = field(default_factory=dict)
    users: dict[str, tuple[dict, Path]] = field(default_factory=dict)
    contexts: dict[str, dict] = field(default_factory=dict)
    current: str = ""


def read(paths: str) -> _Merged:
    """The kubeconfig files of ``paths`` (separated by ``os.pathsep``), merged as kubectl does."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    merged = _Merged()
    files = [Path(p).expanduser() for p in paths.split(os.pathsep) if p]
    found = False
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            continue
        except OSError as err:
            raise KubeconfigError(f"cannot read {path}: {err.strerror}") from err
        found = True
        try:
            doc = yaml.load(text, Loader=loader) or {}
        except yaml.YAMLError as err:
            raise KubeconfigError(f"{path}: invalid YAML: {str(err).splitlines()[0]}") from err
        if not isinstance(doc, dict):
            raise KubeconfigError(f"{path}: not a kubeconfig")
        for entry in doc.get("clusters") or []:
            merged.clusters.setdefault(entry.get("name"), (entry.get("cluster") or {}, path))
        for entry in doc.get("users") or []:
            merged.users.setdefault(entry.get("name"), (entry.get("user") or {}, path))
        for entry in doc.get("contexts") or []:
            merged.contexts.setdefault(entry.get("name"), entry.get("context") or {})
        merged.current = merged.current or str(doc.get("current-context") or "")
    if not found:
        raise KubeconfigError(f"{paths}: no such file")
    return merged


def current_context(paths: str) -> str:
    merged = read(paths)
    if not merged.current:
        raise KubeconfigError("it has no current context")
    if merged.current not in merged.contexts:
        raise KubeconfigError(f'its current context "{merged.current}" is not defined')
    return merged.current


def load(paths: str, context: str) -> Credentials:
    """The server and credentials of ``context``."""
    merged = read(paths)
    ctx = merged.contexts.get(context)
    if ctx is None:
        raise KubeconfigError(f'context "{context}" is not defined')
    cluster, cluster_file = merged.clusters.get(str(ctx.get("cluster")), ({}, Path(".")))
    if not cluster.get("server"):
        raise KubeconfigError(f'cluster "{ctx.get("cluster")}" of context "{context}" has no server')
    user, user_file = merged.users.get(str(ctx.get("user")), ({}, Path(".")))
    if user.get("auth-provider"):
        raise NeedsKubernetes(str((user.get("auth-provider") or {}).get("name") or "auth-provider"))
    return Credentials(cluster, cluster_file.parent, user, user_file.parent)


class Credentials:
    """What a client needs to talk to one context's server."""

    def __init__(self, cluster: dict, cluster_dir: Path, user: dict, user_dir: Path) -> None:
        self.host = str(cluster["server"]).rstrip("/")
        self.proxy = cluster.get("proxy-url") or None
        self.tls_server_name = cluster.get("tls-server-name") or None
        self.verify = not cluster.get("insecure-skip-tls-verify")
        self._cluster, self._cluster_dir = cluster, cluster_dir
        self._user, self._user_dir = user, user_dir
        self._lock = threading.Lock()
        self._exec_token: str | None = None
        self._exec_cert: tuple[str, str] | None = None
        self._exec_expires: float | None = None
        if user.get("exec"):
            self._run_exec()

    def ssl_context(self) -> ssl.SSLContext:
        """The TLS context for this server: shared by every connection with the same CA, client
        certificate and verification (a source's two connections, the sources of one kubeconfig),
        because making one reads the CA and writes the key to a private file: milliseconds per
        cluster on each cold read. A rotated certificate or CA file is different text, so a new
        context."""
        cluster = self._cluster
        if cluster.get("certificate-authority-data"):
            ca: tuple[str, ...] | None = ("data", _decode(cluster["certificate-authority-data"]))
        elif cluster.get("certificate-authority"):
            ca_file = _path(cluster["certificate-authority"], self._cluster_dir)
            ca = ("file", str(ca_file), ca_file.read_text())
        else:
            ca = None
        cert, key = self._client_cert()
        return _shared_context((ca, self.verify, cert, key))

    def _client_cert(self) -> tuple[str | None, str | None]:
        """PEM text of the client certificate and key, if the user has them."""
        if self._exec_cert is not None:
            return self._exec_cert
        user = self._user
        cert = _decode(user["client-certificate-data"]) if user.get("client-certificate-data") else None
        key = _decode(user["client-key-data"]) if user.get("client-key-data") else None
        if cert is None and user.get("client-certificate"):
            cert = _path(user["client-certificate"], self._user_dir).read_text()
        if key is None and user.get("client-key"):
            key = _path(user["client-key"], self._user_dir).read_text()
        return cert, key

    def headers(self) -> dict[str, str]:
        """The Authorization header, if the user authenticates by token (or basic auth)."""
        user = self._user
        if user.get("exec"):
            with self._lock:
                if self._exec_expires is not None and self._exec_expires - RENEW_BEFORE <= _now():
                    self._run_exec()
                token = self._exec_token
        elif user.get("token"):
            token = str(user["token"])
        elif user.get("tokenFile"):
            token = _path(user["tokenFile"], self._user_dir).read_text().strip()  # rotated on disk: read anew
        elif user.get("username") and user.get("password"):
            basic = base64.b64encode(f"{user['username']}:{user['password']}".encode()).decode()
            return {"Authorization": f"Basic {basic}"}
        else:
            token = None
        return {"Authorization": f"Bearer {token}"} if token else {}

    def _run_exec(self) -> None:
        """Run the exec credential plugin (client.authentication.k8s.io ExecCredential)."""
        spec = self._user["exec"]
        api_version = spec.get("apiVersion") or "client.authentication.k8s.io/v1beta1"
        info: dict[str, Any] = {"apiVersion": api_version, "kind": "ExecCredential", "spec": {"interactive": False}}
        if spec.get("provideClusterInfo"):
            info["spec"]["cluster"] = {
                k: self._cluster.get(k)
                for k in (
                    "server",
                    "tls-server-name",
                    "insecure-skip-tls-verify",
                    "certificate-authority-data",
                    "proxy-url",
                )
                if self._cluster.get(k) is not None
            }
        env = {**os.environ, **{e["name"]: str(e.get("value", "")) for e in spec.get("env") or []}}
        env["KUBERNETES_EXEC_INFO"] = json.dumps(info)
        command = str(spec.get("command") or "")
        try:
            done = subprocess.run(
                [command, *[str(a) for a in spec.get("args") or []]],
                env=env,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=60,
                cwd=str(self._user_dir),
            )
        except (OSError, subprocess.TimeoutExpired) as err:
            raise KubeconfigError(f"exec credential plugin {command} failed: {err}") from err
        if done.returncode != 0:
            detail = (done.stderr or done.stdout).strip().splitlines()[-1:] or [f"exit code {done.returncode}"]
            raise KubeconfigError(f"exec credential plugin {command} failed: {detail[0]}")
        try:
            status = json.loads(done.stdout).get("status") or {}
        except ValueError as err:
            raise KubeconfigError(f"exec credential plugin {command} printed no ExecCredential JSON") from err
        self._exec_token = status.get("token")
        if status.get("clientCertificateData") and status.get("clientKeyData"):
            self._exec_cert = (status["clientCertificateData"], status["clientKeyData"])
        expires = status.get("expirationTimestamp")
        self._exec_expires = _timestamp(expires) if expires else None


def _decode(data: str) -> str:
    return base64.b64decode(data).decode()


def _path(value: str, base: Path) -> Path:
    path = Path(str(value)).expanduser()
    return path if path.is_absolute() else base / path


#: TLS contexts by what they were made of (``Credentials.ssl_context``); the oldest go first.
_CONTEXTS: OrderedDict[tuple, ssl.SSLContext] = OrderedDict()
_CONTEXTS_LOCK = threading.Lock()
_MAX_CONTEXTS = 32


def _shared_context(made_of: tuple) -> ssl.SSLContext:
    """The TLS context for (CA, verify, client certificate, key), made once. An SSLContext is
    safe to share between connections and threads."""
    with _CONTEXTS_LOCK:
        context = _CONTEXTS.get(made_of)
        if context is not None:
            _CONTEXTS.move_to_end(made_of)
            return context
    ca, verify, cert, key = made_of
    if ca is None:
        context = ssl.create_default_context()
    elif ca[0] == "data":
        context = ssl.create_default_context(cadata=ca[1])
    else:
        context = ssl.create_default_context(cafile=ca[1])
    if not verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    if cert and key:
        _load_cert_chain(context, cert, key)
    with _CONTEXTS_LOCK:
        context = _CONTEXTS.setdefault(made_of, context)
        while len(_CONTEXTS) > _MAX_CONTEXTS:
            _CONTEXTS.popitem(last=False)
    return context


def _load_cert_chain(context: ssl.SSLContext, cert: str, key: str) -> None:
    """``load_cert_chain`` reads files: hand it private ones, removed at once."""
    with tempfile.TemporaryDirectory(prefix="chaosql-cert-") as tmp:
        cert_file, key_file = Path(tmp) / "client.crt", Path(tmp) / "client.key"
        for path, text in ((cert_file, cert), (key_file, key)):
            path.touch(mode=0o600)
            path.write_text(text)
        context.load_cert_chain(str(cert_file), str(key_file))


def _now() -> float:
    return datetime.now(UTC).timestamp()


def _timestamp(text: str) -> float:
    return datetime.fromisoformat(str(text).replace("Z", "+00:00")).timestamp()
