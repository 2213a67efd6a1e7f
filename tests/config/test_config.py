"""Stack configuration: bad values give one actionable line each; good stacks load, typed.

The large table of adversarial configurations is in test_adversarial.py; this file keeps the
everyday messages, the defaults of every key, and how values are read and shown.
"""

from __future__ import annotations

import pydantic
import pytest

from components.config.load import parse_config
from components.config.schema import DEFAULT_JDBC_DRIVER_URL, ClusterConfig, ConfigError
from tests.config.support import CERT, LINE, SHA_A, SHA_B, SVN, P, line, parse, problems, values
from userdata import limits

HOST = "must be a lower-case DNS host name like as.example.com, at most 128 characters"
URL = f"must be an s3://bucket/key URI or an https:// URL of the file (at most {limits.URL_MAX} characters, no spaces)"
RESERVED_USER = "must not be an RDS account name (rdsadmin, rdsrepladmin, rdsproxyadmin) or a MySQL reserved word"
UNKNOWN = f"unknown key; did you mean {P}:workerCount? (see README: Configuration)"

# (overrides on top of the dev stack, the exact problem lines expected; [] when accepted)
EVERYDAY = [
    ({"workerCount": "0"}, [line("workerCount", "0", "must be an integer from 1 to 50")]),
    ({"workerCount": "two"}, [line("workerCount", "two", "must be an integer from 1 to 50")]),
    ({"workerCont": "3"}, [line("workerCont", "3", UNKNOWN)]),
    ({"aws:workerCount": "3"}, [line("aws:workerCount", "3", UNKNOWN)]),
    ({"wso2-clustr:workerCount": "3"}, [line("wso2-clustr:workerCount", "3", UNKNOWN)]),
    ({"serviceHostName": ""}, [line("serviceHostName", "", HOST)]),
    ({"serviceHostName": "As_Example"}, [line("serviceHostName", "As_Example", HOST)]),
    (
        {"managementHostName": "as.dev.example.com"},
        [
            line(
                "managementHostName",
                "as.dev.example.com",
                "must differ from serviceHostName (host-based routing tells them apart)",
            )
        ],
    ),
    ({"membershipScheme": "multicast"}, [line("membershipScheme", "multicast", "must be one of: aws, wka")]),
    ({"clusterPort": "4000"}, [line("clusterPort", "4000", "must be from 5701 to 5800 when membershipScheme is aws")]),
    ({"deploymentSynchronizer": "git"}, [line("deploymentSynchronizer", "git", "must be one of: none, efs, svn")]),
    (
        {"selfSignedCertificate": "false"},
        [line("certificateArn", None, "required for the HTTPS listener unless selfSignedCertificate is true")],
    ),
    ({"certificateArn": CERT}, [line("selfSignedCertificate", "true", "must be false when certificateArn is set")]),
    (
        {"workerHealthCheckPath": "health"},
        [line("workerHealthCheckPath", "health", "must be a URL path starting with /, at most 1024 characters")],
    ),
    ({"dbUsername": "rdsadmin"}, [line("dbUsername", "rdsadmin", RESERVED_USER)]),
    ({"dbUsername": "select"}, [line("dbUsername", "select", RESERVED_USER)]),
    ({"dbUsername": "admin"}, []),  # RDS's own console default; not a reserved word since MySQL 8.0.12
    (
        {"dbAppUsername": "wso2admin"},
        [
            line(
                "dbAppUsername",
                "wso2admin",
                "must differ from dbUsername (the datasources must not use the master user)",
            )
        ],
    ),
    (
        {"productArtifactUrl": "http://example.com/wso2as-5.3.0.zip"},
        [line("productArtifactUrl", "http://example.com/wso2as-5.3.0.zip", URL)],
    ),
    (
        {"productArtifactUrl": None},
        [line("productArtifactUrl", None, "required: the s3:// or https:// location of the WSO2 AS zip")],
    ),
    (
        {"aws:region": None},
        [line("aws:region", None, "required: set it with `pulumi config set aws:region eu-west-1` (or AWS_REGION)")],
    ),
    (
        {"logRetentionDays": "31"},
        [
            line(
                "logRetentionDays",
                "31",
                "must be one of CloudWatch Logs' retention periods: 1, 3, 5, 7, 14, 30, 60, 90, "
                "120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653",
            )
        ],
    ),
    (
        {"workerHeapMb": "3072"},
        [
            line(
                "workerHeapMb",
                "3072",
                "must be at most 2816 on t3.medium (4096 MiB): the OS, the agents and the JVM's "
                "non-heap memory need the rest",
            )
        ],
    ),
    ({"workerHeapMb": "2816"}, []),
    ({"managerHeapMb": "256"}, [line("managerHeapMb", "256", "must be an integer from 512 to 31744")]),
    (
        {"workerInstanceType": "g3.4xlarge"},
        [line("workerHeapMb", None, "required: the memory of g3.4xlarge is not in this release's table")],
    ),
    (
        {"workerInstanceType": "g3.4xlarge", "workerHeapMb": "65536"},
        [line("workerHeapMb", "65536", "must be an integer from 512 to 31744")],
    ),
    ({"workerInstanceType": "g3.4xlarge", "workerHeapMb": "8192"}, []),
    (
        {"deploymentSynchronizer": "svn", **{k: v for k, v in SVN.items() if k != "svnKitSha256"}},
        [
            line(
                "svnKitSha256",
                None,
                "required when deploymentSynchronizer is svn (nodes refuse a jar they cannot check)",
            )
        ],
    ),
]


