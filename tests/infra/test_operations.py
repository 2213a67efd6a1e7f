"""Operating the cluster: node logs in CloudWatch, alarms that reach someone (and heal nodes), a
dashboard, and artifacts that outlive nodes (EFS)."""

from __future__ import annotations

import json

import pytest

from components.node_logs import CARBON_EVENT_START
from tests.infra.support import (
    ALARM,
    ALB,
    DASHBOARD,
    EFS,
    EFS_BACKUP,
    EFS_MOUNT_TARGET,
    EFS_POLICY,
    INSTANCE,
    KMS_KEY,
    LOG_GROUP,
    METRIC_FILTER,
    RDS,
    SNS_SUBSCRIPTION,
    SNS_TOPIC,
    SSM_PARAMETER,
    SUBNET,
    TARGET_GROUP,
    node_json,
    nodes,
    stack,
)

NAMESPACE = "WSO2/wso2-cluster/{}"


@pytest.mark.parametrize("stack_name,days", [("dev", 30), ("prod", 90)])
def test_every_log_group_has_a_retention(stack_name, days):
    inventory = stack(stack_name)
    retention = {g.outputs["name"]: g.inputs.get("retentionInDays") for g in inventory.of_type(LOG_GROUP)}
    assert None not in retention.values()
    prefix = f"/wso2/wso2-cluster/{stack_name}"
    ours = {name: d for name, d in retention.items() if name.startswith((prefix, "/aws/rds/"))}
    assert sorted(ours) == sorted(
        [
            f"{prefix}/boot",
            f"{prefix}/carbon",
            f"{prefix}/http-access",
            f"{prefix}/gc",
            *(
                f"/aws/rds/instance/{inventory.of_type(RDS)[0].inputs['identifier']}/{log}"
                for log in ("error", "slowquery")
            ),
        ]
    )
    assert set(ours.values()) == {days}
    assert set(retention.values()) - {days} <= {365}  # the VPC flow logs keep a year


def test_the_log_retention_is_a_config_key():
    assert {g.inputs["retentionInDays"] for g in stack("dev", logRetentionDays=14).of_type(LOG_GROUP)} == {14, 365}


def test_the_agent_configuration_lives_in_ssm_and_ships_four_logs_per_node():
    inventory = stack("dev")
    (parameter,) = inventory.of_type(SSM_PARAMETER)
    assert (parameter.inputs["name"], parameter.inputs["type"]) == ("/wso2/wso2-cluster/dev/cloudwatch-agent", "String")
    agent = json.loads(parameter.inputs["value"])
    assert agent["logs"]["logs_collected"]["files"]["collect_list"] == [
        {
            "file_path": "/var/log/wso2-cluster/boot.log",
            "log_group_name": "/wso2/wso2-cluster/dev/boot",
            "log_stream_name": "{instance_id}",
        },
        {
            "file_path": "/opt/wso2as/repository/logs/wso2carbon.log",
            "log_group_name": "/wso2/wso2-cluster/dev/carbon",
            "log_stream_name": "{instance_id}",
            "multi_line_start_pattern": CARBON_EVENT_START,
        },
        {
            "file_path": "/opt/wso2as/repository/logs/http_access_*.log",
            "log_group_name": "/wso2/wso2-cluster/dev/http-access",
            "log_stream_name": "{instance_id}",
        },
        {
            "file_path": "/opt/wso2as/repository/logs/gc.log*",
            "log_group_name": "/wso2/wso2-cluster/dev/gc",
            "log_stream_name": "{instance_id}",
            "multi_line_start_pattern": r"^\d{4}-\d{2}-\d{2}T",
        },
    ]
    metrics = agent["metrics"]
    assert (metrics["namespace"], metrics["aggregation_dimensions"]) == (NAMESPACE.format("dev"), [["InstanceId"]])
    assert metrics["metrics_collected"] == {
        "mem": {"measurement": ["mem_used_percent"]},
        "disk": {"measurement": ["used_percent"], "resources": ["/"], "drop_device": True},
    }
    assert len(parameter.inputs["value"]) < 4096  # an SSM standard-tier parameter holds 4 KB
    # every node reads it, and none carries it in its user data
    for instance in inventory.of_type(INSTANCE):
        assert node_json(instance)["logAgentParameter"] == parameter.inputs["name"]
        assert "collect_list" not in node_json(instance)


