"""Guardrails for the properties the benchmarks measure (properties, not timings)."""

from __future__ import annotations

import pytest

from bench.critical_path import create_seconds, longest_chains
from bench.scale import INSTANCE, added_resources, changed_resources, user_data_by_node
from offline.program import run_stack

RDS = "aws:rds/instance:Instance"
ALB = "aws:lb/loadBalancer:LoadBalancer"
ATTACHMENT = "aws:lb/targetGroupAttachment:TargetGroupAttachment"


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_no_node_waits_on_the_database_or_the_load_balancer(stack):
    inventory = run_stack(stack)
    chains = longest_chains(inventory)
    slow = {r.urn for r in inventory.resources if r.type in (RDS, ALB)}
    assert len(slow) == 2
    instances = inventory.of_type(INSTANCE)
    assert instances
    for instance in instances:
        chain = chains[instance.urn]
        assert not slow & {r.urn for r in chain.resources}, chain.describe()
        # ... so every node can be running before the database alone could be.
        assert chain.seconds < create_seconds(inventory.of_type(RDS)[0])


@pytest.mark.parametrize("stack,scheme,workers", [("dev", "aws", 2), ("dev", "wka", 2), ("prod", "aws", 4), ("prod", "wka", 1)])
def test_adding_a_worker_changes_no_existing_resource(stack, scheme, workers):
    before = run_stack(stack, {"workerCount": workers, "membershipScheme": scheme})
    after = run_stack(stack, {"workerCount": workers + 1, "membershipScheme": scheme})
    added = added_resources(before, after)
    assert len([u for u in added if INSTANCE in u]) == 1  # the new worker, nothing replaced
    changes = changed_resources(before, after)
    # Goal: nothing but the load balancer's target attachments may change.
    assert [c for c in changes if c.type != ATTACHMENT] == []


def test_rendering_is_deterministic():
    first = user_data_by_node(run_stack("prod"))
    second = user_data_by_node(run_stack("prod"))
    assert len(first) == 5 and first == second
