"""The AWS checks against a moto cluster: healthy passes, each fault fails naming node and reason."""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws
from verify_cluster_kit import DB_ID, REGION, TAG_KEY, build_cluster

from verify.checks import check_instances, check_target_groups
from verify.outputs import parse_outputs


def only_failures_about(run, *needles: str) -> None:
    """Every FAIL line mentions one of `needles` (the fault does not spill onto healthy resources)."""
    assert run.failed, run.out
    stray = [line for line in run.failed if not any(n in line for n in needles)]
    assert not stray, f"unexpected failures: {stray}"


def line_for(run, *parts: str) -> str:
    matches = [line for line in run.lines if all(p in line for p in parts)]
    assert len(matches) == 1, f"expected one line with {parts}, got {matches}\n{run.out}"
    return matches[0]


def test_healthy_cluster_passes(cluster, run_verify):
    run = run_verify(cluster.outputs)
    assert run.code == 0, run.out + run.err
    assert run.failed == []
    o = cluster.outputs
    # every node, target, database aspect and rule was actually checked
    for node_id in [o["managerInstanceId"], *o["workerInstanceIds"]]:
        for aspect in ("exists", "state", "status checks", "discovery tag", "security group", "IMDSv2"):
            assert line_for(run, node_id, aspect).startswith("PASS")
    assert len([line for line in run.passed if line.startswith("PASS  target group")]) == 5
    for aspect in ("status", "storage encryption", "public access", "security group"):
        assert line_for(run, f"database {DB_ID} {aspect}:").startswith("PASS")
    assert line_for(run, "cluster port").startswith("PASS")
    assert line_for(run, "mysql").startswith("PASS")
    # 30 checks before issue #12 step 4, then 3 nodes + the cluster (membership) and the two schemas
    assert run.lines[-1] == "RESULT: PASS - all 36 checks passed"


def test_healthy_redirect_mode_cluster_passes_without_a_workers_http_group():
    """httpMode redirect: no workersHttp group, no serviceUrlHttp; the other groups are all checked."""
    with mock_aws():
        ec2, elbv2, rds = (boto3.client(s, region_name=REGION) for s in ("ec2", "elbv2", "rds"))
        outputs = build_cluster(ec2, elbv2, rds, forward_http=False)
        assert set(outputs["targetGroupArns"]) == {"workersHttps", "managerHttps"}
        results = list(check_target_groups(elbv2, parse_outputs(outputs)))
    assert [(r.name.rsplit(" (", 1)[0], r.ok) for r in results] == [
        ("target group workersHttps worker-1", True),
        ("target group workersHttps worker-2", True),
        ("target group managerHttps manager", True),
    ]


def test_progress_headers_precede_their_checks(cluster, run_verify):
    lines = run_verify(cluster.outputs).lines
    headers = [i for i, line in enumerate(lines) if line.startswith("-- checking")]
    assert [lines[i] for i in headers] == [
        "-- checking EC2 instances (manager, worker-1, worker-2)",
        "-- checking target groups (every node in service)",
        "-- checking database",
        "-- checking security groups",
        "-- checking cluster membership",
        "-- checking database schema",
    ]
    assert "target group" in lines[headers[1] + 1] and "database" in lines[headers[2] + 1]


def test_stopped_worker_fails_instance_and_target_checks(cluster, run_verify):
    worker = cluster.outputs["workerInstanceIds"][0]
    cluster.ec2.stop_instances(InstanceIds=[worker])
    run = run_verify(cluster.outputs)
    assert run.code == 1
    only_failures_about(run, worker)
    assert line_for(run, f"worker-1 ({worker}) state").startswith("FAIL")
    assert "stopped (expected running)" in line_for(run, f"worker-1 ({worker}) state")
    # moto reports not-applicable status for a stopped instance
    assert "system status not-applicable" in line_for(run, f"worker-1 ({worker}) status checks")
    # moto reports a stopped instance target as unused / Target.InvalidState
    for group, port in (("workersHttp", 9763), ("workersHttps", 9443)):
        line = line_for(run, f"target group {group} worker-1 ({worker}:{port})")
        assert line.startswith("FAIL")
        assert "unused: Target.InvalidState - Target is in the stopped state" in line
    assert line_for(run, cluster.outputs["workerInstanceIds"][1], "state").startswith("PASS")
    assert run.lines[-1] == "RESULT: FAIL - 4 of 36 checks failed"


