"""A real kube-apiserver (plus embedded etcd) for chaosql's tests.

The server is the Go program in ``tests/kube-testenv/`` (k8s.io/kubernetes used
as a library). This module builds it once (cached by a hash of its sources, see
``tests/kube-testenv/build.sh``), starts it, loads the Chaos Mesh CRDs (and,
with ``litmus=True``, LitmusChaos's) and gives tests small helpers to seed
objects through the REST API.

Nothing here imports pytest; the fixtures live in the test files.

Typical use::

    env = KubeTestEnv()            # state under a fresh temporary directory
    env.start("c1")                # build if needed, start, apply CRDs
    env.create_namespace("ns1")
    pc = env.create({"apiVersion": "chaos-mesh.org/v1alpha1", "kind": "PodChaos",
                     "metadata": {"name": "kill", "namespace": "ns1"},
                     "spec": {"action": "pod-kill", "mode": "one",
                              "selector": {"namespaces": ["ns1"]}}})
    env.write_status(pc, experiment_status([record("ns1/web-0", "Injected")]))
    env.kubeconfig, env.admin_context, env.reader_context   # for chaosql
    env.stop()                     # the cluster is gone ...
    env.start_again()              # ... and back: same data, same port

Environment variables:

``KUBE_TESTENV_BIN``    use this binary instead of running build.sh
"""

from __future__ import annotations

import atexit
import base64
import json
import os
import selectors
import shutil
import signal
import ssl
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
TESTENV_DIR = REPO_ROOT / "tests" / "kube-testenv"
BUILD_SCRIPT = TESTENV_DIR / "build.sh"
CHAOS_GROUP = "chaos-mesh.org"
CHAOS_VERSION = "v1alpha1"
CHAOS_API_VERSION = f"{CHAOS_GROUP}/{CHAOS_VERSION}"

try:  # the C loader parses the 3 MB crd.yaml in well under a second
    _YamlLoader = yaml.CSafeLoader
except AttributeError:  # pragma: no cover
    _YamlLoader = yaml.SafeLoader


class KubeTestEnvError(RuntimeError):
    """The test environment could not be built, started or used."""


class ApiError(KubeTestEnvError):
    """The apiserver answered a request with an error status."""

    def __init__(self, method: str, path: str, status: int, body: Any):
        self.method, self.path, self.status, self.body = method, path, status, body
        msg = body.get("message") if isinstance(body, dict) else str(body)[:500]
        super().__init__(f"{method} {path}: HTTP {status}: {msg}")


# --------------------------------------------------------------------------- paths


def crd_path() -> Path:
    """The Chaos Mesh CRD manifest the package ships (``chaosql/crds/chaos-mesh/crd.yaml``)."""
    from chaosql.crds import chaos_mesh_crds

    return chaos_mesh_crds()


def litmus_crd_path() -> Path:
    """LitmusChaos's CRD manifest the package ships (``chaosql/crds/litmus/crd.yaml``)."""
    from chaosql.crds import litmus_crds

    return litmus_crds()


_crd_cache: dict[Path, list[dict]] = {}


def load_crds(path: Path | None = None) -> list[dict]:
    """The CustomResourceDefinitions in ``path`` (default :func:`crd_path`)."""
    path = Path(path or crd_path())
    if path not in _crd_cache:
        if not path.exists():
            raise KubeTestEnvError(f"CRD file not found: {path}")
        with path.open() as f:
            docs = [d for d in yaml.load_all(f, Loader=_YamlLoader) if d]
        _crd_cache[path] = [d for d in docs if d.get("kind") == "CustomResourceDefinition"]
    return _crd_cache[path]


# --------------------------------------------------------------------------- build

_build_lock = threading.Lock()
_built_binary: str | None = None


