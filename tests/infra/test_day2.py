"""Risky changes made safe: a database replacement refused unless allowed, engine major upgrades,
secret changes that reach the nodes, and a master password that RDS has before anyone reads it."""

from __future__ import annotations

import json

import pulumi.dynamic
import pytest

from components.database_guard import DatabaseGuardProvider
from tests.infra.support import (
    DATABASE_GUARD,
    INSTANCE,
    PARAMETER_GROUP,
    RANDOM_ID,
    RDS,
    SECRET,
    SECRET_VERSION,
    build,
    node_json,
    nodes,
    stack,
)

GUARD = {"username": "wso2admin", "engineVersion": "8.4", "allowReplacement": False}


# --- the database guard: its provider, exactly as Pulumi's dynamic-provider host calls it ----------


def check(olds: dict, news: dict) -> list[tuple[str, str]]:
    result = DatabaseGuardProvider().check(olds, news)
    assert isinstance(result, pulumi.dynamic.CheckResult) and result.inputs == news
    return [(failure.property, failure.reason) for failure in result.failures]


def test_a_change_that_would_replace_the_database_is_refused_with_one_line():
    failures = check(GUARD, {**GUARD, "username": "wso2root"})
    assert failures == [
        (
            "username",
            "changing wso2-cluster:dbUsername from wso2admin to wso2root would replace the database and "
            "lose its data; set wso2-cluster:dbAllowReplacement true to allow it (take a snapshot first)",
        )
    ]
    assert "\n" not in failures[0][1]


def test_an_explicitly_allowed_replacement_passes():
    assert check(GUARD, {**GUARD, "username": "wso2root", "allowReplacement": True}) == []


def test_a_first_deploy_and_unchanged_settings_pass():
    assert check({}, GUARD) == []
    assert check(GUARD, GUARD) == []
    assert check(GUARD, {**GUARD, "engineVersion": "8.4.7"}) == []  # a minor version is no concern


def test_an_engine_downgrade_is_refused_because_rds_cannot_make_it():
    (failure,) = check({**GUARD, "engineVersion": "8.4.7"}, {**GUARD, "engineVersion": "8.0.44"})
    assert failure == (
        "engineVersion",
        "RDS cannot downgrade MySQL 8.4 to 8.0 (wso2-cluster:dbEngineVersion); "
        "restore a snapshot into a new stack instead",
    )


@pytest.mark.parametrize(
    "old,new,upgrade",
    [("8.0.44", "8.4", True), ("8.0", "8.4.7", True), ("8.4", "8.4.7", False), ("8.0.42", "8.0.44", False)],
)
def test_the_guard_marks_an_engine_major_upgrade_for_that_update_only(old, new, upgrade):
    provider = DatabaseGuardProvider()
    assert provider.create(GUARD).outs["majorUpgrade"] is False
    olds, news = {**GUARD, "engineVersion": old}, {**GUARD, "engineVersion": new}
    assert provider.diff("database-guard", olds, news).replaces == []  # never replaced: it has no state to lose
    assert provider.update("database-guard", olds, news).outs == {**news, "majorUpgrade": upgrade}
    # the next update (same version) clears the flag again
    assert provider.update("database-guard", news, news).outs["majorUpgrade"] is False


# --- what the program declares around it -------------------------------------------------------


def test_the_database_and_the_guard_see_a_username_change():
    before, after = stack("dev"), stack("dev", dbUsername="wso2root")
    (old_id,), (new_id,) = before.of_type(RANDOM_ID), after.of_type(RANDOM_ID)
    # the identifier's suffix is keyed on what replaces the database: a new database, a new name
    assert (old_id.inputs["keepers"], new_id.inputs["keepers"]) == ({"username": "wso2admin"}, {"username": "wso2root"})
    assert after.of_type(DATABASE_GUARD)[0].inputs["username"] == "wso2root"
    assert after.of_type(RDS)[0].inputs["username"] == "wso2root"
    assert stack("dev", dbAllowReplacement=True).of_type(DATABASE_GUARD)[0].inputs["allowReplacement"] is True


def test_an_engine_major_upgrade_gets_a_parameter_group_of_the_new_family():
    before, after = stack("dev", dbEngineVersion="8.0.44"), stack("dev")
    assert before.of_type(PARAMETER_GROUP)[0].inputs["family"] == "mysql8.0"
    assert after.of_type(PARAMETER_GROUP)[0].inputs["family"] == "mysql8.4"
    # auto-named, so the new group is created before the old one is deleted
    assert "name" not in after.of_type(PARAMETER_GROUP)[0].inputs
    (rds,) = after.of_type(RDS)
    assert rds.inputs["engineVersion"] == "8.4"
    # allow_major_version_upgrade comes from the guard: false except in the update that upgrades
    (guard,) = after.of_type(DATABASE_GUARD)
    assert guard.urn in rds.dependencies and rds.inputs["allowMajorVersionUpgrade"] is False


