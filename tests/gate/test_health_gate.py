"""The health gate (DESIGN.md decision 6): waiting logic against recorded ELBv2 responses and
moto, and the dynamic provider as Pulumi drives it. No test sleeps: clock and sleep are fakes."""

from __future__ import annotations

import asyncio
import base64
import re
import types

import boto3
import dill
import pulumi
import pytest
from botocore.stub import Stubber
from moto import mock_aws
from pulumi.dynamic.dynamic import serialize_provider
from pulumi.runtime import rpc

from components import health_gate
from components.health_gate import (
    GateFailed,
    GateTarget,
    HealthGate,
    HealthGateProvider,
    format_duration,
    gate_target,
    target_group_name,
    wait_until_healthy,
)
from tests.aws_support import FakeClock

REGION = "eu-west-1"
ARN_WS = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/wso2-dev-ws-9443/6d0ecf831eec9f09"
ARN_WH = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/wso2-dev-wh-9763/1a2b3c4d5e6f7a8b"
ARN_MH = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/wso2-dev-mh-9443/9f8e7d6c5b4a3f2e"

MANAGER = GateTarget("manager", "i-0a1b2c3d4e5f60718", ARN_MH, 9443)
W1_WS = GateTarget("worker-1", "i-0111111111111111a", ARN_WS, 9443)
W1_WH = GateTarget("worker-1", "i-0111111111111111a", ARN_WH, 9763)
W2_WS = GateTarget("worker-2", "i-0222222222222222b", ARN_WS, 9443)
W2_WH = GateTarget("worker-2", "i-0222222222222222b", ARN_WH, 9763)
W3_WS = GateTarget("worker-3", "i-0abc1234567890def", ARN_WS, 9443)

HEALTHY = {"State": "healthy"}
INITIAL = {
    "State": "initial",
    "Reason": "Elb.RegistrationInProgress",
    "Description": "Target registration is in progress",
}
UNHEALTHY_404 = {
    "State": "unhealthy",
    "Reason": "Target.ResponseCodeMismatch",
    "Description": "Health checks failed with these codes: [404]",
}


def expect_health(stubber: Stubber, targets: list[GateTarget], *health: dict) -> None:
    """Queue one DescribeTargetHealth of `targets` (one group), answered with `health` per target;
    a target with `None` is left out of the answer."""
    arn = targets[0].target_group_arn
    stubber.add_response(
        "describe_target_health",
        {
            "TargetHealthDescriptions": [
                {"Target": {"Id": t.instance_id, "Port": t.port}, "HealthCheckPort": str(t.port), "TargetHealth": h}
                for t, h in zip(targets, health)
                if h is not None
            ]
        },
        {"TargetGroupArn": arn, "Targets": [{"Id": t.instance_id, "Port": t.port} for t in targets]},
    )


# --- Waiting logic, recorded responses ----------------------------------------------------------


def test_healthy_at_once_makes_one_call_per_target_group_and_never_sleeps(stubbed):
    client, stubber = stubbed
    clock = FakeClock()
    # workers 1 and 2 in two groups, the manager in a third: three groups, three calls, in order
    expect_health(stubber, [W1_WS, W2_WS], HEALTHY, HEALTHY)
    expect_health(stubber, [W1_WH, W2_WH], HEALTHY, HEALTHY)
    expect_health(stubber, [MANAGER], HEALTHY)

    wait_until_healthy(client, [W1_WS, W1_WH, W2_WS, W2_WH, MANAGER], 1200, 15, clock=clock, sleep=clock.sleep)

    stubber.assert_no_pending_responses()
    assert clock.sleeps == []


def test_booting_node_initial_then_unhealthy_then_healthy_passes(stubbed):
    client, stubber = stubbed
    clock = FakeClock()
    expect_health(stubber, [W3_WS], INITIAL)
    expect_health(stubber, [W3_WS], UNHEALTHY_404)  # normal while the product starts: no failure
    expect_health(stubber, [W3_WS], HEALTHY)

    wait_until_healthy(client, [W3_WS], 1200, 15, clock=clock, sleep=clock.sleep)

    stubber.assert_no_pending_responses()  # three polls
    assert clock.sleeps == [15, 15]
    assert clock.elapsed == 30