@pytest.mark.parametrize(
    "overrides,expected", EVERYDAY, ids=[f"{next(iter(o))}-{i}" for i, (o, _) in enumerate(EVERYDAY)]
)
def test_everyday_mistakes_give_one_line_naming_key_value_and_what_is_allowed(overrides, expected):
    assert problems(overrides) == expected


def test_every_key_has_its_documented_default():
    config = parse({"aws:region": "eu-west-1", "productArtifactUrl": "s3://b-1/wso2as-5.3.0.zip"}, stack="dev")
    # the dev stack sets some keys; these it leaves to the defaults
    assert config.worker_health_check_path == "/services/Version"
    assert config.manager_health_check_path == "/carbon/admin/login.jsp"
    assert config.max_unavailable_workers is None and config.max_unavailable == 1
    assert config.node_health_timeout_minutes == 20
    assert config.management_allowed_cidrs == ()
    assert config.worker_stickiness_seconds == 0 and config.manager_stickiness_seconds == 3600
    assert (config.web_application_firewall, config.waf_rate_limit) == (False, 2000)
    assert (config.db_username, config.db_app_username, config.db_allow_replacement) == ("wso2admin", "wso2app", False)
    assert (config.admin_username, config.admin_password) == ("admin", None)
    assert config.deployment_synchronizer == "none"
    assert config.jdbc_driver_url == DEFAULT_JDBC_DRIVER_URL
    assert config.svn_kit_url.startswith("https://") and config.trilead_ssh_url.startswith("https://")
    assert (config.svn_kit_sha256, config.trilead_ssh_sha256) == (None, None)
    assert config.alarm_email is None
    assert config.db_engine_version == "8.4" and config.private_zone_name == "wso2.internal"


def test_new_keys_take_their_values():
    config = parse(
        {
            "workerCount": "8",
            "maxUnavailableWorkers": "3",
            "nodeHealthTimeoutMinutes": "45",
            "managementAllowedCidrs": '["203.0.113.0/24", "198.51.100.7/32"]',
            "workerStickinessSeconds": "600",
            "webApplicationFirewall": "true",
            "wafRateLimit": "500",
            "dbAppUsername": "wso2_app",
            "dbAllowReplacement": "true",
            "adminUsername": "wso2.ops",
            "adminPassword": "Adm1n-Pass-2026",
            "logRetentionDays": "365",
            "alarmEmail": "ops@example.com",
            **SVN,
            "svnKitUrl": "s3://example-wso2-artifacts/svnkit-all-1.8.7.wso2v1.jar",
            "trileadSshUrl": "https://artifacts.example.com/trilead-ssh2-1.0.0-build215.jar",
        }
    )
    assert (config.max_unavailable_workers, config.max_unavailable, config.node_health_timeout_minutes) == (3, 3, 45)
    assert config.management_allowed_cidrs == ("203.0.113.0/24", "198.51.100.7/32")
    assert (config.worker_stickiness_seconds, config.web_application_firewall, config.waf_rate_limit) == (
        600,
        True,
        500,
    )
    assert (config.db_app_username, config.db_allow_replacement, config.admin_username) == (
        "wso2_app",
        True,
        "wso2.ops",
    )
    assert config.admin_password.get_secret_value() == "Adm1n-Pass-2026"
    assert (config.log_retention_days, config.alarm_email) == (365, "ops@example.com")
    assert (config.svn_kit_sha256, config.trilead_ssh_sha256) == (SHA_A, SHA_B)
    assert config.svn_kit_url.startswith("s3://")


def test_efs_deployment_synchronizer_needs_no_svn_key():
    assert parse({"deploymentSynchronizer": "efs"}).deployment_synchronizer == "efs"


