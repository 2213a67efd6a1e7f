"""What AWS accepts: regions and partitions, instance types, RDS MySQL versions and classes,
reserved names, quotas. The configuration is checked against these before anything is declared.

Where a library already ships the data, it comes from there: regions, partitions and their DNS
suffixes from botocore's `partitions.json`, EC2 instance types from botocore's EC2 model. Where
none does, the data is a small list here, dated, with its source; refresh it from the source.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Optional

import botocore.loaders

SUBNET_ID = r"subnet-[0-9a-f]{8}([0-9a-f]{9})?"

# --- quotas (AWS docs; default quotas where they are adjustable) --------------------------------

MAX_TAGS_PER_RESOURCE = 50  # "Tag your Amazon EC2 resources" / every service's tag limits
TAG_KEY_MAX, TAG_VALUE_MAX = 128, 256
# Characters every tagging service accepts (ELB, RDS, IAM, S3 and others are stricter than EC2):
# Java's ^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$, Unicode letters, separators and numbers.
_TAG_SYMBOLS = frozenset("_.:/=+-@")
# Prefixes AWS reserves: aws: for keys everywhere; RDS, which gets the stack's tags, refuses
# aws: and rds: at the start of a key or a value (RDS API, Tag). Compared ignoring case.
RESERVED_TAG_PREFIXES = ("aws:", "rds:")
SECURITY_GROUP_RULES_PER_DIRECTION = 60  # "Amazon VPC quotas": inbound or outbound rules per group
ALB_CONDITION_VALUES_PER_RULE = 5  # "Quotas for your Application Load Balancers"
WAF_RATE_LIMIT_MIN, WAF_RATE_LIMIT_MAX = 10, 2_000_000_000  # WAFv2 RateBasedStatement.Limit
# CloudWatch Logs PutRetentionPolicy: the values retentionInDays accepts.
LOG_RETENTION_DAYS = (
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
)


def _is_tag_text(text: str) -> bool:
    return all(c in _TAG_SYMBOLS or unicodedata.category(c)[0] in "LNZ" for c in text)


def check_tag_key(key: object) -> str:
    if (
        not isinstance(key, str)
        or not 1 <= len(key) <= TAG_KEY_MAX
        or not _is_tag_text(key)
        or key.lower().startswith("aws:")
    ):
        raise ValueError(
            f"must be a tag key of 1 to {TAG_KEY_MAX} letters, digits, spaces or _ . : / = + - @, "
            "not starting with aws:"
        )
    return key


def check_tag(key: str, value: str) -> None:
    """A tag of the stack's own, which every resource gets, the database included."""
    if not 1 <= len(key) <= TAG_KEY_MAX or not _is_tag_text(key) or key.lower().startswith(RESERVED_TAG_PREFIXES):
        raise ValueError(
            f"a tag must be KEY=VALUE, the key 1 to {TAG_KEY_MAX} letters, digits, spaces or "
            "_ . : / = + - @, not starting with aws: or rds:"
        )
    if len(value) > TAG_VALUE_MAX or not _is_tag_text(value) or value.lower().startswith(RESERVED_TAG_PREFIXES):
        raise ValueError(
            f"a tag value must be at most {TAG_VALUE_MAX} letters, digits, spaces or _ . : / = + - @, "
            "not starting with aws: or rds:"
        )


def check_log_retention(value: object) -> int:
    text = str(value).strip()
    if isinstance(value, bool) or not text.isdigit() or int(text) not in LOG_RETENTION_DAYS:
        raise ValueError(
            "must be one of CloudWatch Logs' retention periods: " + ", ".join(str(d) for d in LOG_RETENTION_DAYS)
        )
    return int(text)


# --- regions and partitions (botocore) ----------------------------------------------------------

# Partitions this program deploys to: the others lack services it uses (e.g. WAFv2, the public
# AL2023 SSM parameter) or their ARNs and endpoints are not known to hold for it.
SUPPORTED_PARTITIONS = ("aws", "aws-cn", "aws-us-gov")


