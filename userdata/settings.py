"""The settings of one node: plain, typed values that become `node.json` on the node.

No Pulumi here. `components/` resolves Outputs and builds one `NodeSettings` per node inside
`apply`; `userdata.render` turns it into bytes. Secret *values* never appear here, only the
ARNs of the Secrets Manager secrets a node fetches at boot.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Mapping, Optional, Tuple

Role = Literal["manager", "worker"]
MembershipScheme = Literal["aws", "wka"]
DiscoveryCredentials = Literal["accessKey", "instanceRole"]

# Names of the entries of the secrets file that the boot script writes and apply-config reads.
SECRET_DB_PASSWORD = "dbPassword"
SECRET_DISCOVERY_ACCESS_KEY = "discoveryAccessKey"
SECRET_DISCOVERY_SECRET_KEY = "discoverySecretKey"
SECRET_SVN_PASSWORD = "svnPassword"


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
    host_header: Optional[str] = None  # defaults to ec2.<region>.amazonaws.com when None


@dataclass(frozen=True)
class Database:
    host: str  # stable private DNS alias, never the RDS endpoint
    port: int
    username: str
    user_store_db: str
    registry_db: str
    driver_class: str = "com.mysql.cj.jdbc.Driver"
    url_options: str = "autoReconnect=true&sslMode=REQUIRED"


@dataclass(frozen=True)
class Artifact:
    url: str  # s3://bucket/key or https://...
    sha256: Optional[str] = None


@dataclass(frozen=True)
class DeploymentSync:
    enabled: bool = False
    svn_url: Optional[str] = None
    svn_user: Optional[str] = None


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
    service_host: str  # e.g. as.example.com (carbon.xml HostName on workers)
    management_host: str  # e.g. mgt.as.example.com (HostName/MgtHostName on the manager)
    database: Database
    product: Artifact
    jdbc_driver: Artifact
    # Well-known members other than this node (WKA mode only; IPs).
    wka_members: Tuple[str, ...] = ()
    aws_discovery: Optional[AwsDiscovery] = None
    deployment_sync: DeploymentSync = field(default_factory=DeploymentSync)
    # Secret name (SECRET_* above) -> Secrets Manager ARN. Values are fetched at boot.
    secret_arns: Mapping[str, str] = field(default_factory=dict)
