"""Stack configuration: bad values give one actionable line each; good stacks load."""

from __future__ import annotations

import pulumi
import pydantic
import pytest

from components.config import ClusterConfig, ConfigError, parse_config
from offline.engine import AwsMocks
from offline.program import run_stack, stack_values

P = "wso2-cluster"
CERT = "arn:aws:acm:eu-west-1:123456789012:certificate/0b6bd5a8-3c55-4f3c-9a1e-2f8d4c1e7a90"

# (overrides on top of the dev stack, the exact error line expected)
BAD = [
    ({"workerCount": "0"}, f"invalid config {P}:workerCount = 0: must be an integer from 1 to 50"),
    ({"workerCount": "51"}, f"invalid config {P}:workerCount = 51: must be an integer from 1 to 50"),
    ({"workerCount": "two"}, f"invalid config {P}:workerCount = two: must be an integer from 1 to 50"),
    ({"workerCount": "2.5"}, f"invalid config {P}:workerCount = 2.5: must be an integer from 1 to 50"),
    ({"workerCont": "3"}, f"invalid config {P}:workerCont = 3: unknown key; did you mean {P}:workerCount? (see README: Configuration)"),
    ({"aws:workerCount": "3"}, f"invalid config aws:workerCount = 3: unknown key; did you mean {P}:workerCount? (see README: Configuration)"),
    ({"wso2-clustr:workerCount": "3"}, f"invalid config wso2-clustr:workerCount = 3: unknown key; did you mean {P}:workerCount? (see README: Configuration)"),
    ({"serviceHostName": ""}, f"invalid config {P}:serviceHostName = \"\": must be a lower-case DNS host name like as.example.com"),
    ({"managerInstanceType": "t3large"}, f"invalid config {P}:managerInstanceType = t3large: must be an EC2 instance type like t3.large or m7g.xlarge"),
    ({"workerInstanceType": "t3.micro"}, f"invalid config {P}:workerInstanceType = t3.micro: must have at least 2 GiB of memory (small or larger): WSO2 AS needs a 1 GiB heap"),
    ({"architecture": "arm64"}, f"invalid config {P}:managerInstanceType = t3.medium: must be a Graviton (arm64) instance type like m7g.large when architecture is arm64\n"
                                f"invalid config {P}:workerInstanceType = t3.medium: must be a Graviton (arm64) instance type like m7g.large when architecture is arm64"),
    ({"architecture": "arm64", "managerInstanceType": "m7g.large", "workerInstanceType": "c7gn.xlarge"}, None),
    ({"architecture": "aarch64"}, f"invalid config {P}:architecture = aarch64: must be one of: x86_64, arm64"),
    ({"amiId": "ami-123"}, f"invalid config {P}:amiId = ami-123: must be an AMI id like ami-0123456789abcdef0"),
    ({"allowedClientCidrs": '["203.0.113.0/33"]'}, f'invalid config {P}:allowedClientCidrs = ["203.0.113.0/33"]: must be a list of IPv4 CIDR blocks like 203.0.113.0/24, at least 1'),
    ({"allowedClientCidrs": '["10.0.0.1/8"]'}, f'invalid config {P}:allowedClientCidrs = ["10.0.0.1/8"]: must be a list of IPv4 CIDR blocks like 203.0.113.0/24, at least 1'),
    ({"allowedClientCidrs": "[]"}, f"invalid config {P}:allowedClientCidrs = []: must be a list of IPv4 CIDR blocks like 203.0.113.0/24, at least 1"),
    ({"vpcCidr": "8.8.0.0/16"}, f"invalid config {P}:vpcCidr = 8.8.0.0/16: must be a private IPv4 CIDR block from /16 to /20, like 10.20.0.0/16"),
    ({"serviceHostName": "As_Example"}, f"invalid config {P}:serviceHostName = As_Example: must be a lower-case DNS host name like as.example.com"),
    ({"managementHostName": "as.dev.example.com"}, f"invalid config {P}:managementHostName = as.dev.example.com: must differ from serviceHostName (host-based routing tells them apart)"),
    ({"membershipScheme": "multicast"}, f"invalid config {P}:membershipScheme = multicast: must be one of: aws, wka"),
    ({"clusterPort": "4000"}, f"invalid config {P}:clusterPort = 4000: must be from 5701 to 5800 when membershipScheme is aws"),
    ({"membershipScheme": "wka", "clusterPort": "9443"}, f"invalid config {P}:clusterPort = 9443: must differ from the product's HTTP and HTTPS ports (9763/9443 + portOffset)"),
    ({"membershipScheme": "wka", "workerCount": "1", "wkaMemberCount": "3"}, f"invalid config {P}:wkaMemberCount = 3: must be at most the number of nodes, workerCount + 1 = 2"),
    ({"wkaMemberCount": "1"}, f"invalid config {P}:wkaMemberCount = 1: must be an integer from 2 to 5"),
    ({"discoveryCredentials": "iamRole"}, f"invalid config {P}:discoveryCredentials = iamRole: must be one of: accessKey, instanceRole"),
    ({"portOffset": "-1"}, f"invalid config {P}:portOffset = -1: must be an integer from 0 to 1000"),
    ({"vpcId": "vpc-0123456789abcdef0", "publicSubnetIds": '["subnet-01234567"]', "privateSubnetIds": '["subnet-0123456a", "subnet-0123456b"]'},
     f'invalid config {P}:publicSubnetIds = ["subnet-01234567"]: must list at least 2 subnets when vpcId is set'),
    ({"privateSubnetIds": '["subnet-0123456a", "subnet-0123456b"]'}, f'invalid config {P}:privateSubnetIds = ["subnet-0123456a", "subnet-0123456b"]: needs vpcId (the subnets of an existing VPC)'),
    ({"vpcId": "vpc-12"}, f"invalid config {P}:vpcId = vpc-12: must be a VPC id like vpc-0123456789abcdef0"),
    ({"deploymentSynchronizer": "svn", "svnUrl": "https://svn.example.com/repo", "svnUser": "wso2"}, f"invalid config {P}:svnPassword = (not set): required when deploymentSynchronizer is svn"),
    ({"svnUrl": "https://svn.example.com/repo"}, f"invalid config {P}:svnUrl = https://svn.example.com/repo: only used when deploymentSynchronizer is svn"),
    ({"deploymentSynchronizer": "git"}, f"invalid config {P}:deploymentSynchronizer = git: must be one of: none, svn"),
    ({"selfSignedCertificate": "false"}, f"invalid config {P}:certificateArn = (not set): required for the HTTPS listener unless selfSignedCertificate is true"),
    ({"selfSignedCertificate": "yes"}, f"invalid config {P}:selfSignedCertificate = yes: must be true or false"),
    ({"certificateArn": CERT}, f"invalid config {P}:selfSignedCertificate = true: must be false when certificateArn is set"),
    ({"selfSignedCertificate": "false", "certificateArn": CERT.replace("eu-west-1", "us-east-1")},
     f"invalid config {P}:certificateArn = {CERT.replace('eu-west-1', 'us-east-1')}: must be a certificate in the stack's region eu-west-1 (an ALB uses certificates of its region)"),
    ({"accessLogs": "false", "accessLogsBucket": "my-alb-logs"}, f"invalid config {P}:accessLogsBucket = my-alb-logs: only used when accessLogs is true"),
    ({"httpMode": "both"}, f"invalid config {P}:httpMode = both: must be one of: redirect, forward"),
    ({"workerHealthCheckPath": "health"}, f"invalid config {P}:workerHealthCheckPath = health: must be a URL path starting with /"),
    ({"dbEngineVersion": "5.7"}, f"invalid config {P}:dbEngineVersion = 5.7: must be a MySQL version 8.4[.x] or 8.0[.x]"),
    ({"dbInstanceClass": "t4g.micro"}, f"invalid config {P}:dbInstanceClass = t4g.micro: must be an RDS instance class like db.t4g.medium"),
    ({"dbAllocatedStorageGb": "10"}, f"invalid config {P}:dbAllocatedStorageGb = 10: must be an integer from 20 to 65536"),
    ({"dbAllocatedStorageGb": "200"}, f"invalid config {P}:dbMaxAllocatedStorageGb = 100: must be at least dbAllocatedStorageGb"),
    ({"dbBackupRetentionDays": "0"}, f"invalid config {P}:dbBackupRetentionDays = 0: must be an integer from 1 to 35"),
    ({"dbUsername": "admin"}, f"invalid config {P}:dbUsername = admin: must not be a name RDS MySQL reserves (admin, rdsadmin, root, mysql)"),
    ({"dbPassword": "has/slash-in-it"}, f"invalid config {P}:dbPassword = [secret]: must be 8 to 41 printable ASCII characters other than / @ \" ' and space"),
    ({"productArtifactUrl": "http://example.com/wso2as-5.3.0.zip"}, f"invalid config {P}:productArtifactUrl = http://example.com/wso2as-5.3.0.zip: must be an s3://bucket/key URI or an https:// URL of the file"),
    ({"productArtifactUrl": None}, f"invalid config {P}:productArtifactUrl = (not set): required: the s3:// or https:// location of the WSO2 AS zip"),
    ({"productArtifactSha256": "abc"}, f"invalid config {P}:productArtifactSha256 = abc: must be a SHA-256 hex digest (64 lower-case hex characters)"),
    ({"tags": '["team"]'}, f'invalid config {P}:tags = ["team"]: must be a list of KEY=VALUE tags'),
    ({"tags": '["aws:owner=me"]'}, f'invalid config {P}:tags = ["aws:owner=me"]: must be a list of KEY=VALUE tags'),
    ({"aws:region": "Ireland"}, "invalid config aws:region = Ireland: must be an AWS region name like eu-west-1"),
    ({"clusterDomain": "wso2 domain"}, f"invalid config {P}:clusterDomain = wso2 domain: must be 1 to 100 letters, digits, dots, underscores or hyphens"),
]