@dataclass(frozen=True)
class Partition:
    name: str  # "aws", "aws-cn", "aws-us-gov"
    dns_suffix: str  # "amazonaws.com", "amazonaws.com.cn"

    def arn(self, service: str, region: str, account: str, resource: str) -> str:
        return f"arn:{self.name}:{service}:{region}:{account}:{resource}"


@lru_cache(maxsize=None)
def _partitions() -> list[dict]:
    """botocore's partitions.json: every partition, its regions and DNS suffixes."""
    return botocore.loaders.Loader().load_data("partitions")["partitions"]


@lru_cache(maxsize=None)
def _regions() -> dict[str, Partition]:
    regions = {}
    for partition in _partitions():
        for region in partition["regions"]:
            if not region.endswith("-global"):
                regions[region] = Partition(partition["id"], partition["outputs"]["dnsSuffix"])
    return regions


def partition_of(region: str) -> Partition:
    return _regions()[region]


def check_region(value: object) -> str:
    regions = _regions()
    if not isinstance(value, str) or value not in regions:
        raise ValueError("must be an AWS region name like eu-west-1 (one botocore knows)")
    partition = regions[value].name
    if partition not in SUPPORTED_PARTITIONS:
        raise ValueError(f"is in partition {partition}; this program deploys to " + ", ".join(SUPPORTED_PARTITIONS))
    return value


def check_certificate_arn(value: object) -> str:
    if not isinstance(value, str) or not re.fullmatch(
        r"arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
        value,
    ):
        raise ValueError("must be an ACM certificate ARN like arn:aws:acm:eu-west-1:123456789012:certificate/<uuid>")
    return value


def certificate_region_problem(arn: str, region: str) -> Optional[str]:
    _, partition, _, cert_region = arn.split(":")[:4]
    if cert_region != region:
        return f"must be a certificate in the stack's region {region} (an ALB uses certificates of its region)"
    if partition != partition_of(region).name:
        return f"must be an ARN of partition {partition_of(region).name}, the partition of {region}"
    return None


# Elastic Load Balancing's account per region, for access-log bucket policies. Regions opened
# since August 2022 have none: they deliver as the service principal below.
# Source: AWS ELB user guide, "Enable access logs for your Application Load Balancer" (Step 2),
# and terraform-provider-aws internal/service/elb/service_account_data_source.go. As of 2026-11.
ELB_LOG_DELIVERY_SERVICE = "logdelivery.elasticloadbalancing.amazonaws.com"
ELB_LOG_ACCOUNTS = {
    "us-east-1": "127311923021",
    "us-east-2": "033677994240",
    "us-west-1": "027434742980",
    "us-west-2": "797873946194",
    "af-south-1": "098369216593",
    "ap-east-1": "754344448648",
    "ap-south-1": "718504428378",
    "ap-northeast-1": "582318560864",
    "ap-northeast-2": "600734575887",
    "ap-northeast-3": "383597477331",
    "ap-southeast-1": "114774131450",
    "ap-southeast-2": "783225319266",
    "ap-southeast-3": "589379963580",
    "ca-central-1": "985666609251",
    "eu-central-1": "054676820928",
    "eu-west-1": "156460612806",
    "eu-west-2": "652711504416",
    "eu-west-3": "009996457667",
    "eu-south-1": "635631232127",
    "eu-north-1": "897822967062",
    "me-south-1": "076674570225",
    "sa-east-1": "507241528517",
    "us-gov-west-1": "048591011584",
    "us-gov-east-1": "190560391635",
    "cn-north-1": "638102146993",
    "cn-northwest-1": "037604701340",
}


def elb_log_account(region: str) -> Optional[str]:
    return ELB_LOG_ACCOUNTS.get(region)


# Route 53 private zones that would hide AWS's own names from the nodes (AWS APIs, S3, the
# instances' own DNS names), so that no boot could reach Secrets Manager, S3 or the package
# mirrors. A zone equal to, inside or above one of these is refused.
AWS_DOMAINS = (
    "amazonaws.com",
    "amazonaws.com.cn",
    "api.aws",
    "aws",
    "amazontrust.com",
    "ec2.internal",
    "compute.internal",
    "amazonlinux.com",
)


