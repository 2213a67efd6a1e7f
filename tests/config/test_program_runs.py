"""The real program under the offline engine: a rejected configuration declares nothing; an
accepted one at the limits runs to completion, with every ARN in the region's partition.

Each run costs about a second, so these are samples; test_adversarial.py covers the values.
"""

from __future__ import annotations

import base64
import json

import pulumi
import pytest

from components import aws_facts
from components.config.schema import ConfigError
from offline.program import run_stack
from tests.config.support import (
    CERT,
    LINE,
    SHA_A,
    SHA_C,
    SVN,
    CountingMocks,
    PartitionMocks,
    host_of_length,
    url_of_length,
)
from userdata import limits

INSTANCE = "aws:ec2/instance:Instance"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
LISTENER_RULE = "aws:lb/listenerRule:ListenerRule"

# --- 4. nothing declared ------------------------------------------------------------------------

REJECTED = [
    pytest.param("dev", {"workerCount": "0"}, id="single-key"),
    pytest.param("dev", {"workerCont": "3"}, id="unknown-key"),
    pytest.param("dev", {"productArtifactUrl": None}, id="required-key"),
    pytest.param("dev", {"clusterPort": "4000"}, id="cross-key"),
    pytest.param("dev", {"vpcId": "vpc-0123456789abcdef0"}, id="existing-vpc-without-subnets"),
    pytest.param("dev", {"aws:region": "us-iso-east-1"}, id="unsupported-partition"),
    pytest.param("prod", {"aws:region": "cn-north-1"}, id="certificate-of-another-partition"),
    pytest.param("dev", {"allowedClientCidrs": [f"198.51.{i}.0/24" for i in range(31)]}, id="rules-per-group"),
    pytest.param("dev", {"tags": [f"k{i}=v" for i in range(48)]}, id="tags-per-resource"),
    pytest.param(
        "dev",
        {"aws:defaultTags": {"tags": {"a": "1", "b": "2", "c": "3"}}, "tags": [f"k{i}=v" for i in range(45)]},
        id="provider-default-tags",
    ),
    pytest.param(
        "dev",
        {"architecture": "arm64", "managerInstanceType": "a1.large", "workerInstanceType": "m7g.large"},
        id="a1-on-al2023",
    ),
    pytest.param(
        "dev", {"productArtifactUrl": "https://dl.example.com:8443/wso2as.zip"}, id="port-the-nodes-cannot-reach"
    ),
    pytest.param("dev", {"privateZoneName": "s3.amazonaws.com"}, id="zone-shadowing-s3"),
    pytest.param("prod", {"dbMaxAllocatedStorageGb": "105"}, id="autoscaling-headroom"),
    pytest.param("dev", {**SVN, "svnKitSha256": None}, id="svn-without-checksum"),
    pytest.param("dev", {"membershipScheme": "wka", "clusterPort": "9999"}, id="jmx-port"),
]


@pytest.mark.parametrize("stack,overrides", REJECTED)
def test_a_rejected_configuration_declares_nothing(stack, overrides):
    mocks = CountingMocks()
    with pytest.raises(ConfigError) as raised:
        run_stack(stack, overrides, mocks=mocks)
    assert isinstance(raised.value, pulumi.RunError)  # the CLI prints a RunError without a traceback
    assert mocks.declared == []
    assert all(LINE.fullmatch(problem) for problem in str(raised.value).split("\n"))


def test_the_same_mocks_do_count_a_good_configuration():
    mocks = CountingMocks()
    inventory = run_stack("dev", mocks=mocks)
    assert INSTANCE in mocks.declared and len(mocks.declared) > 100
    # the posture warnings (test_posture.py) are logged, and the program deploys all the same
    assert (
        "wso2-cluster:productArtifactSha256 is not set: nodes install the product zip unchecked" in inventory.warnings
    )


# --- 5. accepted configurations at the limits deploy --------------------------------------------

