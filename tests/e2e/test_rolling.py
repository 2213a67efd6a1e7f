"""Rolling node changes, read from the engine's own event log (`pulumi up --event-log`)."""

from __future__ import annotations

import json
import re

import boto3
import pytest

from e2e.harness import Workspace, events, steps

pytestmark = pytest.mark.engine

WORKERS, MAX_UNAVAILABLE = 5, 2
NEW_AMI = "ami-0123456789abcdef0"


def _node(urn: str) -> str:
    match = re.search(r"::dev-(manager|worker-\d+)-(instance|health-gate)$", urn)
    return match.group(1) if match else ""


def _rollout(log: list[dict]) -> list[tuple[str, str, str, str]]:
    """(event, op, node, "instance" | "gate") for the nodes' instances and gates, in order."""
    found = []
    for kind, op, urn in steps(log):
        node = _node(urn)
        if node and op != "same":
            found.append((kind, op, node, "gate" if urn.endswith("health-gate") else "instance"))
    return found


def _ids_by_name(workspace: Workspace) -> dict[str, str]:
    return {r["urn"].rsplit("::", 1)[1]: r.get("id") for r in workspace.state("dev")}


def _rolling_stack(workspace: Workspace) -> None:
    workspace.new_stack("dev")
    for key, value in (("workerCount", WORKERS), ("maxUnavailableWorkers", MAX_UNAVAILABLE),
                       ("nodeHealthTimeoutMinutes", 5)):
        workspace.set_config("dev", key, value)
    workspace.up("dev")


def _assert_rolled(rollout, changed_op: str) -> None:
    """The manager alone, then at most MAX_UNAVAILABLE workers at a time; no node's change starts
    before every gate of the batch before it has finished (its after-update hook included)."""
    order = ["manager", *[f"worker-{i}" for i in range(1, WORKERS + 1)]]
    expected = [order[:1]] + [order[i:i + MAX_UNAVAILABLE] for i in range(1, len(order), MAX_UNAVAILABLE)]
    position = {event: index for index, event in enumerate(rollout)}
    for earlier, later in zip(expected, expected[1:]):
        gates_done = [position[e] for e in rollout if e[0] == "resOutputsEvent" and e[3] == "gate" and e[2] in earlier]
        assert len(gates_done) == len(earlier), f"every gate of {earlier} updated once"
        later_starts = [position[e] for e in rollout if e[0] == "resourcePreEvent" and e[3] == "instance"
                        and e[2] in later]
        assert later_starts and min(later_starts) > max(gates_done), (earlier, later, rollout)
    assert {e[1] for e in rollout if e[3] == "instance"} >= {changed_op}
    assert {e[2] for e in rollout if e[3] == "instance"} == set(order)


def test_a_change_that_replaces_every_node_rolls_in_gated_batches(workspace: Workspace, tmp_path):
    _rolling_stack(workspace)
    before = {r["urn"]: r.get("id") for r in workspace.state("dev")}
    workspace.set_config("dev", "amiId", NEW_AMI)

    log = tmp_path / "events.jsonl"
    workspace.up("dev", event_log=log)

    rollout = _rollout(events(log))
    _assert_rolled(rollout, "replace")
    after = {r["urn"]: r.get("id") for r in workspace.state("dev")}
    enis = [u for u in after if u.endswith("-eni") and "NetworkInterface" in u]
    assert enis and all(before[u] == after[u] for u in enis)  # the ENIs and their IPs stay


def test_an_instance_type_change_rolls_in_the_same_order(workspace: Workspace, tmp_path):
    _rolling_stack(workspace)
    workspace.set_config("dev", "managerInstanceType", "t3.large")
    workspace.set_config("dev", "workerInstanceType", "t3.large")

    log = tmp_path / "events.jsonl"
    workspace.up("dev", event_log=log)

    _assert_rolled(_rollout(events(log)), "update")


def test_a_node_that_never_gets_healthy_stops_up_with_one_line_and_a_rerun_resumes(workspace: Workspace, tmp_path,
                                                                                    moto_url):
    _rolling_stack(workspace)
    ids_before = _ids_by_name(workspace)
    (workspace.cloud_dir / "unhealthy.json").write_text(json.dumps(["dev-worker-1"]))
    workspace.set_config("dev", "amiId", NEW_AMI)

    failed = workspace.up("dev", check=False, event_log=tmp_path / "failed.jsonl")

    assert failed.code != 0
    reason = re.compile(r"node worker-1 \((i-[0-9a-f]+)\) not healthy in target group (\S+) \(port (9443|9763)\) after "
                        r"5 minutes: unused \(Target\.InvalidState: Target is in the stopped state\)")
    lines = [line for line in failed.output.splitlines() if reason.search(line)]
    assert lines, failed.output[-4000:]
    assert "Traceback" not in failed.output
    ids_failed = _ids_by_name(workspace)
    for untouched in ("dev-worker-3-instance", "dev-worker-4-instance", "dev-worker-5-instance"):
        assert ids_failed[untouched] == ids_before[untouched]

    # The operator mends the node (here: starts it); the rerun waits for it, then goes on.
    (workspace.cloud_dir / "unhealthy.json").write_text("[]")
    ec2 = boto3.client("ec2", endpoint_url=moto_url, region_name="eu-west-1", aws_access_key_id="testing",
                       aws_secret_access_key="testing")
    ec2.start_instances(InstanceIds=[reason.search(lines[0]).group(1)])
    log = tmp_path / "resumed.jsonl"
    workspace.up("dev", event_log=log)

    resumed = _rollout(events(log))
    assert ("resOutputsEvent", "update", "worker-1", "gate") in resumed
    ids_after = _ids_by_name(workspace)
    assert all(ids_after[f"dev-worker-{i}-instance"] != ids_before[f"dev-worker-{i}-instance"] for i in range(1, 6))
