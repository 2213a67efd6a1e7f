"""The network: a new VPC with public and private subnets per AZ, or an existing VPC's subnets."""

from __future__ import annotations

import ipaddress
import json
from dataclasses import dataclass, field
from typing import Mapping, Optional, Sequence

import pulumi
import pulumi_aws as aws

FLOW_LOG_RETENTION_DAYS = 365
FLOW_LOG_ACTIONS = ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogGroups", "logs:DescribeLogStreams"]


@dataclass
class NetworkArgs:
    vpc_cidr: str
    availability_zone_count: int
    nat_gateways: str  # "single" | "perAz"
    # Existing-VPC mode: when vpc_id is set, nothing is created and the subnets are used as given.
    vpc_id: Optional[str] = None
    public_subnet_ids: Sequence[str] = ()
    private_subnet_ids: Sequence[str] = ()
    tags: Mapping[str, str] = field(default_factory=dict)


def carve_subnets(vpc_cidr: str, az_count: int) -> tuple[list[str], list[str]]:
    """(public, private) CIDRs: the VPC split in 8 equal blocks, public 0..n-1, private 4..4+n-1.

    Up to 4 AZs fit; the spare blocks in between leave room to add AZs later without renumbering.
    """
    blocks = list(ipaddress.IPv4Network(vpc_cidr).subnets(prefixlen_diff=3))
    return [str(b) for b in blocks[:az_count]], [str(b) for b in blocks[4 : 4 + az_count]]


