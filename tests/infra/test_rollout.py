"""Rolling, health-gated node changes, read from the dependency graph the program declares.

A node-replacing or restarting change goes the manager alone, then at most maxUnavailableWorkers
workers at a time: every instance of a batch depends on every health gate of the batch before,
and Pulumi registers (replaces, updates) a resource only after what it depends on has finished.
Each gate waits, on update, for its own node; on create it waits for nothing.
"""

from __future__ import annotations

import pytest

from offline.engine import Inventory
from offline.waves import launch_waves
from tests.infra.support import (
    ALB,
    DATABASE_GUARD,
    HEALTH_GATE,
    INSTANCE,
    RDS,
    STASH,
    TARGET_GROUP,
    TG_ATTACHMENT,
    gates,
    nodes,
    stack,
)


@pytest.mark.parametrize(
    "stack_name,overrides,expected",
    [
        ("dev", {}, [["manager"], ["worker-1"], ["worker-2"]]),
        ("prod", {}, [["manager"], ["worker-1"], ["worker-2"], ["worker-3"], ["worker-4"]]),
        (
            "dev",
            {"workerCount": 5},
            [["manager"], ["worker-1"], ["worker-2"], ["worker-3"], ["worker-4"], ["worker-5"]],
        ),
        (
            "dev",
            {"workerCount": 5, "maxUnavailableWorkers": 2},
            [["manager"], ["worker-1", "worker-2"], ["worker-3", "worker-4"], ["worker-5"]],
        ),
        (
            "prod",
            {"workerCount": 8},
            [
                ["manager"],
                ["worker-1", "worker-2"],
                ["worker-3", "worker-4"],
                ["worker-5", "worker-6"],
                ["worker-7", "worker-8"],
            ],
        ),  # a quarter, by default
        ("dev", {"workerCount": 3, "maxUnavailableWorkers": 3}, [["manager"], ["worker-1", "worker-2", "worker-3"]]),
    ],
)
def test_the_manager_goes_alone_then_at_most_max_unavailable_workers_at_a_time(stack_name, overrides, expected):
    inventory = stack(stack_name, **overrides)
    waves = launch_waves(inventory)
    assert waves == expected
    workers = [name for name in nodes(inventory) if name != "manager"]
    limit = overrides.get("maxUnavailableWorkers", max(1, len(workers) // 4))
    assert all(len(wave) <= limit for wave in waves[1:])


@pytest.mark.parametrize("stack_name", ["dev", "prod"])
def test_every_node_has_a_gate_on_its_own_instance_in_each_of_its_target_groups(stack_name):
    inventory = stack(stack_name, workerCount=3)
    found, by_gate = nodes(inventory), gates(inventory)
    assert set(by_gate) == set(found)
    groups = {g.outputs["arn"]: g for g in inventory.of_type(TARGET_GROUP)}
    attachments = inventory.of_type(TG_ATTACHMENT)
    instance_type = {"dev": ("t3.medium", "t3.medium"), "prod": ("m7i.large", "m7i.xlarge")}[stack_name]
    for name, instance in found.items():
        gate = by_gate[name]
        own = [a for a in attachments if a.inputs["targetId"] == instance.id]
        assert own and {a.urn for a in own} <= gate.dependencies  # registered before the gate can wait
        revision = instance_type[0] if name == "manager" else instance_type[1]
        assert sorted(gate.inputs["targets"], key=lambda t: t["targetGroupArn"]) == sorted(
            (
                {
                    "node": name,
                    "instanceId": instance.id,
                    "targetGroupArn": a.inputs["targetGroupArn"],
                    "port": a.inputs["port"],
                    "revision": revision,
                }
                for a in own
            ),
            key=lambda t: t["targetGroupArn"],
        )
        assert all(groups[t["targetGroupArn"]].inputs["port"] == t["port"] for t in gate.inputs["targets"])
        assert (gate.inputs["region"], gate.inputs["timeoutSeconds"], gate.inputs["pollSeconds"]) == (
            "eu-west-1",
            20 * 60,
            15,
        )
        assert gate.parent == inventory.by_urn(instance.parent).urn  # grouped with its node


def test_the_health_timeout_is_configurable():
    assert {g.inputs["timeoutSeconds"] for g in stack("dev", nodeHealthTimeoutMinutes=45).of_type(HEALTH_GATE)} == {
        45 * 60
    }


@pytest.mark.parametrize("stack_name", ["dev", "prod"])
def test_gates_keep_nodes_off_the_database_and_the_load_balancer(stack_name):
    """Gates wait on target groups (which need only the VPC), never on the ALB or RDS: a first
    deploy still creates EC2, the ALB and RDS in parallel. The first batch waits for the guard."""
    inventory = stack(stack_name)
    (rds,), (alb,), (guard,) = inventory.of_type(RDS), inventory.of_type(ALB), inventory.of_type(DATABASE_GUARD)
    for resource in inventory.of_type(INSTANCE) + inventory.of_type(HEALTH_GATE):
        assert not inventory.depends_on(resource, rds.urn) and not inventory.depends_on(resource, alb.urn), (
            resource.name
        )
    assert guard.urn in nodes(inventory)["manager"].dependencies
    assert guard.dependencies == frozenset()  # the guard itself waits for nothing


@pytest.mark.parametrize("overrides", [{}, {"membershipScheme": "wka"}, {"maxUnavailableWorkers": 2}])
def test_a_new_worker_changes_no_existing_gate_or_instance(overrides):
    """Scale-outs do not wait: the new node's gate is created (no wait), every other gate keeps
    its inputs, so none of them updates (waits)."""
    before, after = stack("dev", workerCount=3, **overrides), stack("dev", workerCount=4, **overrides)
    for kind in (HEALTH_GATE, INSTANCE):
        old = {r.urn: r for r in before.of_type(kind)}
        new = {r.urn: r for r in after.of_type(kind)}
        assert len(set(new) - set(old)) == 1
        for urn, resource in old.items():
            assert new[urn].inputs == resource.inputs, urn
            assert new[urn].dependencies == resource.dependencies, urn


def test_a_new_batch_size_reorders_the_rollout_but_makes_no_gate_wait():
    before, after = stack("dev", workerCount=4), stack("dev", workerCount=4, maxUnavailableWorkers=2)
    assert launch_waves(before) != launch_waves(after)
    old = {g.urn: g.inputs for g in before.of_type(HEALTH_GATE)}
    assert {g.urn: g.inputs for g in after.of_type(HEALTH_GATE)} == old


def changed_inputs(before: Inventory, after: Inventory, kind: str) -> dict[str, set[str]]:
    old = {r.urn: r for r in before.of_type(kind)}
    return {
        r.name: {k for k in set(r.inputs) | set(old[r.urn].inputs) if r.inputs.get(k) != old[r.urn].inputs.get(k)}
        for r in after.of_type(kind)
        if r.urn in old
    }


def test_an_instance_type_change_replaces_the_workers_in_order_each_drained_and_gated():
    # with the heap pinned, only the type changes: a replacement still (replaceOnChanges), not a
    # stop and start in place, which would cut off the requests in flight
    before = stack("prod", workerHeapMb=4096)
    after = stack("prod", workerHeapMb=4096, workerInstanceType="m7i.2xlarge")
    instances = changed_inputs(before, after, INSTANCE)
    assert {name: keys for name, keys in instances.items() if keys} == {
        f"prod-worker-{i}-instance": {"instanceType"} for i in range(1, 5)
    }
    assert all(i.options["replaceOnChanges"] == ["instanceType"] for i in after.of_type(INSTANCE))
    gate_changes = {name for name, keys in changed_inputs(before, after, HEALTH_GATE).items() if keys}
    assert gate_changes == {f"prod-worker-{i}-health-gate" for i in range(1, 5)}  # each restarted node waits
    assert launch_waves(after) == [["manager"], ["worker-1"], ["worker-2"], ["worker-3"], ["worker-4"]]


def test_an_architecture_change_replaces_every_node_onto_an_image_it_can_boot():
    before = stack("dev")
    after = stack("dev", architecture="arm64", managerInstanceType="m7g.large", workerInstanceType="m7g.large")
    (old_ami,), (new_ami,) = before.of_type(STASH), after.of_type(STASH)
    # a stash per architecture: the new one holds the latest arm64 AL2023 (the mock's value)
    assert old_ami.urn != new_ami.urn and new_ami.outputs["output"] == "ami-0f1e2d3c4b5a69788"
    for name, keys in changed_inputs(before, after, INSTANCE).items():
        assert {"ami", "instanceType"} <= keys, name  # a new AMI replaces the instance
    assert {i.inputs["ami"] for i in after.of_type(INSTANCE)} == {"ami-0f1e2d3c4b5a69788"}
    assert all(i.options["deleteBeforeReplace"] for i in after.of_type(INSTANCE))
    assert launch_waves(after) == [["manager"], ["worker-1"], ["worker-2"]]


@pytest.mark.parametrize(
    "key,value",
    [
        ("productArtifactUrl", "s3://example-wso2-artifacts/wso2as-5.3.0-patched.zip"),
        ("clusterDomain", "wso2.as.other"),
        ("serviceHostName", "svc.dev.example.com"),
        ("portOffset", 1),
        ("privateZoneName", "corp.internal"),
    ],
)
def test_a_change_every_node_sees_replaces_every_node_behind_the_gates(key, value):
    """The user data of every node changes (a replacement, with user_data_replace_on_change),
    and the order is the gated one: no two nodes of different batches at once."""
    before, after = stack("dev", workerCount=3), stack("dev", workerCount=3, **{key: value})
    assert {name for name, keys in changed_inputs(before, after, INSTANCE).items() if "userDataBase64" in keys} == {
        f"dev-{node}-instance" for node in ("manager", "worker-1", "worker-2", "worker-3")
    }
    assert all(i.inputs["userDataReplaceOnChange"] for i in after.of_type(INSTANCE))
    assert launch_waves(after) == [["manager"], ["worker-1"], ["worker-2"], ["worker-3"]]


@pytest.mark.parametrize("stack_name", ["dev", "prod"])
def test_every_registration_drains_before_its_instance_is_deleted(stack_name):
    """Each attachment runs the stack's one drain hook after its delete (deregistration), and
    depends on its instance, so the engine deletes the instance only after the node drained."""
    inventory = stack(stack_name)
    attachments = inventory.of_type(TG_ATTACHMENT)
    instance_urns = {i.id: i.urn for i in inventory.of_type(INSTANCE)}
    assert attachments
    for attachment in attachments:
        assert attachment.options["hooks"] == {"after_delete": [f"{stack_name}-drain"]}
        assert instance_urns[attachment.inputs["targetId"]] in attachment.dependencies
    assert {g.inputs["deregistrationDelay"] for g in inventory.of_type(TARGET_GROUP)} == {30}
