"""Security posture: the rule graph, IAM, secrets kept out of user data/tags/outputs, and nodes
that never wait for the database or the load balancer."""

from __future__ import annotations

import json

import pulumi
import pytest

from components.database import Database
from components.node import Node
from offline.engine import Inventory
from tests.infra.support import (
    ACCESS_KEY,
    ALB,
    BUCKET,
    BUCKET_POLICY,
    EGRESS,
    ENI,
    GROUP,
    GROUP_MEMBERSHIP,
    GROUP_POLICY,
    INGRESS,
    INSTANCE,
    LOG_GROUP,
    RANDOM_PASSWORD,
    RDS,
    RECORD,
    ROLE,
    ROLE_ATTACHMENT,
    ROLE_POLICY,
    SECRET,
    SECRET_VERSION,
    SG,
    SSM_PARAMETER,
    TG_ATTACHMENT,
    USER,
    build,
    named,
    node_json,
    nodes,
    stack,
    user_data_text,
)

ANYWHERE = "0.0.0.0/0"
SVN = {
    "deploymentSynchronizer": "svn",
    "svnUser": "wso2",
    "svnPassword": "svn-secret-password",
    "svnKitSha256": "a" * 64,
    "trileadSshSha256": "b" * 64,
}


# --- the security-group rule graph -------------------------------------------------------------


def rule_graph(inventory: Inventory) -> set[tuple]:
    """(group, direction, protocol, from, to, peer) for every rule; groups by their role."""
    labels = {
        inventory.outputs["nodeSecurityGroupId"]: "nodes",
        inventory.outputs["databaseSecurityGroupId"]: "db",
        inventory.of_type(ALB)[0].inputs["securityGroups"][0]: "alb",
    }
    for mount_target in inventory.of_type("aws:efs/mountTarget:MountTarget"):
        labels[mount_target.inputs["securityGroups"][0]] = "efs"
    assert set(labels) == {g.id for g in inventory.of_type(SG)}
    graph = set()
    for type_token, direction in ((INGRESS, "in"), (EGRESS, "out")):
        for rule in inventory.of_type(type_token):
            i = rule.inputs
            assert i.get("description"), rule.name
            peer = labels[i["referencedSecurityGroupId"]] if "referencedSecurityGroupId" in i else i["cidrIpv4"]
            graph.add((labels[i["securityGroupId"]], direction, i["ipProtocol"], i["fromPort"], i["toPort"], peer))
    return graph


