"""Rendering: the cloud-config (validated by the real cloud-init), its files and commands, each
node's node.json, determinism, secrets, the size budget, validation, and how the node scripts
are shipped (_python_for_node, _minify)."""

from __future__ import annotations

import ast
import base64
import dataclasses
import gzip
import io
import json
import os
import random
import re
import shutil
import string
import subprocess
import sys
import tokenize

import jinja2
import pytest
import yaml

import userdata
from userdata import (
    EC2_USER_DATA_LIMIT,
    USER_DATA_BUDGET,
    RenderedUserData,
    UserDataTooLarge,
    limits,
    node_document,
    render_user_data,
    required_secrets,
    well_known_members,
    wka_members_for,
)
from userdata import render as render_mod
from userdata.render import _minify, _python_for_node, validate
from userdata.settings import ALL_SECRETS, Artifact, AwsDiscovery, Database, DeploymentSync, SecretRef

from .conftest import (
    ARNS,
    FILE_SYSTEM_ID,
    JDBC_URL,
    LOG_AGENT_PARAMETER,
    MANAGER_IP,
    REPO,
    SECRETS,
    SVN_URL,
    SVNKIT_URL,
    TRILEAD_URL,
    VERSION_IDS,
    WORKER_IPS,
    make_settings,
    unpack,
)

BASE = "/opt/wso2-cluster"
# (role, membership scheme, discovery credentials, deployment synchronizer)
COMBOS = [
    ("manager", "aws", "accessKey", "none"),
    ("worker", "aws", "accessKey", "none"),
    ("manager", "aws", "instanceRole", "svn"),
    ("worker", "aws", "instanceRole", "svn"),
    ("manager", "wka", "accessKey", "efs"),
    ("worker", "wka", "accessKey", "efs"),
]
NODE_FILES = {
    f"{BASE}/node.json": "0644",
    f"{BASE}/bin/apply-config": "0755",
    f"{BASE}/bin/boot": "0755",
    f"{BASE}/wso2-boot.service": "0644",
    f"{BASE}/wso2as.service": "0644",
}
RUNCMD = [
    ["install", "-m", "0644", f"{BASE}/wso2-boot.service", "/etc/systemd/system/wso2-boot.service"],
    ["systemctl", "daemon-reload"],
    ["systemctl", "enable", "--now", "--no-block", "wso2-boot.service"],
]


