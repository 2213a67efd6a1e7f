"""Stack outputs (the contract with `verify` and application teams), existing-VPC mode, WKA mode,
and growing the cluster."""

from __future__ import annotations

import re

import pytest

from components.outputs import CONDITIONAL, NAMES, OUTPUTS
from offline.stack_config import ROOT
from tests.infra.support import (
    ALB,
    DB_SUBNET_GROUP,
    DEFAULT_SG,
    EFS,
    EIP,
    FLOW_LOG,
    IGW,
    INSTANCE,
    LOG_GROUP,
    NAT,
    RDS,
    ROLE,
    ROUTE,
    ROUTE_TABLE,
    RTA,
    SECRET,
    SG,
    SNS_TOPIC,
    SUBNET,
    VPC,
    ZONE,
    by_id,
    eni_of,
    node_json,
    nodes,
    stack,
)
from verify.outputs import StackOutputs, parse_outputs

KEYS = set(NAMES) - set(CONDITIONAL)  # what every stack exports


def test_the_readme_table_and_verifys_reader_are_the_outputs_contract():
    table = (ROOT / "README.md").read_text().split("| output | meaning |\n| --- | --- |\n", 1)[1].split("\n\n", 1)[0]
    rows = {}
    for row in table.splitlines():
        names, meaning = row.removeprefix("| ").removesuffix(" |").split(" | ")
        rows[tuple(re.findall(r"`([^`]+)`", names))] = meaning
    assert rows == OUTPUTS
    assert len(NAMES) == len(set(NAMES)) and set(CONDITIONAL) < set(NAMES)
    read = {field.alias or name for name, field in StackOutputs.model_fields.items()}
    assert read < set(NAMES)


@pytest.mark.parametrize("stack_name", ["dev", "prod"])
@pytest.mark.parametrize("workers", [1, 2, 5])
def test_outputs_are_the_contract_with_the_right_values(stack_name, workers):
    inventory = stack(stack_name, workerCount=workers)
    out = inventory.outputs
    http = stack_name == "dev"  # httpMode forward
    assert set(out) == KEYS | ({"serviceUrlHttp"} if http else {"deploymentFileSystemId"})
    host = {"dev": "as.dev.example.com", "prod": "as.example.com"}[stack_name]
    if http:
        assert out["serviceUrlHttp"] == f"http://{host}/"
    assert out["serviceUrlHttps"] == f"https://{host}/"
    assert out["managementConsoleUrl"] == f"https://mgt.{host}/carbon/"

    found = nodes(inventory)
    workers_in_order = [found[f"worker-{i}"] for i in range(1, workers + 1)]
    assert out["managerPrivateIp"] == eni_of(inventory, found["manager"]).outputs["privateIp"]
    assert out["managerInstanceId"] == found["manager"].id
    assert out["workerPrivateIps"] == [eni_of(inventory, w).outputs["privateIp"] for w in workers_in_order]
    assert out["workerInstanceIds"] == [w.id for w in workers_in_order]

    (rds,), (alb,), (vpc,) = inventory.of_type(RDS), inventory.of_type(ALB), inventory.of_type(VPC)
    assert out["region"] == "eu-west-1" and out["vpcId"] == vpc.id
    assert out["loadBalancerDnsName"] == alb.outputs["dnsName"]
    assert out["databaseEndpoint"] == rds.outputs["endpoint"]
    assert out["databaseInstanceId"] == rds.outputs["identifier"]
    assert out["databaseHostName"] == "mysql.wso2.internal"
    assert out["databaseSecurityGroupId"] == rds.inputs["vpcSecurityGroupIds"][0]
    node_group = by_id(inventory, SG)[eni_of(inventory, found["manager"]).inputs["securityGroups"][0]]
    assert (out["nodeSecurityGroupId"], out["nodeSecurityGroupName"]) == (node_group.id, node_group.outputs["name"])
    assert out["databaseNames"] == {"userStore": "WSO2_USER_DB", "registry": "WSO2_REGISTRY_DB"}
    assert out["managementAllowedCidrs"] == {"dev": [vpc.inputs["cidrBlock"]], "prod": ["203.0.113.0/24"]}[stack_name]
    assert (out["clusterDomain"], out["membershipScheme"], out["clusterPort"]) == ("wso2.as.domain", "aws", 5701)
    assert type(out["clusterPort"]) is int
    assert (out["discoveryTagKey"], out["discoveryTagValue"]) == ("wso2:cluster", f"wso2-cluster-{stack_name}")
    assert all(i.inputs["tags"]["wso2:cluster"] == f"wso2-cluster-{stack_name}" for i in found.values())
    # the workers' HTTP group only where HTTP is forwarded to the workers (dev)
    groups = {"workersHttp", "workersHttps", "managerHttps"} if http else {"workersHttps", "managerHttps"}
    assert set(out["targetGroupArns"]) == groups
    assert len(set(out["targetGroupArns"].values())) == len(groups)
    # where secrets live (ARNs; the values never): master, application user and admin passwords
    secrets = {
        secret.name.removeprefix(f"{stack_name}-"): secret.outputs["arn"] for secret in inventory.of_type(SECRET)
    }
    assert (out["databaseSecretArn"], out["databaseAppUserSecretArn"], out["adminPasswordSecretArn"]) == (
        secrets["db-password"],
        secrets["db-app-password"],
        secrets["admin-password"],
    )
    # operations: the log groups, the alarm topic, the dashboard
    assert out["logGroupNames"] == {
        "boot": f"/wso2/wso2-cluster/{stack_name}/boot",
        "carbon": f"/wso2/wso2-cluster/{stack_name}/carbon",
        "access": f"/wso2/wso2-cluster/{stack_name}/http-access",
        "gc": f"/wso2/wso2-cluster/{stack_name}/gc",
        "rdsError": f"/aws/rds/instance/{rds.outputs['identifier']}/error",
        "rdsSlowquery": f"/aws/rds/instance/{rds.outputs['identifier']}/slowquery",
    }
    assert set(out["logGroupNames"].values()) <= {g.outputs["name"] for g in inventory.of_type(LOG_GROUP)}
    assert out["alarmTopicArn"] == inventory.of_type(SNS_TOPIC)[0].outputs["arn"]
    assert out["dashboardUrl"] == (
        "https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1"
        f"#dashboards:name=wso2-cluster-{stack_name}"
    )
    if not http:  # prod keeps deployed webapps on EFS
        assert out["deploymentFileSystemId"] == inventory.of_type(EFS)[0].id
    # the contract checker of `verify` accepts them
    parsed = parse_outputs(out)
    assert [n.private_ip for n in parsed.nodes()] == [out["managerPrivateIp"], *out["workerPrivateIps"]]


