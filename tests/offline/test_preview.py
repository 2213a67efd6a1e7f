"""The offline preview as a new user runs it: real program, mock engine, files on disk."""

from __future__ import annotations

import base64
import json
import subprocess
import sys

import pytest

from offline.preview import main as preview_main
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
    header = "Nodes: 3 (user data as sent to EC2, against its 16384-byte limit)"
    assert header in lines
    node_lines = lines[lines.index(header) + 2 :][:3]
    ips = [outputs["managerPrivateIp"], *outputs["workerPrivateIps"]]  # the mock engine's stand-ins
    placement = [("eu-west-1a", "dev-private-0"), ("eu-west-1b", "dev-private-1"), ("eu-west-1a", "dev-private-0")]
    for line, name, role, ip, (zone, subnet) in zip(
        node_lines, ["dev-manager", "dev-worker-1", "dev-worker-2"], ["manager", "worker", "worker"], ips, placement
    ):
        assert line.split()[:6] == [name, role, "t3.medium", zone, subnet, ip]
        node_dir = tmp_path / "dev" / name
        unpacked = unpack_user_data((node_dir / "user-data.base64").read_text())
        assert int(line.split()[6]) == len(unpacked.payload) < 16384
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
    start = lines.index("Operations per node (log groups it ships to, one stream per instance id; alarms on it):")
    block = lines[lines.index("  dev-manager", start) + 1 :][:8]
    logs = [line for line in block if line.startswith("    log ")]
    alarms = sorted(line.split(":")[0].split()[-1] for line in block if line.startswith("    alarm "))
    assert logs == [
        f"    log    /wso2/wso2-cluster/dev/{group} <- {path}"
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
    # the workers' logs and alarms are the manager's, each for itself: one line each
    assert lines[lines.index("  dev-manager", start) + 9 :][:2] == [
        "  dev-worker-1: the same as dev-manager, for itself",
        "  dev-worker-2: the same as dev-manager, for itself",
    ]


def test_prod_like_stacks_warn_when_plain_http_is_open_to_the_internet():
    assert stack("prod").warnings == []  # checksums set, console and HTTP closed
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


@pytest.fixture
def scratch_stack():
    """scratch_stack(name): a stack file of that name, a copy of prod; removed after the test."""
    made = []

    def make(name: str):
        path = ROOT / f"Pulumi.{name}.yaml"
        path.write_text((ROOT / "Pulumi.prod.yaml").read_text())
        made.append(path)
        return name, path

    yield make
    for path in made:
        path.unlink(missing_ok=True)


def run_preview(capsys, *args: str) -> list[str]:
    """The preview in this process, as `make preview` runs it: its printed lines."""
    assert preview_main(list(args)) == 0
    return capsys.readouterr().out.splitlines()


def test_the_preview_marks_what_changed_since_the_previous_preview_as_pulumi_does(scratch_stack, tmp_path, capsys):
    name, path = scratch_stack("pytest-marks")
    first = run_preview(capsys, "--stack", name, "--out", str(tmp_path))
    total = sum(1 for r in stack("prod").resources if r.custom)
    assert f"Changes: no previous preview of this stack under build/: every resource is new (+ {total})" in first
    assert "Changes: none since the previous preview" in run_preview(capsys, "--stack", name, "--out", str(tmp_path))

    # a bigger worker type (which replaces the workers, rolling) and one more worker
    text = path.read_text().replace("workerInstanceType: m7i.xlarge", "workerInstanceType: m7i.2xlarge")
    path.write_text(text.replace("workerCount: 4", "workerCount: 5"))
    lines = run_preview(capsys, "--stack", name, "--out", str(tmp_path))
    start = lines.index("Changes since the previous preview: 8 to create (+), 7 to update (~), 4 to replace (+-)")
    block: list[str] = []
    for line in lines[start + 1 : lines.index("", start)]:  # a change wrapped at 120 columns, joined
        if line.startswith("      "):
            block[-1] += " " + line.strip()
        else:
            block.append(line)
    n = name
    assert block == [
        f"  ~  aws:cloudwatch/dashboard:Dashboard {n}-dashboard: dashboardBody",
        f"  ~  aws:cloudwatch/metricAlarm:MetricAlarm {n}-database-connections, {n}-workersHttps-healthy-hosts: "
        "alarmDescription, threshold",
        f"  +  aws:cloudwatch/metricAlarm:MetricAlarm {n}-worker-5-disk ... {n}-worker-5-system-check (4)",
        f"  +- aws:ec2/instance:Instance {n}-worker-1-instance ... {n}-worker-4-instance (4): instanceType, "
        "userDataBase64",
        f"  +  aws:ec2/instance:Instance {n}-worker-5-instance",
        f"  +  aws:ec2/networkInterface:NetworkInterface {n}-worker-5-eni",
        f"  +  aws:lb/targetGroupAttachment:TargetGroupAttachment {n}-worker-5-https",
        f"  ~  pulumi-python:dynamic/wso2:HealthGate {n}-worker-1-health-gate ... {n}-worker-4-health-gate (4): "
        "targets",
        f"  +  pulumi-python:dynamic/wso2:HealthGate {n}-worker-5-health-gate",
        "  Nodes replaced, in rolling order: worker-1 | worker-2 | worker-3 | worker-4",
    ]


def test_a_large_stack_previews_in_lines_of_at_most_120_characters_the_same_each_time(scratch_stack, tmp_path, capsys):
    name, path = scratch_stack("pytest-large")
    path.write_text(path.read_text().replace("workerCount: 4", "workerCount: 50"))
    first = run_preview(capsys, "--stack", name, "--out", str(tmp_path))
    second = run_preview(capsys, "--stack", name, "--out", str(tmp_path))
    assert max(len(line) for line in first + second) <= 120
    assert [line for line in first if not line.startswith("Changes")] == [
        line for line in second if not line.startswith("Changes")
    ]
    # one line per worker in the node table and in the operations, not a block each
    assert len(first) < 300
    assert f"  {name}-worker-50: the same as {name}-manager, for itself" in first


def test_values_aws_assigns_are_unknown_and_json_says_what_the_text_says(scratch_stack, tmp_path, capsys):
    name, _ = scratch_stack("pytest-unknowns")
    text = run_preview(capsys, "--stack", name, "--out", str(tmp_path))
    document = json.loads("\n".join(run_preview(capsys, "--stack", name, "--out", str(tmp_path), "--json")))
    made_up = stack("prod").outputs  # what the mock engine assigned
    outputs = document["outputs"]
    for key in ("managerInstanceId", "vpcId", "databaseEndpoint", "loadBalancerDnsName", "nodeSecurityGroupName"):
        assert outputs[key] == "(known after deploy)" and f"  {key}: (known after deploy)" in text
        assert made_up[key] not in "\n".join(text)
    assert outputs["workerInstanceIds"] == ["(known after deploy)"] * 4
    assert outputs["serviceUrlHttps"] == "https://as.example.com/" and outputs["clusterPort"] == 5701
    assert outputs["logGroupNames"]["carbon"] == f"/wso2/wso2-cluster/{name}/carbon"
    # every node, security-group rule and listener rule of the text is in the document
    assert [node["name"] for node in document["nodes"]] == [f"{name}-manager"] + [
        f"{name}-worker-{i}" for i in range(1, 5)
    ]
    printed = text[
        text.index("Security-group rules:") + 1 : text.index(
            "Listener rules (the first rule that matches, by priority; else the default):"
        )
    ]
    assert [line.split()[:4] for line in printed] == [
        [rule["group"], rule["direction"], str(rule["port"]), rule["peer"]] for rule in document["securityGroupRules"]
    ]
    assert len(printed) == len(
        stack("prod").of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    ) + len(stack("prod").of_type("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"))
    https = [rule for rule in document["listenerRules"] if rule["listener"] == "HTTPS 443"]
    assert https[-1] == {
        "listener": "HTTPS 443",
        "priority": "default",
        "conditions": "",
        "action": f"forward to {name}-ws (HTTPS 9443)",
    }
    assert document["changes"] == []  # the text run before it was the previous preview
