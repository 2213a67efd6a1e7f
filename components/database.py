"""RDS MySQL for the shared user store and registry, and its stable private DNS name.

Nodes reach the database as mysql.<privateZoneName>, a CNAME in a private hosted zone. The name
is known before RDS exists, so instances never wait for (or depend on) the 5-15 minute RDS
creation; the boot script waits for the port instead.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Mapping, Optional, Sequence

import pulumi
import pulumi_aws as aws

MYSQL_PORT = 3306
# FSBP RDS.6: enhanced monitoring (OS metrics) every 60 s, published by RDS through this role.
MONITORING_INTERVAL_SECONDS = 60
MONITORING_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"
MONITORING_ASSUME_ROLE = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "monitoring.rds.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
)


@dataclass
class DatabaseArgs:
    vpc_id: pulumi.Input[str]
    subnet_ids: Sequence[pulumi.Input[str]]
    security_group_id: pulumi.Input[str]
    engine_version: str  # "8.4", "8.0.39", ...
    instance_class: str
    allocated_storage_gb: int
    max_allocated_storage_gb: int
    multi_az: bool
    backup_retention_days: int
    deletion_protection: bool
    skip_final_snapshot: bool
    username: str
    password: pulumi.Input[str]  # secret
    private_zone_name: str  # the database is mysql.<zone>
    final_snapshot_identifier: str = ""
    tags: Mapping[str, str] = field(default_factory=dict)


def parameter_group_family(engine_version: str) -> str:
    return "mysql8.4" if engine_version.startswith("8.4") else "mysql8.0"


def supports_performance_insights(instance_class: str) -> bool:
    # Not offered on the micro and small burstable classes.
    return instance_class.rsplit(".", 1)[-1] not in ("micro", "small")


def snapshot_identifier(*parts: str) -> str:
    """An RDS snapshot id: letters, digits and single hyphens, starting with a letter, <= 255."""
    text = re.sub(r"-{2,}", "-", re.sub(r"[^A-Za-z0-9-]", "-", "-".join(parts))).strip("-")
    return (text if text[:1].isalpha() else f"db-{text}")[:255].rstrip("-")


class Database(pulumi.ComponentResource):
    instance: aws.rds.Instance
    host_name: str  # the private alias the nodes use

    def __init__(self, name: str, args: DatabaseArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("wso2:cluster:Database", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = dict(args.tags)

        subnet_group = aws.rds.SubnetGroup(
            f"{name}-subnets", subnet_ids=list(args.subnet_ids), description="WSO2 AS database (private subnets)",
            tags=tags, opts=child,
        )
        parameter_group = aws.rds.ParameterGroup(
            f"{name}-params",
            family=parameter_group_family(args.engine_version),
            description="WSO2 AS: lenient sql_mode for kernel 4.4.1 scripts, TLS only",
            parameters=[
                # Kernel 4.4.1's dbscripts/mysql.sql declares TIMESTAMP NOT NULL DEFAULT 0, which
                # the strict default sql_mode (NO_ZERO_DATE, STRICT_TRANS_TABLES) rejects.
                aws.rds.ParameterGroupParameterArgs(name="sql_mode", value="NO_ENGINE_SUBSTITUTION"),
                # Nodes connect with sslMode=REQUIRED; refuse anything else.
                aws.rds.ParameterGroupParameterArgs(name="require_secure_transport", value="1"),
                # The slowquery log is exported to CloudWatch (RDS.9); MySQL writes it only when on.
                aws.rds.ParameterGroupParameterArgs(name="slow_query_log", value="1"),
            ],
            tags=tags,
            opts=child,
        )
        monitoring_role = aws.iam.Role(
            f"{name}-monitoring-role",
            description="RDS enhanced monitoring of the WSO2 AS database",
            assume_role_policy=MONITORING_ASSUME_ROLE,
            tags=tags,
            opts=child,
        )
        monitoring_policy = aws.iam.RolePolicyAttachment(
            f"{name}-monitoring-policy", role=monitoring_role.name, policy_arn=MONITORING_POLICY, opts=child
        )
        performance_insights = supports_performance_insights(args.instance_class)
        self.instance = aws.rds.Instance(
            f"{name}-mysql",
            engine="mysql",
            engine_version=args.engine_version,
            instance_class=args.instance_class,
            storage_type="gp3",
            allocated_storage=args.allocated_storage_gb,
            # 0 turns storage autoscaling off (when the maximum equals the initial size).
            max_allocated_storage=(
                args.max_allocated_storage_gb if args.max_allocated_storage_gb > args.allocated_storage_gb else 0
            ),
            storage_encrypted=True,
            publicly_accessible=False,
            db_subnet_group_name=subnet_group.name,
            parameter_group_name=parameter_group.name,
            vpc_security_group_ids=[args.security_group_id],
            multi_az=args.multi_az,
            backup_retention_period=args.backup_retention_days,
            deletion_protection=args.deletion_protection,
            skip_final_snapshot=args.skip_final_snapshot,
            final_snapshot_identifier=None if args.skip_final_snapshot else args.final_snapshot_identifier,
            copy_tags_to_snapshot=True,
            auto_minor_version_upgrade=True,
            # No db_name: the manager creates the user-store and registry databases at first boot.
            username=args.username,
            password=pulumi.Output.secret(args.password),
            iam_database_authentication_enabled=True,
            enabled_cloudwatch_logs_exports=["error", "slowquery"],  # FSBP RDS.9
            performance_insights_enabled=performance_insights,
            monitoring_interval=MONITORING_INTERVAL_SECONDS,
            monitoring_role_arn=monitoring_role.arn,
            ca_cert_identifier="rds-ca-rsa2048-g1",
            apply_immediately=False,  # engine/class changes wait for the maintenance window
            tags=tags,
            opts=pulumi.ResourceOptions(
                parent=self,
                custom_timeouts=pulumi.CustomTimeouts(create="75m", update="80m", delete="60m"),
                # RDS rejects a monitoring role that does not (yet) carry the monitoring policy.
                depends_on=[monitoring_policy],
            ),
        )

        self.zone = aws.route53.Zone(
            f"{name}-private-zone",
            name=args.private_zone_name,
            comment="WSO2 AS private names (database alias)",
            vpcs=[aws.route53.ZoneVpcArgs(vpc_id=args.vpc_id)],
            tags=tags,
            opts=child,
        )
        self.host_name = f"mysql.{args.private_zone_name}"
        aws.route53.Record(
            f"{name}-alias",
            zone_id=self.zone.zone_id,
            name=self.host_name,
            type="CNAME",
            ttl=60,  # short: a Multi-AZ failover or a replacement shows up within a minute
            records=[self.instance.address],
            opts=child,
        )
        self.register_outputs(
            {"endpoint": self.instance.endpoint, "identifier": self.instance.identifier, "hostName": self.host_name}
        )
