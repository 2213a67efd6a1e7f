"""IAM: the nodes' instance role and profile, and the cluster-discovery IAM user and key.

Least privilege: nodes may read this stack's secrets and the product/driver objects (when they
live in S3), and reach SSM. Hazelcast 3.5 (kernel 4.4.1) discovers members only with an access
key; that key belongs to a dedicated user allowed nothing but ec2:DescribeInstances (granted
through a group, FSBP IAM.2), and its values go straight into Secrets Manager.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Mapping, Optional, Sequence

import pulumi
import pulumi_aws as aws

from components.secrets import Secrets

SSM_CORE_POLICY = "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"
EC2_ASSUME_ROLE = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
)
# ec2:DescribeInstances supports no resource-level permissions: "*" is the only valid resource.
DESCRIBE_INSTANCES = {"Sid": "ClusterDiscovery", "Effect": "Allow", "Action": "ec2:DescribeInstances", "Resource": "*"}


def s3_object_arn(url: str, partition: str = "aws") -> Optional[str]:
    """arn:aws:s3:::bucket/key for an s3://bucket/key URI; None for an https:// URL."""
    if not url.startswith("s3://"):
        return None
    return f"arn:{partition}:s3:::{url[len('s3://'):]}"


@dataclass
class IdentityArgs:
    secret_arns: Mapping[str, pulumi.Input[str]]  # everything the nodes may read
    artifact_urls: Sequence[str]  # product zip and JDBC driver (s3:// or https://)
    discovery: str  # "none" (wka), "accessKey" or "instanceRole"
    secrets: Optional[Secrets] = None  # where the discovery key goes (accessKey mode)
    tags: Mapping[str, str] = field(default_factory=dict)


class Identity(pulumi.ComponentResource):
    role: aws.iam.Role
    instance_profile: aws.iam.InstanceProfile
    # What a node must not boot before: its permissions and the secret values it reads.
    boot_dependencies: list[pulumi.Resource]

    def __init__(self, name: str, args: IdentityArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("wso2:cluster:Identity", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = dict(args.tags)
        partition = aws.get_partition().partition

        self.role = aws.iam.Role(
            f"{name}-node-role",
            assume_role_policy=EC2_ASSUME_ROLE,
            description="WSO2 AS cluster nodes",
            tags=tags,
            opts=child,
        )
        ssm = aws.iam.RolePolicyAttachment(
            f"{name}-node-ssm", role=self.role.name, policy_arn=SSM_CORE_POLICY, opts=child
        )
        statements: list = [
            {
                "Sid": "ReadStackSecrets",
                "Effect": "Allow",
                "Action": "secretsmanager:GetSecretValue",
                "Resource": [args.secret_arns[k] for k in sorted(args.secret_arns)],
            }
        ]
        objects = [arn for arn in (s3_object_arn(u, partition) for u in args.artifact_urls) if arn]
        if objects:
            statements.append({"Sid": "ReadArtifacts", "Effect": "Allow", "Action": "s3:GetObject", "Resource": objects})
        if args.discovery == "instanceRole":
            statements.append(DESCRIBE_INSTANCES)
        node_policy = aws.iam.RolePolicy(
            f"{name}-node-policy",
            role=self.role.id,
            policy=pulumi.Output.json_dumps({"Version": "2012-10-17", "Statement": statements}),
            opts=child,
        )
        self.instance_profile = aws.iam.InstanceProfile(f"{name}-node-profile", role=self.role.name, tags=tags, opts=child)
        self.boot_dependencies = [ssm, node_policy]

        self.discovery_user: Optional[aws.iam.User] = None
        if args.discovery == "accessKey":
            if args.secrets is None or args.secrets.discovery_access_key_secret is None:
                raise ValueError("accessKey discovery needs the Secrets component's discovery secrets")
            self.discovery_user = aws.iam.User(f"{name}-discovery", tags=tags, opts=child)
            # FSBP IAM.2: no policy on the user itself; it gets its one permission from a group.
            group = aws.iam.Group(f"{name}-discovery", opts=child)
            group_policy = aws.iam.GroupPolicy(
                f"{name}-discovery-policy",
                group=group.name,
                policy=json.dumps({"Version": "2012-10-17", "Statement": [DESCRIBE_INSTANCES]}),
                opts=child,
            )
            membership = aws.iam.UserGroupMembership(
                f"{name}-discovery-membership", user=self.discovery_user.name, groups=[group.name], opts=child
            )
            key = aws.iam.AccessKey(f"{name}-discovery-key", user=self.discovery_user.name, opts=child)
            # The key's values go only into Secrets Manager, written here so they never leave
            # this component as plain Outputs. Nodes also wait for the key's permission (group
            # policy and membership), so discovery works from the first boot.
            self.boot_dependencies += [
                group_policy,
                membership,
                Secrets.put_value(f"{name}-discovery-access-key", args.secrets.discovery_access_key_secret,
                                  key.id, parent=self),
                Secrets.put_value(f"{name}-discovery-secret-key", args.secrets.discovery_secret_key_secret,
                                  key.secret, parent=self),
            ]

        self.register_outputs({"roleName": self.role.name, "instanceProfileName": self.instance_profile.name})
