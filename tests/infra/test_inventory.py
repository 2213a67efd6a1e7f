"""The declared inventory as a whole: resource counts, nodes on their ENIs, user data, posture."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from tests.infra.support import (
    ACCESS_KEY,
    ACM_CERT,
    ALARM,
    ALB,
    BUCKET,
    BUCKET_ENCRYPTION,
    BUCKET_LIFECYCLE,
    BUCKET_OWNERSHIP,
    BUCKET_POLICY,
    BUCKET_PUBLIC_ACCESS,
    DASHBOARD,
    DATABASE_GUARD,
    DB_SUBNET_GROUP,
    DEFAULT_SG,
    EFS,
    EFS_BACKUP,
    EFS_MOUNT_TARGET,
    EFS_POLICY,
    EGRESS,
    EIP,
    ENI,
    FLOW_LOG,
    GROUP,
    GROUP_MEMBERSHIP,
    GROUP_POLICY,
    HEALTH_GATE,
    IGW,
    INGRESS,
    INSTANCE,
    KMS_KEY,
    LISTENER,
    LISTENER_RULE,
    LOG_GROUP,
    METRIC_FILTER,
    NAT,
    PARAMETER_GROUP,
    PROFILE,
    RANDOM_ID,
    RANDOM_PASSWORD,
    RDS,
    RECORD,
    ROLE,
    ROLE_ATTACHMENT,
    ROLE_POLICY,
    ROUTE,
    ROUTE_TABLE,
    RTA,
    SECRET,
    SECRET_VERSION,
    SG,
    SNS_SUBSCRIPTION,
    SNS_TOPIC,
    SSM_PARAMETER,
    STASH,
    SUBNET,
    TARGET_GROUP,
    TG_ATTACHMENT,
    TLS_CERT,
    TLS_KEY,
    USER,
    VPC,
    WEB_ACL,
    WEB_ACL_ASSOCIATION,
    ZONE,
    by_id,
    eni_of,
    named,
    node_json,
    nodes,
    stack,
    user_data_text,
)

WORKER_COUNTS = (1, 2, 5)
STACKS = ("dev", "prod")


def expected_counts(stack_name: str, workers: int) -> Counter:
    """Every resource type the stack declares, and how many (nothing else may appear)."""
    prod = stack_name == "prod"
    azs, nats = (3, 3) if prod else (2, 1)
    forward = not prod  # httpMode: forward in dev, redirect in prod
    worker_groups = 2 if forward else 1  # the workers' HTTPS group, and HTTP when forwarded
    counts = Counter(
        {
            # network: public + private subnet per AZ, one public and one private route table per AZ;
            # flow logs (EC2.6): log group, delivery role with its inline policy, the flow log
            VPC: 1,
            SUBNET: 2 * azs,
            IGW: 1,
            NAT: nats,
            EIP: nats,
            DEFAULT_SG: 1,
            ROUTE_TABLE: 1 + azs,
            ROUTE: 1 + azs,
            RTA: 2 * azs,
            FLOW_LOG: 1,
            # log groups: flow logs, the nodes' boot/carbon/access/gc logs, RDS's error and slow-query logs
            LOG_GROUP: 1 + 4 + 2,
            SSM_PARAMETER: 1,  # the CloudWatch agent's configuration
            # security groups (plus EFS's in prod); 80+443 from each client/console CIDR (prod: the
            # office range for the console too), product ports (HTTP only when forwarded) + cluster
            # port in; ALB out to the product ports, nodes 443 + 3306 + cluster (+ NFS) out; database in
            SG: 4 if prod else 3,
            INGRESS: 2 * (2 if prod else 1) + worker_groups + 1 + 1 + (1 if prod else 0),
            EGRESS: worker_groups + 3 + (1 if prod else 0),
            # roles: manager, worker, flow logs, RDS enhanced monitoring; a profile per node role; SSM
            # core for each node role + RDS monitoring; inline policies of each node role + flow logs;
            # discovery user, its group (IAM.2) and key
            ROLE: 4,
            PROFILE: 2,
            ROLE_ATTACHMENT: 3,
            ROLE_POLICY: 3,
            USER: 1,
            GROUP: 1,
            GROUP_POLICY: 1,
            GROUP_MEMBERSHIP: 1,
            ACCESS_KEY: 1,
            # secrets: master, application and admin passwords (generated) + the discovery key pair
            SECRET: 5,
            SECRET_VERSION: 5,
            RANDOM_PASSWORD: 3,
            RDS: 1,
            PARAMETER_GROUP: 1,
            DB_SUBNET_GROUP: 1,
            ZONE: 1,
            RECORD: 1,
            RANDOM_ID: 1,
            DATABASE_GUARD: 1,
            # nodes: an ENI, an instance and a health gate each; the latest AL2023 AMI, pinned
            ENI: workers + 1,
            INSTANCE: workers + 1,
            HEALTH_GATE: workers + 1,
            STASH: 1,
            ALB: 1,
            TARGET_GROUP: worker_groups + 1,
            TG_ATTACHMENT: worker_groups * workers + 1,
            # HTTP: the console's redirect; HTTPS: the console from its allowed sources, 403 for the rest
            LISTENER: 2,
            LISTENER_RULE: 3,
            # access logs (ELB.5, accessLogs defaults to true) to a bucket the stack creates
            BUCKET: 1,
            BUCKET_PUBLIC_ACCESS: 1,
            BUCKET_OWNERSHIP: 1,
            BUCKET_ENCRYPTION: 1,
            BUCKET_LIFECYCLE: 1,
            BUCKET_POLICY: 1,
            # alarms: 4 per node (recover, reboot, memory, disk), 1 per target group, the load
            # balancer's 5xx rate, 4 for RDS, a member leaving; membership filters; dashboard; topic
            ALARM: 4 * (workers + 1) + worker_groups + 1 + 1 + 4 + 1,
            METRIC_FILTER: 2,
            DASHBOARD: 1,
            SNS_TOPIC: 1,
            KMS_KEY: 1,
            "wso2:cluster:Cluster": 1,
            "wso2:cluster:Network": 1,
            "wso2:cluster:SecurityGroups": 1,
            "wso2:cluster:Identity": 1,
            "wso2:cluster:Secrets": 1,
            "wso2:cluster:Database": 1,
            "wso2:cluster:LoadBalancer": 1,
            "wso2:cluster:LogBucket": 1,
            "wso2:cluster:Node": workers + 1,
            "wso2:cluster:NodeLogs": 1,
            "wso2:cluster:Monitoring": 1,
        }
    )
    if prod:  # WAF, EFS (deploymentSynchronizer efs), an alarm e-mail
        counts.update(
            {
                WEB_ACL: 1,
                WEB_ACL_ASSOCIATION: 1,
                EFS: 1,
                EFS_BACKUP: 1,
                EFS_POLICY: 1,
                EFS_MOUNT_TARGET: azs,
                SNS_SUBSCRIPTION: 1,
                "wso2:cluster:SharedFiles": 1,
            }
        )
    else:  # selfSignedCertificate: true
        counts.update({TLS_KEY: 1, TLS_CERT: 1, ACM_CERT: 1})
    return counts


@pytest.mark.parametrize("stack_name", STACKS)
@pytest.mark.parametrize("workers", WORKER_COUNTS)
def test_resource_counts(stack_name, workers):
    inventory = stack(stack_name, workerCount=workers)
    assert Counter(r.type for r in inventory.resources) == expected_counts(stack_name, workers)


@pytest.mark.parametrize("stack_name", STACKS)
@pytest.mark.parametrize("workers", WORKER_COUNTS)
def test_every_node_runs_on_its_own_eni_which_carries_the_node_group(stack_name, workers):
    inventory = stack(stack_name, workerCount=workers)
    node_group = inventory.outputs["nodeSecurityGroupId"]
    instances = inventory.of_type(INSTANCE)
    enis = [eni_of(inventory, i) for i in instances]
    assert len({e.id for e in enis}) == len(instances) == workers + 1
    assert {e.id for e in enis} == {e.id for e in inventory.of_type(ENI)}
    for instance, eni in zip(instances, enis):
        assert eni.inputs["securityGroups"] == [node_group]
        assert eni.inputs["tags"] == instance.inputs["tags"]
        # the ENI decides subnet and groups; the instance must not (it would conflict)
        for key in ("subnetId", "vpcSecurityGroupIds", "securityGroups", "associatePublicIpAddress"):
            assert key not in instance.inputs


@pytest.mark.parametrize("stack_name", STACKS)
@pytest.mark.parametrize("workers", WORKER_COUNTS)
def test_nodes_spread_over_the_azs_manager_first(stack_name, workers):
    inventory = stack(stack_name, workerCount=workers)
    subnets = by_id(inventory, "aws:ec2/subnet:Subnet")
    private = sorted(
        (s for s in subnets.values() if s.inputs["tags"]["tier"] == "private"),
        key=lambda s: s.inputs["availabilityZone"],
    )
    zones = [s.inputs["availabilityZone"] for s in private]
    for name, instance in nodes(inventory).items():
        index = 0 if name == "manager" else int(name.split("-")[1])
        subnet = subnets[eni_of(inventory, instance).inputs["subnetId"]]
        assert subnet.inputs["tags"]["tier"] == "private"
        assert subnet.inputs["availabilityZone"] == zones[index % len(zones)], name


@pytest.mark.parametrize("stack_name", STACKS)
@pytest.mark.parametrize("workers", WORKER_COUNTS)
def test_each_node_user_data_holds_its_own_eni_ip(stack_name, workers):
    inventory = stack(stack_name, workerCount=workers)
    found = nodes(inventory)
    assert len(found) == workers + 1
    ips = set()
    for name, instance in found.items():
        ip = eni_of(inventory, instance).outputs["privateIp"]
        document = node_json(instance)
        assert document["privateIp"] == ip
        assert document["name"] == name
        assert document["role"] == ("manager" if name == "manager" else "worker")
        ips.add(ip)
    assert len(ips) == workers + 1


@pytest.mark.parametrize("stack_name", STACKS)
def test_node_settings_use_the_private_alias_and_pin_the_secrets_they_need(stack_name):
    inventory = stack(stack_name)
    rds = inventory.of_type(RDS)[0]
    secrets = {s.outputs["arn"]: s for s in inventory.of_type(SECRET)}
    versions = {v.inputs["secretId"]: v.outputs["versionId"] for v in inventory.of_type(SECRET_VERSION)}
    master_arn = inventory.outputs["databaseSecretArn"]
    node_group_name = inventory.outputs["nodeSecurityGroupName"]
    for name, instance in nodes(inventory).items():
        document = node_json(instance)
        assert document["database"]["host"] == "mysql.wso2.internal"
        assert document["database"]["username"] == "wso2app"  # the application user
        assert document["database"]["masterUsername"] == ("wso2admin" if name == "manager" else None)
        assert rds.outputs["address"] not in user_data_text(instance)
        expected = {"dbPassword", "adminPassword", "discoveryAccessKey", "discoverySecretKey"}
        if name == "manager":
            expected.add("dbMasterPassword")
        assert set(document["secrets"]) == expected, name
        for key, ref in document["secrets"].items():
            assert ref["arn"] in secrets
            if ref["arn"] == master_arn:  # RDS takes a new master password in place: not pinned
                assert key == "dbMasterPassword" and ref["versionId"] is None
            else:  # the exact version the stack stored: a new value rolls the nodes
                assert ref["versionId"] == versions[ref["arn"]], key
        discovery = document["cluster"]["aws"]
        assert document["cluster"]["membershipScheme"] == "aws"
        assert (discovery["securityGroup"], discovery["tagKey"], discovery["tagValue"], discovery["credentials"]) == (
            node_group_name,
            "wso2:cluster",
            f"wso2-cluster-{stack_name}",
            "accessKey",
        )
        assert instance.inputs["tags"]["wso2:cluster"] == f"wso2-cluster-{stack_name}"
        assert document["logAgentParameter"] == f"/wso2/wso2-cluster/{stack_name}/cloudwatch-agent"
    files = {node_json(i)["deploymentSync"]["fileSystemId"] for i in inventory.of_type(INSTANCE)}
    assert files == ({inventory.of_type(EFS)[0].id} if stack_name == "prod" else {None})


@pytest.mark.parametrize("stack_name", STACKS)
def test_instances_are_hardened(stack_name):
    inventory = stack(stack_name)
    instances = inventory.of_type(INSTANCE)
    assert instances
    for instance in instances:
        inputs = instance.inputs
        assert inputs["metadataOptions"] == {
            "httpTokens": "required",
            "httpEndpoint": "enabled",
            "httpPutResponseHopLimit": 1,
            "instanceMetadataTags": "disabled",
        }
        root = inputs["rootBlockDevice"]
        assert (root["encrypted"], root["volumeType"], root["volumeSize"], root["deleteOnTermination"]) == (
            True,
            "gp3",
            30,
            True,
        )
        assert root["tags"] == inputs["tags"]
        assert "volumeTags" not in inputs
        assert inputs["monitoring"] is True and inputs["ebsOptimized"] is True
        assert inputs["userDataReplaceOnChange"] is True
        assert instance.options["ignoreChanges"] == []  # an ignored ami would survive a replacement
    # the latest AL2023 from the public SSM parameter (the mock's value for x86_64), held in a stash
    (ami,) = inventory.of_type(STASH)
    assert ami.inputs["input"] == ami.outputs["output"] == "ami-0a1b2c3d4e5f60718"
    assert {i.inputs["ami"] for i in instances} == {"ami-0a1b2c3d4e5f60718"}
    assert all(ami.urn in i.dependencies for i in instances)
    # the manager and the workers have profiles of their own (only the manager reads the master password)
    profile_role = {
        p.outputs["name"]: p.name.removeprefix(f"{stack_name}-").removesuffix("-profile")
        for p in inventory.of_type(PROFILE)
    }
    for name, instance in nodes(inventory).items():
        assert profile_role[instance.inputs["iamInstanceProfile"]] == ("manager" if name == "manager" else "worker")


def test_a_pinned_ami_is_used_as_is_and_needs_no_stash():
    inventory = stack("dev", amiId="ami-0123456789abcdef0")
    assert {i.inputs["ami"] for i in inventory.of_type(INSTANCE)} == {"ami-0123456789abcdef0"}
    assert inventory.of_type(STASH) == []


@pytest.mark.parametrize("stack_name", STACKS)
def test_every_node_instance_is_deleted_before_its_replacement(stack_name):
    instances = stack(stack_name).of_type(INSTANCE)
    assert instances
    assert all(i.options["deleteBeforeReplace"] is True for i in instances)
    # ... while the ENI, which keeps the IP, is never replaced along with it
    assert not any(e.options["deleteBeforeReplace"] for e in stack(stack_name).of_type(ENI))


def test_instance_types_and_tags_follow_the_stack():
    inventory = stack("prod")
    found = nodes(inventory)
    assert found["manager"].inputs["instanceType"] == "m7i.large"
    assert {found[f"worker-{i}"].inputs["instanceType"] for i in range(1, 5)} == {"m7i.xlarge"}
    assert found["worker-3"].inputs["tags"] == {
        "Name": "prod-worker-3",
        "wso2:role": "worker",
        "wso2:cluster": "wso2-cluster-prod",
        "environment": "prod",
    }
    assert found["manager"].inputs["tags"]["wso2:role"] == "manager"


@pytest.mark.parametrize("stack_name", STACKS)
def test_new_vpc_has_no_public_ips_and_a_closed_default_group(stack_name):
    inventory = stack(stack_name)
    vpc = inventory.of_type(VPC)[0]
    assert vpc.inputs["enableDnsSupport"] is True and vpc.inputs["enableDnsHostnames"] is True
    assert all(s.inputs["mapPublicIpOnLaunch"] is False for s in inventory.of_type(SUBNET))
    default = inventory.of_type(DEFAULT_SG)[0]
    assert default.inputs["vpcId"] == vpc.id
    assert not default.inputs.get("ingress") and not default.inputs.get("egress")


def test_private_subnets_route_through_nat_per_az_in_prod():
    inventory = stack("prod")
    nat_ids = {n.id for n in inventory.of_type(NAT)}
    private_routes = [r for r in inventory.of_type(ROUTE) if "natGatewayId" in r.inputs]
    assert len(private_routes) == 3 and {r.inputs["natGatewayId"] for r in private_routes} == nat_ids
    public_routes = [r for r in inventory.of_type(ROUTE) if "gatewayId" in r.inputs]
    assert [r.inputs["gatewayId"] for r in public_routes] == [inventory.of_type(IGW)[0].id]


@pytest.mark.parametrize("stack_name", STACKS)
def test_new_vpc_logs_all_traffic_to_cloudwatch_through_a_least_privilege_role(stack_name):
    """FSBP EC2.6: a flow log of the stack's VPC, kept a year, written through its own role."""
    inventory = stack(stack_name)
    (vpc,), (flow_log,) = inventory.of_type(VPC), inventory.of_type(FLOW_LOG)
    log_group = named(inventory, LOG_GROUP, "-flow-logs")
    assert log_group.inputs["retentionInDays"] == 365
    role = named(inventory, ROLE, "-flow-logs-role")
    assert flow_log.inputs["vpcId"] == vpc.id
    assert (flow_log.inputs["trafficType"], flow_log.inputs["logDestinationType"]) == ("ALL", "cloud-watch-logs")
    assert flow_log.inputs["logDestination"] == log_group.outputs["arn"]
    assert flow_log.inputs["iamRoleArn"] == role.outputs["arn"]
    assert json.loads(role.inputs["assumeRolePolicy"])["Statement"] == [
        {
            "Effect": "Allow",
            "Principal": {"Service": "vpc-flow-logs.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceAccount": "123456789012"}},
        }
    ]
    policy = named(inventory, ROLE_POLICY, "-flow-logs-policy")
    assert policy.inputs["role"] == role.id
    arn = log_group.outputs["arn"]
    assert json.loads(policy.inputs["policy"])["Statement"] == [
        {
            "Sid": "DeliverFlowLogs",
            "Effect": "Allow",
            "Action": [
                "logs:CreateLogStream",
                "logs:PutLogEvents",
                "logs:DescribeLogGroups",
                "logs:DescribeLogStreams",
            ],
            "Resource": [arn, f"{arn}:*"],
        }
    ]
    # no other policy reaches the flow-log role
    assert [a for a in inventory.of_type(ROLE_ATTACHMENT) if a.inputs["role"] == role.outputs["name"]] == []
    # AWS checks the role's permission when the flow log is created
    assert policy.urn in flow_log.dependencies
