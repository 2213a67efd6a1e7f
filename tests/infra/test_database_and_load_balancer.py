"""The database posture per stack, and the load balancer's routing, TLS and target groups."""

from __future__ import annotations

import json

import pytest

from components.aws_facts import supports_performance_insights
from tests.infra.support import (
    ACM_CERT,
    ALB,
    BUCKET,
    BUCKET_ENCRYPTION,
    BUCKET_LIFECYCLE,
    BUCKET_OWNERSHIP,
    BUCKET_POLICY,
    BUCKET_PUBLIC_ACCESS,
    DATABASE_GUARD,
    DB_SUBNET_GROUP,
    LISTENER,
    LISTENER_RULE,
    LOG_GROUP,
    PARAMETER_GROUP,
    RANDOM_ID,
    RDS,
    RECORD,
    ROLE,
    ROLE_ATTACHMENT,
    SECRET_VERSION,
    TARGET_GROUP,
    TG_ATTACHMENT,
    TLS_CERT,
    TLS_KEY,
    WEB_ACL,
    WEB_ACL_ASSOCIATION,
    ZONE,
    named,
    nodes,
    stack,
)
from verify.probes import CONSOLE_DENIED_BODY

PROD_CERT = "arn:aws:acm:eu-west-1:123456789012:certificate/0b6bd5a8-3c55-4f3c-9a1e-2f8d4c1e7a90"


# --- database ------------------------------------------------------------------------------------


@pytest.mark.parametrize("stack_name", ["dev", "prod"])
def test_database_is_encrypted_private_and_hardened(stack_name):
    inventory = stack(stack_name)
    (rds,) = inventory.of_type(RDS)
    i = rds.inputs
    assert (i["engine"], i["engineVersion"], i["storageType"]) == ("mysql", "8.4", "gp3")
    assert i["storageEncrypted"] is True and i["publiclyAccessible"] is False
    assert i["iamDatabaseAuthenticationEnabled"] is True and i["copyTagsToSnapshot"] is True
    # a major upgrade is allowed (and applied at once) only in the update that makes one
    assert i["autoMinorVersionUpgrade"] is True and i["applyImmediately"] is False
    assert i["allowMajorVersionUpgrade"] is False
    assert i["enabledCloudwatchLogsExports"] == ["error", "slowquery"]
    assert i["caCertIdentifier"] == "rds-ca-rsa2048-g1"
    assert "dbName" not in i  # the manager creates the databases
    assert i["username"] == "wso2admin" and "password" in rds.secret_inputs
    assert i["vpcSecurityGroupIds"] == [inventory.outputs["databaseSecurityGroupId"]]
    (subnet_group,) = inventory.of_type(DB_SUBNET_GROUP)
    assert i["dbSubnetGroupName"] == subnet_group.outputs["name"]
    private = {
        s.id for s in inventory.resources if s.type == "aws:ec2/subnet:Subnet" and s.inputs["tags"]["tier"] == "private"
    }
    assert set(subnet_group.inputs["subnetIds"]) == private
    assert rds.options["customTimeouts"] == {"create": "75m", "update": "80m", "delete": "60m"}
    # its identifier carries a random suffix, new with each database (keyed on what replaces it)
    (suffix,) = inventory.of_type(RANDOM_ID)
    assert suffix.inputs["keepers"] == {"username": "wso2admin"} and suffix.inputs["byteLength"] == 3
    assert i["identifier"] == f"{stack_name}-mysql-{suffix.outputs['hex']}"
    # the guard has passed before the database changes; its log groups exist before it writes
    (guard,) = inventory.of_type(DATABASE_GUARD)
    assert guard.inputs["username"] == "wso2admin" and guard.inputs["engineVersion"] == "8.4"
    assert guard.inputs["allowReplacement"] is False
    logs = {g.outputs["name"]: g for g in inventory.of_type(LOG_GROUP) if g.outputs["name"].startswith("/aws/rds/")}
    assert set(logs) == {f"/aws/rds/instance/{i['identifier']}/{log}" for log in ("error", "slowquery")}
    assert {g.urn for g in logs.values()} | {guard.urn} <= rds.dependencies
    assert {g.inputs["retentionInDays"] for g in logs.values()} == {30 if stack_name == "dev" else 90}