def alarms_on(inventory, dimension: str, value: str) -> list:
    return [a for a in inventory.of_type(ALARM) if (a.inputs.get("dimensions") or {}).get(dimension) == value]


@pytest.mark.parametrize("stack_name", ["dev", "prod"])
def test_every_node_gets_its_recover_reboot_memory_and_disk_alarms(stack_name):
    inventory = stack(stack_name)
    (topic,) = inventory.of_type(SNS_TOPIC)
    automate = "arn:aws:automate:eu-west-1:ec2"
    for name, instance in nodes(inventory).items():
        found = {a.inputs["metricName"]: a.inputs for a in alarms_on(inventory, "InstanceId", instance.id)}
        assert set(found) == {
            "StatusCheckFailed_System",
            "StatusCheckFailed_Instance",
            "mem_used_percent",
            "disk_used_percent",
        }, name
        system, own = found["StatusCheckFailed_System"], found["StatusCheckFailed_Instance"]
        # EC2 recovers the instance (same ENI, IP and volumes) on a failed system check ...
        assert (system["namespace"], system["alarmActions"], system["comparisonOperator"], system["threshold"]) == (
            "AWS/EC2",
            [f"{automate}:recover", topic.outputs["arn"]],
            "GreaterThanOrEqualToThreshold",
            1,
        )
        # ... and reboots it on a failed instance check
        assert (own["namespace"], own["alarmActions"]) == ("AWS/EC2", [f"{automate}:reboot", topic.outputs["arn"]])
        for metric in ("mem_used_percent", "disk_used_percent"):
            assert found[metric]["namespace"] == NAMESPACE.format(stack_name)
            assert found[metric]["dimensions"] == {"InstanceId": instance.id}  # as the agent aggregates them
            assert found[metric]["alarmActions"] == [topic.outputs["arn"]]
        assert all(a["okActions"] == [topic.outputs["arn"]] for a in found.values())


@pytest.mark.parametrize("stack_name,workers", [("dev", 2), ("prod", 4), ("dev", 5)])
def test_every_target_group_alarms_below_its_expected_healthy_hosts(stack_name, workers):
    inventory = stack(stack_name, workerCount=workers)
    (alb,) = inventory.of_type(ALB)
    groups = {g.outputs["arnSuffix"]: g for g in inventory.of_type(TARGET_GROUP)}
    expected = {suffix: 1 if g.name.endswith("-ms") else workers for suffix, g in groups.items()}
    found = {}
    for alarm in inventory.of_type(ALARM):
        if alarm.inputs.get("metricName") == "HealthyHostCount":
            i = alarm.inputs
            assert i["dimensions"]["LoadBalancer"] == alb.outputs["arnSuffix"]
            assert (i["comparisonOperator"], i["statistic"], i["treatMissingData"]) == (
                "LessThanThreshold",
                "Minimum",
                "breaching",
            )
            found[i["dimensions"]["TargetGroup"]] = i["threshold"]
    assert found == expected


