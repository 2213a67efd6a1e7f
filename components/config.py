"""The stack configuration: one immutable, fully validated object with defaults applied.

`Pulumi.yaml` declares every key (type, default, description) for the Pulumi CLI; this module
is what the program reads. `tests/config/test_schema.py` keeps the two in step.

Every invalid value becomes one line naming the key, the value given and what is allowed:

    invalid config wso2-cluster:workerCount = 0: must be an integer from 1 to 50

`load_config()` raises `ConfigError` (a `pulumi.RunError`, which the Pulumi CLI prints without
a traceback) before the program declares any resource.
"""

from __future__ import annotations

import difflib
import ipaddress
import json
import os
import re
from typing import Annotated, Any, Callable, Mapping, Optional

import pulumi
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, SecretStr, ValidationError, model_validator

PROJECT = "wso2-cluster"
MAX_WORKERS = 50
AWS_MODE_PORTS = range(5701, 5801)  # WSO2's documented Hazelcast port range for AWS discovery
WSO2_HTTP_PORT = 9763
WSO2_HTTPS_PORT = 9443
DEFAULT_JDBC_DRIVER_URL = (
    "https://repo1.maven.org/maven2/com/mysql/mysql-connector-j/8.4.0/mysql-connector-j-8.4.0.jar"
)


class ConfigError(pulumi.RunError):
    """Invalid stack configuration; the message holds one line per problem."""


# --- value parsers: each accepts what the Pulumi CLI passes (strings) and plain Python values,
# --- and raises ValueError("<what is allowed>") so the message needs no translation.


def _integer(lo: int, hi: int) -> Callable[[Any], int]:
    def parse(value: Any) -> int:
        text = str(value).strip()
        if isinstance(value, bool) or not re.fullmatch(r"[+-]?\d+", text) or not lo <= int(text) <= hi:
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


def _list_of(item: Callable[[Any], Any], allowed: str, min_items: int = 0) -> Callable[[Any], tuple]:
    """An array key: the CLI passes it as a JSON string; tests may pass a list."""

    def parse(value: Any) -> tuple:
        items = value
        if isinstance(value, str):
            try:
                items = json.loads(value)
            except json.JSONDecodeError:
                items = None
        problem = f"must be a list of {allowed}" + (f", at least {min_items}" if min_items else "")
        if not isinstance(items, list) or len(items) < min_items:
            raise ValueError(problem)
        try:
            parsed = tuple(item(x) for x in items)
        except ValueError:
            raise ValueError(problem) from None
        if len(set(parsed)) != len(parsed):
            raise ValueError(problem + ", without duplicates")
        return parsed

    return parse


def _host_name(value: Any) -> str:
    label = r"(?!-)[a-z0-9-]{1,63}(?<!-)"
    if not isinstance(value, str) or len(value) > 253 or not re.fullmatch(rf"{label}(\.{label})+", value):
        raise ValueError("must be a lower-case DNS host name like as.example.com")
    return value


def _ipv4_cidr(value: Any) -> str:
    try:
        network = ipaddress.IPv4Network(value, strict=True)
    except (ipaddress.AddressValueError, ipaddress.NetmaskValueError, ValueError, TypeError):
        raise ValueError("must be an IPv4 CIDR block like 203.0.113.0/24") from None
    if "/" not in str(value):
        raise ValueError("must be an IPv4 CIDR block like 203.0.113.0/24")
    return str(network)


def _vpc_cidr(value: Any) -> str:
    cidr = _ipv4_cidr(value)
    network = ipaddress.IPv4Network(cidr)
    if not 16 <= network.prefixlen <= 20 or not network.is_private:
        raise ValueError("must be a private IPv4 CIDR block from /16 to /20, like 10.20.0.0/16")
    return cidr


def _artifact_url(value: Any) -> str:
    if not isinstance(value, str) or not re.fullmatch(
        r"s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/\S+|https://[A-Za-z0-9.-]+(:\d+)?/\S+", value
    ):
        raise ValueError("must be an s3://bucket/key URI or an https:// URL of the file")
    return value


def _tag(value: Any) -> str:
    if not isinstance(value, str) or not re.fullmatch(r"(?!aws:)[\w .:/=+@-]{1,128}=[\w .:/=+@-]{0,256}", value):
        raise ValueError("a tag must be KEY=VALUE, the key not starting with aws:")
    return value


