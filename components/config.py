"""The stack configuration: one immutable, fully validated object with defaults applied.

`Pulumi.yaml` declares every key that has a default (type, default, description) and the required
`productArtifactUrl` for the Pulumi CLI; `OPTIONAL_KEYS` describes the rest. This module is
what the program reads; `tests/config/test_schema.py` keeps the three in step.

Every problem becomes one line naming the key, the value given and what is allowed, and all
problems are reported at once — single-key problems and cross-key ones alike:

    invalid config wso2-cluster:workerCount = 0: must be an integer from 1 to 50

Validation runs in three passes: each key on its own; then every cross-key rule whose keys are
all valid; then, when nothing is wrong yet, a trial render of the nodes' user data, so that no
check the renderer makes can fail later, halfway through `pulumi up`. `load_config()` raises
`ConfigError` (a `pulumi.RunError`, which the Pulumi CLI prints without a traceback) before the
program declares any resource. `posture_warnings()` lists what is allowed but unwise.
"""

from __future__ import annotations

import difflib
import ipaddress
import json
import os
import re
from typing import Annotated, Any, Callable, Collection, Iterator, Mapping, Optional
from urllib.parse import urlsplit

import pulumi
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, SecretStr, TypeAdapter, ValidationError

from components import aws_facts, naming
from userdata import jvm, limits

PROJECT = "wso2-cluster"
MAX_WORKERS = 50
DEFAULT_JDBC_DRIVER_URL = (
    "https://repo1.maven.org/maven2/com/mysql/mysql-connector-j/8.4.0/mysql-connector-j-8.4.0.jar"
)
# WSO2's published SVNKit bundle and SSH library for the SVN deployment synchronizer (WSO2 does
# not ship them, for licence reasons).
# Where WSO2's docs (Configuring the SVN-based deployment synchronizer, Carbon 4.4) point.
DEFAULT_SVNKIT_URL = "https://product-dist.wso2.com/tools/svnkit-all-1.8.7.wso2v1.jar"
DEFAULT_TRILEAD_SSH_URL = ("https://maven.wso2.org/nexus/content/groups/wso2-public/com/trilead/trilead-ssh2/"
                           "1.0.0-build215/trilead-ssh2-1.0.0-build215.jar")
# Tags the program sets itself on some resources (Name, wso2:role and the discovery tag on
# nodes); AWS allows 50 per resource, so that many fewer are left for the stack's own tags.
PROGRAM_TAGS_PER_RESOURCE = 3
MAX_EXTRA_TAGS = aws_facts.MAX_TAGS_PER_RESOURCE - PROGRAM_TAGS_PER_RESOURCE
# An ALB rule takes at most 5 condition values: the host plus 4 source CIDRs per rule.
CIDRS_PER_MANAGEMENT_RULE = aws_facts.ALB_CONDITION_VALUES_PER_RULE - 1
MAX_MANAGEMENT_CIDRS = 20


class ConfigError(pulumi.RunError):
    """Invalid stack configuration; the message holds one line per problem."""


# --- value parsers: each accepts what the Pulumi CLI passes (strings) and plain Python values,
# --- and raises ValueError("<what is allowed>") so the message needs no translation.


def _integer(lo: int, hi: int) -> Callable[[Any], int]:
    def parse(value: Any) -> int:
        text = str(value).strip()
        if isinstance(value, bool) or not re.fullmatch(r"[+-]?[0-9]{1,18}", text) or not lo <= int(text) <= hi:
            raise ValueError(f"must be an integer from {lo} to {hi}")
        return int(text)

    return parse


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text not in ("true", "false"):
        raise ValueError("must be true or false")
    return text == "true"


def _pattern(regex: str, allowed: str) -> Callable[[Any], str]:
    compiled = re.compile(regex)

    def parse(value: Any) -> str:
        if not isinstance(value, str) or not compiled.fullmatch(value):
            raise ValueError(f"must be {allowed}")
        return value

    return parse


def _choice(*options: str) -> Callable[[Any], str]:
    def parse(value: Any) -> str:
        if value not in options:
            raise ValueError("must be one of: " + ", ".join(options))
        return value

    return parse


def _list_of(item: Callable[[Any], Any], allowed: str, min_items: int = 0,
             max_items: Optional[int] = None, detail: bool = False) -> Callable[[Any], tuple]:
    """An array key: the CLI passes it as a JSON string; tests may pass a list. With `detail`,
    the message also says what is wrong with the first bad item."""

    def parse(value: Any) -> tuple:
        items = value
        if isinstance(value, str):
            try:
                items = json.loads(value)
            except json.JSONDecodeError:
                items = None
        problem = f"must be a list of {allowed}"
        if min_items:
            problem += f", at least {min_items}"
        if max_items is not None:
            problem += f", at most {max_items}"
        if isinstance(items, tuple):
            items = list(items)
        if not isinstance(items, list) or len(items) < min_items or (max_items is not None and len(items) > max_items):
            raise ValueError(problem)
        parsed = []
        for x in items:
            try:
                parsed.append(item(x))
            except (ValueError, TypeError) as error:
                raise ValueError(problem + (f" ({json.dumps(x)}: {error})" if detail else "")) from None
        parsed = tuple(parsed)
        if len(set(parsed)) != len(parsed):
            raise ValueError(problem + ", without duplicates")
        return parsed

    return parse


