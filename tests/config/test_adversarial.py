"""Adversarial configurations, at and around every limit AWS, the provider and the nodes set.

Each case is a set of overrides on top of a stack file and either the exact problem lines it must
give (one per problem, naming the key) or [] when it must be accepted: refusing a valid value is
as much a failure as accepting one that would not deploy.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

import pytest

from components import aws_facts
from tests.config.support import (
    CERT,
    LINE,
    SHA_A,
    SVN,
    host_of_length,
    line,
    parse,
    problems,
    url_of_length,
)
from userdata import limits


@dataclass
class Case:
    id: str
    overrides: dict
    expected: list  # problem lines; [] = accepted
    stack: str = "dev"
    check: Optional[Callable[[Any], Any]] = field(default=None, repr=False)  # on the accepted config


CASES: list[Case] = []


def ok(case_id: str, overrides: dict, stack: str = "dev", check=None) -> None:
    CASES.append(Case(case_id, overrides, [], stack, check))


def bad(case_id: str, overrides: dict, *expected: tuple, stack: str = "dev") -> None:
    """`expected`: (key, allowed) with the override's value shown, or (key, allowed, shown value)."""
    lines = [line(e[0], e[2] if len(e) == 3 else overrides[e[0]], e[1]) for e in expected]
    CASES.append(Case(case_id, overrides, sorted(lines), stack))


def integer(lo, hi):
    return f"must be an integer from {lo} to {hi}"


BOOL = "must be true or false"
HOST = "must be a lower-case DNS host name like as.example.com, at most 128 characters"
URL = f"must be an s3://bucket/key URI or an https:// URL of the file (at most {limits.URL_MAX} characters, no spaces)"
URL_CREDENTIALS = "must not carry credentials (user:password@): user data is readable in clear text"
URL_PORT = "must use port 443: the nodes' security group opens outbound HTTPS on port 443 only"
REGION = "must be an AWS region name like eu-west-1 (one botocore knows)"
CERT_FORMAT = "must be an ACM certificate ARN like arn:aws:acm:eu-west-1:123456789012:certificate/<uuid>"
INSTANCE = "must be an EC2 instance type like t3.large or m7g.xlarge (one botocore's EC2 model lists)"
SMALL = "must have at least 2 GiB of memory (small or larger): WSO2 AS needs a 1 GiB heap"
OLD = "must not be a previous-generation type without EBS optimization (use a current one like t3, m7i or m7g)"
ARM = "must be a Graviton (arm64) instance type like m7g.large when architecture is arm64"
X86 = "must be an x86_64 instance type when architecture is x86_64"
DB_CLASS = "must be an RDS for MySQL instance class like db.t4g.medium or db.r7g.large"
DB_VERSION = "must be an RDS MySQL version RDS offers: " + "; ".join(
    f"{major} or {', '.join(versions)}" for major, versions in aws_facts.MYSQL_VERSIONS.items()
)
MYSQL_USER = "must be 1 to 16 letters, digits or _, starting with a letter"
RESERVED_USER = "must not be an RDS account name (rdsadmin, rdsrepladmin, rdsproxyadmin) or a MySQL reserved word"
DB_PASSWORD = "must be 8 to 41 printable ASCII characters other than / @ \" ' and space"
ADMIN_PASSWORD = "must be 5 to 30 characters without spaces (the WSO2 user store's password rule)"
SHA = "must be a SHA-256 hex digest (64 lower-case hex characters)"
SVN_URL = (
    "must be an https:// repository URL (over http:// or svn:// svnPassword would cross the network in clear), "
    "without spaces or user:password@"
)
CIDRS = "must be a list of IPv4 CIDR blocks like 203.0.113.0/24"
VPC_CIDR = "must be a private IPv4 CIDR block from /16 to /20, like 10.20.0.0/16"
BUCKET = (
    "must be an S3 bucket name like my-alb-logs (3 to 63 lower-case letters, digits, dots or hyphens; "
    "not an IP address; no reserved prefix like sthree- or suffix like -s3alias)"
)
TAGS = "must be a list of KEY=VALUE tags, at most 47"
TAG_KEY = (
    "a tag must be KEY=VALUE, the key 1 to 128 letters, digits, spaces or _ . : / = + - @, "
    "not starting with aws: or rds:"
)
TAG_VALUE = "a tag value must be at most 256 letters, digits, spaces or _ . : / = + - @, not starting with aws: or rds:"
TAG_KEY_ONLY = "must be a tag key of 1 to 128 letters, digits, spaces or _ . : / = + - @, not starting with aws:"
LOG_DAYS = "must be one of CloudWatch Logs' retention periods: " + ", ".join(
    str(d) for d in aws_facts.LOG_RETENTION_DAYS
)
SHADOW = "must not shadow AWS's own domain {} (nodes must resolve AWS endpoints)"
SVN_REQUIRED = "required when deploymentSynchronizer is svn"
SHA_REQUIRED = "required when deploymentSynchronizer is svn (nodes refuse a jar they cannot check)"
SVN_ONLY = "only used when deploymentSynchronizer is svn"
HTTP_PORTS = "must differ from the product's HTTP and HTTPS ports (9763/9443 + portOffset)"
JMX_PORTS = "must differ from the product's JMX ports (9999/11111 + portOffset)"
AWS_PORTS = "must be from 5701 to 5800 when membershipScheme is aws"


def tag_list(*tags: str, detail: Optional[str] = None, bad_item: Optional[str] = None) -> str:
    return TAGS + (f" ({json.dumps(bad_item)}: {detail})" if detail else "")


def cidrs(n: int, second: int = 51) -> list[str]:
    return [f"198.{second}.{i}.0/24" for i in range(n)]


def sg_quota(rules: int) -> str:
    return (
        f"needs {rules} ingress rules in the alb security group, over AWS's default quota of 60: "
        "list fewer or wider CIDR blocks"
    )


# --- integers, booleans and choices, at their bounds ------------------------------------------
for key, lo, hi in [
    ("workerCount", 1, 50),
    ("rootVolumeSizeGb", 20, 1024),
    ("availabilityZoneCount", 2, 4),
    ("nodeHealthTimeoutMinutes", 5, 120),
    ("managerStickinessSeconds", 1, 604800),
    ("workerStickinessSeconds", 0, 604800),
    ("dbBackupRetentionDays", 1, 35),
    ("dbAllocatedStorageGb", 20, 65536),
    ("portOffset", 0, 1000),
    ("discoveryConnTimeoutSeconds", 1, 120),
    ("wafRateLimit", aws_facts.WAF_RATE_LIMIT_MIN, aws_facts.WAF_RATE_LIMIT_MAX),
]:
    extra = {"dbMaxAllocatedStorageGb": "65536"} if key == "dbAllocatedStorageGb" else {}
    ok(f"{key}-lowest", {key: str(lo), **extra})
    ok(f"{key}-highest", {key: str(hi), **extra})
    bad(f"{key}-below", {key: str(lo - 1), **extra}, (key, integer(lo, hi)))
    bad(f"{key}-above", {key: str(hi + 1), **extra}, (key, integer(lo, hi)))
