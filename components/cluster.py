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
from typing import Any, Optional

import pulumi

from components import naming
from components.config.schema import CIDRS_PER_MANAGEMENT_RULE, ClusterConfig
from components.database import Database, DatabaseArgs
from components.firewall import plan_rules
from components.health_gate import HealthGate, gate_target
from components.identity import Identity, IdentityArgs
from components.load_balancer import LoadBalancer, LoadBalancerArgs
from components.monitoring import MonitoredNode, Monitoring, MonitoringArgs
from components.network import Network, NetworkArgs
from components.node import Node, NodeArgs, node_ami
from components.node_logs import NodeLogs, NodeLogsArgs
from components.node_settings import REGISTRY_DB, USER_STORE_DB, SharedFacts, build_node_settings
from components.secrets import Secrets, SecretsArgs
from components.security_groups import SecurityGroups, SecurityGroupsArgs
from components.shared_files import SharedFiles, SharedFilesArgs
from userdata import render_user_data, well_known_members
from userdata.limits import svn_port
from userdata.settings import SECRET_ADMIN_PASSWORD, SECRET_DB_MASTER_PASSWORD, SECRET_DB_PASSWORD, SecretRef

GATE_POLL_SECONDS = 15


@dataclass
class WSO2ClusterArgs:
    config: ClusterConfig
    project: str
    stack: str


def svn_egress_ports(config: ClusterConfig) -> list[int]:
    """Outbound ports the SVN deployment synchronizer needs beyond 443 (none without SVN)."""
    if config.deployment_synchronizer != "svn" or not config.svn_url:
        return []
    port = svn_port(config.svn_url)
    return [] if port == 443 else [port]


def rollout_batches(node_names: list[str], max_unavailable: int) -> list[list[str]]:
    """The manager alone, then the workers in order, at most `max_unavailable` at a time."""
    manager, workers = node_names[:1], node_names[1:]
    return [manager] + [workers[i:i + max_unavailable] for i in range(0, len(workers), max_unavailable)]


