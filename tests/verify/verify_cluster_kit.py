"""The healthy cluster the `verify` tests start from, built through any boto3 clients
(in-process moto.mock_aws or a moto server). Shared by conftest.py and the test modules."""

from __future__ import annotations

import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Optional

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
# What /opt/wso2-cluster/bin/boot schema-status prints on a manager whose schemas are in place.
HEALTHY_SCHEMA = {"databases": [
    {"name": "WSO2_USER_DB", "tables": 40, "expected": 40, "ready": True},
    {"name": "WSO2_REGISTRY_DB", "tables": 40, "expected": 40, "ready": True},
]}
MINUTE_MS = 60_000


# --- wso2carbon.log as the CloudWatch agent ships it: one event per log4j event ------------------


def now_ms() -> int:
    return int(time.time() * 1000)


def log4j_time(ms: int) -> str:
    moment = datetime.fromtimestamp(ms / 1000, tz=timezone.utc)
    return moment.strftime("%Y-%m-%d %H:%M:%S,") + f"{ms % 1000:03d}"


def carbon_line(ms: int, logger: str, text: str, level: str = "INFO") -> str:
    """A Carbon 4.4 log4j line: TID: [%T] [%S] [%d] %P%5p {%c} - %x %m {%c}."""
    return f"TID: [-1] [] [{log4j_time(ms)}] {level:>5} {{{logger}}} -  {text} {{{logger}}}"


def member_list_message(ms: int, this_ip: str, member_ips: list[str], port: int = CLUSTER_PORT) -> str:
    """The multi-line event Hazelcast 3.5's ClusterService logs when membership changes."""
    logger = "com.hazelcast.cluster.ClusterService"
    lines = [f"\tMember [{ip}]:{port}{' this' if ip == this_ip else ''}" for ip in member_ips]
    return (
        f"TID: [-1] [] [{log4j_time(ms)}]  INFO {{{logger}}} -  [{this_ip}]:{port} [{CLUSTER_DOMAIN}] [3.5] \n\n"
        f"Members [{len(member_ips)}] {{\n" + "\n".join(lines) + "\n}\n"
        f" {{{logger}}}"
    )


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


def log_member_lists(logs: Any, outputs: dict, views: dict[str, list[str]], at: int,
                     extra_ips: Optional[dict[str, list[str]]] = None) -> None:
    """Each node `label` in `views` logs, at `at` ms, a member list of the nodes labelled in its
    view (itself marked `this` when listed) plus any `extra_ips` for it; then an unrelated line."""
    nodes = nodes_of(outputs)
    for label, members in views.items():
        instance_id, ip = nodes[label]
        ips = [nodes[m][1] for m in members] + (extra_ips or {}).get(label, [])
        ship(logs, instance_id, [
            (at, member_list_message(at, ip, ips)),
            (at + 1_000, carbon_line(at + 1_000, "org.wso2.carbon.core.clustering.hazelcast.HazelcastClusteringAgent",
                                     f"Cluster domain: {CLUSTER_DOMAIN} membership changed")),
        ])


def create_carbon_logs(logs: Any, outputs: dict, healthy: bool = True) -> dict:
    """The stack's log groups and one carbon stream per node (named by instance id), with boot
    lines and, when `healthy`, every node's member list of all nodes; returns logGroupNames."""
    for group in LOG_GROUPS.values():
        logs.create_log_group(logGroupName=group)
    start = now_ms() - 30 * MINUTE_MS
    for label, (instance_id, ip) in nodes_of(outputs).items():
        logs.create_log_stream(logGroupName=CARBON, logStreamName=instance_id)
        ship(logs, instance_id, [
            (start, carbon_line(start, "org.wso2.carbon.core.init.CarbonServerManager", "Starting WSO2 Carbon...")),
            (start + 5_000, carbon_line(start + 5_000, "org.wso2.carbon.core.clustering.hazelcast.HazelcastClusteringAgent",
                                        "Using aws based membership management scheme")),
        ])
    if healthy:
        labels = list(nodes_of(outputs))
        log_member_lists(logs, outputs, {label: labels for label in labels}, at=start + MINUTE_MS)
    return dict(LOG_GROUPS)



def build_cluster(ec2: Any, elbv2: Any, rds: Any, region: str = REGION, workers: int = 2,
                  forward_http: bool = True, logs: Any = None) -> dict:
    """A healthy cluster as the Pulumi program builds it; returns its stack outputs.

    forward_http=False is httpMode redirect: no workersHttp group and no serviceUrlHttp output.
    With a `logs` client, the nodes' wso2carbon.log streams hold one cluster of all nodes and the
    outputs carry logGroupNames (without one: an older stack, no logGroupNames output).
    """
    vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.20.{i}.0/24", AvailabilityZone=f"{region}{az}")["Subnet"]["SubnetId"]
        for i, az in ((1, "a"), (2, "b"))
    ]
    node_sg = ec2.create_security_group(GroupName=NODE_SG_NAME, Description="WSO2 AS nodes", VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(
        GroupId=node_sg,
        IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": CLUSTER_PORT, "ToPort": CLUSTER_PORT, "UserIdGroupPairs": [{"GroupId": node_sg}]},
            {"IpProtocol": "tcp", "FromPort": 9443, "ToPort": 9443, "IpRanges": [{"CidrIp": "10.20.0.0/16"}]},
        ],
    )
    db_sg = ec2.create_security_group(GroupName="wso2-as-db", Description="WSO2 AS database", VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(
        GroupId=db_sg,
        IpPermissions=[{"IpProtocol": "tcp", "FromPort": 3306, "ToPort": 3306, "UserIdGroupPairs": [{"GroupId": node_sg}]}],
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
                {"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": name}, {"Key": TAG_KEY, "Value": TAG_VALUE}]}
            ],
        )["Instances"][0]
        return instance["InstanceId"]

    manager_ip = "10.20.1.10"
    manager_id = node("manager", manager_ip, subnets[0])
    worker_ips = [f"10.20.{1 + i % 2}.{20 + i}" for i in range(workers)]
    worker_ids = [node(f"worker-{i + 1}", ip, subnets[i % 2]) for i, ip in enumerate(worker_ips)]

    def target_group(name: str, protocol: str, port: int, ids: list[str]) -> str:
        arn = elbv2.create_target_group(
            Name=name, Protocol=protocol, Port=port, VpcId=vpc, TargetType="instance", HealthCheckPath="/carbon/admin/login.jsp"
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