bad("workerCount-decimal", {"workerCount": "2.5"}, ("workerCount", integer(1, 50)))
bad("workerCount-word", {"workerCount": "two"}, ("workerCount", integer(1, 50)))
bad("workerCount-arabic-digit", {"workerCount": "\u0663"}, ("workerCount", integer(1, 50)))
bad("workerCount-huge", {"workerCount": "9" * 5000}, ("workerCount", integer(1, 50)))
ok("workerCount-spaces", {"workerCount": " 3 "}, check=lambda c: c.worker_count == 3)
bad("maxUnavailableWorkers-zero", {"maxUnavailableWorkers": "0"}, ("maxUnavailableWorkers", integer(1, 50)))
ok("maxUnavailableWorkers-equals-workerCount", {"maxUnavailableWorkers": "2"})
bad(
    "maxUnavailableWorkers-over-workerCount",
    {"maxUnavailableWorkers": "3"},
    ("maxUnavailableWorkers", "must be at most workerCount (2)"),
)
ok(
    "booleans-any-case",
    {"dbMultiAz": "TRUE", "accessLogs": "False"},
    check=lambda c: (c.db_multi_az, c.access_logs) == (True, False),
)
bad("boolean-yes", {"dbMultiAz": "yes"}, ("dbMultiAz", BOOL))
bad("boolean-one", {"webApplicationFirewall": "1"}, ("webApplicationFirewall", BOOL))
bad("architecture-aarch64", {"architecture": "aarch64"}, ("architecture", "must be one of: x86_64, arm64"))
bad("natGateways-case", {"natGateways": "perAZ"}, ("natGateways", "must be one of: single, perAz"))
bad("httpMode-both", {"httpMode": "both"}, ("httpMode", "must be one of: redirect, forward"))
bad(
    "discoveryCredentials",
    {"discoveryCredentials": "iamRole"},
    ("discoveryCredentials", "must be one of: accessKey, instanceRole"),
)
ok("efs", {"deploymentSynchronizer": "efs"})

# --- tags: AWS's 50 per resource, counting the 3 the program sets on nodes ---------------------
ok("tags-47", {"tags": [f"k{i}=v" for i in range(47)]})
bad("tags-48", {"tags": [f"k{i}=v" for i in range(48)]}, ("tags", TAGS))
ok(
    "tags-unicode-letters-and-separators",
    {"tags": ["équipe=données", "チーム=開発", "team=a\u00a0b", "cost-centre=+1 @x/y:z_"]},
)
ok("tags-empty-value", {"tags": ["team="]})
ok("tags-key-128-value-256", {"tags": ["k" * 128 + "=" + "v" * 256]})
ok("tags-aws-inside-a-key", {"tags": ["team:aws:x=1", "x=my aws: value"]})
bad("tags-key-129", {"tags": ["k" * 129 + "=v"]}, ("tags", tag_list(detail=TAG_KEY, bad_item="k" * 129 + "=v")))
bad("tags-value-257", {"tags": ["k=" + "v" * 257]}, ("tags", tag_list(detail=TAG_VALUE, bad_item="k=" + "v" * 257)))
for prefix in ("aws:", "AWS:", "Aws:", "aWs:", "rds:", "RDS:"):
    bad(
        f"tags-key-{prefix}",
        {"tags": [f"{prefix}owner=me"]},
        ("tags", tag_list(detail=TAG_KEY, bad_item=f"{prefix}owner=me")),
    )
for value in ("aws:x", "AWS:managed", "rds:x"):
    bad(
        f"tags-value-{value}",
        {"tags": [f"team={value}"]},
        ("tags", tag_list(detail=TAG_VALUE, bad_item=f"team={value}")),
    )
for char in (",", "#", "*", "<", "!", '"', "\t", "\u00e9\u0301"[1:]):  # the last: a combining accent alone
    bad(
        f"tags-value-char-{ord(char[0]):x}",
        {"tags": [f"team=a{char}b"]},
        ("tags", tag_list(detail=TAG_VALUE, bad_item=f"team=a{char}b")),
    )
bad("tags-no-equals", {"tags": ["team"]}, ("tags", tag_list(detail="a tag must be KEY=VALUE", bad_item="team")))
bad("tags-empty-key", {"tags": ["=x"]}, ("tags", tag_list(detail=TAG_KEY, bad_item="=x")))
bad("tags-not-json", {"tags": "environment=dev"}, ("tags", TAGS))
bad("tags-duplicate", {"tags": ["team=a", "team=a"]}, ("tags", TAGS + ", without duplicates"))
bad(
    "tags-same-key",
    {"tags": ["team=a", "team=b"]},
    ("tags", "must not repeat a tag key, even in another case (IAM compares tag keys ignoring case)"),
)
bad(
    "tags-same-key-other-case",
    {"tags": ["Team=a", "team=b"]},
    ("tags", "must not repeat a tag key, even in another case (IAM compares tag keys ignoring case)"),
)
for key in ("Name", "wso2:role", "wso2:cluster"):
    bad(
        f"tags-program-{key}",
        {"tags": [f"{key}=x"]},
        ("tags", f"must not set {key} (the program sets it on the nodes)"),
    )