def cloud_init_schema(path):
    """The real validator: Debian's cloud-init (CI installs it and must not skip)."""
    exe = shutil.which("cloud-init")
    if exe is None:
        if os.environ.get("CI"):
            pytest.fail("cloud-init is not installed, and CI is set: the schema check must run")
        pytest.skip("cloud-init executable not found; install cloud-init to validate the schema")
    r = subprocess.run([exe, "schema", "--config-file", str(path)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.strip() == f"Valid cloud-config: {path}"


# ---------------------------------------------------------------- the cloud-config


@pytest.mark.parametrize("role,scheme,credentials,sync", COMBOS)
def test_valid_cloud_config_that_installs_the_files_and_starts_the_boot(tmp_path, role, scheme, credentials, sync):
    u = render_user_data(make_settings(role, scheme, credentials, sync))
    assert isinstance(u, RenderedUserData)
    (tmp_path / "user-data").write_text(u.cloud_config)
    cloud_init_schema(tmp_path / "user-data")

    document = yaml.safe_load(u.cloud_config)
    assert u.cloud_config.startswith("#cloud-config\n")
    assert set(document) == {"write_files", "runcmd"}
    # the boot is a systemd unit (it retries until it succeeds), not a one-shot runcmd
    assert document["runcmd"] == RUNCMD
    assert {f["path"]: f["permissions"] for f in document["write_files"]} == NODE_FILES

    got = unpack(u.user_data_base64, tmp_path / "root")  # as EC2 and cloud-init read it
    assert got.cloud_config == u.cloud_config
    assert {path: (f.content, f.permissions) for path, f in got.files.items()} == {
        path: (u.files[path], mode) for path, mode in NODE_FILES.items()
    }
    for path, mode in NODE_FILES.items():
        on_disk = tmp_path / "root" / path.lstrip("/")
        assert on_disk.read_bytes() == u.files[path] and oct(on_disk.stat().st_mode & 0o777) == oct(int(mode, 8))

    payload = base64.b64decode(u.user_data_base64)
    assert payload[:10] == b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"  # gzip: no name, no time, any OS
    assert gzip.decompress(payload) == u.cloud_config.encode()
    assert len(payload) <= len(gzip.compress(u.cloud_config.encode(), compresslevel=9, mtime=0))
    assert (u.sent_size, u.raw_size) == (len(payload), len(u.cloud_config.encode()))
    assert u.sent_size <= USER_DATA_BUDGET


def test_the_static_files_are_the_sources_shipped():
    """apply-config without docstrings and comments, the boot and the units without comment
    lines, all rendered with the node's paths: the same for every node."""
    files = [render_user_data(make_settings(*combo)).files for combo in COMBOS]
    for path in NODE_FILES:
        if not path.endswith("node.json"):
            assert len({f[path] for f in files}) == 1, path
    source = (REPO / "userdata/node/apply-config").read_text()
    assert files[0][f"{BASE}/bin/apply-config"].decode() == _python_for_node(source)
    context = render_mod.template_context()
    assert context == {
        "base": BASE,
        "product_home": "/opt/wso2as",
        "state_dir": "/var/lib/wso2-cluster",
        "log_dir": "/var/log/wso2-cluster",
        "unit_dir": "/etc/systemd/system",
        "shared_mount": "/mnt/wso2-shared",
        "java_options": "-Xms${heapMb}m -Xmx${heapMb}m -XX:MaxMetaspaceSize=512m "
        "-Xloggc:/opt/wso2as/repository/logs/gc.log -XX:+PrintGCDetails "
        "-XX:+PrintGCDateStamps -XX:+UseGCLogFileRotation -XX:NumberOfGCLogFiles=5 "
        "-XX:GCLogFileSize=10M",
    }
    for template, path in (
        ("boot.sh.j2", "bin/boot"),
        ("wso2-boot.service.j2", "wso2-boot.service"),
        ("wso2as.service.j2", "wso2as.service"),
    ):
        rendered = render_mod._ENV.get_template(template).render(**context)
        assert files[0][f"{BASE}/{path}"].decode() == _minify(rendered)


# ---------------------------------------------------------------- node.json


def test_node_json_of_a_manager():
    s = make_settings("manager", "aws", "accessKey", "svn")
    raw = render_user_data(s).files[f"{BASE}/node.json"]
    document = json.loads(raw)
    assert raw.decode() == json.dumps(document, sort_keys=True, separators=(",", ":")) + "\n"  # sorted, compact, stable
    assert document == {
        "name": "manager",
        "role": "manager",
        "privateIp": MANAGER_IP,
        "region": "eu-west-1",
        "portOffset": 0,
        "hosts": {"service": "as.example.com", "management": "mgt.as.example.com"},
        "adminUsername": "opsadmin",
        "cluster": {
            "domain": "wso2.as.domain",
            "membershipScheme": "aws",
            "port": 5701,
            "wkaMembers": [],
            "aws": {
                "region": "eu-west-1",
                "securityGroup": "dev-nodes-sg",
                "tagKey": "wso2:cluster",
                "tagValue": "wso2-cluster-dev",
                "credentials": "accessKey",
                "iamRole": None,
                "connTimeout": 10,
            },
        },
        "database": {
            "host": "mysql.wso2.internal",
            "port": 3306,
            "username": "wso2app",
            "masterUsername": "wso2admin",
            "userStoreDb": "WSO2_USER_DB",
            "registryDb": "WSO2_REGISTRY_DB",
            "driverClass": "com.mysql.cj.jdbc.Driver",
            "urlOptions": "autoReconnect=true&sslMode=REQUIRED",
        },
        "product": {"url": "s3://wso2-artifacts/wso2as-5.3.0.zip", "sha256": "ab" * 32},
        "jdbcDriver": {"url": JDBC_URL, "sha256": None},
        "deploymentSync": {
            "mode": "svn",
            "svnUrl": SVN_URL,
            "svnUser": "deployer",
            "svnKit": {"url": SVNKIT_URL, "sha256": "1" * 64},
            "trileadSsh": {"url": TRILEAD_URL, "sha256": "2" * 64},
            "fileSystemId": None,
        },
        "logAgentParameter": LOG_AGENT_PARAMETER,
        "heapMb": 1024,
        "secrets": {
            k: {"arn": ARNS[k], "versionId": VERSION_IDS[k]}
            for k in (
                "dbPassword",
                "adminPassword",
                "dbMasterPassword",
                "discoveryAccessKey",
                "discoverySecretKey",
                "svnPassword",
            )
        },
    }
    assert document["secrets"]["dbMasterPassword"]["versionId"] is None  # the current version


def test_node_json_of_a_worker():
    # given a master user name by mistake, a worker's node.json still does not carry it
    s = make_settings(
        "worker",
        "wka",
        sync="efs",
        private_ip=WORKER_IPS[2],
        name="worker-3",
        database=dataclasses.replace(make_settings("manager").database, port=3307),
    )
    document = node_document(s)
    assert json.loads(render_user_data(s).files[f"{BASE}/node.json"]) == document
    assert document == {
        "name": "worker-3",
        "role": "worker",
        "privateIp": WORKER_IPS[2],
        "region": "eu-west-1",
        "portOffset": 0,
        "hosts": {"service": "as.example.com", "management": "mgt.as.example.com"},
        "adminUsername": "opsadmin",
        "cluster": {
            "domain": "wso2.as.domain",
            "membershipScheme": "wka",
            "port": 5701,
            "wkaMembers": [MANAGER_IP, WORKER_IPS[0]],
            "aws": None,
        },
        "database": {
            "host": "mysql.wso2.internal",
            "port": 3307,
            "username": "wso2app",
            "masterUsername": None,
            "userStoreDb": "WSO2_USER_DB",
            "registryDb": "WSO2_REGISTRY_DB",
            "driverClass": "com.mysql.cj.jdbc.Driver",
            "urlOptions": "autoReconnect=true&sslMode=REQUIRED",
        },
        "product": {"url": "s3://wso2-artifacts/wso2as-5.3.0.zip", "sha256": "ab" * 32},
        "jdbcDriver": {"url": JDBC_URL, "sha256": None},
        "deploymentSync": {
            "mode": "efs",
            "svnUrl": None,
            "svnUser": None,
            "svnKit": None,
            "trileadSsh": None,
            "fileSystemId": FILE_SYSTEM_ID,
        },
        "logAgentParameter": LOG_AGENT_PARAMETER,
        "heapMb": 1024,
        "secrets": {k: {"arn": ARNS[k], "versionId": VERSION_IDS[k]} for k in ("dbPassword", "adminPassword")},
    }


def test_aws_discovery_settings_carry_no_host_header():
    """Hazelcast 3.5 ignores hostHeader when the region is set (it calls ec2.<region>.amazonaws.com)."""
    s = make_settings("worker", "aws", "instanceRole")
    assert node_document(s)["cluster"]["aws"] == {
        "region": "eu-west-1",
        "securityGroup": "dev-nodes-sg",
        "tagKey": "wso2:cluster",
        "tagValue": "wso2-cluster-dev",
        "credentials": "instanceRole",
        "iamRole": "dev-worker-role",
        "connTimeout": 10,
    }


@pytest.mark.parametrize(
    "role,scheme,credentials,sync,needed",
    [
        (
            "manager",
            "aws",
            "accessKey",
            "none",
            ("dbPassword", "adminPassword", "dbMasterPassword", "discoveryAccessKey", "discoverySecretKey"),
        ),
        (
            "worker",
            "aws",
            "accessKey",
            "none",
            ("dbPassword", "adminPassword", "discoveryAccessKey", "discoverySecretKey"),
        ),
        ("manager", "aws", "instanceRole", "svn", ("dbPassword", "adminPassword", "dbMasterPassword", "svnPassword")),
        ("worker", "aws", "instanceRole", "svn", ("dbPassword", "adminPassword", "svnPassword")),
        ("manager", "wka", "accessKey", "efs", ("dbPassword", "adminPassword", "dbMasterPassword")),
        ("worker", "wka", "accessKey", "svn", ("dbPassword", "adminPassword", "svnPassword")),
    ],
)
def test_a_node_reads_only_the_secrets_it_needs(role, scheme, credentials, sync, needed):
    s = make_settings(role, scheme, credentials, sync)
    assert required_secrets(s) == needed
    assert node_document(s)["secrets"] == {k: {"arn": ARNS[k], "versionId": VERSION_IDS[k]} for k in needed}
    # the ARNs of the secrets it does not need are nowhere in its user data
    cloud_config = render_user_data(s).cloud_config
    for k in set(ALL_SECRETS) - set(needed):
        assert ARNS[k] not in cloud_config


# ---------------------------------------------------------------- determinism and secrets


def test_rendering_is_deterministic_across_processes():
    """The same settings give the same bytes, in this process and in a fresh one with another
    hash seed (set iteration order, dict order of the secrets)."""
    mine = [render_user_data(make_settings(*combo)).user_data_base64 for combo in COMBOS]
    assert mine == [render_user_data(make_settings(*combo)).user_data_base64 for combo in COMBOS]
    assert len(set(mine)) == len(mine)  # and different settings give different bytes
    shuffled = dict(reversed(list(make_settings().secrets.items())))
    assert render_user_data(make_settings(secrets=shuffled)).user_data_base64 == mine[0]
    program = (
        "import json; from tests.userdata.conftest import make_settings; from tests.userdata.test_render "
        "import COMBOS; from userdata import render_user_data; "
        "print(json.dumps([render_user_data(make_settings(*c)).user_data_base64 for c in COMBOS]))"
    )
    for seed in ("4242",):
        r = subprocess.run(
            [sys.executable, "-c", program],
            cwd=REPO,
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(REPO)},
            timeout=60,
        )
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout) == mine


