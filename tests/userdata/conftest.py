"""Factories and helpers for the user-data tests: settings, unpacking as cloud-init would,
running the unpacked apply-config against a copy of the fixtures."""

from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
from pathlib import Path
from typing import Optional

import pytest

from userdata.unpack import UnpackedUserData, unpack_user_data
from userdata.settings import (
    SECRET_DB_PASSWORD,
    SECRET_DISCOVERY_ACCESS_KEY,
    SECRET_DISCOVERY_SECRET_KEY,
    SECRET_SVN_PASSWORD,
    Artifact,
    AwsDiscovery,
    Database,
    DeploymentSync,
    NodeSettings,
)

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "wso2"
STOCK = REPO.parent / "shared" / "reference" / "wso2as-5.3.0"

MANAGER_IP = "10.0.1.10"
WORKER_IPS = ("10.0.2.10", "10.0.3.10", "10.0.2.11")
WELL_KNOWN = (MANAGER_IP, WORKER_IPS[0])

# Values a test secrets file holds; none of them may appear in rendered user data.
SECRETS = {
    SECRET_DB_PASSWORD: "db-Pa55&<word>",
    SECRET_DISCOVERY_ACCESS_KEY: "AKIAFAKEACCESSKEY123",
    SECRET_DISCOVERY_SECRET_KEY: "fake/Secret+Key'\"0123456789abcdef",
    SECRET_SVN_PASSWORD: "svn-s3cret",
}
ARNS = {k: f"arn:aws:secretsmanager:eu-west-1:123456789012:secret:wso2/{k}-AbCdEf" for k in SECRETS}


def make_settings(
    role: str = "manager",
    scheme: str = "aws",
    credentials: str = "accessKey",
    private_ip: Optional[str] = None,
    name: Optional[str] = None,
    depsync: bool = False,
    **overrides,
) -> NodeSettings:
    ip = private_ip or (MANAGER_IP if role == "manager" else WORKER_IPS[0])
    s = NodeSettings(
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
        database=Database(
            host="db.wso2.internal",
            port=3306,
            username="wso2admin",
            user_store_db="WSO2_USER_DB",
            registry_db="WSO2_REGISTRY_DB",
        ),
        product=Artifact(url="s3://wso2-artifacts/wso2as-5.3.0.zip", sha256="ab" * 32),
        jdbc_driver=Artifact(
            url="https://repo1.maven.org/maven2/com/mysql/mysql-connector-j/8.4.0/"
            "mysql-connector-j-8.4.0.jar"
        ),
        wka_members=tuple(m for m in WELL_KNOWN if m != ip) if scheme == "wka" else (),
        aws_discovery=AwsDiscovery(
            region="eu-west-1",
            security_group_name="wso2-cluster-nodes",
            tag_key="wso2:cluster",
            tag_value="dev",
            credentials=credentials,
            iam_role="wso2-node-role" if credentials == "instanceRole" else None,
        )
        if scheme == "aws"
        else None,
        deployment_sync=DeploymentSync(
            enabled=True, svn_url="https://svn.example.com/repos/as", svn_user="deployer"
        )
        if depsync
        else DeploymentSync(),
        secret_arns=dict(ARNS),
    )
    return dataclasses.replace(s, **overrides) if overrides else s


def unpack(user_data_base64: str, root: Path) -> UnpackedUserData:
    """Do what EC2 and cloud-init do: base64 -> gunzip -> YAML -> write_files under `root`."""
    unpacked = unpack_user_data(user_data_base64)
    unpacked.write_tree(root)
    return unpacked


def copy_product(src: Path, dest: Path) -> Path:
    shutil.copytree(src / "repository" / "conf", dest / "repository" / "conf")
    return dest


def write_secrets(path: Path, names=None) -> Path:
    names = SECRETS.keys() if names is None else names
    path.write_text(json.dumps({k: SECRETS[k] for k in names}))
    return path


def run_apply(node_root: Path, home: Path, secrets: Optional[Path], *extra: str):
    cmd = [str(node_root / "opt/wso2-cluster/bin/apply-config"), "--product-home", str(home)]
    if secrets is not None:
        cmd += ["--secrets", str(secrets)]
    return subprocess.run(list(cmd) + list(extra), capture_output=True, text=True, timeout=60)


@pytest.fixture
def node(tmp_path):
    """Render settings, unpack them like cloud-init into tmp, and give a product home with a
    copy of the fixtures: node(settings) -> (node_root, product_home, secrets_file)."""
    from userdata import render_user_data

    def make(settings: NodeSettings, product: Path = FIXTURES):
        root = tmp_path / "node"
        if root.exists():
            shutil.rmtree(root)
        unpack(render_user_data(settings).user_data_base64, root)
        home = tmp_path / "wso2as"
        if not home.exists():
            copy_product(product, home)
        return root, home, write_secrets(tmp_path / "secrets.json")

    return make
