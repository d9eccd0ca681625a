"""A real Chaosd server for chaosql's tests.

The binary is chaosd v1.4.0's own ``cmd`` package, built from Go modules by
``tests/chaosd-env/build.sh`` into ``tests/chaosd-env/bin/chaosd`` (cached by a
hash of go.mod, go.sum and the script). :class:`ChaosdTestEnv` runs
``chaosd server`` on 127.0.0.1 with free ports, in one of three modes:

``http``
    Plain HTTP on :attr:`ChaosdTestEnv.port`; every route.
``tls``
    ``--cert/--key``: the attack and experiment routes on HTTPS
    (:attr:`ChaosdTestEnv.https_port`); ``/api/system/health`` and
    ``/api/system/version`` only on the plain port (:attr:`ChaosdTestEnv.system_url`):
    the real HTTPS server does not route them (404).
``mtls``
    ``--cert/--key/--CA``: like ``tls``, and every HTTPS request wants a client
    certificate signed by the CA (none: 401, a foreign one: 403).

For TLS a throwaway CA, a server certificate with CN and DNS SANs
``chaosd.chaos-mesh.org`` and ``localhost`` (as Chaos Mesh's ``chaosctl pm init``
issued them; no IP SAN, so a client that dials 127.0.0.1 verifies the hostname
``chaosd.chaos-mesh.org`` via SNI, as the Chaos Mesh controller does), a client
certificate and a self-signed "rogue" client certificate are written into the
environment's directory, with the ``cryptography`` package when it is
installed, else the ``openssl`` command.

Chaosd writes its SQLite store ``chaosd.dat`` next to its executable, so each
environment gets the binary linked or copied into its own temporary directory.
Its stdout and stderr go to ``chaosd.log`` in that directory.

The module needs only the standard library at import time; httpx is imported
only by :meth:`ChaosdTestEnv.httpx_client`. Example::

    with ChaosdTestEnv("mtls") as env:
        with env.httpx_client() as client:
            client.get("/api/experiments/").json()
"""

from __future__ import annotations

import atexit
import datetime as _dt
import http.client
import os
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "BUILD_SCRIPT",
    "DEFAULT_BINARY",
    "MODES",
    "SERVER_NAME",
    "ChaosdEnvError",
    "ChaosdTestEnv",
    "TLSFiles",
    "build_chaosd",
    "find_chaosd",
    "make_tls_files",
]

ENV_DIR = Path(__file__).resolve().parent / "chaosd-env"
BUILD_SCRIPT = ENV_DIR / "build.sh"
DEFAULT_BINARY = ENV_DIR / "bin" / "chaosd"
SERVER_NAME = "chaosd.chaos-mesh.org"
MODES = ("http", "tls", "mtls")


class ChaosdEnvError(RuntimeError):
    """The Chaosd binary could not be built, or the server did not start."""


# Servers still running when the interpreter exits (e.g. an interrupted test run) are stopped.
_RUNNING: weakref.WeakSet[ChaosdTestEnv] = weakref.WeakSet()


@atexit.register
def _stop_all() -> None:
    for env in list(_RUNNING):
        env.stop()


# --------------------------------------------------------------------------- binary


def find_chaosd() -> Path | None:
    """The chaosd binary to use without building: ``$CHAOSD_BIN``, else a built one."""
    env = os.environ.get("CHAOSD_BIN")
    if env:
        return Path(env)
    if DEFAULT_BINARY.is_file() and os.access(DEFAULT_BINARY, os.X_OK):
        return DEFAULT_BINARY
    return None