def test_no_secret_value_in_user_data():
    for combo in COMBOS:
        u = render_user_data(make_settings(*combo))
        blobs = [
            u.cloud_config.encode(),
            base64.b64decode(u.user_data_base64),
            u.user_data_base64.encode(),
            *u.files.values(),
        ]
        for value in SECRETS.values():
            for blob in blobs:
                assert value.encode() not in blob
        assert ARNS["dbPassword"] in u.cloud_config  # ARNs, not values, are carried


# ---------------------------------------------------------------- size


def _text(rng: random.Random, length: int, alphabet: str = string.ascii_lowercase + string.digits) -> str:
    return "".join(rng.choice(alphabet) for _ in range(length))


def _host(rng: random.Random, length: int) -> str:
    """A valid host name of exactly `length` characters, in labels of at most 63."""
    sizes, left = [], length
    while left > 63:
        sizes.append(min(63, left - 2))
        left -= sizes[-1] + 1
    return ".".join(_text(rng, size) for size in sizes + [left])


def _url(rng: random.Random, scheme_host: str, suffix: str) -> str:
    return (
        scheme_host
        + _text(rng, limits.URL_MAX - len(scheme_host) - len(suffix), string.ascii_letters + string.digits + "-_")
        + suffix
    )


def worst_case(role: str, scheme: str = "wka", credentials: str = "accessKey"):
    """The largest user data the limits allow, in incompressible (random, seeded) text: every
    string at its longest, WKA with five members, svn with all four checksums."""
    rng = random.Random(f"worst-case-{role}-{scheme}-{credentials}")
    ip = "10.255.255.254" if role == "manager" else "10.255.255.253"
    uuid = lambda: "-".join(_text(rng, n, "0123456789abcdef") for n in (8, 4, 4, 4, 12))  # noqa: E731
    # The account and the stack's label (at most 20 characters; every name the stack gives AWS
    # starts with it), shared by every ARN and name, as they are.
    account, label = _text(rng, 12, string.digits), _text(rng, 20)
    secrets = {
        # Secrets Manager ARNs as the stack names them (<label>-secrets-<purpose>-<7 random>, then
        # AWS's -<6 random>), in the longest partition and region
        k: SecretRef(
            f"arn:aws-us-gov:secretsmanager:us-gov-west-1:{account}:secret:{label}-secrets-{purpose}-"
            f"{_text(rng, 7)}-{_text(rng, 6, string.ascii_letters)}",
            uuid(),
        )
        for k, purpose in zip(
            ALL_SECRETS,
            (
                "db-app-password",
                "db-password",
                "admin-password",
                "discovery-access-key",
                "discovery-secret-key",
                "svn-password",
            ),
        )
    }

    def artifact(suffix: str) -> Artifact:
        return Artifact(_url(rng, f"https://{_text(rng, 8)}.example.com/", suffix), _text(rng, 64, "0123456789abcdef"))

    settings = make_settings(
        role,
        scheme,
        credentials,
        "svn",
        private_ip=ip,
        name="manager" if role == "manager" else "worker-50",
        region="us-gov-west-1",
        cluster_domain=_text(rng, 1, string.ascii_letters)
        + _text(rng, 99, string.ascii_letters + string.digits + "._-"),
        cluster_port=65535,
        port_offset=limits.PORT_OFFSET_MAX,
        service_host=_host(rng, limits.HOST_NAME_MAX),
        management_host=_host(rng, limits.HOST_NAME_MAX),
        admin_username=_text(rng, 1, string.ascii_letters)
        + _text(rng, 29, string.ascii_letters + string.digits + "._-"),
        database=Database(
            host="mysql." + _host(rng, limits.HOST_NAME_MAX),
            port=3306,
            username=_text(rng, 16),
            user_store_db="WSO2_USER_DB",
            registry_db="WSO2_REGISTRY_DB",
            master_username=_text(rng, 16) if role == "manager" else None,
        ),
        product=artifact(".zip"),
        jdbc_driver=artifact(".jar"),
        wka_members=tuple(f"10.255.255.{250 + i}" for i in range(5) if f"10.255.255.{250 + i}" != ip)[:4]
        if scheme == "wka"
        else (),
        aws_discovery=AwsDiscovery(
            region="us-gov-west-1",
            security_group_name=f"{label}-nodes-sg-{_text(rng, 7)}",
            tag_key=_text(rng, 128),
            tag_value=f"wso2-cluster-{label}",
            credentials=credentials,
            iam_role=f"{label}-worker-role-{_text(rng, 7)}" if credentials == "instanceRole" else None,
            conn_timeout_seconds=120,
        )
        if scheme == "aws"
        else None,
        deployment_sync=DeploymentSync(
            mode="svn",
            svn_url=_url(rng, f"https://{_text(rng, 8)}.example.com/", ""),
            svn_user=_text(rng, 64, string.ascii_letters + string.digits + "._-"),
            svn_kit=artifact(".jar"),
            trilead_ssh=artifact(".jar"),
        ),
        secrets=secrets,
        log_agent_parameter=f"/wso2/wso2-cluster/{label}/cloudwatch-agent",
    )
    return settings


