"""Security posture: the rule graph, IAM, secrets kept out of user data/tags/outputs, and nodes
that never wait for the database or the load balancer."""

from __future__ import annotations

import json

import pulumi
import pytest

import components.cluster
from components.database import Database
from components.node import Node
from offline.engine import Inventory
from tests.infra.support import (
    ACCESS_KEY, ALB, BUCKET, BUCKET_POLICY, EGRESS, ENI, GROUP, GROUP_MEMBERSHIP, GROUP_POLICY, INGRESS, INSTANCE,
    RANDOM_PASSWORD, RDS, RECORD, ROLE, ROLE_ATTACHMENT, ROLE_POLICY, SECRET, SECRET_VERSION, SG, TG_ATTACHMENT,
    USER, build, named, node_json, stack, user_data_text,
)

ANYWHERE = "0.0.0.0/0"


# --- the security-group rule graph -------------------------------------------------------------

def rule_graph(inventory: Inventory) -> set[tuple]:
    """(group, direction, protocol, from, to, peer) for every rule; groups by their role."""
    labels = {
        inventory.outputs["nodeSecurityGroupId"]: "nodes",
        inventory.outputs["databaseSecurityGroupId"]: "db",
        inventory.of_type(ALB)[0].inputs["securityGroups"][0]: "alb",
    }
    assert len(labels) == 3 and set(labels) == {g.id for g in inventory.of_type(SG)}
    graph = set()
    for type_token, direction in ((INGRESS, "in"), (EGRESS, "out")):
        for rule in inventory.of_type(type_token):
            i = rule.inputs
            assert i.get("description"), rule.name
            peer = labels[i["referencedSecurityGroupId"]] if "referencedSecurityGroupId" in i else i["cidrIpv4"]
            graph.add((labels[i["securityGroupId"]], direction, i["ipProtocol"], i["fromPort"], i["toPort"], peer))
    return graph


def expected_graph(cidrs, http, https, cluster) -> set[tuple]:
    """`http` is the product's HTTP port when the ALB forwards HTTP to the workers, else None."""
    def tcp(group, direction, port, peer):
        return (group, direction, "tcp", port, port, peer)

    forwarded_http = set() if http is None else {tcp("alb", "out", http, "nodes"), tcp("nodes", "in", http, "alb")}
    return {
        *(tcp("alb", "in", port, cidr) for cidr in cidrs for port in (80, 443)),
        *forwarded_http,
        tcp("alb", "out", https, "nodes"),
        tcp("nodes", "in", https, "alb"),
        tcp("nodes", "in", cluster, "nodes"),
        tcp("nodes", "out", 443, ANYWHERE),
        tcp("nodes", "out", 3306, "db"),
        tcp("nodes", "out", cluster, "nodes"),
        tcp("db", "in", 3306, "nodes"),
    }


@pytest.mark.parametrize("stack_name", ["dev", "prod"])
def test_security_group_rules_are_exactly_the_designed_graph(stack_name):
    inventory = stack(stack_name)
    rules = len(inventory.of_type(INGRESS)) + len(inventory.of_type(EGRESS))
    graph = rule_graph(inventory)
    assert len(graph) == rules  # no duplicate rules
    # dev forwards HTTP to the workers on 9763; prod redirects it, so 9763 stays closed
    http = {"dev": 9763, "prod": None}[stack_name]
    assert graph == expected_graph([ANYWHERE], http, 9443, 5701)


def test_rules_follow_client_cidrs_port_offset_and_cluster_port():
    inventory = stack("dev", allowedClientCidrs='["203.0.113.0/24", "198.51.100.0/24"]', portOffset=10,
                      clusterPort=5710)
    assert rule_graph(inventory) == expected_graph(["203.0.113.0/24", "198.51.100.0/24"], 9773, 9453, 5710)


@pytest.mark.parametrize("mode", ["forward", "redirect"])
def test_product_http_port_is_open_between_alb_and_nodes_only_when_http_is_forwarded(mode):
    inventory = stack("dev", httpMode=mode, portOffset=10)
    graph = rule_graph(inventory)
    http_rules = {rule for rule in graph if 9773 in rule[3:5]}
    if mode == "forward":
        assert http_rules == {("alb", "out", "tcp", 9773, 9773, "nodes"), ("nodes", "in", "tcp", 9773, 9773, "alb")}
    else:
        assert http_rules == set()
    assert graph == expected_graph([ANYWHERE], 9773 if mode == "forward" else None, 9453, 5701)


def test_svn_over_http_opens_port_80_to_the_nodes_only():
    inventory = stack("dev", deploymentSynchronizer="svn", svnUrl="http://svn.example.com/repos/as",
                      svnUser="wso2", svnPassword="svn-pass")
    extra = rule_graph(inventory) - expected_graph([ANYWHERE], 9763, 9443, 5701)
    assert extra == {("nodes", "out", "tcp", 80, 80, ANYWHERE)}


