"""The healthy cluster the `verify` tests start from, built through any boto3 clients
(in-process moto.mock_aws or a moto server). Shared by conftest.py and the test modules."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any, Optional

from verify.membership import members_command
from verify.wso2_schema import TABLES

REPO_ROOT = Path(__file__).resolve().parents[2]
REGION = "us-east-1"
CLUSTER_PORT = 5701
TAG_KEY, TAG_VALUE = "wso2:cluster", "as-prod"
NODE_SG_NAME = "wso2-as-nodes"
DB_ID = "wso2-as-db"
AMI = "ami-12c6146b"  # one of moto's built-in AMIs
CLUSTER_DOMAIN = "wso2.as.domain"
LOG_GROUPS = {  # the stack's logGroupNames output (the Pulumi stack is named like the tag value)
    "boot": f"/wso2-cluster/{TAG_VALUE}/boot",
    "carbon": f"/wso2-cluster/{TAG_VALUE}/carbon",
    "access": f"/wso2-cluster/{TAG_VALUE}/http-access",
}
CARBON = LOG_GROUPS["carbon"]
DATABASE_NAMES = {"userStore": "WSO2_USER_DB", "registry": "WSO2_REGISTRY_DB"}
# What /opt/wso2-cluster/bin/boot schema-status prints on a manager whose schemas are in place
# (MySQL lists the tables in its own order, and may add some of its own).
HEALTHY_SCHEMA = {
    "databases": [
        {"name": name, "tables": sorted([*TABLES, "SCHEMA_NOTES"]), "ready": True} for name in DATABASE_NAMES.values()
    ]
}
MINUTE_MS = 60_000


# --- what real Hazelcast 3.5 members print (tests/verify/captured, from hazelcast/capture.py) ------

CAPTURED = Path(__file__).resolve().parent / "captured"
# The addresses of the captured members: the stack's three nodes, then a stray member.
CAPTURED_NODES = {"manager": "127.0.0.2", "worker-1": "127.0.0.3", "worker-2": "127.0.0.4"}
CAPTURED_STRAY = "127.0.0.9:5702"


def now_ms() -> int:
    return int(time.time() * 1000)


def captured(scenario: str, label: str, kind: str = "rest", ips: Optional[dict[str, str]] = None) -> str:
    """A captured REST answer (kind "rest") or wso2carbon.log ("log") of node `label`, with the
    captured nodes' addresses replaced by `ips` (label -> IP) when given."""
    text = (CAPTURED / scenario / f"{label}.{kind}").read_text()
    for node, ip in (ips or {}).items():
        text = re.sub(rf"\b{re.escape(CAPTURED_NODES[node])}\b", ip, text)
    return text


def log_events(log: str) -> list[str]:
    """wso2carbon.log split as the CloudWatch agent ships it: an event starts at each `TID:` line."""
    return [event for event in re.split(r"(?m)^(?=TID: )", log) if event.strip()]


def ship(logs: Any, stream: str, events: list[tuple[int, str]], group: str = CARBON) -> None:
    """put_log_events into an existing stream; every event must be accepted."""
    response = logs.put_log_events(
        logGroupName=group,
        logStreamName=stream,
        logEvents=[{"timestamp": ms, "message": message} for ms, message in sorted(events)],
    )
    assert not response.get("rejectedLogEventsInfo"), response


def nodes_of(outputs: dict) -> dict[str, tuple[str, str]]:
    """label -> (instance id, private IP), as verify labels the nodes."""
    nodes = {"manager": (outputs["managerInstanceId"], outputs["managerPrivateIp"])}
    for index, pair in enumerate(zip(outputs["workerInstanceIds"], outputs["workerPrivateIps"]), start=1):
        nodes[f"worker-{index}"] = pair
    return nodes


def ips_of(outputs: dict) -> dict[str, str]:
    return {label: ip for label, (_, ip) in nodes_of(outputs).items()}


def ship_captured_log(logs: Any, outputs: dict, label: str, start_ms: int, scenario: str = "healthy") -> None:
    """Node `label`'s captured wso2carbon.log into its stream, one event per second from `start_ms`."""
    instance_id = nodes_of(outputs)[label][0]
    events = log_events(captured(scenario, label, "log", ips_of(outputs)))
    ship(logs, instance_id, [(start_ms + i * 1000, event) for i, event in enumerate(events)])


def create_carbon_logs(logs: Any, outputs: dict) -> dict:
    """The stack's log groups and one carbon stream per node (named by instance id), holding the
    node's captured wso2carbon.log from half an hour ago; returns logGroupNames."""
    for group in LOG_GROUPS.values():
        logs.create_log_group(logGroupName=group)
    for label, (instance_id, _) in nodes_of(outputs).items():
        logs.create_log_stream(logGroupName=CARBON, logStreamName=instance_id)
        if label in CAPTURED_NODES:
            ship_captured_log(logs, outputs, label, now_ms() - 30 * MINUTE_MS)
    return dict(LOG_GROUPS)


def answer_live_views(shell: Any, outputs: dict, scenario: str = "healthy") -> None:
    """conftest's NodeShell `shell`: each node's Hazelcast REST endpoint answers as the captured
    members did in `scenario` (their addresses mapped to the nodes'); a node the scenario has no
    answer for fails like curl against a closed port."""
    ips = ips_of(outputs)
    for label, (instance_id, _) in nodes_of(outputs).items():
        command = members_command(outputs["clusterPort"])
        if (CAPTURED / scenario / f"{label}.rest").exists():
            shell.answer(command, captured(scenario, label, "rest", ips), instance_id=instance_id)
        else:
            shell.answer(
                command,
                status="Failed",
                code=7,
                instance_id=instance_id,
                stderr=f"curl: (7) Failed to connect to 127.0.0.1 port {outputs['clusterPort']}: Connection refused",
            )


