"""The database posture per stack, and the load balancer's routing, TLS and target groups."""

from __future__ import annotations

import pytest

from tests.infra.support import (
    ACM_CERT, ALB, DB_SUBNET_GROUP, LISTENER, LISTENER_RULE, PARAMETER_GROUP, RDS, RECORD, SECRET_VERSION,
    TARGET_GROUP, TG_ATTACHMENT, TLS_CERT, TLS_KEY, ZONE, nodes, stack,
)

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
    assert i["autoMinorVersionUpgrade"] is True and i["applyImmediately"] is False
    assert i["enabledCloudwatchLogsExports"] == ["error", "slowquery"]
    assert i["caCertIdentifier"] == "rds-ca-rsa2048-g1"
    assert "dbName" not in i  # the manager creates the databases
    assert i["username"] == "wso2admin" and "password" in rds.secret_inputs
    assert i["vpcSecurityGroupIds"] == [inventory.outputs["databaseSecurityGroupId"]]
    (subnet_group,) = inventory.of_type(DB_SUBNET_GROUP)
    assert i["dbSubnetGroupName"] == subnet_group.outputs["name"]
    private = {s.id for s in inventory.resources if s.type == "aws:ec2/subnet:Subnet"
               and s.inputs["tags"]["tier"] == "private"}
    assert set(subnet_group.inputs["subnetIds"]) == private
    assert rds.options["customTimeouts"] == {"create": "75m", "update": "80m", "delete": "60m"}


def test_dev_database_is_disposable():
    i = stack("dev").of_type(RDS)[0].inputs
    assert (i["deletionProtection"], i["skipFinalSnapshot"], i["multiAz"], i["backupRetentionPeriod"]) == (
        False, True, False, 1)
    assert "finalSnapshotIdentifier" not in i
    assert i["performanceInsightsEnabled"] is False  # not offered on db.t4g.micro


def test_prod_database_is_protected():
    i = stack("prod").of_type(RDS)[0].inputs
    assert (i["deletionProtection"], i["skipFinalSnapshot"], i["multiAz"], i["backupRetentionPeriod"]) == (
        True, False, True, 14)
    assert i["finalSnapshotIdentifier"] == "wso2-cluster-prod-final"
    assert (i["allocatedStorage"], i["maxAllocatedStorage"], i["instanceClass"]) == (100, 500, "db.r7g.large")
    assert i["performanceInsightsEnabled"] is True


@pytest.mark.parametrize("version,family", [("8.4", "mysql8.4"), ("8.0.39", "mysql8.0")])
def test_parameter_group_relaxes_sql_mode_and_requires_tls(version, family):
    inventory = stack("dev", dbEngineVersion=version)
    (group,) = inventory.of_type(PARAMETER_GROUP)
    assert group.inputs["family"] == family
    parameters = {p["name"]: p["value"] for p in group.inputs["parameters"]}
    assert parameters == {"sql_mode": "NO_ENGINE_SUBSTITUTION", "require_secure_transport": "1"}
    assert inventory.of_type(RDS)[0].inputs["parameterGroupName"] == group.outputs["name"]


def test_private_alias_points_at_the_rds_address():
    inventory = stack("dev")
    (zone,) = inventory.of_type(ZONE)
    (record,) = inventory.of_type(RECORD)
    assert zone.inputs["name"] == "wso2.internal"
    assert zone.inputs["vpcs"] == [{"vpcId": inventory.outputs["vpcId"]}]
    assert (record.inputs["zoneId"], record.inputs["name"], record.inputs["type"]) == (
        zone.outputs["zoneId"], "mysql.wso2.internal", "CNAME")
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
    assert len(i["name"]) <= 32 and all(len(g.inputs["name"]) <= 32 for g in inventory.of_type(TARGET_GROUP))
    public = {s.id for s in inventory.resources if s.type == "aws:ec2/subnet:Subnet"
              and s.inputs["tags"]["tier"] == "public"}
    assert set(i["subnets"]) == public and "accessLogs" not in i