ok("tags-name-lower-case", {"tags": ["name=x"]})  # EC2 keys are case-sensitive; IAM gets no Name
bad(
    "tags-custom-discovery-key",
    {"discoveryTagKey": "cluster", "tags": ["cluster=x"]},
    ("tags", "must not set cluster (the program sets it on the nodes)"),
)
ok("tags-default-discovery-key-free-once-changed", {"discoveryTagKey": "cluster", "tags": ["wso2:cluster=x"]})
ok(
    "defaultTags-within-50",
    {"aws:defaultTags": {"tags": {"a": "1", "b": "2", "c": "3"}}, "tags": [f"k{i}=v" for i in range(44)]},
)
ok(
    "defaultTags-overlapping-keys-count-once",
    {"aws:defaultTags": {"tags": {"k0": "1", "k1": "2", "x": "3"}}, "tags": [f"k{i}=v" for i in range(46)]},
)
bad(
    "defaultTags-over-50",
    {"aws:defaultTags": {"tags": {"a": "1", "b": "2", "c": "3"}}, "tags": [f"k{i}=v" for i in range(45)]},
    (
        "aws:defaultTags",
        "with tags and the 3 tags the program sets, the nodes would carry 51 tags, over AWS's 50 per resource",
        json.dumps({"a": "1", "b": "2", "c": "3"}),
    ),
)
bad(
    "defaultTags-case-clash",
    {"aws:defaultTags": {"tags": {"Team": "x"}}, "tags": ["team=y"]},
    (
        "aws:defaultTags",
        "must not repeat a key of tags in another case (Team): IAM compares tag keys ignoring case",
        json.dumps({"Team": "x"}),
    ),
)
bad(
    "defaultTags-aws-prefix",
    {"aws:defaultTags": {"tags": {"aws:x": "x"}}},
    ("aws:defaultTags", f'"aws:x": {TAG_KEY}', json.dumps({"aws:x": "x"})),
)
ok("defaultTags-unreadable-left-to-the-provider", {"aws:defaultTags": "not json"})
ok("discoveryTagKey-128", {"discoveryTagKey": "k" * 128})
bad("discoveryTagKey-129", {"discoveryTagKey": "k" * 129}, ("discoveryTagKey", TAG_KEY_ONLY))
bad("discoveryTagKey-aws", {"discoveryTagKey": "AWS:cluster"}, ("discoveryTagKey", TAG_KEY_ONLY))
for key in ("Name", "wso2:role"):
    bad(
        f"discoveryTagKey-{key}",
        {"discoveryTagKey": key},
        ("discoveryTagKey", "must not be Name or wso2:role (the program sets those tags on the nodes)"),
    )

# --- CIDRs: 60 ingress rules per security group, two per source (80 and 443) -------------------
ok("clients-30", {"allowedClientCidrs": cidrs(30)})
bad("clients-31", {"allowedClientCidrs": cidrs(31)}, ("allowedClientCidrs", sg_quota(62)))
ok("clients-29-management-1", {"allowedClientCidrs": cidrs(29), "managementAllowedCidrs": ["203.0.113.0/24"]})
bad(
    "clients-30-management-1",
    {"allowedClientCidrs": cidrs(30), "managementAllowedCidrs": ["203.0.113.0/24"]},
    ("managementAllowedCidrs", sg_quota(62)),
)
ok("clients-30-management-repeating-one", {"allowedClientCidrs": cidrs(30), "managementAllowedCidrs": cidrs(1)})
ok("management-20", {"managementAllowedCidrs": cidrs(20, 100)})
bad("management-21", {"managementAllowedCidrs": cidrs(21, 100)}, ("managementAllowedCidrs", CIDRS + ", at most 20"))
ok("management-everyone", {"managementAllowedCidrs": ["0.0.0.0/0"]})
CONSOLE_ON_PROD = (
    "must open the management console to at most 65536 addresses (a /16) in total on a stack with deletion "
    "protection, not {}: list the operators' own ranges"
)
for cidrs, addresses in (
    (["0.0.0.0/0"], 2**32),
    (["0.0.0.0/1", "128.0.0.0/1"], 2**32),
    (["10.0.0.0/16", "10.1.0.0/31"], 65538),
):
    bad(
        f"management-{cidrs[0]}-on-prod",
        {"managementAllowedCidrs": cidrs},
        ("managementAllowedCidrs", CONSOLE_ON_PROD.format(addresses)),
        stack="prod",
    )
ok("management-a-16-on-prod", {"managementAllowedCidrs": ["10.0.0.0/17", "10.1.0.0/17"]}, stack="prod")
bad("clients-empty", {"allowedClientCidrs": []}, ("allowedClientCidrs", CIDRS + ", at least 1"))
bad("clients-prefix-33", {"allowedClientCidrs": ["203.0.113.0/33"]}, ("allowedClientCidrs", CIDRS + ", at least 1"))
bad("clients-host-bits", {"allowedClientCidrs": ["10.0.0.1/8"]}, ("allowedClientCidrs", CIDRS + ", at least 1"))
bad("clients-no-prefix", {"allowedClientCidrs": ["203.0.113.7"]}, ("allowedClientCidrs", CIDRS + ", at least 1"))
bad("clients-ipv6", {"allowedClientCidrs": ["2001:db8::/32"]}, ("allowedClientCidrs", CIDRS + ", at least 1"))
bad("clients-not-a-list", {"allowedClientCidrs": "10.0.0.0/8"}, ("allowedClientCidrs", CIDRS + ", at least 1"))
bad(
    "clients-duplicate",
    {"allowedClientCidrs": ["10.0.0.0/8", "10.0.0.0/8"]},
    ("allowedClientCidrs", CIDRS + ", at least 1, without duplicates"),
)
ok("vpcCidr-20", {"vpcCidr": "10.20.0.0/20"})
ok("vpcCidr-172-31", {"vpcCidr": "172.31.0.0/16"})
ok("vpcCidr-shared-space", {"vpcCidr": "100.64.0.0/16"})
for cidr in (
    "10.20.0.0/21",
    "10.20.0.0/15",
    "8.8.0.0/16",
    "127.0.0.0/16",
    "169.254.0.0/16",
    "192.0.0.0/16",
    "198.18.0.0/16",
    "240.0.0.0/16",
):
    bad(f"vpcCidr-{cidr}", {"vpcCidr": cidr}, ("vpcCidr", VPC_CIDR))
bad("vpcCidr-host-bits", {"vpcCidr": "10.20.0.1/16"}, ("vpcCidr", "must be an IPv4 CIDR block like 203.0.113.0/24"))

# --- host names: an ALB host condition holds at most 128 characters ---------------------------
ok("hosts-128", {"serviceHostName": host_of_length(128), "managementHostName": host_of_length(128, "example.org")})
bad("host-129", {"serviceHostName": host_of_length(129)}, ("serviceHostName", HOST))
ok("host-label-63", {"serviceHostName": "a" * 63 + ".example.com"})
bad("host-label-64", {"serviceHostName": "a" * 64 + ".example.com"}, ("serviceHostName", HOST))
for host in (
    "As.Example.com",
    "as_x.example.com",
    "*.example.com",
    "as.example.com.",
    "-as.example.com",
    "as-.example.com",
    "localhost",
    "as..example.com",
    "as.example.com:443",
    "as.exämple.com",
):
    bad(f"host-{host}", {"managementHostName": host}, ("managementHostName", HOST))
ok("host-punycode", {"serviceHostName": "xn--bcher-kva.example"})
bad(
    "hosts-equal",
    {"serviceHostName": "as.example.com", "managementHostName": "as.example.com"},
    ("managementHostName", "must differ from serviceHostName (host-based routing tells them apart)"),
)