def build_cluster(
    ec2: Any, elbv2: Any, rds: Any, region: str = REGION, workers: int = 2, forward_http: bool = True, logs: Any = None
) -> dict:
    """A healthy cluster as the Pulumi program builds it; returns its stack outputs.

    forward_http=False is httpMode redirect: no workersHttp group and no serviceUrlHttp output.
    With a `logs` client, the nodes' wso2carbon.log streams hold one cluster of all nodes and the
    outputs carry logGroupNames (without one: an older stack, no logGroupNames output).
    """
    vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.20.{i}.0/24", AvailabilityZone=f"{region}{az}")["Subnet"][
            "SubnetId"
        ]
        for i, az in ((1, "a"), (2, "b"))
    ]
    node_sg = ec2.create_security_group(GroupName=NODE_SG_NAME, Description="WSO2 AS nodes", VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(
        GroupId=node_sg,
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": CLUSTER_PORT,
                "ToPort": CLUSTER_PORT,
                "UserIdGroupPairs": [{"GroupId": node_sg}],
            },
            {"IpProtocol": "tcp", "FromPort": 9443, "ToPort": 9443, "IpRanges": [{"CidrIp": "10.20.0.0/16"}]},
        ],
    )
    db_sg = ec2.create_security_group(GroupName="wso2-as-db", Description="WSO2 AS database", VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(
        GroupId=db_sg,
        IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 3306, "ToPort": 3306, "UserIdGroupPairs": [{"GroupId": node_sg}]}
        ],
    )

    def node(name: str, ip: str, subnet: str) -> str:
        eni = ec2.create_network_interface(SubnetId=subnet, Groups=[node_sg], PrivateIpAddress=ip)["NetworkInterface"]
        instance = ec2.run_instances(
            ImageId=AMI,
            MinCount=1,
            MaxCount=1,
            InstanceType="t3.medium",
            NetworkInterfaces=[{"DeviceIndex": 0, "NetworkInterfaceId": eni["NetworkInterfaceId"]}],
            MetadataOptions={"HttpTokens": "required", "HttpEndpoint": "enabled", "HttpPutResponseHopLimit": 1},
            TagSpecifications=[
                {
                    "ResourceType": "instance",
                    "Tags": [{"Key": "Name", "Value": name}, {"Key": TAG_KEY, "Value": TAG_VALUE}],
                }
            ],
        )["Instances"][0]
        return instance["InstanceId"]

    manager_ip = "10.20.1.10"
    manager_id = node("manager", manager_ip, subnets[0])
    worker_ips = [f"10.20.{1 + i % 2}.{20 + i}" for i in range(workers)]
    worker_ids = [node(f"worker-{i + 1}", ip, subnets[i % 2]) for i, ip in enumerate(worker_ips)]

    def target_group(name: str, protocol: str, port: int, ids: list[str]) -> str:
        arn = elbv2.create_target_group(
            Name=name,
            Protocol=protocol,
            Port=port,
            VpcId=vpc,
            TargetType="instance",
            HealthCheckPath="/carbon/admin/login.jsp",
        )["TargetGroups"][0]["TargetGroupArn"]
        elbv2.register_targets(TargetGroupArn=arn, Targets=[{"Id": i, "Port": port} for i in ids])
        return arn

    arns = {
        **({"workersHttp": target_group("as-workers-http", "HTTP", 9763, worker_ids)} if forward_http else {}),
        "workersHttps": target_group("as-workers-https", "HTTPS", 9443, worker_ids),
        "managerHttps": target_group("as-manager-https", "HTTPS", 9443, [manager_id]),
    }

    rds.create_db_subnet_group(DBSubnetGroupName="wso2-as-db", DBSubnetGroupDescription="db", SubnetIds=subnets)
    rds.create_db_instance(
        DBInstanceIdentifier=DB_ID,
        DBInstanceClass="db.t3.small",
        Engine="mysql",
        MasterUsername="wso2",
        MasterUserPassword="not-a-real-password",
        AllocatedStorage=20,
        StorageEncrypted=True,
        PubliclyAccessible=False,
        VpcSecurityGroupIds=[db_sg],
        DBSubnetGroupName="wso2-as-db",
    )
    lb_dns = "wso2-as-123456.us-east-1.elb.amazonaws.com"
    outputs = {
        "region": region,
        "managerInstanceId": manager_id,
        "managerPrivateIp": manager_ip,
        "workerInstanceIds": worker_ids,
        "workerPrivateIps": worker_ips,
        "nodeSecurityGroupId": node_sg,
        "nodeSecurityGroupName": NODE_SG_NAME,
        "databaseSecurityGroupId": db_sg,
        "clusterPort": CLUSTER_PORT,
        "discoveryTagKey": TAG_KEY,
        "discoveryTagValue": TAG_VALUE,
        "targetGroupArns": arns,
        "databaseInstanceId": DB_ID,
        "databaseNames": DATABASE_NAMES,
        "managementAllowedCidrs": ["10.20.0.0/16"],
        "serviceUrlHttps": "https://as.example.com/",
        "managementConsoleUrl": "https://mgt.as.example.com/carbon/",
        "loadBalancerDnsName": lb_dns,
        "vpcId": vpc,
    }
    if forward_http:
        outputs["serviceUrlHttp"] = "http://as.example.com/"
    if logs is not None:
        outputs["logGroupNames"] = create_carbon_logs(logs, outputs)
    return outputs
