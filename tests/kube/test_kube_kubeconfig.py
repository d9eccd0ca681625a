"""Kubeconfigs as kubectl reads them, read without the kubernetes package
(chaosql.sources.kubeconfig), against a real apiserver: several files merged, paths relative to
their file, a token file, an exec plugin that hands out a client certificate."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import yaml

SQL = "SELECT count(*) FROM experiments WHERE namespace = 'shop'"


def _config(env) -> dict:
    return yaml.safe_load(Path(env.kubeconfig).read_text())


def _user(config: dict, name: str) -> dict:
    return next(u["user"] for u in config["users"] if u["name"] == name)


def test_several_files_merge_as_kubectl_merges_them(kube_env2, kube_session, tmp_path):
    from chaosql.sources.kube import KubeSource

    config = _config(kube_env2)
    cluster = config["clusters"][0]
    creds = tmp_path / "creds"
    creds.mkdir()
    (creds / "ca.crt").write_bytes(base64.b64decode(cluster["cluster"].pop("certificate-authority-data")))
    cluster["cluster"]["certificate-authority"] = "ca.crt"  # relative to the file that names it
    reader = _user(config, "reader")
    (creds / "reader.crt").write_bytes(base64.b64decode(reader.pop("client-certificate-data")))
    (creds / "reader.key").write_bytes(base64.b64decode(reader.pop("client-key-data")))
    reader.update({"client-certificate": "reader.crt", "client-key": "reader.key"})
    first = {  # the current context and a context of its own; a wrong "admin" user that must lose
        "apiVersion": "v1",
        "kind": "Config",
        "current-context": "split",
        "contexts": [{"name": "split", "context": {"cluster": cluster["name"], "user": "reader"}}],
        "users": [{"name": "unused", "user": {"token": "nope"}}],
    }
    second = {
        "apiVersion": "v1",
        "kind": "Config",
        "current-context": "admin",
        **{k: config[k] for k in ("clusters", "users", "contexts")},
    }
    (tmp_path / "first.yaml").write_text(yaml.safe_dump(first))
    (creds / "second.yaml").write_text(yaml.safe_dump(second))
    paths = os.pathsep.join([str(tmp_path / "first.yaml"), str(creds / "second.yaml")])
    source = KubeSource(kubeconfig=paths)
    assert source.name == "split"  # the first file's current-context wins
    assert kube_session(source).execute(SQL).scalar() == 5
    env = {**os.environ, "KUBECONFIG": paths, "CHAOSQL_CONFIG": "", "XDG_CONFIG_HOME": "/nonexistent"}
    probe = "import sys, chaosql.sources.kube as k; s = k.KubeSource(); s.conn.get('/version'); print('kubernetes' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "False", done.stderr  # read without importing the kubernetes package


def test_a_token_file_is_read_at_each_load(kube_env2, kube_session, tmp_path):
    from chaosql.sources.kube import KubeSource

    config = _config(kube_env2)
    token = tmp_path / "token"
    token.write_text(kube_env2.tokens["reader"] + "\n")
    config["users"].append({"name": "file", "user": {"tokenFile": str(token)}})
    config["contexts"].append({"name": "file", "context": {"cluster": config["clusters"][0]["name"], "user": "file"}})
    path = tmp_path / "file.yaml"
    path.write_text(yaml.safe_dump(config))
    assert kube_session(KubeSource(kubeconfig=str(path), context="file")).execute(SQL).scalar() == 5


def test_an_exec_plugin_may_hand_out_a_client_certificate(kube_env2, kube_session, tmp_path):
    from chaosql.sources.kube import KubeSource

    config = _config(kube_env2)
    reader = _user(config, "reader")
    credential = {
        "apiVersion": "client.authentication.k8s.io/v1",
        "kind": "ExecCredential",
        "status": {
            "clientCertificateData": base64.b64decode(reader["client-certificate-data"]).decode(),
            "clientKeyData": base64.b64decode(reader["client-key-data"]).decode(),
            "expirationTimestamp": "2999-01-01T00:00:00Z",
        },
    }
    answer = tmp_path / "credential.json"
    answer.write_text(json.dumps(credential))
    plugin = tmp_path / "cert-plugin.sh"
    plugin.write_text(f'#!/bin/sh\necho "$KUBERNETES_EXEC_INFO" > {tmp_path}/info.json\ncat {answer}\n')
    plugin.chmod(0o755)
    config["users"].append(
        {
            "name": "exec-cert",
            "user": {
                "exec": {
                    "apiVersion": "client.authentication.k8s.io/v1",
                    "command": str(plugin),
                    "interactiveMode": "Never",
                }
            },
        }
    )
    config["contexts"].append(
        {"name": "exec-cert", "context": {"cluster": config["clusters"][0]["name"], "user": "exec-cert"}}
    )
    path = tmp_path / "exec.yaml"
    path.write_text(yaml.safe_dump(config))
    assert kube_session(KubeSource(kubeconfig=str(path), context="exec-cert")).execute(SQL).scalar() == 5
    info = json.loads((tmp_path / "info.json").read_text())
    assert info["kind"] == "ExecCredential" and info["spec"]["interactive"] is False


def test_sources_of_one_cluster_connect_as_their_own_users(kube_env2, kube_source):
    """Users of one cluster share its CA but not their client certificates: the TLS context a
    source's connections share (made once per CA and certificate) never lends one user's
    certificate to another."""

    def who(source) -> str:
        review = {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}
        answer = source.conn.send("POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews", body=review)
        assert answer.status == 201, answer.text
        return answer.body["status"]["userInfo"]["username"]

    admin, reader, admin_again = (kube_source(kube_env2, context) for context in ("admin", "reader", "admin"))
    names = [who(admin), who(reader), who(admin_again), who(admin)]
    assert names[0] == names[2] == names[3] != names[1]
    assert "admin" in names[0] and "reader" in names[1]
