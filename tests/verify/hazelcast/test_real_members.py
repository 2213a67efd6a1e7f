"""Real Hazelcast 3.5 members, configured as Carbon 4.4.1 configures them from axis2.xml (WKA).

One module-scoped cluster runs the scenarios in order (each test builds on the previous state):
(a) manager + 2 workers form one cluster; (b) 3 more workers: one cluster of 6; (c) manager stopped:
the 5 workers stay one cluster; (d) the manager restarts and rejoins; (e) a member of another domain
stays out; (f) a member of the right domain on another port, in nobody's WKA list, joins anyway:
the WKA list only says whom a starting member asks to join, it is no allow-list (Hazelcast's master
accepts any join request from the same group, whatever its address).
Views come from each member's REST endpoint (GET /hazelcast/rest/cluster); logs from its wso2carbon.log.
verify's membership check runs against the live members twice: (a) passes, (f) fails on the stray.
"""

from __future__ import annotations

import re
from pathlib import Path

import boto3
import pytest
from moto import mock_aws
from verify_cluster_kit import REGION

from tests.aws_support import FakeClock
from tests.verify.hazelcast.cluster import Cluster, ListedMember, Member, parse_members, wait_until, write_axis2_xml
from verify.hazelcast import parse_member_list
from verify.membership import check_membership, members_command
from verify.outputs import parse_outputs

pytestmark = pytest.mark.hazelcast

DOMAIN = "wso2.as.domain"
PORT = 5701
NODES = {"manager": "127.0.0.2", **{f"worker-{i}": f"127.0.0.{i + 2}" for i in range(1, 6)}}
WKA = ["manager", "worker-1", "worker-2"]  # as the project: the first 3 nodes, manager first
OUTSIDER = "127.0.0.8"  # (e): another domain
STRAY, STRAY_PORT = "127.0.0.9", 5702  # (f): right domain, another port, in nobody's WKA list
SETTLE = 60  # seconds for views to converge; joins take ~5 s (hazelcast.wait.seconds.before.join)

# One log event holding a member list, in the CARBON_LOGFILE layout (CarbonMember.java's header).
MEMBERS_EVENT = re.compile(
    r"TID: \[-1\] \[\] \[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}\]  INFO \{com\.hazelcast\.cluster\.[\w.]+\} -  "
    r"\[(?P<ip>[0-9.]+)\]:(?P<port>\d+) \[(?P<domain>[^\]]*)\] \[3\.5\] \n+"
    r"(?P<block>Members \[\d+\] \{\n(?:\tMember [^\n]*\n)*\}\n) \n"
)


def axis2(cluster: Cluster, name: str, ip: str, domain: str = DOMAIN, port: int = PORT) -> Path:
    """The node's axis2.xml: WKA list = the first 3 nodes on the cluster port, without itself."""
    wka = [f"{NODES[n]}:{PORT}" for n in WKA if NODES[n] != ip]
    return write_axis2_xml(cluster.workdir / f"{name}-axis2.xml", domain=domain, host=ip, port=port, wka=wka)


@pytest.fixture(scope="module")
def nodes(real_cluster: Cluster) -> dict[str, Member]:
    # No hazelcast.properties, as on the nodes: Carbon's and Hazelcast 3.5's defaults, among them
    # hazelcast.rest.enabled=true (GroupProperties), the endpoint verify asks.
    return {name: real_cluster.add(name, axis2(real_cluster, name, ip)) for name, ip in NODES.items()}


def view(member: Member) -> frozenset[str]:
    """The addresses `member` lists, after checking it marks exactly itself as ` this`."""
    listed = member.members()
    assert [m for m in listed if m.this] == [ListedMember(member.host, member.port, True)], listed
    return frozenset(f"{m.ip}:{m.port}" for m in listed)


def settle(members: list[Member], expected: set[str]) -> None:
    """Wait until every one of `members` lists exactly `expected`."""
    wait_until(
        lambda: all(view(m) == expected for m in members),
        SETTLE,
        what=f"{[m.name for m in members]} all listing {sorted(expected)}",
    )


def addresses(*members: Member) -> set[str]:
    return {m.address for m in members}


def last_members_event(member: Member) -> re.Match[str]:
    events = list(MEMBERS_EVENT.finditer(member.log_text(current_run=True)))
    assert events, f"no member-list event in Carbon's layout in {member.log_path}"
    return events[-1]


def verify_membership(members: list[Member], static_outputs: dict, node_shell) -> list[tuple[str, bool, str]]:
    """verify's membership check on a stack whose nodes are `members` (the manager first): moto's
    SSM runs the REST query on a node by asking that member now."""
    ids = [f"i-0{index:016x}" for index in range(len(members))]
    outputs = dict(
        static_outputs,
        managerInstanceId=ids[0],
        managerPrivateIp=members[0].host,
        workerInstanceIds=ids[1:],
        workerPrivateIps=[m.host for m in members[1:]],
        clusterPort=PORT,
    )
    member_of = dict(zip(ids, members))
    node_shell.answer(members_command(PORT), lambda instance_id: member_of[instance_id].rest_cluster())
    with mock_aws():
        clock = FakeClock()
        results = check_membership(
            boto3.client("ssm", region_name=REGION),
            boto3.client("logs", region_name=REGION),
            parse_outputs(outputs),
            10.0,
            24,
            sleep=clock.sleep,
            clock=clock,
        )
        checked = [(r.name.split(" (")[0], r.ok, r.detail) for r in results]
    assert sorted(i for c, i in node_shell.ran if c == members_command(PORT)) == ids  # every node asked
    return checked


