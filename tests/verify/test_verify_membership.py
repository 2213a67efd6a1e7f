"""Cluster membership: every node asked now through SSM (moto, conftest's node_shell answering
with what real Hazelcast 3.5 members printed: tests/verify/captured), the nodes' wso2carbon.log
in CloudWatch Logs as the fallback (moto), and Stubber where AWS behaves in a way moto does not."""

from __future__ import annotations

from datetime import datetime, timezone

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws
from verify_cluster_kit import (
    CAPTURED_NODES,
    CARBON,
    LOG_GROUPS,
    MINUTE_MS,
    REGION,
    answer_live_views,
    captured,
    log_events,
    now_ms,
    ship,
    ship_captured_log,
)

from tests.aws_support import FakeClock
from verify.checks import guarded
from verify.membership import FILTER_PATTERN, check_membership, members_command
from verify.outputs import parse_outputs

MANAGER, WORKER1, WORKER2 = (CAPTURED_NODES[n] for n in ("manager", "worker-1", "worker-2"))
HOUR_MS = 60 * MINUTE_MS


@pytest.fixture
def stack(static_outputs):
    """The captured members' own addresses as the stack's nodes, a carbon log group with a
    stream per node (empty), and moto's SSM and Logs."""
    outputs = dict(
        static_outputs, managerPrivateIp=MANAGER, workerPrivateIps=[WORKER1, WORKER2], logGroupNames=LOG_GROUPS
    )
    with mock_aws():
        logs = boto3.client("logs", region_name=REGION)
        logs.create_log_group(logGroupName=CARBON)
        for instance_id in [outputs["managerInstanceId"], *outputs["workerInstanceIds"]]:
            logs.create_log_stream(logGroupName=CARBON, logStreamName=instance_id)
        yield outputs, boto3.client("ssm", region_name=REGION), logs


def membership(stack, window_hours: float = 24) -> list[tuple[str, bool, str]]:
    outputs, ssm, logs = stack
    clock = FakeClock()
    results = check_membership(ssm, logs, parse_outputs(outputs), 10.0, window_hours, sleep=clock.sleep, clock=clock)
    return [(r.name, r.ok, r.detail) for r in results]


def name(stack, label: str) -> str:
    outputs = stack[0]
    ids = {
        "manager": outputs["managerInstanceId"],
        "worker-1": outputs["workerInstanceIds"][0],
        "worker-2": outputs["workerInstanceIds"][1],
    }
    return f"{label} ({ids[label]}) cluster membership"


