"""One WSO2 node (the manager or a worker): a pre-created network interface, then the instance.

The ENI comes first so that every node's private IP is known before any instance exists: the
user data of each node carries its own IP and, in WKA mode, the well-known members' IPs. The
instance is launched in a second step (`launch`) once the user data can be rendered, after the
resources it must wait for (the previous batch's health gates, on a rolling change).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Optional, Sequence

import pulumi
import pulumi_aws as aws

AMI_PARAMETER = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-{arch}"


def node_ami(ami_id: Optional[str], architecture: str, label: str, parent: pulumi.Resource) -> pulumi.Input[str]:
    """The pinned AMI, else the latest Amazon Linux 2023 for the architecture, pinned in state.

    A newer AL2023 release must not replace every node at the next `pulumi up`, so the latest
    AMI id is kept in a `Stash` (state only: its output keeps its first value). Its name carries
    the architecture: a new architecture is a new stash, holding the then-latest AMI of that
    architecture, so the nodes are replaced (rolling) onto an image they can boot. A pinned
    amiId rolls the nodes onto exactly that image.
    """
    if ami_id:
        return ami_id
    # insecure_value: a public AMI id is no secret (the provider marks the value secret, which
    # would make every instance's ami input secret).
    latest = aws.ssm.get_parameter_output(name=AMI_PARAMETER.format(arch=architecture)).insecure_value
    return pulumi.Stash(
        f"{label}-node-ami-{architecture}", input=latest, opts=pulumi.ResourceOptions(parent=parent)
    ).output


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
    # Hazelcast 3.5 fetches instance-role credentials without an IMDSv2 token: only nodes that
    # discover with their role allow IMDSv1 (see README, AWS discovery credentials).
    imds_v1: bool = False


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

    def launch(self, user_data_base64: pulumi.Input[str], waits_for: Sequence[pulumi.Resource]) -> aws.ec2.Instance:
        """Create the instance on the ENI, with its rendered user data, after `waits_for`."""
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
                http_tokens="optional" if args.imds_v1 else "required",  # IMDSv2 only, unless it cannot be
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
                # A new type replaces the node, drained first (components/drain.py), rather than
                # stopping it in place with its requests in flight; the new node also gets the heap
                # the type allows.
                replace_on_changes=["instanceType"],
                depends_on=list(waits_for),
            ),
        )
        self.register_outputs(
            {
                "privateIp": self.private_ip,
                "instanceId": self.instance.id,
                "networkInterfaceId": self.network_interface.id,
            }
        )
        return self.instance