@pytest.mark.parametrize("stack_name", ["dev", "prod"])
def test_groups_have_descriptions_and_sit_where_they_belong(stack_name):
    inventory = stack(stack_name)
    assert all(g.inputs.get("description") for g in inventory.of_type(SG))
    assert all(g.inputs["vpcId"] == inventory.outputs["vpcId"] for g in inventory.of_type(SG))
    assert not any(g.inputs.get("ingress") or g.inputs.get("egress") for g in inventory.of_type(SG))
    assert inventory.of_type(RDS)[0].inputs["vpcSecurityGroupIds"] == [inventory.outputs["databaseSecurityGroupId"]]
    assert {tuple(e.inputs["securityGroups"]) for e in inventory.of_type(ENI)} == {
        (inventory.outputs["nodeSecurityGroupId"],)}


# --- nodes never wait for the database or the load balancer --------------------------------------

def slow_dependencies(inventory: Inventory) -> list[tuple[str, str]]:
    """(instance, slow resource) for every instance that depends, directly or through others, on
    the RDS instance, the load balancer or the access-log bucket (and its policy)."""
    assert len(inventory.of_type(RDS)) == 1 and len(inventory.of_type(ALB)) == 1
    slow = inventory.of_type(RDS) + inventory.of_type(ALB) + inventory.of_type(BUCKET) + inventory.of_type(BUCKET_POLICY)
    return [(i.name, s.name) for i in inventory.of_type(INSTANCE) for s in slow if inventory.depends_on(i, s.urn)]


@pytest.mark.parametrize("stack_name", ["dev", "prod"])
@pytest.mark.parametrize("scheme", ["aws", "wka"])
def test_no_instance_depends_on_the_database_or_the_load_balancer(stack_name, scheme):
    inventory = stack(stack_name, membershipScheme=scheme)
    assert inventory.of_type(INSTANCE) and len(inventory.of_type(BUCKET)) == 1
    assert slow_dependencies(inventory) == []
    # depends_on does see real edges: the alias needs RDS, the attachments need the instances
    rds = inventory.of_type(RDS)[0]
    assert inventory.depends_on(inventory.of_type(RECORD)[0], rds.urn)
    attachment = inventory.of_type(TG_ATTACHMENT)[0]
    assert any(inventory.depends_on(attachment, i.urn) for i in inventory.of_type(INSTANCE))


def test_the_dependency_check_catches_a_node_wired_to_the_rds_address(monkeypatch):
    """Mutation: feed the RDS address into each node's user data; the check above must fail."""
    created: list[Database] = []

    class RecordingDatabase(Database):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            created.append(self)

    original_launch = Node.launch

    def launch_with_rds_address(self, user_data_base64):
        address = created[0].instance.address
        return original_launch(self, pulumi.Output.all(user_data_base64, address).apply(lambda v: v[0]))

    monkeypatch.setattr(components.cluster, "Database", RecordingDatabase)
    monkeypatch.setattr(Node, "launch", launch_with_rds_address)
    inventory = build("dev")
    assert len(slow_dependencies(inventory)) == 3  # manager + 2 workers, each on RDS


# --- identity ------------------------------------------------------------------------------------

def policy(resource) -> dict:
    return json.loads(resource.inputs["policy"])


