"""Stack names: whatever name Pulumi allows ([A-Za-z0-9_.-], at most 100 characters), every name
the program gives AWS, or that AWS derives from a logical name, follows AWS's naming rules.

Pulumi auto-names most resources: the logical name, a hyphen and 7 random characters. So the
logical name must itself be valid and 8 characters shorter than AWS's limit.
"""

from __future__ import annotations

import random
import re
import string

import pytest

from components import naming
from offline.engine import AwsMocks, Inventory, run_program
from offline.program import program
from tests.config.support import P, values
from userdata import limits

PULUMI_STACK_NAME = re.compile(r"[A-Za-z0-9_.-]{1,100}")
SUFFIX = 8  # "-" + 7 random characters
ELB_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?")
RDS_IDENTIFIER = re.compile(r"[a-z](?:[a-z0-9]|-(?!-))*(?<!-)")
LOG_GROUP = re.compile(r"[._\-/#A-Za-z0-9]{1,512}")
DASHBOARD = re.compile(r"[A-Za-z0-9_-]{1,255}")
SSM_NAME = re.compile(r"(/[A-Za-z0-9_.-]+)+")
IAM_NAME = re.compile(r"[\w+=,.@-]+")
SECRET_NAME = re.compile(r"[A-Za-z0-9/_+=.@-]+")
SNS_TOPIC = re.compile(r"[A-Za-z0-9_-]+")
WAF_NAME = re.compile(r"[\w-]+")
TAG_TEXT = re.compile(r"[A-Za-z0-9 _.:/=+@-]*")
S3_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")

# Run through the whole program (about a second each)...
STACKS = ["dev", "Prod", "my_stack.v2", "1st", "sg", "internal", "a" * 100, "x-", "sthree", ".."]
# ...and, with these, through the naming functions only.
MORE_STACKS = ["amzn-s3-demo-x", "INTERNAL-lb", "sg-team", "-lead", "9" * 100, "xn--idn", "_", "A", "a.b-c_d"]


def _problems(inventory: Inventory) -> list[str]:
    """Every name AWS would refuse, as '<type> <logical name>: <why>'."""
    found = []

    def need(ok: bool, resource, why: str) -> None:
        if not ok:
            found.append(f"{resource.type} {resource.name}: {why}")

    for r in inventory.resources:
        kind, inputs = r.type, r.inputs
        if kind in ("aws:lb/loadBalancer:LoadBalancer", "aws:lb/targetGroup:TargetGroup"):
            name = inputs.get("name")
            if name:
                need(len(name) <= 32 and ELB_NAME.fullmatch(name), r, f"name {name!r}")
            else:  # auto-named from the logical name
                need(
                    len(r.name) + SUFFIX <= 32 and ELB_NAME.fullmatch(r.name), r, "logical name for a 32-character name"
                )
            need(not (name or r.name).lower().startswith("internal-"), r, "starts with internal-")
        elif kind == "aws:ec2/securityGroup:SecurityGroup":
            name = inputs.get("name") or r.name
            need(not name.lower().startswith("sg-") and len(name) + SUFFIX <= 255, r, f"name {name!r}")
        elif kind == "aws:rds/instance:Instance":
            identifier = inputs["identifier"]
            need(len(identifier) <= 63 and RDS_IDENTIFIER.fullmatch(identifier), r, f"identifier {identifier!r}")
            snapshot = inputs.get("finalSnapshotIdentifier")
            if snapshot:
                need(len(snapshot) <= 255 and RDS_IDENTIFIER.fullmatch(snapshot), r, f"snapshot {snapshot!r}")
        elif kind in ("aws:rds/parameterGroup:ParameterGroup", "aws:rds/subnetGroup:SubnetGroup"):
            name = inputs.get("name") or r.name
            need(len(name) + SUFFIX <= 255 and RDS_IDENTIFIER.fullmatch(name), r, f"lower-case name {name!r}")
        elif kind == "aws:cloudwatch/logGroup:LogGroup":
            name = inputs.get("name") or r.name + "-1234567"
            need(bool(LOG_GROUP.fullmatch(name)), r, f"log group name {name!r}")
        elif kind == "aws:cloudwatch/dashboard:Dashboard":
            need(bool(DASHBOARD.fullmatch(inputs["dashboardName"])), r, f"dashboard {inputs['dashboardName']!r}")
        elif kind == "aws:ssm/parameter:Parameter":
            name = inputs["name"]
            first = name.strip("/").split("/")[0].lower()
            need(
                len(name) <= 1011
                and SSM_NAME.fullmatch(name)
                and not first.startswith(("aws", "ssm"))
                and name.count("/") <= 15,
                r,
                f"parameter {name!r}",
            )
        elif kind == "aws:s3/bucket:Bucket":
            prefix = inputs.get("bucketPrefix")
            if prefix:
                need(
                    len(prefix) <= 37
                    and re.fullmatch(r"[a-z0-9][a-z0-9.-]*", prefix)
                    and ".." not in prefix
                    and not prefix.startswith(S3_RESERVED_PREFIXES),
                    r,
                    f"bucket prefix {prefix!r}",
                )
            else:
                need(limits.is_s3_bucket_name(inputs.get("bucket")), r, "bucket name")
        elif kind in ("aws:iam/role:Role", "aws:iam/user:User"):
            name = inputs.get("name") or r.name
            need(
                len(name) + (0 if inputs.get("name") else SUFFIX) <= 64 and IAM_NAME.fullmatch(name),
                r,
                f"IAM name {name!r}",
            )
        elif kind in ("aws:iam/instanceProfile:InstanceProfile", "aws:iam/group:Group"):
            need(len(r.name) + SUFFIX <= 128 and IAM_NAME.fullmatch(r.name), r, "IAM name")
        elif kind == "aws:secretsmanager/secret:Secret":
            need(len(r.name) + SUFFIX <= 512 and SECRET_NAME.fullmatch(r.name), r, "secret name")
        elif kind == "aws:sns/topic:Topic":
            need(len(r.name) + SUFFIX <= 256 and SNS_TOPIC.fullmatch(r.name), r, "topic name")
        elif kind == "aws:wafv2/webAcl:WebAcl":
            need(len(r.name) + SUFFIX <= 128 and WAF_NAME.fullmatch(r.name), r, "web ACL name")
            metric = inputs["visibilityConfig"]["metricName"]
            need(len(metric) <= 128 and re.fullmatch(r"[\w#:.-]+", metric), r, f"metric name {metric!r}")
        elif kind == "aws:cloudwatch/metricAlarm:MetricAlarm":
            need(len(r.name) + SUFFIX <= 255, r, "alarm name")
        elif kind == "aws:route53/zone:Zone":
            need(limits.check_host_name(inputs["name"]) == inputs["name"], r, "zone name")
        tags = inputs.get("tags") or {}
        need(len(tags) <= 50, r, f"{len(tags)} tags")
        for key, value in tags.items():
            need(
                1 <= len(key) <= 128
                and len(value) <= 256
                and TAG_TEXT.fullmatch(key)
                and TAG_TEXT.fullmatch(value)
                and not key.lower().startswith("aws:"),
                r,
                f"tag {key}={value}",
            )
    return found