def build_chaosd(*, force: bool = False, timeout: float = 3600.0) -> Path:
    """Run ``build.sh`` (a no-op when the cached binary is current) and return the binary.

    ``$CHAOSD_BIN`` short-cuts the build. A cold build downloads modules from the
    Go module proxy and compiles for several minutes; the build output goes to
    ``tests/chaosd-env/bin/build.log``.

    Raises:
        ChaosdEnvError: the build failed or timed out (the message has the log tail).
    """
    env_bin = os.environ.get("CHAOSD_BIN")
    if env_bin:
        if not Path(env_bin).is_file():
            raise ChaosdEnvError(f"$CHAOSD_BIN is not a file: {env_bin}")
        return Path(env_bin)
    if shutil.which("go") is None or shutil.which("bash") is None:
        if DEFAULT_BINARY.is_file():  # built earlier; cannot check it is current without go
            return DEFAULT_BINARY
        raise ChaosdEnvError("cannot build chaosd: `go` (and bash) must be on PATH")
    DEFAULT_BINARY.parent.mkdir(parents=True, exist_ok=True)
    log_path = DEFAULT_BINARY.parent / "build.log"
    env = dict(os.environ)
    if force:
        env["CHAOSD_ENV_FORCE"] = "1"
    with open(log_path, "wb") as log:
        try:
            proc = subprocess.run(
                ["bash", str(BUILD_SCRIPT)],
                cwd=ENV_DIR,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=log,
                env=env,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise ChaosdEnvError(f"chaosd build timed out after {timeout:.0f}s; see {log_path}") from exc
    if proc.returncode != 0:
        raise ChaosdEnvError(f"chaosd build failed (exit {proc.returncode}); {log_path}:\n{_tail(log_path)}")
    return Path(proc.stdout.decode().strip().splitlines()[-1])


# --------------------------------------------------------------------------- TLS


@dataclass(frozen=True)
class TLSFiles:
    """PEM files of a throwaway PKI for one test environment."""

    ca_cert: Path
    ca_key: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path
    #: Self-signed client certificate that the CA did not issue (chaosd answers 403).
    rogue_cert: Path
    rogue_key: Path


def make_tls_files(directory: str | os.PathLike[str], *, server_name: str = SERVER_NAME) -> TLSFiles:
    """Write a CA, a server cert (CN/SANs ``server_name`` and ``localhost``), a client cert
    and a self-signed rogue client cert into ``directory``.

    Uses the ``cryptography`` package if it is importable, else the ``openssl`` CLI.
    """
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    files = TLSFiles(
        ca_cert=d / "ca.crt",
        ca_key=d / "ca.key",
        server_cert=d / "chaosd.crt",
        server_key=d / "chaosd.key",
        client_cert=d / "client.crt",
        client_key=d / "client.key",
        rogue_cert=d / "rogue.crt",
        rogue_key=d / "rogue.key",
    )
    try:
        import cryptography  # noqa: F401
    except ImportError:
        _make_tls_files_openssl(files, server_name)
    else:
        _make_tls_files_cryptography(files, server_name)
    return files


def _make_tls_files_cryptography(files: TLSFiles, server_name: str) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = _dt.datetime.now(_dt.UTC)

    def write_key(path: Path) -> Any:
        key = ec.generate_private_key(ec.SECP256R1())
        path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        return key

    def name(cn: str) -> x509.Name:
        return x509.Name(
            [
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "chaosql tests"),
                x509.NameAttribute(NameOID.COMMON_NAME, cn),
            ]
        )

    def issue(subject, key, issuer, issuer_key, *, ca: bool, eku=None, sans=None):
        b = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - _dt.timedelta(minutes=5))
            .not_valid_after(now + _dt.timedelta(days=2))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=not ca,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=ca,
                    crl_sign=ca,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        )
        if issuer_key is not key:
            b = b.add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False
            )
        if eku:
            b = b.add_extension(x509.ExtendedKeyUsage(eku), critical=False)
        if sans:
            b = b.add_extension(x509.SubjectAlternativeName([x509.DNSName(s) for s in sans]), critical=False)
        return b.sign(issuer_key, hashes.SHA256())

    def write_cert(path: Path, cert) -> None:
        path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))

    ca_key = write_key(files.ca_key)
    ca_name = name("chaosql test CA")
    write_cert(files.ca_cert, issue(ca_name, ca_key, ca_name, ca_key, ca=True))

    srv_key = write_key(files.server_key)
    write_cert(
        files.server_cert,
        issue(
            name(server_name),
            srv_key,
            ca_name,
            ca_key,
            ca=False,
            eku=[ExtendedKeyUsageOID.SERVER_AUTH],
            sans=[server_name, "localhost"],
        ),
    )
    cli_key = write_key(files.client_key)
    write_cert(
        files.client_cert,
        issue(name("chaosql-test-client"), cli_key, ca_name, ca_key, ca=False, eku=[ExtendedKeyUsageOID.CLIENT_AUTH]),
    )
    rogue_key = write_key(files.rogue_key)
    rogue_name = name("chaosql-rogue-client")
    write_cert(
        files.rogue_cert,
        issue(rogue_name, rogue_key, rogue_name, rogue_key, ca=False, eku=[ExtendedKeyUsageOID.CLIENT_AUTH]),
    )


