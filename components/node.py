"""One WSO2 node (the manager or a worker): a pre-created network interface, then the instance.

The ENI comes first so that every node's private IP is known before any instance exists: the
user data of each node carries its own IP and, in WKA mode, the well-known members' IPs. The
instance is launched in a second step (`launch`) once the user data can be rendered.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Optional, Sequence

import pulumi
import pulumi_aws as aws

from components.config import ClusterConfig
from userdata.settings import Artifact, AwsDiscovery, Database, DeploymentSync, NodeSettings

AMI_PARAMETER = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-{arch}"
MYSQL_PORT = 3306
USER_STORE_DB = "WSO2_USER_DB"
REGISTRY_DB = "WSO2_REGISTRY_DB"


def node_ami(config: ClusterConfig) -> pulumi.Input[str]:
    """The pinned AMI, else the latest Amazon Linux 2023 for the architecture (public SSM parameter)."""
    if config.ami_id:
        return config.ami_id
    # insecure_value: the public AMI id is no secret (value is marked secret by the provider,
    # which would make every instance's ami input secret).
    return aws.ssm.get_parameter_output(name=AMI_PARAMETER.format(arch=config.architecture)).insecure_value


def build_node_settings(
    config: ClusterConfig,
    *,
    role: str,
    name: str,
    private_ip: str,
    wka_members: Sequence[str],
    security_group_name: str,
    discovery_tag_value: str,
    secret_arns: Mapping[str, str],
    iam_role: Optional[str] = None,
) -> NodeSettings:
    """This node's settings from plain values: its own IP, the WKA set without it, and config."""
    aws_discovery = None
    if config.membership_scheme == "aws":
        aws_discovery = AwsDiscovery(
            region=config.region,
            security_group_name=security_group_name,
            tag_key=config.discovery_tag_key,
            tag_value=discovery_tag_value,
            credentials=config.discovery_credentials,
            iam_role=iam_role if config.discovery_credentials == "instanceRole" else None,
            conn_timeout_seconds=config.discovery_conn_timeout_seconds,
        )
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
        # The private alias, a plain string: a node never depends on the RDS instance.
        database=Database(
            host=config.database_host_name,
            port=MYSQL_PORT,
            username=config.db_username,
            user_store_db=USER_STORE_DB,
            registry_db=REGISTRY_DB,
        ),
        product=Artifact(config.product_artifact_url, config.product_artifact_sha256),
        jdbc_driver=Artifact(config.jdbc_driver_url, config.jdbc_driver_sha256),
        wka_members=tuple(ip for ip in wka_members if ip != private_ip),
        aws_discovery=aws_discovery,
        deployment_sync=DeploymentSync(
            enabled=config.deployment_synchronizer == "svn", svn_url=config.svn_url, svn_user=config.svn_user
        ),
        secret_arns=dict(secret_arns),
    )


@dataclass
class NodeArgs:
    role: str  # "manager" | "worker"
    node_name: str  # "manager", "worker-1", ... (node.json and WSO2's view)
    subnet_id: pulumi.Input[str]
    security_group_id: pulumi.Input[str]
    instance_type: str
    ami: pulumi.Input[str]
    root_volume_size_gb: int
    instance_profile: pulumi.Input[str]
    tags: Mapping[str, str]  # Name, wso2:role, the discovery tag and the stack's extra tags
    # With the "latest Amazon Linux 2023" AMI, a newer release must not replace running nodes
    # at the next `pulumi up` (all at once); new nodes take it. A pinned amiId rolls them.
    ignore_ami_changes: bool = False
    # Resources the node must not boot before (its permissions, the secret values it reads).
    boot_dependencies: Sequence[pulumi.Resource] = field(default_factory=list)


class Node(pulumi.ComponentResource):
    network_interface: aws.ec2.NetworkInterface
    private_ip: pulumi.Output[str]
    instance: Optional[aws.ec2.Instance] = None

    def __init__(self, name: str, args: NodeArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("wso2:cluster:Node", name, None, opts)
        self._name, self.args = name, args
        self.network_interface = aws.ec2.NetworkInterface(
            f"{name}-eni",
            subnet_id=args.subnet_id,
            security_groups=[args.security_group_id],  # the node group lives here, not on the instance
            description=f"WSO2 AS {args.node_name} (primary interface; survives instance replacement)",
            tags=dict(args.tags),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.private_ip = self.network_interface.private_ip

    def launch(self, user_data_base64: pulumi.Input[str]) -> aws.ec2.Instance:
        """Create the instance on the ENI, with its rendered user data."""
        args = self.args
        self.instance = aws.ec2.Instance(
            f"{self._name}-instance",
            ami=args.ami,
            instance_type=args.instance_type,
            primary_network_interface=aws.ec2.InstancePrimaryNetworkInterfaceArgs(
                network_interface_id=self.network_interface.id
            ),
            iam_instance_profile=args.instance_profile,
            metadata_options=aws.ec2.InstanceMetadataOptionsArgs(
                http_endpoint="enabled",
                http_tokens="required",  # IMDSv2 only
                http_put_response_hop_limit=1,
                instance_metadata_tags="disabled",
            ),
            root_block_device=aws.ec2.InstanceRootBlockDeviceArgs(
                volume_type="gp3",
                volume_size=args.root_volume_size_gb,
                encrypted=True,
                delete_on_termination=True,
                tags=dict(args.tags),
            ),
            monitoring=True,
            ebs_optimized=True,
            user_data_base64=user_data_base64,
            # A changed configuration must run cloud-init again on a fresh instance; the ENI and
            # its IP stay, so peers' settings stay valid.
            user_data_replace_on_change=True,
            tags=dict(args.tags),
            opts=pulumi.ResourceOptions(
                parent=self,
                # The replacement cannot attach the ENI while the old instance holds it.
                delete_before_replace=True,
                depends_on=list(args.boot_dependencies),
                ignore_changes=["ami"] if args.ignore_ami_changes else None,
            ),
        )
        self.register_outputs(
            {"privateIp": self.private_ip, "instanceId": self.instance.id, "networkInterfaceId": self.network_interface.id}
        )
        return self.instance