@lru_cache(maxsize=None)
def _partition_domains() -> tuple[str, ...]:
    """The DNS suffixes of the partitions this program deploys to (botocore): AWS endpoints,
    IPv4 and dual-stack (e.g. api.amazonwebservices.com.cn)."""
    return tuple(
        sorted(
            {
                partition["outputs"][key]
                for partition in _partitions()
                if partition["id"] in SUPPORTED_PARTITIONS
                for key in ("dnsSuffix", "dualStackDnsSuffix")
                if partition["outputs"].get(key)
            }
        )
    )


def private_zone_problem(zone: str, region: str) -> Optional[str]:
    extra = tuple(d for d in _partition_domains() if d not in AWS_DOMAINS)
    for domain in AWS_DOMAINS + extra + (f"{region}.compute.internal",):
        if zone == domain or zone.endswith("." + domain) or domain.endswith("." + zone):
            return f"must not shadow AWS's own domain {domain} (nodes must resolve AWS endpoints)"
    return None


# --- EC2 instance types -------------------------------------------------------------------------

# Graviton (arm64) families, from AWS's Graviton instance list and the families of botocore
# 1.44.8's EC2 InstanceType enum. As of 2026-11-25.
GRAVITON_FAMILIES = frozenset(
    {
        "a1",
        "t4g",
        "c6g",
        "c6gd",
        "c6gn",
        "c7g",
        "c7gd",
        "c7gn",
        "c8g",
        "c8gb",
        "c8gd",
        "c8gn",
        "c9g",
        "c9gd",
        "m6g",
        "m6gd",
        "m7g",
        "m7gd",
        "m8g",
        "m8gb",
        "m8gd",
        "m8gn",
        "m9g",
        "m9gd",
        "r6g",
        "r6gd",
        "r7g",
        "r7gd",
        "r8g",
        "r8gb",
        "r8gd",
        "r8gn",
        "r9g",
        "r9gd",
        "x2gd",
        "x8g",
        "g5g",
        "hpc7g",
        "i4g",
        "i8g",
        "i8ge",
        "im4gn",
        "is4gen",
        "p6e-gb200",
    }
)
# Families the nodes cannot use, because the instance asks for EBS optimization (`ebs_optimized`),
# which these types (or most of their sizes) do not offer, because they only run on Dedicated
# Hosts, or because the nodes' Amazon Linux 2023 does not boot on them (A1). Source: EC2 user
# guide, "EBS-optimized instances" and "Previous generation instances". As of 2026-11.
_OLD = "a previous-generation type without EBS optimization (use a current one like t3, m7i or m7g)"
UNUSABLE_FAMILIES = {
    "t2": "a type without EBS optimization (use t3 or t3a)",
    # "Amazon Linux 2023 does not support A1 instances" (AWS CDK, aws_batch.EcsMachineImageType).
    "a1": "an A1 (first-generation Graviton) type, which Amazon Linux 2023 does not support (use t4g, m7g or later)",
    **{
        family: _OLD
        for family in ("t1", "m1", "m2", "m3", "c1", "c3", "cc1", "cc2", "cg1", "cr1", "g2", "hi1", "hs1", "i2", "r3")
    },
}
SMALL_SIZES = ("nano", "micro")  # under 2 GiB of memory; WSO2 AS runs a 1 GiB heap


@lru_cache(maxsize=None)
def ec2_instance_types() -> frozenset[str]:
    model = botocore.loaders.Loader().load_service_model("ec2", "service-2")
    return frozenset(model["shapes"]["InstanceType"]["enum"])


def check_instance_type(value: object) -> str:
    if not isinstance(value, str) or value not in ec2_instance_types():
        raise ValueError("must be an EC2 instance type like t3.large or m7g.xlarge (one botocore's EC2 model lists)")
    family, size = value.split(".", 1)
    if family.startswith("mac"):
        raise ValueError("must not be a Mac instance type (they run on Dedicated Hosts only)")
    if family in UNUSABLE_FAMILIES:
        raise ValueError(f"must not be {UNUSABLE_FAMILIES[family]}")
    if size in SMALL_SIZES:
        raise ValueError("must have at least 2 GiB of memory (small or larger): WSO2 AS needs a 1 GiB heap")
    return value


