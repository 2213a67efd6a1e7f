"""The shared deployment file system (deploymentSynchronizer efs): an encrypted EFS file system
that holds the product's repository/deployment/server for every node, so that webapps deployed
on the manager reach the workers and outlive any node.

Reachable from the node group only (NFS, in transit over TLS: the file system policy refuses
anything else), with a mount target in each private subnet and AWS Backup's daily plan (FSBP
EFS.2). The boot script mounts it; the nodes do not wait for it to exist (their boot retries).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Mapping, Optional, Sequence

import pulumi
import pulumi_aws as aws


@dataclass
class SharedFilesArgs:
    subnet_ids: Sequence[pulumi.Input[str]]  # the private subnets, one per AZ
    security_group_id: pulumi.Input[str]  # admits NFS from the nodes only
    tags: Mapping[str, str] = field(default_factory=dict)


def file_system_policy(file_system_arn: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "MountThroughMountTargets",
                    "Effect": "Allow",
                    "Principal": {"AWS": "*"},
                    "Action": [
                        "elasticfilesystem:ClientMount",
                        "elasticfilesystem:ClientWrite",
                        "elasticfilesystem:ClientRootAccess",
                    ],
                    "Resource": file_system_arn,
                    "Condition": {"Bool": {"elasticfilesystem:AccessedViaMountTarget": "true"}},
                },
                {
                    "Sid": "DenyInsecureTransport",
                    "Effect": "Deny",
                    "Principal": {"AWS": "*"},
                    "Action": "*",
                    "Resource": file_system_arn,
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                },
            ],
        }
    )


class SharedFiles(pulumi.ComponentResource):
    file_system: aws.efs.FileSystem

    def __init__(self, name: str, args: SharedFilesArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("wso2:cluster:SharedFiles", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.file_system = aws.efs.FileSystem(
            f"{name}-deployment-fs",
            encrypted=True,
            performance_mode="generalPurpose",
            throughput_mode="elastic",
            tags={**args.tags, "Name": f"{name}-deployment"},
            opts=child,
        )
        aws.efs.BackupPolicy(
            f"{name}-deployment-fs-backup",
            file_system_id=self.file_system.id,
            backup_policy=aws.efs.BackupPolicyBackupPolicyArgs(status="ENABLED"),
            opts=child,
        )
        aws.efs.FileSystemPolicy(
            f"{name}-deployment-fs-policy",
            file_system_id=self.file_system.id,
            policy=self.file_system.arn.apply(file_system_policy),
            opts=child,
        )
        for index, subnet_id in enumerate(args.subnet_ids):
            aws.efs.MountTarget(
                f"{name}-deployment-fs-{index}",
                file_system_id=self.file_system.id,
                subnet_id=subnet_id,
                security_groups=[args.security_group_id],
                opts=child,
            )
        self.register_outputs({"fileSystemId": self.file_system.id})