def build_binary(*, force: bool = False) -> str:
    """Build the kube-testenv binary if its source hash changed; return its path.

    ``$KUBE_TESTENV_BIN`` short-cuts this. Build output (timing, cache sizes)
    goes to this process's stderr.
    """
    global _built_binary
    env_bin = os.environ.get("KUBE_TESTENV_BIN")
    if env_bin:
        return env_bin
    with _build_lock:
        if _built_binary and not force and os.path.exists(_built_binary):
            return _built_binary
        env = dict(os.environ)
        if force:
            env["KUBE_TESTENV_FORCE"] = "1"
        proc = subprocess.run(["bash", str(BUILD_SCRIPT)], stdout=subprocess.PIPE, stderr=None, text=True, env=env)
        if proc.returncode != 0:
            raise KubeTestEnvError(f"{BUILD_SCRIPT} failed with exit code {proc.returncode}")
        path = proc.stdout.strip().splitlines()[-1]
        _built_binary = path
        return path


# --------------------------------------------------------------------------- status helpers


def record(
    id: str,
    phase: str = "Injected",
    *,
    selector_key: str = ".",
    injected: int | None = None,
    recovered: int | None = None,
    events: list[dict] | None = None,
) -> dict:
    """One ``status.experiment.containerRecords`` entry, as Chaos Mesh writes it.

    ``id`` is ``namespace/pod`` (or ``namespace/pod/container`` for container
    actions, a PhysicalMachine address, ...). ``phase`` is ``"Injected"`` or
    ``"Not Injected"``.
    """
    if injected is None:
        injected = 1 if phase == "Injected" else 0
    if recovered is None:
        recovered = 0
    rec: dict[str, Any] = {
        "id": id,
        "selectorKey": selector_key,
        "phase": phase,
        "injectedCount": injected,
        "recoveredCount": recovered,
    }
    if events is not None:
        rec["events"] = events
    return rec


def experiment_status(
    records: Iterable[dict] | None = (),
    *,
    desired_phase: str = "Run",
    paused: bool = False,
    conditions: list[dict] | None = None,
) -> dict:
    """A ``status`` for an experiment kind, with conditions derived the way the
    Chaos Mesh controller derives them from the records:

    * Selected: records exist. No (or empty) ``records`` means nothing was
      selected yet: the controller then has no ``containerRecords`` at all.
    * AllInjected / AllRecovered: every record is ``Injected`` / ``Not Injected``
      (so both are True when there are no records, as in the controller).
    * Paused: ``paused`` (the controller mirrors the
      ``experiment.chaos-mesh.org/pause`` annotation).
    """
    recs = list(records or ())
    if conditions is None:

        def cond(type_: str, ok: bool) -> dict:
            return {"type": type_, "status": "True" if ok else "False"}

        conditions = [
            cond("Selected", bool(recs)),
            cond("AllInjected", all(r.get("phase") == "Injected" for r in recs)),
            cond("AllRecovered", all(r.get("phase") == "Not Injected" for r in recs)),
            cond("Paused", paused),
        ]
    experiment: dict[str, Any] = {"desiredPhase": desired_phase}
    if recs:
        experiment["containerRecords"] = recs
    return {"conditions": conditions, "experiment": experiment}


# --------------------------------------------------------------------------- the environment


def exec_plugin_kubeconfig(env: KubeTestEnv, directory: Path, tokens: list[str], *, delay: float = 0.0) -> str:
    """A kubeconfig for ``env`` whose user gets its token from an exec credential plugin (as EKS,
    GKE and AKS do). The plugin hands out ``tokens`` in turn, then repeats the last one; it counts
    its runs in ``directory/calls`` and takes ``delay`` seconds each (cloud plugins take their time)."""
    plugin = directory / "token-plugin.sh"
    state = directory / "calls"
    lines = [f"n=$(cat {state} 2>/dev/null || echo 0); echo $((n + 1)) > {state}", "case $n in"]
    lines += [f'  {i}) token="{token}" ;;' for i, token in enumerate(tokens[:-1])]
    lines += [
        f'  *) token="{tokens[-1]}" ;;',
        "esac",
        *([f"sleep {delay}"] if delay else []),
        'printf \'{"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential",'
        '"status":{"token":"%s"}}\' "$token"',
    ]
    plugin.write_text("#!/bin/sh\n" + "\n".join(lines) + "\n")
    plugin.chmod(0o755)
    config = yaml.safe_load(Path(env.kubeconfig).read_text())
    exec_user = {
        "apiVersion": "client.authentication.k8s.io/v1beta1",
        "command": str(plugin),
        "interactiveMode": "Never",
    }
    config["users"] = [{"name": "exec", "user": {"exec": exec_user}}]
    config["contexts"] = [{"name": "exec", "context": {"cluster": config["clusters"][0]["name"], "user": "exec"}}]
    config["current-context"] = "exec"
    path = directory / "exec.yaml"
    path.write_text(yaml.safe_dump(config))
    return str(path)