@pytest.mark.parametrize("stack_name", ["dev", "prod"])
def test_database_has_enhanced_monitoring_through_its_own_role(stack_name):
    """FSBP RDS.6: OS metrics every 60 s, published by RDS through a role only RDS monitoring assumes."""
    inventory = stack(stack_name)
    (rds,) = inventory.of_type(RDS)
    role = named(inventory, ROLE, "-monitoring-role")
    assert rds.inputs["monitoringInterval"] == 60
    assert rds.inputs["monitoringRoleArn"] == role.outputs["arn"]
    assert json.loads(role.inputs["assumeRolePolicy"])["Statement"] == [
        {"Effect": "Allow", "Principal": {"Service": "monitoring.rds.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ]
    (attachment,) = [a for a in inventory.of_type(ROLE_ATTACHMENT) if a.inputs["role"] == role.outputs["name"]]
    assert attachment.inputs["policyArn"] == "arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"
    # RDS refuses a monitoring role without the policy: the instance waits for the attachment
    assert attachment.urn in rds.dependencies


@pytest.mark.parametrize(
    "instance_class,supported",
    [
        ("db.t4g.micro", False),
        ("db.t3.small", False),
        ("db.t4g.small", False),
        ("db.t4g.medium", True),
        ("db.t3.large", True),
        ("db.r7g.large", True),
        ("db.m7g.2xlarge", True),
    ],
)
def test_performance_insights_only_where_the_class_offers_it(instance_class, supported):
    assert supports_performance_insights(instance_class) is supported
    (rds,) = stack("dev", dbInstanceClass=instance_class).of_type(RDS)
    assert rds.inputs["performanceInsightsEnabled"] is supported


def test_dev_database_is_disposable():
    (rds,) = stack("dev").of_type(RDS)
    i = rds.inputs
    assert (i["deletionProtection"], i["skipFinalSnapshot"], i["multiAz"], i["backupRetentionPeriod"]) == (
        False,
        True,
        False,
        7,
    )
    assert "finalSnapshotIdentifier" not in i and rds.options["protect"] is False
    assert i["performanceInsightsEnabled"] is False  # not offered on db.t4g.micro


def test_prod_database_is_protected():
    (rds,) = stack("prod").of_type(RDS)
    i = rds.inputs
    assert (i["deletionProtection"], i["skipFinalSnapshot"], i["multiAz"], i["backupRetentionPeriod"]) == (
        True,
        False,
        True,
        14,
    )
    assert rds.options["protect"] is True  # Pulumi refuses to delete or replace it, too
    # unique per database: the identifier's random suffix is new with each one
    assert i["finalSnapshotIdentifier"] == f"{i['identifier']}-final"
    assert (i["allocatedStorage"], i["maxAllocatedStorage"], i["instanceClass"]) == (100, 500, "db.r7g.large")
    assert i["performanceInsightsEnabled"] is True


@pytest.mark.parametrize("version,family", [("8.4", "mysql8.4"), ("8.0.44", "mysql8.0"), ("8.4.7", "mysql8.4")])
def test_parameter_group_relaxes_sql_mode_requires_tls_and_logs_slow_queries(version, family):
    inventory = stack("dev", dbEngineVersion=version)
    (group,) = inventory.of_type(PARAMETER_GROUP)
    assert group.inputs["family"] == family
    parameters = {p["name"]: p["value"] for p in group.inputs["parameters"]}
    assert parameters == {"sql_mode": "NO_ENGINE_SUBSTITUTION", "require_secure_transport": "1", "slow_query_log": "1"}
    assert inventory.of_type(RDS)[0].inputs["parameterGroupName"] == group.outputs["name"]


def test_private_alias_points_at_the_rds_address():
    inventory = stack("dev")
    (zone,) = inventory.of_type(ZONE)
    (record,) = inventory.of_type(RECORD)
    assert zone.inputs["name"] == "wso2.internal"
    assert zone.inputs["vpcs"] == [{"vpcId": inventory.outputs["vpcId"]}]
    assert (record.inputs["zoneId"], record.inputs["name"], record.inputs["type"]) == (
        zone.outputs["zoneId"],
        "mysql.wso2.internal",
        "CNAME",
    )
    assert record.inputs["records"] == [inventory.of_type(RDS)[0].outputs["address"]]


def test_database_password_is_the_stored_secret():
    inventory = stack("dev")
    password = inventory.of_type(RDS)[0].inputs["password"]
    stored = [v for v in inventory.of_type(SECRET_VERSION) if v.inputs["secretString"] == password]
    assert len(stored) == 1 and stored[0].inputs["secretId"] == inventory.outputs["databaseSecretArn"]


# --- load balancer -------------------------------------------------------------------------------


def groups(inventory):
    """Target groups by output key: workersHttp, workersHttps, managerHttps."""
    by_arn = {g.outputs["arn"]: g for g in inventory.of_type(TARGET_GROUP)}
    return {key: by_arn[arn] for key, arn in inventory.outputs["targetGroupArns"].items()}


def listener(inventory, port):
    (found,) = [x for x in inventory.of_type(LISTENER) if x.inputs["port"] == port]
    return found


def rules_of(inventory, listener_resource):
    return [r for r in inventory.of_type(LISTENER_RULE) if r.inputs["listenerArn"] == listener_resource.outputs["arn"]]


@pytest.mark.parametrize("stack_name", ["dev", "prod"])
def test_load_balancer_is_public_and_strict(stack_name):
    inventory = stack(stack_name)
    (alb,) = inventory.of_type(ALB)
    i = alb.inputs
    assert (i["loadBalancerType"], i["internal"]) == ("application", False)
    assert i["dropInvalidHeaderFields"] is True and i["desyncMitigationMode"] == "defensive"
    assert i["enableDeletionProtection"] is (stack_name == "prod")
    # auto-named (no fixed physical name can collide): the logical names leave room for Pulumi's
    # 8-character suffix within AWS's 32
    assert "name" not in i and all("name" not in g.inputs for g in inventory.of_type(TARGET_GROUP))
    assert len(alb.name) <= 24 and all(len(g.name) <= 24 for g in inventory.of_type(TARGET_GROUP))
    public = {
        s.id for s in inventory.resources if s.type == "aws:ec2/subnet:Subnet" and s.inputs["tags"]["tier"] == "public"
    }
    assert set(i["subnets"]) == public


# --- access logs (FSBP ELB.5) ----------------------------------------------------------------------

LOG_BUCKET_TYPES = (BUCKET, BUCKET_PUBLIC_ACCESS, BUCKET_OWNERSHIP, BUCKET_ENCRYPTION, BUCKET_LIFECYCLE, BUCKET_POLICY)
ELB_ACCOUNT = "arn:aws:iam::156460612806:root"  # the offline engine's eu-west-1 ELB account


@pytest.mark.parametrize("stack_name", ["dev", "prod"])
def test_access_logs_go_to_a_private_bucket_the_stack_creates(stack_name):
    inventory = stack(stack_name)
    (alb,), (bucket,) = inventory.of_type(ALB), inventory.of_type(BUCKET)
    name, prefix = bucket.outputs["bucket"], stack_name
    assert alb.inputs["accessLogs"] == {"bucket": name, "prefix": prefix, "enabled": True}
    assert bucket.inputs["bucketPrefix"] == f"{stack_name}-alb-logs-"
    # the logs may be destroyed with the stack exactly when the load balancer may
    assert bucket.inputs["forceDestroy"] is (stack_name == "dev")
    for type_token in LOG_BUCKET_TYPES[1:]:
        (setting,) = inventory.of_type(type_token)
        assert setting.inputs["bucket"] == name, type_token
    (public,) = inventory.of_type(BUCKET_PUBLIC_ACCESS)
    assert all(
        public.inputs[k] is True
        for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
    )
    assert inventory.of_type(BUCKET_OWNERSHIP)[0].inputs["rule"] == {"objectOwnership": "BucketOwnerEnforced"}
    assert inventory.of_type(BUCKET_ENCRYPTION)[0].inputs["rules"] == [
        {"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}
    ]  # SSE-S3: all ALB logs support
    assert inventory.of_type(BUCKET_LIFECYCLE)[0].inputs["rules"] == [
        {
            "id": "expire-access-logs",
            "status": "Enabled",
            "filter": {"prefix": f"{prefix}/"},
            "expiration": {"days": 90},
        },
        {
            "id": "abort-incomplete-uploads",
            "status": "Enabled",
            "filter": {"prefix": ""},
            "abortIncompleteMultipartUpload": {"daysAfterInitiation": 7},
        },
    ]


def test_log_bucket_policy_denies_plain_http_and_lets_only_elb_write_the_logs():
    inventory = stack("prod")
    (bucket,), (policy,) = inventory.of_type(BUCKET), inventory.of_type(BUCKET_POLICY)
    name, arn = bucket.outputs["bucket"], bucket.outputs["arn"]
    statements = {s["Sid"]: s for s in json.loads(policy.inputs["policy"])["Statement"]}
    assert statements.pop("DenyInsecureTransport") == {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [arn, f"{arn}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }
    logs = f"arn:aws:s3:::{name}/prod/AWSLogs/123456789012/*"
    assert statements == {
        "ElbAccountLogDelivery": {
            "Sid": "ElbAccountLogDelivery",
            "Effect": "Allow",
            "Principal": {"AWS": ELB_ACCOUNT},
            "Action": "s3:PutObject",
            "Resource": logs,
        },
        "ElbServiceLogDelivery": {
            "Sid": "ElbServiceLogDelivery",
            "Effect": "Allow",
            "Principal": {"Service": "logdelivery.elasticloadbalancing.amazonaws.com"},
            "Action": "s3:PutObject",
            "Resource": logs,
        },
    }


def test_load_balancer_waits_for_the_bucket_policy_but_no_node_does():
    inventory = stack("dev")
    (alb,), (policy,) = inventory.of_type(ALB), inventory.of_type(BUCKET_POLICY)
    (public,), (ownership,) = inventory.of_type(BUCKET_PUBLIC_ACCESS), inventory.of_type(BUCKET_OWNERSHIP)
    # ELB checks write access when logging is switched on: the policy must exist first
    assert policy.urn in alb.dependencies
    # S3 rejects concurrent access-setting changes on one bucket: the policy comes after the others
    assert {public.urn, ownership.urn} <= policy.dependencies
    for instance in inventory.of_type("aws:ec2/instance:Instance"):
        for resource in (alb, policy, *inventory.of_type(BUCKET)):
            assert not inventory.depends_on(instance, resource.urn), (instance.name, resource.name)


def test_access_logs_to_a_given_bucket_create_no_bucket():
    inventory = stack("dev", accessLogsBucket="my-alb-logs")
    (alb,) = inventory.of_type(ALB)
    assert alb.inputs["accessLogs"] == {"bucket": "my-alb-logs", "prefix": "dev", "enabled": True}
    for type_token in LOG_BUCKET_TYPES:
        assert inventory.of_type(type_token) == [], type_token


def test_no_access_logs_when_turned_off():
    inventory = stack("dev", accessLogs=False)
    assert "accessLogs" not in inventory.of_type(ALB)[0].inputs
    for type_token in LOG_BUCKET_TYPES:
        assert inventory.of_type(type_token) == [], type_token


@pytest.mark.parametrize("stack_name", ["dev", "prod"])
def test_target_groups_health_checks_and_stickiness(stack_name):
    inventory = stack(stack_name)
    found = groups(inventory)
    # the workers' profile has no console: its health check asks the Version service
    expected = {
        "workersHttp": ("HTTP", 9763, "/services/Version"),
        "workersHttps": ("HTTPS", 9443, "/services/Version"),
        "managerHttps": ("HTTPS", 9443, "/carbon/admin/login.jsp"),
    }
    if stack_name == "prod":  # httpMode redirect: no listener would use the workers' HTTP group
        del expected["workersHttp"]
    assert set(found) == set(expected) and len(inventory.of_type(TARGET_GROUP)) == len(expected)
    for key, (protocol, port, path) in expected.items():
        i = found[key].inputs
        assert (i["protocol"], i["port"], i["targetType"], i["deregistrationDelay"]) == (protocol, port, "instance", 30)
        assert i["vpcId"] == inventory.outputs["vpcId"]
        # healthy 10 s after a node answers (2 checks 5 s apart), out after 3 failures in a row
        assert i["healthCheck"] == {
            "enabled": True,
            "protocol": protocol,
            "port": "traffic-port",
            "path": path,
            "matcher": "200-399",
            "interval": 5,
            "timeout": 4,
            "healthyThreshold": 2,
            "unhealthyThreshold": 3,
        }
    assert found["managerHttps"].inputs["stickiness"] == {"type": "lb_cookie", "enabled": True, "cookieDuration": 3600}
    assert "stickiness" not in found["workersHttps"].inputs  # off unless workerStickinessSeconds is set


def test_worker_stickiness_for_webapps_that_keep_sessions():
    inventory = stack("dev", workerStickinessSeconds=900)
    found = groups(inventory)
    for key in ("workersHttp", "workersHttps"):
        assert found[key].inputs["stickiness"] == {"type": "lb_cookie", "enabled": True, "cookieDuration": 900}
    assert found["managerHttps"].inputs["stickiness"]["cookieDuration"] == 3600


@pytest.mark.parametrize("mode", ["forward", "redirect"])
@pytest.mark.parametrize("workers", [1, 2, 5])
def test_workers_in_the_worker_groups_manager_in_its_own(workers, mode):
    inventory = stack("dev", workerCount=workers, httpMode=mode)
    found, node = groups(inventory), nodes(inventory)
    attached = [
        (a.inputs["targetGroupArn"], a.inputs["targetId"], a.inputs["port"]) for a in inventory.of_type(TG_ATTACHMENT)
    ]
    expected = {(found["managerHttps"].outputs["arn"], node["manager"].id, 9443)}
    for w in range(1, workers + 1):
        if mode == "forward":  # the HTTP group only exists when the HTTP listener forwards to it
            expected.add((found["workersHttp"].outputs["arn"], node[f"worker-{w}"].id, 9763))
        expected.add((found["workersHttps"].outputs["arn"], node[f"worker-{w}"].id, 9443))
    assert len(attached) == len(set(attached)) and set(attached) == expected


@pytest.mark.parametrize("mode", ["forward", "redirect"])
def test_workers_http_group_exists_only_when_http_is_forwarded(mode):
    inventory = stack("dev", httpMode=mode)
    arns = inventory.outputs["targetGroupArns"]
    ports = sorted(g.inputs["port"] for g in inventory.of_type(TARGET_GROUP))
    if mode == "forward":
        assert set(arns) == {"workersHttp", "workersHttps", "managerHttps"} and ports == [9443, 9443, 9763]
        assert listener(inventory, 80).inputs["defaultActions"][0]["targetGroupArn"] == arns["workersHttp"]
    else:
        assert set(arns) == {"workersHttps", "managerHttps"} and ports == [9443, 9443]
        assert listener(inventory, 80).inputs["defaultActions"][0]["type"] == "redirect"
    # every remaining group is the target of some listener or rule (none is left unused)
    used = {a.get("targetGroupArn") for x in inventory.of_type(LISTENER) for a in x.inputs["defaultActions"]}
    used |= {a.get("targetGroupArn") for r in inventory.of_type(LISTENER_RULE) for a in r.inputs["actions"]}
    assert set(arns.values()) <= used


@pytest.mark.parametrize("stack_name", ["dev", "prod"])
def test_https_listener_routes_the_console_from_its_allowed_sources_only(stack_name):
    inventory = stack(stack_name)
    found = groups(inventory)
    https = listener(inventory, 443)
    assert (https.inputs["protocol"], https.inputs["sslPolicy"]) == ("HTTPS", "ELBSecurityPolicy-TLS13-1-2-2021-06")
    assert https.inputs["defaultActions"] == [
        {"type": "forward", "targetGroupArn": found["workersHttps"].outputs["arn"]}
    ]
    host = {"dev": "mgt.as.dev.example.com", "prod": "mgt.as.example.com"}[stack_name]
    rules = sorted(rules_of(inventory, https), key=lambda r: r.inputs["priority"])
    deny = {
        "priority": 100,
        "conditions": [{"hostHeader": {"values": [host]}}],
        "actions": [
            {
                "type": "fixed-response",
                "fixedResponse": {"contentType": "text/plain", "statusCode": "403", "messageBody": CONSOLE_DENIED_BODY},
            }
        ],
    }  # verify knows it
    # dev sets no managementAllowedCidrs: only the VPC's own range, which nobody on the internet has,
    # so the console is reached through SSM; prod lets its office range in
    source = {"dev": "10.20.0.0/16", "prod": "203.0.113.0/24"}[stack_name]
    assert [{k: r.inputs[k] for k in deny} for r in rules] == [
        {
            "priority": 10,
            "conditions": [{"hostHeader": {"values": [host]}}, {"sourceIp": {"values": [source]}}],
            "actions": [{"type": "forward", "targetGroupArn": found["managerHttps"].outputs["arn"]}],
        },
        deny,
    ]  # everyone else gets 403, never the workers


def test_console_sources_are_split_over_rules_of_at_most_five_condition_values():
    cidrs = [f"198.51.100.{i * 16}/28" for i in range(9)]
    inventory = stack("dev", managementAllowedCidrs=json.dumps(cidrs))
    https = listener(inventory, 443)
    forwards = sorted(
        (r for r in rules_of(inventory, https) if r.inputs["actions"][0]["type"] == "forward"),
        key=lambda r: r.inputs["priority"],
    )
    assert [r.inputs["priority"] for r in forwards] == [10, 11, 12]
    sources = [r.inputs["conditions"][1]["sourceIp"]["values"] for r in forwards]
    assert sources == [cidrs[0:4], cidrs[4:8], cidrs[8:9]]
    assert all(sum(len(c[k]["values"]) for c in r.inputs["conditions"] for k in c) <= 5 for r in forwards)


def test_prod_puts_a_web_application_firewall_in_front_of_the_load_balancer():
    inventory = stack("prod")
    (acl,), (association,), (alb,) = (
        inventory.of_type(WEB_ACL),
        inventory.of_type(WEB_ACL_ASSOCIATION),
        inventory.of_type(ALB),
    )
    assert (acl.inputs["scope"], acl.inputs["defaultAction"]) == ("REGIONAL", {"allow": {}})
    assert (association.inputs["resourceArn"], association.inputs["webAclArn"]) == (
        alb.outputs["arn"],
        acl.outputs["arn"],
    )
    rules = {r["name"]: r for r in acl.inputs["rules"]}
    for group in ("AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet"):
        assert rules[group]["statement"] == {"managedRuleGroupStatement": {"vendorName": "AWS", "name": group}}
        assert rules[group]["overrideAction"] == {"none": {}}
    rate = rules["rate-limit-per-client-ip"]
    assert rate["action"] == {"block": {}}
    assert rate["statement"] == {"rateBasedStatement": {"limit": 2000, "aggregateKeyType": "IP"}}
    assert all(r["visibilityConfig"]["cloudwatchMetricsEnabled"] for r in acl.inputs["rules"])
    assert stack("dev").of_type(WEB_ACL) == []


def test_http_listener_forwards_in_dev_and_redirects_in_prod():
    redirect = {"type": "redirect", "redirect": {"protocol": "HTTPS", "port": "443", "statusCode": "HTTP_301"}}
    for stack_name, default in (("dev", "forward"), ("prod", "redirect")):
        inventory = stack(stack_name)
        http = listener(inventory, 80)
        expected = (
            {"type": "forward", "targetGroupArn": groups(inventory)["workersHttp"].outputs["arn"]}
            if default == "forward"
            else redirect
        )
        assert http.inputs["defaultActions"] == [expected], stack_name
        (rule,) = rules_of(inventory, http)  # the console is HTTPS only
        assert rule.inputs["actions"] == [redirect]
        assert rule.inputs["conditions"][0]["hostHeader"]["values"][0].startswith("mgt.")


def test_prod_uses_the_configured_certificate():
    inventory = stack("prod")
    assert listener(inventory, 443).inputs["certificateArn"] == PROD_CERT
    assert inventory.of_type(ACM_CERT) == [] and inventory.of_type(TLS_KEY) == []


def test_dev_imports_a_self_signed_certificate_for_both_hosts():
    inventory = stack("dev")
    (key,), (cert,), (imported,) = inventory.of_type(TLS_KEY), inventory.of_type(TLS_CERT), inventory.of_type(ACM_CERT)
    assert (key.inputs["algorithm"], key.inputs["rsaBits"]) == ("RSA", 2048)
    assert cert.inputs["subject"]["commonName"] == "as.dev.example.com"
    assert cert.inputs["dnsNames"] == ["as.dev.example.com", "mgt.as.dev.example.com"]
    assert set(cert.inputs["allowedUses"]) == {"key_encipherment", "digital_signature", "server_auth"}
    assert cert.inputs["validityPeriodHours"] == 8760
    assert imported.inputs["certificateBody"] == cert.outputs["certPem"]
    assert imported.inputs["privateKey"] == key.outputs["privateKeyPem"] and "privateKey" in imported.secret_inputs
    assert listener(inventory, 443).inputs["certificateArn"] == imported.outputs["arn"]


def test_public_alias_records_when_a_zone_is_given():
    inventory = stack("dev", publicZoneId="Z0123456789ABC")
    (alb,) = inventory.of_type(ALB)
    public = [r for r in inventory.of_type(RECORD) if r.inputs["zoneId"] == "Z0123456789ABC"]
    assert sorted(r.inputs["name"] for r in public) == ["as.dev.example.com", "mgt.as.dev.example.com"]
    for record in public:
        assert record.inputs["type"] == "A"
        assert record.inputs["aliases"] == [
            {"name": alb.outputs["dnsName"], "zoneId": alb.outputs["zoneId"], "evaluateTargetHealth": True}
        ]
    assert len(stack("dev").of_type(RECORD)) == 1  # only the private database alias without a zone