def test_every_group_is_polled_again_each_round(stubbed):
    """A group healthy in round 1 is asked again: a node that fell over since is not missed."""
    client, stubber = stubbed
    clock = FakeClock()
    expect_health(stubber, [W1_WS], HEALTHY)
    expect_health(stubber, [MANAGER], INITIAL)
    expect_health(stubber, [W1_WS], UNHEALTHY_404)
    expect_health(stubber, [MANAGER], HEALTHY)
    expect_health(stubber, [W1_WS], HEALTHY)
    expect_health(stubber, [MANAGER], HEALTHY)

    wait_until_healthy(client, [W1_WS, MANAGER], 600, 20, clock=clock, sleep=clock.sleep)

    stubber.assert_no_pending_responses()
    assert clock.sleeps == [20, 20]


def test_unhealthy_until_timeout_fails_with_one_line_naming_the_first_unhealthy_target(stubbed):
    client, stubber = stubbed
    clock = FakeClock()
    for _ in range(5):  # polls at 0, 300, 600, 900 and at the deadline, 1200
        expect_health(stubber, [W2_WS, W3_WS], HEALTHY, UNHEALTHY_404)

    with pytest.raises(GateFailed) as failure:
        wait_until_healthy(client, [W2_WS, W3_WS], 1200, 300, clock=clock, sleep=clock.sleep)

    assert str(failure.value) == (
        "node worker-3 (i-0abc1234567890def) not healthy in target group wso2-dev-ws-9443 (port 9443) "
        "after 20 minutes: unhealthy (Target.ResponseCodeMismatch: Health checks failed with these codes: [404])"
    )
    stubber.assert_no_pending_responses()  # the last poll ran at the deadline
    assert clock.sleeps == [300, 300, 300, 300]


def test_last_poll_runs_at_the_deadline_even_off_the_poll_interval(stubbed):
    client, stubber = stubbed
    clock = FakeClock()
    for _ in range(3):  # 0, 20, 40 s
        expect_health(stubber, [W3_WS], UNHEALTHY_404)
    expect_health(stubber, [W3_WS], HEALTHY)  # at the deadline, 50 s: still in time

    wait_until_healthy(client, [W3_WS], 50, 20, clock=clock, sleep=clock.sleep)

    stubber.assert_no_pending_responses()
    assert clock.sleeps == [20, 20, 10]


def test_target_never_registered_is_reported_as_not_registered(stubbed):
    client, stubber = stubbed
    clock = FakeClock()
    for _ in range(4):  # 0, 30, 60, 90 s
        expect_health(stubber, [MANAGER], None)  # AWS's answer does not list the target

    with pytest.raises(GateFailed) as failure:
        wait_until_healthy(client, [MANAGER], 90, 30, clock=clock, sleep=clock.sleep)

    assert str(failure.value) == (
        "node manager (i-0a1b2c3d4e5f60718) not healthy in target group wso2-dev-mh-9443 (port 9443) "
        "after 90 seconds: not registered"
    )
    stubber.assert_no_pending_responses()


def test_transient_api_error_is_retried_on_the_next_poll(stubbed):
    client, stubber = stubbed
    clock = FakeClock()
    stubber.add_client_error(
        "describe_target_health", service_error_code="Throttling", service_message="Rate exceeded", http_status_code=400
    )
    expect_health(stubber, [W1_WS], HEALTHY)

    wait_until_healthy(client, [W1_WS], 1200, 15, clock=clock, sleep=clock.sleep)

    stubber.assert_no_pending_responses()
    assert clock.sleeps == [15]


def test_api_error_until_timeout_is_named_in_the_failure(stubbed):
    client, stubber = stubbed
    clock = FakeClock()
    for _ in range(3):  # 0, 30, 60 s
        stubber.add_client_error(
            "describe_target_health",
            service_error_code="TargetGroupNotFound",
            service_message="One or more target groups not found",
            http_status_code=400,
        )

    with pytest.raises(GateFailed) as failure:
        wait_until_healthy(client, [MANAGER], 60, 30, clock=clock, sleep=clock.sleep)

    assert str(failure.value) == (
        "node manager (i-0a1b2c3d4e5f60718) not healthy in target group wso2-dev-mh-9443 (port 9443) "
        "after 1 minute: DescribeTargetHealth failed: TargetGroupNotFound (One or more target groups not found)"
    )
    stubber.assert_no_pending_responses()


def test_failure_stays_one_line_when_aws_text_has_line_breaks(stubbed):
    client, stubber = stubbed
    clock = FakeClock()
    expect_health(
        stubber,
        [W1_WS],
        {"State": "unhealthy", "Reason": "Target.Timeout", "Description": "Request timed out\n(after 5 s)"},
    )

    with pytest.raises(GateFailed) as failure:
        wait_until_healthy(client, [W1_WS], 0, 15, clock=clock, sleep=clock.sleep)

    assert str(failure.value).endswith("after 0 seconds: unhealthy (Target.Timeout: Request timed out (after 5 s))")
    assert "\n" not in str(failure.value)