WORST_CASES = [
    (role, scheme, credentials)
    for role in ("manager", "worker")
    for scheme, credentials in (("wka", "accessKey"), ("aws", "accessKey"), ("aws", "instanceRole"))
]


@pytest.mark.parametrize("role,scheme,credentials", WORST_CASES)
def test_worst_case_is_valid_as_long_as_allowed_and_fits_ec2(role, scheme, credentials):
    s = worst_case(role, scheme, credentials)
    validate(s)  # valid...
    for value, limit in (
        (s.service_host, limits.HOST_NAME_MAX),
        (s.management_host, limits.HOST_NAME_MAX),
        (s.product.url, limits.URL_MAX),
        (s.jdbc_driver.url, limits.URL_MAX),
        (s.deployment_sync.svn_url, limits.URL_MAX),
        (s.deployment_sync.svn_kit.url, limits.URL_MAX),
        (s.deployment_sync.trilead_ssh.url, limits.URL_MAX),
        (s.cluster_domain, 100),
        (s.admin_username, 30),
        (s.deployment_sync.svn_user, 64),
    ):
        assert len(value) == limit  # ...and as long as it gets
    assert len(s.wka_members) == (4 if scheme == "wka" else 0)  # five well-known members, this node one of them
    u = render_user_data(s)
    assert u.raw_size > 2.5 * u.sent_size > 2.5 * 9000  # (it is the random text that does not compress)
    assert u.sent_size <= EC2_USER_DATA_LIMIT