def test_a_dev_manager_and_two_workers_form_one_cluster(real_cluster, nodes, static_outputs, node_shell):
    three = [nodes[n] for n in WKA]
    real_cluster.start(*three)
    settle(three, addresses(*three))
    assert verify_membership(three, static_outputs, node_shell) == [
        ("manager", True, "sees all 3 members at port 5701 (live)"),
        ("worker-1", True, "sees all 3 members at port 5701 (live)"),
        ("worker-2", True, "sees all 3 members at port 5701 (live)"),
        ("Hazelcast cluster", True, "one cluster of the stack's 3 nodes"),
    ]


def test_log_holds_the_member_list_in_carbons_layout(nodes):
    """wso2carbon.log: Hazelcast's member-list event as Carbon's log4j layout writes it, and what verify reads."""
    for member in (nodes[n] for n in WKA):
        event = last_members_event(member)
        assert (event["ip"], int(event["port"]), event["domain"]) == (member.host, member.port, DOMAIN)
        listed = parse_members(event["block"])
        assert {f"{m.ip}:{m.port}" for m in listed} == view(member)
        assert [m for m in listed if m.this] == [ListedMember(member.host, member.port, True)]
        parsed = parse_member_list(event.group(0))  # the project's verify parser on the real event
        assert parsed.ips == {m.ip for m in listed} and parsed.this.ip == member.host


def test_b_five_workers_and_the_manager_form_one_cluster_of_six(real_cluster, nodes):
    real_cluster.start(*(nodes[f"worker-{i}"] for i in range(3, 6)))
    settle(list(nodes.values()), addresses(*nodes.values()))


def test_c_without_the_manager_the_workers_stay_one_cluster(nodes):
    manager, workers = nodes["manager"], [m for n, m in nodes.items() if n != "manager"]
    manager.stop()
    settle(workers, addresses(*workers))
    for worker in workers:  # Carbon's WKA listener line that the project's metric filter counts
        assert re.search(rf"Member left \[[0-9a-f-]{{36}}\]: /{re.escape(manager.address)} ", worker.log_text())


def test_d_the_restarted_manager_rejoins(nodes):
    manager = nodes["manager"].start().wait_ready()
    settle(list(nodes.values()), addresses(*nodes.values()))
    logged = parse_members(last_members_event(manager)["block"])  # this run's log: the list it joined
    assert {f"{m.ip}:{m.port}" for m in logged} == addresses(*nodes.values())


def test_e_a_member_of_another_domain_stays_out(real_cluster, nodes):
    outsider = real_cluster.add("outsider", axis2(real_cluster, "outsider", OUTSIDER, domain="other.domain"))
    real_cluster.start(outsider)
    assert view(outsider) == {outsider.address}
    settle(list(nodes.values()), addresses(*nodes.values()))
    assert last_members_event(outsider)["domain"] == "other.domain"
    # Both sides say why (Hazelcast 3.5's group check on join):
    assert "Cause: the target cluster has a different group-name" in outsider.log_text()
    assert (
        f"Received an invalid join request from Address[{OUTSIDER}]:{PORT}, "
        "cause: clusters part of different cluster-groups"
    ) in nodes["manager"].log_text()


def test_f_a_member_on_another_port_in_no_wka_list_joins(real_cluster, nodes, static_outputs, node_shell):
    """Nobody lists 127.0.0.9:5702, yet it joins: it asks its own WKA members, and the master admits
    any member of the group. (Carbon then adds its address to every member's tcp-ip list through the
    "$<domain>.members" map, so merges after a split would find it too.)"""
    stray = real_cluster.add("stray", axis2(real_cluster, "stray", STRAY, port=STRAY_PORT))
    real_cluster.start(stray)
    everyone = [*nodes.values(), stray]
    settle(everyone, addresses(*everyone))
    joined = rf"Member joined \[[0-9a-f-]{{36}}\]: /{re.escape(STRAY)}:{STRAY_PORT} "
    assert re.search(joined, nodes["manager"].log_text())
    # verify fails every node of the six-node stack on the stray, and the cluster as one of 7
    foreign = f"sees 6 of 6 members: foreign member {STRAY}:{STRAY_PORT} (live)"
    stack = list(nodes.values())
    results = verify_membership(stack, static_outputs, node_shell)
    assert results[:-1] == [(name, False, foreign) for name in nodes]
    assert results[-1][:2] == ("Hazelcast cluster", False) and results[-1][2].startswith("one cluster of 7 members (")
