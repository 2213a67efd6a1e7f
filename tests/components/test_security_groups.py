"""The SecurityGroups component on its own: one group per group a rule names, one rule resource per
rule of the plan it is given, nothing else."""

from __future__ import annotations

from components.firewall import Rule
from components.security_groups import DESCRIPTIONS, SecurityGroups, SecurityGroupsArgs
from tests.components.support import run_component

GROUP = "aws:ec2/securityGroup:SecurityGroup"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"

PLAN = [
    Rule("alb-in-443-client-0", "alb", "ingress", 443, "HTTPS from clients", cidr="203.0.113.0/24"),
    Rule("alb-out-9443-nodes", "alb", "egress", 9443, "to the nodes' HTTPS port", peer="nodes"),
    Rule("nodes-in-9443-alb", "nodes", "ingress", 9443, "HTTPS from the load balancer", peer="alb"),
    Rule("nodes-out-3306-db", "nodes", "egress", 3306, "MySQL to the database", peer="db"),
    Rule("db-in-3306-nodes", "db", "ingress", 3306, "MySQL from the nodes", peer="nodes"),
]


def test_each_rule_of_the_plan_is_one_rule_resource_between_the_groups_it_names():
    inventory = run_component(
        lambda: SecurityGroups("sg", SecurityGroupsArgs(vpc_id="vpc-0123456789abcdef0", rules=PLAN, tags={"t": "1"}))
    )

    groups = {g.id: g for g in inventory.of_type(GROUP)}
    # only the groups the plan uses (no EFS group without an EFS rule), each described and tagged
    assert {g.name: (g.inputs["vpcId"], g.inputs["description"], g.inputs["tags"]) for g in groups.values()} == {
        f"sg-{key}-sg": ("vpc-0123456789abcdef0", DESCRIPTIONS[key], {"t": "1", "Name": f"sg-{key}-sg"})
        for key in ("alb", "nodes", "db")
    }
    key_of = {group_id: g.name.removeprefix("sg-").removesuffix("-sg") for group_id, g in groups.items()}

    def as_rule(resource, direction):
        inputs = resource.inputs
        assert (inputs["ipProtocol"], inputs["fromPort"]) == ("tcp", inputs["toPort"])
        peer = inputs.get("referencedSecurityGroupId")
        return Rule(
            resource.name.removeprefix("sg-"),
            key_of[inputs["securityGroupId"]],
            direction,
            inputs["toPort"],
            inputs["description"],
            cidr=inputs.get("cidrIpv4"),
            peer=key_of[peer] if peer else None,
        )

    declared = [as_rule(r, "ingress") for r in inventory.of_type(INGRESS)]
    declared += [as_rule(r, "egress") for r in inventory.of_type(EGRESS)]
    assert sorted(declared, key=lambda r: r.label) == sorted(PLAN, key=lambda r: r.label)
