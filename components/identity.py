"""IAM: the instance roles and profiles of the manager and of the workers, and the
cluster-discovery IAM user and key.

Least privilege: each node may read the secrets its role needs (only the manager reads the
database master password), the product and driver objects (when they live in S3), its
CloudWatch agent configuration, write to this stack's node log groups and metrics, and reach
SSM. Hazelcast 3.5 (kernel 4.4.1) discovers members only with an access key; that key belongs to
a dedicated user allowed nothing but ec2:DescribeInstances (granted through a group, FSBP
IAM.2), and its values go straight into Secrets Manager.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Mapping, Optional, Sequence

import pulumi
import pulumi_aws as aws

from components.secrets import Secrets
from userdata.limits import check_download_url
from userdata.settings import SECRET_DB_MASTER_PASSWORD, SECRET_DISCOVERY_ACCESS_KEY, SECRET_DISCOVERY_SECRET_KEY

ROLES = ("manager", "worker")
# ec2:DescribeInstances supports no resource-level permissions: "*" is the only valid resource.
DESCRIBE_INSTANCES = {"Sid": "ClusterDiscovery", "Effect": "Allow", "Action": "ec2:DescribeInstances", "Resource": "*"}
LOG_WRITE_ACTIONS = ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"]


def assume_role_policy(service: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}],
        }
    )


def s3_object_arn(url: str, partition: str = "aws") -> Optional[str]:
    """The object ARN of an s3://bucket/key URI (None for https://). IAM reads * ? and $ in a
    resource as wildcards or variables; ${*} ${?} ${$} stand for the characters themselves."""
    location = check_download_url(url)
    if location.scheme != "s3":
        return None
    key = "".join({"*": "${*}", "?": "${?}", "$": "${$}"}.get(c, c) for c in location.path)
    return f"arn:{partition}:s3:::{location.host}/{key}"


@dataclass
class IdentityArgs:
    partition: str
    secrets: Secrets  # what the nodes may read; receives the discovery key (accessKey mode)
    artifact_urls: Sequence[str]  # product zip, JDBC driver, SVNKit jars (s3:// or https://)
    discovery: str  # "none" (wka), "accessKey" or "instanceRole"
    log_group_arns: Sequence[pulumi.Input[str]]  # the node log groups the agent writes to
    log_agent_parameter_arn: pulumi.Input[str]
    metrics_namespace: str  # where the nodes' CloudWatch agent puts memory and disk metrics
    tags: Mapping[str, str] = field(default_factory=dict)


class Identity(pulumi.ComponentResource):
    roles: dict[str, aws.iam.Role]  # "manager", "worker"
    instance_profiles: dict[str, aws.iam.InstanceProfile]
    # What a node of each role must not boot before: its permissions (and the discovery key's).
    boot_dependencies: dict[str, list[pulumi.Resource]]

    def __init__(self, name: str, args: IdentityArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("wso2:cluster:Identity", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = dict(args.tags)
        ssm_core = f"arn:{args.partition}:iam::aws:policy/AmazonSSMManagedInstanceCore"
        objects = [arn for arn in (s3_object_arn(u, args.partition) for u in args.artifact_urls) if arn]
        log_resources = pulumi.Output.all(*args.log_group_arns).apply(
            lambda arns: [resource for arn in arns for resource in (arn, f"{arn}:*")]
        )

        self.roles, self.instance_profiles, self.boot_dependencies = {}, {}, {}
        for role in ROLES:
            readable = [
                key for key in sorted(args.secrets.secrets) if role == "manager" or key != SECRET_DB_MASTER_PASSWORD
            ]
            statements: list = [
                {
                    "Sid": "ReadNodeSecrets",
                    "Effect": "Allow",
                    "Action": "secretsmanager:GetSecretValue",
                    "Resource": [args.secrets.arn(key) for key in readable],
                },
                {
                    "Sid": "ReadLogAgentConfig",
                    "Effect": "Allow",
                    "Action": "ssm:GetParameter",
                    "Resource": args.log_agent_parameter_arn,
                },
                {"Sid": "WriteNodeLogs", "Effect": "Allow", "Action": LOG_WRITE_ACTIONS, "Resource": log_resources},
                {
                    "Sid": "PutNodeMetrics",
                    "Effect": "Allow",
                    "Action": "cloudwatch:PutMetricData",
                    "Resource": "*",
                    "Condition": {"StringEquals": {"cloudwatch:namespace": args.metrics_namespace}},
                },
            ]
            if objects:
                statements.append(
                    {"Sid": "ReadArtifacts", "Effect": "Allow", "Action": "s3:GetObject", "Resource": objects}
                )
            if args.discovery == "instanceRole":
                statements.append(DESCRIBE_INSTANCES)
            self.roles[role] = aws.iam.Role(
                f"{name}-{role}-role",
                assume_role_policy=assume_role_policy("ec2.amazonaws.com"),
                description=f"WSO2 AS cluster {role}",
                tags=tags,
                opts=child,
            )
            ssm = aws.iam.RolePolicyAttachment(
                f"{name}-{role}-ssm", role=self.roles[role].name, policy_arn=ssm_core, opts=child
            )
            policy = aws.iam.RolePolicy(
                f"{name}-{role}-policy",
                role=self.roles[role].id,
                policy=pulumi.Output.json_dumps({"Version": "2012-10-17", "Statement": statements}),
                opts=child,
            )
            self.instance_profiles[role] = aws.iam.InstanceProfile(
                f"{name}-{role}-profile", role=self.roles[role].name, tags=tags, opts=child
            )
            self.boot_dependencies[role] = [ssm, policy]

        if args.discovery == "accessKey":
            self._discovery_key(name, args.secrets, tags)
        self.register_outputs({f"{role}RoleName": self.roles[role].name for role in ROLES})

    def _discovery_key(self, name: str, secrets: Secrets, tags: dict) -> None:
        child = pulumi.ResourceOptions(parent=self)
        user = aws.iam.User(f"{name}-discovery", tags=tags, opts=child)
        # FSBP IAM.2: no policy on the user itself; it gets its one permission from a group.
        group = aws.iam.Group(f"{name}-discovery", opts=child)
        group_policy = aws.iam.GroupPolicy(
            f"{name}-discovery-policy",
            group=group.name,
            policy=json.dumps({"Version": "2012-10-17", "Statement": [DESCRIBE_INSTANCES]}),
            opts=child,
        )
        membership = aws.iam.UserGroupMembership(
            f"{name}-discovery-membership", user=user.name, groups=[group.name], opts=child
        )
        key = aws.iam.AccessKey(f"{name}-discovery-key", user=user.name, opts=child)
        # The key's values go only into Secrets Manager, so they never leave as plain Outputs.
        # Nodes also wait for the key's permission, so discovery works from the first boot.
        secrets.store(SECRET_DISCOVERY_ACCESS_KEY, key.id)
        secrets.store(SECRET_DISCOVERY_SECRET_KEY, key.secret)
        for role in ROLES:
            self.boot_dependencies[role] += [group_policy, membership]