class WSO2Cluster(pulumi.ComponentResource):
    def __init__(self, name: str, args: WSO2ClusterArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("wso2:cluster:Cluster", name, None, opts)
        config, child = args.config, pulumi.ResourceOptions(parent=self)
        label = naming.stack_label(args.stack)  # every logical name starts with it (see naming.py)
        tags = config.extra_tags
        partition = config.partition.name
        aws_membership = config.membership_scheme == "aws"
        discovery = config.discovery_credentials if aws_membership else "none"
        efs = config.deployment_synchronizer == "efs"
        self.discovery_tag_value = naming.discovery_tag_value(args.project, label)
        metrics_namespace = f"WSO2/{args.project}/{label}"

        network = Network(label, NetworkArgs(
            vpc_cidr=config.vpc_cidr,
            availability_zone_count=config.availability_zone_count,
            nat_gateways=config.nat_gateways,
            vpc_id=config.vpc_id,
            public_subnet_ids=config.public_subnet_ids,
            private_subnet_ids=config.private_subnet_ids,
            tags=tags,
        ), child)

        groups = SecurityGroups(label, SecurityGroupsArgs(
            vpc_id=network.vpc_id,
            rules=plan_rules(
                client_cidrs=config.allowed_client_cidrs,
                management_cidrs=config.management_allowed_cidrs,
                # only a forwarding HTTP listener sends the nodes HTTP (the workers-HTTP group)
                http_port=config.http_port if config.http_mode == "forward" else None,
                https_port=config.https_port,
                cluster_port=config.cluster_port,
                extra_node_egress_ports=svn_egress_ports(config),
                shared_file_system=efs,
            ),
            tags=tags,
        ), child)

        secrets = Secrets(label, SecretsArgs(
            db_master_password=config.db_password.get_secret_value() if config.db_password else None,
            admin_password=config.admin_password.get_secret_value() if config.admin_password else None,
            svn_password=config.svn_password.get_secret_value() if config.svn_password else None,
            discovery_key=discovery == "accessKey",
            # a stack whose database may go without a final snapshot is a throw-away one
            recovery_window_in_days=0 if config.db_skip_final_snapshot else 7,
            tags=tags,
        ), child)

        logs = NodeLogs(label, NodeLogsArgs(
            prefix=naming.log_group_prefix(args.project, label),
            agent_parameter=naming.log_agent_parameter(args.project, label),
            metrics_namespace=metrics_namespace,
            retention_days=config.log_retention_days,
            tags=tags,
        ), child)

        artifact_urls = [config.product_artifact_url, config.jdbc_driver_url]
        if config.deployment_synchronizer == "svn":
            artifact_urls += [config.svn_kit_url, config.trilead_ssh_url]
        identity = Identity(label, IdentityArgs(
            partition=partition,
            secrets=secrets,
            artifact_urls=artifact_urls,
            discovery=discovery,
            log_group_arns=[group.arn for group in logs.groups.values()],
            log_agent_parameter_arn=logs.agent_parameter.arn,
            metrics_namespace=metrics_namespace,
            tags=tags,
        ), child)

        database = Database(label, DatabaseArgs(
            label=label,
            partition=partition,
            vpc_id=network.vpc_id,
            subnet_ids=network.private_subnet_ids,
            security_group_id=groups.database.id,
            engine_version=config.db_engine_version,
            instance_class=config.db_instance_class,
            allocated_storage_gb=config.db_allocated_storage_gb,
            max_allocated_storage_gb=config.db_max_allocated_storage_gb,
            multi_az=config.db_multi_az,
            backup_retention_days=config.db_backup_retention_days,
            deletion_protection=config.db_deletion_protection,
            skip_final_snapshot=config.db_skip_final_snapshot,
            allow_replacement=config.db_allow_replacement,
            username=config.db_username,
            secrets=secrets,
            private_zone_name=config.private_zone_name,
            log_retention_days=config.log_retention_days,
            tags=tags,
        ), child)

        shared = SharedFiles(label, SharedFilesArgs(
            subnet_ids=network.private_subnet_ids, security_group_id=groups.efs.id, tags=tags,
        ), child) if efs else None

        load_balancer = LoadBalancer(label, LoadBalancerArgs(
            label=label,
            vpc_id=network.vpc_id,
            subnet_ids=network.public_subnet_ids,
            security_group_id=groups.alb.id,
            http_port=config.http_port,
            https_port=config.https_port,
            service_host=config.service_host_name,
            management_host=config.management_host_name,
            management_cidrs=config.management_allowed_cidrs or [network.vpc_cidr],
            cidrs_per_rule=CIDRS_PER_MANAGEMENT_RULE,
            http_mode=config.http_mode,
            worker_health_check_path=config.worker_health_check_path,
            manager_health_check_path=config.manager_health_check_path,
            manager_stickiness_seconds=config.manager_stickiness_seconds,
            worker_stickiness_seconds=config.worker_stickiness_seconds,
            deletion_protection=config.load_balancer_deletion_protection,
            certificate_arn=config.certificate_arn,
            self_signed_certificate=config.self_signed_certificate,
            access_logs=config.access_logs,
            access_logs_bucket=config.access_logs_bucket,
            web_acl_rate_limit=config.waf_rate_limit if config.web_application_firewall else None,
            public_zone_id=config.public_zone_id,
            region=config.region,
            partition=partition,
            tags=tags,
        ), child)

        # Nodes, step 1: every node's ENI, manager in AZ 0 and worker i in AZ i % n.
        ami = node_ami(config, label, self)
        subnets = network.private_subnet_ids
        roles = [("manager", "manager", config.manager_instance_type)] + [
            ("worker", f"worker-{i}", config.worker_instance_type) for i in range(1, config.worker_count + 1)
        ]
        nodes: dict[str, Node] = {}
        for index, (role, node_name, instance_type) in enumerate(roles):
            nodes[node_name] = Node(f"{label}-{node_name}", NodeArgs(
                role=role,
                node_name=node_name,
                subnet_id=subnets[index % len(subnets)],
                security_group_id=groups.node.id,
                instance_type=instance_type,
                ami=ami,
                root_volume_size_gb=config.root_volume_size_gb,
                instance_profile=identity.instance_profiles[role].name,
                tags={
                    **tags,
                    "Name": f"{args.stack}-{node_name}",
                    "wso2:role": role,
                    config.discovery_tag_key: self.discovery_tag_value,  # what aws discovery filters on
                },
                imds_v1=discovery == "instanceRole",
            ), child)

        # Nodes, step 2: render each node's user data from the ENIs' IPs and launch it, batch
        # by batch. A node's bytes depend on its own IP and the well-known members only (the
        # first nodes), so a new worker leaves every other node untouched. Each apply reads just
        # those IPs: a new worker's IP is unknown at preview and would otherwise mark every
        # node's user data unknown (shown as a replacement). Nothing here comes from RDS or the ALB.
        wka_nodes = list(nodes.values())[: 0 if aws_membership else config.wka_member_count]
        facts = pulumi.Output.all(
            security_group_name=groups.node.name,
            secrets=pulumi.Output.all(**secrets.refs),
            role_names={role: identity.roles[role].name for role in identity.roles},
            file_system_id=shared.file_system.id if shared else None,
            log_agent_parameter=logs.agent_parameter.name,
        ).apply(lambda v: SharedFacts(
            security_group_name=v["security_group_name"],
            discovery_tag_value=self.discovery_tag_value,
            secrets={key: SecretRef(ref["arn"], ref["versionId"]) for key, ref in v["secrets"].items()},
            log_agent_parameter=v["log_agent_parameter"],
            file_system_id=v["file_system_id"],
            role_names=v["role_names"],
        ))
        self.gates: dict[str, HealthGate] = {}
        waits_for: list[pulumi.Resource] = [database.guard]  # the first batch: the guard has passed
        for batch in rollout_batches(list(nodes), config.max_unavailable):
            gates = []
            for node_name in batch:
                node = nodes[node_name]
                ips = pulumi.Output.all(node.private_ip, *[n.private_ip for n in wka_nodes])
                user_data = pulumi.Output.all(ips, facts).apply(
                    lambda values, node=node: self._render(config, node, values[0], values[1]))
                instance = node.launch(user_data, waits_for=[
                    *identity.boot_dependencies[node.args.role], *secrets.versions, *network.outbound_routes,
                    *waits_for,
                ])
                attached = load_balancer.attach(node_name, node.args.role, instance)
                # Waits, when this node is replaced or restarted, until it is healthy in each of its
                # target groups; the next batch is launched only after every gate of this one.
                self.gates[node_name] = HealthGate(
                    f"{label}-{node_name}-health-gate",
                    node=node_name,
                    targets=[gate_target(node_name, instance.id, group.arn, port, revision=node.args.instance_type)
                             for group, port, _ in attached],
                    region=config.region,
                    timeout_seconds=config.node_health_timeout_minutes * 60,
                    poll_seconds=GATE_POLL_SECONDS,
                    opts=pulumi.ResourceOptions(parent=node, depends_on=[a for _, _, a in attached]),
                )
                gates.append(self.gates[node_name])
            waits_for = gates
        manager, workers = nodes["manager"], [n for name, n in nodes.items() if name != "manager"]

        worker_groups = {"workersHttps": load_balancer.workers_https}
        if load_balancer.workers_http is not None:
            worker_groups["workersHttp"] = load_balancer.workers_http
        self.monitoring = Monitoring(label, MonitoringArgs(
            label=label,
            region=config.region,
            partition=partition,
            metrics_namespace=metrics_namespace,
            dashboard_name=naming.dashboard_name(args.project, label),
            nodes=[MonitoredNode(name, node.instance) for name, node in nodes.items()],
            load_balancer=load_balancer.alb,
            target_groups={"managerHttps": (load_balancer.manager_https, 1),
                           **{key: (group, config.worker_count) for key, group in worker_groups.items()}},
            database=database.instance,
            database_storage_gb=config.db_allocated_storage_gb,
            carbon_log_group=logs.groups["carbon"],
            alarm_email=config.alarm_email,
            tags=tags,
        ), child)

        # The stack outputs, as components/outputs.py names them (the contract with `verify` and application
        # teams). No secrets.
        outputs: dict[str, Any] = {
            "region": config.region,
            "vpcId": network.vpc_id,
            "loadBalancerDnsName": load_balancer.alb.dns_name,
            "serviceUrlHttps": f"https://{config.service_host_name}/",
            "managementConsoleUrl": f"https://{config.management_host_name}/carbon/",
            "managerPrivateIp": manager.private_ip,
            "managerInstanceId": manager.instance.id,
            "workerPrivateIps": [w.private_ip for w in workers],
            "workerInstanceIds": [w.instance.id for w in workers],
            "databaseEndpoint": database.instance.endpoint,
            "databaseHostName": database.host_name,
            "databaseInstanceId": database.instance.identifier,
            "databaseSecretArn": secrets.arn(SECRET_DB_MASTER_PASSWORD),
            "databaseAppUserSecretArn": secrets.arn(SECRET_DB_PASSWORD),
            "adminPasswordSecretArn": secrets.arn(SECRET_ADMIN_PASSWORD),
            "databaseSecurityGroupId": groups.database.id,
            "databaseNames": {"userStore": USER_STORE_DB, "registry": REGISTRY_DB},
            "managementAllowedCidrs": list(config.management_allowed_cidrs) or [network.vpc_cidr],
            "clusterDomain": config.cluster_domain,
            "membershipScheme": config.membership_scheme,
            "clusterPort": config.cluster_port,
            "discoveryTagKey": config.discovery_tag_key,
            "discoveryTagValue": self.discovery_tag_value,
            "nodeSecurityGroupId": groups.node.id,
            "nodeSecurityGroupName": groups.node.name,
            "targetGroupArns": load_balancer.target_group_arns,
            "logGroupNames": {
                **logs.group_names,
                **{f"rds{log.capitalize()}": group.name for log, group in database.log_groups.items()},
            },
            "alarmTopicArn": self.monitoring.topic.arn,
            "dashboardUrl": self.monitoring.dashboard_url,
        }
        if config.http_mode == "forward":
            outputs["serviceUrlHttp"] = f"http://{config.service_host_name}/"
        if shared is not None:
            outputs["deploymentFileSystemId"] = shared.file_system.id
        self.outputs = outputs
        self.register_outputs(outputs)

    def _render(self, config: ClusterConfig, node: Node, ips: list[str], facts: SharedFacts) -> str:
        own_ip, wka_candidates = ips[0], ips[1:]
        settings = build_node_settings(
            config,
            role=node.args.role,
            name=node.args.node_name,
            private_ip=own_ip,
            wka_members=well_known_members(wka_candidates, len(wka_candidates)) if wka_candidates else (),
            facts=facts,
        )
        return render_user_data(settings).user_data_base64