@pytest.mark.parametrize(
    "seconds, text",
    [
        (1200, "20 minutes"),
        (1200.0, "20 minutes"),
        (60, "1 minute"),
        (90, "90 seconds"),
        (1, "1 second"),
        (2.5, "2.5 seconds"),
    ],
)
def test_durations_are_minutes_when_whole_minutes_else_seconds(seconds, text):
    assert format_duration(seconds) == text


def test_target_group_name_is_the_name_part_of_the_arn():
    assert target_group_name(ARN_WS) == "wso2-dev-ws-9443"
    assert target_group_name("not-an-arn") == "not-an-arn"


# --- Waiting logic, moto ------------------------------------------------------------------------
# moto models target health only as "registered and running => healthy" (no health checks, no
# initial/unhealthy phase); a stopped instance is `unused (Target.InvalidState)` and an
# unregistered one `unused (Target.NotRegistered)`, as AWS reports them. The boot sequence and
# health-check failures are covered by the recorded responses above.


@pytest.fixture
def moto_target():
    """(ec2, elbv2, target): a running instance registered in an HTTPS target group, in moto."""
    with mock_aws():
        ec2 = boto3.client("ec2", region_name=REGION)
        elbv2 = boto3.client("elbv2", region_name=REGION)
        vpc_id = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
        subnet_id = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.20.1.0/24")["Subnet"]["SubnetId"]
        instance_id = ec2.run_instances(ImageId="ami-12345678", MinCount=1, MaxCount=1, SubnetId=subnet_id)[
            "Instances"
        ][0]["InstanceId"]
        arn = elbv2.create_target_group(
            Name="wso2-dev-ws-9443", Protocol="HTTPS", Port=9443, VpcId=vpc_id, TargetType="instance"
        )["TargetGroups"][0]["TargetGroupArn"]
        elbv2.register_targets(TargetGroupArn=arn, Targets=[{"Id": instance_id, "Port": 9443}])
        yield ec2, elbv2, GateTarget("worker-1", instance_id, arn, 9443)


def test_moto_registered_running_instance_passes_at_the_first_poll(moto_target):
    _, elbv2, target = moto_target
    clock = FakeClock()
    reported = elbv2.describe_target_health(TargetGroupArn=target.target_group_arn)["TargetHealthDescriptions"]
    assert [d["TargetHealth"]["State"] for d in reported] == ["healthy"]  # what moto models

    wait_until_healthy(elbv2, [target], 60, 15, clock=clock, sleep=clock.sleep)

    assert clock.sleeps == []


def test_moto_stopped_instance_fails_with_awss_reason(moto_target):
    ec2, elbv2, target = moto_target
    ec2.stop_instances(InstanceIds=[target.instance_id])
    clock = FakeClock()

    with pytest.raises(GateFailed) as failure:
        wait_until_healthy(elbv2, [target], 30, 15, clock=clock, sleep=clock.sleep)

    assert str(failure.value) == (
        f"node worker-1 ({target.instance_id}) not healthy in target group wso2-dev-ws-9443 (port 9443) "
        "after 30 seconds: unused (Target.InvalidState: Target is in the stopped state)"
    )
    assert clock.sleeps == [15, 15]


# --- The dynamic provider -------------------------------------------------------------------------


def gate_props(instance_id: str = "i-0111111111111111a", revision: str = "t3.large") -> dict:
    return {
        "node": "worker-1",
        "region": REGION,
        "targets": [gate_target("worker-1", instance_id, ARN_WS, 9443, revision)],
        "timeoutSeconds": 1200,
        "pollSeconds": 300,
        "__provider": "c2VyaWFsaXplZCBwcm92aWRlcg==",
    }


def as_wire(value):
    """Numbers as Pulumi hands them to a dynamic provider: the wire format has only floats."""
    if isinstance(value, bool) or not isinstance(value, (int, dict, list)):
        return value
    if isinstance(value, int):
        return float(value)
    if isinstance(value, dict):
        return {k: as_wire(v) for k, v in value.items()}
    return [as_wire(v) for v in value]


@pytest.fixture
def no_aws(monkeypatch):
    """Any attempt to build a boto3 session or client, or to call AWS, fails the test."""

    def explode(*_args, **_kwargs):
        raise AssertionError("the gate called AWS")

    monkeypatch.setattr(boto3.session, "Session", explode)
    monkeypatch.setattr(boto3, "Session", explode)
    monkeypatch.setattr(boto3, "client", explode)
    monkeypatch.setattr("botocore.client.BaseClient._make_api_call", explode)


