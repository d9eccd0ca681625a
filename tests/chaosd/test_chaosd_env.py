"""The Chaosd test environment against the real chaosd v1.4.0 server.

These tests pin down the Chaosd HTTP API that chaosql relies on
(chaosd v1.4.0's ``pkg/server/httpserver``) on a real ``chaosd server`` started by
``tests/chaosdenv.py``, with unprivileged attacks only: ``user_defined``
(touch/rm a temp file) and ``process`` by PID on a child ``sleep``.
They use httpx directly, like chaosql's client: no redirects followed.

Where the real server differs from what its API notes say, the test says so in a comment
starting with ``REAL:``.

If the binary cannot be built (no Go, no module proxy) the tests are skipped;
set ``CHAOSQL_REQUIRE_CHAOSD=1`` to make that a failure instead.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from datetime import datetime
from pathlib import Path

import httpx
import pytest

EXPERIMENT_KEYS = {
    "id",
    "uid",
    "created_at",
    "updated_at",
    "status",
    "error",
    "kind",
    "action",
    "recover_command",
    "launch_mode",
}
ERROR_KEYS = {"error", "message", "code", "full_text"}


# --------------------------------------------------------------------------- fixtures
# chaosd (http), chaosd_tls, chaosd_mtls, chaosd_binary and sleeper come from tests/chaosd/conftest.py


@pytest.fixture
def client(chaosd):
    with chaosd.httpx_client() as c:
        yield c


# --------------------------------------------------------------------------- helpers


def new_uid() -> str:
    return str(uuid.uuid4())


def rows_for(client: httpx.Client, uid: str) -> list[dict]:
    r = client.get("/api/experiments/")
    assert r.status_code == 200, r.text
    return sorted((e for e in r.json() if e["uid"] == uid), key=lambda e: e["id"])


def row_for(client: httpx.Client, uid: str) -> dict:
    rows = rows_for(client, uid)
    assert rows, f"no experiment row with uid {uid}"
    return rows[-1]


def proc_state(pid: int) -> str:
    """Linux process state letter from /proc/<pid>/stat (T = stopped)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    return stat.rsplit(")", 1)[1].split()[0]