def test_unknown_instance_is_reported_and_other_checks_still_run(cluster, run_verify):
    outputs = dict(cluster.outputs, workerInstanceIds=[cluster.outputs["workerInstanceIds"][0], "i-0123456789abcdef0"])
    run = run_verify(outputs)
    assert run.code == 1
    assert (
        line_for(run, "worker-2 (i-0123456789abcdef0) exists")
        == "FAIL  worker-2 (i-0123456789abcdef0) exists: instance not found"
    )
    assert line_for(run, "worker-1", "state").startswith("PASS")
    assert line_for(run, f"database {DB_ID} status").startswith("PASS")


def test_private_ip_mismatch_fails(cluster, run_verify):
    outputs = dict(cluster.outputs, managerPrivateIp="10.20.1.99")
    run = run_verify(outputs)
    assert run.code == 1
    line = line_for(run, "manager", "exists")
    assert line.startswith("FAIL") and "10.20.1.10 differs from the output 10.20.1.99" in line


def test_a_node_missing_from_its_target_group_fails(cluster, run_verify):
    """Only registered targets were looked at once: an unregistered worker passed."""
    manager, worker = cluster.outputs["managerInstanceId"], cluster.outputs["workerInstanceIds"][1]
    arns = cluster.outputs["targetGroupArns"]
    cluster.elbv2.deregister_targets(TargetGroupArn=arns["managerHttps"], Targets=[{"Id": manager, "Port": 9443}])
    cluster.elbv2.deregister_targets(TargetGroupArn=arns["workersHttps"], Targets=[{"Id": worker, "Port": 9443}])
    run = run_verify(cluster.outputs)
    assert run.code == 1
    assert run.failed == [
        f"FAIL  target group workersHttps worker-2 ({worker}): not registered in {arns['workersHttps']}",
        f"FAIL  target group managerHttps manager ({manager}): not registered in {arns['managerHttps']}",
    ]


def test_missing_target_group_fails_without_hiding_the_others(cluster, run_verify):
    outputs = dict(cluster.outputs)
    bogus = (
        cluster.outputs["targetGroupArns"]["workersHttp"].replace("as-workers-http", "gone").rsplit("/", 1)[0]
        + "/9999999999999999"
    )
    outputs["targetGroupArns"] = dict(cluster.outputs["targetGroupArns"], workersHttp=bogus)
    run = run_verify(outputs)
    assert run.code == 1
    line = line_for(run, "target group workersHttp:")
    assert line.startswith("FAIL") and "TargetGroupNotFound" in line
    assert line_for(run, "target group managerHttps manager").startswith("PASS")


def test_publicly_accessible_database_fails(cluster, run_verify):
    cluster.rds.modify_db_instance(DBInstanceIdentifier=DB_ID, PubliclyAccessible=True, ApplyImmediately=True)
    run = run_verify(cluster.outputs)
    assert run.code == 1
    assert run.failed == [f"FAIL  database {DB_ID} public access: publicly accessible (expected private)"]


def test_unencrypted_database_fails(cluster, run_verify):
    # moto cannot turn encryption off on an existing instance (neither can AWS): use a second one
    db_sg = cluster.outputs["databaseSecurityGroupId"]
    cluster.rds.create_db_instance(
        DBInstanceIdentifier="wso2-as-db-plain",
        DBInstanceClass="db.t3.small",
        Engine="mysql",
        MasterUsername="wso2",
        MasterUserPassword="not-a-real-password",
        AllocatedStorage=20,
        StorageEncrypted=False,
        PubliclyAccessible=False,
        VpcSecurityGroupIds=[db_sg],
        DBSubnetGroupName="wso2-as-db",
    )
    run = run_verify(dict(cluster.outputs, databaseInstanceId="wso2-as-db-plain"))
    assert run.code == 1
    assert run.failed == ["FAIL  database wso2-as-db-plain storage encryption: storage NOT encrypted"]


