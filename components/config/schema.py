"""The schema: every key of the stack configuration, its type, default and meaning.

`Pulumi.yaml` declares every key that has a default (type, default, description) and the required
`productArtifactUrl` for the Pulumi CLI; `OPTIONAL_KEYS` describes the rest. `ClusterConfig` is
what the program reads; `tests/config/test_schema.py` keeps the three in step.
"""

from __future__ import annotations

from typing import Annotated, Optional

import pulumi
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from components import aws_facts, naming
from components.config.parsers import (
    AdminPassword,
    Bool,
    Checked,
    Choice,
    Cidrs,
    DbPassword,
    DiscoveryTagKey,
    HealthPath,
    HostName,
    Int,
    LogRetentionDays,
    MysqlUser,
    Sha256,
    Str,
    SubnetIds,
    SvnPassword,
    Tags,
    Url,
    VpcCidr,
)
from userdata import jvm, limits

PROJECT = "wso2-cluster"
MAX_WORKERS = 50
DEFAULT_JDBC_DRIVER_URL = "https://repo1.maven.org/maven2/com/mysql/mysql-connector-j/8.4.0/mysql-connector-j-8.4.0.jar"
# WSO2's published SVNKit bundle and SSH library for the SVN deployment synchronizer (WSO2 does
# not ship them, for licence reasons).
# Where WSO2's docs (Configuring the SVN-based deployment synchronizer, Carbon 4.4) point.
DEFAULT_SVNKIT_URL = "https://product-dist.wso2.com/tools/svnkit-all-1.8.7.wso2v1.jar"
DEFAULT_TRILEAD_SSH_URL = (
    "https://maven.wso2.org/nexus/content/groups/wso2-public/com/trilead/trilead-ssh2/"
    "1.0.0-build215/trilead-ssh2-1.0.0-build215.jar"
)
# Tags the program sets itself on some resources (Name, wso2:role and the discovery tag on
# nodes); AWS allows 50 per resource, so that many fewer are left for the stack's own tags.
PROGRAM_TAGS_PER_RESOURCE = 3
MAX_EXTRA_TAGS = aws_facts.MAX_TAGS_PER_RESOURCE - PROGRAM_TAGS_PER_RESOURCE
# An ALB rule takes at most 5 condition values: the host plus 4 source CIDRs per rule.
CIDRS_PER_MANAGEMENT_RULE = aws_facts.ALB_CONDITION_VALUES_PER_RULE - 1
MAX_MANAGEMENT_CIDRS = 20


