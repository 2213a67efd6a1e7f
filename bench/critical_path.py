"""The modelled deployment critical path of a declared inventory.

Each cloud resource takes a typical creation time (CREATE_SECONDS, with where each figure comes
from); a resource starts when everything it depends on exists. The longest chain of creation
times to a resource is when it can exist at the earliest, as the Pulumi engine creates
independent resources in parallel.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from offline.engine import DeclaredResource, Inventory

# Typical time for `pulumi up` to create one resource of a type, in seconds, and where the figure
# comes from. These are assumed figures, not measurements (there is no AWS account here).
CREATE_SECONDS: dict[str, tuple[float, str]] = {
    "aws:rds/instance:Instance": (600, "DESIGN.md: RDS takes 5-15 minutes to create (midpoint)"),
    "aws:lb/loadBalancer:LoadBalancer": (
        180,
        "AWS ELB docs: a new ALB is `provisioning` for a few minutes before `active`",
    ),
    "aws:ec2/natGateway:NatGateway": (
        120,
        "AWS VPC docs: a NAT gateway is `pending` for a few minutes before `available`",
    ),
    "aws:ec2/instance:Instance": (45, "EC2 reaches `running` (what the provider waits for) in under a minute"),
    "aws:route53/zone:Zone": (45, "Route 53 API: changes reach INSYNC within 60 s; the provider waits for it"),
    "aws:route53/record:Record": (45, "as for the zone"),
    "aws:iam/instanceProfile:InstanceProfile": (10, "the provider waits out IAM's eventual consistency"),
    "aws:ec2/vpc:Vpc": (5, "control-plane call plus the provider's wait for `available`"),
}
DEFAULT_SECONDS = 3.0  # any other AWS resource: a control-plane API call that returns in seconds
# computed locally by a provider: no cloud call (the stash, the guard, the gates' create)
FREE = ("random:", "tls:", "pulumi:", "pulumi-python:dynamic")


def create_seconds(resource: DeclaredResource) -> float:
    if not resource.custom or resource.type.startswith(FREE):
        return 0.0
    return CREATE_SECONDS.get(resource.type, (DEFAULT_SECONDS, ""))[0]


@dataclass(frozen=True)
class Chain:
    seconds: float
    resources: tuple[DeclaredResource, ...]  # from the first created to the last

    def describe(self) -> str:
        return " -> ".join(f"{r.name} ({create_seconds(r):.0f}s)" for r in self.resources if create_seconds(r) > 0)


def longest_chains(inventory: Inventory, without: frozenset[str] = frozenset()) -> dict[str, Chain]:
    """For every resource URN, the longest creation chain that ends with it; resources in
    `without` are left out of every chain (as if nothing depended on them)."""

    @lru_cache(maxsize=None)
    def chain(urn: str) -> Chain:
        best = Chain(0.0, ())
        for dep in sorted(inventory.prerequisites(urn) - without):  # sorted: ties resolve the same way every run
            candidate = chain(dep)
            if candidate.seconds > best.seconds:
                best = candidate
        own = inventory.by_urn(urn)
        return Chain(best.seconds + create_seconds(own), best.resources + (own,))

    return {r.urn: chain(r.urn) for r in inventory.resources}


def overall(inventory: Inventory) -> Chain:
    return max(longest_chains(inventory).values(), key=lambda c: c.seconds)
