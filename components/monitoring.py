"""Alarms that reach someone, and a dashboard.

Every alarm notifies one SNS topic (encrypted with a key CloudWatch may use; an optional e-mail
subscription). Per node: EC2 recovers the instance when its system status check fails (keeping
its ENI, IP and volumes) and reboots it when its instance status check fails; memory and root
disk use come from the CloudWatch agent. Per target group: fewer healthy hosts than nodes. For
the load balancer: its 5xx rate. For RDS: CPU, free storage, freeable memory and connections.
For the cluster: a metric filter on wso2carbon.log counts members joining and leaving, and a
member leaving raises an alarm.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Mapping, Optional, Sequence

import pulumi
import pulumi_aws as aws

CONSOLE = {
    "aws": "console.aws.amazon.com",
    "aws-cn": "console.amazonaws.cn",
    "aws-us-gov": "console.amazonaws-us-gov.com",
}
# Carbon kernel 4.4.1's membership schemes log "Member joined [<uuid>]: /<ip>:<port>" and
# "Member left [<uuid>]: ..." (HazelcastMembershipListener of the AWS/WKA schemes).
MEMBERSHIP_EVENTS = {"MemberJoined": '"Member joined"', "MemberLeft": '"Member left"'}
POOL_CONNECTIONS_PER_NODE = 2 * 50  # two MySQL datasources, maxActive 50 each (apply-config)


@dataclass
class MonitoredNode:
    name: str  # "manager", "worker-1"
    instance: aws.ec2.Instance


@dataclass
class MonitoringArgs:
    label: str
    region: str
    partition: str
    metrics_namespace: str  # the nodes' CloudWatch agent metrics and the membership counts
    dashboard_name: str
    nodes: Sequence[MonitoredNode]
    load_balancer: aws.lb.LoadBalancer
    target_groups: Mapping[str, tuple[aws.lb.TargetGroup, int]]  # key -> (group, hosts expected healthy)
    database: aws.rds.Instance
    database_storage_gb: int
    carbon_log_group: aws.cloudwatch.LogGroup
    alarm_email: Optional[str] = None
    tags: Mapping[str, str] = field(default_factory=dict)


class Monitoring(pulumi.ComponentResource):
    topic: aws.sns.Topic
    dashboard_url: str

    def __init__(self, name: str, args: MonitoringArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("wso2:cluster:Monitoring", name, None, opts)
        self._name, self._args = name, args
        child = pulumi.ResourceOptions(parent=self)
        tags = dict(args.tags)

        # SNS encryption (FSBP SNS.1) with a key whose policy lets CloudWatch publish: the AWS
        # managed aws/sns key does not.
        account = aws.get_caller_identity().account_id
        key = aws.kms.Key(
            f"{name}-alarms-key",
            description="WSO2 AS alarm notifications (SNS encryption)",
            enable_key_rotation=True,
            policy=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "AccountAdministers",
                            "Effect": "Allow",
                            "Principal": {"AWS": f"arn:{args.partition}:iam::{account}:root"},
                            "Action": "kms:*",
                            "Resource": "*",
                        },
                        {
                            "Sid": "CloudWatchPublishes",
                            "Effect": "Allow",
                            "Principal": {"Service": "cloudwatch.amazonaws.com"},
                            "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
                            "Resource": "*",
                        },
                    ],
                }
            ),
            tags=tags,
            opts=child,
        )
        self.topic = aws.sns.Topic(f"{name}-alarms", kms_master_key_id=key.arn, tags=tags, opts=child)
        if args.alarm_email:
            aws.sns.TopicSubscription(
                f"{name}-alarms-email", topic=self.topic.arn, protocol="email", endpoint=args.alarm_email, opts=child
            )

        for node in args.nodes:
            self._node_alarms(node)
        for key_name, (group, expected) in args.target_groups.items():
            self._alarm(
                f"{key_name}-healthy-hosts",
                f"Fewer than {expected} healthy hosts in target group {key_name}",
                namespace="AWS/ApplicationELB",
                metric="HealthyHostCount",
                statistic="Minimum",
                dimensions={"TargetGroup": group.arn_suffix, "LoadBalancer": args.load_balancer.arn_suffix},
                comparison="LessThanThreshold",
                threshold=expected,
                periods=3,
                period=60,
                missing="breaching",
            )
        self._load_balancer_5xx_alarm()
        self._database_alarms()
        self._membership_alarm()
        self._dashboard()
        self.dashboard_url = (
            f"https://{args.region}.{CONSOLE[args.partition]}/cloudwatch/home?region={args.region}"
            f"#dashboards:name={args.dashboard_name}"
        )
        self.register_outputs({"alarmTopicArn": self.topic.arn, "dashboardUrl": self.dashboard_url})

    def _alarm(
        self,
        suffix: str,
        description: str,
        *,
        namespace: str,
        metric: str,
        statistic: str,
        dimensions: Mapping[str, pulumi.Input[str]],
        comparison: str,
        threshold: float,
        periods: int,
        period: int,
        missing: str = "missing",
        extra_actions: Sequence[str] = (),
    ) -> aws.cloudwatch.MetricAlarm:
        actions = [*extra_actions, self.topic.arn]
        return aws.cloudwatch.MetricAlarm(
            f"{self._name}-{suffix}",
            alarm_description=description,
            namespace=namespace,
            metric_name=metric,
            statistic=statistic,
            dimensions=dict(dimensions) or None,
            comparison_operator=comparison,
            threshold=threshold,
            evaluation_periods=periods,
            period=period,
            treat_missing_data=missing,
            alarm_actions=actions,
            ok_actions=[self.topic.arn],
            tags=dict(self._args.tags),
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _node_alarms(self, node: MonitoredNode) -> list[aws.cloudwatch.MetricAlarm]:
        args = self._args
        automate = f"arn:{args.partition}:automate:{args.region}:ec2"
        on_instance = {"InstanceId": node.instance.id}
        return [
            self._alarm(
                f"{node.name}-system-check",
                f"{node.name}: system status check failed; EC2 recovers it",
                namespace="AWS/EC2",
                metric="StatusCheckFailed_System",
                statistic="Maximum",
                dimensions=on_instance,
                comparison="GreaterThanOrEqualToThreshold",
                threshold=1,
                periods=2,
                period=60,
                extra_actions=[f"{automate}:recover"],
            ),
            self._alarm(
                f"{node.name}-instance-check",
                f"{node.name}: instance status check failed; EC2 reboots it",
                namespace="AWS/EC2",
                metric="StatusCheckFailed_Instance",
                statistic="Maximum",
                dimensions=on_instance,
                comparison="GreaterThanOrEqualToThreshold",
                threshold=1,
                periods=3,
                period=60,
                extra_actions=[f"{automate}:reboot"],
            ),
            self._alarm(
                f"{node.name}-memory",
                f"{node.name}: over 90% of memory used",
                namespace=args.metrics_namespace,
                metric="mem_used_percent",
                statistic="Average",
                dimensions=on_instance,
                comparison="GreaterThanThreshold",
                threshold=90,
                periods=3,
                period=300,
            ),
            self._alarm(
                f"{node.name}-disk",
                f"{node.name}: over 85% of the root volume used",
                namespace=args.metrics_namespace,
                metric="disk_used_percent",
                statistic="Maximum",
                dimensions=on_instance,
                comparison="GreaterThanThreshold",
                threshold=85,
                periods=1,
                period=300,
            ),
        ]

    def _load_balancer_5xx_alarm(self) -> None:
        args = self._args

        def metric(name: str) -> aws.cloudwatch.MetricAlarmMetricQueryArgs:
            return aws.cloudwatch.MetricAlarmMetricQueryArgs(
                id=name.lower().replace("_", ""),
                return_data=False,
                metric=aws.cloudwatch.MetricAlarmMetricQueryMetricArgs(
                    namespace="AWS/ApplicationELB",
                    metric_name=name,
                    stat="Sum",
                    period=300,
                    dimensions={"LoadBalancer": args.load_balancer.arn_suffix},
                ),
            )

        aws.cloudwatch.MetricAlarm(
            f"{self._name}-load-balancer-5xx",
            alarm_description="Over 5% of the load balancer's responses are 5xx (its own and the nodes')",
            comparison_operator="GreaterThanThreshold",
            threshold=5,
            evaluation_periods=2,
            treat_missing_data="notBreaching",
            metric_queries=[
                metric("HTTPCode_ELB_5XX_Count"),
                metric("HTTPCode_Target_5XX_Count"),
                metric("RequestCount"),
                aws.cloudwatch.MetricAlarmMetricQueryArgs(
                    id="rate",
                    label="5xx %",
                    return_data=True,
                    expression="100 * (FILL(httpcodeelb5xxcount, 0) + FILL(httpcodetarget5xxcount, 0)) "
                    "/ IF(requestcount > 0, requestcount, 1)",
                ),
            ],
            alarm_actions=[self.topic.arn],
            ok_actions=[self.topic.arn],
            tags=dict(args.tags),
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _database_alarms(self) -> None:
        args = self._args
        on_database = {"DBInstanceIdentifier": args.database.identifier}
        free_storage_floor = args.database_storage_gb * 1024**3 // 10
        pool = POOL_CONNECTIONS_PER_NODE * len(args.nodes)
        for suffix, description, metric, comparison, threshold in (
            ("database-cpu", "Database CPU over 80%", "CPUUtilization", "GreaterThanThreshold", 80),
            (
                "database-free-storage",
                "Database free storage under 10% of its allocated storage",
                "FreeStorageSpace",
                "LessThanThreshold",
                free_storage_floor,
            ),
            (
                "database-freeable-memory",
                "Database freeable memory under 100 MiB",
                "FreeableMemory",
                "LessThanThreshold",
                100 * 1024**2,
            ),
            (
                "database-connections",
                f"Database connections over 80% of the nodes' pools ({pool})",
                "DatabaseConnections",
                "GreaterThanThreshold",
                int(pool * 0.8),
            ),
        ):
            self._alarm(
                suffix,
                description,
                namespace="AWS/RDS",
                metric=metric,
                statistic="Average",
                dimensions=on_database,
                comparison=comparison,
                threshold=threshold,
                periods=3,
                period=300,
            )

    def _membership_alarm(self) -> None:
        args = self._args
        for metric, pattern in MEMBERSHIP_EVENTS.items():
            aws.cloudwatch.LogMetricFilter(
                f"{self._name}-{metric}",
                log_group_name=args.carbon_log_group.name,
                pattern=pattern,
                metric_transformation=aws.cloudwatch.LogMetricFilterMetricTransformationArgs(
                    name=metric, namespace=args.metrics_namespace, value="1", default_value="0"
                ),
                opts=pulumi.ResourceOptions(parent=self),
            )
        self._alarm(
            "member-left",
            "A member left the WSO2 cluster (see wso2carbon.log)",
            namespace=args.metrics_namespace,
            metric="MemberLeft",
            statistic="Sum",
            dimensions={},
            comparison="GreaterThanOrEqualToThreshold",
            threshold=1,
            periods=1,
            period=300,
        )

    def _dashboard(self) -> aws.cloudwatch.Dashboard:
        args = self._args
        region, namespace = args.region, args.metrics_namespace
        values = pulumi.Output.all(
            alb=args.load_balancer.arn_suffix,
            groups={key: group.arn_suffix for key, (group, _) in args.target_groups.items()},
            instances={node.name: node.instance.id for node in args.nodes},
            database=args.database.identifier,
            carbon=args.carbon_log_group.name,
        )

        def body(v: dict) -> str:
            def widget(title: str, metrics: list, x: int, y: int, stat: str = "Average") -> dict:
                return {
                    "type": "metric",
                    "x": x,
                    "y": y,
                    "width": 12,
                    "height": 6,
                    "properties": {"title": title, "region": region, "stat": stat, "period": 300, "metrics": metrics},
                }

            instances = v["instances"]
            widgets = [
                widget(
                    "Service: requests and 5xx",
                    [
                        ["AWS/ApplicationELB", "RequestCount", "LoadBalancer", v["alb"]],
                        [".", "HTTPCode_ELB_5XX_Count", ".", "."],
                        [".", "HTTPCode_Target_5XX_Count", ".", "."],
                    ],
                    0,
                    0,
                    stat="Sum",
                ),
                widget(
                    "Service: healthy hosts per target group",
                    [
                        [
                            "AWS/ApplicationELB",
                            "HealthyHostCount",
                            "TargetGroup",
                            arn,
                            "LoadBalancer",
                            v["alb"],
                            {"label": key},
                        ]
                        for key, arn in sorted(v["groups"].items())
                    ],
                    12,
                    0,
                    stat="Minimum",
                ),
                widget(
                    "Nodes: CPU %",
                    [["AWS/EC2", "CPUUtilization", "InstanceId", i, {"label": n}] for n, i in instances.items()],
                    0,
                    6,
                ),
                widget(
                    "Nodes: memory and disk used %",
                    [
                        [namespace, "mem_used_percent", "InstanceId", i, {"label": f"{n} memory"}]
                        for n, i in instances.items()
                    ]
                    + [
                        [namespace, "disk_used_percent", "InstanceId", i, {"label": f"{n} disk"}]
                        for n, i in instances.items()
                    ],
                    12,
                    6,
                ),
                widget(
                    "Cluster: members joining and leaving",
                    [[namespace, "MemberJoined"], [namespace, "MemberLeft"]],
                    0,
                    12,
                    stat="Sum",
                ),
                {
                    "type": "log",
                    "x": 12,
                    "y": 12,
                    "width": 12,
                    "height": 6,
                    "properties": {
                        "title": "Cluster: membership events",
                        "region": region,
                        "query": f"SOURCE '{v['carbon']}' | fields @timestamp, @logStream, @message "
                        "| filter @message like /Member (joined|left)/ | sort @timestamp desc "
                        "| limit 50",
                    },
                },
                widget(
                    "Database: CPU % and connections",
                    [
                        ["AWS/RDS", "CPUUtilization", "DBInstanceIdentifier", v["database"]],
                        [".", "DatabaseConnections", ".", "."],
                    ],
                    0,
                    18,
                ),
                widget(
                    "Database: free storage and freeable memory (bytes)",
                    [
                        ["AWS/RDS", "FreeStorageSpace", "DBInstanceIdentifier", v["database"]],
                        [".", "FreeableMemory", ".", "."],
                    ],
                    12,
                    18,
                ),
            ]
            return json.dumps({"widgets": widgets}, sort_keys=True)

        return aws.cloudwatch.Dashboard(
            f"{self._name}-dashboard",
            dashboard_name=args.dashboard_name,
            dashboard_body=values.apply(body),
            opts=pulumi.ResourceOptions(parent=self),
        )
