"""From the stack configuration to each component's Args: pure functions, one per component.

The composition root (cluster.py) declares the components in order and passes each one what these
functions build from the validated `ClusterConfig` and the components declared before it. No
component sees the configuration itself; everything a component needs is a field of its Args.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

import pulumi

from components import naming
from components.config.schema import CIDRS_PER_MANAGEMENT_RULE, ClusterConfig
from components.database import Database, DatabaseArgs
from components.firewall import plan_rules
from components.identity import Identity, IdentityArgs
from components.load_balancer import LoadBalancer, LoadBalancerArgs
from components.monitoring import MonitoredNode, Monitoring, MonitoringArgs
from components.network import Network, NetworkArgs
from components.node import Node, NodeArgs
from components.node_logs import NodeLogs, NodeLogsArgs
from components.node_settings import REGISTRY_DB, USER_STORE_DB, SharedFacts, build_node_settings
from components.secrets import Secrets, SecretsArgs
from components.security_groups import SecurityGroups, SecurityGroupsArgs
from components.shared_files import SharedFiles, SharedFilesArgs
from userdata import render_user_data, well_known_members
from userdata.limits import svn_port
from userdata.settings import SECRET_ADMIN_PASSWORD, SECRET_DB_MASTER_PASSWORD, SECRET_DB_PASSWORD, SecretRef


@dataclass(frozen=True)
class StackNames:
    """What every component of one stack shares: names, tags and the partition."""

    project: str
    stack: str
    label: str  # every logical name starts with it (see naming.py)
    tags: dict[str, str]
    partition: str
    metrics_namespace: str
    discovery_tag_value: str


def stack_names(config: ClusterConfig, project: str, stack: str) -> StackNames:
    label = naming.stack_label(stack)
    return StackNames(
        project=project,
        stack=stack,
        label=label,
        tags=config.extra_tags,
        partition=config.partition.name,
        metrics_namespace=f"WSO2/{project}/{label}",
        discovery_tag_value=naming.discovery_tag_value(project, label),
    )


def discovery(config: ClusterConfig) -> str:
    """How the nodes authenticate aws-mode discovery: accessKey, instanceRole, or none (wka)."""
    return config.discovery_credentials if config.membership_scheme == "aws" else "none"


def svn_egress_ports(config: ClusterConfig) -> list[int]:
    """Outbound ports the SVN deployment synchronizer needs beyond 443 (none without SVN)."""
    if config.deployment_synchronizer != "svn" or not config.svn_url:
        return []
    port = svn_port(config.svn_url)
    return [] if port == 443 else [port]


def network_args(config: ClusterConfig, names: StackNames) -> NetworkArgs:
    return NetworkArgs(
        vpc_cidr=config.vpc_cidr,
        availability_zone_count=config.availability_zone_count,
        nat_gateways=config.nat_gateways,
        vpc_id=config.vpc_id,
        public_subnet_ids=config.public_subnet_ids,
        private_subnet_ids=config.private_subnet_ids,
        tags=names.tags,
    )


def security_groups_args(config: ClusterConfig, names: StackNames, network: Network) -> SecurityGroupsArgs:
    return SecurityGroupsArgs(
        vpc_id=network.vpc_id,
        rules=plan_rules(
            client_cidrs=config.allowed_client_cidrs,
            management_cidrs=config.management_allowed_cidrs,
            # only a forwarding HTTP listener sends the nodes HTTP (the workers-HTTP group)
            http_port=config.http_port if config.http_mode == "forward" else None,
            https_port=config.https_port,
            cluster_port=config.cluster_port,
            extra_node_egress_ports=svn_egress_ports(config),
            shared_file_system=config.deployment_synchronizer == "efs",
        ),
        tags=names.tags,
    )


def secrets_args(config: ClusterConfig, names: StackNames) -> SecretsArgs:
    def value(secret: Any) -> Optional[str]:
        return secret.get_secret_value() if secret else None

    return SecretsArgs(
        db_master_password=value(config.db_password),
        admin_password=value(config.admin_password),
        svn_password=value(config.svn_password),
        discovery_key=discovery(config) == "accessKey",
        # a stack whose database may go without a final snapshot is a throw-away one
        recovery_window_in_days=0 if config.db_skip_final_snapshot else 7,
        tags=names.tags,
    )


def node_logs_args(config: ClusterConfig, names: StackNames) -> NodeLogsArgs:
    return NodeLogsArgs(
        prefix=naming.log_group_prefix(names.project, names.label),
        agent_parameter=naming.log_agent_parameter(names.project, names.label),
        metrics_namespace=names.metrics_namespace,
        retention_days=config.log_retention_days,
        tags=names.tags,
    )


def identity_args(config: ClusterConfig, names: StackNames, secrets: Secrets, logs: NodeLogs) -> IdentityArgs:
    artifact_urls = [config.product_artifact_url, config.jdbc_driver_url]
    if config.deployment_synchronizer == "svn":
        artifact_urls += [config.svn_kit_url, config.trilead_ssh_url]
    return IdentityArgs(
        partition=names.partition,
        secrets=secrets,
        artifact_urls=artifact_urls,
        discovery=discovery(config),
        log_group_arns=[group.arn for group in logs.groups.values()],
        log_agent_parameter_arn=logs.agent_parameter.arn,
        metrics_namespace=names.metrics_namespace,
        tags=names.tags,
    )


def database_args(
    config: ClusterConfig, names: StackNames, network: Network, groups: SecurityGroups, secrets: Secrets
) -> DatabaseArgs:
    return DatabaseArgs(
        label=names.label,
        partition=names.partition,
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
        tags=names.tags,
    )


def shared_files_args(
    config: ClusterConfig, names: StackNames, network: Network, groups: SecurityGroups
) -> Optional[SharedFilesArgs]:
    """The EFS deployment directory's Args, or None unless deploymentSynchronizer is efs."""
    if config.deployment_synchronizer != "efs":
        return None
    return SharedFilesArgs(subnet_ids=network.private_subnet_ids, security_group_id=groups.efs.id, tags=names.tags)


