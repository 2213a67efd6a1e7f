"""Mirrors the double's EC2 instances, target groups and attachments into a moto server.

The health gates call ELBv2's DescribeTargetHealth during `pulumi up`. For them to see the
nodes, the double makes each instance and target group in moto too and reports moto's id as the
resource's id; an attachment registers the target. moto reports a registered running instance
`healthy` and a stopped one `unused (Target.InvalidState)`, so a test makes a node unhealthy by
stopping its instance, or before a change by listing the instance's Name tag in
`$WSO2_DOUBLE_DIR/unhealthy.json`: a new instance of that name is stopped after each of its
registrations (ELB registers running instances only).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Optional

import boto3


class MotoMirror:
    def __init__(self, endpoint: str, region: str, unhealthy_file: Optional[Path] = None):
        self.unhealthy_file = unhealthy_file
        self.names: dict[str, Optional[str]] = {}  # instance id -> Name tag, of the instances made in this run
        session = boto3.session.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name=region
        )
        self.ec2 = session.client("ec2", endpoint_url=endpoint)
        self.elbv2 = session.client("elbv2", endpoint_url=endpoint)
        self._vpc: Optional[str] = None

    def vpc(self) -> str:
        if self._vpc is None:
            self._vpc = self.ec2.describe_vpcs()["Vpcs"][0]["VpcId"]  # moto's default VPC
        return self._vpc

    def created(self, type_: str, rid: str, outputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """The resource's id (moto's, where moto made it) and its outputs."""
        if type_ == "aws:ec2/instance:Instance":
            made = self.ec2.run_instances(
                ImageId=outputs.get("ami") or "ami-12345678",
                MinCount=1,
                MaxCount=1,
                InstanceType=outputs.get("instanceType") or "t3.medium",
            )
            new_id = made["Instances"][0]["InstanceId"]
            self.names[new_id] = (outputs.get("tags") or {}).get("Name")
            return new_id, _renamed(outputs, rid, new_id)
        if type_ == "aws:lb/targetGroup:TargetGroup":
            name = rid.split("targetgroup/", 1)[1].split("/", 1)[0][:32]
            made = self.elbv2.create_target_group(
                Name=name,
                Protocol=outputs.get("protocol") or "HTTPS",
                Port=int(outputs.get("port") or 443),
                VpcId=self.vpc(),
                TargetType="instance",
            )
            arn = made["TargetGroups"][0]["TargetGroupArn"]
            return arn, {
                **_renamed(outputs, rid, arn),
                "arn": arn,
                "arnSuffix": "targetgroup/" + arn.split(":targetgroup/", 1)[1],
            }
        if type_ == "aws:lb/targetGroupAttachment:TargetGroupAttachment":
            unhealthy = self.names.get(outputs["targetId"]) in self.unhealthy_names()
            if unhealthy:  # ELB registers running instances only; this one is stopped again after
                self.ec2.start_instances(InstanceIds=[outputs["targetId"]])
            self.elbv2.register_targets(TargetGroupArn=outputs["targetGroupArn"], Targets=[_target(outputs)])
            if unhealthy:
                self.ec2.stop_instances(InstanceIds=[outputs["targetId"]])
        return rid, outputs

    def unhealthy_names(self) -> list[str]:
        if self.unhealthy_file is None or not self.unhealthy_file.exists():
            return []
        return json.loads(self.unhealthy_file.read_text())

    def deleted(self, type_: str, rid: str, outputs: dict[str, Any]) -> None:
        if type_ == "aws:ec2/instance:Instance":
            self.ec2.terminate_instances(InstanceIds=[rid])
        elif type_ == "aws:lb/targetGroup:TargetGroup":
            self.elbv2.delete_target_group(TargetGroupArn=rid)
        elif type_ == "aws:lb/targetGroupAttachment:TargetGroupAttachment":
            self.elbv2.deregister_targets(TargetGroupArn=outputs["targetGroupArn"], Targets=[_target(outputs)])


def _target(outputs: dict[str, Any]) -> dict[str, Any]:
    target = {"Id": outputs["targetId"]}
    if outputs.get("port") is not None:
        target["Port"] = int(outputs["port"])
    return target


def _renamed(outputs: dict[str, Any], old: str, new: str) -> dict[str, Any]:
    return {k: (v.replace(old, new) if isinstance(v, str) else v) for k, v in outputs.items()} | {"id": new}


def from_environment() -> Optional[MotoMirror]:
    endpoint = os.environ.get("WSO2_DOUBLE_MOTO")
    if not endpoint:
        return None
    cloud = Path(os.environ.get("WSO2_DOUBLE_DIR", "build/double"))
    return MotoMirror(endpoint, os.environ.get("AWS_REGION", "eu-west-1"), cloud / "unhealthy.json")
