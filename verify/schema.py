"""Do the WSO2 database schemas exist? Asked on the manager through SSM Run Command.

The node command ``/opt/wso2-cluster/bin/boot schema-status`` prints one JSON document::

    {"databases": [{"name": "WSO2_USER_DB", "tables": 40, "expected": 40, "ready": true}, ...]}

Each database becomes one check. When SSM cannot run the command (no permission, the instance is
not managed by SSM, the command fails or does not finish within the budget) the schema check is
skipped with the reason: verify could not look, which is neither a pass nor a failure.
"""

from __future__ import annotations

import json
import math
import time
from typing import Any, Callable, Iterator, Optional

from botocore.exceptions import ClientError

from verify.checks import CheckResult, aws_error
from verify.outputs import StackOutputs

SCHEMA_STATUS_COMMAND = "/opt/wso2-cluster/bin/boot schema-status"
DOCUMENT = "AWS-RunShellScript"
CHECK_NAME = "database schema"
# get_command_invocation statuses that may still change; any other status is final.
IN_FLIGHT = frozenset({"Pending", "InProgress", "Delayed", "Cancelling"})
POLL_INTERVAL_SECONDS = 1.0
SSM_MIN_TIMEOUT_SECONDS = 30  # SendCommand's TimeoutSeconds lower bound
MAX_DETAIL = 300


class SchemaReportError(ValueError):
    """schema-status printed something that is not the documented report."""


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def parse_schema_status(text: str) -> list[dict]:
    """The `databases` of a schema-status report; raises SchemaReportError saying what is wrong."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        shown = text.strip()[:80]
        raise SchemaReportError(f"not JSON ({error.msg}): {shown!r}" if shown else "empty output") from None
    databases = document.get("databases") if isinstance(document, dict) else None
    if not isinstance(databases, list):
        raise SchemaReportError("no 'databases' list")
    if not databases:
        raise SchemaReportError("'databases' is empty")
    for index, db in enumerate(databases):
        ok = (
            isinstance(db, dict)
            and isinstance(db.get("name"), str) and db["name"]
            and _is_int(db.get("tables")) and db["tables"] >= 0
            and _is_int(db.get("expected")) and db["expected"] > 0
            and isinstance(db.get("ready"), bool)
        )
        if not ok:
            raise SchemaReportError(
                f"databases[{index}] is not {{name, tables >= 0, expected > 0, ready: bool}}: {json.dumps(db)[:120]}"
            )
    return databases


def database_result(db: dict) -> CheckResult:
    name, tables, expected, ready = db["name"], db["tables"], db["expected"], db["ready"]
    check = f"schema {name}"
    counted = f"{tables} of {expected} tables"
    if tables == 0:
        return CheckResult(check, False, f"missing: {counted}")
    if tables < expected:
        return CheckResult(check, False, f"incomplete: {counted}")
    if not ready:
        return CheckResult(check, False, f"tables present but not marked ready ({counted})")
    return CheckResult(check, True, f"{counted}, ready")


def _one_line(text: str) -> str:
    line = " | ".join(part.strip() for part in text.strip().splitlines() if part.strip())
    return line if len(line) <= MAX_DETAIL else "..." + line[-(MAX_DETAIL - 3):]


def _ended(invocation: dict) -> str:
    """Why a finished invocation did not succeed, from SSM's status, exit code and stderr."""
    status = invocation.get("Status", "unknown")
    extras = []
    details = invocation.get("StatusDetails")
    if details and details != status:
        extras.append(details)
    code = invocation.get("ResponseCode")
    if isinstance(code, int) and code >= 0:
        extras.append(f"exit {code}")
    text = f"ended {status}" + (f" ({', '.join(extras)})" if extras else "")
    stderr = _one_line(invocation.get("StandardErrorContent") or "")
    return f"{text}: {stderr}" if stderr else text


def check_schema(
    ssm: Any,
    outputs: StackOutputs,
    budget: float,
    *,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    interval: float = POLL_INTERVAL_SECONDS,
) -> Iterator[CheckResult]:
    """Run schema-status on the manager and report each database; skip when SSM cannot run it.

    Polls get_command_invocation until the invocation is final or `budget` seconds have passed.
    """
    manager = outputs.nodes()[0]
    where = f"on {manager.label} ({manager.instance_id})"
    deadline = clock() + budget
    try:
        sent = ssm.send_command(
            InstanceIds=[manager.instance_id],
            DocumentName=DOCUMENT,
            Parameters={"commands": [SCHEMA_STATUS_COMMAND]},
            TimeoutSeconds=max(SSM_MIN_TIMEOUT_SECONDS, math.ceil(budget)),
            Comment="wso2-cluster verify: schema status",
        )
    except ClientError as error:
        yield CheckResult.skip(CHECK_NAME, f"not checked: SSM cannot run schema-status {where}: {aws_error(error)}")
        return
    command_id = sent["Command"]["CommandId"]

    invocation: Optional[dict] = None
    while True:
        try:
            invocation = ssm.get_command_invocation(CommandId=command_id, InstanceId=manager.instance_id)
            status = invocation.get("Status", "unknown")
        except ClientError as error:
            # Right after SendCommand the invocation may not exist yet: keep polling.
            if error.response.get("Error", {}).get("Code") != "InvocationDoesNotExist":
                yield CheckResult.skip(CHECK_NAME, f"not checked: SSM cannot report schema-status {where}: {aws_error(error)}")
                return
            status = "Pending"
        if status not in IN_FLIGHT:
            break
        remaining = deadline - clock()
        if remaining <= 0:
            yield CheckResult.skip(
                CHECK_NAME,
                f"not checked: schema-status {where} did not finish within {budget:g}s (command {command_id} {status})",
            )
            return
        sleep(min(interval, remaining))

    assert invocation is not None
    if status != "Success":
        yield CheckResult.skip(CHECK_NAME, f"not checked: schema-status {where} {_ended(invocation)}")
        return
    try:
        databases = parse_schema_status(invocation.get("StandardOutputContent") or "")
    except SchemaReportError as error:
        yield CheckResult(CHECK_NAME, False, f"schema-status {where} succeeded but printed no valid report: {error}")
        return
    for db in databases:
        yield database_result(db)