@pytest.mark.parametrize("overrides,expected", BAD, ids=[next(iter(o)) + "-" + str(i) for i, (o, _) in enumerate(BAD)])
def test_bad_value_gives_one_line_naming_key_value_and_what_is_allowed(overrides, expected):
    if expected is None:  # the good twin of the case before it
        parse_config(stack_values("dev", overrides).values)
        return
    with pytest.raises(ConfigError) as raised:
        parse_config(stack_values("dev", overrides).values)
    assert str(raised.value) == expected


def test_every_problem_is_reported_on_its_own_line():
    values = stack_values("dev", {"workerCount": "0", "httpMode": "both", "workerCont": "1"}).values
    with pytest.raises(ConfigError) as raised:
        parse_config(values)
    assert str(raised.value).splitlines() == [
        f"invalid config {P}:httpMode = both: must be one of: redirect, forward",
        f"invalid config {P}:workerCont = 1: unknown key; did you mean {P}:workerCount? (see README: Configuration)",
        f"invalid config {P}:workerCount = 0: must be an integer from 1 to 50",
    ]


def test_a_secret_value_is_never_echoed():
    values = stack_values("dev", {"dbPassword": "not valid because of spaces"}).values
    with pytest.raises(ConfigError) as raised:
        parse_config(values)
    assert "spaces" not in str(raised.value) and "[secret]" in str(raised.value)


