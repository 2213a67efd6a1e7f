"""Rendering: cloud-config validity, determinism, isolation between nodes, secrets, size."""

from __future__ import annotations

import ast
import base64
import dataclasses
import gzip
import hashlib
import json
import os
import shutil
import subprocess
import sys

import jinja2
import pytest
import yaml

import userdata
from userdata import (
    EC2_USER_DATA_LIMIT,
    RenderedUserData,
    UserDataTooLarge,
    render_user_data,
    well_known_members,
    wka_members_for,
)
from userdata import render as render_mod
from userdata.settings import AwsDiscovery, Database, DeploymentSync

from .conftest import ARNS, MANAGER_IP, SECRETS, WORKER_IPS, make_settings, unpack

COMBOS = [
    ("manager", "aws", "accessKey"),
    ("worker", "aws", "accessKey"),
    ("manager", "wka", "accessKey"),
    ("worker", "wka", "accessKey"),
    ("manager", "aws", "instanceRole"),
    ("worker", "aws", "instanceRole"),
]
NODE_FILES = {
    "/opt/wso2-cluster/node.json": "0644",
    "/opt/wso2-cluster/bin/apply-config": "0755",
    "/opt/wso2-cluster/bin/boot": "0755",
    "/opt/wso2-cluster/wso2as.service": "0644",
}