# --- an existing VPC -----------------------------------------------------------------------------

EXISTING = {
    "vpcId": "vpc-0123456789abcdef0",
    "publicSubnetIds": '["subnet-0aaaaaaaaaaaaaaa1", "subnet-0aaaaaaaaaaaaaaa2"]',
    "privateSubnetIds": '["subnet-0bbbbbbbbbbbbbbb1", "subnet-0bbbbbbbbbbbbbbb2", "subnet-0bbbbbbbbbbbbbbb3"]',
}
PRIVATE = ["subnet-0bbbbbbbbbbbbbbb1", "subnet-0bbbbbbbbbbbbbbb2", "subnet-0bbbbbbbbbbbbbbb3"]


@pytest.mark.parametrize("stack_name", ["dev", "prod"])
def test_existing_vpc_creates_no_network_and_uses_the_given_subnets(stack_name):
    inventory = stack(stack_name, workerCount=5, **EXISTING)
    # ... nor flow logs: an existing VPC's owner governs them
    for type_token in (VPC, SUBNET, NAT, EIP, IGW, ROUTE_TABLE, ROUTE, RTA, DEFAULT_SG, FLOW_LOG):
        assert inventory.of_type(type_token) == [], type_token
    assert not any(g.name.endswith("-flow-logs") for g in inventory.of_type(LOG_GROUP))
    assert not any(r.name.endswith("-flow-logs-role") for r in inventory.of_type(ROLE))
    found = nodes(inventory)
    assert len(found) == 6
    for name, instance in found.items():
        index = 0 if name == "manager" else int(name.split("-")[1])
        assert eni_of(inventory, instance).inputs["subnetId"] == PRIVATE[index % 3], name
    (alb,) = inventory.of_type(ALB)
    assert alb.inputs["subnets"] == ["subnet-0aaaaaaaaaaaaaaa1", "subnet-0aaaaaaaaaaaaaaa2"]
    assert inventory.of_type(DB_SUBNET_GROUP)[0].inputs["subnetIds"] == PRIVATE
    assert inventory.of_type(ZONE)[0].inputs["vpcs"] == [{"vpcId": "vpc-0123456789abcdef0"}]
    assert {g.inputs["vpcId"] for g in inventory.of_type(SG)} == {"vpc-0123456789abcdef0"}
    assert inventory.outputs["vpcId"] == "vpc-0123456789abcdef0"


# --- WKA mode and growth -------------------------------------------------------------------------


def test_wka_members_are_the_first_nodes_without_oneself():
    inventory = stack("dev", membershipScheme="wka", wkaMemberCount=3, workerCount=5)
    found = nodes(inventory)
    ip = {name: eni_of(inventory, instance).outputs["privateIp"] for name, instance in found.items()}
    well_known = [ip["manager"], ip["worker-1"], ip["worker-2"]]
    for name, instance in found.items():
        cluster = node_json(instance)["cluster"]
        assert cluster["membershipScheme"] == "wka" and cluster["aws"] is None
        assert cluster["wkaMembers"] == [x for x in well_known if x != ip[name]], name
        expected = {"dbPassword", "adminPassword"} | ({"dbMasterPassword"} if name == "manager" else set())
        assert set(node_json(instance)["secrets"]) == expected  # wka: no discovery key


@pytest.mark.parametrize("scheme", ["aws", "wka"])
def test_adding_a_worker_leaves_every_other_node_byte_identical(scheme):
    before = {r.name: r.inputs for r in stack("dev", membershipScheme=scheme, workerCount=2).of_type(INSTANCE)}
    after = {r.name: r.inputs for r in stack("dev", membershipScheme=scheme, workerCount=3).of_type(INSTANCE)}
    assert set(after) - set(before) == {"dev-worker-3-instance"}
    for name, inputs in before.items():
        assert after[name] == inputs, name
