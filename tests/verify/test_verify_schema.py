"""The schema check: schema-status on the manager through SSM Run Command, its report read
against the stack's databases and the product's tables (verify.wso2_schema).

The SSM round trips are stubbed with botocore's Stubber (the polling itself is tested in
test_verify_ssm.py); the round trip through moto and the command line uses conftest's `node_shell`.
"""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.stub import Stubber
from verify_cluster_kit import HEALTHY_SCHEMA, REGION

from tests.aws_support import FakeClock
from verify.outputs import parse_outputs
from verify.schema import SCHEMA_STATUS_COMMAND, SchemaReportError, check_schema, parse_schema_status
from verify.wso2_schema import TABLES

COMMAND_ID = "4b1e7a52-8a2f-4e61-9c2d-0d5c1f0e9a11"
ALL = len(TABLES)


@pytest.fixture
def ssm(static_outputs):
    outputs = parse_outputs(static_outputs)
    client = boto3.client("ssm", region_name=REGION)
    with Stubber(client) as stub:
        yield outputs, client, stub
        stub.assert_no_pending_responses()


def answer(stub, manager: str, status: str = "Success", stdout: str = "", stderr: str = "", code: int = 0) -> None:
    stub.add_response(
        "send_command",
        {"Command": {"CommandId": COMMAND_ID, "DocumentName": "AWS-RunShellScript", "Status": "Pending"}},
        {
            "InstanceIds": [manager],
            "DocumentName": "AWS-RunShellScript",
            "Parameters": {"commands": [SCHEMA_STATUS_COMMAND]},
            "TimeoutSeconds": 30,
            "Comment": "wso2-cluster verify: schema status",
        },
    )
    stub.add_response(
        "get_command_invocation",
        {
            "CommandId": COMMAND_ID,
            "InstanceId": manager,
            "DocumentName": "AWS-RunShellScript",
            "PluginName": "aws:runShellScript",
            "ResponseCode": code,
            "Status": status,
            "StatusDetails": status,
            "StandardOutputContent": stdout,
            "StandardErrorContent": stderr,
        },
        {"CommandId": COMMAND_ID, "InstanceId": manager},
    )


def run(outputs, client):
    clock = FakeClock()
    return [(r.name, r.status, r.detail) for r in check_schema(client, outputs, 10.0, sleep=clock.sleep, clock=clock)]


def report(*databases: tuple[str, list[str], bool]) -> str:
    return json.dumps({"databases": [{"name": n, "tables": t, "ready": r} for n, t, r in databases]})


def test_ready_schemas_pass(ssm):
    outputs, client, stub = ssm
    answer(stub, outputs.manager_instance_id, stdout=json.dumps(HEALTHY_SCHEMA) + "\n")
    assert run(outputs, client) == [
        ("schema WSO2_USER_DB", "pass", f"{ALL} of {ALL} WSO2 tables, ready"),
        ("schema WSO2_REGISTRY_DB", "pass", f"{ALL} of {ALL} WSO2 tables, ready"),
    ]


@pytest.mark.parametrize(
    "registry, expected",
    [
        pytest.param(("WSO2_REGISTRY_DB", [], False), f"missing: 0 of {ALL} WSO2 tables", id="missing"),
        pytest.param(
            ("WSO2_REGISTRY_DB", ["SCHEMA_NOTES"], True), f"missing: 0 of {ALL} WSO2 tables", id="only-foreign-tables"
        ),
        pytest.param(
            ("WSO2_REGISTRY_DB", [t for t in TABLES if t not in ("UM_USER", "REG_LOG")], True),
            f"incomplete: {ALL - 2} of {ALL} WSO2 tables; missing REG_LOG, UM_USER",
            id="incomplete-though-ready",
        ),
        pytest.param(
            ("WSO2_REGISTRY_DB", [t for t in TABLES if not t.startswith("UM_")], False),
            f"incomplete: 17 of {ALL} WSO2 tables; missing UM_TENANT, UM_DOMAIN, UM_USER, UM_SYSTEM_USER, "
            "UM_ROLE and 17 more",
            id="incomplete-many",
        ),
        pytest.param(
            ("WSO2_REGISTRY_DB", [t.lower() for t in TABLES], False),
            f"tables present but not marked ready by the manager ({ALL} of {ALL} WSO2 tables)",
            id="not-ready",
        ),
    ],
)
def test_a_schema_not_in_place_fails_alone(ssm, registry, expected):
    outputs, client, stub = ssm
    answer(stub, outputs.manager_instance_id, stdout=report(("WSO2_USER_DB", list(TABLES), True), registry))
    assert run(outputs, client) == [
        ("schema WSO2_USER_DB", "pass", f"{ALL} of {ALL} WSO2 tables, ready"),
        ("schema WSO2_REGISTRY_DB", "fail", expected),
    ]