def _schema_check(path):
    exe = shutil.which("cloud-init")
    if exe is None:
        if os.environ.get("CI"):
            pytest.fail("cloud-init is not installed, and CI is set: the schema check must run")
        pytest.skip("cloud-init executable not found; install cloud-init to validate the schema")
    r = subprocess.run([exe, "schema", "--config-file", str(path)], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Valid cloud-config" in r.stdout


@pytest.mark.parametrize("role,scheme,creds", COMBOS)
def test_cloud_config_is_valid_and_unpacks_like_cloud_init(tmp_path, role, scheme, creds):
    u = render_user_data(make_settings(role, scheme, creds))
    assert isinstance(u, RenderedUserData)
    cc = tmp_path / "user-data.yaml"
    cc.write_text(u.cloud_config)
    _schema_check(cc)

    got = unpack(u.user_data_base64, tmp_path / "root")
    assert got.cloud_config == u.cloud_config
    assert {p: f.permissions for p, f in got.files.items()} == NODE_FILES
    assert all(p.startswith("/opt/wso2-cluster/") for p in got.files)
    for path, data in u.files.items():
        assert (tmp_path / "root" / path.lstrip("/")).read_bytes() == data
    assert set(u.files) == set(NODE_FILES)
    assert os.access(tmp_path / "root/opt/wso2-cluster/bin/apply-config", os.X_OK)
    doc = yaml.safe_load(got.cloud_config)
    assert doc["runcmd"] == [["/opt/wso2-cluster/bin/boot"]]
    assert set(doc) == {"write_files", "runcmd"}

    payload = base64.b64decode(u.user_data_base64)
    assert payload[:2] == b"\x1f\x8b" and payload[4:8] == b"\0\0\0\0"  # gzip, mtime 0
    assert payload == gzip.compress(u.cloud_config.encode(), compresslevel=9, mtime=0)
    assert u.sent_size == len(payload) and u.raw_size == len(u.cloud_config.encode())
    assert u.sent_size <= EC2_USER_DATA_LIMIT


@pytest.mark.parametrize("role,scheme,creds", COMBOS)
def test_node_json(role, scheme, creds):
    s = make_settings(role, scheme, creds)
    raw = render_user_data(s).files["/opt/wso2-cluster/node.json"]
    doc = json.loads(raw)
    assert raw.decode() == json.dumps(doc, sort_keys=True, indent=1) + "\n"  # sorted keys
    assert doc["role"] == role and doc["privateIp"] == s.private_ip
    assert doc["hosts"] == {"service": "as.example.com", "management": "mgt.as.example.com"}
    assert doc["cluster"]["membershipScheme"] == scheme and doc["cluster"]["port"] == 5701
    assert doc["database"] == {
        "host": "db.wso2.internal", "port": 3306, "username": "wso2admin",
        "userStoreDb": "WSO2_USER_DB", "registryDb": "WSO2_REGISTRY_DB",
        "driverClass": "com.mysql.cj.jdbc.Driver",
        "urlOptions": "autoReconnect=true&sslMode=REQUIRED"}
    assert doc["product"] == {"url": "s3://wso2-artifacts/wso2as-5.3.0.zip", "sha256": "ab" * 32}
    expected = ["dbPassword"]
    if scheme == "aws" and creds == "accessKey":
        expected += ["discoveryAccessKey", "discoverySecretKey"]
    assert doc["secretArns"] == {k: ARNS[k] for k in expected}  # only what this node needs
    if scheme == "wka":
        assert doc["cluster"]["aws"] is None
        assert doc["cluster"]["wkaMembers"] == list(s.wka_members)
    else:
        assert doc["cluster"]["aws"]["iamRole"] == (
            "wso2-node-role" if creds == "instanceRole" else None)


def test_rendering_is_deterministic():
    for role, scheme, creds in COMBOS:
        a = render_user_data(make_settings(role, scheme, creds))
        b = render_user_data(make_settings(role, scheme, creds))
        assert a == b
        assert a.user_data_base64 == b.user_data_base64
    assert render_user_data(make_settings("manager")).user_data_base64 != \
        render_user_data(make_settings("worker")).user_data_base64


def test_no_secret_value_in_user_data():
    for role, scheme, creds in COMBOS:
        for depsync in (False, True):
            u = render_user_data(make_settings(role, scheme, creds, depsync=depsync))
            blobs = [u.cloud_config.encode(), base64.b64decode(u.user_data_base64),
                     u.user_data_base64.encode(), *u.files.values()]
            for value in SECRETS.values():
                for blob in blobs:
                    assert value.encode() not in blob
            assert ARNS["dbPassword"] in u.cloud_config  # ARNs, not values, are carried


# ------------------------------------------------------------ well-known members / isolation


def test_well_known_members():
    ips = [MANAGER_IP, *WORKER_IPS]
    assert well_known_members(ips, 2) == (MANAGER_IP, WORKER_IPS[0])
    assert well_known_members(ips) == (MANAGER_IP, *WORKER_IPS[:2])  # default 3
    assert well_known_members(ips[:2], 3) == (MANAGER_IP, WORKER_IPS[0])
    assert wka_members_for(MANAGER_IP, well_known_members(ips, 2)) == (WORKER_IPS[0],)
    assert wka_members_for(WORKER_IPS[2], well_known_members(ips, 2)) == (MANAGER_IP,
                                                                         WORKER_IPS[0])
    with pytest.raises(ValueError, match="duplicate"):
        well_known_members([MANAGER_IP, MANAGER_IP], 2)
    with pytest.raises(ValueError):
        well_known_members(["10.0.0.300"], 2)
    with pytest.raises(ValueError, match="at least 1"):
        well_known_members(ips, 0)


def _cluster(n_workers, scheme):
    """What components does: IPs for manager + workers, the well-known set, one settings each."""
    ips = [MANAGER_IP] + [f"10.0.{2 + i % 2}.{10 + i}" for i in range(n_workers)]
    wk = well_known_members(ips)
    out = {}
    for i, ip in enumerate(ips):
        role = "manager" if i == 0 else "worker"
        name = "manager" if i == 0 else f"worker-{i}"
        s = make_settings(role, scheme, private_ip=ip, name=name)
        out[name] = render_user_data(dataclasses.replace(
            s, wka_members=wka_members_for(ip, wk) if scheme == "wka" else ()))
    return out


@pytest.mark.parametrize("scheme", ["aws", "wka"])
@pytest.mark.parametrize("n", [2, 4])
def test_adding_a_worker_changes_no_other_node(scheme, n):
    before, after = _cluster(n, scheme), _cluster(n + 1, scheme)
    assert set(after) - set(before) == {f"worker-{n + 1}"}
    for name, u in before.items():
        assert after[name].user_data_base64 == u.user_data_base64, name
    if scheme == "wka":  # the new node does list the well-known members
        doc = json.loads(after[f"worker-{n + 1}"].files["/opt/wso2-cluster/node.json"])
        assert len(doc["cluster"]["wkaMembers"]) == 3


# ------------------------------------------------------------ size budget


def test_size_budget():
    for role, scheme, creds in COMBOS:
        u = render_user_data(make_settings(role, scheme, creds, depsync=True))
        assert u.sent_size < 16384
        assert u.raw_size > u.sent_size


def test_too_large_is_a_clear_value_error():
    # incompressible filler, so the gzip payload really exceeds the limit
    filler = "".join(hashlib.sha256(str(i).encode()).hexdigest() for i in range(1200))
    s = make_settings("worker", "aws", name="worker-7")
    s = dataclasses.replace(s, aws_discovery=dataclasses.replace(s.aws_discovery,
                                                                 tag_value=filler))
    with pytest.raises(UserDataTooLarge) as e:
        render_user_data(s)
    assert isinstance(e.value, ValueError)
    msg = str(e.value)
    assert "\n" not in msg and "'worker-7'" in msg and "16,384" in msg
    size = int(msg.split(" is ")[1].split(" bytes")[0])
    assert size > 16384


def test_limit_is_enforced_against_the_gzip_size(monkeypatch):
    u = render_user_data(make_settings("manager"))
    monkeypatch.setattr(render_mod, "EC2_USER_DATA_LIMIT", u.sent_size)
    assert render_user_data(make_settings("manager")).sent_size == u.sent_size
    monkeypatch.setattr(render_mod, "EC2_USER_DATA_LIMIT", u.sent_size - 1)
    with pytest.raises(UserDataTooLarge, match=f"is {u.sent_size} bytes gzipped"):
        render_user_data(make_settings("manager"))


# ------------------------------------------------------------ YAML safety and validation


def test_hostile_values_keep_yaml_valid(tmp_path):
    nasty = "x: y\n- z # not a comment\t'\"{{ a }}\\u00e9 \u00e9 \U0001F600 &<> %s ${HOME}"
    s = make_settings("manager", "wka", cluster_domain=nasty, service_host=nasty,
                      deployment_sync=DeploymentSync(enabled=True, svn_url="https://s/" + nasty,
                                                     svn_user=nasty))
    u = render_user_data(s)
    (tmp_path / "cc.yaml").write_text(u.cloud_config)
    _schema_check(tmp_path / "cc.yaml")
    doc = json.loads(unpack(u.user_data_base64, tmp_path / "r").files["/opt/wso2-cluster/node.json"].content)
    assert doc["cluster"]["domain"] == nasty
    assert doc["deploymentSync"]["svnUser"] == nasty


@pytest.mark.parametrize("content", [
    b"#!/bin/sh\necho hi\n", b"no newline", b"two\n\n", b"  leading space\n",
    b"crlf\r\nline\r\n", b"ws-only line\n   \nend\n", b"\x00\xffbinary", b"",
])
def test_write_files_content_round_trips(content):
    text = "#cloud-config\nwrite_files:\n- path: /x\n" + render_mod._yaml_content(content) + "\n"
    (f,) = yaml.safe_load(text)["write_files"]
    got = base64.b64decode(f["content"]) if f.get("encoding") == "b64" else \
        f["content"].encode()
    assert got == content


def test_templates_use_strict_undefined():
    with pytest.raises(jinja2.UndefinedError):
        render_mod._ENV.get_template("boot.sh.j2").render()


@pytest.mark.parametrize("change,message", [
    (dict(secret_arns={}), "lacks the ARN of \\['dbPassword'"),
    (dict(secret_arns={**ARNS, "bogus": "arn:x"}), "unknown secret names \\['bogus'\\]"),
    (dict(aws_discovery=None), "needs aws_discovery"),
    (dict(private_ip="10.0.0"), "not an IPv4 address"),
    (dict(cluster_port=0), "cluster_port out of range"),
    (dict(database=Database(host="h", port=3306, username="u", user_store_db="a`b",
                            registry_db="r")), "database name"),
    (dict(product=dataclasses.replace(make_settings().product, url="ftp://x/y.zip")),
     "product.url must be s3:// or https://"),
    (dict(aws_discovery=AwsDiscovery(region="r", security_group_name="g", tag_key="k",
                                     tag_value="v", credentials="instanceRole")),
     "needs iam_role"),
    (dict(deployment_sync=DeploymentSync(enabled=True)), "needs svn_url and svn_user"),
])
def test_invalid_settings_are_rejected(change, message):
    with pytest.raises(ValueError, match=message) as e:
        render_user_data(make_settings("manager", "aws", **change))
    assert "node 'manager'" in str(e.value)


def test_depsync_needs_the_svn_password_arn():
    arns = {k: v for k, v in ARNS.items() if k != "svnPassword"}
    with pytest.raises(ValueError, match="svnPassword"):
        render_user_data(make_settings("manager", depsync=True, secret_arns=arns))
    # ... but a node without depsync does not
    render_user_data(make_settings("manager", secret_arns=arns))


# ------------------------------------------------------------ node-side scripts


def test_apply_config_is_python39_stdlib_only():
    src = render_user_data(make_settings()).files["/opt/wso2-cluster/bin/apply-config"].decode()
    assert src.startswith("#!/usr/bin/env python3\n")
    tree = ast.parse(src, feature_version=(3, 9))
    mods = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import)
            for a in n.names}
    mods |= {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert mods and mods <= set(sys.stdlib_module_names), mods - set(sys.stdlib_module_names)
    compile(src, "apply-config", "exec")


def test_boot_script_parses_and_has_its_steps():
    files = render_user_data(make_settings()).files
    boot = files["/opt/wso2-cluster/bin/boot"].decode()
    r = subprocess.run(["bash", "-n"], input=boot, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert boot.startswith("#!/bin/bash\n") and "set -Eeuo pipefail\n" in boot
    for step in ("dnf install -y -q java-1.8.0-amazon-corretto-devel mariadb105 unzip",
                 "aws s3 cp", "curl -fsSL --retry", "sha256sum -c",
                 "aws\", \"secretsmanager\", \"get-secret-value",
                 '"$B/bin/apply-config" --product-home "$H" --secrets "$SEC"',
                 'shred -u "$SEC"', "CREATE DATABASE IF NOT EXISTS", "CHARACTER SET latin1",
                 'MYSQL_PWD="$DBPW" mysql', "OPTS=-DworkerNode=true", "OPTS=-Dsetup",
                 "systemctl enable wso2as", "useradd --system"):
        assert step in boot, step
    assert "--password" not in boot and "-p$" not in boot  # never on the command line
    unit = files["/opt/wso2-cluster/wso2as.service"].decode()
    assert "User=wso2\n" in unit and "ExecStart=/opt/wso2as/bin/wso2server.sh $WSO2_OPTS\n" in unit
    assert "EnvironmentFile=/opt/wso2-cluster/wso2as.env\n" in unit


def test_package_exports():
    for name in ("render_user_data", "RenderedUserData", "UserDataTooLarge",
                 "well_known_members", "wka_members_for", "NodeSettings"):
        assert hasattr(userdata, name)
