"""The health gate of rolling node changes (DESIGN.md decision 6).

A change that replaces or restarts nodes must not take the whole cluster down at once: the
manager goes alone, then workers in batches, and a batch starts only once the previous one is
healthy behind the load balancer. Every node has a `HealthGate`, a small dynamic resource whose
inputs are the node's instance id (and a `revision` such as the instance type) with the node's
target groups, so replacing or restarting the node changes them. Its update step starts once the
node's new instance and registrations exist; its before-update resource hook
(`wait_before_update`, in the program's own process, with the stack's AWS credentials) first
polls the target groups until the node is healthy in each, and fails `pulumi up` with one line
naming the node when the timeout passes; only then does the update record the new inputs, so
after a failure the next `pulumi up` waits for that node again. Its *create* runs no hook, so
a first deploy or a new node waits for nothing, and its diff never asks for a replacement (a
replaced gate would be created, i.e. skip the wait). One gate per node, not per batch: a new
worker, or a change of the batch size, then changes no existing gate's inputs, so only a node
that really changed makes `pulumi up` wait.

Wiring (components/cluster.py): each instance of the next batch `depends_on` every gate of this
batch; the hook runs inside the gate's update step (pulumi/pulumi pkg/resource/deploy/step.go,
UpdateStep.Apply), and the engine registers a dependent only after that step, so a waiting or
failed gate holds back the remaining nodes (shown on the real CLI by tests/e2e/test_rolling.py).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import time
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Optional, Sequence, Union

import pulumi
import pulumi.dynamic
from botocore.exceptions import ClientError
from pulumi.dynamic.dynamic import PROVIDER_KEY

from components import aws_session
from components.config.load import read_pulumi_config as read_stack_config
from components.drain import HOOK_THREADS

DEFAULT_POLL_SECONDS = 15


@dataclass(frozen=True)
class GateTarget:
    node: str  # "manager", "worker-3"
    instance_id: str
    target_group_arn: str
    port: int


class GateFailed(Exception):
    """A target was not healthy when the gate timed out; the message is one line naming it."""


# --- Waiting (boto3 only) ---------------------------------------------------------------------


def target_group_name(arn: str) -> str:
    """`wso2-dev-ws-9443` from `arn:aws:elasticloadbalancing:…:targetgroup/wso2-dev-ws-9443/<id>`."""
    match = re.search(r"(?:^|:)targetgroup/([^/]+)/", arn)
    return match.group(1) if match else arn


def format_duration(seconds: float) -> str:
    """Whole minutes as minutes ("20 minutes"), anything else as seconds ("90 seconds")."""
    value = float(seconds)
    if value > 0 and value % 60 == 0:
        minutes = int(value // 60)
        return f"{minutes} minute{'' if minutes == 1 else 's'}"
    if value.is_integer():
        whole = int(value)
        return f"{whole} second{'' if whole == 1 else 's'}"
    return f"{value:g} seconds"


def _one_line(text: Any) -> str:
    # AWS descriptions and error messages may carry newlines; the failure must stay one line.
    return " ".join(str(text).split())


def _health_text(health: Mapping[str, Any]) -> str:
    """`unhealthy (Target.ResponseCodeMismatch: Health checks failed …)`, as AWS reported it."""
    state = _one_line(health.get("State") or "unknown")
    detail = ": ".join(_one_line(part) for part in (health.get("Reason"), health.get("Description")) if part)
    return f"{state} ({detail})" if detail else state


def _error_text(error: ClientError) -> str:
    info = error.response.get("Error", {})
    code = _one_line(info.get("Code") or "UnknownError")
    message = _one_line(info.get("Message") or "")
    return f"DescribeTargetHealth failed: {code} ({message})" if message else f"DescribeTargetHealth failed: {code}"


_Poll = Union[ClientError, dict]  # a group's last poll: the error, or {(id, port): TargetHealth}


def _poll_group(elbv2: Any, arn: str, members: Sequence[GateTarget]) -> _Poll:
    try:
        response = elbv2.describe_target_health(
            TargetGroupArn=arn, Targets=[{"Id": t.instance_id, "Port": t.port} for t in members]
        )
    except ClientError as error:
        return error  # maybe transient (throttling, eventual consistency): judged at the timeout
    found: dict = {}
    for description in response.get("TargetHealthDescriptions", []):
        target = description.get("Target", {})
        found[(target.get("Id"), target.get("Port"))] = description.get("TargetHealth", {})
    return found


def _status(target: GateTarget, poll: _Poll) -> Optional[str]:
    """None when healthy, else what to report for the target."""
    if isinstance(poll, ClientError):
        return _error_text(poll)
    health = poll.get((target.instance_id, target.port), poll.get((target.instance_id, None)))
    if health is None:
        return "not registered"
    if health.get("State") == "healthy":
        return None
    return _health_text(health)


def wait_until_healthy(
    elbv2: Any,
    targets: Sequence[GateTarget],
    timeout_seconds: float,
    poll_seconds: float = 15.0,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Return once every target is `healthy` in its target group; raise GateFailed at the timeout.

    Each round calls DescribeTargetHealth once per target group, for all groups (a target
    healthy in an earlier round may have failed since). `unhealthy` alone is no failure: a
    booting node goes initial -> unhealthy -> healthy. The last round runs at the deadline.
    """
    if timeout_seconds < 0:
        raise ValueError(f"timeout_seconds must be >= 0, got {timeout_seconds}")
    if poll_seconds <= 0:
        raise ValueError(f"poll_seconds must be > 0, got {poll_seconds}")
    groups: dict[str, list[GateTarget]] = {}
    for target in targets:
        groups.setdefault(target.target_group_arn, []).append(target)
    if not groups:
        return
    deadline = clock() + timeout_seconds
    while True:
        polls = {arn: _poll_group(elbv2, arn, members) for arn, members in groups.items()}
        laggard = next(
            ((t, status) for t in targets if (status := _status(t, polls[t.target_group_arn])) is not None),
            None,
        )
        if laggard is None:
            return
        now = clock()
        if now >= deadline:
            target, status = laggard
            raise GateFailed(
                f"node {target.node} ({target.instance_id}) not healthy in target group "
                f"{target_group_name(target.target_group_arn)} (port {target.port}) after "
                f"{format_duration(timeout_seconds)}: {status}"
            )
        sleep(min(poll_seconds, deadline - now))