# --- download locations -----------------------------------------------------------------------
for key in ("productArtifactUrl", "jdbcDriverUrl"):
    ok(f"{key}-s3-URL_MAX", {key: url_of_length("s3://example-wso2-artifacts/", limits.URL_MAX)})
    ok(f"{key}-https-URL_MAX", {key: url_of_length("https://artifacts.example.com/", limits.URL_MAX)})
    bad(f"{key}-s3-URL_MAX+1", {key: url_of_length("s3://example-wso2-artifacts/", limits.URL_MAX + 1)}, (key, URL))
    bad(
        f"{key}-https-URL_MAX+1", {key: url_of_length("https://artifacts.example.com/", limits.URL_MAX + 1)}, (key, URL)
    )
P_URL = "productArtifactUrl"
ok("url-port-443", {P_URL: "https://artifacts.example.com:443/wso2as-5.3.0.zip"})
ok("url-query", {P_URL: "https://artifacts.example.com/get?file=wso2as-5.3.0.zip&v=1"})
ok("url-ip-address", {P_URL: "https://10.1.2.3/wso2as-5.3.0.zip"})
ok("url-s3-wildcard-characters", {P_URL: "s3://example-wso2-artifacts/builds/*/wso2as?5.3.0$LATEST.zip"})
ok("url-s3-dotted-bucket", {P_URL: "s3://artifacts.example.com/wso2as-5.3.0.zip"})
PRESIGNED = (
    "must not be a pre-signed URL: its signature is a credential in the user data, and it expires; use "
    "s3://bucket/key, which the nodes read through their instance role"
)
for key in ("productArtifactUrl", "jdbcDriverUrl"):
    for label, query in (
        ("sigv4", "X-Amz-Credential=AKIA%2F1&X-Amz-Signature=ab12"),
        ("sigv4-lower-case", "x-amz-signature=ab12&x-amz-date=20261206T000000Z"),
        ("sigv2", "AWSAccessKeyId=AKIAEXAMPLE&Expires=1796000000&Signature=ab12"),
        ("cloudfront", "Expires=1796000000&Signature=ab12&Key-Pair-Id=K2EXAMPLE"),
    ):
        url = f"https://example-wso2-artifacts.s3.eu-west-1.amazonaws.com/wso2as-5.3.0.zip?{query}"
        bad(f"{key}-presigned-{label}", {key: url}, (key, PRESIGNED))
ok("url-query-naming-a-signature-file", {P_URL: "https://artifacts.example.com/get?file=x.zip&signature_file=x.asc"})
for url in (
    "https://artifacts.example.com:0/wso2as.zip",
    "https://artifacts.example.com:65536/wso2as.zip",
    "https://artifacts.example.com:port/wso2as.zip",
    "https://artifacts.example.com/wso2as.zip#sha",
    "http://artifacts.example.com/wso2as.zip",
    "ftp://artifacts.example.com/wso2as.zip",
    "file:///tmp/wso2as.zip",
    "wso2as-5.3.0.zip",
    "https://artifacts.example.com/",
    "https://artifacts.example.com",
    "https://artifacts.example.com/a b.zip",
    "https://[2001:db8::1]/wso2as.zip",
    "https://127.0.0.1/wso2as.zip",
    "https://169.254.169.254/wso2as.zip",
    "https://localhost/wso2as.zip",
    "https://artifacts.exämple.com/wso2as.zip",
    "https://artifacts.example.com/wso2as\x00.zip",
    "s3://example-wso2-artifacts/",
    "s3://example-wso2-artifacts",
    "s3://Example-Artifacts/wso2as.zip",
    "s3://ab/wso2as.zip",
    "s3://192.168.5.4/wso2as.zip",
    "s3://sthree-artifacts/wso2as.zip",
    "s3://amzn-s3-demo-bucket/wso2as.zip",
    "s3://xn--artifacts/wso2as.zip",
    "s3://my-ap-abcdefgh-s3alias/wso2as.zip",
    "s3://artifacts--use1-az4--x-s3/wso2as.zip",
    "s3://artifacts..example/wso2as.zip",
    "s3://example-wso2-artifacts/a\tb.zip",
    "S3://bucket/wso2as.zip",
):
    bad(f"url-{url}", {P_URL: url}, (P_URL, URL))
for url in (
    "https://artifacts.example.com:65535/wso2as.zip",
    "https://artifacts.example.com:8443/wso2as.zip",
    "https://artifacts.example.com:80/wso2as.zip",
):
    bad(f"url-port-{url}", {P_URL: url}, (P_URL, URL_PORT))
    bad(f"jdbc-port-{url}", {"jdbcDriverUrl": url}, ("jdbcDriverUrl", URL_PORT))
for url in (
    "https://user:pass@artifacts.example.com/wso2as.zip",
    "https://token@artifacts.example.com/wso2as.zip",
    "s3://user:pass@example-wso2-artifacts/wso2as.zip",
):
    bad(f"url-credentials-{url}", {P_URL: url}, (P_URL, URL_CREDENTIALS))
ok(
    "svnKit-and-trilead-URL_MAX",
    {
        **SVN,
        "svnKitUrl": url_of_length("https://artifacts.example.com/", limits.URL_MAX),
        "trileadSshUrl": url_of_length("s3://example-wso2-artifacts/", limits.URL_MAX),
    },
)
bad("svnKitUrl-port", {**SVN, "svnKitUrl": "https://artifacts.example.com:8443/svnkit.jar"}, ("svnKitUrl", URL_PORT))
bad("trileadSshUrl-http", {**SVN, "trileadSshUrl": "http://artifacts.example.com/trilead.jar"}, ("trileadSshUrl", URL))
ok("sha256s", {"productArtifactSha256": SHA_A, "jdbcDriverSha256": "0123456789abcdef" * 4})
for sha in ("abc", SHA_A.upper(), SHA_A + "a", "g" * 64):
    bad(f"sha-{sha[:8]}-{len(sha)}", {"productArtifactSha256": sha}, ("productArtifactSha256", SHA))

# --- regions and partitions -------------------------------------------------------------------
for region in (
    "eu-west-1",
    "us-east-1",
    "eu-central-2",
    "me-central-1",
    "il-central-1",
    "ca-west-1",
    "ap-southeast-4",
    "mx-central-1",
    "us-gov-west-1",
    "us-gov-east-1",
):
    ok(f"region-{region}", {"aws:region": region}, check=lambda c, r=region: c.region == r)
WKA = {"membershipScheme": "wka"}
for region in ("cn-north-1", "cn-northwest-1"):
    ok(f"region-{region}", {"aws:region": region, **WKA}, check=lambda c, r=region: c.region == r)
    bad(
        f"aws-discovery-in-{region}",
        {"aws:region": region, "membershipScheme": "aws"},
        (
            "membershipScheme",
            f"must be wka in {region}: Hazelcast 3.5's AWS discovery calls "
            f"ec2.{region}.amazonaws.com, which does not exist there",
            "aws",
        ),
    )
