"""The preview's readable summaries of the declared resources: nodes, security-group rules and
listener rules, as plain rows (the preview prints them, or writes them with --json)."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

from offline.engine import DeclaredResource, Inventory

INSTANCE = "aws:ec2/instance:Instance"
ENI = "aws:ec2/networkInterface:NetworkInterface"
SUBNET = "aws:ec2/subnet:Subnet"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
LISTENER = "aws:lb/listener:Listener"
LISTENER_RULE = "aws:lb/listenerRule:ListenerRule"
TARGET_GROUP = "aws:lb/targetGroup:TargetGroup"


@dataclass(frozen=True)
class NodeRow:
    name: str
    role: str
    instance_type: str
    availability_zone: str  # "" for a subnet of an existing VPC (its AZ is AWS's to say)
    subnet: str  # the subnet's logical name, or its id in an existing VPC
    private_ip: str  # the mock engine's stand-in: AWS assigns it when the ENI is created


@dataclass(frozen=True)
class FirewallRow:
    group: str  # the security group's logical name
    direction: str  # "in" or "out"
    port: int
    peer: str  # a CIDR block or another group's logical name
    description: str


@dataclass(frozen=True)
class ListenerRow:
    listener: str  # "HTTPS 443"
    priority: str  # the rule's priority, or "default"
    conditions: str  # "host mgt.example.com, source 10.0.0.0/16"; "" for the default action
    action: str  # "forward dev-ms (HTTPS 9443)", "redirect to HTTPS 443", "403"


def _by_id(inventory: Inventory) -> dict[str, DeclaredResource]:
    return {resource.id: resource for resource in inventory.resources if resource.custom and resource.id}


def node_rows_with_instances(inventory: Inventory) -> list[tuple[NodeRow, DeclaredResource]]:
    """Each node's row and its instance: the manager first, then the workers in natural order."""
    by_id = _by_id(inventory)
    enis = {eni.id: eni for eni in inventory.of_type(ENI)}
    found = []
    for instance in inventory.of_type(INSTANCE):
        tags = instance.inputs.get("tags") or {}
        eni = enis[instance.inputs["primaryNetworkInterface"]["networkInterfaceId"]]
        subnet = by_id.get(eni.inputs["subnetId"])
        row = NodeRow(
            name=tags.get("Name", instance.name),
            role=tags.get("wso2:role", "?"),
            instance_type=instance.inputs["instanceType"],
            availability_zone=subnet.inputs["availabilityZone"] if subnet else "",
            subnet=subnet.name if subnet else eni.inputs["subnetId"],
            private_ip=eni.outputs.get("privateIp", ""),
        )
        found.append((row, instance))
    return sorted(found, key=lambda pair: (pair[0].role != "manager", natural_order(pair[0].name)))


def node_rows(inventory: Inventory) -> list[NodeRow]:
    return [row for row, _ in node_rows_with_instances(inventory)]


def natural_order(name: str) -> list:
    """worker-2 before worker-10: the digits in a name compare as numbers."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


def firewall_rows(inventory: Inventory) -> list[FirewallRow]:
    groups = {group.id: group.name for group in inventory.of_type(SECURITY_GROUP)}
    rows = []
    for type_token, direction in ((INGRESS, "in"), (EGRESS, "out")):
        for rule in inventory.of_type(type_token):
            inputs = rule.inputs
            peer = inputs.get("cidrIpv4") or groups.get(inputs.get("referencedSecurityGroupId"), "?")
            rows.append(
                FirewallRow(
                    groups[inputs["securityGroupId"]], direction, inputs["toPort"], peer, inputs.get("description", "")
                )
            )
    return sorted(rows, key=lambda row: (row.group, row.direction, row.port, row.peer))


def listener_rows(inventory: Inventory) -> list[ListenerRow]:
    target_groups = {
        group.outputs["arn"]: f"{group.name} ({group.inputs['protocol']} {group.inputs['port']})"
        for group in inventory.of_type(TARGET_GROUP)
    }

    def action(actions: list[dict[str, Any]]) -> str:
        first = actions[0]
        if first["type"] == "forward":
            return f"forward to {target_groups.get(first['targetGroupArn'], '?')}"
        if first["type"] == "redirect":
            return f"redirect to {first['redirect']['protocol']} {first['redirect']['port']}"
        return first["fixedResponse"]["statusCode"]

    def conditions(rule: DeclaredResource) -> str:
        parts = []
        for condition in rule.inputs["conditions"]:
            for key, label in (("hostHeader", "host"), ("sourceIp", "source"), ("pathPattern", "path")):
                if key in condition:
                    parts.append(f"{label} {' '.join(condition[key]['values'])}")
        return ", ".join(parts)

    rows = []
    for listener in sorted(inventory.of_type(LISTENER), key=lambda lb: lb.inputs["port"]):
        name = f"{listener.inputs['protocol']} {listener.inputs['port']}"
        rules = [r for r in inventory.of_type(LISTENER_RULE) if r.inputs["listenerArn"] == listener.outputs["arn"]]
        for rule in sorted(rules, key=lambda r: r.inputs["priority"]):
            rows.append(
                ListenerRow(name, str(rule.inputs["priority"]), conditions(rule), action(rule.inputs["actions"]))
            )
        rows.append(ListenerRow(name, "default", "", action(listener.inputs["defaultActions"])))
    return rows


def as_json(rows: list[Any]) -> list[dict[str, Any]]:
    return [asdict(row) for row in rows]