def test_create_returns_at_once_without_calling_aws(no_aws):
    props = gate_props()
    result = HealthGateProvider().create(props)

    assert result.outs == props
    assert re.fullmatch(r"[0-9a-f]{32}", result.id)
    assert HealthGateProvider().create(gate_props()).id == result.id  # deterministic
    assert HealthGateProvider().create(gate_props(instance_id="i-0999999999999999f")).id != result.id


def test_diff_of_a_replaced_instance_is_an_update_never_a_replacement():
    olds, news = gate_props(), gate_props(instance_id="i-0999999999999999f")
    result = HealthGateProvider().diff("gate", olds, news)

    assert result.changes is True
    assert result.replaces == []
    assert result.delete_before_replace is False


def test_diff_of_an_in_place_restart_revision_is_an_update():
    result = HealthGateProvider().diff("gate", gate_props(revision="t3.large"), gate_props(revision="t3.xlarge"))

    assert (result.changes, result.replaces) == (True, [])


def test_diff_of_unknown_instance_id_in_preview_is_an_update():
    result = HealthGateProvider().diff("gate", gate_props(), gate_props(instance_id=rpc.UNKNOWN))

    assert (result.changes, result.replaces) == (True, [])


def test_diff_of_equal_inputs_is_no_change_even_when_the_provider_pickle_changed():
    olds, news = as_wire(gate_props()), gate_props()  # state (floats) against the program's ints
    news["__provider"] = "YW5vdGhlciBwaWNrbGU="

    result = HealthGateProvider().diff("gate", olds, news)

    assert result.changes is False
    assert result.replaces == []


class FakeSession:
    """Stands in for boto3.session.Session: records its arguments, hands out the stubbed client."""

    created: list[dict] = []
    client_for: dict = {}

    def __init__(self, **kwargs):
        FakeSession.created.append(kwargs)

    def client(self, service: str):
        return FakeSession.client_for[service]


@pytest.fixture
def hook_aws(monkeypatch, stubbed):
    """The hook's boto3 session replaced by FakeSession, time by a FakeClock, the stack's config
    by `stack_config` (a dict the test fills); yields (stubber, clock, stack_config)."""
    client, stubber = stubbed
    FakeSession.created, FakeSession.client_for = [], {"elbv2": client}
    monkeypatch.setattr(boto3.session, "Session", FakeSession)
    clock = FakeClock()
    monkeypatch.setattr(health_gate, "time", types.SimpleNamespace(monotonic=clock, sleep=clock.sleep))
    stack_config = {"aws:region": REGION}
    monkeypatch.setattr(health_gate, "read_stack_config", lambda: stack_config)
    return stubber, clock, stack_config


def run_hook(olds: dict, news: dict) -> None:
    args = pulumi.ResourceHookArgs(
        urn="urn:gate",
        id="gate",
        name="gate",
        type="pulumi-python:dynamic/wso2:HealthGate",
        new_inputs=news,
        old_inputs=olds,
        new_outputs=news,
        old_outputs=olds,
    )
    loop = asyncio.new_event_loop()  # not asyncio.run: it would unset the loop the offline engine uses
    try:
        loop.run_until_complete(health_gate.wait_before_update(args))
    finally:
        loop.close()


def test_update_returns_at_once_without_calling_aws(no_aws):
    olds, news = as_wire(gate_props()), as_wire(gate_props(instance_id="i-0999999999999999f"))
    assert HealthGateProvider().update("gate", olds, news).outs == news


def test_the_gate_binds_its_waiting_hook_before_update_only():
    from offline.engine import run_program

    def program():
        HealthGate(
            "gate",
            node="worker-1",
            targets=[gate_target("worker-1", "i-1", ARN_WS, 9443)],
            region=REGION,
            timeout_seconds=1200,
        )

    gate = run_program(program, {"aws:region": REGION}).one("pulumi-python:dynamic/wso2:HealthGate", "gate")
    assert gate.options["hooks"] == {"before_update": ["gate-wait"]}


def test_hook_waits_for_the_new_targets_with_the_stacks_profile(hook_aws):
    stubber, clock, stack_config = hook_aws
    stack_config["aws:profile"] = "ops"
    new_worker = GateTarget("worker-1", "i-0999999999999999f", ARN_WS, 9443)
    expect_health(stubber, [new_worker], INITIAL)
    expect_health(stubber, [new_worker], HEALTHY)

    run_hook(as_wire(gate_props()), as_wire(gate_props(instance_id=new_worker.instance_id)))

    assert FakeSession.created == [{"profile_name": "ops", "region_name": REGION}]
    stubber.assert_no_pending_responses()  # polled the new instance id (expected params) twice
    assert clock.sleeps == [300]


