"""Where the nodes' logs go: CloudWatch log groups kept `logRetentionDays`, and the CloudWatch
agent's configuration, in an SSM parameter the nodes read at boot (not in the user data, whose
size is limited).

Each node ships four logs, one log stream per node named by its instance id: the boot log, the
product's wso2carbon.log (one event per log4j event), its HTTP access log and the JVM's GC log.
Metrics (memory and root disk used) go to the stack's namespace with the InstanceId dimension.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Mapping, Optional

import pulumi
import pulumi_aws as aws

from userdata.jvm import GC_LOG
from userdata.render import BOOT_LOG, PRODUCT_HOME

# The first line of each wso2carbon.log event (log4j pattern "TID: [%T] [%S] [%d] ..." of Carbon
# kernel 4.4.1's CARBON_LOGFILE appender); continuation lines (stack traces, Hazelcast's member
# list) join the event they belong to.
CARBON_EVENT_START = r"^TID: \["
LOGS = {
    "boot": (BOOT_LOG, None),
    "carbon": (f"{PRODUCT_HOME}/repository/logs/wso2carbon.log", CARBON_EVENT_START),
    "access": (f"{PRODUCT_HOME}/repository/logs/http_access_*.log", None),  # Tomcat's AccessLogValve, daily
    # -Xloggc with rotation (userdata/jvm.py): gc.log.0.current, then gc.log.1, ...; the agent
    # follows the newest. An event starts with its -XX:+PrintGCDateStamps date.
    "gc": (f"{PRODUCT_HOME}/{GC_LOG}*", r"^\d{4}-\d{2}-\d{2}T"),
}


@dataclass
class NodeLogsArgs:
    prefix: str  # /wso2/<project>/<label>: the log groups are <prefix>/boot, /carbon, /http-access, /gc
    agent_parameter: str  # the SSM parameter's name
    metrics_namespace: str
    retention_days: int
    tags: Mapping[str, str] = field(default_factory=dict)


def agent_config(group_names: Mapping[str, str], namespace: str) -> str:
    """The CloudWatch agent's configuration (JSON, as `amazon-cloudwatch-agent-ctl` reads it)."""
    collect = []
    for key, (path, event_start) in LOGS.items():
        entry = {"file_path": path, "log_group_name": group_names[key], "log_stream_name": "{instance_id}"}
        if event_start:
            entry["multi_line_start_pattern"] = event_start
        collect.append(entry)
    return json.dumps(
        {
            "agent": {"metrics_collection_interval": 60},
            "logs": {"logs_collected": {"files": {"collect_list": collect}}},
            "metrics": {
                "namespace": namespace,
                "append_dimensions": {"InstanceId": "${aws:InstanceId}"},
                # also published with InstanceId alone, which is what the alarms watch
                "aggregation_dimensions": [["InstanceId"]],
                "metrics_collected": {
                    "mem": {"measurement": ["mem_used_percent"]},
                    "disk": {"measurement": ["used_percent"], "resources": ["/"], "drop_device": True},
                },
            },
        },
        sort_keys=True,
    )


class NodeLogs(pulumi.ComponentResource):
    groups: dict[str, aws.cloudwatch.LogGroup]  # "boot", "carbon", "access", "gc"
    group_names: dict[str, str]
    agent_parameter: aws.ssm.Parameter

    def __init__(self, name: str, args: NodeLogsArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("wso2:cluster:NodeLogs", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        suffixes = {"boot": "boot", "carbon": "carbon", "access": "http-access", "gc": "gc"}
        self.group_names = {key: f"{args.prefix}/{suffix}" for key, suffix in suffixes.items()}
        self.groups = {
            key: aws.cloudwatch.LogGroup(
                f"{name}-{suffixes[key]}-logs",
                name=group_name,
                retention_in_days=args.retention_days,
                tags=dict(args.tags),
                opts=child,
            )
            for key, group_name in self.group_names.items()
        }
        self.agent_parameter = aws.ssm.Parameter(
            f"{name}-cloudwatch-agent-config",
            name=args.agent_parameter,
            type="String",
            description="CloudWatch agent configuration of the WSO2 AS nodes",
            value=agent_config(self.group_names, args.metrics_namespace),
            tags=dict(args.tags),
            opts=child,
        )
        self.register_outputs({"logGroupNames": self.group_names, "agentParameter": self.agent_parameter.name})
