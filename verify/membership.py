"""Did the nodes form one Hazelcast cluster? Read from the nodes' own logs in CloudWatch Logs.

The CloudWatch agent on every node ships ``wso2carbon.log`` to the stack's `carbon` log group
(output ``logGroupNames.carbon``), one stream per node named by its instance id, one event per
log4j event. Each node's latest logged member list is its current view of the cluster.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Iterator, Optional

from botocore.exceptions import ClientError

from verify.checks import CheckResult, aws_error
from verify.hazelcast import MemberList, UnparseableMemberList, parse_member_list
from verify.outputs import Node, StackOutputs

FILTER_PATTERN = '"Members ["'
NO_LOG_GROUPS = "no logGroupNames output"


@dataclass(frozen=True)
class NodeView:
    """What one node's stream says: its latest member list, or why there is none to use."""

    node: Node
    members: Optional[MemberList] = None
    timestamp: Optional[int] = None  # of the latest member-list event, ms since the epoch
    problem: Optional[str] = None  # set when `members` is None


def latest_member_list_event(logs: Any, group: str, stream: str) -> Optional[dict]:
    """The member-list event with the greatest timestamp in `stream` (None when there is none)."""
    latest: Optional[dict] = None
    key = None
    pages = logs.get_paginator("filter_log_events").paginate(
        logGroupName=group, logStreamNames=[stream], filterPattern=FILTER_PATTERN
    )
    for page in pages:
        for event in page.get("events", []):
            event_key = (event.get("timestamp", 0), event.get("ingestionTime", 0))
            if latest is None or event_key >= key:
                latest, key = event, event_key
    return latest


def when(timestamp_ms: int) -> str:
    return datetime.fromtimestamp(timestamp_ms / 1000, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def read_view(logs: Any, group: str, node: Node) -> NodeView:
    try:
        event = latest_member_list_event(logs, group, node.instance_id)
    except ClientError as error:
        # AWS answers a missing stream (the agent never shipped anything) or group this way;
        # any other error (e.g. access denied) concerns every node and fails the section.
        if error.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
            raise
        return NodeView(node, problem=f"logged no Hazelcast member list in {group} ({aws_error(error)})")
    if event is None:
        return NodeView(
            node,
            problem=f"logged no Hazelcast member list in {group} (is the node up and its CloudWatch agent shipping wso2carbon.log?)",
        )
    timestamp = event.get("timestamp", 0)
    try:
        members = parse_member_list(event.get("message", ""))
    except UnparseableMemberList as error:
        return NodeView(node, timestamp=timestamp, problem=f"latest member list ({when(timestamp)}) is unparseable: {error}")
    return NodeView(node, members=members, timestamp=timestamp)


def _ip_order(ip: str) -> tuple:
    try:
        return (0, int(ipaddress.ip_address(ip)), ip)
    except ValueError:
        return (1, 0, ip)


def _named(nodes: list[Node]) -> str:
    return ", ".join(f"{n.label} ({n.private_ip})" for n in nodes)


def _unknown(ips: set[str] | frozenset[str]) -> str:
    ordered = sorted(ips, key=_ip_order)
    return f"unknown member{'s' if len(ordered) > 1 else ''} {', '.join(ordered)}"


def _node_result(view: NodeView, nodes: list[Node]) -> CheckResult:
    node = view.node
    name = f"{node.label} ({node.instance_id}) cluster membership"
    if view.members is None:
        return CheckResult(name, False, view.problem or "no member list")
    seen = view.members.ips
    expected = {n.private_ip for n in nodes}
    as_of = f"as of {when(view.timestamp or 0)}"
    if seen == expected and (view.members.this is None or view.members.this.ip == node.private_ip):
        return CheckResult(name, True, f"sees all {len(nodes)} members, {as_of}")
    problems = []
    this = view.members.this
    if node.private_ip not in seen:
        marked = f"; the list marks {this.ip} as this node" if this is not None else ""
        problems.append(f"does not list itself ({node.private_ip}{marked})")
    elif this is not None and this.ip != node.private_ip:
        problems.append(f"the list marks {this.ip}, not {node.private_ip}, as this node (another node's log in this stream?)")
    missing = [n for n in nodes if n.private_ip not in seen and n.label != node.label]
    unknown = seen - expected
    if missing or unknown or node.private_ip not in seen:
        problems.append(f"sees {len(seen & expected)} of {len(nodes)} members")
    if missing:
        problems.append(f"missing {_named(missing)}")
    if unknown:
        problems.append(_unknown(unknown))
    return CheckResult(name, False, "; ".join(problems) + f" ({as_of})")


def _manager_result(view: NodeView, workers: list[Node]) -> CheckResult:
    name = "manager sees every worker"
    if view.members is None:
        return CheckResult(name, False, f"no usable member list from the manager ({view.problem})")
    missing = [w for w in workers if w.private_ip not in view.members.ips]
    if missing:
        return CheckResult(name, False, f"the manager does not list {_named(missing)}")
    return CheckResult(name, True, f"the manager lists {', '.join(w.label for w in workers)}")


def _group_labels(views: list[NodeView]) -> list[list[str]]:
    """Node labels grouped by identical member set, groups in the order of their first node."""
    groups: dict[frozenset[str], list[str]] = {}
    for view in views:
        groups.setdefault(view.members.ips, []).append(view.node.label)
    return list(groups.values())


def _and_join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _cluster_result(views: list[NodeView], nodes: list[Node]) -> CheckResult:
    name = "Hazelcast cluster"
    reporting = [v for v in views if v.members is not None]
    silent = [v.node.label for v in views if v.members is None]
    silent_note = f"no usable member list from {', '.join(silent)}" if silent else ""
    if not reporting:
        return CheckResult(name, False, "no node logged a usable member list")
    groups = _group_labels(reporting)
    expected = {n.private_ip for n in nodes}
    if len(groups) > 1:
        split = f"cluster split into {len(groups)} groups: " + _and_join(["{" + ", ".join(g) + "}" for g in groups])
        return CheckResult(name, False, "; ".join(p for p in (split, silent_note) if p))
    seen = reporting[0].members.ips
    if seen == expected and not silent:
        return CheckResult(name, True, f"one cluster of {len(nodes)} members")
    who = "every node sees" if not silent else ", ".join(v.node.label for v in reporting) + (" sees" if len(reporting) == 1 else " see")
    parts = []
    if seen == expected:
        parts.append(f"{who} all {len(nodes)} members")
    else:
        parts.append(f"{who} the same {len(seen)} members, expected {len(nodes)}")
        missing = [n for n in nodes if n.private_ip not in seen]
        if missing:
            parts.append(f"missing {_named(missing)}")
        if seen - expected:
            parts.append(_unknown(seen - expected))
    if silent_note:
        parts.append(silent_note)
    return CheckResult(name, False, "; ".join(parts))


def check_membership(logs: Any, outputs: StackOutputs) -> Iterator[CheckResult]:
    """Every node's latest member list is all nodes; the manager lists every worker; one cluster."""
    group = outputs.carbon_log_group
    if group is None:
        yield CheckResult("cluster membership", False, NO_LOG_GROUPS)
        return
    nodes = outputs.nodes()
    views = []
    for node in nodes:
        view = read_view(logs, group, node)
        views.append(view)
        yield _node_result(view, nodes)
    yield _manager_result(views[0], nodes[1:])
    yield _cluster_result(views, nodes)
