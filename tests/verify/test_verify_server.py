"""End to end: `python -m verify` as a subprocess against a moto server via AWS_ENDPOINT_URL."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import urllib.request

import boto3
import pytest
from moto.server import ThreadedMotoServer
from verify_cluster_kit import REGION, REPO_ROOT, answer_live_views, build_cluster


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def moto_server():
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def served_cluster(moto_server, tmp_path, node_shell):
    urllib.request.urlopen(urllib.request.Request(f"{moto_server}/moto-api/reset", method="POST"), timeout=10).close()
    clients = [boto3.client(s, region_name=REGION, endpoint_url=moto_server) for s in ("ec2", "elbv2", "rds", "logs")]
    outputs = build_cluster(*clients[:3], logs=clients[3])
    answer_live_views(node_shell, outputs)
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(outputs))
    return outputs, path, clients


def run_cli(endpoint: str, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION=REGION,
        AWS_ENDPOINT_URL=endpoint,
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
    )
    return subprocess.run(
        [sys.executable, "-m", "verify", *args], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_subprocess_against_moto_server_passes_then_fails(served_cluster, moto_server):
    outputs, path, (ec2, _, _, _) = served_cluster
    done = run_cli(moto_server, "--outputs", str(path), "--no-http")
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "-- checking EC2 instances (manager, worker-1, worker-2)"
    assert lines[-1] == "RESULT: PASS - all 36 checks passed"
    assert not [line for line in lines if line.startswith("FAIL")]

    worker = outputs["workerInstanceIds"][0]
    ec2.stop_instances(InstanceIds=[worker])
    done = run_cli(moto_server, "--outputs", str(path), "--no-http")
    assert done.returncode == 1
    assert f"FAIL  worker-1 ({worker}) state: stopped (expected running)" in done.stdout.splitlines()
    assert done.stdout.splitlines()[-1] == "RESULT: FAIL - 4 of 36 checks failed"


def test_subprocess_json_against_moto_server(served_cluster, moto_server):
    outputs, path, (_, _, rds, _) = served_cluster
    rds.modify_db_instance(
        DBInstanceIdentifier=outputs["databaseInstanceId"], PubliclyAccessible=True, ApplyImmediately=True
    )
    done = run_cli(moto_server, "--outputs", str(path), "--no-http", "--json")
    assert done.returncode == 1
    document = json.loads(done.stdout)
    assert document["ok"] is False
    assert [c["name"] for c in document["checks"] if not c["ok"]] == [
        f"database {outputs['databaseInstanceId']} public access"
    ]


def test_subprocess_missing_key_is_exit_2(moto_server, tmp_path):
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps({"region": REGION}))
    done = run_cli(moto_server, "--outputs", str(path), "--no-http")
    assert done.returncode == 2
    assert done.stdout == ""
    assert len(done.stderr.strip().splitlines()) == 1
    assert done.stderr.startswith("error: stack outputs missing key(s): managerInstanceId, ")


def test_subprocess_json_names_a_split_cluster(served_cluster, moto_server, node_shell):
    outputs, path, _ = served_cluster
    answer_live_views(node_shell, outputs, "split")  # worker-2 in a cluster of its own, as real members were
    done = run_cli(moto_server, "--outputs", str(path), "--no-http", "--json")
    assert done.returncode == 1, done.stdout + done.stderr
    document = json.loads(done.stdout)
    assert document["ok"] is False
    failed = {c["name"]: c["detail"] for c in document["checks"] if c["status"] == "fail"}
    assert failed.pop("Hazelcast cluster") == "split into 2 clusters: {manager, worker-1} and {worker-2}"
    manager_ip, (worker1_ip, worker2_ip) = outputs["managerPrivateIp"], outputs["workerPrivateIps"]
    manager, (worker1, worker2) = outputs["managerInstanceId"], outputs["workerInstanceIds"]
    assert failed == {
        f"manager ({manager}) cluster membership": f"sees 2 of 3 members: missing worker-2 ({worker2_ip}) (live)",
        f"worker-1 ({worker1}) cluster membership": f"sees 2 of 3 members: missing worker-2 ({worker2_ip}) (live)",
        f"worker-2 ({worker2}) cluster membership": (
            f"sees 1 of 3 members: missing manager ({manager_ip}), worker-1 ({worker1_ip}) (live)"
        ),
    }
    # the schema check ran through the moto server too (conftest's node_shell answers it)
    assert [(c["name"], c["status"]) for c in document["checks"] if c["name"].startswith("schema ")] == [
        ("schema WSO2_USER_DB", "pass"),
        ("schema WSO2_REGISTRY_DB", "pass"),
    ]
