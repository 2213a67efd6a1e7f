"""What changes when a stack grows, and whether the same stack renders the same bytes."""

from __future__ import annotations

from dataclasses import dataclass

from offline.engine import Inventory

INSTANCE = "aws:ec2/instance:Instance"


@dataclass(frozen=True)
class Change:
    urn: str
    type: str
    keys: tuple[str, ...]  # top-level inputs whose value differs


def changed_resources(before: Inventory, after: Inventory) -> list[Change]:
    """Resources present in both inventories whose declared inputs differ, by URN (registration
    order varies from run to run)."""
    old = {r.urn: r for r in before.resources}
    changes = []
    for resource in after.resources:
        previous = old.get(resource.urn)
        if previous is None:
            continue
        keys = sorted(
            k for k in set(previous.inputs) | set(resource.inputs) if previous.inputs.get(k) != resource.inputs.get(k)
        )
        if keys:
            changes.append(Change(resource.urn, resource.type, tuple(keys)))
    return sorted(changes, key=lambda change: change.urn)


def added_resources(before: Inventory, after: Inventory) -> list[str]:
    old = {r.urn for r in before.resources}
    return [r.urn for r in after.resources if r.urn not in old]


def user_data_by_node(inventory: Inventory) -> dict[str, str]:
    return {r.name: r.inputs["userDataBase64"] for r in inventory.of_type(INSTANCE)}
