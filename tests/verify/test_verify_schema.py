"""The schema check: schema-status on the manager through SSM Run Command.

moto's SendCommand runs nothing and answers every invocation Success with empty output, so the
SSM conversations are stubbed with botocore's Stubber (exact requests, recorded-shape responses);
the round trip through moto and the command line uses conftest's `node_shell`.
"""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.stub import Stubber

from tests.aws_support import FakeClock
from verify.outputs import parse_outputs
from verify.schema import SCHEMA_STATUS_COMMAND, SchemaReportError, check_schema, parse_schema_status
from verify_cluster_kit import HEALTHY_SCHEMA, REGION

COMMAND_ID = "4b1e7a52-8a2f-4e61-9c2d-0d5c1f0e9a11"


@pytest.fixture
def ssm(static_outputs):
    outputs = parse_outputs(static_outputs)
    client = boto3.client("ssm", region_name=REGION)
    with Stubber(client) as stub:
        yield outputs, client, stub
        stub.assert_no_pending_responses()


def send(stub, manager: str, timeout: int = 30) -> None:
    stub.add_response(
        "send_command",
        {"Command": {"CommandId": COMMAND_ID, "DocumentName": "AWS-RunShellScript", "Status": "Pending"}},
        {
            "InstanceIds": [manager],
            "DocumentName": "AWS-RunShellScript",
            "Parameters": {"commands": [SCHEMA_STATUS_COMMAND]},
            "TimeoutSeconds": timeout,
            "Comment": "wso2-cluster verify: schema status",
        },
    )


def invocation(stub, manager: str, status: str, stdout: str = "", stderr: str = "", code: int = -1,
               details: str | None = None) -> None:
    stub.add_response(
        "get_command_invocation",
        {"CommandId": COMMAND_ID, "InstanceId": manager, "DocumentName": "AWS-RunShellScript",
         "PluginName": "aws:runShellScript", "ResponseCode": code, "Status": status,
         "StatusDetails": details or status, "StandardOutputContent": stdout, "StandardErrorContent": stderr},
        {"CommandId": COMMAND_ID, "InstanceId": manager},
    )


def run(outputs, client, budget: float = 10.0, clock: FakeClock | None = None):
    clock = clock or FakeClock()
    results = list(check_schema(client, outputs, budget, sleep=clock.sleep, clock=clock))
    return [(r.name, r.status, r.detail) for r in results]


def report(*databases: tuple[str, int, int, bool]) -> str:
    return json.dumps({"databases": [{"name": n, "tables": t, "expected": e, "ready": r} for n, t, e, r in databases]})


def test_ready_schemas_pass(ssm):
    outputs, client, stub = ssm
    manager = outputs.manager_instance_id
    send(stub, manager)
    invocation(stub, manager, "Success", stdout=json.dumps(HEALTHY_SCHEMA) + "\n", code=0)
    assert run(outputs, client) == [
        ("schema WSO2_USER_DB", "pass", "40 of 40 tables, ready"),
        ("schema WSO2_REGISTRY_DB", "pass", "40 of 40 tables, ready"),
    ]


@pytest.mark.parametrize(
    "registry, expected",
    [
        pytest.param(("WSO2_REGISTRY_DB", 0, 40, False), "missing: 0 of 40 tables", id="missing"),
        pytest.param(("WSO2_REGISTRY_DB", 19, 40, False), "incomplete: 19 of 40 tables", id="incomplete"),
        pytest.param(("WSO2_REGISTRY_DB", 19, 40, True), "incomplete: 19 of 40 tables", id="incomplete-though-ready"),
        pytest.param(("WSO2_REGISTRY_DB", 40, 40, False), "tables present but not marked ready (40 of 40 tables)",
                     id="not-ready"),
    ],
)
def test_a_schema_not_in_place_fails_alone(ssm, registry, expected):
    outputs, client, stub = ssm
    manager = outputs.manager_instance_id
    send(stub, manager)
    invocation(stub, manager, "Success", stdout=report(("WSO2_USER_DB", 40, 40, True), registry), code=0)
    assert run(outputs, client) == [
        ("schema WSO2_USER_DB", "pass", "40 of 40 tables, ready"),
        ("schema WSO2_REGISTRY_DB", "fail", expected),
    ]