def _make_tls_files_openssl(files: TLSFiles, server_name: str) -> None:
    openssl = shutil.which("openssl")
    if openssl is None:
        raise ChaosdEnvError("TLS files need the `cryptography` package or the `openssl` command")
    d = files.ca_cert.parent

    def run(*args: str) -> None:
        proc = subprocess.run([openssl, *args], cwd=d, stdin=subprocess.DEVNULL, capture_output=True, check=False)
        if proc.returncode != 0:
            raise ChaosdEnvError(f"openssl {' '.join(args)} failed: {proc.stderr.decode(errors='replace')}")

    def genkey(path: Path) -> None:
        run("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", str(path))

    def signed(cert: Path, key: Path, cn: str, ext: str) -> None:
        csr = cert.with_suffix(".csr")
        extfile = cert.with_suffix(".ext")
        extfile.write_text(ext)
        genkey(key)
        run("req", "-new", "-key", str(key), "-subj", f"/O=chaosql tests/CN={cn}", "-out", str(csr))
        run(
            "x509",
            "-req",
            "-in",
            str(csr),
            "-CA",
            str(files.ca_cert),
            "-CAkey",
            str(files.ca_key),
            "-set_serial",
            str(int.from_bytes(os.urandom(8), "big")),
            "-days",
            "2",
            "-sha256",
            "-extfile",
            str(extfile),
            "-out",
            str(cert),
        )
        csr.unlink()
        extfile.unlink()

    genkey(files.ca_key)
    run(
        "req",
        "-x509",
        "-new",
        "-key",
        str(files.ca_key),
        "-subj",
        "/O=chaosql tests/CN=chaosql test CA",
        "-days",
        "2",
        "-sha256",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,digitalSignature,keyCertSign,cRLSign",
        "-out",
        str(files.ca_cert),
    )
    leaf = "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n"
    signed(
        files.server_cert,
        files.server_key,
        server_name,
        leaf + f"extendedKeyUsage=serverAuth\nsubjectAltName=DNS:{server_name},DNS:localhost\n",
    )
    signed(files.client_cert, files.client_key, "chaosql-test-client", leaf + "extendedKeyUsage=clientAuth\n")
    genkey(files.rogue_key)
    run(
        "req",
        "-x509",
        "-new",
        "-key",
        str(files.rogue_key),
        "-subj",
        "/O=chaosql tests/CN=chaosql-rogue-client",
        "-days",
        "2",
        "-sha256",
        "-addext",
        "basicConstraints=critical,CA:FALSE",
        "-addext",
        "extendedKeyUsage=clientAuth",
        "-out",
        str(files.rogue_cert),
    )


# --------------------------------------------------------------------------- server