def _ipv4_cidr(value: Any) -> str:
    try:
        network = ipaddress.IPv4Network(value, strict=True)
    except (ipaddress.AddressValueError, ipaddress.NetmaskValueError, ValueError, TypeError):
        raise ValueError("must be an IPv4 CIDR block like 203.0.113.0/24") from None
    if "/" not in str(value):
        raise ValueError("must be an IPv4 CIDR block like 203.0.113.0/24")
    return str(network)


# Private ranges a VPC may use: RFC 1918 and RFC 6598's shared space (Python's is_private also
# counts loopback, link-local and documentation ranges, which AWS refuses for a VPC).
VPC_RANGES = tuple(ipaddress.IPv4Network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10"))


def _vpc_cidr(value: Any) -> str:
    cidr = _ipv4_cidr(value)
    network = ipaddress.IPv4Network(cidr)
    if not 16 <= network.prefixlen <= 20 or not any(network.subnet_of(r) for r in VPC_RANGES):
        raise ValueError("must be a private IPv4 CIDR block from /16 to /20, like 10.20.0.0/16")
    return cidr


def _url(value: Any) -> str:
    location = limits.check_download_url(value)
    if location.scheme == "https" and limits.url_port(value) not in (None, 443):
        raise ValueError("must use port 443: the nodes' security group opens outbound HTTPS on port 443 only")
    return value


def _tag(value: Any) -> str:
    if not isinstance(value, str) or "=" not in value:
        raise ValueError("a tag must be KEY=VALUE")
    key, tag_value = value.split("=", 1)
    aws_facts.check_tag(key, tag_value)
    return value


def _secret(check: Callable[[str], None]) -> Callable[[Any], SecretStr]:
    def parse(value: Any) -> SecretStr:
        text = value.get_secret_value() if isinstance(value, SecretStr) else value
        if not isinstance(text, str):
            raise ValueError("must be a string")
        check(text)
        return SecretStr(text)

    return parse


def _db_password(text: str) -> None:
    if not re.fullmatch(r"[\x21-\x7e]{8,41}", text) or re.search(r"[/@\"']", text):
        raise ValueError("must be 8 to 41 printable ASCII characters other than / @ \" ' and space")


def _admin_password(text: str) -> None:
    if not limits.ADMIN_PASSWORD.fullmatch(text):
        raise ValueError("must be 5 to 30 characters without spaces (the WSO2 user store's password rule)")


def _mysql_user(value: Any) -> str:
    if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{0,15}", value):
        raise ValueError("must be 1 to 16 letters, digits or _, starting with a letter")
    if value.lower() in aws_facts.MYSQL_RESERVED_USER_NAMES:
        raise ValueError("must not be an RDS account name (rdsadmin, rdsrepladmin, rdsproxyadmin) or a MySQL reserved word")
    return value


# Tags the program sets on the nodes itself; the discovery tag must not replace them.
PROGRAM_TAG_KEYS = ("Name", "wso2:role")


def _discovery_tag_key(value: Any) -> str:
    aws_facts.check_tag_key(value)
    if value in PROGRAM_TAG_KEYS:
        raise ValueError("must not be Name or wso2:role (the program sets those tags on the nodes)")
    return value


def _non_empty(text: str) -> None:
    if not text:
        raise ValueError("must be a non-empty string")


def _svn_password(text: str) -> None:
    _non_empty(text)
    if re.search(r"[\x00-\x1f\x7f]", text):
        raise ValueError("must not hold control characters (the nodes write it into carbon.xml)")


def _checked(check: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def parse(value: Any) -> Any:
        check(value)
        return value

    return parse


Int = lambda lo, hi: Annotated[int, BeforeValidator(_integer(lo, hi))]  # noqa: E731
Bool = Annotated[bool, BeforeValidator(_boolean)]
Str = lambda regex, allowed: Annotated[str, BeforeValidator(_pattern(regex, allowed))]  # noqa: E731
Checked = lambda check: Annotated[str, BeforeValidator(_checked(check))]  # noqa: E731
Choice = lambda *options: Annotated[str, BeforeValidator(_choice(*options))]  # noqa: E731
Secret = lambda check: Annotated[SecretStr, BeforeValidator(_secret(check))]  # noqa: E731
Url = Annotated[str, BeforeValidator(_url)]
Cidrs = lambda min_items, max_items=None: Annotated[  # noqa: E731
    tuple, BeforeValidator(_list_of(_ipv4_cidr, "IPv4 CIDR blocks like 203.0.113.0/24", min_items, max_items))
]
HostName = Checked(limits.check_host_name)
Sha256 = Checked(limits.check_sha256)
HealthPath = Str(r"/[\x21-\x7e]{0,1023}", "a URL path starting with /, at most 1024 characters")
SubnetIds = Annotated[tuple, BeforeValidator(_list_of(_pattern(aws_facts.SUBNET_ID, ""), "subnet ids"))]
MysqlUser = Annotated[str, BeforeValidator(_mysql_user)]


class ClusterConfig(BaseModel):
    """Every key of the `wso2-cluster` namespace, plus `aws:region`. Field aliases are the keys."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    region: Checked(aws_facts.check_region) = Field(alias="aws:region")
    # Nodes
    worker_count: Int(1, MAX_WORKERS) = Field(2, alias="workerCount")
    manager_instance_type: Checked(aws_facts.check_instance_type) = Field("t3.large", alias="managerInstanceType")
    worker_instance_type: Checked(aws_facts.check_instance_type) = Field("t3.large", alias="workerInstanceType")
    architecture: Choice("x86_64", "arm64") = Field("x86_64", alias="architecture")
    ami_id: Optional[Str(r"ami-[0-9a-f]{8}([0-9a-f]{9})?", "an AMI id like ami-0123456789abcdef0")] = Field(
        None, alias="amiId"
    )
    root_volume_size_gb: Int(20, 1024) = Field(30, alias="rootVolumeSizeGb")
    manager_heap_mb: Optional[Int(jvm.MIN_HEAP_MIB, jvm.MAX_HEAP_MIB)] = Field(None, alias="managerHeapMb")
    worker_heap_mb: Optional[Int(jvm.MIN_HEAP_MIB, jvm.MAX_HEAP_MIB)] = Field(None, alias="workerHeapMb")
    max_unavailable_workers: Optional[Int(1, MAX_WORKERS)] = Field(None, alias="maxUnavailableWorkers")
    node_health_timeout_minutes: Int(5, 120) = Field(20, alias="nodeHealthTimeoutMinutes")
    # Network
    vpc_id: Optional[Str(r"vpc-[0-9a-f]{8}([0-9a-f]{9})?", "a VPC id like vpc-0123456789abcdef0")] = Field(
        None, alias="vpcId"
    )
    public_subnet_ids: SubnetIds = Field((), alias="publicSubnetIds")
    private_subnet_ids: SubnetIds = Field((), alias="privateSubnetIds")
    vpc_cidr: Annotated[str, BeforeValidator(_vpc_cidr)] = Field("10.20.0.0/16", alias="vpcCidr")
    availability_zone_count: Int(2, 4) = Field(2, alias="availabilityZoneCount")
    nat_gateways: Choice("single", "perAz") = Field("single", alias="natGateways")
    allowed_client_cidrs: Cidrs(1) = Field(("0.0.0.0/0",), alias="allowedClientCidrs")
    # Hosts and load balancer
    service_host_name: HostName = Field("as.example.com", alias="serviceHostName")
    management_host_name: HostName = Field("mgt.as.example.com", alias="managementHostName")
    management_allowed_cidrs: Cidrs(0, MAX_MANAGEMENT_CIDRS) = Field((), alias="managementAllowedCidrs")
    certificate_arn: Optional[Checked(aws_facts.check_certificate_arn)] = Field(None, alias="certificateArn")
    self_signed_certificate: Bool = Field(False, alias="selfSignedCertificate")
    http_mode: Choice("redirect", "forward") = Field("redirect", alias="httpMode")
    worker_health_check_path: HealthPath = Field("/services/Version", alias="workerHealthCheckPath")
    manager_health_check_path: HealthPath = Field("/carbon/admin/login.jsp", alias="managerHealthCheckPath")
    manager_stickiness_seconds: Int(1, 604800) = Field(3600, alias="managerStickinessSeconds")
    worker_stickiness_seconds: Int(0, 604800) = Field(0, alias="workerStickinessSeconds")
    load_balancer_deletion_protection: Bool = Field(True, alias="loadBalancerDeletionProtection")
    access_logs: Bool = Field(True, alias="accessLogs")
    access_logs_bucket: Optional[Checked(limits.check_s3_bucket)] = Field(None, alias="accessLogsBucket")
    web_application_firewall: Bool = Field(False, alias="webApplicationFirewall")
    waf_rate_limit: Int(aws_facts.WAF_RATE_LIMIT_MIN, aws_facts.WAF_RATE_LIMIT_MAX) = Field(
        2000, alias="wafRateLimit"
    )
    public_zone_id: Optional[Str(r"Z[A-Z0-9]{1,32}", "a Route 53 hosted zone id like Z0123456789ABC")] = Field(
        None, alias="publicZoneId"
    )
    private_zone_name: HostName = Field("wso2.internal", alias="privateZoneName")
    # Clustering
    port_offset: Int(0, limits.PORT_OFFSET_MAX) = Field(0, alias="portOffset")
    cluster_domain: Str(limits.CLUSTER_DOMAIN.pattern, "1 to 100 letters, digits, dots, underscores or hyphens") = Field(
        "wso2.as.domain", alias="clusterDomain"
    )
    membership_scheme: Choice("aws", "wka") = Field("aws", alias="membershipScheme")
    cluster_port: Int(limits.CLUSTER_PORTS.start, limits.CLUSTER_PORTS.stop - 1) = Field(5701, alias="clusterPort")
    wka_member_count: Int(limits.WKA_MEMBER_COUNTS.start, limits.WKA_MEMBER_COUNTS.stop - 1) = Field(
        2, alias="wkaMemberCount"
    )
    discovery_credentials: Choice("accessKey", "instanceRole") = Field("accessKey", alias="discoveryCredentials")
    discovery_tag_key: Checked(_discovery_tag_key) = Field("wso2:cluster", alias="discoveryTagKey")
    discovery_conn_timeout_seconds: Int(1, 120) = Field(10, alias="discoveryConnTimeoutSeconds")
    # Database
    db_engine_version: Checked(aws_facts.check_mysql_version) = Field("8.4", alias="dbEngineVersion")
    db_instance_class: Checked(aws_facts.check_db_instance_class) = Field("db.t4g.medium", alias="dbInstanceClass")
    db_allocated_storage_gb: Int(20, 65536) = Field(20, alias="dbAllocatedStorageGb")
    db_max_allocated_storage_gb: Int(20, 65536) = Field(100, alias="dbMaxAllocatedStorageGb")
    db_multi_az: Bool = Field(False, alias="dbMultiAz")
    db_backup_retention_days: Int(1, 35) = Field(7, alias="dbBackupRetentionDays")
    db_deletion_protection: Bool = Field(True, alias="dbDeletionProtection")
    db_skip_final_snapshot: Bool = Field(False, alias="dbSkipFinalSnapshot")
    db_allow_replacement: Bool = Field(False, alias="dbAllowReplacement")
    db_username: MysqlUser = Field("wso2admin", alias="dbUsername")
    db_password: Optional[Secret(_db_password)] = Field(None, alias="dbPassword")
    db_app_username: MysqlUser = Field("wso2app", alias="dbAppUsername")
    # Product
    product_artifact_url: Url = Field(alias="productArtifactUrl")
    product_artifact_sha256: Optional[Sha256] = Field(None, alias="productArtifactSha256")
    jdbc_driver_url: Url = Field(DEFAULT_JDBC_DRIVER_URL, alias="jdbcDriverUrl")
    jdbc_driver_sha256: Optional[Sha256] = Field(None, alias="jdbcDriverSha256")
    admin_username: Str(limits.ADMIN_USERNAME.pattern, "3 to 30 letters, digits, . _ or -, starting with a letter") = Field(
        "admin", alias="adminUsername"
    )
    admin_password: Optional[Secret(_admin_password)] = Field(None, alias="adminPassword")
    deployment_synchronizer: Choice("none", "efs", "svn") = Field("none", alias="deploymentSynchronizer")
    svn_url: Optional[Checked(limits.check_svn_url)] = Field(None, alias="svnUrl")
    svn_user: Optional[Str(r"[^\s@:/\x00-\x1f\x7f]{1,64}", "1 to 64 characters, without spaces, @, : or /")] = Field(None, alias="svnUser")
    svn_password: Optional[Secret(_svn_password)] = Field(None, alias="svnPassword")
    svn_kit_url: Url = Field(DEFAULT_SVNKIT_URL, alias="svnKitUrl")
    svn_kit_sha256: Optional[Sha256] = Field(None, alias="svnKitSha256")
    trilead_ssh_url: Url = Field(DEFAULT_TRILEAD_SSH_URL, alias="trileadSshUrl")
    trilead_ssh_sha256: Optional[Sha256] = Field(None, alias="trileadSshSha256")
    # Operations
    log_retention_days: Annotated[int, BeforeValidator(aws_facts.check_log_retention)] = Field(
        30, alias="logRetentionDays")
    alarm_email: Optional[Str(r"[^@\s]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,63}", "an e-mail address")] = Field(
        None, alias="alarmEmail"
    )
    tags: Annotated[tuple, BeforeValidator(_list_of(_tag, "KEY=VALUE tags", max_items=MAX_EXTRA_TAGS, detail=True))] = Field(
        (), alias="tags"
    )

    def heap_mb(self, role: str) -> int:
        """The node's JVM heap: the key's value, else sized to the instance type's memory."""
        heap, instance_type = ((self.manager_heap_mb, self.manager_instance_type) if role == "manager"
                               else (self.worker_heap_mb, self.worker_instance_type))
        return heap or jvm.default_heap_mib(aws_facts.instance_memory_mib(instance_type))

    @property
    def max_unavailable(self) -> int:
        """Workers replaced at once: the key, else a quarter of the workers, at least 1."""
        return self.max_unavailable_workers or max(1, self.worker_count // 4)

    @property
    def database_host_name(self) -> str:
        return naming.database_host_name(self.private_zone_name)

    @property
    def extra_tags(self) -> dict[str, str]:
        return dict(tag.split("=", 1) for tag in self.tags)

    @property
    def partition(self) -> aws_facts.Partition:
        return aws_facts.partition_of(self.region)

    @property
    def prod_like(self) -> bool:
        """A stack whose database or load balancer is protected against deletion."""
        return self.db_deletion_protection or self.load_balancer_deletion_protection

    @property
    def http_port(self) -> int:
        return limits.WSO2_HTTP_PORT + self.port_offset

    @property
    def https_port(self) -> int:
        return limits.WSO2_HTTPS_PORT + self.port_offset


# Optional keys without a default, which Pulumi.yaml does not declare: the Pulumi CLI requires
# every declared key of the project's namespace that has no default, and refuses a declared
# `secret: true` key whose stack value is not encrypted, so these could not stay unset. The
# program validates them like every other key; here is what each means (README: Configuration).
OPTIONAL_KEYS = {
    "amiId": (
        "Pin the nodes to this AMI id; without it they run the latest Amazon Linux 2023 of the architecture "
        "as of the first deploy (a new AL2023 release replaces no node; a new amiId rolls them)."
    ),
    "maxUnavailableWorkers": (
        "Workers a rolling change replaces or restarts at once (1 to workerCount); default a quarter of the "
        "workers, at least 1."
    ),
    "managerHeapMb": (
        "The manager's JVM heap in MiB (-Xms and -Xmx); default the most its instance type's memory leaves "
        "after the OS, the agents and the JVM's own memory."
    ),
    "workerHeapMb": "A worker's JVM heap in MiB, as managerHeapMb is the manager's.",
    "vpcId": (
        "Use this existing VPC instead of creating one (then publicSubnetIds and privateSubnetIds are "
        "required)."
    ),
    "publicSubnetIds": "With vpcId, at least two public subnets in different AZs for the load balancer.",
    "privateSubnetIds": (
        "With vpcId, at least two private subnets in different AZs (with outbound internet) for nodes and "
        "database."
    ),
    "certificateArn": (
        "ACM certificate ARN (same region) for the HTTPS listener; required unless selfSignedCertificate is "
        "true."
    ),
    "accessLogsBucket": "An existing S3 bucket for the access logs (its policy must allow ELB log delivery).",
    "publicZoneId": (
        "Route 53 public hosted zone id; when set, alias records for both host names point at the load "
        "balancer."
    ),
    "dbPassword": "Database master password (pulumi config set --secret); a random one is generated when unset.",
    "productArtifactSha256": "SHA-256 of the product zip; nodes refuse a zip that does not match.",
    "jdbcDriverSha256": "SHA-256 of the JDBC driver jar; nodes refuse a jar that does not match.",
    "adminPassword": (
        "Password of the admin account (pulumi config set --secret; 5 to 30 characters, no spaces); a random "
        "one is generated when unset."
    ),
    "svnUrl": "With deploymentSynchronizer svn, the repository URL.",
    "svnUser": "With deploymentSynchronizer svn, the repository user.",
    "svnPassword": "With deploymentSynchronizer svn, the repository password (pulumi config set --secret).",
    "svnKitSha256": "With deploymentSynchronizer svn, the SHA-256 of the SVNKit bundle (required).",
    "trileadSshSha256": "With deploymentSynchronizer svn, the SHA-256 of the trilead SSH library (required).",
    "alarmEmail": "An e-mail address subscribed to the alarm topic (AWS asks it to confirm).",
}
_FIELDS_BY_ALIAS = {field.alias: name for name, field in ClusterConfig.model_fields.items()}
_PROJECT_KEYS = [alias for alias in _FIELDS_BY_ALIAS if ":" not in alias]
_ADAPTERS = {
    field.alias: TypeAdapter(Annotated[(field.annotation, *field.metadata)] if field.metadata else field.annotation)
    for field in ClusterConfig.model_fields.values()
}
SECRET_KEYS = frozenset({"dbPassword", "svnPassword", "adminPassword"})
_REQUIRED = {
    "aws:region": "set it with `pulumi config set aws:region eu-west-1` (or AWS_REGION)",
    "productArtifactUrl": "the s3:// or https:// location of the WSO2 AS zip",
}


# --- cross-key rules. Each yields (key, what is allowed); it reads values through `v[...]`,
# --- which skips the rule when one of its keys is itself invalid (that key is reported alone).


class _Invalid(Exception):
    """A rule read a key whose own value is invalid: the rule does not apply."""


class _Values:
    def __init__(self, parsed: Mapping[str, Any], invalid: set[str], extra: Mapping[str, Any] = None):
        self._parsed, self._invalid, self._extra = parsed, invalid, dict(extra or {})

    def __getitem__(self, key: str) -> Any:
        if key in self._invalid:
            raise _Invalid(key)
        if key in self._parsed:
            return self._parsed[key]
        if key in self._extra:  # keys of other namespaces the rules read (aws:defaultTags)
            return self._extra[key]
        return ClusterConfig.model_fields[_FIELDS_BY_ALIAS[key]].default

    def valid(self, *keys: str) -> bool:
        """True when none of `keys` is itself invalid (a rule may then read them)."""
        return not any(key in self._invalid for key in keys)


Rule = Callable[[_Values], Iterator[tuple[str, str]]]
_RULES: list[Rule] = []


def _rule(function: Rule) -> Rule:
    _RULES.append(function)
    return function


# Rules are small on purpose: one rule per combination of keys, so that an invalid key hides
# only the rules that read it, never an unrelated problem.


@_rule
def _distinct_hosts(v: _Values):
    if v["serviceHostName"] == v["managementHostName"]:
        yield "managementHostName", "must differ from serviceHostName (host-based routing tells them apart)"


@_rule
def _existing_vpc(v: _Values):
    public, private = v["publicSubnetIds"], v["privateSubnetIds"]
    if v["vpcId"]:
        if len(public) < 2:
            yield "publicSubnetIds", "must list at least 2 subnets when vpcId is set"
        if len(private) < 2:
            yield "privateSubnetIds", "must list at least 2 subnets when vpcId is set"
        if set(public) & set(private):
            yield "privateSubnetIds", "must not repeat a subnet of publicSubnetIds"
    else:
        if public:
            yield "publicSubnetIds", "needs vpcId (the subnets of an existing VPC)"
        if private:
            yield "privateSubnetIds", "needs vpcId (the subnets of an existing VPC)"


def _instance_type_rule(key: str) -> Rule:
    def rule(v: _Values):
        problem = aws_facts.instance_type_architecture_problem(v[key], v["architecture"])
        if problem:
            yield key, problem

    return rule


_rule(_instance_type_rule("managerInstanceType"))
_rule(_instance_type_rule("workerInstanceType"))


def _heap_rule(role: str) -> Rule:
    type_key, heap_key = f"{role}InstanceType", f"{role}HeapMb"

    def rule(v: _Values):
        instance_type, heap = v[type_key], v[heap_key]
        memory = aws_facts.instance_memory_mib(instance_type)
        if memory is None:
            if heap is None:
                yield heap_key, f"required: the memory of {instance_type} is not in this release's table"
        elif heap is not None and heap > jvm.max_heap_mib(memory):
            yield heap_key, (f"must be at most {jvm.max_heap_mib(memory)} on {instance_type} ({memory} MiB): the OS, "
                             "the agents and the JVM's non-heap memory need the rest")

    return rule


_rule(_heap_rule("manager"))
_rule(_heap_rule("worker"))


@_rule
def _aws_discovery_reaches_ec2(v: _Values):
    # Hazelcast 3.5's AWS discovery calls ec2.<region>.amazonaws.com whatever the partition (it
    # ignores hostHeader once the region is set): there is no such endpoint in aws-cn.
    if v["membershipScheme"] == "aws" and aws_facts.partition_of(v["aws:region"]).dns_suffix != "amazonaws.com":
        yield "membershipScheme", (f"must be wka in {v['aws:region']}: Hazelcast 3.5's AWS discovery calls "
                                   f"ec2.{v['aws:region']}.amazonaws.com, which does not exist there")


@_rule
def _membership(v: _Values):
    if v["membershipScheme"] == "aws":
        if v["clusterPort"] not in limits.AWS_MODE_PORTS:
            yield "clusterPort", "must be from 5701 to 5800 when membershipScheme is aws"
    elif v["wkaMemberCount"] > v["workerCount"] + 1:
        yield "wkaMemberCount", f"must be at most the number of nodes, workerCount + 1 = {v['workerCount'] + 1}"


@_rule
def _cluster_port_is_free(v: _Values):
    offset, port = v["portOffset"], v["clusterPort"]
    if port in (limits.WSO2_HTTP_PORT + offset, limits.WSO2_HTTPS_PORT + offset):
        yield "clusterPort", "must differ from the product's HTTP and HTTPS ports (9763/9443 + portOffset)"
    elif port in tuple(jmx + offset for jmx in limits.WSO2_JMX_PORTS):
        yield "clusterPort", "must differ from the product's JMX ports (9999/11111 + portOffset)"


@_rule
def _certificate(v: _Values):
    arn, self_signed = v["certificateArn"], v["selfSignedCertificate"]
    if arn is not None and self_signed:
        yield "selfSignedCertificate", "must be false when certificateArn is set"
    if arn is None and not self_signed:
        yield "certificateArn", "required for the HTTPS listener unless selfSignedCertificate is true"


@_rule
def _certificate_region(v: _Values):
    arn = v["certificateArn"]
    if arn is not None:
        problem = aws_facts.certificate_region_problem(arn, v["aws:region"])
        if problem:
            yield "certificateArn", problem


@_rule
def _access_logs(v: _Values):
    if not v["accessLogs"] and v["accessLogsBucket"] is not None:
        yield "accessLogsBucket", "only used when accessLogs is true"


@_rule
def _storage(v: _Values):
    allocated, maximum = v["dbAllocatedStorageGb"], v["dbMaxAllocatedStorageGb"]
    if maximum < allocated:
        yield "dbMaxAllocatedStorageGb", "must be at least dbAllocatedStorageGb"
    elif allocated < maximum and maximum * 10 < allocated * 11:
        # RDS: "the maximum storage threshold must be at least 10% more than the allocated storage"
        yield "dbMaxAllocatedStorageGb", (f"must equal dbAllocatedStorageGb (no autoscaling) or be at least 10% more "
                                          f"({-(-allocated * 11 // 10)}), as RDS storage autoscaling requires")


@_rule
def _database_users(v: _Values):
    if v["dbAppUsername"].lower() == v["dbUsername"].lower():
        yield "dbAppUsername", "must differ from dbUsername (the datasources must not use the master user)"


@_rule
def _engine_and_class(v: _Values):
    problem = aws_facts.db_class_version_problem(v["dbInstanceClass"], v["dbEngineVersion"])
    if problem:
        yield "dbInstanceClass", problem


@_rule
def _deployment_synchronizer(v: _Values):
    svn = v["deploymentSynchronizer"] == "svn"
    for key in ("svnUrl", "svnUser", "svnPassword", "svnKitSha256", "trileadSshSha256"):
        if not v.valid(key):
            continue
        if svn and v[key] is None:
            yield key, "required when deploymentSynchronizer is svn" + (
                " (nodes refuse a jar they cannot check)" if key.endswith("Sha256") else "")
        if not svn and v[key] is not None:
            yield key, "only used when deploymentSynchronizer is svn"


@_rule
def _workers_in_a_batch(v: _Values):
    batch = v["maxUnavailableWorkers"]
    if batch is not None and batch > v["workerCount"]:
        yield "maxUnavailableWorkers", f"must be at most workerCount ({v['workerCount']})"


def _tag_keys(tags: tuple) -> list[str]:
    return [tag.split("=", 1)[0] for tag in tags]


@_rule
def _tags_unique(v: _Values):
    keys = [key.lower() for key in _tag_keys(v["tags"])]
    if len(set(keys)) != len(keys):
        yield "tags", "must not repeat a tag key, even in another case (IAM compares tag keys ignoring case)"


@_rule
def _tags_not_the_programs(v: _Values):
    reserved = set(PROGRAM_TAG_KEYS) | ({v["discoveryTagKey"]} if v.valid("discoveryTagKey") else set())
    taken = reserved & set(_tag_keys(v["tags"]))
    if taken:
        yield "tags", "must not set " + ", ".join(sorted(taken)) + " (the program sets it on the nodes)"


@_rule
def _default_tags(v: _Values):
    """The AWS provider's default tags (aws:defaultTags) land on every resource too."""
    default = v["aws:defaultTags"]
    if not default:
        return
    for key, value in default.items():
        try:
            aws_facts.check_tag(key, value)
        except ValueError as error:
            yield "aws:defaultTags", f"{json.dumps(key)}: {error}"
            return
    extra = _tag_keys(v["tags"])
    clash = sorted({k for k in default if k.lower() in {e.lower() for e in extra} and k not in extra})
    if clash:
        yield "aws:defaultTags", (f"must not repeat a key of tags in another case ({', '.join(clash)}): IAM compares "
                                  "tag keys ignoring case")
    program = {*PROGRAM_TAG_KEYS, v["discoveryTagKey"] if v.valid("discoveryTagKey") else "wso2:cluster"}
    count = len(set(default) | set(extra) | program)
    if count > aws_facts.MAX_TAGS_PER_RESOURCE:
        yield "aws:defaultTags", (f"with tags and the {len(program)} tags the program sets, the nodes would carry "
                                  f"{count} tags, over AWS's {aws_facts.MAX_TAGS_PER_RESOURCE} per resource")


@_rule
def _private_zone_not_aws(v: _Values):
    problem = aws_facts.private_zone_problem(v["privateZoneName"], v["aws:region"])
    if problem:
        yield "privateZoneName", problem


def _zone_hides_host_rule(key: str) -> Rule:
    def rule(v: _Values):
        zone, host = v["privateZoneName"], v[key]
        if _is_within(host, zone):
            yield "privateZoneName", f"must not contain {key} {host}: inside the VPC the private zone would hide it"

    return rule


def _zone_hides_download_rule(key: str, svn_only: bool = False) -> Rule:
    def rule(v: _Values):
        if svn_only and v["deploymentSynchronizer"] != "svn":
            return
        zone, url = v["privateZoneName"], v[key]
        if url is None:
            return
        if key == "svnUrl":
            host = urlsplit(url).hostname or ""
        else:
            location = limits.check_download_url(url)
            host = location.host if location.scheme == "https" else ""
        if host and _is_within(host.lower(), zone):
            yield "privateZoneName", (f"must not contain the host of {key} ({host}): nodes could not "
                                      + ("reach it" if key == "svnUrl" else "download it"))

    return rule


for _key in ("serviceHostName", "managementHostName"):
    _rule(_zone_hides_host_rule(_key))
for _key in ("productArtifactUrl", "jdbcDriverUrl"):
    _rule(_zone_hides_download_rule(_key))
for _key in ("svnUrl", "svnKitUrl", "trileadSshUrl"):
    _rule(_zone_hides_download_rule(_key, svn_only=True))


@_rule
def _security_group_rules(v: _Values):
    from components.firewall import rule_counts  # firewall builds on this module's model

    for group, direction, count in rule_counts(
        client_cidrs=v["allowedClientCidrs"], management_cidrs=v["managementAllowedCidrs"]
    ):
        if count > aws_facts.SECURITY_GROUP_RULES_PER_DIRECTION:
            key = "managementAllowedCidrs" if v["managementAllowedCidrs"] else "allowedClientCidrs"
            yield key, (f"needs {count} {direction} rules in the {group} security group, over AWS's default quota "
                        f"of {aws_facts.SECURITY_GROUP_RULES_PER_DIRECTION}: list fewer or wider CIDR blocks")


def _is_within(host: str, zone: str) -> bool:
    return host == zone or host.endswith("." + zone)


# --- reporting


def _qualified(key: str) -> str:
    return _one_line(key if ":" in key else f"{PROJECT}:{key}")


def _one_line(text: str) -> str:
    """Line breaks and other control characters escaped (\\n, \\r, \\u2028, ...): one problem, one line."""
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


def _shown(key: str, value: Any) -> str:
    if value is None or value == ():
        return "(not set)"
    if key in SECRET_KEYS:
        return "[secret]"
    if isinstance(value, SecretStr):
        return "[secret]"
    if value == "":
        return '""'
    if isinstance(value, (list, tuple)):
        return json.dumps(list(value))
    if isinstance(value, dict):
        return json.dumps(value)
    if isinstance(value, bool):
        return str(value).lower()
    return _one_line(str(value))  # keep each problem on one line


def _line(key: str, value: Any, allowed: str) -> str:
    return f"invalid config {_qualified(key)} = {_shown(key, value)}: {_one_line(allowed)}"


def _looks_like(namespace: str, expected: str) -> bool:
    return difflib.SequenceMatcher(None, namespace.lower(), expected).ratio() >= 0.75


def _error_text(error: ValidationError) -> str:
    problem = error.errors()[0]
    return str(problem.get("ctx", {}).get("error", problem["msg"]))


def parse_config(raw: Mapping[str, Any], *, project: str = PROJECT, stack: str = "dev",
                 secret_keys: Optional[Collection[str]] = None) -> ClusterConfig:
    """Validate raw config, keys as the CLI names them (`wso2-cluster:workerCount`, `aws:region`).

    Keys of other namespaces (e.g. `aws:profile`) are left to their providers, unless they look
    like one of ours in the wrong or a misspelt namespace. `project` and `stack` name the nodes
    of the trial render. `secret_keys`, when given, are the keys the stack holds encrypted: a
    secret key (dbPassword, adminPassword, svnPassword) set in plain text is refused.
    """
    given: dict[str, Any] = {}
    lines: list[str] = []
    default_tags = _default_tags_of(raw.get("aws:defaultTags"))
    for key, value in raw.items():
        if not isinstance(key, str):
            continue
        namespace, _, name = key.partition(":")
        if key == "aws:region":
            given[key] = value
        elif namespace == PROJECT and name in _PROJECT_KEYS:
            given[name] = value
        elif namespace == PROJECT or name in _PROJECT_KEYS or _looks_like(namespace, PROJECT):
            close = difflib.get_close_matches(name, _PROJECT_KEYS, n=1)
            hint = f"; did you mean {_qualified(close[0])}?" if close else ""
            lines.append(_line(key, value, "unknown key" + hint + " (see README: Configuration)"))
        if secret_keys is not None and name in SECRET_KEYS and namespace == PROJECT and key not in secret_keys:
            lines.append(_line(name, value, f"must be encrypted: set it with `pulumi config set --secret {name}`"))

    # Pass 1: every key on its own.
    parsed: dict[str, Any] = {}
    invalid: set[str] = set()
    for key, adapter in _ADAPTERS.items():
        if key not in given:
            if key in _REQUIRED:
                lines.append(_line(key, None, f"required: {_REQUIRED[key]}"))
                invalid.add(key)
            continue
        try:
            parsed[key] = adapter.validate_python(given[key])
        except ValidationError as error:
            lines.append(_line(key, given[key], _error_text(error)))
            invalid.add(key)
        except (TypeError, AttributeError):  # a value of a type no parser expects (not from the CLI)
            lines.append(_line(key, given[key], "has the wrong type (see README: Configuration)"))
            invalid.add(key)

    # Pass 2: every cross-key rule whose keys are valid.
    values = _Values(parsed, invalid, {"aws:defaultTags": default_tags})
    for rule in _RULES:
        try:
            lines.extend(_line(key, values[key], allowed) for key, allowed in rule(values))
        except _Invalid:
            pass
    if lines:
        raise ConfigError("\n".join(sorted(set(lines))))

    config = ClusterConfig.model_construct(**{_FIELDS_BY_ALIAS[k]: v for k, v in parsed.items()})
    # Pass 3: what the renderer checks, checked now.
    from components.node_settings import trial_render_problems  # node_settings builds on ClusterConfig

    try:
        problems = trial_render_problems(config, project=project, stack=stack)
    except Exception as error:  # noqa: BLE001 - a renderer failure must still be one clean line
        problems = [f"the nodes' user data could not be rendered: {type(error).__name__}: {_one_line(str(error))}"]
    if problems:
        raise ConfigError("\n".join(f"invalid config: {p}" for p in problems))
    return config


def _default_tags_of(value: Any) -> dict[str, str]:
    """The AWS provider's default tags (`aws:defaultTags`, {"tags": {...}}), when readable; the
    provider reports a value it cannot read itself."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            return {}
    tags = value.get("tags") if isinstance(value, dict) else None
    if not isinstance(tags, dict):
        return {}
    return {str(k): "" if v is None else str(v) for k, v in tags.items()}


def posture_warnings(config: ClusterConfig) -> list[str]:
    """What is allowed but unwise, one line each (the preview prints them, `pulumi up` logs them)."""
    warnings = []
    if config.product_artifact_sha256 is None:
        warnings.append(f"{_qualified('productArtifactSha256')} is not set: nodes install the product zip unchecked")
    if config.prod_like:
        if any(ipaddress.IPv4Network(c).prefixlen == 0 for c in config.management_allowed_cidrs):
            warnings.append(f"{_qualified('managementAllowedCidrs')} opens the management console to the internet "
                            "(0.0.0.0/0) on a stack with deletion protection")
        if config.http_mode == "forward" and any(
            ipaddress.IPv4Network(c).prefixlen == 0 for c in config.allowed_client_cidrs
        ):
            warnings.append(f"{_qualified('httpMode')} forward serves plain HTTP to the internet (0.0.0.0/0) "
                            "on a stack with deletion protection")
        if config.jdbc_driver_sha256 is None:
            warnings.append(f"{_qualified('jdbcDriverSha256')} is not set: nodes install the JDBC driver unchecked")
        if config.worker_count == 1:
            warnings.append(f"{_qualified('workerCount')} is 1 on a stack with deletion protection: a change that "
                            "replaces the worker takes the service down while it boots")
        elif config.max_unavailable >= config.worker_count:
            warnings.append(f"{_qualified('maxUnavailableWorkers')} is {config.max_unavailable} on a stack with deletion "
                            "protection: a change that replaces nodes takes every worker, and the service, down at once")
    return warnings


def read_pulumi_config() -> dict[str, Any]:
    """All config the Pulumi engine handed to this program, keyed `namespace:key`."""
    # The SDK exposes single keys only; the full map lives in the environment (PULUMI_CONFIG)
    # and in the runtime's CONFIG (set_all_config: language host, mocks, offline preview).
    raw = dict(pulumi.runtime.config.get_config_env())
    raw.update(pulumi.runtime.config.CONFIG.get())
    if "aws:region" not in raw:
        region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
        if region:
            raw["aws:region"] = region
    return raw


def load_config() -> ClusterConfig:
    raw = read_pulumi_config()
    secret_keys = {key for key in raw if pulumi.runtime.is_config_secret(key)}
    return parse_config(raw, project=pulumi.get_project(), stack=pulumi.get_stack(), secret_keys=secret_keys)