def test_instance_role_reads_only_its_secrets_and_artifacts():
    inventory = stack("dev")
    role = named(inventory, ROLE, "-node-role")
    assert json.loads(role.inputs["assumeRolePolicy"])["Statement"] == [
        {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]
    assert [a.inputs["policyArn"] for a in inventory.of_type(ROLE_ATTACHMENT) if a.inputs["role"] == role.outputs["name"]] == [
        "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"]
    node_policy = named(inventory, ROLE_POLICY, "-node-policy")
    assert node_policy.inputs["role"] == role.id
    statements = {s["Sid"]: s for s in policy(node_policy)["Statement"]}
    assert set(statements) == {"ReadStackSecrets", "ReadArtifacts"}
    assert statements["ReadStackSecrets"]["Action"] == "secretsmanager:GetSecretValue"
    assert sorted(statements["ReadStackSecrets"]["Resource"]) == sorted(s.outputs["arn"] for s in inventory.of_type(SECRET))
    # the product zip is in S3, the JDBC driver on Maven Central (https): one exact object ARN
    assert statements["ReadArtifacts"] == {"Sid": "ReadArtifacts", "Effect": "Allow", "Action": "s3:GetObject",
                                           "Resource": ["arn:aws:s3:::example-wso2-artifacts/wso2as-5.3.0.zip"]}


def test_discovery_user_may_only_describe_instances_through_its_group():
    inventory = stack("dev")
    (user,) = inventory.of_type(USER)
    # FSBP IAM.2: no policy attached to the user; the permission comes from its one group
    assert [r.type for r in inventory.resources if r.type.startswith(("aws:iam/userPolicy", "aws:iam/policyAttachment"))] == []
    (group,), (group_policy,), (membership,) = (
        inventory.of_type(GROUP), inventory.of_type(GROUP_POLICY), inventory.of_type(GROUP_MEMBERSHIP))
    assert group_policy.inputs["group"] == group.outputs["name"]
    assert policy(group_policy)["Statement"] == [
        {"Sid": "ClusterDiscovery", "Effect": "Allow", "Action": "ec2:DescribeInstances", "Resource": "*"}]
    assert (membership.inputs["user"], membership.inputs["groups"]) == (user.outputs["name"], [group.outputs["name"]])
    # nodes boot only once the key may discover (policy and membership exist)
    for instance in inventory.of_type(INSTANCE):
        assert inventory.depends_on(instance, group_policy.urn) and inventory.depends_on(instance, membership.urn)
    (key,) = inventory.of_type(ACCESS_KEY)
    stored = {v.inputs["secretString"] for v in inventory.of_type(SECRET_VERSION)}
    assert {key.outputs["id"], key.outputs["secret"]} <= stored


def test_instance_role_discovery_needs_no_user():
    inventory = stack("dev", discoveryCredentials="instanceRole")
    assert inventory.of_type(USER) == [] and inventory.of_type(ACCESS_KEY) == []
    assert inventory.of_type(GROUP) == [] and inventory.of_type(GROUP_POLICY) == []
    statements = {s["Sid"]: s for s in policy(named(inventory, ROLE_POLICY, "-node-policy"))["Statement"]}
    assert statements["ClusterDiscovery"] == {"Sid": "ClusterDiscovery", "Effect": "Allow",
                                              "Action": "ec2:DescribeInstances", "Resource": "*"}
    assert len(statements["ReadStackSecrets"]["Resource"]) == 1  # the database password only
    role_name = named(inventory, ROLE, "-node-role").outputs["name"]
    for instance in inventory.of_type(INSTANCE):
        discovery = node_json(instance)["cluster"]["aws"]
        assert (discovery["credentials"], discovery["iamRole"]) == ("instanceRole", role_name)
        assert set(node_json(instance)["secretArns"]) == {"dbPassword"}


# --- secrets -------------------------------------------------------------------------------------

CONFIG_PASSWORD = "Config-Secret-Pw-4711"


def all_tags(inventory: Inventory) -> str:
    tags = []
    for r in inventory.resources:
        tags.append(r.inputs.get("tags") or {})
        tags.append((r.inputs.get("rootBlockDevice") or {}).get("tags") or {})
    return json.dumps(tags)


@pytest.mark.parametrize("password_in_config", [False, True])
def test_no_secret_value_reaches_user_data_tags_or_outputs(password_in_config):
    overrides = {"dbPassword": CONFIG_PASSWORD} if password_in_config else {}
    inventory = build("dev", overrides, secret_keys=("wso2-cluster:dbPassword",) if password_in_config else ())
    (key,) = inventory.of_type(ACCESS_KEY)
    generated = inventory.of_type(RANDOM_PASSWORD)
    db_password = CONFIG_PASSWORD if password_in_config else generated[0].outputs["result"]
    assert len(generated) == (0 if password_in_config else 1)
    secrets = [db_password, key.outputs["secret"], key.outputs["id"]]
    assert all(len(s) >= 16 for s in secrets)

    # positive control: the values are there, in Secrets Manager and RDS, marked secret
    rds = inventory.of_type(RDS)[0]
    assert rds.inputs["password"] == db_password and "password" in rds.secret_inputs
    versions = inventory.of_type(SECRET_VERSION)
    assert {v.inputs["secretString"] for v in versions} == set(secrets)
    assert all("secretString" in v.secret_inputs for v in versions)

    user_data = "\n".join(user_data_text(i) + i.inputs["userDataBase64"] for i in inventory.of_type(INSTANCE))
    tags = all_tags(inventory)
    outputs = json.dumps({k: v for k, v in inventory.raw_outputs.items() if k not in inventory.secret_outputs})
    assert inventory.secret_outputs == frozenset()
    for value in secrets:
        assert value not in user_data
        assert value not in tags
        assert value not in outputs


def test_secrets_recovery_window_depends_on_the_stack():
    assert {s.inputs["recoveryWindowInDays"] for s in stack("dev").of_type(SECRET)} == {0}
    assert {s.inputs["recoveryWindowInDays"] for s in stack("prod").of_type(SECRET)} == {7}


def test_generated_password_is_rds_safe():
    (password,) = stack("dev").of_type(RANDOM_PASSWORD)
    specials = password.inputs["overrideSpecial"]
    assert password.inputs["special"] is True and password.inputs["length"] >= 16
    assert not set(specials) & set("/@\"' ")


def test_svn_password_goes_to_secrets_manager_only():
    inventory = stack("dev", deploymentSynchronizer="svn", svnUrl="https://svn.example.com/repos/as",
                      svnUser="wso2", svnPassword="svn-secret-password")
    assert "svn-secret-password" in {v.inputs["secretString"] for v in inventory.of_type(SECRET_VERSION)}
    for instance in inventory.of_type(INSTANCE):
        assert "svn-secret-password" not in user_data_text(instance)
        document = node_json(instance)
        assert "svnPassword" in document["secretArns"]
        assert document["deploymentSync"] == {"enabled": True, "svnUrl": "https://svn.example.com/repos/as",
                                              "svnUser": "wso2"}
    assert "svn-secret-password" not in all_tags(inventory)