def test_worst_case_stays_within_the_budget():
    sizes = {case: render_user_data(worst_case(*case)).sent_size for case in WORST_CASES}
    assert max(sizes.values()) <= USER_DATA_BUDGET, f"gzipped sizes {sizes}, budget {USER_DATA_BUDGET}"


def test_budget_and_limit():
    assert (EC2_USER_DATA_LIMIT, USER_DATA_BUDGET) == (16384, 12288)


def test_too_large_is_a_clear_value_error():
    # an svn user that no stack would accept (render does not bound it), of incompressible text
    s = make_settings(
        "worker",
        "wka",
        sync="svn",
        name="worker-7",
        deployment_sync=dataclasses.replace(
            make_settings(sync="svn").deployment_sync, svn_user=_text(random.Random(7), 30000)
        ),
    )
    with pytest.raises(UserDataTooLarge) as e:
        render_user_data(s)
    assert isinstance(e.value, ValueError)
    message = re.fullmatch(
        r"user data of node 'worker-7' is (\d+) bytes gzipped \((\d+) raw\), "
        r"over EC2's limit of 16,384 bytes",
        str(e.value),
    )
    assert message and int(message[2]) > int(message[1]) > EC2_USER_DATA_LIMIT


def test_limit_is_enforced_against_the_gzip_size(monkeypatch):
    u = render_user_data(make_settings("manager"))
    monkeypatch.setattr(render_mod, "EC2_USER_DATA_LIMIT", u.sent_size)
    assert render_user_data(make_settings("manager")).sent_size == u.sent_size
    monkeypatch.setattr(render_mod, "EC2_USER_DATA_LIMIT", u.sent_size - 1)
    with pytest.raises(UserDataTooLarge, match=f"is {u.sent_size} bytes gzipped \\({u.raw_size} raw\\)"):
        render_user_data(make_settings("manager"))


# ---------------------------------------------------------------- validation


def _sync(**kw):
    return dataclasses.replace(make_settings(sync="svn").deployment_sync, **kw)