def _run(stack: str) -> Inventory:
    raw = values({"webApplicationFirewall": "true", "alarmEmail": "ops@example.com"})
    return run_program(program, raw, project=P, stack=stack, mocks=AwsMocks("eu-west-1"))


@pytest.mark.parametrize("stack", STACKS, ids=[s[:20] for s in STACKS])
def test_every_name_the_program_gives_aws_is_valid(stack):
    assert PULUMI_STACK_NAME.fullmatch(stack)
    inventory = _run(stack)
    assert _problems(inventory) == []
    label = naming.stack_label(stack)
    assert any(r.name.startswith(f"{label}-alb") for r in inventory.resources)
    assert inventory.outputs["discoveryTagValue"] == f"{P}-{label}"


def test_the_checks_catch_a_bad_name():
    """The checks above are not vacuous: a logical name AWS would refuse is reported."""
    inventory = _run("dev")
    alb = next(r for r in inventory.resources if r.type == "aws:lb/loadBalancer:LoadBalancer")
    alb.name = "internal-" + "x" * 20
    assert [p for p in _problems(inventory) if "loadBalancer" in p] == [
        f"aws:lb/loadBalancer:LoadBalancer {alb.name}: logical name for a 32-character name",
        f"aws:lb/loadBalancer:LoadBalancer {alb.name}: starts with internal-",
    ]


def _random_stack_names(count: int) -> list[str]:
    rnd = random.Random(20261125)
    alphabet = string.ascii_letters + string.digits + "_.-"
    names = {
        rnd.choice(["", "sg-", "internal-", "sthree-", "amzn-s3-demo-", "-", "xn--", "1"])
        + "".join(rnd.choice(alphabet) for _ in range(rnd.randint(1, 100)))
        for _ in range(count)
    }
    return sorted(n[:100] for n in names)


def test_the_label_and_the_names_built_from_it_are_valid():
    for stack in STACKS + MORE_STACKS + _random_stack_names(3000):
        label = naming.stack_label(stack)
        assert len(label) <= naming.LABEL_MAX and re.fullmatch(r"[a-z][a-z0-9]*(-[a-z0-9]+)*", label), label
        assert not (label + "-").startswith(("sg-", "internal-") + S3_RESERVED_PREFIXES), (stack, label)
        assert naming.stack_label(stack) == label  # stable across runs
        identifier = naming.rds_identifier(label, "0a1b2c")
        assert len(identifier) <= 63 and RDS_IDENTIFIER.fullmatch(identifier)
        assert RDS_IDENTIFIER.fullmatch(naming.final_snapshot_identifier(identifier))
        assert len(f"{label}-alb") + SUFFIX <= 32 and len(f"{label}-ws") + SUFFIX <= 32
        assert len(f"{label}-alb-logs-") <= 37
        assert DASHBOARD.fullmatch(naming.dashboard_name(P, label))
        assert LOG_GROUP.fullmatch(naming.log_group_prefix(P, label) + "/http-access")


def test_distinct_stacks_get_distinct_names():
    stacks = (
        STACKS
        + MORE_STACKS
        + _random_stack_names(3000)
        + ["my.stack", "my-stack", "my_stack", "My-Stack", "dev", "Dev", "DEV"]
    )
    stacks = sorted(set(stacks))
    labels = {naming.stack_label(s) for s in stacks}
    dashboards = {naming.dashboard_name(P, naming.stack_label(s)) for s in stacks}
    assert len(labels) == len(stacks)
    assert len(dashboards) == len(stacks)
