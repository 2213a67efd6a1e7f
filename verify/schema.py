"""Do the WSO2 database schemas exist? Asked on the manager through SSM Run Command.

The node command ``/opt/wso2-cluster/bin/boot schema-status`` prints one JSON document, the tables
each of the stack's databases holds and whether the manager marked it ready::

    {"databases": [{"name": "WSO2_USER_DB", "tables": ["REG_LOG", ...], "ready": true}, ...]}

What is expected comes from the stack and the product, not from the report: the databases of the
`databaseNames` output, each with every table of the product's `dbscripts/mysql.sql`
(:mod:`verify.wso2_schema`). When SSM cannot run the command the check fails with the reason,
unless the operator skips it (``--skip-schema``).
"""

from __future__ import annotations

import json
import time
from typing import Any, Callable, Iterator, Optional

from verify.checks import CheckResult
from verify.outputs import StackOutputs
from verify.ssm import RemoteCommand
from verify.wso2_schema import TABLES

SCHEMA_STATUS_COMMAND = "/opt/wso2-cluster/bin/boot schema-status"
CHECK_NAME = "database schema"


class SchemaReportError(ValueError):
    """schema-status printed something that is not the documented report."""


def parse_schema_status(text: str) -> dict[str, dict]:
    """The report's databases by name; raises SchemaReportError saying what is wrong."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        shown = text.strip()[:80]
        raise SchemaReportError(f"not JSON ({error.msg}): {shown!r}" if shown else "empty output") from None
    databases = document.get("databases") if isinstance(document, dict) else None
    if not isinstance(databases, list):
        raise SchemaReportError("no 'databases' list")
    reported: dict[str, dict] = {}
    for index, db in enumerate(databases):
        ok = (
            isinstance(db, dict)
            and isinstance(db.get("name"), str)
            and db["name"]
            and isinstance(db.get("tables"), list)
            and all(isinstance(t, str) for t in db["tables"])
            and isinstance(db.get("ready"), bool)
        )
        if not ok:
            raise SchemaReportError(
                f"databases[{index}] is not {{name, tables: [names], ready: bool}}: {json.dumps(db)[:120]}"
            )
        reported[db["name"]] = db
    return reported


def database_result(name: str, db: Optional[dict]) -> CheckResult:
    check = f"schema {name}"
    if db is None:
        return CheckResult(check, False, "not in the manager's report")
    present = {t.upper() for t in db["tables"]}
    missing = [t for t in TABLES if t not in present]
    counted = f"{len(TABLES) - len(missing)} of {len(TABLES)} WSO2 tables"
    if len(missing) == len(TABLES):
        return CheckResult(check, False, f"missing: {counted}")
    if missing:
        shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
        return CheckResult(check, False, f"incomplete: {counted}; missing {shown}")
    if not db["ready"]:
        return CheckResult(check, False, f"tables present but not marked ready by the manager ({counted})")
    return CheckResult(check, True, f"{counted}, ready")


def check_schema(
    ssm: Any,
    outputs: StackOutputs,
    budget: float,
    *,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> Iterator[CheckResult]:
    """Run schema-status on the manager; every database of the stack holds every WSO2 table."""
    manager = outputs.nodes()[0]
    where = f"on {manager.label} ({manager.instance_id})"
    if outputs.database_names is None:
        yield CheckResult(CHECK_NAME, False, "no databaseNames output: the stack predates it, run `pulumi up`")
        return
    answer = RemoteCommand(ssm, "wso2-cluster verify: schema status", sleep=sleep, clock=clock).run(
        [manager.instance_id], SCHEMA_STATUS_COMMAND, budget
    )[manager.instance_id]
    if not answer.ok:
        yield CheckResult(
            CHECK_NAME, False, f"schema-status {where}: {answer.problem} (--skip-schema skips this check)"
        )
        return
    try:
        reported = parse_schema_status(answer.stdout)
    except SchemaReportError as error:
        yield CheckResult(CHECK_NAME, False, f"schema-status {where} succeeded but printed no valid report: {error}")
        return
    for name in outputs.database_names.values():
        yield database_result(name, reported.get(name))