def load_balancer_args(
    config: ClusterConfig, names: StackNames, network: Network, groups: SecurityGroups
) -> LoadBalancerArgs:
    return LoadBalancerArgs(
        label=names.label,
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
        partition=names.partition,
        tags=names.tags,
    )


def node_args(
    config: ClusterConfig,
    names: StackNames,
    network: Network,
    groups: SecurityGroups,
    identity: Identity,
    ami: pulumi.Input[str],
) -> list[NodeArgs]:
    """The manager's, then each worker's: the manager in AZ 0, worker i in AZ i % n."""
    roles = [("manager", "manager", config.manager_instance_type)] + [
        ("worker", f"worker-{i}", config.worker_instance_type) for i in range(1, config.worker_count + 1)
    ]
    subnets = network.private_subnet_ids
    return [
        NodeArgs(
            role=role,
            node_name=node_name,
            subnet_id=subnets[index % len(subnets)],
            security_group_id=groups.node.id,
            instance_type=instance_type,
            ami=ami,
            root_volume_size_gb=config.root_volume_size_gb,
            instance_profile=identity.instance_profiles[role].name,
            tags={
                **names.tags,
                "Name": f"{names.stack}-{node_name}",
                "wso2:role": role,
                config.discovery_tag_key: names.discovery_tag_value,  # what aws discovery filters on
            },
            imds_v1=discovery(config) == "instanceRole",
        )
        for index, (role, node_name, instance_type) in enumerate(roles)
    ]