for region in ("eu-west-9", "Ireland", "EU-WEST-1", "eu-west-1 ", "aws-global", "", "eu-west-1a"):
    bad(f"region-{region!r}", {"aws:region": region}, ("aws:region", REGION))
for region, partition in (
    ("us-iso-east-1", "aws-iso"),
    ("us-isob-east-1", "aws-iso-b"),
    ("eusc-de-east-1", "aws-eusc"),
):
    bad(
        f"region-{region}",
        {"aws:region": region},
        ("aws:region", f"is in partition {partition}; this program deploys to aws, aws-cn, aws-us-gov"),
    )
NO_SELF_SIGNED = {"selfSignedCertificate": "false"}
ok("certificate-same-region", {**NO_SELF_SIGNED, "certificateArn": CERT})
ok(
    "certificate-cn",
    {
        **NO_SELF_SIGNED,
        **WKA,
        "aws:region": "cn-north-1",
        "certificateArn": CERT.replace("arn:aws:", "arn:aws-cn:").replace("eu-west-1", "cn-north-1"),
    },
)
ok(
    "certificate-gov",
    {
        **NO_SELF_SIGNED,
        "aws:region": "us-gov-west-1",
        "certificateArn": CERT.replace("arn:aws:", "arn:aws-us-gov:").replace("eu-west-1", "us-gov-west-1"),
    },
)
bad(
    "certificate-other-region",
    {**NO_SELF_SIGNED, "certificateArn": CERT.replace("eu-west-1", "us-east-1")},
    (
        "certificateArn",
        "must be a certificate in the stack's region eu-west-1 (an ALB uses certificates of its region)",
    ),
)
bad(
    "certificate-other-partition",
    {**NO_SELF_SIGNED, "certificateArn": CERT.replace("arn:aws:", "arn:aws-cn:")},
    ("certificateArn", "must be an ARN of partition aws, the partition of eu-west-1"),
)
bad(
    "certificate-aws-partition-in-gov",
    {**NO_SELF_SIGNED, "aws:region": "us-gov-west-1", "certificateArn": CERT.replace("eu-west-1", "us-gov-west-1")},
    ("certificateArn", "must be an ARN of partition aws-us-gov, the partition of us-gov-west-1"),
)
for i, arn in enumerate(
    (
        "arn:aws:iam::123456789012:server-certificate/wso2",
        CERT.upper(),
        CERT[:-1],
        CERT.replace("123456789012", "12345"),
        CERT.replace(":acm:", ":acm-pca:"),
    )
):
    bad(f"certificate-format-{i}", {**NO_SELF_SIGNED, "certificateArn": arn}, ("certificateArn", CERT_FORMAT))

# --- EC2 instance types: exist, fit the architecture, can run the nodes -----------------------
for manager, worker in (
    ("t3.large", "t3.small"),
    ("m7i-flex.large", "c7i-flex.xlarge"),
    ("r7iz.large", "t3a.small"),
    ("m5.large", "c8i.large"),
    ("m4.large", "u-6tb1.112xlarge"),
):
    ok(f"x86-{manager}-{worker}", {"managerInstanceType": manager, "workerInstanceType": worker})
for manager, worker in (("m7g.large", "t4g.small"), ("c6gn.medium", "r8g.large"), ("m8g.xlarge", "c7gd.medium")):
    ok(
        f"arm64-{manager}-{worker}",
        {"architecture": "arm64", "managerInstanceType": manager, "workerInstanceType": worker},
    )
for instance_type, problem in (
    ("t2.medium", "must not be a type without EBS optimization (use t3 or t3a)"),
    ("t3.micro", SMALL),
    ("t3.nano", SMALL),
    ("m1.large", OLD),
    ("m3.medium", OLD),
    ("c3.large", OLD),
    ("t1.micro", OLD),
    ("hi1.4xlarge", OLD),
    ("cg1.4xlarge", OLD),
    ("cc1.4xlarge", OLD),
    ("mac2.metal", "must not be a Mac instance type (they run on Dedicated Hosts only)"),
    ("mac1.metal", "must not be a Mac instance type (they run on Dedicated Hosts only)"),
    ("t3.mega", INSTANCE),
    ("T3.large", INSTANCE),
    ("m7.large", INSTANCE),
    ("t3large", INSTANCE),
    ("", INSTANCE),
    ("db.t3.large", INSTANCE),
):
    bad(f"type-{instance_type!r}", {"workerInstanceType": instance_type}, ("workerInstanceType", problem))
A1 = (
    "must not be an A1 (first-generation Graviton) type, which Amazon Linux 2023 does not support "
    "(use t4g, m7g or later)"
)
bad(
    "arm64-a1",
    {"architecture": "arm64", "managerInstanceType": "a1.large", "workerInstanceType": "m7g.large"},
    ("managerInstanceType", A1),
)
bad(
    "arm64-small",
    {"architecture": "arm64", "managerInstanceType": "m7g.large", "workerInstanceType": "t4g.micro"},
    ("workerInstanceType", SMALL),
)
bad("graviton-on-x86", {"workerInstanceType": "m7g.large"}, ("workerInstanceType", X86))
bad(
    "x86-on-arm64",
    {"architecture": "arm64", "managerInstanceType": "t3.large", "workerInstanceType": "m7g.large"},
    ("managerInstanceType", ARM),
)
bad(
    "arm64-keeping-the-x86-types",
    {"architecture": "arm64"},
    ("managerInstanceType", ARM, "t3.medium"),
    ("workerInstanceType", ARM, "t3.medium"),
)
ok("amiId-short", {"amiId": "ami-0123abcd"})
ok("amiId-long", {"amiId": "ami-0123456789abcdef0"})
for ami in ("ami-123", "ami-0123456789ABCDEF0", "ami-0123456789abcdef", "0123456789abcdef0"):
    bad(f"amiId-{ami}", {"amiId": ami}, ("amiId", "must be an AMI id like ami-0123456789abcdef0"))

# --- RDS for MySQL: classes per major version, versions RDS offers, user names -----------------
for version, db_class in (
    ("8.4", "db.m8a.large"),
    ("8.4.11", "db.t4g.micro"),
    ("8.4.5", "db.r7g.16xlarge"),
    ("8.0", "db.t3.micro"),
    ("8.0.44", "db.r6g.large"),
    ("8.0.46-rds.20260624", "db.m7i.48xlarge"),
    ("8.4", "db.x2iedn.xlarge"),
):
    ok(f"db-{version}-{db_class}", {"dbEngineVersion": version, "dbInstanceClass": db_class})
for version in ("8.0", "8.0.44"):
    bad(
        f"db-m8a-with-{version}",
        {"dbEngineVersion": version, "dbInstanceClass": "db.m8a.large"},
        ("dbInstanceClass", "is not offered for RDS MySQL 8.0"),
    )
