"""Factories and helpers for the user-data tests: node settings, unpacking as cloud-init would,
running the unpacked apply-config against a copy of a product's configuration."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Iterable, Optional

import pytest

from userdata import render_user_data
from userdata.settings import (
    ALL_SECRETS,
    SECRET_ADMIN_PASSWORD,
    SECRET_DB_MASTER_PASSWORD,
    SECRET_DB_PASSWORD,
    SECRET_DISCOVERY_ACCESS_KEY,
    SECRET_DISCOVERY_SECRET_KEY,
    SECRET_SVN_PASSWORD,
    Artifact,
    AwsDiscovery,
    Database,
    DeploymentSync,
    NodeSettings,
    SecretRef,
)
from userdata.unpack import UnpackedUserData, unpack_user_data

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "wso2"
STOCK = REPO.parent / "shared" / "reference" / "wso2as-5.3.0"
PRODUCTS = {"fixtures": FIXTURES, "stock": STOCK}

MANAGER_IP = "10.0.1.10"
WORKER_IPS = ("10.0.2.10", "10.0.3.10", "10.0.2.11")
WELL_KNOWN = (MANAGER_IP, WORKER_IPS[0])

# The secret values a node fetches. None may appear in user data, a log or a command line; they
# hold what XML, SQL and the shell treat specially (the stack's rules allow \ ; ` $ & < > in a
# database password, and anything but spaces in the admin password).
SECRETS = {
    SECRET_DB_PASSWORD: "db&<Pa\\55>$x;`%",
    SECRET_DB_MASTER_PASSWORD: "Master-Pw#1!",
    SECRET_ADMIN_PASSWORD: "Adm1n&<'pw'>",
    SECRET_DISCOVERY_ACCESS_KEY: "AKIAFAKEACCESSKEY123",
    SECRET_DISCOVERY_SECRET_KEY: "fake/Secret+Key'\"0123456789abcdef",
    SECRET_SVN_PASSWORD: "svn-s3cret&'\"",
}
ARNS = {k: f"arn:aws:secretsmanager:eu-west-1:123456789012:secret:dev-secrets-{k}-AbCdEf" for k in ALL_SECRETS}
# Every secret but the master password is read at a pinned version (see SecretRef).
VERSION_IDS = {
    k: (None if k == SECRET_DB_MASTER_PASSWORD else f"0000000{i}-1111-2222-3333-44444444444{i}")
    for i, k in enumerate(ALL_SECRETS)
}

APP_USER, MASTER_USER = "wso2app", "wso2admin"
ADMIN_USER = "opsadmin"
DB_HOST = "mysql.wso2.internal"
JDBC_URL = "https://repo1.maven.org/maven2/com/mysql/mysql-connector-j/8.4.0/mysql-connector-j-8.4.0.jar"
SVNKIT_URL = "https://product-dist.wso2.com/tools/svnkit-all-1.8.7.wso2v1.jar"
TRILEAD_URL = "s3://wso2-artifacts/lib/trilead-ssh2-1.0.0-build215.jar"
SVN_URL = "https://svn.example.com/repos/as"
FILE_SYSTEM_ID = "fs-0123456789abcdef0"
LOG_AGENT_PARAMETER = "/wso2/wso2-cluster/dev/cloudwatch-agent"


def make_settings(
    role: str = "manager",
    scheme: str = "aws",
    credentials: str = "accessKey",
    sync: str = "none",
    private_ip: Optional[str] = None,
    name: Optional[str] = None,
    **overrides,
) -> NodeSettings:
    """One node's settings as components/ builds them: the manager alone has the master user."""
    ip = private_ip or (MANAGER_IP if role == "manager" else WORKER_IPS[0])
    deployment_sync = {
        "none": DeploymentSync(),
        "svn": DeploymentSync(
            mode="svn",
            svn_url=SVN_URL,
            svn_user="deployer",
            svn_kit=Artifact(SVNKIT_URL, "1" * 64),
            trilead_ssh=Artifact(TRILEAD_URL, "2" * 64),
        ),
        "efs": DeploymentSync(mode="efs", file_system_id=FILE_SYSTEM_ID),
    }[sync]
    settings = NodeSettings(
        role=role,
        name=name or ("manager" if role == "manager" else "worker-1"),
        private_ip=ip,
        region="eu-west-1",
        cluster_domain="wso2.as.domain",
        membership_scheme=scheme,
        cluster_port=5701,
        port_offset=0,
        service_host="as.example.com",
        management_host="mgt.as.example.com",
        admin_username=ADMIN_USER,
        database=Database(
            host=DB_HOST,
            port=3306,
            username=APP_USER,
            user_store_db="WSO2_USER_DB",
            registry_db="WSO2_REGISTRY_DB",
            master_username=MASTER_USER if role == "manager" else None,
        ),
        product=Artifact(url="s3://wso2-artifacts/wso2as-5.3.0.zip", sha256="ab" * 32),
        jdbc_driver=Artifact(url=JDBC_URL),
        wka_members=tuple(m for m in WELL_KNOWN if m != ip) if scheme == "wka" else (),
        aws_discovery=AwsDiscovery(
            region="eu-west-1",
            security_group_name="dev-nodes-sg",
            tag_key="wso2:cluster",
            tag_value="wso2-cluster-dev",
            credentials=credentials,
            iam_role="dev-worker-role" if credentials == "instanceRole" else None,
        )
        if scheme == "aws"
        else None,
        deployment_sync=deployment_sync,
        secrets={k: SecretRef(ARNS[k], VERSION_IDS[k]) for k in ALL_SECRETS},
        log_agent_parameter=LOG_AGENT_PARAMETER,
    )
    return dataclasses.replace(settings, **overrides) if overrides else settings


