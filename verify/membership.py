"""Do the nodes form one Hazelcast cluster now? Asked of every node through SSM Run Command.

Every node runs :func:`members_command`: Hazelcast 3.5's REST endpoint ``/hazelcast/rest/cluster``
on the cluster port answers with the member's own current member list (``Members [n] {...}``).
It is on by default in Hazelcast 3.5 (``hazelcast.rest.enabled``, default ``true`` in its
``GroupProperties``), and Carbon 4.4.1 does not turn it off (``HazelcastClusteringAgent``
sets only heartbeat, master-confirmation and merge properties).

A node SSM cannot ask falls back to its newest member list in its ``wso2carbon.log`` stream (the
stack's `carbon` log group, one stream per instance id) logged within the window. Hazelcast logs
the list only when membership changes, so a logged list is stale, and is not used, when it is
older than the window or when the nodes asked now all see another member set.

Each view must be exactly the stack's nodes, each at the cluster port, with the node itself marked
``this``; all views must be the same member set (else the cluster is split).
"""

from __future__ import annotations

import ipaddress
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable, Iterator, Optional

from botocore.exceptions import ClientError

from verify.checks import CheckResult
from verify.hazelcast import MemberList, UnparseableMemberList, parse_member_list
from verify.outputs import Node, StackOutputs
from verify.ssm import RemoteCommand

FILTER_PATTERN = '"Members ["'
REST_PATH = "/hazelcast/rest/cluster"


def members_command(cluster_port: int) -> str:
    """Asks the local member for its member list (Hazelcast binds every address, loopback too)."""
    return f"curl -sS --fail --max-time 5 http://127.0.0.1:{cluster_port}{REST_PATH}"


@dataclass(frozen=True)
class NodeView:
    """One node's member list, asked now or read from its log, or why there is none to use."""

    node: Node
    members: Optional[MemberList] = None
    logged_at: Optional[str] = None  # when the list was logged; None: asked now through SSM
    why_not_live: str = ""  # why SSM could not ask the node (for a logged list)
    problem: Optional[str] = None  # set when `members` is None

    @property
    def live(self) -> bool:
        return self.members is not None and self.logged_at is None

    @property
    def source(self) -> str:
        return (
            "live"
            if self.logged_at is None
            else f"from its log as of {self.logged_at}; no live view ({self.why_not_live})"
        )

    @property
    def member_set(self) -> frozenset[tuple[str, int]]:
        return frozenset((m.ip, m.port) for m in self.members.members) if self.members else frozenset()


