"""Rolling node changes, read from the engine's own event log (`pulumi up --event-log`)."""

from __future__ import annotations

import json
import re

import boto3
import pytest

from e2e.harness import Workspace, events
from tests.e2e.rollout import assert_drained_before_stopped, assert_rolled, rollout

pytestmark = pytest.mark.engine

WORKERS, MAX_UNAVAILABLE = 5, 2
NEW_AMI = "ami-0123456789abcdef0"


def _ids_by_name(workspace: Workspace) -> dict[str, str]:
    return {r["urn"].rsplit("::", 1)[1]: r.get("id") for r in workspace.state("dev")}


def _old_instances(workspace: Workspace) -> dict[str, str]:
    """node -> its instance id now."""
    return {
        name.removeprefix("dev-").removesuffix("-instance"): rid
        for name, rid in _ids_by_name(workspace).items()
        if name.endswith("-instance")
    }


def _rolling_stack(workspace: Workspace, **config) -> None:
    workspace.new_stack("dev")
    for key, value in (
        ("workerCount", WORKERS),
        ("maxUnavailableWorkers", MAX_UNAVAILABLE),
        ("nodeHealthTimeoutMinutes", 5),
        *config.items(),
    ):
        workspace.set_config("dev", key, value)
    workspace.up("dev")


def test_a_change_that_replaces_every_node_rolls_in_gated_batches(workspace: Workspace, tmp_path):
    _rolling_stack(workspace)
    before = {r["urn"]: r.get("id") for r in workspace.state("dev")}
    old_instances = _old_instances(workspace)
    workspace.set_config("dev", "amiId", NEW_AMI)

    log = tmp_path / "events.jsonl"
    workspace.up("dev", event_log=log)

    assert_rolled(rollout(events(log)), WORKERS, MAX_UNAVAILABLE, "replace")
    assert_drained_before_stopped(events(log), old_instances)
    after = {r["urn"]: r.get("id") for r in workspace.state("dev")}
    enis = [u for u in after if u.endswith("-eni") and "NetworkInterface" in u]
    assert enis and all(before[u] == after[u] for u in enis)  # the ENIs and their IPs stay


def test_an_instance_type_change_replaces_the_nodes_in_the_same_order_each_drained(workspace: Workspace, tmp_path):
    # the heap pinned, so only the type changes: still a replacement (replaceOnChanges)
    _rolling_stack(workspace, managerHeapMb=2048, workerHeapMb=2048)
    old_instances = _old_instances(workspace)
    for key in ("managerInstanceType", "workerInstanceType"):
        workspace.set_config("dev", key, "t3.large")

    log = tmp_path / "events.jsonl"
    workspace.up("dev", event_log=log)

    assert_rolled(rollout(events(log)), WORKERS, MAX_UNAVAILABLE, "replace")
    assert_drained_before_stopped(events(log), old_instances)


def test_a_node_that_never_gets_healthy_stops_up_with_one_line_and_a_rerun_resumes(
    workspace: Workspace, tmp_path, moto_url
):
    _rolling_stack(workspace)
    ids_before = _ids_by_name(workspace)
    (workspace.cloud_dir / "unhealthy.json").write_text(json.dumps(["dev-worker-1"]))
    workspace.set_config("dev", "amiId", NEW_AMI)

    failed = workspace.up("dev", check=False, event_log=tmp_path / "failed.jsonl")

    assert failed.code != 0
    reason = re.compile(
        r"node worker-1 \((i-[0-9a-f]+)\) not healthy in target group (\S+) \(port (9443|9763)\) after "
        r"5 minutes: unused \(Target\.InvalidState: Target is in the stopped state\)"
    )
    lines = [line for line in failed.output.splitlines() if reason.search(line)]
    assert lines, failed.output[-4000:]
    assert "Traceback" not in failed.output
    ids_failed = _ids_by_name(workspace)
    for untouched in ("dev-worker-3-instance", "dev-worker-4-instance", "dev-worker-5-instance"):
        assert ids_failed[untouched] == ids_before[untouched]

    # The operator mends the node (here: starts it); the rerun waits for it, then goes on.
    (workspace.cloud_dir / "unhealthy.json").write_text("[]")
    ec2 = boto3.client(
        "ec2",
        endpoint_url=moto_url,
        region_name="eu-west-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    ec2.start_instances(InstanceIds=[reason.search(lines[0]).group(1)])
    log = tmp_path / "resumed.jsonl"
    workspace.up("dev", event_log=log)

    resumed = rollout(events(log))
    assert ("resOutputsEvent", "update", "worker-1", "gate") in resumed
    ids_after = _ids_by_name(workspace)
    assert all(ids_after[f"dev-worker-{i}-instance"] != ids_before[f"dev-worker-{i}-instance"] for i in range(1, 6))