INVALID = [
    (dict(role="primary"), "role must be 'manager' or 'worker', got 'primary'"),
    (dict(membership_scheme="multicast"), "membership_scheme must be 'aws' or 'wka', got 'multicast'"),
    (dict(private_ip="10.0.0"), "not an IPv4 address: '10.0.0'"),
    (dict(membership_scheme="wka", wka_members=("10.0.2.10", "fe80::1")), "not an IPv4 address: 'fe80::1'"),
    (dict(cluster_port=1023), "cluster_port out of range: 1023"),
    (dict(cluster_port=65536), "cluster_port out of range: 65536"),
    (dict(database=dataclasses.replace(make_settings().database, port=0)), "database.port out of range: 0"),
    (dict(port_offset=1001), "port_offset must be an integer from 0 to 1000"),
    (dict(service_host="AS.example.com"), "service_host must be a lower-case DNS host name"),
    (
        dict(management_host="x" * 120 + ".example.com"),
        "management_host must be a lower-case DNS host name like as.example.com, at most 128 characters",
    ),
    (dict(cluster_domain="a b"), "cluster_domain not allowed: 'a b'"),
    (dict(cluster_domain="x" * 101), "cluster_domain not allowed"),
    (dict(admin_username="ad"), "admin_username not allowed: 'ad'"),
    (dict(admin_username="admin@tenant.com"), "admin_username not allowed"),
    (
        dict(database=dataclasses.replace(make_settings().database, registry_db="a`b")),
        "database name must match [A-Za-z0-9_]{1,64}: 'a`b'",
    ),
    (
        dict(product=Artifact("ftp://x.example.com/y.zip")),
        "product.url must be an s3://bucket/key URI or an https:// URL",
    ),
    (dict(jdbc_driver=Artifact("https://user:pw@example.com/x.jar")), "jdbc_driver.url must not carry credentials"),
    (dict(jdbc_driver=Artifact("https://example.com/" + "x" * 200 + ".jar")), "jdbc_driver.url must be an s3://"),
    (dict(product=Artifact("s3://b/x.zip")), "product.url must be an s3://bucket/key URI"),
    (dict(product=Artifact("s3://bucket/x.zip", "AB" * 32)), "product.sha256 must be a SHA-256 hex digest"),
    (
        dict(deployment_sync=_sync(svn_user=None)),
        "deployment_sync svn needs svn_url, svn_user, svn_kit and trilead_ssh",
    ),
    (dict(deployment_sync=_sync(trilead_ssh=None)), "needs svn_url, svn_user, svn_kit and trilead_ssh"),
    (
        dict(deployment_sync=_sync(svn_url="ftp://svn.example.com/r")),
        "deployment_sync.svn_url must be an https:// repository URL",
    ),
    (dict(deployment_sync=_sync(svn_url="https://u:p@svn.example.com/r")), "svn_url must not carry credentials"),
    (dict(deployment_sync=_sync(svn_kit=Artifact(SVNKIT_URL))), "needs the SHA-256 of svn_kit and trilead_ssh"),
    (
        dict(deployment_sync=_sync(trilead_ssh=Artifact("http://example.com/t.jar", "2" * 64))),
        "trilead_ssh.url must be",
    ),
    (dict(deployment_sync=DeploymentSync(mode="efs")), "deployment_sync efs needs file_system_id"),
    (dict(deployment_sync=DeploymentSync(mode="rsync")), "deployment_sync.mode must be none, svn or efs, got 'rsync'"),
    (dict(aws_discovery=None), "membership_scheme 'aws' needs aws_discovery"),
    (
        dict(aws_discovery=AwsDiscovery("eu-west-1", "g", "k", "v", credentials="profile")),
        "aws_discovery.credentials must be accessKey or instanceRole: 'profile'",
    ),
    (
        dict(aws_discovery=AwsDiscovery("eu-west-1", "g", "k", "v", credentials="instanceRole")),
        "aws_discovery.credentials 'instanceRole' needs iam_role",
    ),
    (dict(secrets={**make_settings().secrets, "bogus": SecretRef("arn:x")}), "unknown secret names ['bogus']; known: "),
    (
        dict(secrets={k: v for k, v in make_settings().secrets.items() if k != "adminPassword"}),
        "secrets lacks the ARN of ['adminPassword']",
    ),
    (
        dict(secrets={**make_settings().secrets, "dbMasterPassword": SecretRef("")}),
        "secrets lacks the ARN of ['dbMasterPassword']",
    ),
    (
        dict(database=dataclasses.replace(make_settings().database, master_username=None)),
        "the manager needs database.master_username",
    ),
]


@pytest.mark.parametrize("change,message", INVALID, ids=[m[:40] for _, m in INVALID])
def test_invalid_settings_are_rejected_with_their_message(change, message):
    s = dataclasses.replace(make_settings("manager", "aws", "accessKey"), **change)
    with pytest.raises(ValueError) as e:
        render_user_data(s)
    assert str(e.value).startswith("node 'manager': ")
    assert message in str(e.value)
    assert "\n" not in str(e.value)


