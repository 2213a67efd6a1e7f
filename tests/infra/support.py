"""Helpers for the infrastructure tests: build a stack offline and read what it declared."""

from __future__ import annotations

import json
from typing import Any, Mapping, Optional

from offline.engine import DeclaredResource, Inventory
from offline.program import run_stack
from tests.runs import stack as stack  # the memoised run, re-exported for the infra tests
from userdata.unpack import unpack_user_data

# type tokens
VPC = "aws:ec2/vpc:Vpc"
SUBNET = "aws:ec2/subnet:Subnet"
IGW = "aws:ec2/internetGateway:InternetGateway"
NAT = "aws:ec2/natGateway:NatGateway"
EIP = "aws:ec2/eip:Eip"
ROUTE_TABLE = "aws:ec2/routeTable:RouteTable"
ROUTE = "aws:ec2/route:Route"
RTA = "aws:ec2/routeTableAssociation:RouteTableAssociation"
DEFAULT_SG = "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"
SG = "aws:ec2/securityGroup:SecurityGroup"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
ENI = "aws:ec2/networkInterface:NetworkInterface"
INSTANCE = "aws:ec2/instance:Instance"
ROLE = "aws:iam/role:Role"
PROFILE = "aws:iam/instanceProfile:InstanceProfile"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ROLE_ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
USER = "aws:iam/user:User"
USER_POLICY = "aws:iam/userPolicy:UserPolicy"
GROUP = "aws:iam/group:Group"
GROUP_POLICY = "aws:iam/groupPolicy:GroupPolicy"
GROUP_MEMBERSHIP = "aws:iam/userGroupMembership:UserGroupMembership"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
FLOW_LOG = "aws:ec2/flowLog:FlowLog"
BUCKET = "aws:s3/bucket:Bucket"
BUCKET_PUBLIC_ACCESS = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
BUCKET_OWNERSHIP = "aws:s3/bucketOwnershipControls:BucketOwnershipControls"
BUCKET_ENCRYPTION = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
BUCKET_LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
ACCESS_KEY = "aws:iam/accessKey:AccessKey"
SECRET = "aws:secretsmanager/secret:Secret"
SECRET_VERSION = "aws:secretsmanager/secretVersion:SecretVersion"
RANDOM_PASSWORD = "random:index/randomPassword:RandomPassword"
RDS = "aws:rds/instance:Instance"
PARAMETER_GROUP = "aws:rds/parameterGroup:ParameterGroup"
DB_SUBNET_GROUP = "aws:rds/subnetGroup:SubnetGroup"
ZONE = "aws:route53/zone:Zone"
RECORD = "aws:route53/record:Record"
ALB = "aws:lb/loadBalancer:LoadBalancer"
TARGET_GROUP = "aws:lb/targetGroup:TargetGroup"
TG_ATTACHMENT = "aws:lb/targetGroupAttachment:TargetGroupAttachment"
LISTENER = "aws:lb/listener:Listener"
LISTENER_RULE = "aws:lb/listenerRule:ListenerRule"
TLS_KEY = "tls:index/privateKey:PrivateKey"
TLS_CERT = "tls:index/selfSignedCert:SelfSignedCert"
ACM_CERT = "aws:acm/certificate:Certificate"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
METRIC_FILTER = "aws:cloudwatch/logMetricFilter:LogMetricFilter"
DASHBOARD = "aws:cloudwatch/dashboard:Dashboard"
SNS_TOPIC = "aws:sns/topic:Topic"
SNS_SUBSCRIPTION = "aws:sns/topicSubscription:TopicSubscription"
KMS_KEY = "aws:kms/key:Key"
SSM_PARAMETER = "aws:ssm/parameter:Parameter"
EFS = "aws:efs/fileSystem:FileSystem"
EFS_MOUNT_TARGET = "aws:efs/mountTarget:MountTarget"
EFS_BACKUP = "aws:efs/backupPolicy:BackupPolicy"
EFS_POLICY = "aws:efs/fileSystemPolicy:FileSystemPolicy"
WEB_ACL = "aws:wafv2/webAcl:WebAcl"
WEB_ACL_ASSOCIATION = "aws:wafv2/webAclAssociation:WebAclAssociation"
RANDOM_ID = "random:index/randomId:RandomId"
STASH = "pulumi:index:Stash"
HEALTH_GATE = "pulumi-python:dynamic/wso2:HealthGate"
DATABASE_GUARD = "pulumi-python:dynamic/wso2:DatabaseGuard"

NODE_JSON = "/opt/wso2-cluster/node.json"


def build(
    stack: str = "dev", overrides: Optional[Mapping[str, Any]] = None, secret_keys: tuple[str, ...] = ()
) -> Inventory:
    """Run the real __main__.py for `stack` (with config overrides) under the offline engine."""
    return run_stack(stack, overrides, secret_keys=secret_keys)


def node_json(instance: DeclaredResource) -> dict:
    """The node.json inside an instance's user data: base64 -> gunzip -> YAML -> write_files."""
    return json.loads(write_files(instance)[NODE_JSON])


def user_data_text(instance: DeclaredResource) -> str:
    return unpack_user_data(instance.inputs["userDataBase64"]).cloud_config


def write_files(instance: DeclaredResource) -> dict[str, str]:
    unpacked = unpack_user_data(instance.inputs["userDataBase64"])
    return {path: written.content.decode("utf-8") for path, written in unpacked.files.items()}


def by_id(inventory: Inventory, type_token: str) -> dict[str, DeclaredResource]:
    return {r.id: r for r in inventory.of_type(type_token)}


def eni_of(inventory: Inventory, instance: DeclaredResource) -> DeclaredResource:
    return by_id(inventory, ENI)[instance.inputs["primaryNetworkInterface"]["networkInterfaceId"]]


def nodes(inventory: Inventory) -> dict[str, DeclaredResource]:
    """Instances by their node name: "manager", "worker-1", ..."""
    found = {}
    for r in inventory.of_type(INSTANCE):
        stack_name = r.urn.split("::")[0].split(":")[-1]  # urn:pulumi:<stack>::<project>::...
        found[r.inputs["tags"]["Name"].removeprefix(f"{stack_name}-")] = r
    return found


def gates(inventory: Inventory) -> dict[str, DeclaredResource]:
    """Health gates by their node name: "manager", "worker-1", ..."""
    return {g.inputs["node"]: g for g in inventory.of_type(HEALTH_GATE)}


def named(inventory: Inventory, type_token: str, suffix: str) -> DeclaredResource:
    """The one resource of a type whose logical name ends with `suffix` (e.g. "-node-role")."""
    (found,) = [r for r in inventory.of_type(type_token) if r.name.endswith(suffix)]
    return found
