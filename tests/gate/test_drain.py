"""Drain before delete (components/drain.py): the wait on recorded ELB answers and on moto, the
hook as the engine calls it, and hooks of a large batch waiting at once."""

from __future__ import annotations

import asyncio
import threading
import time
import types

import boto3
import pulumi
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from components import drain
from tests.aws_support import FakeClock

REGION = "eu-west-1"
ARN = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/wso2-dev-ws-9443/6d0ecf831eec9f09"
TARGET = {"Id": "i-0111111111111111a", "Port": 9443}
DRAINING = {
    "State": "draining",
    "Reason": "Target.DeregistrationInProgress",
    "Description": "Target deregistration is in progress",
}
UNUSED = {"State": "unused", "Reason": "Target.NotRegistered", "Description": "Target is not registered"}


def expect(stubber: Stubber, *health: dict) -> None:
    """One DescribeTargetHealth of TARGET, answered with `health` (none: not listed)."""
    stubber.add_response(
        "describe_target_health",
        {"TargetHealthDescriptions": [{"Target": TARGET, "TargetHealth": h} for h in health]},
        {"TargetGroupArn": ARN, "Targets": [TARGET]},
    )


def test_waits_while_draining_and_returns_once_unused(stubbed):
    client, stubber = stubbed
    expect(stubber, DRAINING)
    expect(stubber, DRAINING)
    expect(stubber, UNUSED)
    clock = FakeClock()
    assert drain.wait_drained(client, ARN, TARGET, clock=clock, sleep=clock.sleep) is True
    assert clock.sleeps == [5, 5]
    stubber.assert_no_pending_responses()


def test_a_target_no_longer_listed_or_already_gone_has_drained(stubbed):
    client, stubber = stubbed
    expect(stubber)  # not listed
    stubber.add_client_error("describe_target_health", "InvalidTarget", "The target is not in the group")
    stubber.add_client_error("describe_target_health", "TargetGroupNotFound", "One or more target groups not found")
    for _ in range(3):
        assert drain.drained(client, ARN, TARGET) is True


def test_still_draining_at_the_deadline_gives_up_after_delay_and_margin(stubbed):
    client, stubber = stubbed
    for _ in range(19):
        expect(stubber, DRAINING)
    clock = FakeClock()
    assert drain.wait_drained(client, ARN, TARGET, clock=clock, sleep=clock.sleep) is False
    assert clock.elapsed == drain.DEREGISTRATION_DELAY_SECONDS + drain.DRAIN_MARGIN_SECONDS == 90
    stubber.assert_no_pending_responses()


def test_another_api_error_is_raised(stubbed):
    client, stubber = stubbed
    stubber.add_client_error("describe_target_health", "Throttling", "Rate exceeded")
    with pytest.raises(Exception, match="Throttling"):
        drain.drained(client, ARN, TARGET)


