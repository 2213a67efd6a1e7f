"""Drain before delete: a node leaves its target groups, and the requests it is serving finish,
before its instance stops.

The provider's TargetGroupAttachment delete calls DeregisterTargets and returns at once
(terraform-provider-aws, internal/service/elbv2/target_group_attachment.go,
`resourceAttachmentDelete`). ELB then keeps the target `draining` for the group's deregistration
delay, sending it no new request while those in flight finish; but the engine would go on to
terminate the instance at once. So every attachment has an after-delete hook, `wait_after_delete`,
that returns once ELB no longer lists the target (or reports it `unused`). An instance is deleted only
after its attachments (they depend on it), so on a replacement, a scale-in or a destroy, the node
stops after it has drained.

One named hook per stack (`drain_hook`): the engine runs a delete hook by the name stored in the
state, looked up in the program that runs, so a hook per node would be gone with a removed worker.
It is why `pulumi destroy` needs `--run-program` (the CLI refuses a destroy without it once a
resource has delete hooks).

Hooks wait in threads of their own (`HOOK_THREADS`), so every node of a batch, however large,
drains and is gated at once rather than a few at a time in asyncio's default pool.
"""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

import pulumi
from botocore.exceptions import ClientError

from components import aws_session
from components.config.load import read_pulumi_config as read_stack_config
from components.config.schema import MAX_WORKERS

DEREGISTRATION_DELAY_SECONDS = 30  # every target group's; long enough for a WSO2 request
# Beyond the delay, for ELB to report the target gone; after it the node stops anyway.
DRAIN_MARGIN_SECONDS = 60
DRAIN_TIMEOUT_SECONDS = DEREGISTRATION_DELAY_SECONDS + DRAIN_MARGIN_SECONDS
POLL_SECONDS = 5
# A batch's gates and its nodes' drains (at most 3 target groups a node) at once.
HOOK_THREADS = ThreadPoolExecutor(max_workers=4 * (MAX_WORKERS + 1), thread_name_prefix="wso2-hook")


def drained(elbv2: Any, target_group_arn: str, target: dict) -> bool:
    """True once ELB no longer routes to `target` in the group: not listed, or `unused`."""
    try:
        found = elbv2.describe_target_health(TargetGroupArn=target_group_arn, Targets=[target])
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in ("InvalidTarget", "TargetGroupNotFound"):
            return True  # the instance or the group is already gone
        raise
    states = [d.get("TargetHealth", {}).get("State") for d in found.get("TargetHealthDescriptions", [])]
    return all(state == "unused" for state in states)


def wait_drained(
    elbv2: Any,
    target_group_arn: str,
    target: dict,
    timeout_seconds: float = DRAIN_TIMEOUT_SECONDS,
    poll_seconds: float = POLL_SECONDS,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> bool:
    """Poll until the target has drained; False when `timeout_seconds` passed first."""
    deadline = clock() + timeout_seconds
    while not drained(elbv2, target_group_arn, target):
        now = clock()
        if now >= deadline:
            return False
        sleep(min(poll_seconds, deadline - now))
    return True


def attachment_target(outputs: dict) -> tuple[str, dict]:
    """(group ARN, DescribeTargetHealth target) from a TargetGroupAttachment's outputs."""
    target: dict = {"Id": str(outputs["targetId"])}
    if outputs.get("port") is not None:
        target["Port"] = int(outputs["port"])  # a float on Pulumi's wire
    return str(outputs["targetGroupArn"]), target


async def wait_after_delete(args: pulumi.ResourceHookArgs) -> None:
    """The hook: waits for the deleted attachment's target, in the group's region (from its ARN)."""
    arn, target = attachment_target(args.old_outputs or {})
    elbv2 = aws_session.from_stack_config(read_stack_config(), region=arn.split(":")[3]).client("elbv2")
    done = await asyncio.get_running_loop().run_in_executor(
        HOOK_THREADS, lambda: wait_drained(elbv2, arn, target, clock=time.monotonic, sleep=time.sleep)
    )
    group = arn.split(":targetgroup/", 1)[-1].split("/", 1)[0]
    if done:
        pulumi.log.info(f"drained {target['Id']} from target group {group}")
    else:
        pulumi.log.warn(
            f"{target['Id']} still draining from target group {group} after "
            f"{DRAIN_TIMEOUT_SECONDS} seconds; stopping it anyway"
        )


def drain_hook(name: str) -> pulumi.ResourceHook:
    """The stack's after-delete hook of its target group attachments (see the module docstring).
    ignore_errors: an AWS error while waiting is a warning; the attachment is gone either way."""
    return pulumi.ResourceHook(
        name, wait_after_delete, opts=pulumi.ResourceHookOptions(on_dry_run=False, ignore_errors=True)
    )