def _db_password(value: Any) -> SecretStr:
    text = value.get_secret_value() if isinstance(value, SecretStr) else value
    if not isinstance(text, str) or not re.fullmatch(r"[\x21-\x7e]{8,41}", text) or re.search(r"[/@\"']", text):
        raise ValueError("must be 8 to 41 printable ASCII characters other than / @ \" ' and space")
    return SecretStr(text)


def _secret_text(value: Any) -> SecretStr:
    text = value.get_secret_value() if isinstance(value, SecretStr) else value
    if not isinstance(text, str) or not text:
        raise ValueError("must be a non-empty string")
    return SecretStr(text)


_INSTANCE_SIZE = r"(nano|micro|small|medium|large|xlarge|[1-9]\d*xlarge|metal(-[1-9]\d*xl)?)"
Int = lambda lo, hi: Annotated[int, BeforeValidator(_integer(lo, hi))]  # noqa: E731
Bool = Annotated[bool, BeforeValidator(_boolean)]
Str = lambda regex, allowed: Annotated[str, BeforeValidator(_pattern(regex, allowed))]  # noqa: E731
Choice = lambda *options: Annotated[str, BeforeValidator(_choice(*options))]  # noqa: E731
HostName = Annotated[str, BeforeValidator(_host_name)]
InstanceType = Str(
    rf"[a-z][a-z0-9-]*\d[a-z0-9-]*\.{_INSTANCE_SIZE}", "an EC2 instance type like t3.large or m7g.xlarge"
)
Sha256 = Str(r"[0-9a-f]{64}", "a SHA-256 hex digest (64 lower-case hex characters)")
HealthPath = Str(r"/[\x21-\x7e]{0,1023}", "a URL path starting with /")
SUBNET_ID = r"subnet-[0-9a-f]{8}([0-9a-f]{9})?"