def test_a_deregistered_target_has_drained_on_moto():
    with mock_aws():
        ec2, elbv2 = boto3.client("ec2", region_name=REGION), boto3.client("elbv2", region_name=REGION)
        vpc = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
        instance = ec2.run_instances(ImageId="ami-12345678", MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
        arn = elbv2.create_target_group(
            Name="wso2-dev-ws-9443", Protocol="HTTPS", Port=9443, VpcId=vpc, TargetType="instance"
        )["TargetGroups"][0]["TargetGroupArn"]
        target = {"Id": instance, "Port": 9443}
        elbv2.register_targets(TargetGroupArn=arn, Targets=[target])
        assert drain.drained(elbv2, arn, target) is False  # registered and serving
        elbv2.deregister_targets(TargetGroupArn=arn, Targets=[target])  # the provider's delete
        assert drain.drained(elbv2, arn, target) is True


# --- the hook, as the engine calls it after an attachment's delete ------------------------------


def run_hook(outputs: dict) -> None:
    args = pulumi.ResourceHookArgs(
        urn="urn:attachment",
        id="a",
        name="a",
        type="aws:lb/targetGroupAttachment:TargetGroupAttachment",
        old_inputs=outputs,
        old_outputs=outputs,
    )
    loop = asyncio.new_event_loop()  # not asyncio.run: it would unset the loop the offline engine uses
    try:
        loop.run_until_complete(drain.wait_after_delete(args))
    finally:
        loop.close()


def test_the_hook_waits_for_the_attachments_own_target_with_the_stacks_credentials(monkeypatch, stubbed):
    client, stubber = stubbed
    sessions = []
    monkeypatch.setattr(
        drain.aws_session,
        "from_stack_config",
        lambda config, region: (
            sessions.append((config, region)) or types.SimpleNamespace(client=lambda service: client)
        ),
    )
    monkeypatch.setattr(drain, "read_stack_config", lambda: {"aws:profile": "ops"})
    clock = FakeClock()
    monkeypatch.setattr(drain, "time", types.SimpleNamespace(monotonic=clock, sleep=clock.sleep))
    logged = []
    monkeypatch.setattr(pulumi.log, "info", lambda message, *a, **k: logged.append(message))
    expect(stubber, DRAINING)
    expect(stubber, UNUSED)

    # the wire's outputs: the port is a float
    run_hook({"targetGroupArn": ARN, "targetId": TARGET["Id"], "port": 9443.0, "id": "a"})

    assert sessions == [({"aws:profile": "ops"}, REGION)]  # the region is the group's
    assert clock.sleeps == [5]
    assert logged == ["drained i-0111111111111111a from target group wso2-dev-ws-9443"]
    stubber.assert_no_pending_responses()


def test_the_hook_is_named_runs_on_deploys_only_and_only_warns():
    from offline.engine import run_program

    def program():
        hook = drain.drain_hook("dev-drain")
        assert (hook.name, hook.opts.on_dry_run, hook.opts.ignore_errors) == ("dev-drain", False, True)
        pulumi.CustomResource(
            "aws:lb/targetGroupAttachment:TargetGroupAttachment",
            "a",
            {"targetGroupArn": ARN, "targetId": TARGET["Id"]},
            opts=pulumi.ResourceOptions(hooks=pulumi.ResourceHookBinding(after_delete=[hook])),
        )

    attachment = run_program(program, {"aws:region": REGION}).one(
        "aws:lb/targetGroupAttachment:TargetGroupAttachment", "a"
    )
    assert attachment.options["hooks"] == {"after_delete": ["dev-drain"]}


def test_the_hooks_of_a_batch_larger_than_the_default_pool_wait_at_once(monkeypatch):
    """Twelve nodes drain (or are gated) at once: each hook waits in a thread of HOOK_THREADS,
    not in asyncio's default pool (min(32, CPUs + 4) threads, 6 on two cores)."""
    waiting, most = set(), [0]
    lock = threading.Lock()
    release = threading.Event()

    def wait(elbv2, arn, target, **_):
        with lock:
            waiting.add(target["Id"])
            most[0] = max(most[0], len(waiting))
            if len(waiting) == 12:
                release.set()
        assert release.wait(10), f"only {len(waiting)} hooks waited at once"
        return True

    monkeypatch.setattr(drain, "wait_drained", wait)
    monkeypatch.setattr(
        drain.aws_session,
        "from_stack_config",
        lambda config, region: types.SimpleNamespace(client=lambda service: None),
    )
    monkeypatch.setattr(drain, "read_stack_config", dict)
    monkeypatch.setattr(pulumi.log, "info", lambda *a, **k: None)

    async def batch():
        await asyncio.gather(
            *(
                drain.wait_after_delete(
                    pulumi.ResourceHookArgs(
                        urn=f"urn:{n}",
                        id=str(n),
                        name=str(n),
                        type="aws:lb/targetGroupAttachment:TargetGroupAttachment",
                        old_outputs={"targetGroupArn": ARN, "targetId": f"i-{n:017x}", "port": 9443},
                    )
                )
                for n in range(12)
            )
        )

    loop = asyncio.new_event_loop()
    try:
        started = time.monotonic()
        loop.run_until_complete(batch())
    finally:
        loop.close()
    assert most[0] == 12 and time.monotonic() - started < 10