# --- The dynamic provider and resource (Pulumi) ------------------------------------------------


def gate_target(
    node: str,
    instance_id: pulumi.Input[str],
    target_group_arn: pulumi.Input[str],
    port: int,
    revision: Optional[pulumi.Input[str]] = None,
) -> dict:
    """One entry of `HealthGate(targets=…)`; `revision` (e.g. the instance type) is anything
    whose change restarts the node in place, so that change, too, makes the gate wait."""
    entry: dict = {"node": node, "instanceId": instance_id, "targetGroupArn": target_group_arn, "port": port}
    if revision is not None:
        entry["revision"] = revision
    return entry


def targets_from_props(entries: Sequence[Mapping[str, Any]]) -> list[GateTarget]:
    # Numbers come back from Pulumi's wire format as floats; ELBv2 wants an integer port.
    return [
        GateTarget(
            node=str(e["node"]),
            instance_id=str(e["instanceId"]),
            target_group_arn=str(e["targetGroupArn"]),
            port=int(e["port"]),
        )
        for e in entries
    ]


def _gate_inputs(props: Mapping[str, Any]) -> dict:
    return {k: v for k, v in props.items() if k != PROVIDER_KEY}  # the serialized provider


class HealthGateProvider(pulumi.dynamic.ResourceProvider):
    """Records the gate's inputs; it calls no AWS API (the waiting is the gate's before-update
    hook), so the dynamic-provider process needs no credentials and its 4-request limit holds
    nothing back."""

    serialize_as_secret_always = False  # it captures nothing secret; keep the state readable

    def create(self, props: dict[str, Any]) -> pulumi.dynamic.CreateResult:
        # No wait: a first deploy or a new node has no running node to protect.
        canonical = json.dumps(_gate_inputs(props), sort_keys=True, default=str)
        return pulumi.dynamic.CreateResult(hashlib.sha256(canonical.encode()).hexdigest()[:32], dict(props))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.DiffResult:
        # `__provider` changes with this module's pickle, which is no reason to wait. Never a
        # replacement: a replaced gate is created, and creates skip the wait. Unknown news
        # (preview) compare unequal.
        return pulumi.dynamic.DiffResult(
            changes=_gate_inputs(olds) != _gate_inputs(news), replaces=[], delete_before_replace=False
        )

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.UpdateResult:
        return pulumi.dynamic.UpdateResult(outs=dict(news))  # reached only once the hook has waited

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        pass  # nothing exists outside Pulumi's state


async def wait_before_update(args: pulumi.ResourceHookArgs) -> None:
    """The gates' before-update hook: runs in the program's process at the start of the gate's
    update step, so every resource that depends on the gate (the next batch) waits, and a failure
    leaves the gate's old inputs in the state. Its GateFailed message is what `pulumi up` shows,
    on one line."""
    props = args.new_inputs or {}
    session = aws_session.from_stack_config(read_stack_config(), region=str(props["region"]))
    elbv2 = session.client("elbv2")
    await asyncio.get_running_loop().run_in_executor(
        HOOK_THREADS,
        lambda: wait_until_healthy(
            elbv2,
            targets_from_props(props["targets"]),
            timeout_seconds=float(props["timeoutSeconds"]),
            poll_seconds=float(props.get("pollSeconds", DEFAULT_POLL_SECONDS)),
            clock=time.monotonic,  # looked up now (not bound at import), so tests can replace them
            sleep=time.sleep,
        ),
    )


class HealthGate(pulumi.dynamic.Resource, module="wso2", name="HealthGate"):
    """The gate of one node (`node`: "manager", "worker-1", …); see the module docstring."""

    node: pulumi.Output[str]
    region: pulumi.Output[str]
    targets: pulumi.Output[list]

    def __init__(
        self,
        name: str,
        *,
        node: str,
        targets: pulumi.Input[list[dict]],
        region: str,
        timeout_seconds: int,
        poll_seconds: int = DEFAULT_POLL_SECONDS,
        opts: Optional[pulumi.ResourceOptions] = None,
    ) -> None:
        for label, value in (("timeout_seconds", timeout_seconds), ("poll_seconds", poll_seconds)):
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ValueError(f"HealthGate {name}: {label} must be a positive integer, got {value!r}")
        if not node or not region:
            raise ValueError(f"HealthGate {name}: node and region are required")
        for entry in targets if isinstance(targets, list) else []:  # entries of an Output are known only at deploy time
            if isinstance(entry, dict):
                missing = {"node", "instanceId", "targetGroupArn", "port"} - set(entry)
                if missing:
                    raise ValueError(f"HealthGate {name}: target {entry.get('node', '?')} lacks {sorted(missing)}")
        props = {
            "node": node,
            "region": region,
            "targets": targets,
            "timeoutSeconds": timeout_seconds,
            "pollSeconds": poll_seconds,
        }
        hook = pulumi.ResourceHook(f"{name}-wait", wait_before_update)
        opts = pulumi.ResourceOptions.merge(
            opts, pulumi.ResourceOptions(hooks=pulumi.ResourceHookBinding(before_update=[hook]))
        )
        super().__init__(HealthGateProvider(), name, props, opts)
