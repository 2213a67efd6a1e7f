"""verify.ssm.RemoteCommand: one SendCommand to several nodes, each invocation polled to its end.

moto's SendCommand runs nothing and answers every invocation Success with empty output, so the
conversations are stubbed with botocore's Stubber (exact requests, recorded-shape responses).
"""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import Stubber
from verify_cluster_kit import REGION

from tests.aws_support import FakeClock
from verify.ssm import Answer, RemoteCommand

COMMAND_ID = "4b1e7a52-8a2f-4e61-9c2d-0d5c1f0e9a11"
NODES = ["i-0aaaaaaaaaaaaaaa0", "i-0bbbbbbbbbbbbbbb1"]
COMMAND = "uptime"


@pytest.fixture
def stub():
    client = boto3.client("ssm", region_name=REGION)
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def send(stubber, timeout: int = 30) -> None:
    stubber.add_response(
        "send_command",
        {"Command": {"CommandId": COMMAND_ID, "DocumentName": "AWS-RunShellScript", "Status": "Pending"}},
        {
            "InstanceIds": NODES,
            "DocumentName": "AWS-RunShellScript",
            "Parameters": {"commands": [COMMAND]},
            "TimeoutSeconds": timeout,
            "Comment": "test",
        },
    )


def invocation(
    stubber, node: str, status: str, stdout: str = "", stderr: str = "", code: int = -1, details: str | None = None
) -> None:
    stubber.add_response(
        "get_command_invocation",
        {
            "CommandId": COMMAND_ID,
            "InstanceId": node,
            "DocumentName": "AWS-RunShellScript",
            "PluginName": "aws:runShellScript",
            "ResponseCode": code,
            "Status": status,
            "StatusDetails": details or status,
            "StandardOutputContent": stdout,
            "StandardErrorContent": stderr,
        },
        {"CommandId": COMMAND_ID, "InstanceId": node},
    )


def run(client, budget: float = 10.0, clock: FakeClock | None = None) -> dict[str, Answer]:
    clock = clock or FakeClock()
    return RemoteCommand(client, "test", sleep=clock.sleep, clock=clock).run(NODES, COMMAND, budget)


def test_each_node_is_polled_until_its_invocation_ends(stub):
    """Right after SendCommand an invocation may not exist yet; then Pending, InProgress, an end."""
    client, stubber = stub
    send(stubber)
    stubber.add_client_error(
        "get_command_invocation",
        service_error_code="InvocationDoesNotExist",
        service_message="",
        http_status_code=400,
        expected_params={"CommandId": COMMAND_ID, "InstanceId": NODES[0]},
    )
    invocation(stubber, NODES[1], "InProgress")
    invocation(stubber, NODES[0], "Pending")
    invocation(stubber, NODES[1], "Success", stdout="up 3 days\n", code=0)
    invocation(
        stubber,
        NODES[0],
        "Failed",
        code=127,
        details="Failed",
        stderr="_script.sh: line 1:\nuptime: No such file or directory\n",
    )
    clock = FakeClock()
    assert run(client, clock=clock) == {
        NODES[0]: Answer(
            False,
            problem="SSM command ended Failed (exit 127): _script.sh: line 1: | uptime: No such file or directory",
        ),
        NODES[1]: Answer(True, stdout="up 3 days\n"),
    }
    assert clock.sleeps == [1.0, 1.0]  # a pause between the three rounds, none after the last


def test_refused_command_and_unreadable_invocations_give_aws_words(stub):
    client, stubber = stub
    stubber.add_client_error(
        "send_command",
        service_error_code="AccessDeniedException",
        service_message="not authorized to perform: ssm:SendCommand",
        http_status_code=400,
    )
    assert run(client) == {
        node: Answer(
            False, problem="SSM cannot run it: AccessDeniedException: not authorized to perform: ssm:SendCommand"
        )
        for node in NODES
    }

    send(stubber)
    stubber.add_client_error(
        "get_command_invocation",
        service_error_code="AccessDeniedException",
        service_message="not authorized to perform: ssm:GetCommandInvocation",
        http_status_code=400,
    )
    invocation(stubber, NODES[1], "TimedOut", details="DeliveryTimedOut")
    assert run(client) == {
        NODES[0]: Answer(
            False,
            problem="SSM cannot report it: AccessDeniedException: not authorized to perform: ssm:GetCommandInvocation",
        ),
        NODES[1]: Answer(False, problem="SSM command ended TimedOut (DeliveryTimedOut)"),
    }


def test_gives_up_on_the_nodes_still_running_when_the_budget_is_spent(stub):
    client, stubber = stub
    send(stubber)
    invocation(stubber, NODES[0], "Success", stdout="ok", code=0)
    for _ in range(4):  # at 0, 1, 2 and 2.5 seconds; then the 2.5 s budget is spent
        invocation(stubber, NODES[1], "InProgress")
    clock = FakeClock()
    assert run(client, budget=2.5, clock=clock) == {
        NODES[0]: Answer(True, stdout="ok"),
        NODES[1]: Answer(False, problem=f"SSM command {COMMAND_ID} did not finish within 2.5s"),
    }
    assert clock.sleeps == [1.0, 1.0, 0.5]


def test_the_command_timeout_follows_a_long_budget(stub):
    client, stubber = stub
    send(stubber, timeout=46)  # SSM's floor is 30 s; a longer budget is rounded up
    invocation(stubber, NODES[0], "Success", code=0)
    invocation(stubber, NODES[1], "Success", code=0)
    assert all(answer.ok for answer in run(client, budget=45.2).values())