class ClusterConfig(BaseModel):
    """Every key of the `wso2-cluster` namespace, plus `aws:region`. Field aliases are the keys."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    region: Str(r"[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d", "an AWS region name like eu-west-1") = Field(
        alias="aws:region"
    )
    # Nodes
    worker_count: Int(1, MAX_WORKERS) = Field(2, alias="workerCount")
    manager_instance_type: InstanceType = Field("t3.large", alias="managerInstanceType")
    worker_instance_type: InstanceType = Field("t3.large", alias="workerInstanceType")
    architecture: Choice("x86_64", "arm64") = Field("x86_64", alias="architecture")
    ami_id: Optional[Str(r"ami-[0-9a-f]{8}([0-9a-f]{9})?", "an AMI id like ami-0123456789abcdef0")] = Field(
        None, alias="amiId"
    )
    root_volume_size_gb: Int(20, 1024) = Field(30, alias="rootVolumeSizeGb")
    # Network
    vpc_id: Optional[Str(r"vpc-[0-9a-f]{8}([0-9a-f]{9})?", "a VPC id like vpc-0123456789abcdef0")] = Field(
        None, alias="vpcId"
    )
    public_subnet_ids: Annotated[tuple, BeforeValidator(_list_of(_pattern(SUBNET_ID, ""), "subnet ids"))] = Field(
        (), alias="publicSubnetIds"
    )
    private_subnet_ids: Annotated[tuple, BeforeValidator(_list_of(_pattern(SUBNET_ID, ""), "subnet ids"))] = Field(
        (), alias="privateSubnetIds"
    )
    vpc_cidr: Annotated[str, BeforeValidator(_vpc_cidr)] = Field("10.20.0.0/16", alias="vpcCidr")
    availability_zone_count: Int(2, 4) = Field(2, alias="availabilityZoneCount")
    nat_gateways: Choice("single", "perAz") = Field("single", alias="natGateways")
    allowed_client_cidrs: Annotated[
        tuple, BeforeValidator(_list_of(_ipv4_cidr, "IPv4 CIDR blocks like 203.0.113.0/24", min_items=1))
    ] = Field(("0.0.0.0/0",), alias="allowedClientCidrs")
    # Hosts and load balancer
    service_host_name: HostName = Field("as.example.com", alias="serviceHostName")
    management_host_name: HostName = Field("mgt.as.example.com", alias="managementHostName")
    certificate_arn: Optional[
        Str(
            r"arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate/[0-9a-f-]{36}",
            "an ACM certificate ARN like arn:aws:acm:eu-west-1:123456789012:certificate/<uuid>",
        )
    ] = Field(None, alias="certificateArn")
    self_signed_certificate: Bool = Field(False, alias="selfSignedCertificate")
    http_mode: Choice("redirect", "forward") = Field("redirect", alias="httpMode")
    worker_health_check_path: HealthPath = Field("/", alias="workerHealthCheckPath")
    manager_health_check_path: HealthPath = Field("/carbon/admin/login.jsp", alias="managerHealthCheckPath")
    manager_stickiness_seconds: Int(1, 604800) = Field(3600, alias="managerStickinessSeconds")
    load_balancer_deletion_protection: Bool = Field(True, alias="loadBalancerDeletionProtection")
    access_logs: Bool = Field(True, alias="accessLogs")
    access_logs_bucket: Optional[
        Str(r"(?!xn--)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", "an S3 bucket name like my-alb-logs")
    ] = Field(None, alias="accessLogsBucket")
    public_zone_id: Optional[Str(r"Z[A-Z0-9]{1,32}", "a Route 53 hosted zone id like Z0123456789ABC")] = Field(
        None, alias="publicZoneId"
    )
    private_zone_name: HostName = Field("wso2.internal", alias="privateZoneName")
    # Clustering
    port_offset: Int(0, 1000) = Field(0, alias="portOffset")
    cluster_domain: Str(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}", "1 to 100 letters, digits, dots, underscores or hyphens") = Field(
        "wso2.as.domain", alias="clusterDomain"
    )
    membership_scheme: Choice("aws", "wka") = Field("aws", alias="membershipScheme")
    cluster_port: Int(1024, 65535) = Field(5701, alias="clusterPort")
    wka_member_count: Int(2, 5) = Field(2, alias="wkaMemberCount")
    discovery_credentials: Choice("accessKey", "instanceRole") = Field("accessKey", alias="discoveryCredentials")
    discovery_tag_key: Str(r"(?!aws:)[\w.:/=+@-]{1,128}", "a tag key of at most 128 characters, not aws:…") = Field(
        "wso2:cluster", alias="discoveryTagKey"
    )
    discovery_conn_timeout_seconds: Int(1, 120) = Field(10, alias="discoveryConnTimeoutSeconds")
    # Database
    db_engine_version: Str(r"8\.(0|4)(\.\d{1,3})?", "a MySQL version 8.4[.x] or 8.0[.x]") = Field(
        "8.4", alias="dbEngineVersion"
    )
    db_instance_class: Str(
        rf"db\.[a-z][a-z0-9-]*\d[a-z0-9-]*\.{_INSTANCE_SIZE}", "an RDS instance class like db.t4g.medium"
    ) = Field("db.t4g.medium", alias="dbInstanceClass")
    db_allocated_storage_gb: Int(20, 65536) = Field(20, alias="dbAllocatedStorageGb")
    db_max_allocated_storage_gb: Int(20, 65536) = Field(100, alias="dbMaxAllocatedStorageGb")
    db_multi_az: Bool = Field(False, alias="dbMultiAz")
    db_backup_retention_days: Int(1, 35) = Field(7, alias="dbBackupRetentionDays")
    db_deletion_protection: Bool = Field(True, alias="dbDeletionProtection")
    db_skip_final_snapshot: Bool = Field(False, alias="dbSkipFinalSnapshot")
    db_username: Str(r"[A-Za-z][A-Za-z0-9_]{0,15}", "1 to 16 letters, digits or _, starting with a letter") = Field(
        "wso2admin", alias="dbUsername"
    )
    db_password: Optional[Annotated[SecretStr, BeforeValidator(_db_password)]] = Field(None, alias="dbPassword")
    # Product
    product_artifact_url: Annotated[str, BeforeValidator(_artifact_url)] = Field(alias="productArtifactUrl")
    product_artifact_sha256: Optional[Sha256] = Field(None, alias="productArtifactSha256")
    jdbc_driver_url: Annotated[str, BeforeValidator(_artifact_url)] = Field(
        DEFAULT_JDBC_DRIVER_URL, alias="jdbcDriverUrl"
    )
    jdbc_driver_sha256: Optional[Sha256] = Field(None, alias="jdbcDriverSha256")
    deployment_synchronizer: Choice("none", "svn") = Field("none", alias="deploymentSynchronizer")
    svn_url: Optional[Str(r"(https?|svn)://\S+", "an http(s):// or svn:// repository URL")] = Field(
        None, alias="svnUrl"
    )
    svn_user: Optional[Str(r"\S{1,128}", "a user name without spaces")] = Field(None, alias="svnUser")
    svn_password: Optional[Annotated[SecretStr, BeforeValidator(_secret_text)]] = Field(None, alias="svnPassword")
    tags: Annotated[tuple, BeforeValidator(_list_of(_tag, "KEY=VALUE tags"))] = Field((), alias="tags")

    @model_validator(mode="after")
    def _cross_checks(self) -> "ClusterConfig":
        problems: list[tuple[str, str]] = []  # (key, what is allowed)

        def need(ok: bool, key: str, allowed: str) -> None:
            if not ok:
                problems.append((key, allowed))

        need(
            self.service_host_name != self.management_host_name,
            "managementHostName",
            "must differ from serviceHostName (host-based routing tells them apart)",
        )
        if self.vpc_id:
            need(len(self.public_subnet_ids) >= 2, "publicSubnetIds", "must list at least 2 subnets when vpcId is set")
            need(len(self.private_subnet_ids) >= 2, "privateSubnetIds", "must list at least 2 subnets when vpcId is set")
            need(
                not set(self.public_subnet_ids) & set(self.private_subnet_ids),
                "privateSubnetIds",
                "must not repeat a subnet of publicSubnetIds",
            )
        else:
            need(not self.public_subnet_ids, "publicSubnetIds", "needs vpcId (the subnets of an existing VPC)")
            need(not self.private_subnet_ids, "privateSubnetIds", "needs vpcId (the subnets of an existing VPC)")
        need(
            self.architecture == "arm64" or not _is_graviton(self.manager_instance_type),
            "managerInstanceType",
            "must be an x86_64 instance type when architecture is x86_64",
        )
        need(
            self.architecture == "x86_64" or _is_graviton(self.manager_instance_type),
            "managerInstanceType",
            "must be a Graviton (arm64) instance type like m7g.large when architecture is arm64",
        )
        need(
            self.architecture == "arm64" or not _is_graviton(self.worker_instance_type),
            "workerInstanceType",
            "must be an x86_64 instance type when architecture is x86_64",
        )
        need(
            self.architecture == "x86_64" or _is_graviton(self.worker_instance_type),
            "workerInstanceType",
            "must be a Graviton (arm64) instance type like m7g.large when architecture is arm64",
        )
        for key, instance_type in (
            ("managerInstanceType", self.manager_instance_type),
            ("workerInstanceType", self.worker_instance_type),
        ):
            need(
                instance_type.split(".")[1] not in ("nano", "micro"),
                key,
                "must have at least 2 GiB of memory (small or larger): WSO2 AS needs a 1 GiB heap",
            )
        if self.membership_scheme == "aws":
            need(
                self.cluster_port in AWS_MODE_PORTS,
                "clusterPort",
                "must be from 5701 to 5800 when membershipScheme is aws",
            )
        else:
            need(
                self.wka_member_count <= self.worker_count + 1,
                "wkaMemberCount",
                f"must be at most the number of nodes, workerCount + 1 = {self.worker_count + 1}",
            )
        need(
            self.cluster_port not in (WSO2_HTTP_PORT + self.port_offset, WSO2_HTTPS_PORT + self.port_offset),
            "clusterPort",
            "must differ from the product's HTTP and HTTPS ports (9763/9443 + portOffset)",
        )
        need(
            self.certificate_arn is None or not self.self_signed_certificate,
            "selfSignedCertificate",
            "must be false when certificateArn is set",
        )
        need(
            self.certificate_arn is not None or self.self_signed_certificate,
            "certificateArn",
            "required for the HTTPS listener unless selfSignedCertificate is true",
        )
        if self.certificate_arn:
            need(
                self.certificate_arn.split(":")[3] == self.region,
                "certificateArn",
                f"must be a certificate in the stack's region {self.region} (an ALB uses certificates of its region)",
            )
        need(
            self.access_logs or self.access_logs_bucket is None,
            "accessLogsBucket",
            "only used when accessLogs is true",
        )
        need(
            self.db_max_allocated_storage_gb >= self.db_allocated_storage_gb,
            "dbMaxAllocatedStorageGb",
            "must be at least dbAllocatedStorageGb",
        )
        need(
            self.db_username.lower() not in ("admin", "rdsadmin", "root", "mysql"),
            "dbUsername",
            "must not be a name RDS MySQL reserves (admin, rdsadmin, root, mysql)",
        )
        svn = self.deployment_synchronizer == "svn"
        for key, value in (("svnUrl", self.svn_url), ("svnUser", self.svn_user), ("svnPassword", self.svn_password)):
            if svn:
                need(value is not None, key, "required when deploymentSynchronizer is svn")
            else:
                need(value is None, key, "only used when deploymentSynchronizer is svn")
        tag_keys = [tag.split("=", 1)[0] for tag in self.tags]
        need(len(set(tag_keys)) == len(tag_keys), "tags", "must not repeat a tag key")

        if problems:
            raise ConfigProblems([(key, getattr_by_alias(self, key), allowed) for key, allowed in problems])
        return self

    @property
    def node_count(self) -> int:
        return self.worker_count + 1

    @property
    def database_host_name(self) -> str:
        return f"mysql.{self.private_zone_name}"

    @property
    def extra_tags(self) -> dict[str, str]:
        return dict(tag.split("=", 1) for tag in self.tags)


class ConfigProblems(ValueError):
    """Raised from cross-field checks: (key, value given, what is allowed) per problem."""

    def __init__(self, problems: list[tuple[str, Any, str]]):
        super().__init__("; ".join(f"{k}: {a}" for k, _, a in problems))
        self.problems = problems


def _is_graviton(instance_type: str) -> bool:
    # Graviton families carry a "g" right after the generation digit: t4g, m7g, c7gn, im4gn, x2gd.
    return re.match(r"[a-z-]+\d+g", instance_type) is not None


_FIELDS_BY_ALIAS = {field.alias: name for name, field in ClusterConfig.model_fields.items()}
_PROJECT_KEYS = [alias for alias in _FIELDS_BY_ALIAS if ":" not in alias]
SECRET_KEYS = frozenset({"dbPassword", "svnPassword"})


def getattr_by_alias(config: ClusterConfig, key: str) -> Any:
    return getattr(config, _FIELDS_BY_ALIAS[key])


def _looks_like(namespace: str, expected: str) -> bool:
    return difflib.SequenceMatcher(None, namespace.lower(), expected).ratio() >= 0.75


def _qualified(key: str) -> str:
    return key if ":" in key else f"{PROJECT}:{key}"


def _shown(key: str, value: Any) -> str:
    if value is None or value == ():
        return "(not set)"
    if key in SECRET_KEYS:
        return "[secret]"
    if value == "":
        return '""'
    if isinstance(value, (list, tuple)):
        return json.dumps(list(value))
    if isinstance(value, bool):
        return str(value).lower()
    return str(value).replace("\n", "\\n")  # keep each problem on one line


def _line(key: str, value: Any, allowed: str) -> str:
    return f"invalid config {_qualified(key)} = {_shown(key, value)}: {allowed}"


def parse_config(raw: Mapping[str, Any]) -> ClusterConfig:
    """Validate raw config, keys as the CLI names them (`wso2-cluster:workerCount`, `aws:region`).

    Keys of other namespaces (e.g. `aws:profile`) are left to their providers, unless they look
    like one of ours in the wrong or a misspelt namespace.
    """
    values: dict[str, Any] = {}
    lines: list[str] = []
    for key, value in raw.items():
        namespace, _, name = key.partition(":")
        if key == "aws:region":
            values[key] = value
        elif namespace == PROJECT and name in _PROJECT_KEYS:
            values[name] = value
        elif namespace == PROJECT or name in _PROJECT_KEYS or _looks_like(namespace, PROJECT):
            close = difflib.get_close_matches(name, _PROJECT_KEYS, n=1)
            hint = f"; did you mean {_qualified(close[0])}?" if close else ""
            lines.append(_line(key, value, "unknown key" + hint + " (see README: Configuration)"))
    try:
        config = ClusterConfig.model_validate(values)
    except ValidationError as error:
        for problem in error.errors():
            lines.extend(_describe(problem, values))
        raise ConfigError("\n".join(sorted(set(lines)))) from None
    if lines:
        raise ConfigError("\n".join(sorted(lines)))
    return config


def _describe(problem: Mapping[str, Any], values: Mapping[str, Any]) -> list[str]:
    if problem["loc"]:
        key = str(problem["loc"][0])
        value = values.get(key)
        if problem["type"] == "missing":
            return [_line(key, None, f"required: {_REQUIRED[key]}")]
        return [_line(key, value, str(problem.get("ctx", {}).get("error", problem["msg"])))]
    cause = problem.get("ctx", {}).get("error")
    if isinstance(cause, ConfigProblems):
        return [_line(key, value, allowed) for key, value, allowed in cause.problems]
    return [f"invalid config: {problem['msg']}"]


_REQUIRED = {
    "aws:region": "set it with `pulumi config set aws:region eu-west-1` (or AWS_REGION)",
    "productArtifactUrl": "the s3:// or https:// location of the WSO2 AS zip",
}


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
    return parse_config(read_pulumi_config())