def test_missing_database_fails(cluster, run_verify):
    run = run_verify(dict(cluster.outputs, databaseInstanceId="no-such-db"))
    assert run.code == 1
    assert run.failed == ["FAIL  database no-such-db exists: DB instance not found"]


def test_database_outside_its_security_group_fails(cluster, run_verify):
    other = cluster.ec2.create_security_group(GroupName="other", Description="x", VpcId=cluster.outputs["vpcId"])[
        "GroupId"
    ]
    cluster.rds.modify_db_instance(DBInstanceIdentifier=DB_ID, VpcSecurityGroupIds=[other], ApplyImmediately=True)
    run = run_verify(cluster.outputs)
    assert run.code == 1
    line = line_for(run, f"database {DB_ID} security group")
    assert line.startswith("FAIL") and f"{cluster.outputs['databaseSecurityGroupId']} not attached" in line


def _cluster_rule(sg: str, port: int = 5701) -> list[dict]:
    return [{"IpProtocol": "tcp", "FromPort": port, "ToPort": port, "UserIdGroupPairs": [{"GroupId": sg}]}]


def test_missing_cluster_port_self_rule_fails(cluster, run_verify):
    sg = cluster.outputs["nodeSecurityGroupId"]
    cluster.ec2.revoke_security_group_ingress(GroupId=sg, IpPermissions=_cluster_rule(sg))
    run = run_verify(cluster.outputs)
    assert run.code == 1
    assert run.failed == [
        f"FAIL  node security group {sg} cluster port: no ingress rule admitting the group itself on 5701/tcp"
        " (members cannot reach each other)"
    ]


def test_cluster_port_open_to_a_cidr_only_is_not_a_self_rule(cluster, run_verify):
    sg = cluster.outputs["nodeSecurityGroupId"]
    cluster.ec2.revoke_security_group_ingress(GroupId=sg, IpPermissions=_cluster_rule(sg))
    cluster.ec2.authorize_security_group_ingress(
        GroupId=sg,
        IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 5701, "ToPort": 5701, "IpRanges": [{"CidrIp": "10.20.0.0/16"}]}
        ],
    )
    run = run_verify(cluster.outputs)
    assert run.code == 1
    assert line_for(run, "cluster port").startswith("FAIL")


def test_self_rule_on_another_port_does_not_count(cluster, run_verify):
    sg = cluster.outputs["nodeSecurityGroupId"]
    cluster.ec2.revoke_security_group_ingress(GroupId=sg, IpPermissions=_cluster_rule(sg))
    cluster.ec2.authorize_security_group_ingress(GroupId=sg, IpPermissions=_cluster_rule(sg, 5702))
    run = run_verify(cluster.outputs)
    assert run.code == 1
    assert line_for(run, "cluster port").startswith("FAIL")


def test_self_rule_with_a_port_range_covering_the_cluster_port_passes(cluster, run_verify):
    sg = cluster.outputs["nodeSecurityGroupId"]
    cluster.ec2.revoke_security_group_ingress(GroupId=sg, IpPermissions=_cluster_rule(sg))
    cluster.ec2.authorize_security_group_ingress(
        GroupId=sg,
        IpPermissions=[{"IpProtocol": "tcp", "FromPort": 5701, "ToPort": 5800, "UserIdGroupPairs": [{"GroupId": sg}]}],
    )
    run = run_verify(cluster.outputs)
    assert run.code == 0, run.out
    assert "admits itself on 5701/tcp" in line_for(run, "cluster port")