def test_access_logs_when_a_bucket_is_set():
    (alb,) = stack("dev", accessLogsBucket="my-alb-logs").of_type(ALB)
    assert alb.inputs["accessLogs"]["bucket"] == "my-alb-logs" and alb.inputs["accessLogs"]["enabled"] is True


@pytest.mark.parametrize("stack_name", ["dev", "prod"])
def test_target_groups_health_checks_and_stickiness(stack_name):
    inventory = stack(stack_name)
    found = groups(inventory)
    expected = {"workersHttp": ("HTTP", 9763, "/"), "workersHttps": ("HTTPS", 9443, "/"),
                "managerHttps": ("HTTPS", 9443, "/carbon/admin/login.jsp")}
    for key, (protocol, port, path) in expected.items():
        i = found[key].inputs
        assert (i["protocol"], i["port"], i["targetType"], i["deregistrationDelay"]) == (protocol, port, "instance", 30)
        assert i["vpcId"] == inventory.outputs["vpcId"]
        check = i["healthCheck"]
        assert (check["protocol"], check["path"], check["matcher"]) == (protocol, path, "200-399")
    assert found["managerHttps"].inputs["stickiness"] == {"type": "lb_cookie", "enabled": True, "cookieDuration": 3600}
    assert "stickiness" not in found["workersHttps"].inputs


@pytest.mark.parametrize("workers", [1, 2, 5])
def test_workers_in_both_worker_groups_manager_in_its_own(workers):
    inventory = stack("dev", workerCount=workers)
    found, node = groups(inventory), nodes(inventory)
    attached = {(a.inputs["targetGroupArn"], a.inputs["targetId"], a.inputs["port"])
                for a in inventory.of_type(TG_ATTACHMENT)}
    expected = {(found["managerHttps"].outputs["arn"], node["manager"].id, 9443)}
    for w in range(1, workers + 1):
        expected.add((found["workersHttp"].outputs["arn"], node[f"worker-{w}"].id, 9763))
        expected.add((found["workersHttps"].outputs["arn"], node[f"worker-{w}"].id, 9443))
    assert attached == expected


@pytest.mark.parametrize("stack_name", ["dev", "prod"])
def test_https_listener_routes_management_host_to_manager_and_the_rest_to_workers(stack_name):
    inventory = stack(stack_name)
    found = groups(inventory)
    https = listener(inventory, 443)
    assert (https.inputs["protocol"], https.inputs["sslPolicy"]) == ("HTTPS", "ELBSecurityPolicy-TLS13-1-2-2021-06")
    assert https.inputs["defaultActions"] == [{"type": "forward", "targetGroupArn": found["workersHttps"].outputs["arn"]}]
    (rule,) = rules_of(inventory, https)
    host = {"dev": "mgt.as.dev.example.com", "prod": "mgt.as.example.com"}[stack_name]
    assert rule.inputs["conditions"] == [{"hostHeader": {"values": [host]}}]
    assert rule.inputs["actions"] == [{"type": "forward", "targetGroupArn": found["managerHttps"].outputs["arn"]}]


def test_http_listener_forwards_in_dev_and_redirects_in_prod():
    redirect = {"type": "redirect", "redirect": {"protocol": "HTTPS", "port": "443", "statusCode": "HTTP_301"}}
    for stack_name, default in (("dev", "forward"), ("prod", "redirect")):
        inventory = stack(stack_name)
        http = listener(inventory, 80)
        expected = (
            {"type": "forward", "targetGroupArn": groups(inventory)["workersHttp"].outputs["arn"]}
            if default == "forward" else redirect
        )
        assert http.inputs["defaultActions"] == [expected], stack_name
        (rule,) = rules_of(inventory, http)
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
        assert record.inputs["aliases"] == [{"name": alb.outputs["dnsName"], "zoneId": alb.outputs["zoneId"],
                                             "evaluateTargetHealth": True}]
    assert len(stack("dev").of_type(RECORD)) == 1  # only the private database alias without a zone
