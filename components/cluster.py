"""The whole WSO2 AS cluster of one stack: network, security groups, secrets, identity, database,
nodes and load balancer, wired so that nodes never wait for the database or the load balancer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional
from urllib.parse import urlsplit

import pulumi

from components.config import WSO2_HTTP_PORT, WSO2_HTTPS_PORT, ClusterConfig
from components.database import Database, DatabaseArgs, snapshot_identifier
from components.identity import Identity, IdentityArgs
from components.load_balancer import LoadBalancer, LoadBalancerArgs
from components.network import Network, NetworkArgs
from components.node import Node, NodeArgs, build_node_settings, node_ami
from components.secrets import Secrets, SecretsArgs
from components.security_groups import SecurityGroups, SecurityGroupsArgs
from userdata import render_user_data, well_known_members

SVN_DEFAULT_PORTS = {"http": 80, "https": 443, "svn": 3690}


@dataclass
class WSO2ClusterArgs:
    config: ClusterConfig
    project: str
    stack: str


def svn_egress_ports(config: ClusterConfig) -> list[int]:
    """Outbound ports the SVN deployment synchronizer needs beyond 443 (none without SVN)."""
    if config.deployment_synchronizer != "svn" or not config.svn_url:
        return []
    url = urlsplit(config.svn_url)
    port = url.port or SVN_DEFAULT_PORTS[url.scheme]
    return [] if port == 443 else [port]


class WSO2Cluster(pulumi.ComponentResource):
    def __init__(self, name: str, args: WSO2ClusterArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("wso2:cluster:Cluster", name, None, opts)
        config, child = args.config, pulumi.ResourceOptions(parent=self)
        tags = config.extra_tags
        http_port, https_port = WSO2_HTTP_PORT + config.port_offset, WSO2_HTTPS_PORT + config.port_offset
        aws_membership = config.membership_scheme == "aws"
        discovery = config.discovery_credentials if aws_membership else "none"
        self.discovery_tag_value = f"{args.project}-{args.stack}"

        network = Network(name, NetworkArgs(
            vpc_cidr=config.vpc_cidr,
            availability_zone_count=config.availability_zone_count,
            nat_gateways=config.nat_gateways,
            vpc_id=config.vpc_id,
            public_subnet_ids=config.public_subnet_ids,
            private_subnet_ids=config.private_subnet_ids,
            tags=tags,
        ), child)

        groups = SecurityGroups(name, SecurityGroupsArgs(
            vpc_id=network.vpc_id,
            client_cidrs=config.allowed_client_cidrs,
            # only a forwarding HTTP listener sends the nodes HTTP (the workers-HTTP group)
            http_port=http_port if config.http_mode == "forward" else None,
            https_port=https_port,
            cluster_port=config.cluster_port,
            extra_node_egress_ports=svn_egress_ports(config),
            tags=tags,
        ), child)

        secrets = Secrets(name, SecretsArgs(
            db_password=config.db_password.get_secret_value() if config.db_password else None,
            svn_password=config.svn_password.get_secret_value() if config.svn_password else None,
            discovery_key=discovery == "accessKey",
            # a stack whose database may go without a final snapshot is a throw-away one
            recovery_window_in_days=0 if config.db_skip_final_snapshot else 7,
            tags=tags,
        ), child)

        identity = Identity(name, IdentityArgs(
            secret_arns=secrets.arns,
            artifact_urls=[config.product_artifact_url, config.jdbc_driver_url],
            discovery=discovery,
            secrets=secrets,
            tags=tags,
        ), child)

        database = Database(name, DatabaseArgs(
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
            final_snapshot_identifier=snapshot_identifier(args.project, args.stack, "final"),
            username=config.db_username,
            password=secrets.db_password,
            private_zone_name=config.private_zone_name,
            tags=tags,
        ), child)

        # Nodes, step 1: every node's ENI, manager in AZ 0 and worker i in AZ i % n.
        ami = node_ami(config)
        subnets = network.private_subnet_ids
        roles = [("manager", "manager", config.manager_instance_type)] + [
            ("worker", f"worker-{i}", config.worker_instance_type) for i in range(1, config.worker_count + 1)
        ]
        nodes: list[Node] = []
        for index, (role, node_name, instance_type) in enumerate(roles):
            nodes.append(Node(f"{name}-{node_name}", NodeArgs(
                role=role,
                node_name=node_name,
                subnet_id=subnets[index % len(subnets)],
                security_group_id=groups.node.id,
                instance_type=instance_type,
                ami=ami,
                ignore_ami_changes=config.ami_id is None,
                root_volume_size_gb=config.root_volume_size_gb,
                instance_profile=identity.instance_profile.name,
                tags={
                    **tags,
                    "Name": f"{args.stack}-{node_name}",
                    "wso2:role": role,
                    config.discovery_tag_key: self.discovery_tag_value,  # what aws discovery filters on
                },
                boot_dependencies=[*identity.boot_dependencies, *secrets.versions, *network.outbound_routes],
            ), child))

        # Nodes, step 2: render each node's user data from the ENIs' IPs, then launch it. A node's
        # bytes depend on its own IP and the well-known members only (the first nodes), so a new
        # worker leaves every other node untouched. Each apply reads just those IPs, not all of
        # them: a new worker's IP is unknown at preview and would otherwise mark every node's
        # user data unknown (shown as a replacement). Nothing here comes from RDS or the ALB.
        wka_count = 0 if aws_membership else config.wka_member_count
        shared = pulumi.Output.all(
            security_group_name=groups.node.name,
            secret_arns=pulumi.Output.all(**secrets.arns),
            iam_role=identity.role.name,
        )
        for node in nodes:
            own_and_wka = pulumi.Output.all(node.private_ip, *[n.private_ip for n in nodes[:wka_count]])
            user_data = pulumi.Output.all(own_and_wka, shared).apply(
                lambda values, node=node: self._render(config, node, values[0], values[1])
            )
            node.launch(user_data)
        manager, workers = nodes[0], nodes[1:]

        load_balancer = LoadBalancer(name, LoadBalancerArgs(
            name_prefix=f"wso2-{args.stack}",
            vpc_id=network.vpc_id,
            subnet_ids=network.public_subnet_ids,
            security_group_id=groups.alb.id,
            manager_instance_id=manager.instance.id,
            worker_instance_ids=[w.instance.id for w in workers],
            http_port=http_port,
            https_port=https_port,
            service_host=config.service_host_name,
            management_host=config.management_host_name,
            http_mode=config.http_mode,
            worker_health_check_path=config.worker_health_check_path,
            manager_health_check_path=config.manager_health_check_path,
            manager_stickiness_seconds=config.manager_stickiness_seconds,
            deletion_protection=config.load_balancer_deletion_protection,
            certificate_arn=config.certificate_arn,
            self_signed_certificate=config.self_signed_certificate,
            access_logs=config.access_logs,
            access_logs_bucket=config.access_logs_bucket,
            public_zone_id=config.public_zone_id,
            tags=tags,
        ), child)

        # The stack outputs (the contract read by `verify` and application teams). No secrets.
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
            "databaseSecretArn": secrets.db_password_secret.arn,
            "databaseSecurityGroupId": groups.database.id,
            "clusterDomain": config.cluster_domain,
            "membershipScheme": config.membership_scheme,
            "clusterPort": config.cluster_port,
            "discoveryTagKey": config.discovery_tag_key,
            "discoveryTagValue": self.discovery_tag_value,
            "nodeSecurityGroupId": groups.node.id,
            "nodeSecurityGroupName": groups.node.name,
            "targetGroupArns": load_balancer.target_group_arns,
        }
        if config.http_mode == "forward":
            outputs["serviceUrlHttp"] = f"http://{config.service_host_name}/"
        self.outputs = outputs
        self.register_outputs(outputs)

    def _render(self, config: ClusterConfig, node: Node, ips: list[str], shared: dict) -> str:
        own_ip, wka_candidates = ips[0], ips[1:]
        settings = build_node_settings(
            config,
            role=node.args.role,
            name=node.args.node_name,
            private_ip=own_ip,
            wka_members=well_known_members(wka_candidates, len(wka_candidates)) if wka_candidates else (),
            security_group_name=shared["security_group_name"],
            discovery_tag_value=self.discovery_tag_value,
            secret_arns=shared["secret_arns"],
            iam_role=shared["iam_role"],
        )
        return render_user_data(settings).user_data_base64