def when(timestamp_ms: int) -> str:
    return datetime.fromtimestamp(timestamp_ms / 1000, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def _newest_logged_list(logs: Any, group: str, stream: str, since_ms: int) -> Optional[dict]:
    newest: Optional[dict] = None
    pages = logs.get_paginator("filter_log_events").paginate(
        logGroupName=group, logStreamNames=[stream], filterPattern=FILTER_PATTERN, startTime=since_ms
    )
    for page in pages:
        for event in page.get("events", []):
            key = (event.get("timestamp", 0), event.get("ingestionTime", 0))
            if newest is None or key >= (newest.get("timestamp", 0), newest.get("ingestionTime", 0)):
                newest = event
    return newest


def logged_view(
    logs: Any, group: Optional[str], node: Node, why_not_live: str, window_hours: float, now_ms: int
) -> NodeView:
    """The node's newest member list logged within the window, else why there is none."""
    no_live = f"no live view ({why_not_live})"
    if group is None:
        return NodeView(node, problem=f"{no_live} and no logGroupNames output to fall back on")
    try:
        event = _newest_logged_list(logs, group, node.instance_id, now_ms - int(window_hours * 3_600_000))
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
            raise
        event = None
    if event is None:
        return NodeView(
            node,
            problem=f"{no_live} and no member list logged in {group} in the last {window_hours:g} h "
            "(Hazelcast logs it only when membership changes)",
        )
    stamp = when(event.get("timestamp", 0))
    try:
        members = parse_member_list(event.get("message", ""))
    except UnparseableMemberList as error:
        return NodeView(node, problem=f"{no_live}; its newest logged member list ({stamp}) is unparseable: {error}")
    return NodeView(node, members, logged_at=stamp, why_not_live=why_not_live)


def without_stale_logs(views: list[NodeView]) -> list[NodeView]:
    """A logged view no live view agrees with predates a membership change: it is not used."""
    live_sets = {v.member_set for v in views if v.live}
    if not live_sets:
        return views
    return [
        view
        if view.live or view.members is None or view.member_set in live_sets
        else NodeView(
            view.node,
            problem=f"no live view ({view.why_not_live}); its member list logged at "
            f"{view.logged_at} is stale: the nodes asked now see other members",
        )
        for view in views
    ]


def _ip_order(address: tuple[str, int]) -> tuple:
    ip, port = address
    try:
        return (0, int(ipaddress.ip_address(ip)), port)
    except ValueError:
        return (1, 0, port)


def _addresses(addresses) -> str:  # noqa: ANN001 - any iterable of (ip, port)
    return ", ".join(f"{ip}:{port}" for ip, port in sorted(addresses, key=_ip_order))


def _named(nodes: list[Node]) -> str:
    return ", ".join(f"{n.label} ({n.private_ip})" for n in nodes)


def node_result(view: NodeView, nodes: list[Node], port: int) -> CheckResult:
    node = view.node
    name = f"{node.label} ({node.instance_id}) cluster membership"
    if view.members is None:
        return CheckResult(name, False, view.problem or "no member list")
    listed = [(m.ip, m.port) for m in view.members.members]
    seen = set(listed)
    expected = {(n.private_ip, port) for n in nodes}
    problems = []
    this = view.members.this
    if this is None or (this.ip, this.port) != (node.private_ip, port):
        marked = f"{this.ip}:{this.port}" if this else "no member"
        problems.append(f"the list marks {marked} as this node, not {node.private_ip}:{port}")
    missing = [n for n in nodes if (n.private_ip, port) not in seen]
    if missing:
        problems.append(f"missing {_named(missing)}")
    foreign = seen - expected
    if foreign:
        problems.append(f"foreign member{'s' if len(foreign) > 1 else ''} {_addresses(foreign)}")
    if len(listed) != len(seen):
        problems.append("lists a member twice")
    if problems:
        return CheckResult(
            name,
            False,
            f"sees {len(seen & expected)} of {len(nodes)} members: " + "; ".join(problems) + f" ({view.source})",
        )
    return CheckResult(name, True, f"sees all {len(nodes)} members at port {port} ({view.source})")


def _and_join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def cluster_result(views: list[NodeView], nodes: list[Node], port: int) -> CheckResult:
    name = "Hazelcast cluster"
    reporting = [v for v in views if v.members is not None]
    if not reporting:
        return CheckResult(name, False, "no node's member list could be read")
    groups: dict[frozenset, list[str]] = {}
    for view in reporting:
        groups.setdefault(view.member_set, []).append(view.node.label)
    silent = [v.node.label for v in views if v.members is None]
    unread = f"; no member list from {', '.join(silent)}" if silent else ""
    if len(groups) > 1:
        split = _and_join(["{" + ", ".join(labels) + "}" for labels in groups.values()])
        return CheckResult(name, False, f"split into {len(groups)} clusters: {split}{unread}")
    members = next(iter(groups))
    if members == {(n.private_ip, port) for n in nodes} and not silent:
        return CheckResult(name, True, f"one cluster of the stack's {len(nodes)} nodes")
    return CheckResult(
        name,
        False,
        f"one cluster of {len(members)} members ({_addresses(members)}); the stack has {len(nodes)} nodes{unread}",
    )


def check_membership(
    ssm: Any,
    logs: Any,
    outputs: StackOutputs,
    budget: float,
    window_hours: float,
    *,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    now_ms: Optional[int] = None,
) -> Iterator[CheckResult]:
    """Each node's member list, asked now (else from its log), is the stack's nodes; one cluster."""
    nodes = outputs.nodes()
    port = outputs.cluster_port
    command = RemoteCommand(ssm, "wso2-cluster verify: Hazelcast members", sleep=sleep, clock=clock)
    answers = command.run([n.instance_id for n in nodes], members_command(port), budget)
    now = now_ms if now_ms is not None else int(time.time() * 1000)
    views = []
    for node in nodes:
        answer = answers[node.instance_id]
        if answer.ok:
            try:
                views.append(NodeView(node, parse_member_list(answer.stdout)))
                continue
            except UnparseableMemberList as error:
                why = f"{REST_PATH} answered no member list: {error}"
        else:
            why = answer.problem
        views.append(logged_view(logs, outputs.carbon_log_group, node, why, window_hours, now))
    views = without_stale_logs(views)
    for view in views:
        yield node_result(view, nodes, port)
    yield cluster_result(views, nodes, port)