CN_CERT = CERT.replace("arn:aws:", "arn:aws-cn:").replace("eu-west-1", "cn-north-1")
GOV_CERT = CERT.replace("arn:aws:", "arn:aws-us-gov:").replace("eu-west-1", "us-gov-west-1")
S3_KEY_WITH_WILDCARDS = "s3://example-wso2-artifacts/builds/*/wso2as?5.3.0$.zip"
AT_THE_LIMITS = {
    "workerCount": "50",
    "maxUnavailableWorkers": "50",
    "serviceHostName": host_of_length(limits.HOST_NAME_MAX),
    "managementHostName": host_of_length(limits.HOST_NAME_MAX, "example.org"),
    "privateZoneName": host_of_length(limits.HOST_NAME_MAX, "internal"),
    "productArtifactUrl": url_of_length("s3://example-wso2-artifacts/*?$/", limits.URL_MAX),
    "productArtifactSha256": SHA_C,
    "jdbcDriverUrl": url_of_length("https://artifacts.example.com/", limits.URL_MAX, ".jar"),
    "jdbcDriverSha256": SHA_A,
    **SVN,
    "svnUrl": url_of_length("https://svn.example.com:8443/", limits.URL_MAX, ""),
    "svnUser": "u" * 64,
    "svnKitUrl": url_of_length("https://artifacts.example.com/", limits.URL_MAX, ".jar"),
    "trileadSshUrl": url_of_length("s3://example-wso2-artifacts/", limits.URL_MAX, ".jar"),
    "portOffset": str(limits.PORT_OFFSET_MAX),
    "clusterDomain": "d" * 100,
    "adminUsername": "a" * 30,
    "discoveryTagKey": "k" * 128,
    "tags": [f"t{i:02d}=" + "v" * 253 for i in range(47)],
    "allowedClientCidrs": [f"198.51.{i}.0/24" for i in range(29)],
    "managementAllowedCidrs": ["203.0.113.0/24"],
    "logRetentionDays": "3653",
    "dbAllocatedStorageGb": "20",
    "dbMaxAllocatedStorageGb": "22",
    "wafRateLimit": str(aws_facts.WAF_RATE_LIMIT_MAX),
    "webApplicationFirewall": "true",
}
ACCEPTED = [
    pytest.param("dev", "eu-west-1", AT_THE_LIMITS, id="everything-at-its-limit-svn-50-workers"),
    pytest.param(
        "dev",
        "eu-west-1",
        {
            "membershipScheme": "wka",
            "wkaMemberCount": "5",
            "workerCount": "4",
            "clusterPort": "65535",
            "productArtifactUrl": S3_KEY_WITH_WILDCARDS,
        },
        id="wka-5-members-4-workers",
    ),
    pytest.param(
        "prod",
        "eu-west-1",
        {
            "architecture": "arm64",
            "managerInstanceType": "m7g.large",
            "workerInstanceType": "t4g.small",
            "dbInstanceClass": "db.m8a.large",
            "dbEngineVersion": "8.4.11",
            "managementAllowedCidrs": [f"203.0.{i}.0/24" for i in range(20)],
        },
        id="efs-arm64-graviton-20-console-sources",
    ),
    pytest.param(
        "prod",
        "cn-north-1",
        {"aws:region": "cn-north-1", "certificateArn": CN_CERT, "membershipScheme": "wka"},
        id="aws-cn",
    ),
    pytest.param(
        "dev",
        "cn-northwest-1",
        {"aws:region": "cn-northwest-1", "membershipScheme": "wka", "discoveryCredentials": "instanceRole"},
        id="aws-cn-dev",
    ),
    pytest.param(
        "prod",
        "us-gov-west-1",
        {"aws:region": "us-gov-west-1", "certificateArn": GOV_CERT, "discoveryCredentials": "instanceRole"},
        id="aws-us-gov",
    ),
    pytest.param("dev", "me-central-1", {"aws:region": "me-central-1", **SVN}, id="region-opened-since-2022"),
    pytest.param(
        "dev",
        "il-central-1",
        {"aws:region": "il-central-1", "accessLogsBucket": "my-alb-logs"},
        id="region-since-2022-existing-log-bucket",
    ),
]


_RUNS: dict = {}


def _run(stack, region, overrides):
    """The program's inventory for the stack and overrides (each configuration runs once)."""
    key = (stack, region, json.dumps(overrides, sort_keys=True))
    if key not in _RUNS:
        _RUNS[key] = run_stack(stack, overrides, mocks=PartitionMocks(region))
    return _RUNS[key]


def _accepted(case_id):
    (case,) = [p for p in ACCEPTED if p.id == case_id]
    return case.values


