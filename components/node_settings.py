"""One node's settings, from the stack configuration and the plain values the stack resolved.

No Pulumi resources here: `cluster.py` calls `build_node_settings` inside `apply` with resolved
values, and the configuration check calls `trial_render_problems` before anything is declared,
with worst-case stand-ins for the values only AWS knows (IPs, ARNs, version ids), so that every
check of the renderer has run before `pulumi up` starts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Optional, Sequence

from components import naming
from components.config.schema import ClusterConfig
from userdata import UserDataTooLarge, render_user_data
from userdata.limits import MYSQL_PORT
from userdata.settings import (
    ALL_SECRETS,
    Artifact,
    AwsDiscovery,
    Database,
    DeploymentSync,
    NodeSettings,
    SecretRef,
)

USER_STORE_DB = "WSO2_USER_DB"
REGISTRY_DB = "WSO2_REGISTRY_DB"


@dataclass(frozen=True)
class SharedFacts:
    """Values every node's settings use, resolved from the stack's resources."""

    security_group_name: str  # the nodes' group: Hazelcast's AWS discovery filters on its name
    discovery_tag_value: str
    secrets: Mapping[str, SecretRef]
    log_agent_parameter: str
    file_system_id: Optional[str] = None  # deploymentSynchronizer efs
    role_names: Mapping[str, str] = None  # "manager"/"worker" -> instance role (instanceRole discovery)


def build_node_settings(
    config: ClusterConfig,
    *,
    role: str,
    name: str,
    private_ip: str,
    wka_members: Sequence[str],
    facts: SharedFacts,
) -> NodeSettings:
    """This node's settings: its own IP, the well-known members other than itself, and config."""
    aws_discovery = None
    if config.membership_scheme == "aws":
        aws_discovery = AwsDiscovery(
            region=config.region,
            security_group_name=facts.security_group_name,
            tag_key=config.discovery_tag_key,
            tag_value=facts.discovery_tag_value,
            credentials=config.discovery_credentials,
            iam_role=(facts.role_names or {}).get(role) if config.discovery_credentials == "instanceRole" else None,
            conn_timeout_seconds=config.discovery_conn_timeout_seconds,
        )
    sync_mode = config.deployment_synchronizer
    deployment_sync = DeploymentSync(mode=sync_mode)
    if sync_mode == "svn":
        deployment_sync = DeploymentSync(
            mode="svn",
            svn_url=config.svn_url,
            svn_user=config.svn_user,
            svn_kit=Artifact(config.svn_kit_url, config.svn_kit_sha256),
            trilead_ssh=Artifact(config.trilead_ssh_url, config.trilead_ssh_sha256),
        )
    elif sync_mode == "efs":
        deployment_sync = DeploymentSync(mode="efs", file_system_id=facts.file_system_id)
    return NodeSettings(
        role=role,
        name=name,
        private_ip=private_ip,
        region=config.region,
        cluster_domain=config.cluster_domain,
        membership_scheme=config.membership_scheme,
        cluster_port=config.cluster_port,
        port_offset=config.port_offset,
        service_host=config.service_host_name,
        management_host=config.management_host_name,
        admin_username=config.admin_username,
        # The private alias, a plain string: a node never depends on the RDS instance.
        database=Database(
            host=config.database_host_name,
            port=MYSQL_PORT,
            username=config.db_app_username,
            master_username=config.db_username if role == "manager" else None,
            user_store_db=USER_STORE_DB,
            registry_db=REGISTRY_DB,
        ),
        product=Artifact(config.product_artifact_url, config.product_artifact_sha256),
        jdbc_driver=Artifact(config.jdbc_driver_url, config.jdbc_driver_sha256),
        wka_members=tuple(ip for ip in wka_members if ip != private_ip),
        aws_discovery=aws_discovery,
        deployment_sync=deployment_sync,
        secrets=dict(facts.secrets),
        log_agent_parameter=facts.log_agent_parameter,
        heap_mb=config.heap_mb(role),
    )


def trial_render_problems(config: ClusterConfig, *, project: str, stack: str) -> list[str]:
    """Render the manager and a worker with worst-case stand-ins; return what the renderer refuses."""
    label = naming.stack_label(stack)
    partition = config.partition
    longest_ips = [f"10.255.255.{251 + i}" for i in range(5)]  # 15 characters, as long as IPv4 gets
    secrets = {
        name: SecretRef(
            arn=partition.arn(
                "secretsmanager", config.region, "123456789012", f"secret:{label}-discovery-secret-key-1234567-AbCdEf"
            ),
            version_id="01234567-89ab-cdef-0123-456789abcdef",
        )
        for name in ALL_SECRETS
    }
    facts = SharedFacts(
        security_group_name=f"{label}-nodes-sg-1234567",
        discovery_tag_value=naming.discovery_tag_value(project, label),
        secrets=secrets,
        log_agent_parameter=naming.log_agent_parameter(project, label),
        file_system_id="fs-0123456789abcdef0",
        role_names={"manager": f"{label}-manager-role-1234567", "worker": f"{label}-worker-role-1234567"},
    )
    wka = longest_ips[: config.wka_member_count] if config.membership_scheme == "wka" else []
    problems = []
    for role, name, ip in (
        ("manager", "manager", longest_ips[0]),
        ("worker", f"worker-{config.worker_count}", longest_ips[-1]),
    ):
        settings = build_node_settings(config, role=role, name=name, private_ip=ip, wka_members=wka, facts=facts)
        try:
            render_user_data(settings)
        except UserDataTooLarge as error:
            problems.append(f"{error}; shorten the host names, URLs or stack name")
        except ValueError as error:
            problems.append(str(error))
    return problems
