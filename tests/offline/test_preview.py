"""The offline preview as a new user runs it: real program, mock engine, files on disk."""

from __future__ import annotations

import base64
import json
import subprocess
import sys

import pytest

from offline.stack_config import ROOT
from tests.runs import stack
from userdata.unpack import unpack_user_data

REFERENCE = ROOT.parent / "shared" / "reference" / "wso2as-5.3.0"


def preview(*args: str, cwd=ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "offline.preview", *args], cwd=cwd, capture_output=True, text=True)


@pytest.fixture(scope="module")
def dev_preview(tmp_path_factory):
    """`make preview` of the dev stack, once for the tests that read what it printed and wrote."""
    out = tmp_path_factory.mktemp("preview")
    result = preview("--stack", "dev", "--out", str(out))
    assert result.returncode == 0, result.stderr
    return result, out


def test_dev_preview_prints_the_plan_and_writes_each_nodes_user_data(dev_preview):
    result, tmp_path = dev_preview
    outputs = json.loads((tmp_path / "dev" / "outputs.json").read_text())
    lines = result.stdout.splitlines()
    assert "Nodes: 3 (user data sent to EC2, against its 16384-byte limit)" in lines
    node_lines = lines[lines.index("Nodes: 3 (user data sent to EC2, against its 16384-byte limit)") + 1 :][:3]
    ips = [outputs["managerPrivateIp"], *outputs["workerPrivateIps"]]
    for line, name, role, ip in zip(
        node_lines, ["dev-manager", "dev-worker-1", "dev-worker-2"], ["manager", "worker", "worker"], ips
    ):
        assert line.split()[:3] == [name, role, ip]
        node_dir = tmp_path / "dev" / name
        unpacked = unpack_user_data((node_dir / "user-data.base64").read_text())
        assert int(line.split()[3]) == len(unpacked.payload) < 16384
        assert (node_dir / "cloud-config.yaml").read_text() == unpacked.cloud_config
        node_json = json.loads((node_dir / "files/opt/wso2-cluster/node.json").read_text())
        assert node_json["role"] == role and ip in json.dumps(node_json)
        assert (node_dir / "files/opt/wso2-cluster/bin/apply-config").stat().st_mode & 0o111
    assert "wso2:cluster:Node  (9)" in result.stdout  # 3 ENIs, instances and health gates, by component
    assert "  clusterPort: 5701" in lines


def test_user_data_file_is_exactly_what_the_instance_declares(tmp_path):
    preview("--stack", "prod", "--out", str(tmp_path)).check_returncode()
    inventory = stack("prod")
    declared = {
        r.inputs["tags"]["Name"]: r.inputs["userDataBase64"] for r in inventory.of_type("aws:ec2/instance:Instance")
    }
    written = {d.name: (d / "user-data.base64").read_text() for d in (tmp_path / "prod").iterdir() if d.is_dir()}
    assert written == declared and len(written) == 5
    assert all(base64.b64decode(v)[:2] == b"\x1f\x8b" for v in written.values())


@pytest.mark.skipif(not REFERENCE.is_dir(), reason="../shared/reference is not beside this checkout")
def test_product_home_gives_the_configured_files(tmp_path):
    result = preview("--stack", "dev", "--out", str(tmp_path), "--product-home", str(REFERENCE))
    assert result.returncode == 0, result.stderr
    conf = tmp_path / "dev" / "dev-worker-1" / "product" / "repository" / "conf"
    axis2 = (conf / "axis2" / "axis2.xml").read_text()
    assert (
        '<clustering class="org.wso2.carbon.core.clustering.hazelcast.HazelcastClusteringAgent" enable="true">' in axis2
    )
    assert "PLACEHOLDER-discoveryAccessKey" in axis2  # stand-ins, labelled, for the values fetched at boot


@pytest.fixture
def broken_stack():
    path = ROOT / "Pulumi.pytest-broken.yaml"
    yield path
    path.unlink(missing_ok=True)