class Network(pulumi.ComponentResource):
    vpc_id: pulumi.Output[str]
    vpc_cidr: pulumi.Output[str]
    public_subnet_ids: list[pulumi.Output[str]]
    private_subnet_ids: list[pulumi.Output[str]]  # in AZ order: index i is AZ i (new VPC)
    # The private subnets' default routes through NAT: a node booting before them could not
    # install anything. Empty for an existing VPC (its routes already exist).
    outbound_routes: list[pulumi.Resource]

    def __init__(self, name: str, args: NetworkArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("wso2:cluster:Network", name, None, opts)
        self.outbound_routes = []
        if args.vpc_id:
            self.vpc_id = pulumi.Output.from_input(args.vpc_id)
            self.vpc_cidr = aws.ec2.get_vpc_output(id=args.vpc_id).cidr_block
            self.public_subnet_ids = [pulumi.Output.from_input(s) for s in args.public_subnet_ids]
            self.private_subnet_ids = [pulumi.Output.from_input(s) for s in args.private_subnet_ids]
        else:
            self._create_vpc(name, args)
        self.register_outputs(
            {
                "vpcId": self.vpc_id,
                "publicSubnetIds": self.public_subnet_ids,
                "privateSubnetIds": self.private_subnet_ids,
            }
        )

    def _create_vpc(self, name: str, args: NetworkArgs) -> None:
        child = pulumi.ResourceOptions(parent=self)
        tags = dict(args.tags)
        zones = aws.get_availability_zones(state="available").names[: args.availability_zone_count]
        if len(zones) < args.availability_zone_count:
            raise pulumi.RunError(
                f"the region has {len(zones)} available AZs, fewer than availabilityZoneCount "
                f"{args.availability_zone_count}"
            )
        public_cidrs, private_cidrs = carve_subnets(args.vpc_cidr, len(zones))

        vpc = aws.ec2.Vpc(
            f"{name}-vpc",
            cidr_block=args.vpc_cidr,
            enable_dns_support=True,
            enable_dns_hostnames=True,  # needed for the private hosted zone of the database
            tags={**tags, "Name": f"{name}-vpc"},
            opts=child,
        )
        self.vpc_id, self.vpc_cidr = vpc.id, vpc.cidr_block
        self._flow_logs(name, vpc, tags)
        # FSBP EC2.2: the default group must allow nothing; declaring it without rules strips them.
        aws.ec2.DefaultSecurityGroup(
            f"{name}-default-sg", vpc_id=vpc.id, tags={**tags, "Name": f"{name}-default-deny-all"}, opts=child
        )
        igw = aws.ec2.InternetGateway(f"{name}-igw", vpc_id=vpc.id, tags={**tags, "Name": f"{name}-igw"}, opts=child)

        public_rt = aws.ec2.RouteTable(
            f"{name}-public-rt", vpc_id=vpc.id, tags={**tags, "Name": f"{name}-public"}, opts=child
        )
        aws.ec2.Route(
            f"{name}-public-default-route",
            route_table_id=public_rt.id,
            destination_cidr_block="0.0.0.0/0",
            gateway_id=igw.id,
            opts=child,
        )

        public_subnets: list[aws.ec2.Subnet] = []
        private_subnets: list[aws.ec2.Subnet] = []
        for i, zone in enumerate(zones):
            public = aws.ec2.Subnet(
                f"{name}-public-{i}",
                vpc_id=vpc.id,
                cidr_block=public_cidrs[i],
                availability_zone=zone,
                map_public_ip_on_launch=False,  # only the ALB lives here; it gets its own addresses
                tags={**tags, "Name": f"{name}-public-{zone}", "tier": "public"},
                opts=child,
            )
            aws.ec2.RouteTableAssociation(
                f"{name}-public-{i}-rta", subnet_id=public.id, route_table_id=public_rt.id, opts=child
            )
            private = aws.ec2.Subnet(
                f"{name}-private-{i}",
                vpc_id=vpc.id,
                cidr_block=private_cidrs[i],
                availability_zone=zone,
                map_public_ip_on_launch=False,
                tags={**tags, "Name": f"{name}-private-{zone}", "tier": "private"},
                opts=child,
            )
            public_subnets.append(public)
            private_subnets.append(private)

        # NAT for outbound installs and AWS APIs: one (cheaper) or one per AZ (survives an AZ outage).
        nat_count = len(zones) if args.nat_gateways == "perAz" else 1
        nats = []
        for i in range(nat_count):
            eip = aws.ec2.Eip(f"{name}-nat-{i}-eip", domain="vpc", tags={**tags, "Name": f"{name}-nat-{i}"}, opts=child)
            nats.append(
                aws.ec2.NatGateway(
                    f"{name}-nat-{i}",
                    allocation_id=eip.id,  # an EIP's id is its allocation id
                    subnet_id=public_subnets[i].id,
                    tags={**tags, "Name": f"{name}-nat-{zones[i]}"},
                    # a public NAT gateway needs the VPC's internet gateway attached first
                    opts=pulumi.ResourceOptions(parent=self, depends_on=[igw]),
                )
            )
        for i, private in enumerate(private_subnets):
            rt = aws.ec2.RouteTable(
                f"{name}-private-{i}-rt", vpc_id=vpc.id, tags={**tags, "Name": f"{name}-private-{zones[i]}"}, opts=child
            )
            route = aws.ec2.Route(
                f"{name}-private-{i}-default-route",
                route_table_id=rt.id,
                destination_cidr_block="0.0.0.0/0",
                nat_gateway_id=nats[i % nat_count].id,
                opts=child,
            )
            association = aws.ec2.RouteTableAssociation(
                f"{name}-private-{i}-rta", subnet_id=private.id, route_table_id=rt.id, opts=child
            )
            self.outbound_routes += [route, association]

        self.public_subnet_ids = [s.id for s in public_subnets]
        self.private_subnet_ids = [s.id for s in private_subnets]

    def _flow_logs(self, name: str, vpc: aws.ec2.Vpc, tags: dict) -> None:
        """FSBP EC2.6: log all of the new VPC's traffic to CloudWatch Logs (kept a year).

        Only for a VPC this stack creates: an existing VPC's flow logs are its owner's business.
        """
        child = pulumi.ResourceOptions(parent=self)
        account_id = aws.get_caller_identity().account_id
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-flow-logs", retention_in_days=FLOW_LOG_RETENTION_DAYS, tags=tags, opts=child
        )
        role = aws.iam.Role(
            f"{name}-flow-logs-role",
            description="VPC flow logs delivery to CloudWatch Logs",
            assume_role_policy=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "vpc-flow-logs.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                            # confused-deputy guard: only flow logs of this account may use the role
                            "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
                        }
                    ],
                }
            ),
            tags=tags,
            opts=child,
        )
        # Least privilege: write to this one log group (":*" covers its log streams).
        policy = aws.iam.RolePolicy(
            f"{name}-flow-logs-policy",
            role=role.id,
            policy=log_group.arn.apply(
                lambda arn: json.dumps(
                    {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Sid": "DeliverFlowLogs",
                                "Effect": "Allow",
                                "Action": FLOW_LOG_ACTIONS,
                                "Resource": [arn, f"{arn}:*"],
                            }
                        ],
                    }
                )
            ),
            opts=child,
        )
        aws.ec2.FlowLog(
            f"{name}-flow-log",
            vpc_id=vpc.id,
            traffic_type="ALL",
            log_destination_type="cloud-watch-logs",
            log_destination=log_group.arn,
            iam_role_arn=role.arn,
            tags={**tags, "Name": f"{name}-vpc"},
            # AWS checks at creation that the service can use the role: its permission first.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[policy]),
        )
