"""The healthy cluster the `verify` tests start from, built through any boto3 clients
(in-process moto.mock_aws or a moto server). Shared by conftest.py and the test modules."""

from __future__ import annotations

from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
REGION = "us-east-1"
CLUSTER_PORT = 5701
TAG_KEY, TAG_VALUE = "wso2:cluster", "as-prod"
NODE_SG_NAME = "wso2-as-nodes"
DB_ID = "wso2-as-db"
AMI = "ami-12c6146b"  # one of moto's built-in AMIs



def build_cluster(ec2: Any, elbv2: Any, rds: Any, region: str = REGION, workers: int = 2,
                  forward_http: bool = True) -> dict:
    """A healthy cluster as the Pulumi program builds it; returns its stack outputs.

    forward_http=False is httpMode redirect: no workersHttp group and no serviceUrlHttp output.
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
    return outputs