@pytest.mark.parametrize(
    "code, message",
    [
        ("AccessDeniedException", "User: arn:aws:iam::123456789012:user/ops is not authorized to perform: ssm:SendCommand"),
        ("InvalidInstanceId", "Instances [[i-0aaaaaaaaaaaaaaa0]] not in a valid state for account 123456789012"),
    ],
)
def test_ssm_refusing_the_command_skips_with_the_reason(ssm, code, message):
    outputs, client, stub = ssm
    stub.add_client_error("send_command", service_error_code=code, service_message=message, http_status_code=400)
    results = list(check_schema(client, outputs, 10.0, sleep=FakeClock().sleep))
    assert [(r.name, r.ok, r.status, r.skipped) for r in results] == [("database schema", True, "skip", True)]
    assert results[0].detail == (
        f"not checked: SSM cannot run schema-status on manager ({outputs.manager_instance_id}): {code}: {message}"
    )


def test_a_failed_command_skips_with_its_status_exit_code_and_stderr(ssm):
    outputs, client, stub = ssm
    manager = outputs.manager_instance_id
    send(stub, manager)
    invocation(stub, manager, "Failed", code=127, details="Failed",
               stderr="/var/lib/amazon/ssm/i-0aaa/document/orchestration/_script.sh: line 1:\n"
                      "/opt/wso2-cluster/bin/schema-status: No such file or directory\n")
    assert run(outputs, client) == [(
        "database schema", "skip",
        f"not checked: schema-status on manager ({manager}) ended Failed (exit 127): "
        "/var/lib/amazon/ssm/i-0aaa/document/orchestration/_script.sh: line 1: | "
        "/opt/wso2-cluster/bin/schema-status: No such file or directory",
    )]


def test_a_timed_out_command_skips_with_ssm_details(ssm):
    outputs, client, stub = ssm
    manager = outputs.manager_instance_id
    send(stub, manager)
    invocation(stub, manager, "TimedOut", details="DeliveryTimedOut")
    assert run(outputs, client) == [
        ("database schema", "skip", f"not checked: schema-status on manager ({manager}) ended TimedOut (DeliveryTimedOut)"),
    ]


def test_polls_until_success(ssm):
    """Right after SendCommand the invocation may not exist yet; then Pending, InProgress, Success."""
    outputs, client, stub = ssm
    manager = outputs.manager_instance_id
    send(stub, manager)
    stub.add_client_error("get_command_invocation", service_error_code="InvocationDoesNotExist", service_message="",
                          http_status_code=400, expected_params={"CommandId": COMMAND_ID, "InstanceId": manager})
    invocation(stub, manager, "Pending")
    invocation(stub, manager, "InProgress")
    invocation(stub, manager, "Delayed")
    invocation(stub, manager, "Success", stdout=json.dumps(HEALTHY_SCHEMA), code=0)
    clock = FakeClock()
    results = run(outputs, client, clock=clock)
    assert [status for _, status, _ in results] == ["pass", "pass"]
    assert clock.sleeps == [1.0, 1.0, 1.0, 1.0]  # one pause between consecutive polls, none after the last


def test_gives_up_when_the_budget_is_spent(ssm):
    outputs, client, stub = ssm
    manager = outputs.manager_instance_id
    send(stub, manager, timeout=30)
    for _ in range(4):  # at 0, 1, 2 and 2.5 seconds; then the 2.5 s budget is spent
        invocation(stub, manager, "InProgress")
    clock = FakeClock()
    results = run(outputs, client, budget=2.5, clock=clock)
    assert results == [(
        "database schema", "skip",
        f"not checked: schema-status on manager ({manager}) did not finish within 2.5s (command {COMMAND_ID} InProgress)",
    )]
    assert clock.sleeps == [1.0, 1.0, 0.5]
    assert clock.now - 1000.0 == 2.5


def test_send_command_timeout_follows_a_long_budget(ssm):
    outputs, client, stub = ssm
    manager = outputs.manager_instance_id
    send(stub, manager, timeout=46)  # SSM's floor is 30 s; a longer budget is rounded up
    invocation(stub, manager, "Success", stdout=json.dumps(HEALTHY_SCHEMA), code=0)
    assert len(run(outputs, client, budget=45.2)) == 2


def test_get_invocation_errors_other_than_not_yet_skip(ssm):
    outputs, client, stub = ssm
    manager = outputs.manager_instance_id
    send(stub, manager)
    stub.add_client_error("get_command_invocation", service_error_code="AccessDeniedException",
                          service_message="not authorized to perform: ssm:GetCommandInvocation", http_status_code=400)
    assert run(outputs, client) == [(
        "database schema", "skip",
        f"not checked: SSM cannot report schema-status on manager ({manager}): "
        "AccessDeniedException: not authorized to perform: ssm:GetCommandInvocation",
    )]