@pytest.mark.parametrize("stack,region,overrides", ACCEPTED)
def test_an_accepted_configuration_deploys(stack, region, overrides):
    inventory = _run(stack, region, overrides)
    partition = aws_facts.partition_of(region).name

    # every ARN the program builds is in the region's partition
    if partition != "aws":
        offenders = sorted({r.name for r in inventory.resources if "arn:aws:" in json.dumps(r.inputs)})
        assert offenders == []
        assert any(f"arn:{partition}:" in json.dumps(r.inputs) for r in inventory.resources)

    # every resource within AWS's tag quota, the user data within EC2's
    for resource in inventory.resources:
        for tags in (
            resource.inputs.get("tags") or {},
            (resource.inputs.get("rootBlockDevice") or {}).get("tags") or {},
        ):
            assert len(tags) <= aws_facts.MAX_TAGS_PER_RESOURCE, resource.name
    instances = inventory.of_type(INSTANCE)
    assert len(instances) == int(overrides.get("workerCount", 4 if stack == "prod" else 2)) + 1
    for instance in instances:
        assert len(base64.b64decode(instance.inputs["userDataBase64"])) <= limits.EC2_USER_DATA_LIMIT


def test_at_the_limits_the_quotas_are_met_exactly():
    inventory = _run("dev", "eu-west-1", AT_THE_LIMITS)
    alb_ingress = [r for r in inventory.of_type(INGRESS) if "-alb-in-" in r.name]
    assert len(alb_ingress) == aws_facts.SECURITY_GROUP_RULES_PER_DIRECTION  # 30 sources x (80, 443)
    nodes = inventory.of_type(INSTANCE)
    assert {len(n.inputs["tags"]) for n in nodes} == {aws_facts.MAX_TAGS_PER_RESOURCE}  # 47 + Name, role, discovery


def test_s3_keys_with_iam_wildcards_are_granted_literally():
    """s3://bucket/builds/*/wso2as?5.3.0$.zip: IAM must read * ? $ as themselves (${*} ${?} ${$})."""
    inventory = _run(*_accepted("wka-5-members-4-workers"))
    resources = set()
    for policy in inventory.of_type(ROLE_POLICY):
        for statement in json.loads(policy.inputs["policy"])["Statement"]:
            if statement.get("Sid") == "ReadArtifacts":
                resources.update(
                    [statement["Resource"]] if isinstance(statement["Resource"], str) else statement["Resource"]
                )
    assert "arn:aws:s3:::example-wso2-artifacts/builds/${*}/wso2as${?}5.3.0${$}.zip" in resources
    assert not any("/*/" in r or "?" in r.replace("${?}", "") for r in resources)


def _log_delivery_principals(inventory) -> list:
    (policy,) = inventory.of_type(BUCKET_POLICY)
    statements = json.loads(policy.inputs["policy"])["Statement"]
    return [s["Principal"] for s in statements if s["Effect"] == "Allow"]


@pytest.mark.parametrize("case_id", ["region-opened-since-2022", "eu-central-2"])
def test_in_a_region_opened_since_2022_only_the_log_delivery_service_may_write_the_logs(case_id):
    stack, region, overrides = (
        _accepted(case_id) if case_id != "eu-central-2" else ("dev", "eu-central-2", {"aws:region": "eu-central-2"})
    )
    assert aws_facts.elb_log_account(region) is None
    inventory = _run(stack, region, overrides)
    assert _log_delivery_principals(inventory) == [{"Service": aws_facts.ELB_LOG_DELIVERY_SERVICE}]


@pytest.mark.parametrize("case_id", ["wka-5-members-4-workers", "aws-cn", "aws-us-gov"])
def test_in_an_older_region_the_regions_elb_account_may_write_too(case_id):
    stack, region, overrides = _accepted(case_id)
    partition = aws_facts.partition_of(region).name
    inventory = _run(stack, region, overrides)
    principals = _log_delivery_principals(inventory)
    account = aws_facts.elb_log_account(region)
    assert {"AWS": f"arn:{partition}:iam::{account}:root"} in principals
    assert all(
        p == {"Service": aws_facts.ELB_LOG_DELIVERY_SERVICE} or p == {"AWS": f"arn:{partition}:iam::{account}:root"}
        for p in principals
    )


def test_20_console_sources_fit_the_listener_rules():
    inventory = _run(*_accepted("efs-arm64-graviton-20-console-sources"))
    rules = [r for r in inventory.of_type(LISTENER_RULE) if "-https-management" in r.name and "deny" not in r.name]
    assert len(rules) == 5
    for rule in rules:
        values = [
            v
            for c in rule.inputs["conditions"]
            for v in (c.get("hostHeader") or {}).get("values", []) + (c.get("sourceIp") or {}).get("values", [])
        ]
        assert len(values) <= aws_facts.ALB_CONDITION_VALUES_PER_RULE