def test_hook_without_a_stack_profile_uses_the_default_credential_chain(hook_aws):
    stubber, _, _ = hook_aws
    expect_health(stubber, [W1_WS], HEALTHY)

    run_hook(gate_props(), gate_props())

    assert FakeSession.created == [{"profile_name": None, "region_name": REGION}]
    stubber.assert_no_pending_responses()


def test_hook_fails_with_the_one_line_message(hook_aws):
    stubber, clock, _ = hook_aws
    new_worker = GateTarget("worker-1", "i-0999999999999999f", ARN_WS, 9443)
    for _ in range(5):
        expect_health(stubber, [new_worker], UNHEALTHY_404)

    with pytest.raises(GateFailed) as failure:
        run_hook(as_wire(gate_props()), as_wire(gate_props(instance_id=new_worker.instance_id)))

    assert str(failure.value) == (
        "node worker-1 (i-0999999999999999f) not healthy in target group wso2-dev-ws-9443 (port 9443) "
        "after 20 minutes: unhealthy (Target.ResponseCodeMismatch: Health checks failed with these codes: [404])"
    )
    assert clock.elapsed == 1200


def test_provider_survives_pulumis_serialization_round_trip(no_aws):
    provider = HealthGateProvider()
    serialized = serialize_provider(provider)
    raw = base64.b64decode(serialized)

    loaded = dill.loads(raw)

    assert type(loaded) is HealthGateProvider
    assert b"components.health_gate" in raw and b"describe_target_health" not in raw  # by reference
    assert serialize_provider(HealthGateProvider()) == serialized  # same pickle every run
    assert loaded.serialize_as_secret_always is False
    assert loaded.create(gate_props()).outs == gate_props()


def test_resource_registers_camelcase_inputs_that_follow_the_instance():
    """Under the project's offline engine: the gate's inputs carry the instance's id (so a
    replacement changes them), it depends on the instance, and a later node can depend on it."""
    from offline.engine import run_program

    def program():
        instance = pulumi.CustomResource("aws:ec2/instance:Instance", "worker-1", {"instanceType": "t3.large"})
        gate = HealthGate(
            "gate-workers-1",
            node="worker-1",
            targets=[gate_target("worker-1", instance.id, ARN_WS, 9443, revision="t3.large")],
            region=REGION,
            timeout_seconds=1200,
        )
        pulumi.CustomResource("aws:ec2/instance:Instance", "worker-2", {}, pulumi.ResourceOptions(depends_on=[gate]))

    inventory = run_program(program, {"aws:region": REGION})
    worker_1 = inventory.one("aws:ec2/instance:Instance", "worker-1")
    gate = inventory.one("pulumi-python:dynamic/wso2:HealthGate", "gate-workers-1")
    worker_2 = inventory.one("aws:ec2/instance:Instance", "worker-2")

    assert worker_1.id.startswith("i-")
    assert gate.inputs["targets"] == [
        {"node": "worker-1", "instanceId": worker_1.id, "targetGroupArn": ARN_WS, "port": 9443, "revision": "t3.large"}
    ]
    assert {k: gate.inputs[k] for k in ("node", "region", "timeoutSeconds", "pollSeconds")} == {
        "node": "worker-1",
        "region": REGION,
        "timeoutSeconds": 1200,
        "pollSeconds": 15,
    }
    assert "__provider" not in gate.secret_inputs  # serialize_as_secret_always = False
    assert type(dill.loads(base64.b64decode(gate.inputs["__provider"]))) is HealthGateProvider
    assert worker_1.urn in gate.dependencies
    assert gate.urn in worker_2.dependencies


@pytest.mark.parametrize(
    "kwargs",
    [
        {"timeout_seconds": 0},
        {"timeout_seconds": True},
        {"poll_seconds": -1},
        {"node": ""},
        {"targets": [{"node": "worker-1", "instanceId": "i-1", "port": 9443}]},
    ],
)
def test_resource_rejects_invalid_plain_arguments(kwargs):
    args = {
        "node": "worker-1",
        "targets": [gate_target("worker-1", "i-1", ARN_WS, 9443)],
        "region": REGION,
        "timeout_seconds": 1200,
        **kwargs,
    }
    with pytest.raises(ValueError):
        HealthGate("gate", **args)