# --- secrets ----------------------------------------------------------------------------------


def secret_versions(inventory, instance) -> dict[str, str]:
    return {name: ref["versionId"] for name, ref in node_json(instance)["secrets"].items()}


def test_a_changed_admin_password_rolls_through_every_node():
    before = build("dev", {"adminPassword": "First-Admin-Pw-1"}, secret_keys=("wso2-cluster:adminPassword",))
    after = build("dev", {"adminPassword": "Second-Admin-Pw-2"}, secret_keys=("wso2-cluster:adminPassword",))
    for name, instance in nodes(after).items():
        old = secret_versions(before, nodes(before)[name])
        new = secret_versions(after, instance)
        assert old["adminPassword"] != new["adminPassword"], name  # the node reads the new version ...
        assert {k: v for k, v in old.items() if k != "adminPassword"} == {
            k: v for k, v in new.items() if k != "adminPassword"
        }
        assert (
            nodes(before)[name].inputs["userDataBase64"] != instance.inputs["userDataBase64"]
        )  # ... so it is replaced


def test_a_changed_master_password_reaches_rds_and_no_node():
    """RDS takes a new master password in place; only the manager's boot uses it, reading the
    current version, which is stored only after RDS has the password."""
    before = build("dev", {"dbPassword": "First-Master-Pw-1"}, secret_keys=("wso2-cluster:dbPassword",))
    after = build("dev", {"dbPassword": "Second-Master-Pw-2"}, secret_keys=("wso2-cluster:dbPassword",))
    assert after.of_type(RDS)[0].inputs["password"] == "Second-Master-Pw-2"
    for name, instance in nodes(after).items():
        assert instance.inputs["userDataBase64"] == nodes(before)[name].inputs["userDataBase64"], name
    master_arn = after.outputs["databaseSecretArn"]
    (master,) = [v for v in after.of_type(SECRET_VERSION) if v.inputs["secretId"] == master_arn]
    assert master.inputs["secretString"] == "Second-Master-Pw-2"
    rds = after.of_type(RDS)[0]
    assert rds.urn in master.dependencies  # RDS has it before the secret holds it
    for instance in after.of_type(INSTANCE):  # and no node waits for that (nor, through it, for RDS)
        assert not after.depends_on(instance, master.urn)


def test_nodes_boot_only_once_the_values_they_pin_are_stored():
    inventory = stack("dev")
    versions = {v.inputs["secretId"]: v for v in inventory.of_type(SECRET_VERSION)}
    for instance in inventory.of_type(INSTANCE):
        for name, ref in node_json(instance)["secrets"].items():
            if ref["versionId"] is not None:
                assert versions[ref["arn"]].urn in instance.dependencies, name
    assert {s.name for s in inventory.of_type(SECRET)} == {
        "dev-db-password",
        "dev-db-app-password",
        "dev-admin-password",
        "dev-discovery-access-key",
        "dev-discovery-secret-key",
    }
    assert json.dumps(inventory.outputs).count("arn:aws:secretsmanager") == 3  # ARNs only, never values


# --- the JVM heap follows the instance ----------------------------------------------------------


def test_each_node_gets_the_heap_its_instance_type_leaves_and_a_type_change_rolls_it():
    # t3.medium 4 GiB, t3.large 8 GiB, m7i.2xlarge 32 GiB (moto's DescribeInstanceTypes data):
    # memory - max(512 MiB, 5%) for the OS and agents - 768 MiB non-heap, in whole 256 MiB
    small = stack("dev")  # t3.medium nodes
    mixed = stack("dev", managerInstanceType="m7i.2xlarge", workerInstanceType="t3.large")
    pinned = stack("dev", managerInstanceType="m7i.2xlarge", managerHeapMb="4096")
    assert {name: node_json(i)["heapMb"] for name, i in nodes(small).items()} == {
        "manager": 2816,
        "worker-1": 2816,
        "worker-2": 2816,
    }
    assert {name: node_json(i)["heapMb"] for name, i in nodes(mixed).items()} == {
        "manager": 30208,
        "worker-1": 6912,
        "worker-2": 6912,
    }
    assert node_json(nodes(pinned)["manager"])["heapMb"] == 4096
    # a new heap is new user data: the node is replaced (rolling), not restarted on the old heap
    for name in ("manager", "worker-1"):
        assert nodes(small)[name].inputs["userDataBase64"] != nodes(mixed)[name].inputs["userDataBase64"]