def expected_graph(cidrs, http, https, cluster, efs=False) -> set[tuple]:
    """`http` is the product's HTTP port when the ALB forwards HTTP to the workers, else None;
    `cidrs` are the client and console sources together."""

    def tcp(group, direction, port, peer):
        return (group, direction, "tcp", port, port, peer)

    forwarded_http = set() if http is None else {tcp("alb", "out", http, "nodes"), tcp("nodes", "in", http, "alb")}
    shared_files = {tcp("nodes", "out", 2049, "efs"), tcp("efs", "in", 2049, "nodes")} if efs else set()
    return {
        *(tcp("alb", "in", port, cidr) for cidr in cidrs for port in (80, 443)),
        *forwarded_http,
        *shared_files,
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
    if stack_name == "dev":  # forwards HTTP to the workers on 9763; no console sources
        assert graph == expected_graph([ANYWHERE], 9763, 9443, 5701)
    else:  # redirects HTTP (9763 stays closed); the office range reaches the console; NFS to EFS
        assert graph == expected_graph([ANYWHERE, "203.0.113.0/24"], None, 9443, 5701, efs=True)


def test_rules_follow_client_cidrs_console_cidrs_port_offset_and_cluster_port():
    inventory = stack(
        "dev",
        allowedClientCidrs='["203.0.113.0/24", "198.51.100.0/24"]',
        portOffset=10,
        clusterPort=5710,
        managementAllowedCidrs='["192.0.2.0/28", "203.0.113.0/24"]',
    )
    # a console source already among the clients gets no second rule
    assert rule_graph(inventory) == expected_graph(
        ["203.0.113.0/24", "198.51.100.0/24", "192.0.2.0/28"], 9773, 9453, 5710
    )


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


def test_svn_on_its_own_https_port_opens_that_port_to_the_nodes_only():
    inventory = stack("dev", svnUrl="https://svn.example.com:8443/repos/as", **SVN)
    extra = rule_graph(inventory) - expected_graph([ANYWHERE], 9763, 9443, 5701)
    assert extra == {("nodes", "out", "tcp", 8443, 8443, ANYWHERE)}


@pytest.mark.parametrize("stack_name", ["dev", "prod"])
def test_groups_have_descriptions_and_sit_where_they_belong(stack_name):
    inventory = stack(stack_name)
    assert all(g.inputs.get("description") for g in inventory.of_type(SG))
    assert all(g.inputs["vpcId"] == inventory.outputs["vpcId"] for g in inventory.of_type(SG))
    assert not any(g.inputs.get("ingress") or g.inputs.get("egress") for g in inventory.of_type(SG))
    assert inventory.of_type(RDS)[0].inputs["vpcSecurityGroupIds"] == [inventory.outputs["databaseSecurityGroupId"]]
    assert {tuple(e.inputs["securityGroups"]) for e in inventory.of_type(ENI)} == {
        (inventory.outputs["nodeSecurityGroupId"],)
    }


# --- nodes never wait for the database or the load balancer --------------------------------------


def slow_dependencies(inventory: Inventory) -> list[tuple[str, str]]:
    """(instance, slow resource) for every instance that depends, directly or through others, on
    the RDS instance, the load balancer or the access-log bucket (and its policy)."""
    assert len(inventory.of_type(RDS)) == 1 and len(inventory.of_type(ALB)) == 1
    slow = (
        inventory.of_type(RDS) + inventory.of_type(ALB) + inventory.of_type(BUCKET) + inventory.of_type(BUCKET_POLICY)
    )
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
    original_init = Database.__init__

    def recording_init(self, *args, **kwargs):
        original_init(self, *args, **kwargs)
        created.append(self)

    original_launch = Node.launch

    def launch_with_rds_address(self, user_data_base64, waits_for):
        address = created[0].instance.address
        return original_launch(self, pulumi.Output.all(user_data_base64, address).apply(lambda v: v[0]), waits_for)

    monkeypatch.setattr(Database, "__init__", recording_init)
    monkeypatch.setattr(Node, "launch", launch_with_rds_address)
    inventory = build("dev")
    assert len(slow_dependencies(inventory)) == 3  # manager + 2 workers, each on RDS


# --- identity ------------------------------------------------------------------------------------


def policy(resource) -> dict:
    return json.loads(resource.inputs["policy"])


def node_role_statements(inventory: Inventory, role: str) -> dict[str, dict]:
    """The inline policy of the manager's or the workers' instance role, by statement id."""
    node_role = named(inventory, ROLE, f"-{role}-role")
    assert json.loads(node_role.inputs["assumeRolePolicy"])["Statement"] == [
        {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ]
    assert [
        a.inputs["policyArn"]
        for a in inventory.of_type(ROLE_ATTACHMENT)
        if a.inputs["role"] == node_role.outputs["name"]
    ] == ["arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"]
    node_policy = named(inventory, ROLE_POLICY, f"-{role}-policy")
    assert node_policy.inputs["role"] == node_role.id
    return {s["Sid"]: s for s in policy(node_policy)["Statement"]}


@pytest.mark.parametrize("role", ["manager", "worker"])
def test_node_roles_may_do_exactly_what_their_nodes_need(role):
    inventory = stack("dev")
    statements = node_role_statements(inventory, role)
    secrets = {s.name.removeprefix("dev-"): s.outputs["arn"] for s in inventory.of_type(SECRET)}
    readable = sorted(
        secrets[k] for k in ("db-app-password", "admin-password", "discovery-access-key", "discovery-secret-key")
    )
    if role == "manager":  # only the manager may read the master password (it creates users)
        readable = sorted(readable + [secrets["db-password"]])
    node_logs = sorted(
        g.outputs["arn"]
        for g in inventory.of_type(LOG_GROUP)
        if g.name.startswith("dev-") and g.outputs["name"].startswith("/wso2/wso2-cluster/dev/")
    )
    assert len(node_logs) == 4  # boot, carbon, access, gc
    (agent_parameter,) = inventory.of_type(SSM_PARAMETER)
    for sid in ("ReadNodeSecrets", "WriteNodeLogs"):  # order is no permission
        statements[sid]["Resource"] = sorted(statements[sid]["Resource"])
    assert statements == {
        "ReadNodeSecrets": {
            "Sid": "ReadNodeSecrets",
            "Effect": "Allow",
            "Action": "secretsmanager:GetSecretValue",
            "Resource": readable,
        },
        "ReadLogAgentConfig": {
            "Sid": "ReadLogAgentConfig",
            "Effect": "Allow",
            "Action": "ssm:GetParameter",
            "Resource": agent_parameter.outputs["arn"],
        },
        # the agent writes to the three node log groups (and their streams), nothing else
        "WriteNodeLogs": {
            "Sid": "WriteNodeLogs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
            "Resource": sorted(r for arn in node_logs for r in (arn, f"{arn}:*")),
        },
        "PutNodeMetrics": {
            "Sid": "PutNodeMetrics",
            "Effect": "Allow",
            "Action": "cloudwatch:PutMetricData",
            "Resource": "*",
            "Condition": {"StringEquals": {"cloudwatch:namespace": "WSO2/wso2-cluster/dev"}},
        },
        # the product zip is in S3, the JDBC driver on Maven Central (https): one exact object ARN
        "ReadArtifacts": {
            "Sid": "ReadArtifacts",
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": ["arn:aws:s3:::example-wso2-artifacts/wso2as-5.3.0.zip"],
        },
    }


def test_s3_keys_with_iam_wildcard_characters_are_matched_literally():
    inventory = stack(
        "dev",
        productArtifactUrl="s3://artifacts/as/wso2as-5.3.0*?$.zip",
        jdbcDriverUrl="s3://artifacts/jdbc/driver.jar",
    )
    statements = node_role_statements(inventory, "worker")
    assert statements["ReadArtifacts"]["Resource"] == [
        "arn:aws:s3:::artifacts/as/wso2as-5.3.0${*}${?}${$}.zip",
        "arn:aws:s3:::artifacts/jdbc/driver.jar",
    ]


def test_discovery_user_may_only_describe_instances_through_its_group():
    inventory = stack("dev")
    (user,) = inventory.of_type(USER)
    # FSBP IAM.2: no policy attached to the user; the permission comes from its one group
    assert [
        r.type for r in inventory.resources if r.type.startswith(("aws:iam/userPolicy", "aws:iam/policyAttachment"))
    ] == []
    (group,), (group_policy,), (membership,) = (
        inventory.of_type(GROUP),
        inventory.of_type(GROUP_POLICY),
        inventory.of_type(GROUP_MEMBERSHIP),
    )
    assert group_policy.inputs["group"] == group.outputs["name"]
    assert policy(group_policy)["Statement"] == [
        {"Sid": "ClusterDiscovery", "Effect": "Allow", "Action": "ec2:DescribeInstances", "Resource": "*"}
    ]
    assert (membership.inputs["user"], membership.inputs["groups"]) == (user.outputs["name"], [group.outputs["name"]])
    # nodes boot only once the key may discover (policy and membership exist)
    for instance in inventory.of_type(INSTANCE):
        assert inventory.depends_on(instance, group_policy.urn) and inventory.depends_on(instance, membership.urn)
    (key,) = inventory.of_type(ACCESS_KEY)
    stored = {v.inputs["secretString"] for v in inventory.of_type(SECRET_VERSION)}
    assert {key.outputs["id"], key.outputs["secret"]} <= stored
    # the nodes keep IMDSv2 only
    assert {i.inputs["metadataOptions"]["httpTokens"] for i in inventory.of_type(INSTANCE)} == {"required"}


def test_instance_role_discovery_needs_no_user_and_allows_imdsv1_in_that_mode_only():
    inventory = stack("dev", discoveryCredentials="instanceRole")
    assert inventory.of_type(USER) == [] and inventory.of_type(ACCESS_KEY) == []
    assert inventory.of_type(GROUP) == [] and inventory.of_type(GROUP_POLICY) == []
    for role in ("manager", "worker"):
        statements = node_role_statements(inventory, role)
        assert statements["ClusterDiscovery"] == {
            "Sid": "ClusterDiscovery",
            "Effect": "Allow",
            "Action": "ec2:DescribeInstances",
            "Resource": "*",
        }
        assert len(statements["ReadNodeSecrets"]["Resource"]) == (3 if role == "manager" else 2)
    role_names = {role: named(inventory, ROLE, f"-{role}-role").outputs["name"] for role in ("manager", "worker")}
    for name, instance in nodes(inventory).items():
        discovery = node_json(instance)["cluster"]["aws"]
        role = "manager" if name == "manager" else "worker"
        assert (discovery["credentials"], discovery["iamRole"]) == ("instanceRole", role_names[role])
        assert "discoveryAccessKey" not in node_json(instance)["secrets"]
        # Hazelcast 3.5 reads role credentials without an IMDSv2 token
        assert instance.inputs["metadataOptions"]["httpTokens"] == "optional"
        assert instance.inputs["metadataOptions"]["httpPutResponseHopLimit"] == 1


# --- secrets -------------------------------------------------------------------------------------

CONFIG_PASSWORDS = {"dbPassword": "Config-Secret-Pw-4711", "adminPassword": "Admin-Secret-0815"}


def all_tags(inventory: Inventory) -> str:
    tags = []
    for r in inventory.resources:
        tags.append(r.inputs.get("tags") or {})
        tags.append((r.inputs.get("rootBlockDevice") or {}).get("tags") or {})
    return json.dumps(tags)


@pytest.mark.parametrize("passwords_in_config", [False, True])
def test_no_secret_value_reaches_user_data_tags_or_outputs(passwords_in_config):
    overrides = dict(CONFIG_PASSWORDS) if passwords_in_config else {}
    secret_keys = tuple(f"wso2-cluster:{k}" for k in overrides)
    inventory = build("dev", overrides, secret_keys=secret_keys)
    (key,) = inventory.of_type(ACCESS_KEY)
    generated = {p.name.removeprefix("dev-"): p.outputs["result"] for p in inventory.of_type(RANDOM_PASSWORD)}
    assert set(generated) == (
        {"db-app-password"} if passwords_in_config else {"db-password", "db-app-password", "admin-password"}
    )
    master = CONFIG_PASSWORDS["dbPassword"] if passwords_in_config else generated["db-password"]
    admin = CONFIG_PASSWORDS["adminPassword"] if passwords_in_config else generated["admin-password"]
    secrets = [master, admin, generated["db-app-password"], key.outputs["secret"], key.outputs["id"]]
    assert all(len(s) >= 16 for s in secrets)

    # positive control: the values are there, in Secrets Manager and RDS, marked secret
    rds = inventory.of_type(RDS)[0]
    assert rds.inputs["password"] == master and "password" in rds.secret_inputs
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


def test_generated_passwords_are_safe_for_rds_sql_shell_and_the_user_store():
    generated = stack("dev").of_type(RANDOM_PASSWORD)
    assert len(generated) == 3
    for password in generated:
        specials = password.inputs["overrideSpecial"]
        assert password.inputs["special"] is True and 16 <= password.inputs["length"] <= 30
        assert not set(specials) & set("/@\"' \\`$")


def test_svn_password_goes_to_secrets_manager_only():
    inventory = stack("dev", svnUrl="https://svn.example.com/repos/as", **SVN)
    assert "svn-secret-password" in {v.inputs["secretString"] for v in inventory.of_type(SECRET_VERSION)}
    for instance in inventory.of_type(INSTANCE):
        assert "svn-secret-password" not in user_data_text(instance)
        document = node_json(instance)
        assert "svnPassword" in document["secrets"]
        assert document["deploymentSync"] == {
            "mode": "svn",
            "svnUrl": "https://svn.example.com/repos/as",
            "svnUser": "wso2",
            "fileSystemId": None,
            "svnKit": {"url": "https://product-dist.wso2.com/tools/svnkit-all-1.8.7.wso2v1.jar", "sha256": "a" * 64},
            "trileadSsh": {
                "url": "https://maven.wso2.org/nexus/content/groups/wso2-public/com/trilead/trilead-ssh2/"
                "1.0.0-build215/trilead-ssh2-1.0.0-build215.jar",
                "sha256": "b" * 64,
            },
        }
    assert "svn-secret-password" not in all_tags(inventory)
