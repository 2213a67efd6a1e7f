"""The LoadBalancer component on its own: where the HTTPS listener sends a request, evaluated as
an ALB does (rules by priority, every condition of a rule must match, else the default action)."""

from __future__ import annotations

import ipaddress

import pytest

from components.load_balancer import LoadBalancer, LoadBalancerArgs
from offline.engine import Inventory
from tests.components.support import run_component

LISTENER = "aws:lb/listener:Listener"
RULE = "aws:lb/listenerRule:ListenerRule"
TARGET_GROUP = "aws:lb/targetGroup:TargetGroup"
OPERATORS = ["198.51.100.0/28", "198.51.100.64/28", "203.0.113.7/32", "192.0.2.0/24", "10.20.0.0/16"]


def load_balancer(cidrs_per_rule: int) -> Inventory:
    args = LoadBalancerArgs(
        label="lb",
        vpc_id="vpc-0123456789abcdef0",
        subnet_ids=["subnet-0aaaaaaaaaaaaaaa1", "subnet-0aaaaaaaaaaaaaaa2"],
        security_group_id="sg-0123456789abcdef0",
        http_port=9763,
        https_port=9443,
        service_host="as.example.com",
        management_host="mgt.as.example.com",
        management_cidrs=OPERATORS,
        cidrs_per_rule=cidrs_per_rule,
        http_mode="redirect",
        worker_health_check_path="/services/Version",
        manager_health_check_path="/carbon/admin/login.jsp",
        manager_stickiness_seconds=3600,
        worker_stickiness_seconds=0,
        deletion_protection=False,
        certificate_arn="arn:aws:acm:eu-west-1:123456789012:certificate/11111111-2222-3333-4444-555555555555",
        access_logs=False,
        region="eu-west-1",
    )
    return run_component(lambda: LoadBalancer("lb", args))


def route(inventory: Inventory, host: str, source_ip: str) -> str:
    """Where the HTTPS listener sends a request: a target group's name, or the fixed status code."""
    (https,) = [listener for listener in inventory.of_type(LISTENER) if listener.inputs["port"] == 443]
    groups = {group.outputs["arn"]: group.name for group in inventory.of_type(TARGET_GROUP)}
    rules = [rule for rule in inventory.of_type(RULE) if rule.inputs["listenerArn"] == https.outputs["arn"]]

    def matches(condition: dict) -> bool:
        if "hostHeader" in condition:  # case-insensitive, as the ALB compares host names
            return host.lower() in [value.lower() for value in condition["hostHeader"]["values"]]
        if "sourceIp" in condition:
            return any(
                ipaddress.ip_address(source_ip) in ipaddress.ip_network(c) for c in condition["sourceIp"]["values"]
            )
        raise AssertionError(f"a condition this evaluator does not know: {condition}")

    def outcome(action: dict) -> str:
        if action["type"] == "forward":
            return groups[action["targetGroupArn"]]
        return action["fixedResponse"]["statusCode"]

    for rule in sorted(rules, key=lambda r: r.inputs["priority"]):
        if all(matches(c) for c in rule.inputs["conditions"]):
            return outcome(rule.inputs["actions"][0])
    return outcome(https.inputs["defaultActions"][0])


@pytest.mark.parametrize("cidrs_per_rule,rules", [(4, 2), (2, 3), (1, 5)])
def test_the_console_answers_its_allowed_sources_only_however_they_are_split(cidrs_per_rule, rules):
    inventory = load_balancer(cidrs_per_rule)
    allow = [r for r in inventory.of_type(RULE) if r.name.startswith("lb-https-management") and "deny" not in r.name]
    assert len(allow) == rules
    assert all(len(r.inputs["conditions"][1]["sourceIp"]["values"]) <= cidrs_per_rule for r in allow)

    manager, workers = "lb-ms", "lb-ws"  # the manager's and the workers' HTTPS target groups
    for cidr in OPERATORS:
        network = ipaddress.ip_network(cidr)
        for address in (network[0], network[-1]):
            assert route(inventory, "mgt.as.example.com", str(address)) == manager
            assert route(inventory, "MGT.AS.EXAMPLE.COM", str(address)) == manager
    for outsider in ("198.51.100.16", "203.0.113.8", "8.8.8.8", "10.21.0.1"):
        assert route(inventory, "mgt.as.example.com", outsider) == "403"
    # the service host, and any other host, goes to the workers, from anywhere
    for host, source in (("as.example.com", "8.8.8.8"), ("as.example.com", "198.51.100.1"), ("other", "8.8.8.8")):
        assert route(inventory, host, source) == workers


def test_route_knows_no_condition_it_cannot_evaluate():
    """The evaluator refuses what it does not model, rather than skipping it."""
    inventory = load_balancer(4)
    rule = next(r for r in inventory.of_type(RULE) if r.name == "lb-https-management")
    rule.inputs["conditions"].append({"pathPattern": {"values": ["/carbon/*"]}})
    with pytest.raises(AssertionError, match="does not know"):
        route(inventory, "mgt.as.example.com", "198.51.100.1")