for version in ("8.4.99", "8.0.28", "8.4.4", "5.7", "8", "8.4.x", "8.4.", "v8.4", "8.0.46-rds.2026"):
    bad(f"db-version-{version}", {"dbEngineVersion": version}, ("dbEngineVersion", DB_VERSION))
for db_class in (
    "db.t2.micro",
    "db.t4g.nano",
    "db.serverless",
    "t4g.micro",
    "db.r7g.32xlarge",
    "db.m7g.48xlarge",
    "DB.T4G.MICRO",
    "db.t4g",
):
    bad(f"db-class-{db_class}", {"dbInstanceClass": db_class}, ("dbInstanceClass", DB_CLASS))
for user in ("admin", "Admin_1", "a", "a" * 16, "wso2_master", "root"):
    ok(f"dbUsername-{user}", {"dbUsername": user})
for user in ("rdsadmin", "RDSADMIN", "rdsrepladmin", "rdsproxyadmin", "select", "Select", "table", "order"):
    bad(f"dbUsername-{user}", {"dbUsername": user}, ("dbUsername", RESERVED_USER))
for user in ("a" * 17, "1admin", "_admin", "db-admin", "db.admin", "", "ädmin"):
    bad(f"dbUsername-shape-{user!r}", {"dbUsername": user}, ("dbUsername", MYSQL_USER))
ok("dbAppUsername-admin", {"dbAppUsername": "admin"})
bad("dbAppUsername-reserved", {"dbAppUsername": "select"}, ("dbAppUsername", RESERVED_USER))
bad("dbAppUsername-mysql-sys", {"dbAppUsername": "mysql.sys"}, ("dbAppUsername", MYSQL_USER))
bad(
    "dbAppUsername-is-master",
    {"dbUsername": "wso2", "dbAppUsername": "WSO2"},
    ("dbAppUsername", "must differ from dbUsername (the datasources must not use the master user)"),
)
ok("dbPassword-8", {"dbPassword": "Abcdef1!"})
ok("dbPassword-41", {"dbPassword": "A" * 40 + "!"})
ok("dbPassword-backslash-dollar", {"dbPassword": "a\\b$c`d#e%"})
for password in (
    "Abcdef1",
    "A" * 42,
    "has/slash",
    "has@at-sign",
    'has"quote',
    "has'quote",
    "has space",
    "tab\there",
    "pässword",
):
    bad(f"dbPassword-{len(password)}-{password[:4]}", {"dbPassword": password}, ("dbPassword", DB_PASSWORD, "[secret]"))
ok("storage-autoscaling-off", {"dbAllocatedStorageGb": "100", "dbMaxAllocatedStorageGb": "100"})
ok("storage-autoscaling-10-percent", {"dbAllocatedStorageGb": "100", "dbMaxAllocatedStorageGb": "110"})
ok("storage-autoscaling-20-to-22", {"dbAllocatedStorageGb": "20", "dbMaxAllocatedStorageGb": "22"})
bad(
    "storage-autoscaling-under-10-percent",
    {"dbAllocatedStorageGb": "100", "dbMaxAllocatedStorageGb": "109"},
    (
        "dbMaxAllocatedStorageGb",
        "must equal dbAllocatedStorageGb (no autoscaling) or be at least 10% more (110), "
        "as RDS storage autoscaling requires",
    ),
)
bad(
    "storage-autoscaling-20-to-21",
    {"dbAllocatedStorageGb": "20", "dbMaxAllocatedStorageGb": "21"},
    (
        "dbMaxAllocatedStorageGb",
        "must equal dbAllocatedStorageGb (no autoscaling) or be at least 10% more (22), "
        "as RDS storage autoscaling requires",
    ),
)
bad(
    "storage-max-under-allocated",
    {"dbAllocatedStorageGb": "200"},
    ("dbMaxAllocatedStorageGb", "must be at least dbAllocatedStorageGb", "100"),
)

# --- private zone: must not shadow AWS's domains, the hosts or the download hosts ---------------
for zone in ("wso2.internal", "corp.example.net", "db.local", host_of_length(128, "internal")):
    ok(f"zone-{zone[:20]}", {"privateZoneName": zone})
for zone, domain in (
    ("amazonaws.com", "amazonaws.com"),
    ("s3.amazonaws.com", "amazonaws.com"),
    ("eu-west-1.amazonaws.com", "amazonaws.com"),
    ("compute.internal", "compute.internal"),
    ("eu-west-1.compute.internal", "compute.internal"),
    ("ec2.internal", "ec2.internal"),
    ("amazonaws.com.cn", "amazonaws.com.cn"),
    ("api.aws", "api.aws"),
    ("corp.aws", "aws"),
    ("amazonwebservices.com.cn", "api.amazonwebservices.com.cn"),
    ("com.cn", "amazonaws.com.cn"),
    ("al2023-repos.amazonlinux.com", "amazonlinux.com"),
):
    bad(f"zone-{zone}", {"privateZoneName": zone}, ("privateZoneName", SHADOW.format(domain)))
for zone in ("internal", "com", "aws", "Wso2.Internal", "wso2_internal.local"):
    bad(f"zone-shape-{zone}", {"privateZoneName": zone}, ("privateZoneName", HOST))
bad(
    "zone-holds-both-hosts",
    {"privateZoneName": "dev.example.com"},
    (
        "privateZoneName",
        "must not contain managementHostName mgt.as.dev.example.com: inside the VPC the private zone would hide it",
    ),
    (
        "privateZoneName",
        "must not contain serviceHostName as.dev.example.com: inside the VPC the private zone would hide it",
    ),
)
bad(
    "zone-is-the-service-host",
    {"privateZoneName": "as.dev.example.com"},  # and holds mgt.as.dev.example.com
    (
        "privateZoneName",
        "must not contain managementHostName mgt.as.dev.example.com: inside the VPC the private zone would hide it",
    ),
    (
        "privateZoneName",
        "must not contain serviceHostName as.dev.example.com: inside the VPC the private zone would hide it",
    ),
)
bad(
    "zone-is-the-management-host",
    {"privateZoneName": "mgt.as.dev.example.com"},
    (
        "privateZoneName",
        "must not contain managementHostName mgt.as.dev.example.com: inside the VPC the private zone would hide it",
    ),
)
bad(
    "zone-holds-the-jdbc-host",
    {"privateZoneName": "maven.org"},
    ("privateZoneName", "must not contain the host of jdbcDriverUrl (repo1.maven.org): nodes could not download it"),
)
bad(
    "zone-holds-the-product-host",
    {"privateZoneName": "example.net", P_URL: "https://dl.example.net/wso2as.zip"},
    (
        "privateZoneName",
        "must not contain the host of productArtifactUrl (dl.example.net): nodes could not download it",
    ),
)
ok("zone-s3-product-needs-no-host", {"privateZoneName": "example-wso2-artifacts.internal"})
ok("zone-wso2-com-without-svn", {"privateZoneName": "wso2.com"})
bad(
    "zone-wso2-com-with-svn",
    {**SVN, "privateZoneName": "wso2.com"},  # svnKitUrl's default host
    ("privateZoneName", "must not contain the host of svnKitUrl (product-dist.wso2.com): nodes could not download it"),
)
bad(
    "zone-wso2-org-with-svn",
    {**SVN, "privateZoneName": "wso2.org"},  # trileadSshUrl's default host
    ("privateZoneName", "must not contain the host of trileadSshUrl (maven.wso2.org): nodes could not download it"),
)
bad(
    "zone-holds-the-svn-host",
    {**SVN, "privateZoneName": "svn.example.com"},
    ("privateZoneName", "must not contain the host of svnUrl (svn.example.com): nodes could not reach it"),
)