@pytest.mark.parametrize(
    "content,expected",
    [
        (
            "config:\n  wso2-cluster:workerCount: 0\n  wso2-cluster:productArtifactUrl: s3://b-1/x.zip\n"
            "  wso2-cluster:selfSignedCertificate: true\n  aws:region: eu-west-1\n",
            "invalid config wso2-cluster:workerCount = 0: must be an integer from 1 to 50",
        ),
        (
            "config:\n  wso2-cluster:workerCount: [2\n",
            "preview: pytest-broken: Pulumi.pytest-broken.yaml: line 3: not valid YAML",
        ),
    ],
)
def test_broken_stack_file_exits_non_zero_with_one_line(broken_stack, content, expected, tmp_path):
    broken_stack.write_text(content)
    result = preview("--stack", "pytest-broken", "--out", str(tmp_path))
    assert result.returncode == 1
    assert len(result.stderr.splitlines()) == 1 and result.stderr.startswith(expected)
    assert "Traceback" not in result.stderr + result.stdout and not (tmp_path / "pytest-broken").exists()


def test_unknown_stack_names_the_stacks_there(tmp_path):
    result = preview("--stack", "nope", "--out", str(tmp_path))
    assert result.returncode == 1
    assert result.stderr.strip() == "preview: nope: Pulumi.nope.yaml: no such file (stacks here: dev, prod)"


def test_preview_prints_each_warning_and_each_nodes_operations(dev_preview):
    result, tmp_path = dev_preview
    lines = result.stdout.splitlines()
    # dev installs an unchecked product zip: one warning line, before the plan
    assert lines[1:3] == [
        "Warnings:",
        "  warning: wso2-cluster:productArtifactSha256 is not set: nodes install the product zip unchecked",
    ]
    outputs = json.loads((tmp_path / "dev" / "outputs.json").read_text())
    start = lines.index("Operations per node (log groups the node ships to; alarms on it):")
    for name, instance_id in zip(
        ["dev-manager", "dev-worker-1", "dev-worker-2"], [outputs["managerInstanceId"], *outputs["workerInstanceIds"]]
    ):
        block = lines[lines.index(f"  {name}", start) + 1 :][:8]
        logs = [line for line in block if line.startswith("    log ")]
        alarms = sorted(line.split(":")[0].split()[-1] for line in block if line.startswith("    alarm "))
        assert logs == [
            f"    log    /wso2/wso2-cluster/dev/{group} (stream {instance_id}) <- {path}"
            for group, path in (
                ("boot", "/var/log/wso2-cluster/boot.log"),
                ("carbon", "/opt/wso2as/repository/logs/wso2carbon.log"),
                ("http-access", "/opt/wso2as/repository/logs/http_access_*.log"),
                ("gc", "/opt/wso2as/repository/logs/gc.log*"),
            )
        ]
        assert alarms == [
            "StatusCheckFailed_Instance",
            "StatusCheckFailed_System",
            "disk_used_percent",
            "mem_used_percent",
        ]
        assert any(line.endswith("-> recover") for line in block) and any(line.endswith("-> reboot") for line in block)


def test_prod_like_stacks_warn_when_the_console_or_plain_http_is_open_to_the_internet():
    assert stack("prod").warnings == []  # checksums set, console and HTTP closed
    open_console = stack("prod", managementAllowedCidrs='["0.0.0.0/0"]').warnings
    assert open_console == [
        "wso2-cluster:managementAllowedCidrs opens the management console to the internet "
        "(0.0.0.0/0) on a stack with deletion protection"
    ]
    plain_http = stack("prod", httpMode="forward").warnings
    assert plain_http == [
        "wso2-cluster:httpMode forward serves plain HTTP to the internet (0.0.0.0/0) on a stack "
        "with deletion protection"
    ]
    # the same settings on a throw-away stack (dev: no deletion protection) only get the checksum warning
    assert stack("dev", managementAllowedCidrs='["0.0.0.0/0"]').warnings == [
        "wso2-cluster:productArtifactSha256 is not set: nodes install the product zip unchecked"
    ]


@pytest.mark.parametrize(
    "flag,given,problem",
    [
        ("--product-zip", "missing.zip", "--product-zip {path}: no such zip file"),
        (
            "--product-home",
            "missing-home",
            "--product-home {path}: no repository/conf inside; is it an unpacked WSO2 product?",
        ),
    ],
)
def test_a_bad_product_flag_is_one_line_before_anything_is_printed(tmp_path, flag, given, problem):
    path = tmp_path / given
    result = preview("--stack", "dev", "--out", str(tmp_path / "out"), flag, str(path))
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr.splitlines() == ["preview: " + problem.format(path=path)]
    assert not (tmp_path / "out").exists()