def unpack(user_data_base64: str, root: Path) -> UnpackedUserData:
    """Do what EC2 and cloud-init do: base64 -> gunzip -> YAML -> write_files under `root`."""
    unpacked = unpack_user_data(user_data_base64)
    unpacked.write_tree(root)
    return unpacked


def copy_product(src: Path, dest: Path) -> Path:
    """A product's repository/conf with the modes an unpacked zip has (the reference copy is
    read-only)."""
    conf = dest / "repository" / "conf"
    shutil.copytree(src / "repository" / "conf", conf, copy_function=shutil.copyfile)
    for path in [conf, *conf.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    return dest


def write_secrets(path: Path, names: Optional[Iterable[str]] = None, **values: str) -> Path:
    names = SECRETS.keys() if names is None else names
    path.write_text(json.dumps({**{k: SECRETS[k] for k in names}, **values}))
    return path


def run_apply(node_root: Path, home: Path, secrets: Optional[Path], *extra: str):
    cmd = [str(node_root / "opt/wso2-cluster/bin/apply-config"), "--product-home", str(home)]
    if secrets is not None:
        cmd += ["--secrets", str(secrets)]
    return subprocess.run(cmd + list(extra), capture_output=True, text=True, timeout=60)


def snapshot(home: Path) -> dict:
    """Every file under `home`: path -> (bytes, mode)."""
    return {
        p.relative_to(home).as_posix(): (p.read_bytes(), p.stat().st_mode & 0o7777)
        for p in sorted(home.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def node(tmp_path):
    """node(settings, product) -> (node_root, product_home, secrets_file): the settings rendered
    and unpacked like cloud-init under tmp, a product home holding a copy of the product's
    repository/conf (made once per test), and a secrets file with every secret."""

    def make(settings: NodeSettings, product: Path = FIXTURES):
        if not product.is_dir():  # only the stock files can be absent: a user's clone has no ../shared
            missing = (
                f"{product} is absent: the stock WSO2 AS 5.3.0 files (../shared/reference) are not beside this checkout"
            )
            if os.environ.get("CI"):
                pytest.fail(missing + ", and CI is set: CI must run this test")
            pytest.skip(missing)
        root = tmp_path / "node"
        if root.exists():
            shutil.rmtree(root)
        unpack(render_user_data(settings).user_data_base64, root)
        home = tmp_path / "wso2as"
        if not home.exists():
            copy_product(product, home)
        return root, home, write_secrets(tmp_path / "secrets.json")

    return make