def test_a_newline_in_a_value_stays_on_one_line():
    with pytest.raises(ConfigError) as raised:
        parse_config(stack_values("dev", {"clusterDomain": "a\ninjected line"}).values)
    assert len(str(raised.value).splitlines()) == 1


def test_keys_of_other_namespaces_are_left_to_their_providers():
    config = parse_config(stack_values("dev", {"aws:profile": "ops", "tls:anything": "x"}).values)
    assert config.region == "eu-west-1"


class CountingMocks(AwsMocks):
    def __init__(self):
        super().__init__()
        self.declared: list[str] = []

    def new_resource(self, args):
        self.declared.append(args.typ)
        return super().new_resource(args)


@pytest.mark.parametrize("overrides", [{"workerCount": "0"}, {"workerCont": "3"}, {"clusterPort": "4000"},
                                       {"vpcId": "vpc-0123456789abcdef0"}, {"productArtifactUrl": None}])
def test_invalid_config_stops_the_program_before_any_resource(overrides):
    mocks = CountingMocks()
    with pytest.raises(ConfigError) as raised:
        run_stack("dev", overrides, mocks=mocks)
    assert isinstance(raised.value, pulumi.RunError)  # the CLI prints a RunError without a traceback
    assert mocks.declared == []
    # The same mocks do see resources when the config is good, so the count above means something.
    run_stack("dev", mocks=mocks)
    assert "aws:ec2/instance:Instance" in mocks.declared


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_stack_files_load_into_the_model(stack):
    config = parse_config(stack_values(stack).values)
    assert isinstance(config, ClusterConfig)
    if stack == "dev":
        assert (config.worker_count, config.self_signed_certificate, config.http_mode) == (2, True, "forward")
        assert (config.db_deletion_protection, config.db_skip_final_snapshot) == (False, True)
        assert config.load_balancer_deletion_protection is False
    else:
        assert config.certificate_arn and config.http_mode == "redirect" and config.nat_gateways == "perAz"
        assert (config.db_multi_az, config.db_deletion_protection, config.db_skip_final_snapshot) == (True, True, False)
        assert config.db_backup_retention_days >= 7


def test_config_is_immutable():
    config = parse_config(stack_values("dev").values)
    with pytest.raises(pydantic.ValidationError, match="frozen"):
        config.worker_count = 3  # type: ignore[misc]