def test_a_secret_is_required_only_in_its_mode():
    without = lambda *names: {k: v for k, v in make_settings().secrets.items() if k not in names}  # noqa: E731
    # a worker needs no master password; instanceRole and wka need no keys; no svn, no svn password
    render_user_data(make_settings("worker", secrets=without("dbMasterPassword", "svnPassword")))
    render_user_data(
        make_settings("manager", "aws", "instanceRole", secrets=without("discoveryAccessKey", "discoverySecretKey"))
    )
    render_user_data(make_settings("worker", "wka", secrets=without("discoveryAccessKey", "dbMasterPassword")))
    with pytest.raises(ValueError, match=r"lacks the ARN of \['svnPassword'\]"):
        render_user_data(make_settings("worker", "wka", sync="svn", secrets=without("svnPassword")))
    with pytest.raises(ValueError, match=r"lacks the ARN of \['dbMasterPassword'\]"):
        render_user_data(make_settings("manager", "wka", secrets=without("dbMasterPassword")))
    with pytest.raises(ValueError, match=r"lacks the ARN of \['discoveryAccessKey', 'discoverySecretKey'\]"):
        render_user_data(make_settings("worker", secrets=without("discoveryAccessKey", "discoverySecretKey")))


def test_values_the_renderer_does_not_bound_keep_the_yaml_valid(tmp_path):
    """svn user, tag value and the like are checked by the stack configuration only: whatever
    they hold, the cloud-config stays valid and node.json carries them exactly."""
    nasty = "x: y\n- z # not a comment\t'\"{{ a }}\\u00e9 \u00e9 \U0001f600 &<> %s ${HOME} \u2028|"
    s = make_settings(
        "manager",
        "aws",
        sync="svn",
        deployment_sync=_sync(svn_user=nasty),
        aws_discovery=dataclasses.replace(make_settings().aws_discovery, tag_value=nasty),
    )
    u = render_user_data(s)
    (tmp_path / "cc.yaml").write_text(u.cloud_config)
    cloud_init_schema(tmp_path / "cc.yaml")
    document = json.loads(unpack(u.user_data_base64, tmp_path / "r").files[f"{BASE}/node.json"].content)
    assert document["deploymentSync"]["svnUser"] == nasty
    assert document["cluster"]["aws"]["tagValue"] == nasty


@pytest.mark.parametrize(
    "content",
    [
        b"#!/bin/sh\necho hi\n",
        b"no newline",
        b"two\n\n",
        b"  leading space\n",
        b"crlf\r\nline\r\n",
        b"ws-only line\n   \nend\n",
        b"\x00\xffbinary",
        b"",
        b"tab\tinside\n",
        "\u2028 separator\n".encode(),
    ],
)
def test_write_files_content_round_trips(content):
    text = "#cloud-config\nwrite_files:\n- path: /x\n" + render_mod._yaml_content(content) + "\n"
    (entry,) = yaml.safe_load(text)["write_files"]
    got = base64.b64decode(entry["content"]) if entry.get("encoding") == "b64" else entry["content"].encode()
    assert got == content


def test_templates_use_strict_undefined():
    with pytest.raises(jinja2.UndefinedError):
        render_mod._ENV.get_template("boot.sh.j2").render()


# ---------------------------------------------------------------- how the scripts are shipped


def _without_docstrings(tree: ast.AST) -> str:
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if (
                body
                and isinstance(body[0], ast.Expr)
                and isinstance(body[0].value, ast.Constant)
                and isinstance(body[0].value.value, str)
            ):
                node.body = body[1:] or [ast.Pass()]
    return ast.dump(tree, include_attributes=False)


SAMPLE = '''#!/usr/bin/env python3
# a comment
"""Module docstring."""
import re  # trailing comment
TEXT = """first

  # not a comment, and the blank lines above and below are part of the string

last"""


class Empty:
    """Only a docstring."""


class Full(object):
    """Doc.

    More doc.
    """
    value = "#not-a-comment"  # a comment

    def method(self):  # comment
        """One line."""
        return re.sub(r"#", "", TEXT)
'''