class ConfigError(pulumi.RunError):
    """Invalid stack configuration; the message holds one line per problem."""


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
    vpc_cidr: VpcCidr = Field("10.20.0.0/16", alias="vpcCidr")
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
    waf_rate_limit: Int(aws_facts.WAF_RATE_LIMIT_MIN, aws_facts.WAF_RATE_LIMIT_MAX) = Field(2000, alias="wafRateLimit")
    public_zone_id: Optional[Str(r"Z[A-Z0-9]{1,32}", "a Route 53 hosted zone id like Z0123456789ABC")] = Field(
        None, alias="publicZoneId"
    )
    private_zone_name: HostName = Field("wso2.internal", alias="privateZoneName")
    # Clustering
    port_offset: Int(0, limits.PORT_OFFSET_MAX) = Field(0, alias="portOffset")
    cluster_domain: Str(limits.CLUSTER_DOMAIN.pattern, "1 to 100 letters, digits, dots, underscores or hyphens") = (
        Field("wso2.as.domain", alias="clusterDomain")
    )
    membership_scheme: Choice("aws", "wka") = Field("aws", alias="membershipScheme")
    cluster_port: Int(limits.CLUSTER_PORTS.start, limits.CLUSTER_PORTS.stop - 1) = Field(5701, alias="clusterPort")
    wka_member_count: Int(limits.WKA_MEMBER_COUNTS.start, limits.WKA_MEMBER_COUNTS.stop - 1) = Field(
        2, alias="wkaMemberCount"
    )
    discovery_credentials: Choice("accessKey", "instanceRole") = Field("accessKey", alias="discoveryCredentials")
    discovery_tag_key: DiscoveryTagKey = Field("wso2:cluster", alias="discoveryTagKey")
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
    db_password: Optional[DbPassword] = Field(None, alias="dbPassword")
    db_app_username: MysqlUser = Field("wso2app", alias="dbAppUsername")
    # Product
    product_artifact_url: Url = Field(alias="productArtifactUrl")
    product_artifact_sha256: Optional[Sha256] = Field(None, alias="productArtifactSha256")
    jdbc_driver_url: Url = Field(DEFAULT_JDBC_DRIVER_URL, alias="jdbcDriverUrl")
    jdbc_driver_sha256: Optional[Sha256] = Field(None, alias="jdbcDriverSha256")
    admin_username: Str(limits.ADMIN_USERNAME.pattern, "3 to 30 letters, digits, . _ or -, starting with a letter") = (
        Field("admin", alias="adminUsername")
    )
    admin_password: Optional[AdminPassword] = Field(None, alias="adminPassword")
    deployment_synchronizer: Choice("none", "efs", "svn") = Field("none", alias="deploymentSynchronizer")
    svn_url: Optional[Checked(limits.check_svn_url)] = Field(None, alias="svnUrl")
    svn_user: Optional[Str(r"[^\s@:/\x00-\x1f\x7f]{1,64}", "1 to 64 characters, without spaces, @, : or /")] = Field(
        None, alias="svnUser"
    )
    svn_password: Optional[SvnPassword] = Field(None, alias="svnPassword")
    svn_kit_url: Url = Field(DEFAULT_SVNKIT_URL, alias="svnKitUrl")
    svn_kit_sha256: Optional[Sha256] = Field(None, alias="svnKitSha256")
    trilead_ssh_url: Url = Field(DEFAULT_TRILEAD_SSH_URL, alias="trileadSshUrl")
    trilead_ssh_sha256: Optional[Sha256] = Field(None, alias="trileadSshSha256")
    # Operations
    log_retention_days: LogRetentionDays = Field(30, alias="logRetentionDays")
    alarm_email: Optional[Str(r"[^@\s]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,63}", "an e-mail address")] = Field(
        None, alias="alarmEmail"
    )
    tags: Tags(MAX_EXTRA_TAGS) = Field((), alias="tags")

    def heap_mb(self, role: str) -> int:
        """The node's JVM heap: the key's value, else sized to the instance type's memory."""
        heap, instance_type = (
            (self.manager_heap_mb, self.manager_instance_type)
            if role == "manager"
            else (self.worker_heap_mb, self.worker_instance_type)
        )
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
        "Use this existing VPC instead of creating one (then publicSubnetIds and privateSubnetIds are required)."
    ),
    "publicSubnetIds": "With vpcId, at least two public subnets in different AZs for the load balancer.",
    "privateSubnetIds": (
        "With vpcId, at least two private subnets in different AZs (with outbound internet) for nodes and database."
    ),
    "certificateArn": (
        "ACM certificate ARN (same region) for the HTTPS listener; required unless selfSignedCertificate is true."
    ),
    "accessLogsBucket": "An existing S3 bucket for the access logs (its policy must allow ELB log delivery).",
    "publicZoneId": (
        "Route 53 public hosted zone id; when set, alias records for both host names point at the load balancer."
    ),
    "dbPassword": "Database master password (pulumi config set --secret); a random one is generated when unset.",
    "productArtifactSha256": "SHA-256 of the product zip; nodes refuse a zip that does not match.",
    "jdbcDriverSha256": "SHA-256 of the JDBC driver jar; nodes refuse a jar that does not match.",
    "adminPassword": (
        "Password of the admin account (pulumi config set --secret; 5 to 30 characters, no spaces; on a stack "
        "with deletion protection at least 12, and not admin, wso2carbon or adminUsername); a random one is "
        "generated when unset."
    ),
    "svnUrl": "With deploymentSynchronizer svn, the repository's https:// URL (svnPassword never crosses in clear).",
    "svnUser": "With deploymentSynchronizer svn, the repository user.",
    "svnPassword": "With deploymentSynchronizer svn, the repository password (pulumi config set --secret).",
    "svnKitSha256": "With deploymentSynchronizer svn, the SHA-256 of the SVNKit bundle (required).",
    "trileadSshSha256": "With deploymentSynchronizer svn, the SHA-256 of the trilead SSH library (required).",
    "alarmEmail": "An e-mail address subscribed to the alarm topic (AWS asks it to confirm).",
}
# What parse_config and the cross-key rules read: field names by key, each key's own parser, ...
FIELDS_BY_ALIAS = {field.alias: name for name, field in ClusterConfig.model_fields.items()}
PROJECT_KEYS = [alias for alias in FIELDS_BY_ALIAS if ":" not in alias]
ADAPTERS = {
    field.alias: TypeAdapter(Annotated[(field.annotation, *field.metadata)] if field.metadata else field.annotation)
    for field in ClusterConfig.model_fields.values()
}
# ... the keys a stack must hold encrypted, and the keys without a default.
SECRET_KEYS = frozenset({"dbPassword", "svnPassword", "adminPassword"})
REQUIRED = {
    "aws:region": "set it with `pulumi config set aws:region eu-west-1` (or AWS_REGION)",
    "productArtifactUrl": "the s3:// or https:// location of the WSO2 AS zip",
}
