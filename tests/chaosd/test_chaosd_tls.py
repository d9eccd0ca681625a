"""Chaosd over TLS and mTLS: the API on HTTPS verified as chaosd.chaos-mesh.org, health on the plain port."""

from __future__ import annotations

import pytest
from chaosd_support import source_for

from chaosql.errors import Forbidden, WriteRefused
from chaosql.writers.chaosd import plan_delete, plan_insert
from chaosql.writers.plan import Plan, WriteContext


def attack_and_recover(env, source, marker):
    plan = Plan(
        "experiments",
        "INSERT",
        plan_insert(
            [
                {
                    "source": "chaosd",
                    "node": env.base_url,
                    "kind": "user_defined",
                    "spec": {"attackCmd": f"touch {marker}", "recoverCmd": f"rm -f {marker}"},
                }
            ],
            [source],
        ),
    )
    ctx = WriteContext()
    plan.validate(ctx)
    plan.apply(ctx)
    assert marker.exists()
    uid = plan.operations[0].uid
    rows = [
        {
            "cluster": source.name,
            "node": env.base_url,
            "kind": "userDefined",
            "uid": uid,
            "status": '{"status": "success"}',
        }
    ]
    recover = Plan("experiments", "DELETE", plan_delete(rows, [source]))
    recover.validate(ctx)
    recover.apply(ctx)
    assert not marker.exists()
    return uid


@pytest.mark.parametrize("mode", ["tls", "mtls"])
def test_reads_and_writes_over_tls(mode, request, session_for, tmp_path):
    env = request.getfixturevalue(f"chaosd_{mode}")
    source = source_for(env)
    uid = attack_and_recover(env, source, tmp_path / mode)
    session = session_for(source)
    node = session.execute("SELECT address, ready, version FROM nodes").dicts()
    assert node == [{"address": env.base_url, "ready": True, "version": "v1.4.0"}]
    result = session.execute("SELECT uid, phase FROM experiments WHERE uid = ?", [uid])
    assert result.rows() == [(uid, "finished")]
    # The list went to HTTPS, health and version to the plain port.
    whats = {c.what for c in session.execute("SELECT * FROM experiments").calls}
    assert whats == {f"GET {env.base_url}/api/experiments/"}
    assert env.base_url.startswith("https://")


def test_tls_verifies_the_chaos_mesh_server_name(chaosd_tls, session_for):
    # The certificate names chaosd.chaos-mesh.org and localhost, not 127.0.0.1: verifying the URL's
    # host fails, with a message that says how to fix it.
    session = session_for(source_for(chaosd_tls, server_name=""))
    with pytest.raises(Forbidden) as info:
        session.execute("SELECT * FROM experiments")
    message = str(info.value)
    assert f"TLS handshake with {chaosd_tls.base_url} failed" in message and "server_name" in message
    # A CA that did not issue the server certificate fails the same way.
    session = session_for(source_for(chaosd_tls, ca=str(chaosd_tls.tls.rogue_cert)))
    with pytest.raises(Forbidden, match="certificate verify failed"):
        session.execute("SELECT * FROM experiments")


def test_mtls_without_client_certificate_is_forbidden(chaosd_mtls, session_for):
    source = source_for(chaosd_mtls, with_client_cert=False)
    session = session_for(source)
    with pytest.raises(Forbidden) as info:
        session.execute("SELECT * FROM experiments")
    err = info.value
    assert err.sqlstate == "42501"
    assert f"chaosd node {chaosd_mtls.base_url}" in str(err)
    assert "HTTP 401" in str(err) and "you need to provide a client certificate" in str(err)
    assert "client_cert" in str(err)  # the hint says what to configure
    # Writes are refused before anything is sent to the attack route.
    plan = Plan(
        "experiments",
        "INSERT",
        plan_insert(
            [
                {
                    "source": "chaosd",
                    "node": chaosd_mtls.base_url,
                    "kind": "user_defined",
                    "spec": {"attackCmd": "true", "recoverCmd": "true"},
                }
            ],
            [source],
        ),
    )
    with pytest.raises((Forbidden, WriteRefused)) as info:
        plan.validate(WriteContext())
    assert "client certificate" in str(info.value)


def test_mtls_with_a_foreign_client_certificate_is_forbidden(chaosd_mtls, session_for):
    source = source_for(
        chaosd_mtls, client_cert=str(chaosd_mtls.tls.rogue_cert), client_key=str(chaosd_mtls.tls.rogue_key)
    )
    with pytest.raises(Forbidden) as info:
        session_for(source).execute("SELECT * FROM experiments")
    assert "HTTP 403" in str(info.value) and "Unauthorized certificate credentials" in str(info.value)


def test_tls_options_from_the_config_file(chaosd_mtls, tmp_path):
    from chaosql.config import load_config, open_sources
    from chaosql.engine.session import Session

    env = chaosd_mtls
    config = tmp_path / "config.toml"
    config.write_text(f"""
[sources.secure]
type = "chaosd"
nodes = [{{ url = "{env.base_url}", system_url = "{env.system_url}" }}]
ca = "{env.ca_cert}"
client_cert = "{env.client_cert}"
client_key = "{env.client_key}"
""")
    session = Session(open_sources([], load_config(str(config))))
    try:
        assert session.execute("SELECT cluster, ready FROM nodes").rows() == [("secure", True)]
        assert session.execute("SELECT count(*) FROM experiments").scalar() >= 0
    finally:
        session.close()
