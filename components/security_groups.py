"""Security groups of the load balancer, the nodes, the database (and the shared file system),
with every rule of the plan in `firewall.py`.

Groups carry no inline rules; each rule is its own resource with a description, so a rule change
never replaces a group (a group in use by an ENI or RDS cannot be replaced quickly). No SSH:
operators reach nodes through SSM Session Manager, which needs only outbound 443.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Optional, Sequence

import pulumi
import pulumi_aws as aws

from components.firewall import Rule

DESCRIPTIONS = {
    "alb": "WSO2 AS load balancer: HTTP/HTTPS from clients, to the node product ports",
    "nodes": "WSO2 AS nodes: product ports from the load balancer, cluster port between nodes",
    "db": "WSO2 AS database: MySQL from the nodes only",
    "efs": "WSO2 AS shared deployment file system: NFS from the nodes only",
}


@dataclass
class SecurityGroupsArgs:
    vpc_id: pulumi.Input[str]
    rules: Sequence[Rule]  # firewall.plan_rules(...)
    tags: Mapping[str, str] = field(default_factory=dict)


class SecurityGroups(pulumi.ComponentResource):
    alb: aws.ec2.SecurityGroup
    node: aws.ec2.SecurityGroup
    database: aws.ec2.SecurityGroup
    efs: Optional[aws.ec2.SecurityGroup] = None  # only with the shared file system

    def __init__(self, name: str, args: SecurityGroupsArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("wso2:cluster:SecurityGroups", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = dict(args.tags)
        suffixes = {"alb": "alb-sg", "nodes": "nodes-sg", "db": "db-sg", "efs": "efs-sg"}
        used = {r.group for r in args.rules} | {r.peer for r in args.rules if r.peer}
        # Auto-named (name + random suffix) so a group can be replaced; Hazelcast's AWS discovery
        # reads the node group's actual name from its output.
        groups = {
            key: aws.ec2.SecurityGroup(
                f"{name}-{suffix}",
                vpc_id=args.vpc_id,
                description=DESCRIPTIONS[key],
                tags={**tags, "Name": f"{name}-{suffix}"},
                opts=child,
            )
            for key, suffix in suffixes.items()
            if key in used
        }
        self.alb, self.node, self.database = groups["alb"], groups["nodes"], groups["db"]
        self.efs = groups.get("efs")

        for rule in args.rules:
            resource = (
                aws.vpc.SecurityGroupIngressRule if rule.direction == "ingress" else aws.vpc.SecurityGroupEgressRule
            )
            resource(
                f"{name}-{rule.label}",
                security_group_id=groups[rule.group].id,
                ip_protocol="tcp",
                from_port=rule.port,
                to_port=rule.port,
                description=rule.description,
                cidr_ipv4=rule.cidr,
                referenced_security_group_id=groups[rule.peer].id if rule.peer else None,
                opts=child,
            )
        self.register_outputs({f"{key}SecurityGroupId": group.id for key, group in groups.items()})