def wait_for(pred, timeout: float = 5.0, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while True:
        value = pred()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


#: chaosd's process attack reads /proc of every process in PID order and fails when one exits
#: meanwhile (another test's, on a busy machine): "open /proc/123/status: no such file or directory".
PROC_SCAN_RACE = re.compile(r"/proc/\d+/\w+: no such file or directory")


def attack_process(client: httpx.Client, body: dict, attempts: int = 5) -> tuple[str, httpx.Response]:
    """POST a process attack that may be repeated without harm (a stop, a signal 0), again with a
    new uid while chaosd's /proc scan loses the race with an exiting process; returns (uid, response)."""
    for _ in range(attempts):
        uid = new_uid()
        r = client.post("/api/attack/process", json={"uid": uid, **body})
        if not (r.status_code == 500 and PROC_SCAN_RACE.search(r.text)):
            break
    return uid, r


def assert_api_error(r: httpx.Response, status: int, code: str, message_part: str = "") -> dict:
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == ERROR_KEYS, body
    assert body["error"] is True
    assert body["code"] == code
    assert message_part in body["message"], body["message"]
    return body


def parse_go_time(s: str) -> datetime:
    # Go's RFC 3339 with nanoseconds; Python takes at most microseconds.
    head, dot, rest = s.partition(".")
    if dot:
        frac = "".join(ch for ch in rest if ch.isdigit())
        zone = rest[len(frac) :]
        s = f"{head}.{frac[:6].ljust(6, '0')}{zone}"
    return datetime.fromisoformat(s.replace("Z", "+00:00"))


# --------------------------------------------------------------------------- system


def test_health(chaosd, client):
    r = client.get("/api/system/health")
    assert r.status_code == 200
    assert r.json() == {"status": 0, "message": ""}


def test_version(chaosd, client):
    r = client.get("/api/system/version")
    assert r.status_code == 200
    info = r.json()
    assert set(info) == {"gitVersion", "gitCommit", "buildDate", "goVersion", "compiler", "platform"}
    assert info["gitVersion"] == "v1.4.0"  # set by build.sh through -ldflags, as chaosd's Makefile does
    assert info["goVersion"].startswith("go")
    assert info["compiler"] == "gc"
    assert info["platform"] == "linux/amd64" or info["platform"].startswith("linux/")


def test_store_is_next_to_the_binary(chaosd):
    assert chaosd.db_path.parent == chaosd.binary.parent
    assert chaosd.db_path.is_file()


def test_missing_trailing_slash_redirects(chaosd, client):
    r = client.get("/api/experiments")
    assert r.status_code == 301
    assert r.headers["location"] == "/api/experiments/"


def test_unknown_route_is_plain_404(chaosd, client):
    # file/http/host attacks exist in chaosd's core but are not routed over HTTP.
    for path in ("/api/attack/file", "/api/attack/http", "/api/attack/host"):
        r = client.post(path, json={"action": "create"})
        assert r.status_code == 404, path
        assert r.text == "404 page not found"


# --------------------------------------------------------------------------- user_defined


def test_user_defined_attack_and_recover(chaosd, client, tmp_path):
    marker = tmp_path / "attacked"
    uid = new_uid()
    r = client.post(
        "/api/attack/user_defined",
        json={"uid": uid, "attackCmd": f"touch {marker}", "recoverCmd": f"rm -f {marker}"},
    )
    assert r.status_code == 200, r.text
    assert r.json() == {"status": 200, "message": "attack successfully", "uid": uid}
    assert marker.exists()  # the attack ran synchronously inside the request

    row = row_for(client, uid)
    assert set(row) == EXPERIMENT_KEYS
    assert row["kind"] == "userDefined"
    assert row["status"] == "success"
    assert row["action"] == ""  # no "action" was sent
    assert row["launch_mode"] == "svr"
    assert row["error"] == ""
    params = json.loads(row["recover_command"])
    assert params["attackCmd"] == f"touch {marker}"
    assert params["recoverCmd"] == f"rm -f {marker}"
    assert params["kind"] == "userDefined"
    assert params["uid"] == uid
    assert params["schedule"] == "" and params["duration"] == ""

    r = client.delete(f"/api/attack/{uid}")
    assert r.status_code == 200, r.text
    assert r.json() == {"status": 200, "message": "attack recover successfully", "uid": uid}
    assert not marker.exists()
    assert row_for(client, uid)["status"] == "destroyed"

    # A second DELETE is refused: chaosql treats this as idempotent success.
    r = client.delete(f"/api/attack/{uid}")
    body = assert_api_error(r, 500, "error.api.internal_server_error", "can not recover destroyed experiment")
    # REAL: every APIError message starts with its code (errorx's "<type>: <message>").
    assert body["message"] == "error.api.internal_server_error: can not recover destroyed experiment"


def test_server_generates_uid_when_none_is_sent(chaosd, client, tmp_path):
    r = client.post("/api/attack/user_defined", json={"attackCmd": "true", "recoverCmd": "true"})
    assert r.status_code == 200, r.text
    uid = r.json()["uid"]
    assert str(uuid.UUID(uid)) == uid
    row = row_for(client, uid)
    # The request's uid ("") is what recover_command carries, not the generated one.
    assert json.loads(row["recover_command"])["uid"] == ""
    assert client.delete(f"/api/attack/{uid}").status_code == 200


def test_failing_attack_gives_500_and_error_row(chaosd, client):
    uid = new_uid()
    r = client.post(
        "/api/attack/user_defined",
        json={"uid": uid, "attackCmd": "echo boom >&2; exit 3", "recoverCmd": "true"},
    )
    body = assert_api_error(r, 500, "error.api.internal_server_error")
    row = row_for(client, uid)
    assert row["status"] == "error"
    # REAL: the row's error is the command's combined output, then ": exit status N";
    # the response message is that text behind the code prefix.
    assert row["error"] == "boom\n: exit status 3"
    assert body["message"] == "error.api.internal_server_error: boom\n: exit status 3"
    # Recovering an `error` experiment is refused.
    r = client.delete(f"/api/attack/{uid}")
    assert_api_error(r, 500, "error.api.internal_server_error", "can not recover error experiment")


# --------------------------------------------------------------------------- process


def test_process_sigstop_by_pid_and_recover(chaosd, client, sleeper):
    uid, r = attack_process(client, {"action": "stop", "process": str(sleeper.pid), "signal": 19})
    assert r.status_code == 200, r.text
    assert r.json() == {"status": 200, "message": "attack successfully", "uid": uid}
    assert wait_for(lambda: proc_state(sleeper.pid) == "T")

    row = row_for(client, uid)
    assert row["kind"] == "process"
    assert row["action"] == "stop"
    assert row["status"] == "success"
    params = json.loads(row["recover_command"])
    assert params["process"] == str(sleeper.pid)
    assert params["signal"] == 19
    assert params["PIDs"] == [sleeper.pid]  # Go field name as the key (no json tag)

    r = client.delete(f"/api/attack/{uid}")
    assert r.status_code == 200, r.text
    assert wait_for(lambda: proc_state(sleeper.pid) != "T")
    assert row_for(client, uid)["status"] == "destroyed"


def test_process_without_signal_is_a_no_op_and_not_recoverable(chaosd, client, sleeper):
    # API.md: `signal` has no server default; 0 means kill(pid, 0), i.e. nothing.
    uid, r = attack_process(client, {"action": "kill", "process": str(sleeper.pid)})
    assert r.status_code == 200, r.text
    assert sleeper.poll() is None and proc_state(sleeper.pid) != "T"
    params = json.loads(row_for(client, uid)["recover_command"])
    # REAL: ProcessCommand's process/signal/recoverCmd tags have `omitempty`, so a zero
    # signal and an empty recoverCmd are absent from recover_command (read them as 0 / "").
    assert "signal" not in params and "recoverCmd" not in params
    assert params["PIDs"] == [sleeper.pid]
    # Non-recoverable (signal != 19, no recoverCmd): 200, but the row stays `success`.
    r = client.delete(f"/api/attack/{uid}")
    assert r.status_code == 200, r.text
    assert row_for(client, uid)["status"] == "success"


def test_process_kill_with_recover_cmd(chaosd, client, sleeper, tmp_path):
    # signal 15 plus recoverCmd: recover runs the command (started, not awaited) -> destroyed.
    marker = tmp_path / "recovered"
    uid = new_uid()
    r = client.post(
        "/api/attack/process",
        json={"uid": uid, "action": "kill", "process": str(sleeper.pid), "signal": 15, "recoverCmd": f"touch {marker}"},
    )
    assert r.status_code == 200, r.text
    assert sleeper.wait(5) == -15
    r = client.delete(f"/api/attack/{uid}")
    assert r.status_code == 200, r.text
    assert wait_for(marker.exists)
    assert row_for(client, uid)["status"] == "destroyed"


def test_process_not_found(chaosd, client):
    uid = new_uid()
    r = client.post(
        "/api/attack/process",
        json={"uid": uid, "action": "stop", "process": "no-such-process-name-xyz", "signal": 19},
    )
    assert_api_error(r, 500, "error.api.internal_server_error", "process no-such-process-name-xyz not found")
    assert row_for(client, uid)["status"] == "error"


# --------------------------------------------------------------------------- disk


def test_disk_fill_is_kind_disk_server_and_recover_removes_the_file(chaosd, client, tmp_path):
    uid = new_uid()
    r = client.post("/api/attack/disk", json={"uid": uid, "action": "fill", "path": str(tmp_path), "size": "1M"})
    assert r.status_code == 200, r.text
    row = row_for(client, uid)
    assert row["kind"] == "disk-server"  # over HTTP; the CLI stores "disk"
    assert row["action"] == "fill"
    params = json.loads(row["recover_command"])
    filled = Path(params["Path"])  # a new file inside the given directory
    assert filled.parent == tmp_path
    assert params["FAllocateOption"]["Length"] == "1048576"
    assert params["DdOptions"] is None
    assert wait_for(lambda: filled.exists() and filled.stat().st_size == 1 << 20)
    assert client.delete(f"/api/attack/{uid}").status_code == 200
    assert not filled.exists()
    assert row_for(client, uid)["status"] == "destroyed"


def test_disk_write_payload_to_a_new_file(chaosd, client, tmp_path):
    target = tmp_path / "payload"
    uid = new_uid()
    r = client.post("/api/attack/disk", json={"uid": uid, "action": "write-payload", "path": str(target), "size": "1M"})
    assert r.status_code == 200, r.text
    assert wait_for(target.exists)
    assert client.delete(f"/api/attack/{uid}").status_code == 200
    assert wait_for(lambda: not target.exists())


# --------------------------------------------------------------------------- quirks


def test_sending_kind_breaks_recover(chaosd, client):
    # API.md: never send `kind`; it overwrites the preset and recover cannot dispatch.
    uid = new_uid()
    r = client.post(
        "/api/attack/user_defined", json={"uid": uid, "kind": "bogus", "attackCmd": "true", "recoverCmd": "true"}
    )
    assert r.status_code == 200, r.text
    assert row_for(client, uid)["kind"] == "bogus"
    r = client.delete(f"/api/attack/{uid}")
    assert_api_error(r, 500, "error.api.internal_server_error", "chaos experiment kind bogus not found")
    assert row_for(client, uid)["status"] == "success"


def test_kafka_needs_both_action_keys(chaosd, client):
    # Only validation is exercised (it runs before any connection to Kafka).
    r = client.post("/api/attack/kafka", json={"action": "fill", "topic": "t"})
    body = assert_api_error(r, 400, "error.api.invalid_request")
    assert body["message"].endswith("cause: invalid action: ")
    r = client.post("/api/attack/kafka", json={"action": "fill", "Action": "fill", "topic": "t"})
    body = assert_api_error(r, 400, "error.api.invalid_request")
    assert body["message"].endswith("cause: max bytes is required")  # past the action check


def test_redis_expiration_rejects_valid_options(chaosd, client):
    r = client.post(
        "/api/attack/redis", json={"action": "expiration", "addr": "127.0.0.1:1", "expiration": "1m", "option": "XX"}
    )
    body = assert_api_error(r, 400, "error.api.invalid_request")
    assert body["message"].endswith("cause: option invalid")


def test_network_validation(chaosd, client):
    r = client.post("/api/attack/network", json={"action": "delay", "latency": "10ms"})
    body = assert_api_error(r, 400, "error.api.invalid_request")
    assert body["message"].endswith("cause: device is required")


# --------------------------------------------------------------------------- bad bodies


def test_validation_error_is_400_invalid_request_and_writes_no_row(chaosd, client):
    uid = new_uid()
    r = client.post("/api/attack/user_defined", json={"uid": uid, "recoverCmd": "true"})
    body = assert_api_error(r, 400, "error.api.invalid_request", "attack config validation failed")
    # REAL: the message nests both error types and ends with the cause.
    assert body["message"] == (
        "error.api.invalid_request: error.core.attack_config_validation_error: "
        "attack config validation failed, cause: attack command not provided"
    )
    assert body["full_text"].startswith(body["message"])  # then a Go stack trace
    assert rows_for(client, uid) == []

    r = client.post("/api/attack/process", json={"uid": uid, "signal": 19})
    body = assert_api_error(r, 400, "error.api.invalid_request", "attack config validation failed")
    assert "process not provided" in body["message"]

    # schedule without duration
    r = client.post(
        "/api/attack/user_defined",
        json={"uid": uid, "attackCmd": "true", "recoverCmd": "true", "schedule": "@every 1m"},
    )
    assert_api_error(r, 400, "error.api.invalid_request", "Provide a valid duration for the scheduled attack")
    assert rows_for(client, uid) == []


def test_undecodable_body_is_400_internal_server_error(chaosd, client):
    # Binding errors use the code error.api.internal_server_error with status 400 (sic).
    r = client.post("/api/attack/user_defined", json={"attackCmd": 5, "recoverCmd": "true"})
    assert_api_error(r, 400, "error.api.internal_server_error", "cannot unmarshal number")
    r = client.post("/api/attack/process", content=b"{not json", headers={"content-type": "application/json"})
    assert_api_error(r, 400, "error.api.internal_server_error")


def test_unknown_keys_are_ignored(chaosd, client):
    uid = new_uid()
    r = client.post(
        "/api/attack/user_defined",
        json={"uid": uid, "attackCmd": "true", "recoverCmd": "true", "no-such-key": 1},
    )
    assert r.status_code == 200, r.text
    assert client.delete(f"/api/attack/{uid}").status_code == 200


def test_recover_unknown_uid_is_404(chaosd, client):
    r = client.delete(f"/api/attack/{new_uid()}")
    assert_api_error(r, 404, "error.api.resource_not_found", "record not found")


# --------------------------------------------------------------------------- listing


def test_list_experiments_fields(chaosd, client, tmp_path):
    uid = new_uid()
    r = client.post(
        "/api/attack/user_defined",
        json={"uid": uid, "action": "touch", "attackCmd": f"touch {tmp_path}/x", "recoverCmd": "true"},
    )
    assert r.status_code == 200, r.text
    r = client.get("/api/experiments/")
    assert r.status_code == 200
    rows = r.json()
    assert isinstance(rows, list) and rows
    for row in rows:
        assert set(row) == EXPERIMENT_KEYS, row
        assert isinstance(row["id"], int)
        assert row["launch_mode"] == "svr"
        assert row["status"] in {"created", "success", "error", "scheduled", "destroyed"}
        json.loads(row["recover_command"])
        created = parse_go_time(row["created_at"])
        updated = parse_go_time(row["updated_at"])
        assert created.tzinfo is not None and updated >= created
    ids = [row["id"] for row in rows]
    assert len(ids) == len(set(ids))
    row = row_for(client, uid)
    assert row["action"] == "touch"  # `action` is informational for user_defined

    # The only filter is launch_mode; everything here came in over HTTP.
    assert client.get("/api/experiments/", params={"launch_mode": "cmd"}).json() == []
    svr = client.get("/api/experiments/", params={"launch_mode": "svr"}).json()
    assert {e["id"] for e in svr} == set(ids)
    # Other parameters are ignored.
    assert len(client.get("/api/experiments/", params={"status": "nope"}).json()) == len(rows)

    # Immediate attacks have no runs; an unknown uid gives [] as well, not 404.
    assert client.get(f"/api/experiments/{uid}/runs").json() == []
    assert client.get(f"/api/experiments/{new_uid()}/runs").json() == []
    client.delete(f"/api/attack/{uid}")


def test_same_uid_twice_gives_two_rows_that_share_their_status(chaosd, client, tmp_path):
    # API.md 3.1: uid is not unique (Chaos Mesh re-POSTs a resumed experiment with the same uid).
    uid = new_uid()
    first = {"uid": uid, "attackCmd": "true", "recoverCmd": "true"}
    marker = tmp_path / "second"
    second = {"uid": uid, "attackCmd": f"touch {marker}", "recoverCmd": f"rm {marker}"}
    assert client.post("/api/attack/user_defined", json=first).status_code == 200
    assert client.delete(f"/api/attack/{uid}").status_code == 200
    assert [r["status"] for r in rows_for(client, uid)] == ["destroyed"]
    assert client.post("/api/attack/user_defined", json=second).status_code == 200
    rows = rows_for(client, uid)
    assert len(rows) == 2 and rows[0]["id"] < rows[1]["id"]
    # REAL (differs from API.md's inference): the store updates rows `WHERE uid = ?`, so
    # the second attack's status and recover_command overwrite the first row's too.
    assert [r["status"] for r in rows] == ["success", "success"]
    assert rows[0]["recover_command"] == rows[1]["recover_command"]
    assert json.loads(rows[0]["recover_command"])["attackCmd"] == f"touch {marker}"
    # ...so the next DELETE does not get "can not recover destroyed experiment": it
    # recovers (with the newest parameters) and marks both rows destroyed.
    r = client.delete(f"/api/attack/{uid}")
    assert r.status_code == 200, r.text
    assert not marker.exists()
    assert [r["status"] for r in rows_for(client, uid)] == ["destroyed", "destroyed"]


def test_scheduled_attack_has_runs(chaosd, client, tmp_path):
    log = tmp_path / "runs.log"
    uid = new_uid()
    r = client.post(
        "/api/attack/user_defined",
        json={
            "uid": uid,
            "attackCmd": f"echo attack >> {log}",
            "recoverCmd": f"echo recover >> {log}",
            "schedule": "@every 1s",
            "duration": "300ms",
        },
    )
    assert r.status_code == 200, r.text
    assert row_for(client, uid)["status"] == "scheduled"

    def runs():
        return client.get(f"/api/experiments/{uid}/runs").json()

    got = wait_for(lambda: [x for x in runs() if x["status"] == "recovered"], timeout=10)
    assert got, runs()
    run = got[0]
    assert {"id", "uid", "start_at", "finished_at", "status", "error", "ExperimentID", "experiment"} <= set(run)
    assert run["uid"] != uid  # a run has its own uuid
    assert run["finished_at"] == "0001-01-01T00:00:00Z"
    assert run["experiment"]["uid"] == uid
    assert run["ExperimentID"] == run["experiment"]["id"] == row_for(client, uid)["id"]
    parse_go_time(run["start_at"])
    assert "attack" in log.read_text() and "recover" in log.read_text()

    r = client.delete(f"/api/attack/{uid}")
    assert r.status_code == 200, r.text
    assert row_for(client, uid)["status"] == "destroyed"
    time.sleep(1.5)
    n = log.read_text().count("attack")
    time.sleep(2.2)
    assert log.read_text().count("attack") == n  # the cron entry is gone


# --------------------------------------------------------------------------- TLS / mTLS


def test_tls_serves_the_api_on_https_and_system_on_http(chaosd_tls, tmp_path):
    env = chaosd_tls
    assert env.base_url.startswith("https://127.0.0.1:")
    with httpx.Client(base_url=env.system_url) as plain:
        assert plain.get("/api/system/health").json() == {"status": 0, "message": ""}
        assert plain.get("/api/system/version").status_code == 200
        assert plain.get("/api/experiments/").status_code == 404
    with env.httpx_client(client_cert=False) as c:
        # REAL (differs from API.md's mode table): the HTTPS server registers only the
        # attack/experiment/swagger routes, not /api/system/*; health and version are
        # on the plain port only, in every mode.
        r = c.get("/api/system/health")
        assert r.status_code == 404 and r.text == "404 page not found"
        assert c.get("/api/experiments/").json() == []
        marker = tmp_path / "tls"
        uid = new_uid()
        r = c.post(
            "/api/attack/user_defined", json={"uid": uid, "attackCmd": f"touch {marker}", "recoverCmd": f"rm {marker}"}
        )
        assert r.status_code == 200, r.text
        assert marker.exists()
        assert c.delete(f"/api/attack/{uid}").status_code == 200
        assert not marker.exists()


def test_tls_hostname_is_chaosd_chaos_mesh_org(chaosd_tls):
    env = chaosd_tls
    # Without the server name, verifying 127.0.0.1 fails: the cert has DNS SANs only.
    with httpx.Client(base_url=env.base_url, verify=env.ssl_context(client_cert=False)) as c:
        with pytest.raises(httpx.ConnectError):
            c.get("/api/experiments/")
    # localhost is a SAN too.
    with httpx.Client(base_url=f"https://localhost:{env.https_port}", verify=env.ssl_context(client_cert=False)) as c:
        assert c.get("/api/experiments/").status_code == 200
    # The ssl module directly, as a client without httpx would do it.
    import socket

    ctx = env.ssl_context(client_cert=False)
    with socket.create_connection((env.host, env.https_port), timeout=5) as raw:
        with ctx.wrap_socket(raw, server_hostname=env.server_name) as tls:
            assert tls.getpeercert()["subject"][-1] == (("commonName", env.server_name),)


def test_mtls_client_certificates(chaosd_mtls):
    env = chaosd_mtls
    with env.httpx_client() as c:
        r = c.get("/api/experiments/")
        assert r.status_code == 200, r.text
        assert r.json() == []
        assert c.get("/api/system/health").status_code == 404  # see the TLS test above
    with env.httpx_client(client_cert=False) as c:
        r = c.get("/api/experiments/")
        body = assert_api_error(r, 401, "error.api.auth")
        assert body["message"] == "error.api.auth: Sorry, but you need to provide a client certificate to continue"
        # The trailing-slash redirect is answered before the auth middleware runs.
        r = c.get("/api/experiments")
        assert r.status_code == 301
        # Unknown routes go through the middleware (gin's NoRoute chain): 401, not 404.
        assert c.get("/api/system/health").status_code == 401
    rogue = env.ssl_context(client_cert=False)
    rogue.load_cert_chain(str(env.tls.rogue_cert), str(env.tls.rogue_key))
    with env.httpx_client(verify=rogue) as c:
        r = c.get("/api/experiments/")
        body = assert_api_error(r, 403, "error.api.auth", "Unauthorized certificate credentials")
        assert body["message"].startswith("error.api.auth: Unauthorized certificate credentials")
    # The plain port serves /api/system/* without any certificate.
    with httpx.Client(base_url=env.system_url) as plain:
        assert plain.get("/api/system/health").status_code == 200
        assert plain.get("/api/experiments/").status_code == 404
