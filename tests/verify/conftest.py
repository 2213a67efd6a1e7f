"""Fixtures for the `verify` tests: a healthy cluster built in moto, and ways to run verify."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Callable, Optional

import boto3
import pytest
from moto import mock_aws

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[1]
for entry in (str(REPO_ROOT), str(HERE)):  # `verify` and `verify_cluster_kit`, whatever pytest's import mode
    if entry not in sys.path:
        sys.path.insert(0, entry)

from verify_cluster_kit import (  # noqa: E402
    CLUSTER_PORT,
    DATABASE_NAMES,
    DB_ID,
    HEALTHY_SCHEMA,
    NODE_SG_NAME,
    REGION,
    TAG_KEY,
    TAG_VALUE,
    answer_live_views,
    build_cluster,
)

from tests.aws_support import isolate_aws_environment  # noqa: E402
from verify.__main__ import main  # noqa: E402
from verify.schema import SCHEMA_STATUS_COMMAND  # noqa: E402


@pytest.fixture(autouse=True)
def aws_env(monkeypatch, tmp_path):
    isolate_aws_environment(monkeypatch, tmp_path, REGION)


class NodeShell:
    """What the nodes "print" when moto's SSM runs a command on them.

    moto records SendCommand and answers every invocation Success with empty output (it runs
    nothing), so this wraps moto's invocation factory: for a command given an answer it returns
    that answer's stdout (a string, or a function of the instance id), status, exit code and
    stderr. By default schema-status prints HEALTHY_SCHEMA (the `cluster` fixture answers the
    Hazelcast member lists: `answer_live_views`). The rest of the round trip (boto3 -> moto
    SendCommand/GetCommandInvocation -> verify) is moto's own.
    It works for the in-process mock and for a ThreadedMotoServer (same process).
    """

    def __init__(self) -> None:
        self.answers: dict[str, dict[Optional[str], dict]] = {}
        self.ran: list[tuple[str, str]] = []  # (command, instance id) of each invocation read
        self.answer(SCHEMA_STATUS_COMMAND, json.dumps(HEALTHY_SCHEMA))

    def answer(
        self,
        command: str,
        stdout: Any = "",
        status: str = "Success",
        code: int = 0,
        stderr: str = "",
        instance_id: Optional[str] = None,
    ) -> None:
        """How `command` ends on `instance_id` (on every node when None)."""
        self.answers.setdefault(command, {})[instance_id] = dict(stdout=stdout, status=status, code=code, stderr=stderr)

    def respond(self, command: str, instance_id: str) -> Optional[dict]:
        found = self.answers.get(command, {}).get(instance_id, self.answers.get(command, {}).get(None))
        if found is None:
            return None  # moto's own answer: Success, no output
        self.ran.append((command, instance_id))
        stdout = found["stdout"](instance_id) if callable(found["stdout"]) else found["stdout"]
        return dict(
            Status=found["status"],
            StatusDetails=found["status"],
            ResponseCode=found["code"],
            StandardOutputContent=stdout,
            StandardErrorContent=found["stderr"],
        )


@pytest.fixture(autouse=True)
def node_shell(monkeypatch) -> NodeShell:
    from moto.ssm.models import Command

    shell = NodeShell()
    original = Command.invocation_response

    def invocation_response(command, instance_id, plugin_name):
        response = original(command, instance_id, plugin_name)
        commands = (command.parameters or {}).get("commands") or [""]
        answer = shell.respond(commands[0], instance_id)
        if answer is not None:
            response.update(answer)
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
def cluster(aws_env, node_shell):
    """A healthy cluster inside moto.mock_aws; `.outputs` are its stack outputs (with
    logGroupNames). Every node's REST endpoint and wso2carbon.log stream show one cluster of all
    nodes, as real members printed them (tests/verify/captured/healthy)."""
    with mock_aws():
        ec2, elbv2, rds, logs = (boto3.client(s, region_name=REGION) for s in ("ec2", "elbv2", "rds", "logs"))
        outputs = build_cluster(ec2, elbv2, rds, logs=logs)
        answer_live_views(node_shell, outputs)
        yield Cluster(outputs)


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

    @property
    def checks(self) -> int:
        return sum(1 for line in self.lines if line.startswith(("PASS", "FAIL", "SKIP")))


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
    target_groups = f"arn:aws:elasticloadbalancing:{REGION}:123456789012:targetgroup"
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
            "workersHttp": f"{target_groups}/as-workers-http/1111111111111111",
            "workersHttps": f"{target_groups}/as-workers-https/2222222222222222",
            "managerHttps": f"{target_groups}/as-manager-https/3333333333333333",
        },
        "databaseInstanceId": DB_ID,
        "databaseNames": DATABASE_NAMES,
        "managementAllowedCidrs": ["10.20.0.0/16"],
        "serviceUrlHttp": "http://as.example.com/",
        "serviceUrlHttps": "https://as.example.com/",
        "managementConsoleUrl": "https://mgt.as.example.com/carbon/",
        "loadBalancerDnsName": "wso2-as-123456.us-east-1.elb.amazonaws.com",
        "vpcId": "vpc-0123456789abcdef0",
    }
