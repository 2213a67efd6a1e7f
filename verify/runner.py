"""Build the boto3 clients and run every check in order, streaming results."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterator, Optional

import boto3
from botocore.config import Config

from verify.checks import (
    CheckResult,
    check_database,
    check_instances,
    check_security_groups,
    check_target_groups,
    guarded,
)
from verify.membership import check_membership
from verify.outputs import StackOutputs
from verify.probes import check_http
from verify.schema import check_schema


@dataclass(frozen=True)
class Options:
    http: bool = True
    timeout: float = 10.0  # per HTTP probe and AWS connection; also the wait for each SSM command
    insecure: bool = False
    schema: bool = True  # --skip-schema turns the schema check off
    log_window_hours: float = 24.0  # how far back the membership fallback reads the nodes' logs


def make_session(outputs: StackOutputs) -> tuple[boto3.Session, str]:
    """A default Session (AWS_PROFILE, AWS_REGION/AWS_DEFAULT_REGION, AWS_ENDPOINT_URL honoured).

    The region comes from the environment/profile, else from the `region` stack output.
    """
    session = boto3.Session()
    region = session.region_name or outputs.region
    if session.region_name is None:
        session = boto3.Session(region_name=region)
    return session, region


def run_checks(
    session: boto3.Session,
    outputs: StackOutputs,
    options: Options,
    on_section: Optional[Callable[[str], None]] = None,
) -> Iterator[CheckResult]:
    config = Config(
        connect_timeout=options.timeout,
        read_timeout=options.timeout,
        retries={"max_attempts": 3, "mode": "standard"},
    )
    ec2 = session.client("ec2", config=config)
    elbv2 = session.client("elbv2", config=config)
    rds = session.client("rds", config=config)
    logs = session.client("logs", config=config)
    ssm = session.client("ssm", config=config)
    node_labels = ", ".join(n.label for n in outputs.nodes())

    sections = [
        (f"EC2 instances ({node_labels})", "instances", lambda: check_instances(ec2, outputs)),
        ("target groups (every node in service)", "target groups", lambda: check_target_groups(elbv2, outputs)),
        ("database", f"database {outputs.database_instance_id}", lambda: check_database(rds, outputs)),
        ("security groups", "security groups", lambda: check_security_groups(ec2, outputs)),
    ]
    if options.http:
        sections.append(("HTTP probes", "http", lambda: check_http(outputs, options.timeout, options.insecure)))
    sections.append(
        (
            "cluster membership",
            "cluster membership",
            lambda: check_membership(ssm, logs, outputs, options.timeout, options.log_window_hours),
        )
    )
    if options.schema:
        sections.append(("database schema", "database schema", lambda: check_schema(ssm, outputs, options.timeout)))
    else:
        sections.append(
            (
                "database schema",
                "database schema",
                lambda: [CheckResult.skip("database schema", "not checked (--skip-schema)")],
            )
        )
    for title, name, check in sections:
        if on_section:
            on_section(title)
        yield from guarded(name, check)
