"""Security groups of the load balancer, the nodes and the database, and every rule between them.

Groups carry no inline rules; each rule is its own resource with a description, so a rule change
never replaces a group (a group in use by an ENI or RDS cannot be replaced quickly). No SSH:
operators reach nodes through SSM Session Manager, which needs only outbound 443.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Optional, Sequence

import pulumi
import pulumi_aws as aws

MYSQL_PORT = 3306
ANYWHERE = "0.0.0.0/0"


@dataclass
class SecurityGroupsArgs:
    vpc_id: pulumi.Input[str]
    client_cidrs: Sequence[str]
    # 9763 + offset, or None when the load balancer never sends HTTP to the nodes (httpMode
    # redirect): then neither the ALB's egress nor the nodes' ingress opens that port.
    http_port: Optional[int]
    https_port: int  # 9443 + offset
    cluster_port: int
    # Extra outbound ports of the nodes, e.g. the SVN server of the deployment synchronizer.
    extra_node_egress_ports: Sequence[int] = ()
    tags: Mapping[str, str] = field(default_factory=dict)


class SecurityGroups(pulumi.ComponentResource):
    alb: aws.ec2.SecurityGroup
    node: aws.ec2.SecurityGroup
    database: aws.ec2.SecurityGroup

    def __init__(self, name: str, args: SecurityGroupsArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("wso2:cluster:SecurityGroups", name, None, opts)
        self._name = name
        tags = dict(args.tags)

        def group(suffix: str, description: str) -> aws.ec2.SecurityGroup:
            # auto-named (name + random suffix) so a group can be replaced; Hazelcast's AWS
            # discovery reads the node group's actual name from its output.
            return aws.ec2.SecurityGroup(
                f"{name}-{suffix}",
                vpc_id=args.vpc_id,
                description=description,
                tags={**tags, "Name": f"{name}-{suffix}"},
                opts=pulumi.ResourceOptions(parent=self),
            )

        self.alb = group("alb-sg", "WSO2 AS load balancer: HTTP/HTTPS from clients, to the node product ports")
        self.node = group("nodes-sg", "WSO2 AS nodes: product ports from the load balancer, cluster port between nodes")
        self.database = group("db-sg", "WSO2 AS database: MySQL from the nodes only")

        product_ports = [("https", args.https_port)]
        if args.http_port is not None:
            product_ports.insert(0, ("http", args.http_port))

        # Load balancer: clients in, product ports out to the nodes only.
        for i, cidr in enumerate(args.client_cidrs):
            for port in (80, 443):
                self._ingress(f"alb-in-{port}-client-{i}", self.alb, port, f"Clients {cidr} to the listener on {port}",
                              cidr=cidr)
        for label, port in product_ports:
            self._egress(f"alb-out-{label}-nodes", self.alb, port, f"To the node WSO2 {label.upper()} port",
                         peer=self.node)

        # Nodes: product ports from the load balancer only; Hazelcast between members only.
        for label, port in product_ports:
            self._ingress(f"nodes-in-{label}-alb", self.node, port, f"WSO2 {label.upper()} from the load balancer",
                          peer=self.alb)
        self._ingress("nodes-in-cluster", self.node, args.cluster_port, "Hazelcast clustering between members",
                      peer=self.node)
        # 443 out: the product zip and JDBC driver (S3/https), dnf (AL2023 mirrors are https),
        # Secrets Manager, EC2 DescribeInstances (discovery) and SSM. No port 80: nothing needs it.
        self._egress("nodes-out-https", self.node, 443, "HTTPS to AWS APIs, S3, package mirrors, SSM", cidr=ANYWHERE)
        self._egress("nodes-out-mysql", self.node, MYSQL_PORT, "MySQL to the database", peer=self.database)
        self._egress("nodes-out-cluster", self.node, args.cluster_port, "Hazelcast clustering between members",
                     peer=self.node)
        for port in args.extra_node_egress_ports:
            self._egress(f"nodes-out-{port}", self.node, port, f"Deployment synchronizer (SVN) on {port}", cidr=ANYWHERE)

        # Database: MySQL from the nodes; no egress rules (RDS initiates nothing).
        self._ingress("db-in-mysql", self.database, MYSQL_PORT, "MySQL from the WSO2 nodes", peer=self.node)

        self.register_outputs(
            {"albSecurityGroupId": self.alb.id, "nodeSecurityGroupId": self.node.id,
             "databaseSecurityGroupId": self.database.id}
        )

    def _rule_args(self, group, port, description, cidr, peer) -> dict:
        return dict(
            security_group_id=group.id,
            ip_protocol="tcp",
            from_port=port,
            to_port=port,
            description=description,
            cidr_ipv4=cidr,
            referenced_security_group_id=peer.id if peer is not None else None,
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _ingress(self, label: str, group, port: int, description: str, *, cidr=None, peer=None) -> None:
        aws.vpc.SecurityGroupIngressRule(f"{self._name}-{label}", **self._rule_args(group, port, description, cidr, peer))

    def _egress(self, label: str, group, port: int, description: str, *, cidr=None, peer=None) -> None:
        aws.vpc.SecurityGroupEgressRule(f"{self._name}-{label}", **self._rule_args(group, port, description, cidr, peer))
