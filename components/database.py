"""RDS MySQL for the shared user store and registry, and its stable private DNS name.

Nodes reach the database as mysql.<privateZoneName>, a CNAME in a private hosted zone. The name
is known before RDS exists, so instances never wait for (or depend on) the 5-15 minute RDS
creation; the boot script waits for the port instead.

Day 2: a guard refuses a change that would replace the database unless allowed (and the prod
example also protects it); an engine major upgrade gets a parameter group of the new family and
`allow_major_version_upgrade` for that change only. The identifier carries a random suffix that
is new with every database, so its final snapshot's name is unique and its log groups, which
the stack creates before RDS writes to them, belong to it alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Optional, Sequence

import pulumi
import pulumi_aws as aws
import pulumi_random as random

from components import naming
from components.aws_facts import mysql_major, supports_performance_insights
from components.database_guard import DatabaseGuard
from components.identity import assume_role_policy
from components.secrets import Secrets
from userdata.settings import SECRET_DB_MASTER_PASSWORD

# FSBP RDS.6: enhanced monitoring (OS metrics) every 60 s, published by RDS through this role.
MONITORING_INTERVAL_SECONDS = 60
EXPORTED_LOGS = ["error", "slowquery"]  # FSBP RDS.9


@dataclass
class DatabaseArgs:
    label: str  # naming.stack_label(stack)
    partition: str
    vpc_id: pulumi.Input[str]
    subnet_ids: Sequence[pulumi.Input[str]]
    security_group_id: pulumi.Input[str]
    engine_version: str  # "8.4", "8.0.44", ...
    instance_class: str
    allocated_storage_gb: int
    max_allocated_storage_gb: int
    multi_az: bool
    backup_retention_days: int
    deletion_protection: bool  # RDS deletion protection, and Pulumi's protect
    skip_final_snapshot: bool
    allow_replacement: bool
    username: str
    secrets: Secrets  # holds the master password; receives it once RDS has it
    private_zone_name: str  # the database is mysql.<zone>
    log_retention_days: int
    tags: Mapping[str, str] = field(default_factory=dict)


def parameter_group_family(engine_version: str) -> str:
    return f"mysql{mysql_major(engine_version)}"


class Database(pulumi.ComponentResource):
    instance: aws.rds.Instance
    guard: DatabaseGuard  # what must pass before the database (or a node) changes
    host_name: str  # the private alias the nodes use
    log_groups: dict[str, aws.cloudwatch.LogGroup]

    def __init__(self, name: str, args: DatabaseArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("wso2:cluster:Database", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = dict(args.tags)

        self.guard = DatabaseGuard(
            f"{name}-database-guard",
            username=args.username,
            engine_version=args.engine_version,
            allow_replacement=args.allow_replacement,
            opts=child,
        )
        # New with each database (it is replaced whenever the database would be): a unique
        # identifier, final snapshot name and log groups, safe when the new database is created
        # before the old one is deleted.
        suffix = random.RandomId(f"{name}-database-id", byte_length=3, keepers={"username": args.username}, opts=child)
        identifier = suffix.hex.apply(lambda hex_: naming.rds_identifier(args.label, hex_))
        self.log_groups = {
            log: aws.cloudwatch.LogGroup(
                f"{name}-rds-{log}-logs",
                name=identifier.apply(lambda id_, log=log: f"/aws/rds/instance/{id_}/{log}"),
                retention_in_days=args.log_retention_days,
                tags=tags,
                opts=child,
            )
            for log in EXPORTED_LOGS
        }

        subnet_group = aws.rds.SubnetGroup(
            f"{name}-subnets",
            subnet_ids=list(args.subnet_ids),
            description="WSO2 AS database (private subnets)",
            tags=tags,
            opts=child,
        )
        # Auto-named and replaced for a new family: the new group exists before the upgrade uses it.
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
            assume_role_policy=assume_role_policy("monitoring.rds.amazonaws.com"),
            tags=tags,
            opts=child,
        )
        monitoring_policy = aws.iam.RolePolicyAttachment(
            f"{name}-monitoring-policy",
            role=monitoring_role.name,
            policy_arn=f"arn:{args.partition}:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole",
            opts=child,
        )
        major_upgrade = self.guard.majorUpgrade.apply(bool)
        self.instance = aws.rds.Instance(
            f"{name}-mysql",
            identifier=identifier,
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
            final_snapshot_identifier=None
            if args.skip_final_snapshot
            else identifier.apply(naming.final_snapshot_identifier),
            copy_tags_to_snapshot=True,
            auto_minor_version_upgrade=True,
            # A major upgrade (8.0 -> 8.4) is allowed, and applied at once (the old parameter group
            # cannot be deleted while a pending upgrade still uses it), in that update only;
            # everything else waits for the maintenance window.
            allow_major_version_upgrade=major_upgrade,
            apply_immediately=major_upgrade,
            # No db_name: the manager creates the user-store and registry databases at first boot.
            username=args.username,
            password=pulumi.Output.secret(args.secrets.db_master_password),
            iam_database_authentication_enabled=True,
            enabled_cloudwatch_logs_exports=EXPORTED_LOGS,
            performance_insights_enabled=supports_performance_insights(args.instance_class),
            monitoring_interval=MONITORING_INTERVAL_SECONDS,
            monitoring_role_arn=monitoring_role.arn,
            ca_cert_identifier="rds-ca-rsa2048-g1",
            tags=tags,
            opts=pulumi.ResourceOptions(
                parent=self,
                protect=args.deletion_protection,
                custom_timeouts=pulumi.CustomTimeouts(create="75m", update="80m", delete="60m"),
                # RDS rejects a monitoring role that does not (yet) carry the monitoring policy;
                # its log groups exist before it writes to them; the guard has passed.
                depends_on=[monitoring_policy, self.guard, *self.log_groups.values()],
            ),
        )
        # The master password reaches Secrets Manager only once RDS has it, so that no reader
        # (the manager's boot) ever holds a password RDS does not know yet.
        args.secrets.store(
            SECRET_DB_MASTER_PASSWORD,
            args.secrets.db_master_password,
            pin_version=False,
            opts=pulumi.ResourceOptions(depends_on=[self.instance]),
        )

        self.zone = aws.route53.Zone(
            f"{name}-private-zone",
            name=args.private_zone_name,
            comment="WSO2 AS private names (database alias)",
            vpcs=[aws.route53.ZoneVpcArgs(vpc_id=args.vpc_id)],
            tags=tags,
            opts=child,
        )
        self.host_name = naming.database_host_name(args.private_zone_name)
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
