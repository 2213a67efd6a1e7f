"""Cluster membership from the nodes' wso2carbon.log in CloudWatch Logs (moto, and Stubber where
AWS behaves in a way moto does not reproduce)."""

from __future__ import annotations

from datetime import datetime, timezone

import boto3
import pytest
from botocore.stub import Stubber

from verify.checks import guarded
from verify.membership import FILTER_PATTERN, check_membership
from verify.outputs import parse_outputs
from verify_cluster_kit import (
    CARBON, LOG_GROUPS, MINUTE_MS, REGION, carbon_line, log_member_lists, member_list_message, nodes_of, now_ms, ship,
)

MANAGER_IP, WORKER1_IP, WORKER2_IP = "10.20.1.10", "10.20.1.20", "10.20.2.21"  # the kit's node IPs
NO_LIST = f"logged no Hazelcast member list in {CARBON} (is the node up and its CloudWatch agent shipping wso2carbon.log?)"


def as_of(ms: int) -> str:
    return "as of " + datetime.fromtimestamp(ms / 1000, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def membership(cluster, outputs: dict | None = None) -> list[tuple[str, bool, str]]:
    results = check_membership(cluster.logs, parse_outputs(outputs or cluster.outputs))
    return [(r.name, r.ok, r.detail) for r in results]


def names(cluster) -> dict[str, str]:
    """label -> the name prefix of its per-node check."""
    return {label: f"{label} ({instance_id}) cluster membership" for label, (instance_id, _) in nodes_of(cluster.outputs).items()}


def healthy_as_of(cluster) -> str:
    """The healthy fixture's member lists: logged 29 minutes before the test started."""
    event = cluster.logs.filter_log_events(
        logGroupName=CARBON, logStreamNames=[cluster.outputs["managerInstanceId"]], filterPattern=FILTER_PATTERN
    )["events"][-1]
    return as_of(event["timestamp"])


# --- moto's fidelity: the moto-based tests below rely on it ----------------------------------------


def test_moto_filter_log_events_honours_the_pattern_and_the_stream_names(cluster):
    """moto 5.2 matches a quoted filter pattern as an exact substring (as CloudWatch does for a
    quoted term, case-sensitively) and honours logStreamNames, so the member-list searches below
    really are filtered by moto. (For a stream that does not exist moto returns no events where
    AWS raises ResourceNotFoundException: that case is stubbed further down.)"""
    logs, manager = cluster.logs, cluster.outputs["managerInstanceId"]
    at = now_ms() - 5 * MINUTE_MS
    ship(logs, manager, [
        (at, carbon_line(at, "org.example.Noise", "Members joined: 3 (no bracket, not a member list)")),
        (at + 1, carbon_line(at + 1, "org.example.Noise", "members [3] { lower case }")),
    ])
    found = logs.filter_log_events(logGroupName=CARBON, logStreamNames=[manager], filterPattern=FILTER_PATTERN)["events"]
    assert [(e["logStreamName"], e["message"].count("\tMember [")) for e in found] == [(manager, 3)]
    everything = logs.filter_log_events(logGroupName=CARBON, logStreamNames=[manager])["events"]
    assert len(everything) == 6  # 2 boot lines, the member list, the line after it, the 2 noise lines
    all_streams = logs.filter_log_events(logGroupName=CARBON, filterPattern=FILTER_PATTERN)["events"]
    assert len(all_streams) == 3 and {e["logStreamName"] for e in all_streams} == set(cluster.outputs["workerInstanceIds"]) | {manager}


# --- scenarios in moto ------------------------------------------------------------------------------


def test_healthy_cluster_every_node_sees_every_node(cluster):
    n, when = names(cluster), healthy_as_of(cluster)
    assert membership(cluster) == [
        (n["manager"], True, f"sees all 3 members, {when}"),
        (n["worker-1"], True, f"sees all 3 members, {when}"),
        (n["worker-2"], True, f"sees all 3 members, {when}"),
        ("manager sees every worker", True, "the manager lists worker-1, worker-2"),
        ("Hazelcast cluster", True, "one cluster of 3 members"),
    ]


def test_split_cluster_two_plus_one_is_named(cluster):
    """The complete lists of the fixture are older: each node's newer list is the one that counts."""
    at = now_ms() - 5 * MINUTE_MS
    log_member_lists(cluster.logs, cluster.outputs, {
        "manager": ["manager", "worker-1"], "worker-1": ["manager", "worker-1"], "worker-2": ["worker-2"],
    }, at)
    n = names(cluster)
    assert membership(cluster) == [
        (n["manager"], False, f"sees 2 of 3 members; missing worker-2 ({WORKER2_IP}) ({as_of(at)})"),
        (n["worker-1"], False, f"sees 2 of 3 members; missing worker-2 ({WORKER2_IP}) ({as_of(at)})"),
        (n["worker-2"], False,
         f"sees 1 of 3 members; missing manager ({MANAGER_IP}), worker-1 ({WORKER1_IP}) ({as_of(at)})"),
        ("manager sees every worker", False, f"the manager does not list worker-2 ({WORKER2_IP})"),
        ("Hazelcast cluster", False, "cluster split into 2 groups: {manager, worker-1} and {worker-2}"),
    ]


def test_three_way_split_groups_in_node_order(cluster):
    at = now_ms() - 5 * MINUTE_MS
    log_member_lists(cluster.logs, cluster.outputs, {
        "manager": ["manager"], "worker-1": ["worker-1"], "worker-2": ["worker-2"],
    }, at)
    assert membership(cluster)[-1] == (
        "Hazelcast cluster", False, "cluster split into 3 groups: {manager}, {worker-1} and {worker-2}"
    )


def test_a_node_that_sees_only_itself_and_one_other(cluster):
    at = now_ms() - 5 * MINUTE_MS
    log_member_lists(cluster.logs, cluster.outputs, {"worker-2": ["manager", "worker-2"]}, at)
    n, when = names(cluster), healthy_as_of(cluster)
    assert membership(cluster) == [
        (n["manager"], True, f"sees all 3 members, {when}"),
        (n["worker-1"], True, f"sees all 3 members, {when}"),
        (n["worker-2"], False, f"sees 2 of 3 members; missing worker-1 ({WORKER1_IP}) ({as_of(at)})"),
        ("manager sees every worker", True, "the manager lists worker-1, worker-2"),
        ("Hazelcast cluster", False, "cluster split into 2 groups: {manager, worker-1} and {worker-2}"),
    ]


def test_an_unknown_member_is_named(cluster):
    at = now_ms() - 5 * MINUTE_MS
    log_member_lists(cluster.logs, cluster.outputs, {"worker-1": ["manager", "worker-1", "worker-2"]}, at,
                     extra_ips={"worker-1": ["10.20.9.9"]})
    results = membership(cluster)
    assert results[1] == (names(cluster)["worker-1"], False, f"sees 3 of 3 members; unknown member 10.20.9.9 ({as_of(at)})")
    assert results[-1] == ("Hazelcast cluster", False, "cluster split into 2 groups: {manager, worker-2} and {worker-1}")
    assert [ok for _, ok, _ in results] == [True, False, True, True, False]


def test_a_node_whose_list_does_not_contain_itself(cluster):
    """worker-1's stream carries the manager's view without worker-1 (e.g. another node's log)."""
    at = now_ms() - 5 * MINUTE_MS
    ship(cluster.logs, cluster.outputs["workerInstanceIds"][0],
         [(at, member_list_message(at, MANAGER_IP, [MANAGER_IP, WORKER2_IP]))])
    results = membership(cluster)
    assert results[1] == (
        names(cluster)["worker-1"], False,
        f"does not list itself ({WORKER1_IP}; the list marks {MANAGER_IP} as this node); sees 2 of 3 members ({as_of(at)})",
    )


def test_a_stream_whose_list_marks_another_node_as_this_fails(cluster):
    at = now_ms() - 5 * MINUTE_MS
    ship(cluster.logs, cluster.outputs["workerInstanceIds"][1],
         [(at, member_list_message(at, MANAGER_IP, [MANAGER_IP, WORKER1_IP, WORKER2_IP]))])
    results = membership(cluster)
    assert results[2] == (
        names(cluster)["worker-2"], False,
        f"the list marks {MANAGER_IP}, not {WORKER2_IP}, as this node (another node's log in this stream?) ({as_of(at)})",
    )
    assert results[-1][1] is True  # the member set itself is complete


def test_a_node_that_logged_no_member_list(cluster):
    worker2 = cluster.outputs["workerInstanceIds"][1]
    cluster.logs.delete_log_stream(logGroupName=CARBON, logStreamName=worker2)
    cluster.logs.create_log_stream(logGroupName=CARBON, logStreamName=worker2)
    at = now_ms() - 5 * MINUTE_MS
    ship(cluster.logs, worker2, [(at, carbon_line(at, "org.wso2.carbon.core.init.CarbonServerManager", "Starting WSO2 Carbon..."))])
    n, when = names(cluster), healthy_as_of(cluster)
    assert membership(cluster) == [
        (n["manager"], True, f"sees all 3 members, {when}"),
        (n["worker-1"], True, f"sees all 3 members, {when}"),
        (n["worker-2"], False, NO_LIST),
        ("manager sees every worker", True, "the manager lists worker-1, worker-2"),
        ("Hazelcast cluster", False, "manager, worker-1 see all 3 members; no usable member list from worker-2"),
    ]


def test_the_latest_list_wins_over_an_older_one(cluster):
    """Older split lists, then newer complete ones: passes. (The split test shows the converse.)
    The newer lists are shipped first, the older ones after: ingestion order does not matter."""
    newer, older = now_ms() - 2 * MINUTE_MS, now_ms() - 10 * MINUTE_MS
    everyone = ["manager", "worker-1", "worker-2"]
    log_member_lists(cluster.logs, cluster.outputs, {label: everyone for label in everyone}, newer)
    log_member_lists(cluster.logs, cluster.outputs, {"manager": ["manager"], "worker-1": ["worker-1"],
                                                     "worker-2": ["worker-2"]}, older)
    n = names(cluster)
    assert membership(cluster) == [
        (n["manager"], True, f"sees all 3 members, {as_of(newer)}"),
        (n["worker-1"], True, f"sees all 3 members, {as_of(newer)}"),
        (n["worker-2"], True, f"sees all 3 members, {as_of(newer)}"),
        ("manager sees every worker", True, "the manager lists worker-1, worker-2"),
        ("Hazelcast cluster", True, "one cluster of 3 members"),
    ]


def test_an_unparseable_latest_event_is_reported_not_skipped(cluster):
    """A newer truncated list (count 3, two lines) is not passed over for the older complete one."""
    at = now_ms() - 5 * MINUTE_MS
    truncated = member_list_message(at, WORKER1_IP, [MANAGER_IP, WORKER1_IP, WORKER2_IP]).replace(
        f"\tMember [{WORKER2_IP}]:5701\n", ""
    )
    ship(cluster.logs, cluster.outputs["workerInstanceIds"][0], [(at, truncated)])
    n, when = names(cluster), healthy_as_of(cluster)
    stamp = datetime.fromtimestamp(at / 1000, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    assert membership(cluster) == [
        (n["manager"], True, f"sees all 3 members, {when}"),
        (n["worker-1"], False, f"latest member list ({stamp}) is unparseable: header says 3 members but 2 member lines follow"),
        (n["worker-2"], True, f"sees all 3 members, {when}"),
        ("manager sees every worker", True, "the manager lists worker-1, worker-2"),
        ("Hazelcast cluster", False, "manager, worker-2 see all 3 members; no usable member list from worker-1"),
    ]


def test_a_missing_log_group_fails_every_node_with_aws_words(cluster):
    outputs = dict(cluster.outputs, logGroupNames=dict(LOG_GROUPS, carbon="/wso2-cluster/gone/carbon"))
    results = membership(cluster, outputs)
    rnf = "(ResourceNotFoundException: The specified log group does not exist.)"
    n = names(cluster)
    assert results == [
        (n["manager"], False, f"logged no Hazelcast member list in /wso2-cluster/gone/carbon {rnf}"),
        (n["worker-1"], False, f"logged no Hazelcast member list in /wso2-cluster/gone/carbon {rnf}"),
        (n["worker-2"], False, f"logged no Hazelcast member list in /wso2-cluster/gone/carbon {rnf}"),
        ("manager sees every worker", False,
         f"no usable member list from the manager (logged no Hazelcast member list in /wso2-cluster/gone/carbon {rnf})"),
        ("Hazelcast cluster", False, "no node logged a usable member list"),
    ]


# --- through the command line (in-process main(), moto) ---------------------------------------------


def test_split_cluster_fails_the_run_and_nothing_else(cluster, run_verify):
    at = now_ms() - 5 * MINUTE_MS
    log_member_lists(cluster.logs, cluster.outputs, {
        "manager": ["manager", "worker-1"], "worker-1": ["manager", "worker-1"], "worker-2": ["worker-2"],
    }, at)
    run = run_verify(cluster.outputs)
    assert run.code == 1
    assert "-- checking cluster membership" in run.lines
    assert "FAIL  Hazelcast cluster: cluster split into 2 groups: {manager, worker-1} and {worker-2}" in run.lines
    assert len(run.failed) == 5 and all("cluster membership" in line or "manager sees" in line or "Hazelcast" in line
                                        for line in run.failed)
    assert run.lines[-1] == "RESULT: FAIL - 5 of 37 checks failed"


def test_outputs_without_log_group_names_fail_one_check(cluster, run_verify):
    """An older stack (no logGroupNames output) still parses; membership is one failed check."""
    outputs = {k: v for k, v in cluster.outputs.items() if k != "logGroupNames"}
    run = run_verify(outputs)
    assert run.code == 1
    assert run.failed == ["FAIL  cluster membership: no logGroupNames output"]
    assert "PASS  schema WSO2_USER_DB: 40 of 40 tables, ready" in run.lines  # the next section still runs
    assert run.lines[-1] == "RESULT: FAIL - 1 of 33 checks failed"


# --- what moto does not reproduce: stubbed at the client ------------------------------------------


@pytest.fixture
def stubbed(static_outputs):
    outputs = parse_outputs(dict(static_outputs, logGroupNames=LOG_GROUPS))
    logs = boto3.client("logs", region_name=REGION)
    with Stubber(logs) as stub:
        yield outputs, logs, stub
        stub.assert_no_pending_responses()


def _params(stream: str, token: str | None = None) -> dict:
    params = {"logGroupName": CARBON, "logStreamNames": [stream], "filterPattern": FILTER_PATTERN}
    return dict(params, nextToken=token) if token else params


def _event(stream: str, ms: int, this_ip: str, ips: list[str]) -> dict:
    return {"logStreamName": stream, "timestamp": ms, "ingestionTime": ms + 500, "eventId": str(ms),
            "message": member_list_message(ms, this_ip, ips)}


def test_missing_stream_is_reported_and_pages_are_searched_for_the_newest(stubbed):
    """AWS raises ResourceNotFoundException for a stream named in logStreamNames that does not
    exist (the agent never shipped anything); moto returns no events instead, so it is stubbed.
    The manager's events come on two pages, the newest first: the greatest timestamp wins, not the
    last event read (moto always returns one stream's events oldest first, so it cannot show this)."""
    outputs, logs, stub = stubbed
    manager, worker1, worker2 = (n.instance_id for n in outputs.nodes())
    ips = ["10.20.1.10", "10.20.1.20", "10.20.2.21"]
    t = 1_764_064_800_000
    stub.add_response("filter_log_events", {"events": [_event(manager, t + 60_000, ips[0], ips)], "nextToken": "page-2"},
                      _params(manager))
    stub.add_response("filter_log_events", {"events": [_event(manager, t, ips[0], ips[:1])]}, _params(manager, "page-2"))
    stub.add_response("filter_log_events", {"events": [_event(worker1, t, ips[1], ips)]}, _params(worker1))
    stub.add_client_error("filter_log_events", service_error_code="ResourceNotFoundException",
                          service_message="The specified log stream does not exist.", http_status_code=400,
                          expected_params=_params(worker2))
    results = [(r.name, r.ok, r.detail) for r in check_membership(logs, outputs)]
    assert results == [
        (f"manager ({manager}) cluster membership", True, f"sees all 3 members, {as_of(t + 60_000)}"),
        (f"worker-1 ({worker1}) cluster membership", True, f"sees all 3 members, {as_of(t)}"),
        (f"worker-2 ({worker2}) cluster membership", False,
         f"logged no Hazelcast member list in {CARBON} (ResourceNotFoundException: The specified log stream does not exist.)"),
        ("manager sees every worker", True, "the manager lists worker-1, worker-2"),
        ("Hazelcast cluster", False, "manager, worker-1 see all 3 members; no usable member list from worker-2"),
    ]


def test_access_denied_fails_the_section_once(stubbed):
    outputs, logs, stub = stubbed
    stub.add_client_error("filter_log_events", service_error_code="AccessDeniedException",
                          service_message="User is not authorized to perform: logs:FilterLogEvents",
                          http_status_code=400, expected_params=_params(outputs.manager_instance_id))
    results = list(guarded("cluster membership", lambda: check_membership(logs, outputs)))
    assert [(r.name, r.ok, r.detail) for r in results] == [
        ("cluster membership", False,
         "AWS error: AccessDeniedException: User is not authorized to perform: logs:FilterLogEvents"),
    ]