@pytest.mark.parametrize(
    "stdout, reason",
    [
        ("", "empty output"),
        ("Traceback (most recent call last):", "not JSON (Expecting value): 'Traceback (most recent call last):'"),
        ('{"dbs": []}', "no 'databases' list"),
        ('{"databases": []}', "'databases' is empty"),
    ],
)
def test_success_without_a_report_fails(ssm, stdout, reason):
    """The command says it worked but its answer cannot be read: nothing is proven, so it fails."""
    outputs, client, stub = ssm
    manager = outputs.manager_instance_id
    send(stub, manager)
    invocation(stub, manager, "Success", stdout=stdout, code=0)
    assert run(outputs, client) == [(
        "database schema", "fail", f"schema-status on manager ({manager}) succeeded but printed no valid report: {reason}",
    )]


@pytest.mark.parametrize(
    "entry",
    [
        {"name": "WSO2_USER_DB", "tables": True, "expected": 40, "ready": True},
        {"name": "WSO2_USER_DB", "tables": "40", "expected": 40, "ready": True},
        {"name": "WSO2_USER_DB", "tables": -1, "expected": 40, "ready": True},
        {"name": "WSO2_USER_DB", "tables": 40, "expected": 0, "ready": True},
        {"name": "WSO2_USER_DB", "tables": 40, "expected": 40, "ready": "yes"},
        {"name": "", "tables": 40, "expected": 40, "ready": True},
        {"tables": 40, "expected": 40, "ready": True},
        ["WSO2_USER_DB", 40, 40, True],
    ],
)
def test_report_entries_are_checked_strictly(entry):
    with pytest.raises(SchemaReportError, match=r"^databases\[1\] is not "):
        parse_schema_status(json.dumps({"databases": [HEALTHY_SCHEMA["databases"][0], entry]}))


# --- through moto and the command line ----------------------------------------------------------------


def test_missing_schema_fails_the_run(cluster, run_verify, node_shell):
    node_shell.answer(report(("WSO2_USER_DB", 40, 40, True), ("WSO2_REGISTRY_DB", 0, 40, False)))
    run = run_verify(cluster.outputs)
    assert run.code == 1
    assert run.failed == ["FAIL  schema WSO2_REGISTRY_DB: missing: 0 of 40 tables"]
    # moto 5.2 also adds every EC2 instance to a command sent without Targets (it filters
    # instances by the empty target list), so only "the manager is among them" holds here; the
    # exact request (InstanceIds=[manager]) is pinned by the stubbed tests above.
    assert cluster.outputs["managerInstanceId"] in node_shell.ran_on
    assert run.lines[-4:] == [
        "-- checking database schema",
        "PASS  schema WSO2_USER_DB: 40 of 40 tables, ready",
        "FAIL  schema WSO2_REGISTRY_DB: missing: 0 of 40 tables",
        "RESULT: FAIL - 1 of 37 checks failed",
    ]


def test_skipped_schema_check_does_not_fail_the_run(cluster, run_verify, node_shell):
    node_shell.answer(status="Failed", code=1, stderr="ERROR 2003 (HY000): Can't connect to MySQL server on 'mysql.wso2.internal:3306'\n")
    manager = cluster.outputs["managerInstanceId"]
    run = run_verify(cluster.outputs)
    assert run.code == 0, run.out
    assert run.lines[-2:] == [
        f"SKIP  database schema: not checked: schema-status on manager ({manager}) ended Failed (exit 1): "
        "ERROR 2003 (HY000): Can't connect to MySQL server on 'mysql.wso2.internal:3306'",
        "RESULT: PASS - 35 of 36 checks passed, 1 skipped",
    ]


def test_skip_in_the_json_report(cluster, run_verify, node_shell):
    node_shell.answer(status="Failed", code=1, stderr="boom")
    run = run_verify(cluster.outputs, "--json")
    assert run.code == 0
    document = json.loads(run.out)
    assert document["ok"] is True
    skipped = [c for c in document["checks"] if c["status"] == "skip"]
    assert [(c["name"], c["ok"]) for c in skipped] == [("database schema", True)]
    assert sum(c["status"] == "pass" for c in document["checks"]) == 35