def shared_facts(
    names: StackNames,
    groups: SecurityGroups,
    secrets: Secrets,
    identity: Identity,
    logs: NodeLogs,
    shared: Optional[SharedFiles],
) -> pulumi.Output[SharedFacts]:
    """What every node's user data reads from other resources (names and ARNs; never RDS or the ALB)."""
    return pulumi.Output.all(
        security_group_name=groups.node.name,
        secrets=pulumi.Output.all(**secrets.refs),
        role_names={role: identity.roles[role].name for role in identity.roles},
        file_system_id=shared.file_system.id if shared else None,
        log_agent_parameter=logs.agent_parameter.name,
    ).apply(
        lambda v: SharedFacts(
            security_group_name=v["security_group_name"],
            discovery_tag_value=names.discovery_tag_value,
            secrets={key: SecretRef(ref["arn"], ref["versionId"]) for key, ref in v["secrets"].items()},
            log_agent_parameter=v["log_agent_parameter"],
            file_system_id=v["file_system_id"],
            role_names=v["role_names"],
        )
    )


def render_node(config: ClusterConfig, node: NodeArgs, ips: list[str], facts: SharedFacts) -> str:
    """A node's user data (base64) from its own IP, the well-known members' IPs and the shared facts."""
    own_ip, wka_candidates = ips[0], ips[1:]
    settings = build_node_settings(
        config,
        role=node.role,
        name=node.node_name,
        private_ip=own_ip,
        wka_members=well_known_members(wka_candidates, len(wka_candidates)) if wka_candidates else (),
        facts=facts,
    )
    return render_user_data(settings).user_data_base64


def monitoring_args(
    config: ClusterConfig,
    names: StackNames,
    nodes: dict[str, Node],
    load_balancer: LoadBalancer,
    database: Database,
    logs: NodeLogs,
) -> MonitoringArgs:
    worker_groups = {"workersHttps": load_balancer.workers_https}
    if load_balancer.workers_http is not None:
        worker_groups["workersHttp"] = load_balancer.workers_http
    return MonitoringArgs(
        label=names.label,
        region=config.region,
        partition=names.partition,
        metrics_namespace=names.metrics_namespace,
        dashboard_name=naming.dashboard_name(names.project, names.label),
        nodes=[MonitoredNode(name, node.instance) for name, node in nodes.items()],
        load_balancer=load_balancer.alb,
        target_groups={
            "managerHttps": (load_balancer.manager_https, 1),
            **{key: (group, config.worker_count) for key, group in worker_groups.items()},
        },
        database=database.instance,
        database_storage_gb=config.db_allocated_storage_gb,
        carbon_log_group=logs.groups["carbon"],
        alarm_email=config.alarm_email,
        tags=names.tags,
    )


def stack_outputs(
    config: ClusterConfig,
    names: StackNames,
    network: Network,
    groups: SecurityGroups,
    secrets: Secrets,
    logs: NodeLogs,
    database: Database,
    shared: Optional[SharedFiles],
    load_balancer: LoadBalancer,
    nodes: dict[str, Node],
    monitoring: Monitoring,
) -> dict[str, Any]:
    """The stack outputs, as components/outputs.py names them (the contract with `verify` and
    application teams). No secrets."""
    manager, workers = nodes["manager"], [node for name, node in nodes.items() if name != "manager"]
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
        "discoveryTagValue": names.discovery_tag_value,
        "nodeSecurityGroupId": groups.node.id,
        "nodeSecurityGroupName": groups.node.name,
        "targetGroupArns": load_balancer.target_group_arns,
        "logGroupNames": {
            **logs.group_names,
            **{f"rds{log.capitalize()}": group.name for log, group in database.log_groups.items()},
        },
        "alarmTopicArn": monitoring.topic.arn,
        "dashboardUrl": monitoring.dashboard_url,
    }
    if config.http_mode == "forward":
        outputs["serviceUrlHttp"] = f"http://{config.service_host_name}/"
    if shared is not None:
        outputs["deploymentFileSystemId"] = shared.file_system.id
    return outputs
