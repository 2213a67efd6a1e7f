"""The Network component on its own: a new VPC's subnets, NAT gateways and routes, or an existing
VPC used as given."""

from __future__ import annotations

import pulumi
import pytest

from components.network import Network, NetworkArgs, carve_subnets
from tests.components.support import run_component

SUBNET = "aws:ec2/subnet:Subnet"
NAT = "aws:ec2/natGateway:NatGateway"
ROUTE = "aws:ec2/route:Route"
ROUTE_TABLE = "aws:ec2/routeTable:RouteTable"
RTA = "aws:ec2/routeTableAssociation:RouteTableAssociation"


@pytest.mark.parametrize("nat_gateways,nats", [("perAz", 3), ("single", 1)])
def test_a_new_vpc_gets_a_subnet_pair_per_zone_and_each_private_subnet_a_route_through_nat(nat_gateways, nats):
    args = NetworkArgs(vpc_cidr="10.30.0.0/16", availability_zone_count=3, nat_gateways=nat_gateways)
    inventory = run_component(lambda: Network("net", args))

    by_id = {r.id: r for r in inventory.resources if r.custom}
    public_cidrs, private_cidrs = carve_subnets("10.30.0.0/16", 3)
    subnets = {
        s.name: (s.inputs["cidrBlock"], s.inputs["availabilityZone"], s.inputs["mapPublicIpOnLaunch"])
        for s in inventory.of_type(SUBNET)
    }
    zones = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
    assert subnets == {
        **{f"net-public-{i}": (public_cidrs[i], zone, False) for i, zone in enumerate(zones)},
        **{f"net-private-{i}": (private_cidrs[i], zone, False) for i, zone in enumerate(zones)},
    }
    # each NAT gateway sits in the public subnet of its own zone
    nat_zones = [by_id[nat.inputs["subnetId"]].name for nat in inventory.of_type(NAT)]
    assert sorted(nat_zones) == [f"net-public-{i}" for i in range(nats)]
    # private subnet i leaves through NAT i (perAz) or the one NAT (single)
    table_of = {by_id[a.inputs["subnetId"]].name: a.inputs["routeTableId"] for a in inventory.of_type(RTA)}
    default_routes = {
        r.inputs["routeTableId"]: r.inputs.get("natGatewayId") or r.inputs.get("gatewayId")
        for r in inventory.of_type(ROUTE)
        if r.inputs["destinationCidrBlock"] == "0.0.0.0/0"
    }
    nat_subnet = {nat.id: by_id[nat.inputs["subnetId"]].name for nat in inventory.of_type(NAT)}
    for i in range(3):
        assert nat_subnet[default_routes[table_of[f"net-private-{i}"]]] == f"net-public-{i % nats}"
        assert by_id[default_routes[table_of[f"net-public-{i}"]]].type == "aws:ec2/internetGateway:InternetGateway"


def test_an_existing_vpc_is_used_as_given_and_nothing_is_created():
    args = NetworkArgs(
        vpc_cidr="10.30.0.0/16",
        availability_zone_count=2,
        nat_gateways="single",
        vpc_id="vpc-0123456789abcdef0",
        public_subnet_ids=["subnet-0aaaaaaaaaaaaaaa1", "subnet-0aaaaaaaaaaaaaaa2"],
        private_subnet_ids=["subnet-0bbbbbbbbbbbbbbb1", "subnet-0bbbbbbbbbbbbbbb2"],
    )

    def program():
        network = Network("net", args)
        pulumi.export("vpcId", network.vpc_id)
        pulumi.export("vpcCidr", network.vpc_cidr)
        pulumi.export("publicSubnetIds", network.public_subnet_ids)
        pulumi.export("privateSubnetIds", network.private_subnet_ids)
        pulumi.export("outboundRoutes", len(network.outbound_routes))

    inventory = run_component(program)

    assert [r.type for r in inventory.resources if r.custom] == []
    assert inventory.outputs == {
        "vpcId": "vpc-0123456789abcdef0",
        "vpcCidr": "10.99.0.0/16",  # read from the VPC (the engine's mock answers this range)
        "publicSubnetIds": ["subnet-0aaaaaaaaaaaaaaa1", "subnet-0aaaaaaaaaaaaaaa2"],
        "privateSubnetIds": ["subnet-0bbbbbbbbbbbbbbb1", "subnet-0bbbbbbbbbbbbbbb2"],
        "outboundRoutes": 0,  # its routes exist already: no node waits for one
    }