# --- clustering: membership, ports ------------------------------------------------------------
WKA = {"membershipScheme": "wka"}
ok("wka-5-members-4-workers", {**WKA, "wkaMemberCount": "5", "workerCount": "4"})
ok("wka-2-members-1-worker", {**WKA, "wkaMemberCount": "2", "workerCount": "1"})
bad(
    "wka-5-members-3-workers",
    {**WKA, "wkaMemberCount": "5", "workerCount": "3"},
    ("wkaMemberCount", "must be at most the number of nodes, workerCount + 1 = 4"),
)
bad(
    "wka-3-members-1-worker",
    {**WKA, "wkaMemberCount": "3", "workerCount": "1"},
    ("wkaMemberCount", "must be at most the number of nodes, workerCount + 1 = 2"),
)
bad("wka-6-members", {**WKA, "wkaMemberCount": "6", "workerCount": "10"}, ("wkaMemberCount", integer(2, 5)))
bad("wka-1-member", {**WKA, "wkaMemberCount": "1"}, ("wkaMemberCount", integer(2, 5)))
ok("wka-port-1024", {**WKA, "clusterPort": "1024"})
ok("wka-port-65535", {**WKA, "clusterPort": "65535"})
ok("wka-port-jmx-moved-by-offset", {**WKA, "clusterPort": "9999", "portOffset": "1"})
bad("wka-port-1023", {**WKA, "clusterPort": "1023"}, ("clusterPort", integer(1024, 65535)))
bad("wka-port-65536", {**WKA, "clusterPort": "65536"}, ("clusterPort", integer(1024, 65535)))
for port, offset, problem in (
    ("9763", "0", HTTP_PORTS),
    ("9443", "0", HTTP_PORTS),
    ("10443", "1000", HTTP_PORTS),
    ("10763", "1000", HTTP_PORTS),
    ("9999", "0", JMX_PORTS),
    ("11111", "0", JMX_PORTS),
    ("12111", "1000", JMX_PORTS),
    ("10999", "1000", JMX_PORTS),
):
    bad(
        f"wka-port-{port}-offset-{offset}", {**WKA, "clusterPort": port, "portOffset": offset}, ("clusterPort", problem)
    )
ok("aws-port-5701", {"clusterPort": "5701"})
ok("aws-port-5800", {"clusterPort": "5800"})
bad("aws-port-5700", {"clusterPort": "5700"}, ("clusterPort", AWS_PORTS))
bad("aws-port-5801", {"clusterPort": "5801"}, ("clusterPort", AWS_PORTS))
ok("portOffset-1000-with-forward", {"portOffset": "1000", "httpMode": "forward"})
ok("clusterDomain-100", {"clusterDomain": "d" * 100})
for domain in ("d" * 101, "wso2 domain", ".wso2", "wso2/as", ""):
    bad(
        f"clusterDomain-{domain[:8]!r}",
        {"clusterDomain": domain},
        ("clusterDomain", "must be 1 to 100 letters, digits, dots, underscores or hyphens"),
    )

# --- deployment synchronizer ------------------------------------------------------------------
ok("svn-complete", SVN)
ok("svn-https-own-port", {**SVN, "svnUrl": "https://svn.example.com:8443/repos/wso2"})
ok("svn-user-64", {**SVN, "svnUser": "u" * 64})
for key, problem in (
    ("svnUrl", SVN_REQUIRED),
    ("svnUser", SVN_REQUIRED),
    ("svnPassword", SVN_REQUIRED),
    ("svnKitSha256", SHA_REQUIRED),
    ("trileadSshSha256", SHA_REQUIRED),
):
    bad(f"svn-without-{key}", {**SVN, key: None}, (key, problem, None))
    bad(f"{key}-without-svn", {key: SVN[key]}, (key, SVN_ONLY, "[secret]" if key == "svnPassword" else SVN[key]))
for url in (
    "ftp://svn.example.com/repos",
    "http://svn.example.com/repos",
    "svn://svn.example.com/repos",
    "svn://svn.example.com:3691/repos",
    "svn+ssh://svn.example.com/repos",
    "svn://svn.example.com:0/repos",
    "https://svn.example.com:99999/repos",
    "https:// svn.example.com/repos",
    "svn.example.com/repos",
):
    bad(f"svnUrl-{url}", {**SVN, "svnUrl": url}, ("svnUrl", SVN_URL))
bad(
    "svnUrl-credentials",
    {**SVN, "svnUrl": "https://me:pw@svn.example.com/repos"},
    ("svnUrl", "must not carry credentials (user:password@): use svnUser and svnPassword"),
)
for user in ("u" * 65, "me@corp", "dom:me", "a b", "a/b"):
    bad(
        f"svnUser-{user[:6]}",
        {**SVN, "svnUser": user},
        ("svnUser", "must be 1 to 64 characters, without spaces, @, : or /"),
    )
bad("svnKitSha256-bad", {**SVN, "svnKitSha256": "abc"}, ("svnKitSha256", SHA))
bad(
    "svnUser-control-character",
    {**SVN, "svnUser": "sync\x01"},
    ("svnUser", "must be 1 to 64 characters, without spaces, @, : or /"),
)
bad("svnPassword-empty", {**SVN, "svnPassword": ""}, ("svnPassword", "must be a non-empty string", "[secret]"))
bad(
    "svnPassword-control-character",
    {**SVN, "svnPassword": "pa\x1bss"},
    ("svnPassword", "must not hold control characters (the nodes write it into carbon.xml)", "[secret]"),
)
ok("svnPassword-anything-printable", {**SVN, "svnPassword": "p@ss:w/rd <&> \"'\\ é"})

