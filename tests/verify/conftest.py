"""Fixtures for the `verify` tests: a healthy cluster built in moto, and ways to run verify."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Callable

import boto3
import pytest
from moto import mock_aws

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[1]
for entry in (str(REPO_ROOT), str(HERE)):  # `verify` and `verify_cluster_kit`, whatever pytest's import mode
    if entry not in sys.path:
        sys.path.insert(0, entry)

from tests.aws_support import isolate_aws_environment  # noqa: E402
from verify.__main__ import main  # noqa: E402
from verify.schema import SCHEMA_STATUS_COMMAND  # noqa: E402
from verify_cluster_kit import (  # noqa: E402
    DB_ID, CLUSTER_PORT, HEALTHY_SCHEMA, NODE_SG_NAME, REGION, TAG_KEY, TAG_VALUE, build_cluster,
)


@pytest.fixture(autouse=True)
def aws_env(monkeypatch, tmp_path):
    isolate_aws_environment(monkeypatch, tmp_path, REGION)


class NodeShell:
    """What the manager "prints" when moto's SSM runs schema-status.

    moto records SendCommand and answers every invocation Success with empty output (it runs
    nothing), so this wraps moto's invocation factory: for the schema-status command it returns
    `stdout` (HEALTHY_SCHEMA by default) or the given status, exit code and stderr. The rest of
    the round trip (boto3 -> moto SendCommand/GetCommandInvocation -> verify) is moto's own. It
    works for the in-process mock and for a ThreadedMotoServer (same process).
    """

    def __init__(self) -> None:
        self.stdout = json.dumps(HEALTHY_SCHEMA)
        self.status, self.code, self.stderr = "Success", 0, ""
        self.ran_on: list[str] = []  # instance ids the command was sent to

    def answer(self, stdout: str = "", status: str = "Success", code: int = 0, stderr: str = "") -> None:
        self.stdout, self.status, self.code, self.stderr = stdout, status, code, stderr


@pytest.fixture(autouse=True)
def node_shell(monkeypatch) -> NodeShell:
    from moto.ssm.models import Command

    shell = NodeShell()
    original = Command.invocation_response

    def invocation_response(command, instance_id, plugin_name):
        response = original(command, instance_id, plugin_name)
        if (command.parameters or {}).get("commands") == [SCHEMA_STATUS_COMMAND]:
            shell.ran_on.append(instance_id)
            response.update(Status=shell.status, StatusDetails=shell.status, ResponseCode=shell.code,
                            StandardOutputContent=shell.stdout, StandardErrorContent=shell.stderr)
        return response

    monkeypatch.setattr(Command, "invocation_response", invocation_response)
    return shell


class Cluster:
    def __init__(self, outputs: dict, region: str = REGION):
        self.outputs = outputs
        self.ec2 = boto3.client("ec2", region_name=region)
        self.elbv2 = boto3.client("elbv2", region_name=region)
        self.rds = boto3.client("rds", region_name=region)
        self.logs = boto3.client("logs", region_name=region)


@pytest.fixture
def cluster(aws_env):
    """A healthy cluster inside moto.mock_aws; `.outputs` are its stack outputs (with
    logGroupNames; every node's wso2carbon.log stream shows one cluster of all nodes)."""
    with mock_aws():
        ec2, elbv2, rds, logs = (boto3.client(s, region_name=REGION) for s in ("ec2", "elbv2", "rds", "logs"))
        yield Cluster(build_cluster(ec2, elbv2, rds, logs=logs))


class Run:
    def __init__(self, code: int, out: str, err: str):
        self.code, self.out, self.err = code, out, err

    @property
    def lines(self) -> list[str]:
        return self.out.splitlines()

    @property
    def failed(self) -> list[str]:
        return [line for line in self.lines if line.startswith("FAIL")]

    @property
    def passed(self) -> list[str]:
        return [line for line in self.lines if line.startswith("PASS")]


@pytest.fixture
def run_verify(tmp_path, capsys) -> Callable[..., Run]:
    """run_verify(outputs, *args, http=False): main() in-process with --outputs FILE.

    http=False adds --no-http, http=True adds --http, http=None adds neither (the default applies).
    `outputs` may be a dict (written as JSON) or a str (written verbatim).
    """

    def run(outputs: Any, *args: str, http: Any = False) -> Run:
        path = tmp_path / "outputs.json"
        path.write_text(outputs if isinstance(outputs, str) else json.dumps(outputs))
        argv = ["--outputs", str(path), *args]
        if http is not None:
            argv.append("--http" if http else "--no-http")
        capsys.readouterr()
        code = main(argv)
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err)

    return run


@pytest.fixture
def static_outputs() -> dict:
    """A valid outputs document with made-up ids, for tests that do not touch AWS."""
    return {
        "region": REGION,
        "managerInstanceId": "i-0aaaaaaaaaaaaaaa0",
        "managerPrivateIp": "10.20.1.10",
        "workerInstanceIds": ["i-0bbbbbbbbbbbbbbb1", "i-0ccccccccccccccc2"],
        "workerPrivateIps": ["10.20.1.20", "10.20.2.21"],
        "nodeSecurityGroupId": "sg-0123456789abcdef0",
        "nodeSecurityGroupName": NODE_SG_NAME,
        "databaseSecurityGroupId": "sg-0fedcba9876543210",
        "clusterPort": CLUSTER_PORT,
        "discoveryTagKey": TAG_KEY,
        "discoveryTagValue": TAG_VALUE,
        "targetGroupArns": {
            "workersHttp": f"arn:aws:elasticloadbalancing:{REGION}:123456789012:targetgroup/as-workers-http/1111111111111111",
            "workersHttps": f"arn:aws:elasticloadbalancing:{REGION}:123456789012:targetgroup/as-workers-https/2222222222222222",
            "managerHttps": f"arn:aws:elasticloadbalancing:{REGION}:123456789012:targetgroup/as-manager-https/3333333333333333",
        },
        "databaseInstanceId": DB_ID,
        "serviceUrlHttp": "http://as.example.com/",
        "serviceUrlHttps": "https://as.example.com/",
        "managementConsoleUrl": "https://mgt.as.example.com/carbon/",
        "loadBalancerDnsName": "wso2-as-123456.us-east-1.elb.amazonaws.com",
        "vpcId": "vpc-0123456789abcdef0",
    }