def test_database_group_without_mysql_rule_fails(cluster, run_verify):
    node_sg, db_sg = cluster.outputs["nodeSecurityGroupId"], cluster.outputs["databaseSecurityGroupId"]
    cluster.ec2.revoke_security_group_ingress(GroupId=db_sg, IpPermissions=_cluster_rule(node_sg, 3306))
    run = run_verify(cluster.outputs)
    assert run.code == 1
    assert run.failed == [
        f"FAIL  database security group {db_sg} mysql: no ingress rule admitting node group {node_sg} on 3306/tcp"
    ]


def test_node_security_group_name_mismatch_fails(cluster, run_verify):
    run = run_verify(dict(cluster.outputs, nodeSecurityGroupName="renamed"))
    assert run.code == 1
    assert line_for(run, "name:") == (
        f"FAIL  node security group {cluster.outputs['nodeSecurityGroupId']} name: named wso2-as-nodes, "
        "expected renamed (discovery filters on the name)"
    )


def test_node_without_discovery_tag_fails(cluster, run_verify):
    worker = cluster.outputs["workerInstanceIds"][1]
    cluster.ec2.delete_tags(Resources=[worker], Tags=[{"Key": TAG_KEY}])
    run = run_verify(cluster.outputs)
    assert run.code == 1
    assert run.failed == [
        f"FAIL  worker-2 ({worker}) discovery tag: tag {TAG_KEY} missing (expected {TAG_KEY}=as-prod)"
    ]


def test_node_with_wrong_discovery_tag_value_fails(cluster, run_verify):
    manager = cluster.outputs["managerInstanceId"]
    cluster.ec2.create_tags(Resources=[manager], Tags=[{"Key": TAG_KEY, "Value": "as-staging"}])
    run = run_verify(cluster.outputs)
    assert run.code == 1
    assert run.failed == [
        f"FAIL  manager ({manager}) discovery tag: tag {TAG_KEY}=as-staging (expected {TAG_KEY}=as-prod)"
    ]


def test_imdsv2_optional_fails(cluster, run_verify):
    manager = cluster.outputs["managerInstanceId"]
    cluster.ec2.modify_instance_metadata_options(InstanceId=manager, HttpTokens="optional")
    run = run_verify(cluster.outputs)
    assert run.code == 1
    assert run.failed == [f"FAIL  manager ({manager}) IMDSv2: HttpTokens is optional (IMDSv2 not required)"]


def test_node_outside_node_security_group_fails(cluster, run_verify):
    worker = cluster.outputs["workerInstanceIds"][0]
    other = cluster.ec2.create_security_group(GroupName="stray", Description="x", VpcId=cluster.outputs["vpcId"])[
        "GroupId"
    ]
    instance = cluster.ec2.describe_instances(InstanceIds=[worker])["Reservations"][0]["Instances"][0]
    eni = instance["NetworkInterfaces"][0]["NetworkInterfaceId"]
    cluster.ec2.modify_network_interface_attribute(NetworkInterfaceId=eni, Groups=[other])
    run = run_verify(cluster.outputs)
    assert run.code == 1
    assert run.failed == [
        f"FAIL  worker-1 ({worker}) security group: node security group "
        f"{cluster.outputs['nodeSecurityGroupId']} missing (has: {other})"
    ]


def test_region_falls_back_to_the_stack_output(monkeypatch, run_verify):
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    with mock_aws():
        clients = [boto3.client(s, region_name="eu-west-1") for s in ("ec2", "elbv2", "rds")]
        outputs = build_cluster(*clients, region="eu-west-1", logs=boto3.client("logs", region_name="eu-west-1"))
        run = run_verify(outputs)
    assert run.code == 0, run.out + run.err
    assert line_for(run, outputs["managerInstanceId"], "state").startswith("PASS")


def test_environment_region_wins_over_the_stack_output(cluster, run_verify):
    # the cluster lives in us-east-1 (the environment's region); a stale region output is only a note
    run = run_verify(dict(cluster.outputs, region="eu-west-1"))
    assert run.code == 0, run.out
    assert (
        run.err.strip()
        == "note: checking region us-east-1 (from the environment); the stack's region output is eu-west-1"
    )