class ChaosdTestEnv:
    """One ``chaosd server`` process on 127.0.0.1, in its own temporary directory.

    Args:
        mode: ``"http"``, ``"tls"`` or ``"mtls"`` (see the module docstring).
        binary: the chaosd executable; default: :func:`build_chaosd` (cached build).
        workdir: directory for the binary copy, ``chaosd.dat``, ``chaosd.log`` and the
            TLS files; created if missing and then kept. Default: a new temporary
            directory, removed by :meth:`stop`.
        log_level: chaosd's ``--log-level`` (debug, info, warn, error).
        startup_timeout: seconds to wait for ``/api/system/health`` (and the HTTPS port).
        extra_args: appended to the ``chaosd server`` command line.
        env: extra environment variables for the server process.

    Use as a context manager, or call :meth:`start` and :meth:`stop`.
    """

    def __init__(
        self,
        mode: str = "http",
        *,
        binary: str | os.PathLike[str] | None = None,
        workdir: str | os.PathLike[str] | None = None,
        log_level: str = "info",
        startup_timeout: float = 60.0,
        extra_args: list[str] | tuple[str, ...] = (),
        env: dict[str, str] | None = None,
    ) -> None:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
        self.mode = mode
        self.host = "127.0.0.1"
        self.server_name = SERVER_NAME
        self.log_level = log_level
        self.startup_timeout = startup_timeout
        self.extra_args = list(extra_args)
        self._extra_env = dict(env or {})
        self._binary_src = Path(binary) if binary is not None else None
        self._own_workdir = workdir is None
        self._workdir_arg = Path(workdir) if workdir is not None else None
        self.workdir: Path | None = None
        self.binary: Path | None = None
        self.tls: TLSFiles | None = None
        self.port: int | None = None
        self.https_port: int | None = None
        self.proc: subprocess.Popen[bytes] | None = None
        self._log_file: Any = None

    # ------------------------------------------------------------------ addresses

    @property
    def system_url(self) -> str:
        """Plain-HTTP base URL; in ``tls``/``mtls`` mode it serves only ``/api/system/*``."""
        self._need_started()
        return f"http://{self.host}:{self.port}"

    @property
    def https_url(self) -> str | None:
        """HTTPS base URL (``tls``/``mtls`` modes), dialled by IP: verify ``server_name``."""
        self._need_started()
        return None if self.mode == "http" else f"https://{self.host}:{self.https_port}"

    @property
    def base_url(self) -> str:
        """Base URL of the attack and experiment API: :attr:`system_url` in ``http`` mode, else :attr:`https_url`."""
        return self.system_url if self.mode == "http" else self.https_url  # type: ignore[return-value]

    def url(self, path: str) -> str:
        """``base_url + path``."""
        return self.base_url + path

    # TLS file shortcuts (None in http mode).
    @property
    def ca_cert(self) -> Path | None:
        return self.tls.ca_cert if self.tls else None

    @property
    def server_cert(self) -> Path | None:
        return self.tls.server_cert if self.tls else None

    @property
    def server_key(self) -> Path | None:
        return self.tls.server_key if self.tls else None

    @property
    def client_cert(self) -> Path | None:
        return self.tls.client_cert if self.tls else None

    @property
    def client_key(self) -> Path | None:
        return self.tls.client_key if self.tls else None

    @property
    def db_path(self) -> Path:
        """Chaosd's SQLite store (exists once the server has started)."""
        self._need_started()
        return self.workdir / "chaosd.dat"  # type: ignore[operator]

    @property
    def log_path(self) -> Path:
        self._need_started()
        return self.workdir / "chaosd.log"  # type: ignore[operator]

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    # ------------------------------------------------------------------ clients

    def ssl_context(self, *, client_cert: bool = True) -> ssl.SSLContext:
        """A client context trusting the test CA, with hostname checks on, and with the
        test client certificate unless ``client_cert=False``. Connect with
        ``server_hostname=env.server_name``."""
        if self.tls is None:
            raise ChaosdEnvError("ssl_context() needs mode 'tls' or 'mtls'")
        ctx = ssl.create_default_context(cafile=str(self.tls.ca_cert))
        if client_cert:
            ctx.load_cert_chain(str(self.tls.client_cert), str(self.tls.client_key))
        return ctx

    def httpx_client(self, *, client_cert: bool = True, verify: Any = None, **kwargs: Any):
        """An ``httpx.Client`` on :attr:`base_url`. In TLS modes it verifies the server
        against the test CA under the name ``chaosd.chaos-mesh.org`` (the ``sni_hostname``
        request extension, set by a request hook) and, unless ``client_cert=False``,
        presents the test client certificate. ``verify`` overrides the SSL context.
        Redirects are not followed (httpx's default), like chaosql's client."""
        import httpx

        kwargs.setdefault("timeout", 10.0)
        if self.mode == "http":
            return httpx.Client(base_url=self.base_url, **kwargs)
        name = self.server_name

        def _sni(request: Any) -> None:
            request.extensions["sni_hostname"] = name

        hooks = kwargs.pop("event_hooks", {}) or {}
        hooks = {k: list(v) for k, v in hooks.items()}
        hooks.setdefault("request", []).insert(0, _sni)
        if verify is None:
            verify = self.ssl_context(client_cert=client_cert)
        return httpx.Client(base_url=self.base_url, verify=verify, event_hooks=hooks, **kwargs)

    # ------------------------------------------------------------------ lifecycle

    def __enter__(self) -> ChaosdTestEnv:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> ChaosdTestEnv:
        """Start the server and wait until it answers; returns ``self``.

        Raises:
            ChaosdEnvError: build failure, early exit or timeout (with the log tail).
        """
        if self.proc is not None:
            raise ChaosdEnvError("already started")
        src = self._binary_src or build_chaosd()
        if not src.is_file():
            raise ChaosdEnvError(f"chaosd binary not found: {src}")
        if self._workdir_arg is not None:
            self.workdir = self._workdir_arg
            self.workdir.mkdir(parents=True, exist_ok=True)
        else:
            self.workdir = Path(tempfile.mkdtemp(prefix="chaosd-env-"))
        try:
            self.binary = self.workdir / "chaosd"
            _link_or_copy(src, self.binary)
            if self.mode != "http":
                self.tls = make_tls_files(self.workdir / "pki", server_name=self.server_name)
            last: Exception | None = None
            for _attempt in range(3):  # a free port can be taken between probe and bind
                try:
                    self._launch()
                    return self
                except _PortTaken as exc:
                    last = exc
            raise ChaosdEnvError(f"chaosd could not bind its ports: {last}")
        except BaseException:
            self.stop()
            raise

    def _launch(self) -> None:
        assert self.workdir is not None and self.binary is not None
        self.port, self.https_port = _free_ports(self.host, 2)
        args = [
            str(self.binary),
            "server",
            "--log-level",
            self.log_level,
            "--host",
            self.host,
            "--port",
            str(self.port),
            "--https-port",
            str(self.https_port),
        ]
        if self.tls is not None:
            args += ["--cert", str(self.tls.server_cert), "--key", str(self.tls.server_key)]
            if self.mode == "mtls":
                args += ["--CA", str(self.tls.ca_cert)]
        args += self.extra_args
        env = dict(os.environ)
        env.update(self._extra_env)
        self._log_file = open(self.workdir / "chaosd.log", "ab")  # noqa: SIM115 (open while the server runs)
        self._log_file.write(f"### {' '.join(args)}\n".encode())
        self._log_file.flush()
        self.proc = subprocess.Popen(
            args,
            cwd=self.workdir,
            stdin=subprocess.DEVNULL,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,  # own process group: stop() also ends the attack children
        )
        _RUNNING.add(self)
        deadline = time.monotonic() + self.startup_timeout
        health_ok = https_ok = False
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                text = self.log_text()
                rc = self.proc.returncode
                self._close_proc()
                if "address already in use" in text:
                    raise _PortTaken(text[-400:])
                raise ChaosdEnvError(f"chaosd server exited with {rc} during start-up:\n{text[-3000:]}")
            if not health_ok:
                health_ok = self._health_ok()
            if health_ok and not https_ok:
                https_ok = self.mode == "http" or _port_open(self.host, self.https_port)
            if health_ok and https_ok:
                return
            time.sleep(0.1)
        text = self.log_text()
        self._close_proc()
        raise ChaosdEnvError(f"chaosd server not healthy after {self.startup_timeout}s:\n{text[-3000:]}")

    def _health_ok(self) -> bool:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=2)
        try:
            conn.request("GET", "/api/system/health")
            return conn.getresponse().status == 200
        except OSError:
            return False
        finally:
            conn.close()

    def is_running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log_text(self) -> str:
        """Everything chaosd wrote to stdout and stderr so far."""
        if self.workdir is None:
            return ""
        try:
            return (self.workdir / "chaosd.log").read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def stop(self, timeout: float = 10.0) -> int | None:
        """SIGTERM the server (SIGKILL after ``timeout``), end what is left of its process
        group (attack children), and remove the working directory if it was ours.
        Returns the server's exit code (None if it was not running). Idempotent."""
        rc = self._close_proc(timeout)
        if self._own_workdir and self.workdir is not None and not os.environ.get("CHAOSD_ENV_KEEP"):
            shutil.rmtree(self.workdir, ignore_errors=True)
        return rc

    def _close_proc(self, timeout: float = 10.0) -> int | None:
        proc, self.proc = self.proc, None
        rc = None
        _RUNNING.discard(self)
        if proc is not None:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(5)
            rc = proc.returncode
            try:  # the group id is the server's pid (start_new_session)
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None
        return rc

    def _need_started(self) -> None:
        if self.workdir is None or self.port is None:
            raise ChaosdEnvError("ChaosdTestEnv is not started")

    def __repr__(self) -> str:
        state = "running" if self.is_running() else "stopped"
        where = f" {self.base_url}" if self.port is not None and self.workdir is not None else ""
        return f"<ChaosdTestEnv {self.mode}{where} {state}>"


class _PortTaken(Exception):
    pass


def _free_ports(host: str, n: int) -> list[int]:
    socks = []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind((host, 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def _port_open(host: str, port: int | None) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def _link_or_copy(src: Path, dst: Path) -> None:
    # A hard link is not a symlink, so chaosd's GetProgramPath() (which resolves
    # symlinks) still sees dst's directory and puts chaosd.dat there.
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)
    os.chmod(dst, 0o755)


def _tail(path: Path, n: int = 4000) -> str:
    try:
        return path.read_text(errors="replace")[-n:]
    except OSError:
        return ""