def _quarter_indented(line: str) -> str:
    return " " * ((len(line) - len(line.lstrip(" "))) // 4) + line.lstrip(" ")


@pytest.mark.parametrize(
    "source", [SAMPLE, (REPO / "userdata/node/apply-config").read_text()], ids=["sample", "apply-config"]
)
def test_python_for_node_drops_only_docstrings_and_comments(source):
    shipped = _python_for_node(source)
    assert _python_for_node(source) == shipped  # deterministic
    assert shipped.startswith("#!/usr/bin/env python3\n")
    assert _without_docstrings(ast.parse(shipped)) == _without_docstrings(ast.parse(source))
    assert _without_docstrings(ast.parse(shipped)) == ast.dump(ast.parse(shipped), include_attributes=False)
    comments = [t for t in tokenize.generate_tokens(io.StringIO(shipped).readline) if t.type == tokenize.COMMENT]
    assert [t.string for t in comments] == ["#!/usr/bin/env python3"]
    # every line of code is kept, in order (the comment cut off, the docstrings gone), indented by
    # a quarter (one space per level); a line inside a string keeps its indentation
    code_lines = [line.rstrip() for line in shipped.splitlines()]
    source_lines = iter(source.splitlines())
    for line in code_lines:
        if line.strip() != "pass":  # (what stands for a body that was only a docstring)
            assert any(
                candidate.startswith(line) or _quarter_indented(candidate).startswith(line)
                for candidate in source_lines
            ), line
    namespace = {}
    exec(compile(shipped, "shipped", "exec"), namespace)
    if source == SAMPLE:
        assert (
            namespace["TEXT"] == "first\n\n  # not a comment, and the blank lines above and below are part "
            "of the string\n\nlast"
        )
        assert namespace["Full"]().method() == namespace["TEXT"].replace("#", "")


def test_apply_config_is_python39_stdlib_only():
    source = render_user_data(make_settings()).files[f"{BASE}/bin/apply-config"].decode()
    tree = ast.parse(source, feature_version=(3, 9))
    modules = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    modules |= {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert modules == {"argparse", "json", "os", "re", "shutil", "sys", "tempfile", "xml"}
    assert modules <= set(sys.stdlib_module_names)


def test_minify_drops_only_comment_and_blank_lines():
    text = "#!/bin/bash\n# comment\n\n  # indented comment\necho '# kept' # kept too\n   \nx=1\n"
    assert _minify(text) == "#!/bin/bash\necho '# kept' # kept too\nx=1\n"
    files = render_user_data(make_settings()).files
    for path in (f"{BASE}/bin/boot", f"{BASE}/wso2-boot.service", f"{BASE}/wso2as.service"):
        lines = files[path].decode().splitlines()
        assert all(line.strip() and not line.lstrip().startswith("#") for line in lines[1:]), path
    boot = files[f"{BASE}/bin/boot"].decode()
    assert boot.startswith("#!/bin/bash\nset -Eeuo pipefail\n")
    r = subprocess.run(["bash", "-n"], input=boot, capture_output=True, text=True)
    assert (r.returncode, r.stderr) == (0, "")


# ---------------------------------------------------------------- well-known members


def test_well_known_members():
    ips = [MANAGER_IP, *WORKER_IPS]
    assert well_known_members(ips, 2) == (MANAGER_IP, WORKER_IPS[0])
    assert well_known_members(ips) == (MANAGER_IP, *WORKER_IPS[:2])  # default 3
    assert well_known_members(ips[:2], 3) == (MANAGER_IP, WORKER_IPS[0])
    assert wka_members_for(MANAGER_IP, well_known_members(ips, 2)) == (WORKER_IPS[0],)
    assert wka_members_for(WORKER_IPS[2], well_known_members(ips, 2)) == (MANAGER_IP, WORKER_IPS[0])
    with pytest.raises(ValueError, match="duplicate"):
        well_known_members([MANAGER_IP, MANAGER_IP], 2)
    with pytest.raises(ValueError):
        well_known_members(["10.0.0.300"], 2)
    with pytest.raises(ValueError, match="at least 1"):
        well_known_members(ips, 0)


def _cluster(n_workers: int, scheme: str) -> dict:
    """What components/ does: IPs for the manager and workers, the well-known set, one render each."""
    ips = [MANAGER_IP] + [f"10.0.{2 + i % 2}.{10 + i}" for i in range(n_workers)]
    well_known = well_known_members(ips)
    out = {}
    for i, ip in enumerate(ips):
        role, name = ("manager", "manager") if i == 0 else ("worker", f"worker-{i}")
        s = make_settings(role, scheme, private_ip=ip, name=name)
        out[name] = render_user_data(
            dataclasses.replace(s, wka_members=wka_members_for(ip, well_known) if scheme == "wka" else ())
        )
    return out


@pytest.mark.parametrize("scheme", ["aws", "wka"])
@pytest.mark.parametrize("n", [2, 4])
def test_adding_a_worker_changes_no_other_node(scheme, n):
    before, after = _cluster(n, scheme), _cluster(n + 1, scheme)
    assert set(after) - set(before) == {f"worker-{n + 1}"}
    for name, u in before.items():
        assert after[name].user_data_base64 == u.user_data_base64, name
    if scheme == "wka":
        document = json.loads(after[f"worker-{n + 1}"].files[f"{BASE}/node.json"])
        assert len(document["cluster"]["wkaMembers"]) == 3


def test_package_exports():
    assert set(userdata.__all__) == {
        "EC2_USER_DATA_LIMIT",
        "USER_DATA_BUDGET",
        "NodeSettings",
        "RenderedUserData",
        "UserDataTooLarge",
        "node_document",
        "render_user_data",
        "required_secrets",
        "well_known_members",
        "wka_members_for",
    }
    for name in userdata.__all__:
        assert hasattr(userdata, name)
