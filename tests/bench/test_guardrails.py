"""Guardrails for the properties the benchmarks measure (properties, not timings)."""

from __future__ import annotations

import pytest

from bench.critical_path import create_seconds, longest_chains
from bench.scale import INSTANCE, added_resources, changed_resources, user_data_by_node
from bench.serving import drains, replace_every_node, requests_dropped, time_to_serving
from offline.program import run_stack
from tests.runs import stack

RDS = "aws:rds/instance:Instance"
ALB = "aws:lb/loadBalancer:LoadBalancer"
ATTACHMENT = "aws:lb/targetGroupAttachment:TargetGroupAttachment"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
DASHBOARD = "aws:cloudwatch/dashboard:Dashboard"


@pytest.mark.parametrize("stack_name", ["dev", "prod"])
def test_no_node_waits_on_the_database_or_the_load_balancer(stack_name):
    inventory = stack(stack_name)
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


@pytest.mark.parametrize(
    "stack_name,scheme,workers", [("dev", "aws", 2), ("dev", "wka", 2), ("prod", "aws", 4), ("prod", "wka", 1)]
)
def test_adding_a_worker_changes_no_existing_resource(stack_name, scheme, workers):
    before = stack(stack_name, workerCount=workers, membershipScheme=scheme)
    after = stack(stack_name, workerCount=workers + 1, membershipScheme=scheme)
    added = added_resources(before, after)
    assert len([u for u in added if INSTANCE in u]) == 1  # the new worker, nothing replaced
    changes = changed_resources(before, after)
    # Nothing may change but what counts the nodes: the healthy-hosts and connection alarms'
    # thresholds, and the dashboard's list of nodes.
    assert [
        c
        for c in changes
        if not (
            c.type == ALARM
            and set(c.keys) <= {"threshold", "alarmDescription"}
            or c.type == DASHBOARD
            and c.keys == ("dashboardBody",)
        )
    ] == []
    assert any(c.type == ALARM for c in changes)  # (the comparison does see changes)


def test_rendering_is_deterministic():
    first = user_data_by_node(run_stack("prod"))
    second = user_data_by_node(run_stack("prod"))
    assert len(first) == 5 and first == second


@pytest.mark.parametrize("stack_name,workers", [("dev", None), ("prod", None), ("dev", 50), ("prod", 50)])
def test_health_gates_cost_a_first_deploy_at_most_ten_percent(stack_name, workers):
    """Under the stated model (bench/serving.py), nodes wait for the database anyway: the gates'
    serialised launches must not make the cluster serve later by more than 10%."""
    inventory = stack(stack_name, **({"workerCount": workers} if workers else {}))
    gated, free = time_to_serving(inventory), time_to_serving(inventory, with_gates=False)
    assert gated.last_node_running > free.last_node_running  # (the gates do serialise the launches)
    assert gated.seconds <= 1.10 * free.seconds
    # and the cluster serves at most 3 minutes after the database is ready
    assert gated.seconds <= gated.database_ready + 180


@pytest.mark.parametrize("stack_name,workers", [("dev", None), ("prod", None), ("dev", 50)])
def test_a_change_that_replaces_every_node_keeps_the_service_up(stack_name, workers):
    inventory = stack(stack_name, **({"workerCount": workers} if workers else {}))
    rolling, at_once = replace_every_node(inventory)
    assert at_once.service_unavailable > 0  # (what it was before the gates)
    assert rolling.service_unavailable == 0 and rolling.batches >= 3
    # every worker drained, so no request dropped
    assert drains(inventory) and requests_dropped(inventory, drained=True) == 0
    assert requests_dropped(inventory, drained=False) > 0