class KubeTestEnv:
    """One kube-apiserver + etcd process and helpers to talk to it.

    Attributes set by :meth:`start` (from the binary's ready line):
    ``kubeconfig``, ``server``, ``admin_context``, ``reader_context``,
    ``noaccess_context``, ``pid``, ``port``, ``state_dir``, ``ca_file``,
    ``tokens`` (user -> static bearer token for ``admin``/``reader``/``noaccess``),
    ``audit_log`` (only with ``audit=True``), ``startup_seconds`` (as measured
    inside the binary), ``wall_start_seconds`` (process start -> ready line, as
    measured here), ``log_path`` (the server's stderr).
    """

    def __init__(
        self,
        state_root: str | os.PathLike | None = None,
        *,
        audit: bool = False,
        ready_timeout: float = 180.0,
        crds: str | os.PathLike | bool | None = True,
        litmus: bool = False,
        extra_args: Iterable[str] = (),
    ):
        """``state_root``: parent of the per-name state dirs (default: a new
        temporary directory, removed by :meth:`cleanup`). ``crds``: True for
        the Chaos Mesh CRDs from :func:`crd_path`, a path for another file,
        False/None for none. ``litmus``: also LitmusChaos's CRDs
        (:func:`litmus_crd_path`). ``extra_args``: passed to kube-apiserver."""
        self._own_root = state_root is None
        self.state_root = Path(state_root or tempfile.mkdtemp(prefix="chaosql-kube-"))
        self.audit = audit
        self.ready_timeout = ready_timeout
        self.crds = crds
        self.litmus = litmus
        self.extra_args = list(extra_args)
        self.name: str | None = None
        self.proc: subprocess.Popen | None = None
        self.info: dict[str, Any] = {}
        self._clients: dict[tuple, httpx.Client] = {}
        self._discovery: dict[str, dict[str, dict]] = {}
        self._log_file = None
        self._lock = threading.RLock()  # helpers may be called from several threads
        atexit.register(self._atexit)

    # ---------------------------------------------------------------- lifecycle

    def start(self, name: str = "default", *, port: int | None = None, fresh: bool = True) -> KubeTestEnv:
        """Build if needed, start the server in ``<state_root>/<name>``, wait
        for its ready line, create the CRDs and wait until they are Established.

        ``fresh``: wipe an existing state dir first (a new, empty cluster);
        False keeps the etcd data, certificates and ports of an earlier run.
        ``port``: apiserver port on 127.0.0.1 (default: the saved one, else free).
        """
        if self.running:
            raise KubeTestEnvError(f"already running (pid {self.proc.pid})")
        binary = build_binary()
        self.name = name
        state = self.state_root / name
        if fresh and state.exists():
            shutil.rmtree(state)
        state.mkdir(parents=True, exist_ok=True)
        self.log_path = state / "kube-testenv.log"
        for attempt in (1, 2):
            try:
                self._launch(binary, state, port)
                break
            except KubeTestEnvError as err:
                # free ports are picked by bind+close, so another process can
                # take one in between: pick new ones once (fresh state only)
                if attempt == 2 or port or not fresh or "address already in use" not in str(err):
                    raise
                (state / "ports.json").unlink(missing_ok=True)
        try:
            if self.crds:
                self.apply_crds(None if self.crds is True else self.crds)
            if self.litmus:
                self.apply_crds(litmus_crd_path())
        except BaseException:
            self.stop()
            raise
        return self

    def _launch(self, binary: str, state: Path, port: int | None) -> None:
        cmd = [binary, "-state-dir", str(state), "-ready-timeout", f"{int(self.ready_timeout)}s"]
        if port:
            cmd += ["-port", str(port)]
        if self.audit:
            cmd.append("-audit")
        cmd += [f"-apiserver-arg={a}" for a in self.extra_args]

        self._log_file = open(self.log_path, "ab")  # noqa: SIM115 (open while the server runs)
        self._log_file.write(f"\n=== {time.strftime('%Y-%m-%dT%H:%M:%S')} {' '.join(cmd)}\n".encode())
        self._log_file.flush()
        self._log_offset = self._log_file.tell()
        t0 = time.monotonic()
        # stdin stays an open pipe: the server exits when it reaches EOF,
        # i.e. when this process dies. stderr goes to a file, never a PIPE.
        self.proc = subprocess.Popen(
            cmd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log_file,
            start_new_session=True,  # Ctrl-C in pytest doesn't kill it before teardown
        )
        try:
            line = self._read_ready_line(self.ready_timeout + 30)
            self.info = json.loads(line)
        except BaseException:
            self.stop(kill=True)
            raise
        self.wall_start_seconds = time.monotonic() - t0
        self._clients.clear()
        self._discovery.clear()

    def _read_ready_line(self, timeout: float) -> bytes:
        assert self.proc and self.proc.stdout
        sel = selectors.DefaultSelector()
        sel.register(self.proc.stdout, selectors.EVENT_READ)
        buf = b""
        deadline = time.monotonic() + timeout
        fd = self.proc.stdout.fileno()
        try:
            while b"\n" not in buf:
                left = deadline - time.monotonic()
                if left <= 0:
                    self._kill()
                    raise KubeTestEnvError(f"no ready line after {timeout:.0f}s\n{self.log_tail()}")
                if sel.select(min(left, 1.0)):
                    chunk = os.read(fd, 65536)
                    if not chunk:
                        rc = self.proc.wait(10)
                        raise KubeTestEnvError(
                            f"kube-testenv exited with code {rc} before it was ready\n{self.log_tail()}"
                        )
                    buf += chunk
        finally:
            sel.close()
        return buf.split(b"\n", 1)[0]

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout: float = 30.0, *, kill: bool = False) -> None:
        """Stop the server: close its stdin (it shuts down the apiserver and
        etcd cleanly), SIGTERM after ``timeout``, SIGKILL after that.
        ``kill=True`` SIGKILLs at once (a crash; etcd data may lose the last
        writes). The state dir is kept, so :meth:`start_again` can resume."""
        for c in self._clients.values():
            c.close()
        self._clients.clear()
        proc, self.proc = self.proc, None
        if proc is None:
            return
        if kill:
            proc.kill()
        else:
            try:
                proc.stdin.close()
            except OSError:
                pass
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
        proc.wait()
        for f in (proc.stdin, proc.stdout):
            try:
                f and f.close()
            except OSError:
                pass
        if self._log_file:
            self._log_file.close()
            self._log_file = None

    def attach(self, info: dict) -> KubeTestEnv:
        """Use a server this object did not start (e.g. one from
        ``scripts/kube-testenv up``), given its ready line as a dict.
        :meth:`stop` then only forgets it."""
        self.info = dict(info)
        self.name = Path(info["state_dir"]).name
        self.log_path = Path(info["state_dir"]) / "kube-testenv.log"
        self._clients.clear()
        self._discovery.clear()
        return self

    def start_again(self) -> KubeTestEnv:
        """Start the stopped server again on the same state dir and port: same
        cluster, same objects, same kubeconfig."""
        if self.name is None or not self.info:
            raise KubeTestEnvError("start_again() before start()")
        return self.start(self.name, port=self.info["port"], fresh=False)

    def restart(self, *, kill: bool = False) -> KubeTestEnv:
        """:meth:`stop` then :meth:`start_again`."""
        self.stop(kill=kill)
        return self.start_again()

    stop_and_restart = restart

    def cleanup(self) -> None:
        """Stop and remove the state (only if the state root was our temp dir)."""
        self.stop()
        if self._own_root:
            shutil.rmtree(self.state_root, ignore_errors=True)

    def _kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def _atexit(self) -> None:
        try:
            self.stop(timeout=10)
        except Exception:
            self._kill()

    def __enter__(self) -> KubeTestEnv:
        return self

    def __exit__(self, *exc) -> None:
        self.cleanup()

    def log_tail(self, n: int = 40) -> str:
        try:
            lines = Path(self.log_path).read_text(errors="replace").splitlines()
        except (OSError, AttributeError):
            return "(no log)"
        return "\n".join(lines[-n:])

    def peak_rss_mb(self) -> float | None:
        """Peak resident set size of the server process so far (Linux)."""
        if not self.running:
            return None
        try:
            for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
        except OSError:
            pass
        return None

    # ready-line attributes
    def __getattr__(self, key: str) -> Any:
        info = self.__dict__.get("info") or {}
        if key in info:
            return info[key]
        raise AttributeError(key)

    # ---------------------------------------------------------------- HTTP

    def client(self, user: str = "admin", *, auth: str = "cert", token: str | None = None) -> httpx.Client:
        """An httpx client for the apiserver as ``user`` (``admin``, ``reader``
        or ``noaccess``), authenticated by the client certificate from the
        kubeconfig (``auth="cert"``) or by the static token (``auth="token"``).
        ``token=...`` sends that bearer token instead (e.g. a wrong one)."""
        key = (user, auth, token)
        c = self._clients.get(key)
        if c is not None and not c.is_closed:
            return c
        with self._lock:
            return self._new_client(key)

    def _new_client(self, key: tuple) -> httpx.Client:
        user, auth, token = key
        c = self._clients.get(key)
        if c is None or c.is_closed:
            if not self.info:
                raise KubeTestEnvError("not started")
            ctx = ssl.create_default_context(cafile=self.info["ca_file"])
            headers = {}
            if token is not None:
                headers["Authorization"] = f"Bearer {token}"
            elif auth == "token":
                headers["Authorization"] = f"Bearer {self.info['tokens'][user]}"
            else:
                cert, keyf = self.client_cert_files(user)
                ctx.load_cert_chain(cert, keyf)
            c = httpx.Client(base_url=self.info["server"], verify=ctx, headers=headers, timeout=30.0)
            self._clients[key] = c
        return c

    def client_cert_files(self, context: str = "admin") -> tuple[str, str]:
        """(cert path, key path) of a kubeconfig context's user, decoded from
        the kubeconfig's embedded data into ``<state_dir>/client/``."""
        cfg = yaml.load(Path(self.info["kubeconfig"]).read_text(), Loader=_YamlLoader)
        ctx = next(c["context"] for c in cfg["contexts"] if c["name"] == context)
        user = next(u["user"] for u in cfg["users"] if u["name"] == ctx["user"])
        out = Path(self.info["state_dir"]) / "client"
        out.mkdir(exist_ok=True, mode=0o700)
        paths = []
        for field in ("client-certificate", "client-key"):
            if field in user:
                paths.append(user[field])
                continue
            p = out / f"{ctx['user']}.{'crt' if field == 'client-certificate' else 'key'}"
            tmp = p.with_suffix(f".tmp{os.getpid()}.{threading.get_ident()}")
            tmp.write_bytes(base64.b64decode(user[field + "-data"]))
            tmp.chmod(0o600)
            tmp.replace(p)
            paths.append(str(p))
        return paths[0], paths[1]

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict | None = None,
        user: str = "admin",
        ok: Iterable[int] = (200, 201),
        **kw,
    ) -> Any:
        """Send a request; return the decoded JSON body, or raise
        :class:`ApiError` if the status is not in ``ok``."""
        r = self.client(user, **kw).request(method, path, json=json, params=params)
        try:
            body = r.json()
        except ValueError:
            body = r.text
        if r.status_code not in tuple(ok):
            raise ApiError(method, path, r.status_code, body)
        return body

    # ---------------------------------------------------------------- discovery and paths

    def _resources(self, api_version: str) -> dict[str, dict]:
        """kind -> discovery entry (plus ``_status``: has a status subresource)."""
        if api_version not in self._discovery:
            path = "/api/v1" if api_version == "v1" else f"/apis/{api_version}"
            body = self.request("GET", path)
            kinds: dict[str, dict] = {}
            subs = {r["name"] for r in body["resources"] if "/" in r["name"]}
            for r in body["resources"]:
                if "/" in r["name"]:
                    continue
                entry = dict(r, _status=f"{r['name']}/status" in subs)
                kinds.setdefault(r["kind"], entry)
            self._discovery[api_version] = kinds
        return self._discovery[api_version]

    def resource(self, api_version: str, kind: str) -> dict:
        """Discovery entry for a kind: ``name`` (plural), ``namespaced``, ``_status``."""
        kinds = self._resources(api_version)
        if kind not in kinds:
            self._discovery.pop(api_version, None)
            kinds = self._resources(api_version)
        if kind not in kinds:
            raise KubeTestEnvError(f"kind {kind} not served by {api_version}")
        return kinds[kind]

    def path(self, api_version: str, kind: str, namespace: str | None = None, name: str | None = None) -> str:
        """REST path of a collection (no ``name``) or of one object."""
        r = self.resource(api_version, kind)
        base = "/api/v1" if api_version == "v1" else f"/apis/{api_version}"
        if r["namespaced"] and namespace:
            base += f"/namespaces/{namespace}"
        base += f"/{r['name']}"
        return base + (f"/{name}" if name else "")

    def _obj_path(self, obj: dict, *, with_name: bool) -> str:
        md = obj.get("metadata", {})
        return self.path(obj["apiVersion"], obj["kind"], md.get("namespace"), md["name"] if with_name else None)

    # ---------------------------------------------------------------- objects

    def create(self, obj: dict, *, namespace: str | None = None, user: str = "admin") -> dict:
        """POST an object (``namespace`` fills ``metadata.namespace`` if absent)."""
        if namespace and not obj.get("metadata", {}).get("namespace"):
            obj = {**obj, "metadata": {**obj.get("metadata", {}), "namespace": namespace}}
        return self.request("POST", self._obj_path(obj, with_name=False), json=obj, user=user)

    def update(self, obj: dict, *, user: str = "admin") -> dict:
        """PUT the whole object (needs ``metadata.resourceVersion`` for
        optimistic concurrency; without it the write is unconditional)."""
        return self.request("PUT", self._obj_path(obj, with_name=True), json=obj, user=user)

    def get(self, api_version: str, kind: str, name: str, namespace: str | None = None, *, user: str = "admin") -> dict:
        return self.request("GET", self.path(api_version, kind, namespace, name), user=user)

    def list(self, api_version: str, kind: str, namespace: str | None = None, *, user: str = "admin", **params) -> dict:
        """GET a collection; ``params`` become query parameters (limit, labelSelector, ...)."""
        return self.request("GET", self.path(api_version, kind, namespace), params=params or None, user=user)

    def delete(
        self, api_version: str, kind: str, name: str, namespace: str | None = None, *, user: str = "admin"
    ) -> dict:
        return self.request("DELETE", self.path(api_version, kind, namespace, name), user=user, ok=(200, 202))

    def create_namespace(self, name: str, *, labels: dict | None = None, exist_ok: bool = True) -> dict:
        obj = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels or {}}}
        try:
            return self.create(obj)
        except ApiError as e:
            if e.status == 409 and exist_ok:
                return self.get("v1", "Namespace", name)
            raise

    def write_status(self, obj: dict, status: dict, *, user: str = "admin", retries: int = 5) -> dict:
        """Write ``status`` the way the Chaos Mesh controller does.

        Kinds with a status subresource (Workflow, WorkflowNode, StatusCheck,
        PodNetworkChaos, ..., and core kinds such as Pod and Node) get
        ``PUT .../status``; the experiment kinds and Schedule have none, so the
        whole object is PUT with the new status. Retries on 409 Conflict with a
        fresh copy. Returns the stored object.
        """
        md = obj["metadata"]
        api_version, kind = obj["apiVersion"], obj["kind"]
        has_sub = self.resource(api_version, kind)["_status"]
        current = obj if md.get("resourceVersion") else self.get(api_version, kind, md["name"], md.get("namespace"))
        for attempt in range(retries):
            new = {**current, "status": status}
            path = self._obj_path(new, with_name=True) + ("/status" if has_sub else "")
            try:
                return self.request("PUT", path, json=new, user=user)
            except ApiError as e:
                if e.status != 409 or attempt == retries - 1:
                    raise
                current = self.get(api_version, kind, md["name"], md.get("namespace"))
        raise AssertionError("unreachable")

    def create_with_status(self, obj: dict, status: dict, *, namespace: str | None = None) -> dict:
        """:meth:`create`, then :meth:`write_status` (a create drops ``status``
        on kinds with a status subresource, and a controller writes it later
        anyway)."""
        obj = {k: v for k, v in obj.items() if k != "status"}
        return self.write_status(self.create(obj, namespace=namespace), status)

    # ---------------------------------------------------------------- CRDs

    def apply_crds(self, path: str | os.PathLike | None = None, *, timeout: float = 120.0) -> list[str]:
        """Create the CRDs in ``path`` (default: Chaos Mesh's crd.yaml) with
        POST (client-side apply would fail: the last-applied annotation is too
        long), skipping ones that exist, and wait until all are Established
        and served. Returns the CRD names."""
        crds = load_crds(Path(path) if path else None)
        names = [crd["metadata"]["name"] for crd in crds]

        def create(crd: dict) -> None:
            try:
                self.request("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", json=crd)
            except ApiError as e:
                if e.status != 409:
                    raise

        with ThreadPoolExecutor(4) as pool:
            list(pool.map(create, crds))
        self.wait_crds_established(names, timeout=timeout)
        # wait until discovery serves every kind, so the first create can't 404
        want: dict[str, set[str]] = {}
        for crd in crds:
            spec = crd["spec"]
            for v in spec["versions"]:
                if v.get("served", True):
                    want.setdefault(f"{spec['group']}/{v['name']}", set()).add(spec["names"]["plural"])
        deadline = time.monotonic() + timeout
        for gv, plurals in want.items():
            while True:
                self._discovery.pop(gv, None)
                try:
                    served = {r["name"] for r in self._resources(gv).values()}
                except ApiError:
                    served = set()
                if plurals <= served:
                    break
                if time.monotonic() > deadline:
                    raise KubeTestEnvError(f"{gv}: not served: {sorted(plurals - served)}")
                time.sleep(0.2)
        return names

    def wait_crds_established(self, names: Iterable[str], *, timeout: float = 120.0) -> None:
        """Wait until every named CRD has condition Established=True."""
        pending = set(names)
        deadline = time.monotonic() + timeout
        base = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
        while pending:
            for name in sorted(pending):
                item = self.request("GET", f"{base}/{name}", ok=(200, 404))
                conds = {c["type"]: c["status"] for c in (item.get("status") or {}).get("conditions") or []}
                if conds.get("Established") == "True":
                    pending.discard(name)
            if not pending:
                return
            if time.monotonic() > deadline:
                raise KubeTestEnvError(f"CRDs not Established after {timeout:.0f}s: {sorted(pending)}")
            time.sleep(0.2)


__all__ = [
    "CHAOS_API_VERSION",
    "ApiError",
    "KubeTestEnv",
    "KubeTestEnvError",
    "build_binary",
    "crd_path",
    "experiment_status",
    "litmus_crd_path",
    "load_crds",
    "record",
]


def start_for_tests(env: KubeTestEnv, name: str) -> KubeTestEnv:
    """``env.start(name)`` for a pytest fixture: if the apiserver cannot be built or started, the
    tests that need it are skipped, or fail with ``CHAOSQL_REQUIRE_KUBE=1`` or ``CI`` set."""
    import pytest

    try:
        return env.start(name)
    except (KubeTestEnvError, OSError) as err:
        env.cleanup()
        message = f"kube-apiserver test environment unavailable: {err}"
        if os.environ.get("CHAOSQL_REQUIRE_KUBE") == "1" or os.environ.get("CI"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
        raise  # not reached: skip raises