def test_values_have_the_types_the_provider_schema_expects():
    """The CLI passes strings; the model holds ints and bools (e.g. LogGroup.retentionInDays is an integer)."""
    config = parse({"logRetentionDays": "90", "wafRateLimit": "100", "dbMultiAz": "TRUE", "portOffset": "+5"})
    assert type(config.log_retention_days) is int and config.log_retention_days == 90
    assert type(config.waf_rate_limit) is int and type(config.port_offset) is int and config.port_offset == 5
    assert config.db_multi_az is True
    for name, field in ClusterConfig.model_fields.items():
        value = getattr(config, name)
        assert value is None or isinstance(value, (int, bool, str, tuple, pydantic.SecretStr)), name


def test_every_problem_is_reported_on_its_own_line():
    assert problems({"workerCount": "0", "httpMode": "both", "workerCont": "1"}) == [
        line("httpMode", "both", "must be one of: redirect, forward"),
        line("workerCont", "1", UNKNOWN),
        line("workerCount", "0", "must be an integer from 1 to 50"),
    ]


@pytest.mark.parametrize(
    "key,value,others",
    [
        ("dbPassword", "not valid because of spaces", {}),
        ("adminPassword", "has a space", {}),
        ("svnPassword", "", {k: v for k, v in SVN.items() if k != "svnPassword"}),
    ],
)
def test_a_secret_value_is_never_echoed(key, value, others):
    found = problems({key: value, **others})
    assert found == [line(key, "[secret]", found[0].split(": ", 1)[1])]
    assert not value or value not in found[0]


@pytest.mark.parametrize("key", ["dbPassword", "adminPassword", "svnPassword"])
def test_a_secret_key_set_in_plain_text_is_refused_in_one_line(key):
    """The stack holds these encrypted (`pulumi config set --secret`); plain text is refused, as
    the CLI refuses a plain value for a key it knows is secret. Encrypted, the same value passes."""
    given = {key: "Plain-text-pw-1", **({k: v for k, v in SVN.items() if k != key} if key == "svnPassword" else {})}
    assert problems(given, secret_keys=set()) == [
        line(key, "[secret]", f"must be encrypted: set it with `pulumi config set --secret {key}`")
    ]
    assert problems(given, secret_keys={f"{P}:{key}"}) == []


@pytest.mark.parametrize("value", ["a\ninjected line", "a\rb", "a\u2028b", "a\x85b", "a\x00b"])
def test_a_line_break_in_a_value_stays_on_one_line(value):
    found = problems({"clusterDomain": value})
    assert len(found) == 1 and len("\n".join(found).splitlines()) == 1
    assert LINE.fullmatch(found[0])


def test_keys_of_other_namespaces_are_left_to_their_providers():
    config = parse({"aws:profile": "ops", "tls:anything": "x", "aws:skipMetadataApiCheck": "false"})
    assert config.region == "eu-west-1"


def test_a_value_of_an_unexpected_type_is_one_line_not_a_traceback():
    raw = values()
    raw.update({f"{P}:productArtifactSha256": 12345, f"{P}:tags": {"a": "b"}, f"{P}:serviceHostName": ["x"]})
    with pytest.raises(ConfigError) as raised:
        parse_config(raw)
    assert [LINE.fullmatch(p).group("key") for p in str(raised.value).split("\n")] == [
        f"{P}:productArtifactSha256",
        f"{P}:serviceHostName",
        f"{P}:tags",
    ]


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_stack_files_load_into_the_model(stack):
    config = parse(stack=stack)
    assert isinstance(config, ClusterConfig)
    if stack == "dev":
        assert (config.worker_count, config.self_signed_certificate, config.http_mode) == (2, True, "forward")
        assert (config.db_deletion_protection, config.db_skip_final_snapshot) == (False, True)
        assert config.load_balancer_deletion_protection is False and not config.prod_like
    else:
        assert config.certificate_arn and config.http_mode == "redirect" and config.nat_gateways == "perAz"
        assert (config.db_multi_az, config.db_deletion_protection, config.db_skip_final_snapshot) == (True, True, False)
        assert config.db_backup_retention_days >= 7 and config.prod_like
        assert config.deployment_synchronizer == "efs" and config.web_application_firewall
        assert config.management_allowed_cidrs == ("203.0.113.0/24",)


def test_config_is_immutable():
    config = parse()
    with pytest.raises(pydantic.ValidationError, match="frozen"):
        config.worker_count = 3  # type: ignore[misc]


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_helper_reads_a_stack_as_the_offline_program_does(stack):
    from offline.program import stack_values

    overrides = {"workerCount": "3", "tags": ["a=b"], "aws:region": "us-east-1", "productArtifactUrl": None}
    assert values(overrides, stack) == stack_values(stack, overrides).values