def test_no_credentials_is_a_usage_error(monkeypatch, static_outputs, run_verify):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    run = run_verify(static_outputs)
    assert run.code == 2
    assert run.err.strip().splitlines() == [
        "error: no AWS credentials found (set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)"
    ]


# --- What moto cannot produce: stubbed at the boto3 client level -------------------------------------


def test_unhealthy_running_target_names_node_by_ip_and_aws_reason(static_outputs):
    """moto only reports healthy/unused/draining; a failing health check (app down) needs a stub.

    The targets are registered by IP here (target type `ip`), so the node is found by its private IP.
    """
    outputs = parse_outputs(static_outputs)
    elbv2 = boto3.client("elbv2", region_name=REGION)
    arns = static_outputs["targetGroupArns"]
    with Stubber(elbv2) as stub:
        stub.add_response(
            "describe_target_health",
            {
                "TargetHealthDescriptions": [
                    {
                        "Target": {"Id": "10.20.1.20", "Port": 9763},
                        "TargetHealth": {
                            "State": "unhealthy",
                            "Reason": "Target.ResponseCodeMismatch",
                            "Description": "Health checks failed with these codes: [502]",
                        },
                    },
                    {"Target": {"Id": "10.20.2.21", "Port": 9763}, "TargetHealth": {"State": "healthy"}},
                ]
            },
            {"TargetGroupArn": arns["workersHttp"]},
        )
        stub.add_response(
            "describe_target_health",
            {
                "TargetHealthDescriptions": [
                    {
                        "Target": {"Id": "10.20.9.9", "Port": 9443},
                        "TargetHealth": {
                            "State": "initial",
                            "Reason": "Elb.RegistrationInProgress",
                            "Description": "Target registration is in progress",
                        },
                    },
                ]
            },
            {"TargetGroupArn": arns["workersHttps"]},
        )
        stub.add_response(
            "describe_target_health",
            {
                "TargetHealthDescriptions": [
                    {"Target": {"Id": "10.20.1.10", "Port": 9443}, "TargetHealth": {"State": "healthy"}},
                ]
            },
            {"TargetGroupArn": arns["managerHttps"]},
        )
        results = list(check_target_groups(elbv2, outputs))
        stub.assert_no_pending_responses()
    assert [(r.name, r.ok, r.detail) for r in results] == [
        (
            "target group workersHttp worker-1 (10.20.1.20:9763)",
            False,
            "unhealthy: Target.ResponseCodeMismatch - Health checks failed with these codes: [502]",
        ),
        ("target group workersHttp worker-2 (10.20.2.21:9763)", True, "healthy"),
        (
            "target group workersHttps worker-1 (i-0bbbbbbbbbbbbbbb1)",
            False,
            f"not registered in {arns['workersHttps']}",
        ),
        (
            "target group workersHttps worker-2 (i-0ccccccccccccccc2)",
            False,
            f"not registered in {arns['workersHttps']}",
        ),
        (
            "target group workersHttps not a cluster node (10.20.9.9:9443)",
            False,
            "registered, but not one of the group's nodes (initial)",
        ),
        ("target group managerHttps manager (10.20.1.10:9443)", True, "healthy"),
    ]


def _instance(outputs: dict) -> dict:
    return {
        "InstanceId": outputs["managerInstanceId"],
        "PrivateIpAddress": outputs["managerPrivateIp"],
        "State": {"Code": 16, "Name": "running"},
        "Tags": [{"Key": TAG_KEY, "Value": outputs["discoveryTagValue"]}],
        "SecurityGroups": [{"GroupId": outputs["nodeSecurityGroupId"], "GroupName": "wso2-as-nodes"}],
        "MetadataOptions": {"HttpTokens": "required"},
    }


