"""The whole WSO2 AS cluster of one stack: network, security groups, secrets, logs, identity,
database, shared files, load balancer, nodes and monitoring.

Two rules shape the wiring. Nodes never wait for the database or the load balancer (EC2, ALB
and RDS are created in parallel; a node's boot waits for the database by name). And a change
that replaces or restarts nodes rolls: the manager alone, then at most `maxUnavailableWorkers`
workers at a time, each batch launched only once every node of the previous batch is healthy
behind the load balancer (its health gate). A first deploy and a scale-out wait for nothing: a
gate waits only when its node changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import pulumi

from components import wiring
from components.config.schema import ClusterConfig
from components.database import Database
from components.health_gate import HealthGate, gate_target
from components.identity import Identity
from components.load_balancer import LoadBalancer
from components.monitoring import Monitoring
from components.network import Network
from components.node import Node, node_ami
from components.node_logs import NodeLogs
from components.node_settings import SharedFacts
from components.secrets import Secrets
from components.security_groups import SecurityGroups
from components.shared_files import SharedFiles

GATE_POLL_SECONDS = 15


@dataclass
class WSO2ClusterArgs:
    config: ClusterConfig
    project: str
    stack: str


def rollout_batches(node_names: list[str], max_unavailable: int) -> list[list[str]]:
    """The manager alone, then the workers in order, at most `max_unavailable` at a time."""
    manager, workers = node_names[:1], node_names[1:]
    return [manager] + [workers[i : i + max_unavailable] for i in range(0, len(workers), max_unavailable)]


class WSO2Cluster(pulumi.ComponentResource):
    """Declares the components in dependency order, each from its Args (wiring.py), then launches
    the nodes batch by batch behind their health gates, and registers the stack outputs."""

    def __init__(self, name: str, args: WSO2ClusterArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("wso2:cluster:Cluster", name, None, opts)
        config, child = args.config, pulumi.ResourceOptions(parent=self)
        names = wiring.stack_names(config, args.project, args.stack)
        label = names.label

        network = Network(label, wiring.network_args(config, names), child)
        groups = SecurityGroups(label, wiring.security_groups_args(config, names, network), child)
        secrets = Secrets(label, wiring.secrets_args(config, names), child)
        logs = NodeLogs(label, wiring.node_logs_args(config, names), child)
        identity = Identity(label, wiring.identity_args(config, names, secrets, logs), child)
        database = Database(label, wiring.database_args(config, names, network, groups, secrets), child)
        shared_args = wiring.shared_files_args(config, names, network, groups)
        shared = SharedFiles(label, shared_args, child) if shared_args else None
        load_balancer = LoadBalancer(label, wiring.load_balancer_args(config, names, network, groups), child)

        # Nodes, step 1: every node's ENI (its private IP is known before anything boots).
        ami = node_ami(config.ami_id, config.architecture, label, self)
        nodes = {
            node.node_name: Node(f"{label}-{node.node_name}", node, child)
            for node in wiring.node_args(config, names, network, groups, identity, ami)
        }
        # Nodes, step 2: user data and launch, batch by batch behind the health gates.
        facts = wiring.shared_facts(names, groups, secrets, identity, logs, shared)
        self.gates = self._launch(config, label, nodes, facts, network, secrets, identity, database, load_balancer)

        self.monitoring = Monitoring(
            label, wiring.monitoring_args(config, names, nodes, load_balancer, database, logs), child
        )
        self.outputs = wiring.stack_outputs(
            config, names, network, groups, secrets, logs, database, shared, load_balancer, nodes, self.monitoring
        )
        self.register_outputs(self.outputs)

    def _launch(
        self,
        config: ClusterConfig,
        label: str,
        nodes: dict[str, Node],
        facts: pulumi.Output[SharedFacts],
        network: Network,
        secrets: Secrets,
        identity: Identity,
        database: Database,
        load_balancer: LoadBalancer,
    ) -> dict[str, HealthGate]:
        """Render each node's user data from the ENIs' IPs and launch it, batch by batch.

        A node's bytes depend on its own IP and the well-known members only (the first nodes), so
        a new worker leaves every other node untouched. Each apply reads just those IPs: a new
        worker's IP is unknown at preview and would otherwise mark every node's user data unknown
        (shown as a replacement). Nothing here comes from RDS or the ALB.
        """
        wka_nodes = list(nodes.values())[: 0 if config.membership_scheme == "aws" else config.wka_member_count]
        gates: dict[str, HealthGate] = {}
        waits_for: list[pulumi.Resource] = [database.guard]  # the first batch: the guard has passed
        for batch in rollout_batches(list(nodes), config.max_unavailable):
            for node_name in batch:
                node = nodes[node_name]
                ips = pulumi.Output.all(node.private_ip, *[n.private_ip for n in wka_nodes])
                user_data = pulumi.Output.all(ips, facts).apply(
                    lambda values, node=node: wiring.render_node(config, node.args, values[0], values[1])
                )
                instance = node.launch(
                    user_data,
                    waits_for=[
                        *identity.boot_dependencies[node.args.role],
                        *secrets.versions,
                        *network.outbound_routes,
                        *waits_for,
                    ],
                )
                attached = load_balancer.attach(node_name, node.args.role, instance)
                # Waits, when this node is replaced or restarted, until it is healthy in each of its
                # target groups; the next batch is launched only after every gate of this one.
                gates[node_name] = HealthGate(
                    f"{label}-{node_name}-health-gate",
                    node=node_name,
                    targets=[
                        gate_target(node_name, instance.id, group.arn, port, revision=node.args.instance_type)
                        for group, port, _ in attached
                    ],
                    region=config.region,
                    timeout_seconds=config.node_health_timeout_minutes * 60,
                    poll_seconds=GATE_POLL_SECONDS,
                    opts=pulumi.ResourceOptions(parent=node, depends_on=[a for _, _, a in attached]),
                )
            waits_for = [gates[node_name] for node_name in batch]
        return gates