def test_a_database_of_the_stack_the_report_leaves_out_fails(ssm):
    """What is expected comes from the stack: a report of one database (or of others) is not enough."""
    outputs, client, stub = ssm
    answer(
        stub,
        outputs.manager_instance_id,
        stdout=report(("WSO2_USER_DB", list(TABLES), True), ("SOMETHING_ELSE", list(TABLES), True)),
    )
    assert run(outputs, client) == [
        ("schema WSO2_USER_DB", "pass", f"{ALL} of {ALL} WSO2 tables, ready"),
        ("schema WSO2_REGISTRY_DB", "fail", "not in the manager's report"),
    ]


def test_ssm_unable_to_run_it_fails_with_the_reason(ssm):
    outputs, client, stub = ssm
    manager = outputs.manager_instance_id
    answer(
        stub,
        manager,
        status="Failed",
        code=1,
        stderr="ERROR 2003 (HY000): Can't connect to MySQL server on 'mysql.wso2.internal:3306'\n",
    )
    assert run(outputs, client) == [
        (
            "database schema",
            "fail",
            f"schema-status on manager ({manager}): SSM command ended Failed (exit 1): ERROR 2003 (HY000): "
            "Can't connect to MySQL server on 'mysql.wso2.internal:3306' (--skip-schema skips this check)",
        )
    ]


def test_a_stack_without_database_names_fails_without_asking(ssm, static_outputs):
    _, client, _ = ssm
    outputs = parse_outputs({k: v for k, v in static_outputs.items() if k != "databaseNames"})
    assert run(outputs, client) == [
        ("database schema", "fail", "no databaseNames output: the stack predates it, run `pulumi up`"),
    ]


@pytest.mark.parametrize(
    "stdout, reason",
    [
        ("", "empty output"),
        ("Traceback (most recent call last):", "not JSON (Expecting value): 'Traceback (most recent call last):'"),
        ('{"dbs": []}', "no 'databases' list"),
    ],
)
def test_success_without_a_report_fails(ssm, stdout, reason):
    """The command says it worked but its answer cannot be read: nothing is proven, so it fails."""
    outputs, client, stub = ssm
    manager = outputs.manager_instance_id
    answer(stub, manager, stdout=stdout)
    assert run(outputs, client) == [
        (
            "database schema",
            "fail",
            f"schema-status on manager ({manager}) succeeded but printed no valid report: {reason}",
        )
    ]


@pytest.mark.parametrize(
    "entry",
    [
        {"name": "WSO2_USER_DB", "tables": 40, "ready": True},
        {"name": "WSO2_USER_DB", "tables": ["UM_USER", 3], "ready": True},
        {"name": "WSO2_USER_DB", "tables": [], "ready": "yes"},
        {"name": "", "tables": [], "ready": True},
        {"tables": [], "ready": True},
        ["WSO2_USER_DB", [], True],
    ],
)
def test_report_entries_are_checked_strictly(entry):
    with pytest.raises(SchemaReportError, match=r"^databases\[1\] is not "):
        parse_schema_status(json.dumps({"databases": [HEALTHY_SCHEMA["databases"][0], entry]}))


# --- through moto and the command line ----------------------------------------------------------------


def test_missing_schema_fails_the_run(cluster, run_verify, node_shell):
    node_shell.answer(
        SCHEMA_STATUS_COMMAND, report(("WSO2_USER_DB", list(TABLES), True), ("WSO2_REGISTRY_DB", [], False))
    )
    run = run_verify(cluster.outputs)
    assert run.code == 1
    assert run.failed == [f"FAIL  schema WSO2_REGISTRY_DB: missing: 0 of {ALL} WSO2 tables"]
    assert run.lines[-4:] == [
        "-- checking database schema",
        f"PASS  schema WSO2_USER_DB: {ALL} of {ALL} WSO2 tables, ready",
        f"FAIL  schema WSO2_REGISTRY_DB: missing: 0 of {ALL} WSO2 tables",
        f"RESULT: FAIL - 1 of {run.checks} checks failed",
    ]


def test_skip_schema_is_reported_as_skipped_and_does_not_fail(cluster, run_verify, node_shell):
    node_shell.answer(SCHEMA_STATUS_COMMAND, status="Failed", code=1, stderr="boom")
    failing = run_verify(cluster.outputs)
    assert failing.code == 1 and failing.failed[0].startswith("FAIL  database schema: schema-status on manager")

    run = run_verify(cluster.outputs, "--skip-schema", "--json")
    assert run.code == 0
    document = json.loads(run.out)
    assert document["ok"] is True
    assert [(c["name"], c["status"], c["detail"]) for c in document["checks"] if c["status"] != "pass"] == [
        ("database schema", "skip", "not checked (--skip-schema)"),
    ]