def is_graviton(instance_type: str) -> bool:
    return instance_type.split(".", 1)[0] in GRAVITON_FAMILIES


def instance_type_architecture_problem(instance_type: str, architecture: str) -> Optional[str]:
    if architecture == "arm64" and not is_graviton(instance_type):
        return "must be a Graviton (arm64) instance type like m7g.large when architecture is arm64"
    if architecture == "x86_64" and is_graviton(instance_type):
        return "must be an x86_64 instance type when architecture is x86_64"
    return None


# --- RDS for MySQL ------------------------------------------------------------------------------

# Engine versions RDS offers and does not deprecate (a major version alone lets RDS pick its
# default minor). Source: cfn-lint 1.58.0's RDS data (generated from DescribeDBEngineVersions),
# checked against "Supported MySQL minor versions on Amazon RDS". As of 2026-11.
MYSQL_VERSIONS = {
    "8.0": ("8.0.42", "8.0.43", "8.0.44", "8.0.45", "8.0.46", "8.0.46-rds.20260624", "8.0.46-rds.20260908"),
    "8.4": tuple(f"8.4.{minor}" for minor in range(5, 12)),
}
# DB instance classes RDS for MySQL offers per major version (families and sizes). Source:
# cfn-lint 1.58.0's RDS data (from DescribeOrderableDBInstanceOptions), less the Multi-AZ DB
# cluster-only db.c6gd. As of 2026-11.
_BURSTABLE = ("micro", "small", "medium", "large", "xlarge", "2xlarge")
_TO_16X = ("large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge")
_TO_24X = _TO_16X + ("24xlarge",)
_TO_32X = _TO_24X + ("32xlarge",)
_TO_48X = _TO_24X + ("48xlarge",)
_MYSQL_CLASSES = {
    "t3": _BURSTABLE,
    "t4g": _BURSTABLE,
    "m5": _TO_24X,
    "m5d": _TO_24X,
    "m6g": _TO_16X,
    "m6gd": _TO_16X,
    "m6i": _TO_32X,
    "m6id": _TO_32X,
    "m6idn": _TO_32X,
    "m6in": _TO_32X,
    "m7g": _TO_16X,
    "m7i": _TO_48X,
    "m8g": _TO_48X,
    "m8gd": _TO_48X,
    "m9g": _TO_48X,
    "r5": _TO_24X,
    "r5b": _TO_24X,
    "r5d": _TO_24X,
    "r6g": _TO_16X,
    "r6gd": _TO_16X,
    "r6i": _TO_32X,
    "r6id": _TO_32X,
    "r6idn": _TO_32X,
    "r6in": _TO_32X,
    "r7g": _TO_16X,
    "r7i": _TO_48X,
    "r8a": _TO_48X,
    "r8g": _TO_48X,
    "r8gd": _TO_48X,
    "x2g": _TO_16X,
    "x2iedn": ("xlarge",) + _TO_32X[2:],
}
MYSQL_CLASS_FAMILIES = {"8.0": _MYSQL_CLASSES, "8.4": {**_MYSQL_CLASSES, "m8a": _TO_48X}}
# Performance Insights is not offered on these sizes.
NO_PERFORMANCE_INSIGHTS_SIZES = ("micro", "small")
# Names RDS for MySQL refuses for a user: its own accounts, and MySQL's reserved words ("can't be
# a reserved word for the chosen database engine"). Sources: RDS CreateDBInstance MasterUsername,
# cfn-lint 1.58.0 (rdsadmin), and SQLAlchemy 2.1's RESERVED_WORDS_MYSQL (MySQL reference manual,
# "Keywords and Reserved Words"), less admin and array, nonreserved since MySQL 8.0.12 and 8.0.19.
# So admin, RDS's console default, is allowed. As of 2026-11.
MYSQL_RESERVED_USER_NAMES = frozenset({"rdsadmin", "rdsrepladmin", "rdsproxyadmin"}) | frozenset(
    """
accessible add all alter analyze and as asc asensitive before between bigint binary blob both by call
cascade case change char character check collate column condition constraint continue convert create
cross cube cume_dist current_date current_time current_timestamp current_user cursor database databases
day_hour day_microsecond day_minute day_second dec decimal declare default delayed delete dense_rank desc
describe deterministic distinct distinctrow div double drop dual each else elseif empty enclosed escaped
except exists exit explain false fetch first_value float float4 float8 for force foreign from fulltext
function general generated get get_master_public_key grant group grouping groups having high_priority
hour_microsecond hour_minute hour_second if ignore ignore_server_ids in index infile inner inout
insensitive insert int int1 int2 int3 int4 int8 integer intersect interval into io_after_gtids
io_before_gtids is iterate join json_table key keys kill lag last_value lateral lead leading leave left
like limit linear lines load localtime localtimestamp lock long longblob longtext loop low_priority
master_bind master_heartbeat_period master_ssl_verify_server_cert match maxvalue mediumblob mediumint
mediumtext member middleint minute_microsecond minute_second mod modifies natural no_write_to_binlog not
nth_value ntile null numeric of on optimize optimizer_costs option optionally or order out outer outfile
over parallel parse_gcol_expr partition percent_rank persist persist_only precision primary procedure
purge qualify range rank read read_write reads real recursive references regexp release rename repeat
replace require resignal restrict return revoke right rlike role row row_number rows schema schemas
second_microsecond select sensitive separator set show signal slow smallint spatial specific sql
sql_after_gtids sql_before_gtids sql_big_result sql_calc_found_rows sql_small_result sqlexception
sqlstate sqlwarning ssl starting stored straight_join system table terminated then tinyblob tinyint
tinytext to trailing trigger true undo union unique unlock unsigned update usage use using utc_date
utc_time utc_timestamp values varbinary varchar varcharacter varying virtual when where while window
with write xor year_month zerofill
""".split()
)