def test_the_load_balancer_5xx_rate_database_and_membership_alarms():
    inventory = stack("dev")
    (alb,), (rds,), (topic,) = inventory.of_type(ALB), inventory.of_type(RDS), inventory.of_type(SNS_TOPIC)
    (rate,) = [a for a in inventory.of_type(ALARM) if a.inputs.get("metricQueries")]
    queries = {q["id"]: q for q in rate.inputs["metricQueries"]}
    assert {q["metric"]["metricName"] for q in queries.values() if "metric" in q} == {
        "HTTPCode_ELB_5XX_Count",
        "HTTPCode_Target_5XX_Count",
        "RequestCount",
    }
    assert all(
        q["metric"]["dimensions"] == {"LoadBalancer": alb.outputs["arnSuffix"]}
        for q in queries.values()
        if "metric" in q
    )
    assert queries["rate"]["returnData"] is True and rate.inputs["threshold"] == 5
    database = {
        a.inputs["metricName"]: a.inputs for a in alarms_on(inventory, "DBInstanceIdentifier", rds.inputs["identifier"])
    }
    assert {k: (v["comparisonOperator"], v["threshold"]) for k, v in database.items()} == {
        "CPUUtilization": ("GreaterThanThreshold", 80),
        "FreeStorageSpace": ("LessThanThreshold", 20 * 1024**3 // 10),  # 10% of the 20 GiB allocated
        "FreeableMemory": ("LessThanThreshold", 100 * 1024**2),
        "DatabaseConnections": ("GreaterThanThreshold", int(3 * 100 * 0.8)),  # 80% of the nodes' pools
    }
    filters = {f.inputs["metricTransformation"]["name"]: f.inputs for f in inventory.of_type(METRIC_FILTER)}
    assert {k: (v["pattern"], v["logGroupName"]) for k, v in filters.items()} == {
        "MemberJoined": ('"Member joined"', "/wso2/wso2-cluster/dev/carbon"),
        "MemberLeft": ('"Member left"', "/wso2/wso2-cluster/dev/carbon"),
    }
    (left,) = [a for a in inventory.of_type(ALARM) if a.inputs.get("metricName") == "MemberLeft"]
    assert (left.inputs["namespace"], left.inputs["statistic"], left.inputs["threshold"]) == (
        NAMESPACE.format("dev"),
        "Sum",
        1,
    )
    # every alarm notifies the topic
    assert all(topic.outputs["arn"] in a.inputs["alarmActions"] for a in inventory.of_type(ALARM))


def test_the_alarm_topic_is_encrypted_with_a_key_cloudwatch_may_use():
    inventory = stack("prod")
    (topic,), (key,) = inventory.of_type(SNS_TOPIC), inventory.of_type(KMS_KEY)
    assert topic.inputs["kmsMasterKeyId"] == key.outputs["arn"] and key.inputs["enableKeyRotation"] is True
    statements = {s["Sid"]: s for s in json.loads(key.inputs["policy"])["Statement"]}
    assert statements["CloudWatchPublishes"]["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert statements["CloudWatchPublishes"]["Action"] == ["kms:Decrypt", "kms:GenerateDataKey*"]
    (subscription,) = inventory.of_type(SNS_SUBSCRIPTION)
    assert (subscription.inputs["protocol"], subscription.inputs["endpoint"]) == ("email", "wso2-oncall@example.com")
    assert stack("dev").of_type(SNS_SUBSCRIPTION) == []


def test_the_dashboard_shows_service_nodes_membership_and_database():
    inventory = stack("dev")
    (dashboard,) = inventory.of_type(DASHBOARD)
    assert dashboard.inputs["dashboardName"] == "wso2-cluster-dev"
    widgets = json.loads(dashboard.inputs["dashboardBody"])["widgets"]
    titles = [w["properties"]["title"] for w in widgets]
    assert titles == [
        "Service: requests and 5xx",
        "Service: healthy hosts per target group",
        "Nodes: CPU %",
        "Nodes: memory and disk used %",
        "Cluster: members joining and leaving",
        "Cluster: membership events",
        "Database: CPU % and connections",
        "Database: free storage and freeable memory (bytes)",
    ]
    body = dashboard.inputs["dashboardBody"]
    for instance in inventory.of_type(INSTANCE):
        assert instance.id in body
    assert inventory.of_type(RDS)[0].inputs["identifier"] in body


def test_prod_keeps_deployed_artifacts_on_an_encrypted_efs_reachable_from_the_nodes_only():
    inventory = stack("prod")
    (fs,), (backup,), (policy,) = inventory.of_type(EFS), inventory.of_type(EFS_BACKUP), inventory.of_type(EFS_POLICY)
    assert fs.inputs["encrypted"] is True
    assert backup.inputs["backupPolicy"] == {"status": "ENABLED"}
    statements = {s["Sid"]: s for s in json.loads(policy.inputs["policy"])["Statement"]}
    assert statements["DenyInsecureTransport"]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    private = {s.id for s in inventory.of_type(SUBNET) if s.inputs["tags"]["tier"] == "private"}
    targets = inventory.of_type(EFS_MOUNT_TARGET)
    assert {t.inputs["subnetId"] for t in targets} == private and len(targets) == len(private)
    (efs_group,) = {t.inputs["securityGroups"][0] for t in targets}
    assert efs_group != inventory.outputs["nodeSecurityGroupId"]  # its own group, NFS from the nodes only
    for instance in inventory.of_type(INSTANCE):
        assert node_json(instance)["deploymentSync"] == {
            "mode": "efs",
            "fileSystemId": fs.id,
            "svnUrl": None,
            "svnUser": None,
            "svnKit": None,
            "trileadSsh": None,
        }
    assert stack("dev").of_type(EFS) == []
