"""The AWS checks. Each takes boto3 clients and the stack outputs and yields CheckResults.

A check never raises for an AWS API error about the resource it looks at: that becomes a
failed result, so one broken resource does not hide the state of the others. Missing
credentials are the exception (``NoCredentialsError`` propagates: nothing can be checked).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Callable, Iterable, Iterator

from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from verify.outputs import Node, StackOutputs

MYSQL_PORT = 3306


PASS, FAIL, SKIP = "pass", "fail", "skip"


@dataclass(frozen=True)
class CheckResult:
    """One check's outcome. `ok` means "did not fail": a skipped check (one verify could not run,
    e.g. SSM cannot reach the node) is ok but has status "skip"; passed checks have "pass"."""

    name: str  # names the node or resource, e.g. "worker-1 (i-0abc) state"
    ok: bool
    detail: str  # the reason, in AWS's words where there are some
    status: str = ""  # pass | fail | skip; derived from `ok` when not given

    def __post_init__(self) -> None:
        if not self.status:
            object.__setattr__(self, "status", PASS if self.ok else FAIL)
        expected_ok = {PASS: True, SKIP: True, FAIL: False}.get(self.status)
        if expected_ok is None or expected_ok != self.ok:
            raise ValueError(f"inconsistent CheckResult: ok={self.ok} status={self.status!r}")

    @classmethod
    def skip(cls, name: str, detail: str) -> "CheckResult":
        return cls(name, True, detail, SKIP)

    @property
    def skipped(self) -> bool:
        return self.status == SKIP

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def aws_error(error: Exception) -> str:
    if isinstance(error, ClientError):
        info = error.response.get("Error", {})
        return f"{info.get('Code', 'error')}: {info.get('Message', '')}".rstrip(": ")
    return str(error)


def guarded(name: str, check: Callable[[], Iterable[CheckResult]]) -> Iterator[CheckResult]:
    """Run a check; an AWS error it did not handle becomes one failed result named `name`."""
    try:
        yield from check()
    except NoCredentialsError:
        raise
    except (ClientError, BotoCoreError) as error:
        yield CheckResult(name, False, f"AWS error: {aws_error(error)}")


# --- EC2 instances ----------------------------------------------------------------------------


def _describe_instances(ec2: Any, ids: list[str]) -> dict[str, dict]:
    """Instances by id; a filter (not InstanceIds) so that one missing id does not fail the call."""
    found: dict[str, dict] = {}
    if not ids:
        return found
    for page in ec2.get_paginator("describe_instances").paginate(Filters=[{"Name": "instance-id", "Values": ids}]):
        for reservation in page.get("Reservations", []):
            for instance in reservation.get("Instances", []):
                found[instance["InstanceId"]] = instance
    return found


def _describe_statuses(ec2: Any, ids: list[str]) -> dict[str, dict]:
    statuses: dict[str, dict] = {}
    if not ids:
        return statuses
    pages = ec2.get_paginator("describe_instance_status").paginate(InstanceIds=ids, IncludeAllInstances=True)
    for page in pages:
        for status in page.get("InstanceStatuses", []):
            statuses[status["InstanceId"]] = status
    return statuses


def _status_problems(status: dict | None) -> list[str]:
    if status is None:
        return ["no status reported"]
    problems = []
    for key, label in (("SystemStatus", "system"), ("InstanceStatus", "instance")):
        summary = status.get(key) or {}
        state = summary.get("Status")
        if state != "ok":
            failing = [
                f"{d.get('Name')} {d.get('Status')}" for d in summary.get("Details", []) if d.get("Status") != "passed"
            ]
            extra = f" ({', '.join(failing)})" if failing else ""
            problems.append(f"{label} status {state or 'missing'}{extra}")
    return problems


def _security_group_ids(instance: dict) -> set[str]:
    groups = {g["GroupId"] for g in instance.get("SecurityGroups", [])}
    for eni in instance.get("NetworkInterfaces", []):
        groups.update(g["GroupId"] for g in eni.get("Groups", []))
    return groups


def _node_results(
    node: Node, instance: dict | None, status: dict | None, outputs: StackOutputs
) -> Iterator[CheckResult]:
    prefix = f"{node.label} ({node.instance_id})"
    if instance is None:
        yield CheckResult(f"{prefix} exists", False, "instance not found")
        return
    ip = instance.get("PrivateIpAddress")
    if ip == node.private_ip:
        yield CheckResult(f"{prefix} exists", True, f"found, private IP {ip}")
    else:
        yield CheckResult(
            f"{prefix} exists", False, f"found, but private IP {ip} differs from the output {node.private_ip}"
        )

    state = instance.get("State", {}).get("Name", "unknown")
    yield CheckResult(
        f"{prefix} state", state == "running", state if state == "running" else f"{state} (expected running)"
    )

    problems = _status_problems(status)
    yield CheckResult(
        f"{prefix} status checks",
        not problems,
        "system ok, instance ok" if not problems else "; ".join(problems),
    )

    key, want = outputs.discovery_tag_key, outputs.discovery_tag_value
    tags = {t["Key"]: t.get("Value", "") for t in instance.get("Tags", [])}
    if key not in tags:
        yield CheckResult(f"{prefix} discovery tag", False, f"tag {key} missing (expected {key}={want})")
    elif tags[key] != want:
        yield CheckResult(f"{prefix} discovery tag", False, f"tag {key}={tags[key]} (expected {key}={want})")
    else:
        yield CheckResult(f"{prefix} discovery tag", True, f"{key}={want}")

    groups = _security_group_ids(instance)
    sg = outputs.node_security_group_id
    yield CheckResult(
        f"{prefix} security group",
        sg in groups,
        f"has {sg}"
        if sg in groups
        else f"node security group {sg} missing (has: {', '.join(sorted(groups)) or 'none'})",
    )

    tokens = (instance.get("MetadataOptions") or {}).get("HttpTokens")
    yield CheckResult(
        f"{prefix} IMDSv2",
        tokens == "required",
        "HttpTokens required" if tokens == "required" else f"HttpTokens is {tokens or 'unset'} (IMDSv2 not required)",
    )


def check_instances(ec2: Any, outputs: StackOutputs) -> Iterator[CheckResult]:
    """Every node: exists (with its private IP), running, status checks ok, tag, node SG, IMDSv2."""
    nodes = outputs.nodes()
    instances = _describe_instances(ec2, [n.instance_id for n in nodes])
    statuses = _describe_statuses(ec2, [n.instance_id for n in nodes if n.instance_id in instances])
    for node in nodes:
        yield from _node_results(node, instances.get(node.instance_id), statuses.get(node.instance_id), outputs)


# --- Target groups ----------------------------------------------------------------------------


def _expected_targets(outputs: StackOutputs) -> dict[str, list[Node]]:
    """The nodes each target group must serve: the manager the console, the workers the service."""
    nodes = outputs.nodes()
    return {key: nodes[:1] if key.startswith("manager") else nodes[1:] for key in outputs.target_group_arns}


def check_target_groups(elbv2: Any, outputs: StackOutputs) -> Iterator[CheckResult]:
    """Every node is registered and healthy in each of its target groups; nothing else is registered.

    Every group in the outputs has a listener forwarding to it (the stack makes the workersHttp
    group only when HTTP is forwarded), so `unused` (e.g. `Target.NotInUse`) is a failure too.
    """
    for key, expected in _expected_targets(outputs).items():
        arn = outputs.target_group_arns[key]
        try:
            descriptions = elbv2.describe_target_health(TargetGroupArn=arn)["TargetHealthDescriptions"]
        except NoCredentialsError:
            raise
        except (ClientError, BotoCoreError) as error:
            yield CheckResult(f"target group {key}", False, f"AWS error: {aws_error(error)}")
            continue
        registered: dict[str, list[dict]] = {}
        for description in descriptions:
            registered.setdefault(description.get("Target", {}).get("Id", "?"), []).append(description)
        for node in expected:
            found = registered.pop(node.instance_id, []) + registered.pop(node.private_ip, [])
            if not found:
                yield CheckResult(
                    f"target group {key} {node.label} ({node.instance_id})", False, f"not registered in {arn}"
                )
            for description in found:
                name, state, reason = _target_health(key, node.label, description)
                if state == "healthy":
                    yield CheckResult(name, True, "healthy")
                else:
                    yield CheckResult(name, False, f"{state}: {reason}" if reason else state)
        for others in registered.values():
            for description in others:
                name, state, _ = _target_health(key, "not a cluster node", description)
                yield CheckResult(name, False, f"registered, but not one of the group's nodes ({state})")


def _target_health(key: str, label: str, description: dict) -> tuple[str, str, str]:
    """(check name, state, AWS's reason) of one target health description."""
    target = description.get("Target", {})
    port = target.get("Port")
    where = f"{target.get('Id', '?')}:{port}" if port else target.get("Id", "?")
    health = description.get("TargetHealth", {})
    reason = " - ".join(part for part in (health.get("Reason"), health.get("Description")) if part)
    return f"target group {key} {label} ({where})", health.get("State", "unknown"), reason


# --- Database ---------------------------------------------------------------------------------


def check_database(rds: Any, outputs: StackOutputs) -> Iterator[CheckResult]:
    """The RDS instance is available, encrypted, private and in the database security group."""
    db_id = outputs.database_instance_id
    prefix = f"database {db_id}"
    try:
        found = rds.describe_db_instances(DBInstanceIdentifier=db_id)["DBInstances"]
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "DBInstanceNotFound":
            yield CheckResult(f"{prefix} exists", False, "DB instance not found")
            return
        raise
    if not found:
        yield CheckResult(f"{prefix} exists", False, "DB instance not found")
        return
    db = found[0]
    status = db.get("DBInstanceStatus", "unknown")
    yield CheckResult(
        f"{prefix} status", status == "available", status if status == "available" else f"{status} (expected available)"
    )
    encrypted = db.get("StorageEncrypted") is True
    yield CheckResult(
        f"{prefix} storage encryption", encrypted, "storage encrypted" if encrypted else "storage NOT encrypted"
    )
    public = db.get("PubliclyAccessible") is not False
    yield CheckResult(
        f"{prefix} public access",
        not public,
        "not publicly accessible" if not public else "publicly accessible (expected private)",
    )
    groups = {g["VpcSecurityGroupId"]: g.get("Status") for g in db.get("VpcSecurityGroups", [])}
    want = outputs.database_security_group_id
    yield CheckResult(
        f"{prefix} security group",
        groups.get(want) == "active",
        f"{want} active"
        if groups.get(want) == "active"
        else f"{want} {'is ' + str(groups[want]) if want in groups else 'not attached'} "
        f"(has: {', '.join(f'{k} {v}' for k, v in groups.items()) or 'none'})",
    )


# --- Security groups --------------------------------------------------------------------------


def _admits_group(group: dict, port: int, source_group_id: str) -> bool:
    """An ingress permission covers `port`/TCP and its source is `source_group_id`."""
    for permission in group.get("IpPermissions", []):
        protocol = str(permission.get("IpProtocol"))
        if protocol == "-1":
            covers = True
        elif protocol in ("tcp", "6"):
            covers = permission.get("FromPort", -1) <= port <= permission.get("ToPort", -1)
        else:
            covers = False
        if covers and any(pair.get("GroupId") == source_group_id for pair in permission.get("UserIdGroupPairs", [])):
            return True
    return False


def _describe_group(ec2: Any, group_id: str) -> dict | None:
    try:
        groups = ec2.describe_security_groups(GroupIds=[group_id])["SecurityGroups"]
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "InvalidGroup.NotFound":
            return None
        raise
    return groups[0] if groups else None


def check_security_groups(ec2: Any, outputs: StackOutputs) -> Iterator[CheckResult]:
    """Nodes reach each other on the cluster port; the database group admits the nodes on 3306."""
    node_sg, port = outputs.node_security_group_id, outputs.cluster_port
    node_group = _describe_group(ec2, node_sg)
    prefix = f"node security group {node_sg}"
    if node_group is None:
        yield CheckResult(f"{prefix} exists", False, "security group not found")
    else:
        name = node_group.get("GroupName")
        want = outputs.node_security_group_name
        yield CheckResult(
            f"{prefix} name",
            name == want,
            name if name == want else f"named {name}, expected {want} (discovery filters on the name)",
        )
        ok = _admits_group(node_group, port, node_sg)
        yield CheckResult(
            f"{prefix} cluster port",
            ok,
            f"admits itself on {port}/tcp"
            if ok
            else f"no ingress rule admitting the group itself on {port}/tcp (members cannot reach each other)",
        )

    db_sg = outputs.database_security_group_id
    db_group = _describe_group(ec2, db_sg)
    prefix = f"database security group {db_sg}"
    if db_group is None:
        yield CheckResult(f"{prefix} exists", False, "security group not found")
    else:
        ok = _admits_group(db_group, MYSQL_PORT, node_sg)
        yield CheckResult(
            f"{prefix} mysql",
            ok,
            f"admits {node_sg} on {MYSQL_PORT}/tcp"
            if ok
            else f"no ingress rule admitting node group {node_sg} on {MYSQL_PORT}/tcp",
        )