# --- existing VPC, load balancer, database and operations keys -------------------------------
EXISTING = {
    "vpcId": "vpc-0123456789abcdef0",
    "publicSubnetIds": ["subnet-0123456a", "subnet-0123456b"],
    "privateSubnetIds": ["subnet-0123456c", "subnet-0123456789abcdef0"],
}
ok("existing-vpc", EXISTING)
bad(
    "existing-vpc-one-public-subnet",
    {**EXISTING, "publicSubnetIds": ["subnet-0123456a"]},
    ("publicSubnetIds", "must list at least 2 subnets when vpcId is set"),
)
bad(
    "existing-vpc-shared-subnet",
    {**EXISTING, "privateSubnetIds": ["subnet-0123456a", "subnet-0123456c"]},
    ("privateSubnetIds", "must not repeat a subnet of publicSubnetIds"),
)
bad(
    "subnets-without-vpc",
    {"privateSubnetIds": ["subnet-0123456a", "subnet-0123456b"]},
    ("privateSubnetIds", "needs vpcId (the subnets of an existing VPC)"),
)
bad("vpcId-short", {"vpcId": "vpc-12"}, ("vpcId", "must be a VPC id like vpc-0123456789abcdef0"))
bad(
    "subnet-id-bad",
    {**EXISTING, "publicSubnetIds": ["subnet-xyz", "subnet-0123456b"]},
    ("publicSubnetIds", "must be a list of subnet ids"),
)
ok("accessLogsBucket", {"accessLogsBucket": "my-alb-logs.example.com"})
for bucket in (
    "My_Logs",
    "ab",
    "192.168.1.1",
    "sthree-logs",
    "logs-s3alias",
    "logs--ol-s3",
    "logs--x-s3",
    "a" * 64,
    "logs-",
    "logs..x",
):
    bad(f"accessLogsBucket-{bucket[:12]}", {"accessLogsBucket": bucket}, ("accessLogsBucket", BUCKET))
bad(
    "accessLogsBucket-without-logs",
    {"accessLogs": "false", "accessLogsBucket": "my-alb-logs"},
    ("accessLogsBucket", "only used when accessLogs is true"),
)
ok("publicZoneId", {"publicZoneId": "Z0123456789ABCDEFGHIJ"})
bad(
    "publicZoneId-lower",
    {"publicZoneId": "z0123"},
    ("publicZoneId", "must be a Route 53 hosted zone id like Z0123456789ABC"),
)
ok("healthPath-1024", {"workerHealthCheckPath": "/" + "p" * 1023, "managerHealthCheckPath": "/carbon/?x=1&y=%20"})
for path in ("/" + "p" * 1024, "health", "/a b", "", "/é"):
    bad(
        f"healthPath-{len(path)}-{path[:3]!r}",
        {"workerHealthCheckPath": path},
        ("workerHealthCheckPath", "must be a URL path starting with /, at most 1024 characters"),
    )
for days in aws_facts.LOG_RETENTION_DAYS[::7]:
    ok(f"logRetentionDays-{days}", {"logRetentionDays": str(days)}, check=lambda c, d=days: c.log_retention_days == d)
for days in ("0", "2", "31", "3654", "thirty", "-1", "30.0"):
    bad(f"logRetentionDays-{days}", {"logRetentionDays": days}, ("logRetentionDays", LOG_DAYS))
ok("alarmEmail", {"alarmEmail": "wso2-oncall+alerts@ops.example.co.uk"})
for email in ("oncall", "a b@example.com", "ops@localhost", "@example.com", "ops@example", "ops@@example.com"):
    bad(f"alarmEmail-{email}", {"alarmEmail": email}, ("alarmEmail", "must be an e-mail address"))
ok("adminUsername-30", {"adminUsername": "a" + "b" * 29})
for user in ("ad", "a" + "b" * 30, "1admin", "adm@in", "adm in", "admin/x"):
    bad(
        f"adminUsername-{user[:6]}",
        {"adminUsername": user},
        ("adminUsername", "must be 3 to 30 letters, digits, . _ or -, starting with a letter"),
    )
ok("adminPassword-5", {"adminPassword": "Ab1!x"})
WEAK_ON_PROD = (
    "on a stack with deletion protection it must have at least 12 characters and be none of admin, wso2carbon "
    "or adminUsername"
)
for label, password, weakness in (
    ("admin", "admin", "is a stock value or the admin user name"),
    ("wso2carbon", "WSO2Carbon", "is a stock value or the admin user name"),
    ("username", "Wso2.Ops", "is a stock value or the admin user name"),
    ("11-characters", "Abcdef-1234", "has fewer than 12 characters"),
):
    bad(
        f"adminPassword-weak-on-prod-{label}",
        {"adminPassword": password, "adminUsername": "wso2.ops"},
        ("adminPassword", f"{weakness}: {WEAK_ON_PROD}", "[secret]"),
        stack="prod",
    )
ok("adminPassword-12-characters-on-prod", {"adminPassword": "Abcdef-12345"}, stack="prod")
ok("adminPassword-weak-on-dev-is-a-warning", {"adminPassword": "admin"})
ok("adminPassword-30", {"adminPassword": "A" * 29 + "!"})
for i, password in enumerate(("Ab1!", "A" * 31, "has space", "tab\tx", "ctl\x01chars")):
    bad(f"adminPassword-bad-{i}", {"adminPassword": password}, ("adminPassword", ADMIN_PASSWORD, "[secret]"))
ok("waf", {"webApplicationFirewall": "true", "wafRateLimit": "100"})

# --- the prod stack's own shape ---------------------------------------------------------------
ok("prod", {}, stack="prod")
ok(
    "prod-in-cn",
    {
        "aws:region": "cn-north-1",
        **WKA,
        "certificateArn": CERT.replace("arn:aws:", "arn:aws-cn:").replace("eu-west-1", "cn-north-1"),
    },
    stack="prod",
)
bad(
    "prod-certificate-left-in-eu-west-1",
    {"aws:region": "me-central-1"},
    (
        "certificateArn",
        "must be a certificate in the stack's region me-central-1 (an ALB uses certificates of its region)",
        CERT,
    ),
    stack="prod",
)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_configuration(case: Case):
    found = problems(case.overrides, stack=case.stack)
    assert found == case.expected
    for problem in found:
        assert LINE.fullmatch(problem), problem  # invalid config <key> = <value>: <allowed>
    if not case.expected and case.check:
        assert case.check(parse(case.overrides, stack=case.stack))


def test_the_table_is_large_and_two_sided():
    accepted = [c for c in CASES if not c.expected]
    rejected = [c for c in CASES if c.expected]
    assert len(CASES) >= 300 and len(accepted) >= 100 and len(rejected) >= 200
    assert len({c.id for c in CASES}) == len(CASES), "case ids must be unique"
    # each rejected case names exactly the keys its overrides (or their cross-key rules) concern
    assert all(len(c.expected) == len(set(c.expected)) for c in rejected)