def check_mysql_version(value: object) -> str:
    if isinstance(value, str) and (value in MYSQL_VERSIONS or value in MYSQL_VERSIONS.get(mysql_major(value), ())):
        return value
    offered = "; ".join(f"{major} or {', '.join(versions)}" for major, versions in MYSQL_VERSIONS.items())
    raise ValueError(f"must be an RDS MySQL version RDS offers: {offered}")


def mysql_major(version: str) -> str:
    return version[:3]


def _family_and_size(instance_class: str) -> tuple[str, str]:
    match = re.fullmatch(r"db\.([a-z0-9]+)\.([a-z0-9]+)", instance_class)
    return (match.group(1), match.group(2)) if match else ("", "")


def check_db_instance_class(value: object) -> str:
    family, size = _family_and_size(value) if isinstance(value, str) else ("", "")
    if not any(size in classes.get(family, ()) for classes in MYSQL_CLASS_FAMILIES.values()):
        raise ValueError("must be an RDS for MySQL instance class like db.t4g.medium or db.r7g.large")
    return value


def db_class_version_problem(instance_class: str, version: str) -> Optional[str]:
    family, size = _family_and_size(instance_class)
    if size not in MYSQL_CLASS_FAMILIES[mysql_major(version)].get(family, ()):
        return f"is not offered for RDS MySQL {mysql_major(version)}"
    return None


def supports_performance_insights(instance_class: str) -> bool:
    return instance_class.rsplit(".", 1)[-1] not in NO_PERFORMANCE_INSIGHTS_SIZES


# --- instance memory (moto's dump of EC2 DescribeInstanceTypes) ---------------------------------


@lru_cache(maxsize=None)
def _instance_memory() -> dict[str, int]:
    path = Path(__file__).with_name("data") / "ec2_memory_mib.json"
    return json.loads(path.read_text())["memoryMiB"]


def instance_memory_mib(instance_type: str) -> Optional[int]:
    """The instance type's memory in MiB, None for the few old types the table lacks."""
    return _instance_memory().get(instance_type)