@pytest.mark.parametrize(
    "statuses, expected",
    [
        pytest.param(
            [
                {
                    "SystemStatus": {"Status": "ok", "Details": [{"Name": "reachability", "Status": "passed"}]},
                    "InstanceStatus": {
                        "Status": "initializing",
                        "Details": [{"Name": "reachability", "Status": "initializing"}],
                    },
                }
            ],
            "instance status initializing (reachability initializing)",
            id="initializing",
        ),
        pytest.param(
            [
                {
                    "SystemStatus": {"Status": "impaired", "Details": [{"Name": "reachability", "Status": "failed"}]},
                    "InstanceStatus": {"Status": "ok", "Details": [{"Name": "reachability", "Status": "passed"}]},
                }
            ],
            "system status impaired (reachability failed)",
            id="impaired",
        ),
        pytest.param([], "no status reported", id="missing"),
    ],
)
def test_status_checks_not_ok_fail_with_the_reason(static_outputs, statuses, expected):
    """moto reports `ok` for every running instance, so these states come from a stub."""
    static_outputs = dict(static_outputs, workerInstanceIds=[], workerPrivateIps=[])
    outputs = parse_outputs(static_outputs)
    manager = static_outputs["managerInstanceId"]
    ec2 = boto3.client("ec2", region_name=REGION)
    with Stubber(ec2) as stub:
        stub.add_response(
            "describe_instances",
            {"Reservations": [{"Instances": [_instance(static_outputs)]}]},
            {"Filters": [{"Name": "instance-id", "Values": [manager]}]},
        )
        stub.add_response(
            "describe_instance_status",
            {
                "InstanceStatuses": [
                    dict(s, InstanceId=manager, InstanceState={"Code": 16, "Name": "running"}) for s in statuses
                ]
            },
            {"InstanceIds": [manager], "IncludeAllInstances": True},
        )
        results = {r.name: r for r in check_instances(ec2, outputs)}
        stub.assert_no_pending_responses()
    status = results[f"manager ({manager}) status checks"]
    assert (status.ok, status.detail) == (False, expected)
    # the stubbed instance is otherwise fine, so only the status check fails
    assert [name for name, r in results.items() if not r.ok] == [f"manager ({manager}) status checks"]


@pytest.mark.parametrize("mode", ["forward", "redirect", "stale-redirect"])
def test_unused_targets_fail_in_every_group_in_every_http_mode(static_outputs, mode):
    """AWS says unused / Target.NotInUse when no listener forwards to a group (moto never does:
    stubbed). The stack makes no idle group (workersHttp exists only when HTTP is forwarded), so
    an unused target is a failure wherever it shows up: in redirect mode workersHttp is not asked,
    and a stack still carrying it from before (stale-redirect: no serviceUrlHttp) fails on it."""
    keys = ["workersHttp", "workersHttps", "managerHttps"]
    if mode != "forward":  # the outputs of an httpMode=redirect stack
        del static_outputs["serviceUrlHttp"]
    if mode == "redirect":
        del static_outputs["targetGroupArns"]["workersHttp"]
        keys.remove("workersHttp")
    outputs = parse_outputs(static_outputs)
    arns = static_outputs["targetGroupArns"]
    not_in_use = {
        "State": "unused",
        "Reason": "Target.NotInUse",
        "Description": "Target group is not configured to receive traffic from the load balancer",
    }
    elbv2 = boto3.client("elbv2", region_name=REGION)
    with Stubber(elbv2) as stub:
        for key in keys:  # exactly these calls, in this order: nothing else is asked
            stub.add_response(
                "describe_target_health",
                {
                    "TargetHealthDescriptions": [
                        {"Target": {"Id": "10.20.1.20", "Port": 9443}, "TargetHealth": not_in_use}
                    ]
                },
                {"TargetGroupArn": arns[key]},
            )
        results = {
            r.name.split(" ")[2]: r
            for r in check_target_groups(elbv2, outputs)
            if "worker-1 (10.20.1.20:9443)" in r.name
        }
        stub.assert_no_pending_responses()
    assert sorted(results) == sorted(k for k in keys if k != "managerHttps")  # the manager is not 10.20.1.20
    for key in results:
        assert results[key].ok is False, key
        assert results[key].detail == (
            "unused: Target.NotInUse - Target group is not configured to receive traffic from the load balancer"
        )
