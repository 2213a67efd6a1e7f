"""Upgrading a stack made by the previous release (CHANGELOG.md) to this one, on the real CLI.

The previous release's program (from git) deploys the dev stack on the cloud double; then this
checkout's program runs `pulumi preview` and `pulumi up` on the same state. A release that
changes the nodes' user data replaces their instances, and then only as a rolling change: the
manager, then one worker at a time (dev: 2 workers), each after the one before is healthy, on the
same network interfaces (same IPs). Nothing else is replaced; the database is neither replaced
nor renamed.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import tarfile

import pytest

from e2e.harness import ROOT, Workspace, events
from tests.e2e.rollout import assert_rolled, rollout

pytestmark = pytest.mark.engine

PREVIOUS_RELEASE = ("release-14", "4afe08713f4fc709724bae28f24184f4e52a83fa")  # CHANGELOG.md
REPLACING = {"replace", "create-replacement", "delete-replaced"}
# What follows a node's new instance: the instance, and its registrations in the target groups.
NODE_FOLLOWERS = {"aws:ec2/instance:Instance", "aws:lb/targetGroupAttachment:TargetGroupAttachment"}
# This release changes the nodes' user data (schema-status lists table names): its nodes roll.
NODES_ROLL = True
DEV_WORKERS, DEV_MAX_UNAVAILABLE = 2, 1  # Pulumi.dev.yaml; maxUnavailableWorkers defaults to a quarter, at least 1


def _extract(commit: str, into) -> None:
    found = subprocess.run(["git", "-C", str(ROOT), "cat-file", "-e", f"{commit}^{{commit}}"], capture_output=True)
    if found.returncode != 0:
        message = f"the previous release {commit[:12]} is not in this checkout's git history"
        if os.environ.get("CI"):
            pytest.fail(message + ", and CI is set")
        pytest.skip(message)
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "--format=tar", commit], capture_output=True, check=True
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")


def test_upgrading_the_previous_releases_dev_stack_rolls_its_nodes_and_replaces_nothing_else(tmp_path, moto_url):
    previous = tmp_path / "previous"
    _extract(PREVIOUS_RELEASE[1], previous)
    old = Workspace(tmp_path / "old", source=previous, moto_url=moto_url)
    old.new_stack("dev")
    # That release declared its optional keys without defaults, so the CLI required them all;
    # deploying it at all needed the schema check skipped (CHANGELOG.md).
    old.up("dev", "--skip-config-validation")
    before = {r["urn"]: r for r in old.state("dev")}

    new = Workspace(tmp_path / "new", moto_url=moto_url)  # this checkout's program ...
    new.env.update({k: old.env[k] for k in ("PULUMI_BACKEND_URL", "WSO2_DOUBLE_DIR")})  # ... on the same state
    new.pulumi("stack", "select", "dev")
    (new.project / "Pulumi.dev.yaml").write_text((old.project / "Pulumi.dev.yaml").read_text())

    plan = json.loads(new.preview("dev", "--json").stdout)
    changed = {
        (s["op"], s["urn"].split("::")[-2].split("$")[-1], s["urn"].rsplit("::", 1)[1])
        for s in plan["steps"]
        if s["op"] != "same"
    }
    assert not {c for c in changed if c[0] in REPLACING and c[1] not in NODE_FOLLOWERS}, changed
    kept = ("aws:rds/instance:Instance", "aws:ec2/networkInterface:NetworkInterface")
    assert not {c for c in changed if c[1] in kept}, changed
    nodes_roll = any(c[1] == "aws:ec2/instance:Instance" for c in changed)
    assert nodes_roll == NODES_ROLL, changed

    log = tmp_path / "upgrade.jsonl"
    new.up("dev", event_log=log)
    if nodes_roll:
        assert_rolled(rollout(events(log)), DEV_WORKERS, DEV_MAX_UNAVAILABLE, "replace")
    after = {r["urn"]: r for r in new.state("dev")}
    for urn, resource in before.items():
        if resource["type"] in kept:
            assert after[urn]["id"] == resource["id"], urn
        if resource["type"] == "aws:ec2/instance:Instance" and not nodes_roll:
            assert after[urn]["id"] == resource["id"], urn
    database = next(r for r in after.values() if r["type"] == "aws:rds/instance:Instance")
    assert database["outputs"]["identifier"] == before[database["urn"]]["outputs"]["identifier"]
