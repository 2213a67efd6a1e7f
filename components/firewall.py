"""The security-group rule plan: every rule between clients, the load balancer, the nodes, the
database and the shared file system, as plain data.

`security_groups.py` declares exactly these rules; the configuration check counts them against
AWS's per-group quota before anything is declared. One plan, so the two cannot disagree.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Optional, Sequence

from userdata.limits import MYSQL_PORT

NFS_PORT = 2049
ANYWHERE = "0.0.0.0/0"


@dataclass(frozen=True)
class Rule:
    label: str  # unique suffix of the rule's resource name, e.g. "alb-in-443-client-0"
    group: str  # "alb", "nodes", "db" or "efs"
    direction: str  # "ingress" or "egress"
    port: int
    description: str
    cidr: Optional[str] = None  # either a CIDR block ...
    peer: Optional[str] = None  # ... or another group of the plan


def plan_rules(
    *,
    client_cidrs: Sequence[str],
    management_cidrs: Sequence[str] = (),
    http_port: Optional[int] = None,
    https_port: int = 9443,
    cluster_port: int = 5701,
    extra_node_egress_ports: Sequence[int] = (),
    shared_file_system: bool = False,
) -> list[Rule]:
    """`http_port` is None when the load balancer never sends HTTP to the nodes (httpMode
    redirect): then neither the load balancer's egress nor the nodes' ingress opens it."""
    rules: list[Rule] = []

    def rule(label, group, direction, port, description, cidr=None, peer=None):
        rules.append(Rule(label, group, direction, port, description, cidr, peer))

    # Load balancer: clients (and the console's allowed sources) in, product ports out.
    sources = list(dict.fromkeys([*client_cidrs, *management_cidrs]))
    for i, cidr in enumerate(sources):
        for port in (80, 443):
            rule(
                f"alb-in-{port}-client-{i}",
                "alb",
                "ingress",
                port,
                f"Clients {cidr} to the listener on {port}",
                cidr=cidr,
            )
    product_ports = ([("http", http_port)] if http_port is not None else []) + [("https", https_port)]
    for label, port in product_ports:
        rule(f"alb-out-{label}-nodes", "alb", "egress", port, f"To the node WSO2 {label.upper()} port", peer="nodes")
        rule(
            f"nodes-in-{label}-alb",
            "nodes",
            "ingress",
            port,
            f"WSO2 {label.upper()} from the load balancer",
            peer="alb",
        )
    # Nodes: Hazelcast between members only. 443 out: the product zip and JDBC driver (S3 or
    # https), dnf (AL2023 mirrors are https), Secrets Manager, EC2 (discovery), SSM, CloudWatch.
    rule("nodes-in-cluster", "nodes", "ingress", cluster_port, "Hazelcast clustering between members", peer="nodes")
    rule("nodes-out-https", "nodes", "egress", 443, "HTTPS to AWS APIs, S3, package mirrors, SSM", cidr=ANYWHERE)
    rule("nodes-out-mysql", "nodes", "egress", MYSQL_PORT, "MySQL to the database", peer="db")
    rule("nodes-out-cluster", "nodes", "egress", cluster_port, "Hazelcast clustering between members", peer="nodes")
    for port in extra_node_egress_ports:
        rule(f"nodes-out-{port}", "nodes", "egress", port, f"Deployment synchronizer (SVN) on {port}", cidr=ANYWHERE)
    # Database: MySQL from the nodes; no egress rules (RDS initiates nothing).
    rule("db-in-mysql", "db", "ingress", MYSQL_PORT, "MySQL from the WSO2 nodes", peer="nodes")
    if shared_file_system:
        rule("nodes-out-nfs", "nodes", "egress", NFS_PORT, "NFS to the shared deployment file system", peer="efs")
        rule("efs-in-nfs", "efs", "ingress", NFS_PORT, "NFS from the WSO2 nodes", peer="nodes")
    return rules


def rule_counts(**plan_arguments) -> list[tuple[str, str, int]]:
    """(group, direction, number of rules) for the plan with these arguments."""
    counts = Counter((r.group, r.direction) for r in plan_rules(**plan_arguments))
    return [(group, direction, count) for (group, direction), count in sorted(counts.items())]