def stamp(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def curl_refused() -> str:
    return (
        "no live view (SSM command ended Failed (exit 7): curl: (7) Failed to connect to 127.0.0.1 port 5701: "
        "Connection refused)"
    )


# --- asked now ---------------------------------------------------------------------------------------


def test_a_healthy_cluster_passes_from_what_each_member_says_now(stack, node_shell):
    answer_live_views(node_shell, stack[0])
    assert membership(stack) == [
        (name(stack, "manager"), True, "sees all 3 members at port 5701 (live)"),
        (name(stack, "worker-1"), True, "sees all 3 members at port 5701 (live)"),
        (name(stack, "worker-2"), True, "sees all 3 members at port 5701 (live)"),
        ("Hazelcast cluster", True, "one cluster of the stack's 3 nodes"),
    ]
    # every node was asked, with the stack's cluster port
    assert sorted(i for c, i in node_shell.ran if c == members_command(5701)) == sorted(
        [stack[0]["managerInstanceId"], *stack[0]["workerInstanceIds"]]
    )


def test_a_split_cluster_is_named(stack, node_shell):
    answer_live_views(node_shell, stack[0], "split")
    assert membership(stack) == [
        (name(stack, "manager"), False, f"sees 2 of 3 members: missing worker-2 ({WORKER2}) (live)"),
        (name(stack, "worker-1"), False, f"sees 2 of 3 members: missing worker-2 ({WORKER2}) (live)"),
        (
            name(stack, "worker-2"),
            False,
            f"sees 1 of 3 members: missing manager ({MANAGER}), worker-1 ({WORKER1}) (live)",
        ),
        ("Hazelcast cluster", False, "split into 2 clusters: {manager, worker-1} and {worker-2}"),
    ]


def test_a_foreign_member_on_another_port_fails_every_node(stack, node_shell):
    """Real members admit a member of the right domain from anywhere (the WKA list is no allow-list):
    one more member than there are nodes, on port 5702, must not pass."""
    answer_live_views(node_shell, stack[0], "stray")
    foreign = "sees 3 of 3 members: foreign member 127.0.0.9:5702 (live)"
    assert membership(stack) == [
        (name(stack, "manager"), False, foreign),
        (name(stack, "worker-1"), False, foreign),
        (name(stack, "worker-2"), False, foreign),
        (
            "Hazelcast cluster",
            False,
            f"one cluster of 4 members ({MANAGER}:5701, {WORKER1}:5701, {WORKER2}:5701, "
            "127.0.0.9:5702); the stack has 3 nodes",
        ),
    ]


def test_a_stack_ip_on_another_port_is_foreign_and_the_node_missing(stack, node_shell):
    outputs = dict(stack[0], clusterPort=5702)
    answer_live_views(node_shell, outputs)  # the members really are on 5701
    results = membership((outputs, *stack[1:]))
    assert results[0] == (
        name(stack, "manager"),
        False,
        f"sees 0 of 3 members: the list marks {MANAGER}:5701 as this node, not {MANAGER}:5702; missing manager "
        f"({MANAGER}), worker-1 ({WORKER1}), worker-2 ({WORKER2}); foreign members {MANAGER}:5701, {WORKER1}:5701, "
        f"{WORKER2}:5701 (live)",
    )


def test_a_member_listed_twice_and_a_list_marking_another_node_fail(stack, node_shell):
    outputs = stack[0]
    answer_live_views(node_shell, outputs)
    healthy = node_shell.answers[members_command(5701)][outputs["workerInstanceIds"][0]]["stdout"]
    doubled = healthy.replace("Members [3]", "Members [4]").replace(
        f"\tMember [{WORKER2}]:5701\n", f"\tMember [{WORKER2}]:5701\n\tMember [{WORKER2}]:5701\n"
    )
    node_shell.answer(members_command(5701), doubled, instance_id=outputs["workerInstanceIds"][0])
    manager_view = node_shell.answers[members_command(5701)][outputs["managerInstanceId"]]["stdout"]
    node_shell.answer(members_command(5701), manager_view, instance_id=outputs["workerInstanceIds"][1])
    results = membership(stack)
    assert results[1:3] == [
        (name(stack, "worker-1"), False, "sees 3 of 3 members: lists a member twice (live)"),
        (
            name(stack, "worker-2"),
            False,
            f"sees 3 of 3 members: the list marks {MANAGER}:5701 as this node, not {WORKER2}:5701 (live)",
        ),
    ]


# --- the logs when SSM cannot ask a node ----------------------------------------------------------------


def refuse_curl(node_shell, instance_id: str) -> None:
    node_shell.answer(
        members_command(5701),
        status="Failed",
        code=7,
        instance_id=instance_id,
        stderr="curl: (7) Failed to connect to 127.0.0.1 port 5701: Connection refused",
    )


def test_a_node_ssm_cannot_ask_falls_back_to_its_recent_log(stack, node_shell):
    outputs, _, logs = stack
    answer_live_views(node_shell, outputs)
    refuse_curl(node_shell, outputs["workerInstanceIds"][1])
    start = now_ms() - 2 * HOUR_MS
    ship_captured_log(logs, outputs, "worker-2", start)  # one event a second
    events = log_events(captured("healthy", "worker-2", "log"))
    logged_at = start + 1000 * max(i for i, event in enumerate(events) if "Members [" in event)
    assert membership(stack)[2:] == [
        (
            name(stack, "worker-2"),
            True,
            f"sees all 3 members at port 5701 (from its log as of {stamp(logged_at)}; {curl_refused()})",
        ),
        ("Hazelcast cluster", True, "one cluster of the stack's 3 nodes"),
    ]


def test_a_logged_list_the_live_views_contradict_is_stale(stack, node_shell):
    """worker-2 is down: its log still holds the list of three, but the nodes asked now see two."""
    outputs, _, logs = stack
    answer_live_views(node_shell, outputs, "worker-2-down")
    start = now_ms() - 2 * HOUR_MS
    ship_captured_log(logs, outputs, "worker-2", start)
    results = membership(stack)
    (worker2,) = [r for r in results if r[0] == name(stack, "worker-2")]
    assert worker2[1] is False
    assert worker2[2].startswith(f"{curl_refused()}; its member list logged at ")
    assert worker2[2].endswith(" is stale: the nodes asked now see other members")
    assert results[-1] == (
        "Hazelcast cluster",
        False,
        f"one cluster of 2 members ({MANAGER}:5701, {WORKER1}:5701); the stack has 3 nodes; "
        "no member list from worker-2",
    )


def test_a_list_older_than_the_window_is_not_read(stack, node_shell):
    outputs, _, logs = stack
    answer_live_views(node_shell, outputs)
    refuse_curl(node_shell, outputs["workerInstanceIds"][1])
    ship_captured_log(logs, outputs, "worker-2", now_ms() - 3 * HOUR_MS)
    assert membership(stack, window_hours=2)[2] == (
        name(stack, "worker-2"),
        False,
        f"{curl_refused()} and no member list logged in {CARBON} in the last 2 h "
        "(Hazelcast logs it only when membership changes)",
    )
    assert membership(stack, window_hours=4)[2][1] is True


def test_an_unparseable_answer_falls_back_to_the_log(stack, node_shell):
    outputs, _, logs = stack
    answer_live_views(node_shell, outputs)
    node_shell.answer(members_command(5701), "<html>404</html>", instance_id=outputs["managerInstanceId"])
    assert membership(stack)[0] == (
        name(stack, "manager"),
        False,
        f"no live view (/hazelcast/rest/cluster answered no member list: no 'Members [n] {{' header) and no member "
        f"list logged in {CARBON} in the last 24 h (Hazelcast logs it only when membership changes)",
    )


# --- what moto does not reproduce: stubbed at the client -------------------------------------------------


def test_ssm_refused_reads_the_logs_a_missing_stream_is_no_list_and_other_errors_fail_the_section(static_outputs):
    """SendCommand denied: each node's view comes from its log. For a stream that does not exist
    AWS raises ResourceNotFoundException (moto returns nothing): no list for that node. Any other
    error concerns every node: the section fails once, as the runner guards it."""
    outputs = parse_outputs(dict(static_outputs, logGroupNames=LOG_GROUPS))
    ssm, logs = boto3.client("ssm", region_name=REGION), boto3.client("logs", region_name=REGION)
    with Stubber(ssm) as ssm_stub, Stubber(logs) as logs_stub:
        for _ in range(2):
            ssm_stub.add_client_error(
                "send_command",
                service_error_code="AccessDeniedException",
                service_message="not authorized to perform: ssm:SendCommand",
                http_status_code=400,
            )
        for _ in outputs.nodes():
            logs_stub.add_client_error(
                "filter_log_events",
                service_error_code="ResourceNotFoundException",
                service_message="The specified log stream does not exist.",
                http_status_code=400,
            )
        results = list(check_membership(ssm, logs, outputs, 10.0, 24, now_ms=1_764_064_800_000))
        assert results[0].detail == (
            "no live view (SSM cannot run it: AccessDeniedException: not authorized to perform: ssm:SendCommand) and "
            f"no member list logged in {CARBON} in the last 24 h (Hazelcast logs it only when membership changes)"
        )
        assert results[-1].detail == "no node's member list could be read"

        logs_stub.add_client_error(
            "filter_log_events",
            service_error_code="AccessDeniedException",
            service_message="not authorized to perform: logs:FilterLogEvents",
            http_status_code=400,
        )
        guarded_results = list(guarded("cluster membership", lambda: check_membership(ssm, logs, outputs, 10.0, 24)))
        assert [(r.name, r.ok, r.detail) for r in guarded_results] == [
            (
                "cluster membership",
                False,
                "AWS error: AccessDeniedException: not authorized to perform: logs:FilterLogEvents",
            ),
        ]
        logs_stub.assert_no_pending_responses()


def test_the_log_query_is_windowed_and_filtered(stack, node_shell):
    """The fallback asks CloudWatch for member-list events of the node's stream since the window began."""
    outputs, ssm, _ = stack
    logs = boto3.client("logs", region_name=REGION)
    node_shell.answer(members_command(5701), status="Failed", code=7, stderr="refused")
    now = 1_764_064_800_000
    with Stubber(logs) as stub:
        for instance_id in [outputs["managerInstanceId"], *outputs["workerInstanceIds"]]:
            stub.add_response(
                "filter_log_events",
                {"events": []},
                {
                    "logGroupName": CARBON,
                    "logStreamNames": [instance_id],
                    "filterPattern": FILTER_PATTERN,
                    "startTime": now - 6 * HOUR_MS,
                },
            )
        results = list(
            check_membership(
                ssm, logs, parse_outputs(outputs), 10.0, 6, now_ms=now, sleep=FakeClock().sleep, clock=FakeClock()
            )
        )
        stub.assert_no_pending_responses()
    assert (results[-1].name, results[-1].ok, results[-1].detail) == (
        "Hazelcast cluster",
        False,
        "no node's member list could be read",
    )


def test_moto_filter_log_events_honours_the_pattern_the_streams_and_the_start(stack):
    """moto matches a quoted filter pattern as an exact substring (as CloudWatch does), honours
    logStreamNames and startTime, so the log tests above really are filtered by moto."""
    outputs, _, logs = stack
    manager = outputs["managerInstanceId"]
    old, recent = now_ms() - 3 * HOUR_MS, now_ms() - HOUR_MS
    ship_captured_log(logs, outputs, "manager", old)
    ship(logs, manager, [(recent, "TID: [-1] [] members [3] { lower case, not a member list }")])
    found = logs.filter_log_events(logGroupName=CARBON, logStreamNames=[manager], filterPattern=FILTER_PATTERN)
    assert [e["message"].count("\tMember [") for e in found["events"]] == [1, 3]  # the manager's two lists
    assert (
        logs.filter_log_events(
            logGroupName=CARBON, logStreamNames=[manager], filterPattern=FILTER_PATTERN, startTime=recent - MINUTE_MS
        )["events"]
        == []
    )
