"""The settings of one node: plain, typed values that become `node.json` on the node.

No Pulumi here. `components/` resolves Outputs and builds one `NodeSettings` per node inside
`apply`; `userdata.render` turns it into bytes. Secret *values* never appear here: only the ARNs
of the Secrets Manager secrets a node fetches at boot, and the version each value must have.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Mapping, Optional, Tuple

Role = Literal["manager", "worker"]
MembershipScheme = Literal["aws", "wka"]
DiscoveryCredentials = Literal["accessKey", "instanceRole"]
SyncMode = Literal["none", "svn", "efs"]

# Names of the entries of the secrets file that the boot script writes and apply-config reads.
SECRET_DB_PASSWORD = "dbPassword"  # the application user's: the datasources use it
SECRET_DB_MASTER_PASSWORD = "dbMasterPassword"  # the manager's only: databases, schema, users
SECRET_ADMIN_PASSWORD = "adminPassword"  # the product's admin login (user-mgt.xml)
SECRET_DISCOVERY_ACCESS_KEY = "discoveryAccessKey"
SECRET_DISCOVERY_SECRET_KEY = "discoverySecretKey"
SECRET_SVN_PASSWORD = "svnPassword"
ALL_SECRETS = (
    SECRET_DB_PASSWORD,
    SECRET_DB_MASTER_PASSWORD,
    SECRET_ADMIN_PASSWORD,
    SECRET_DISCOVERY_ACCESS_KEY,
    SECRET_DISCOVERY_SECRET_KEY,
    SECRET_SVN_PASSWORD,
)


@dataclass(frozen=True)
class SecretRef:
    arn: str
    # The version the node must read. Carrying it makes a changed value change the node's user
    # data, so the change rolls through the nodes. None reads the current version (the master
    # password: RDS takes a new one in place, and only the manager's boot uses it).
    version_id: Optional[str] = None


@dataclass(frozen=True)
class AwsDiscovery:
    """Hazelcast AWS-mode discovery parameters (axis2.xml `aws` membership scheme)."""

    region: str
    security_group_name: str  # a group *name*, as Hazelcast 3.5 filters on it
    tag_key: str
    tag_value: str
    credentials: DiscoveryCredentials = "accessKey"
    iam_role: Optional[str] = None  # role name, only with credentials == "instanceRole"
    conn_timeout_seconds: int = 10
    # No hostHeader: Hazelcast 3.5 ignores it when the region is set, and calls
    # ec2.<region>.amazonaws.com (which is why the stack refuses aws discovery in aws-cn).


@dataclass(frozen=True)
class Database:
    host: str  # stable private DNS alias, never the RDS endpoint
    port: int
    username: str  # the application user the datasources connect as
    user_store_db: str
    registry_db: str
    master_username: Optional[str] = None  # the manager's only: it creates databases and users
    driver_class: str = "com.mysql.cj.jdbc.Driver"
    url_options: str = "autoReconnect=true&sslMode=REQUIRED"


@dataclass(frozen=True)
class Artifact:
    url: str  # s3://bucket/key or https://...
    sha256: Optional[str] = None


@dataclass(frozen=True)
class DeploymentSync:
    mode: SyncMode = "none"
    svn_url: Optional[str] = None
    svn_user: Optional[str] = None
    svn_kit: Optional[Artifact] = None  # SVNKit bundle -> repository/components/dropins
    trilead_ssh: Optional[Artifact] = None  # its SSH library -> repository/components/lib
    file_system_id: Optional[str] = None  # efs: holds repository/deployment/server


@dataclass(frozen=True)
class NodeSettings:
    role: Role
    name: str  # "manager", "worker-1", ...
    private_ip: str
    region: str  # for the AWS CLI calls at boot
    cluster_domain: str
    membership_scheme: MembershipScheme
    cluster_port: int
    port_offset: int
    service_host: str  # e.g. as.example.com: carbon.xml HostName on every node
    management_host: str  # e.g. mgt.as.example.com: carbon.xml MgtHostName on the manager
    admin_username: str
    database: Database
    product: Artifact
    jdbc_driver: Artifact
    # Well-known members other than this node (WKA mode only; IPs).
    wka_members: Tuple[str, ...] = ()
    aws_discovery: Optional[AwsDiscovery] = None
    deployment_sync: DeploymentSync = field(default_factory=DeploymentSync)
    # Secret name (SECRET_* above) -> where the node reads it. Values are fetched at boot.
    secrets: Mapping[str, SecretRef] = field(default_factory=dict)
    # SSM parameter holding the CloudWatch agent's configuration (kept out of the user data).
    log_agent_parameter: Optional[str] = None
    heap_mb: int = 1024  # the JVM heap (userdata/jvm.py); the stack sizes it to the instance
