"""A rolling node change as the engine ran it, read from its event log (`pulumi up --event-log`)."""

from __future__ import annotations

import re
from typing import Any, Sequence

from e2e.harness import steps

Event = tuple[str, str, str, str]  # (event kind, op, node, "instance" | "gate")


def _node(urn: str) -> str:
    match = re.search(r"::dev-(manager|worker-\d+)-(instance|health-gate)$", urn)
    return match.group(1) if match else ""


def rollout(log: Sequence[dict[str, Any]]) -> list[Event]:
    """The steps of the nodes' instances and gates that change something, in the engine's order."""
    found = []
    for kind, op, urn in steps(log):
        node = _node(urn)
        if node and op != "same":
            found.append((kind, op, node, "gate" if urn.endswith("health-gate") else "instance"))
    return found


def assert_rolled(events: list[Event], workers: int, max_unavailable: int, changed_op: str) -> None:
    """Every node's instance changed (`changed_op` among its ops): the manager alone, then at most
    `max_unavailable` workers at a time; no node's change starts before every gate of the batch
    before it has finished (its after-update hook included)."""
    order = ["manager", *[f"worker-{i}" for i in range(1, workers + 1)]]
    expected = [order[:1]] + [order[i : i + max_unavailable] for i in range(1, len(order), max_unavailable)]
    position = {event: index for index, event in enumerate(events)}
    for earlier, later in zip(expected, expected[1:]):
        gates_done = [position[e] for e in events if e[0] == "resOutputsEvent" and e[3] == "gate" and e[2] in earlier]
        assert len(gates_done) == len(earlier), f"every gate of {earlier} updated once"
        later_starts = [
            position[e] for e in events if e[0] == "resourcePreEvent" and e[3] == "instance" and e[2] in later
        ]
        assert later_starts and min(later_starts) > max(gates_done), (earlier, later, events)
    assert {e[1] for e in events if e[3] == "instance"} >= {changed_op}
    assert {e[2] for e in events if e[3] == "instance"} == set(order)


def assert_drained_before_stopped(log: Sequence[dict[str, Any]], old_instances: dict[str, str]) -> None:
    """Each replaced node (`old_instances`: node -> its old instance id) was reported drained from
    its target groups (the attachments' after-delete hook) before its old instance's delete began."""
    for node, instance_id in old_instances.items():
        drained = [
            i
            for i, event in enumerate(log)
            if f"drained {instance_id} from target group" in event.get("diagnosticEvent", {}).get("message", "")
        ]
        deleted = [
            i
            for i, event in enumerate(log)
            if "resourcePreEvent" in event
            and event["resourcePreEvent"]["metadata"]["op"] in ("delete-replaced", "delete")
            and _node(event["resourcePreEvent"]["metadata"]["urn"]) == node
            and event["resourcePreEvent"]["metadata"]["urn"].endswith("-instance")
        ]
        assert drained and deleted and max(drained) < min(deleted), (node, drained, deleted)
