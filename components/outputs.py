"""The stack outputs: the contract with application teams and `verify`, in one place.

`WSO2Cluster` exports exactly these names (a conditional one only when its condition holds), the
README's Outputs table is this table, and `verify/outputs.py` reads some of these names;
tests/infra/test_outputs_and_modes.py holds all three to it. No output holds a secret value.
"""

from __future__ import annotations

# (output names, what they mean) in the README's order; Markdown, as the README prints it.
OUTPUTS: dict[tuple[str, ...], str] = {
    ("loadBalancerDnsName",): "DNS name of the load balancer; point both host names at it (or set `publicZoneId`)",
    ("serviceUrlHttps",): "`https://<serviceHostName>/`, served by the workers",
    ("serviceUrlHttp",): "`http://<serviceHostName>/` (only when `httpMode` is `forward`)",
    ("managementConsoleUrl",): (
        "`https://<managementHostName>/carbon/`, the manager's console (from `managementAllowedCidrs`)"
    ),
    ("managerPrivateIp", "managerInstanceId"): "the manager node",
    ("workerPrivateIps", "workerInstanceIds"): "the worker nodes, in order",
    ("databaseEndpoint",): "the RDS endpoint (`host:port`)",
    ("databaseHostName",): "the private alias the nodes use (`mysql.<privateZoneName>`)",
    ("databaseInstanceId",): "the RDS instance identifier",
    ("databaseSecretArn",): "Secrets Manager ARN of the database master password (the ARN, not the value)",
    ("databaseAppUserSecretArn",): "Secrets Manager ARN of the application user's password",
    ("adminPasswordSecretArn",): "Secrets Manager ARN of the product's admin password",
    ("databaseSecurityGroupId",): "the database's security group",
    ("databaseNames",): "`{userStore, registry}`: the WSO2 databases (`verify` checks their schemas)",
    ("managementAllowedCidrs",): "the sources the console is served to (the VPC's range when the key is not set)",
    ("clusterDomain", "membershipScheme", "clusterPort"): "the Hazelcast cluster settings",
    ("discoveryTagKey", "discoveryTagValue"): "the tag every node carries for AWS-mode discovery",
    ("nodeSecurityGroupId", "nodeSecurityGroupName"): "the nodes' security group",
    ("targetGroupArns",): (
        "`{workersHttps, managerHttps}` target group ARNs, plus `workersHttp` when `httpMode` is `forward`"
    ),
    ("logGroupNames",): (
        "`{boot, carbon, access, gc, rdsError, rdsSlowquery}`: the CloudWatch log groups (node logs: one stream "
        "per instance id)"
    ),
    ("alarmTopicArn",): "the SNS topic every alarm notifies",
    ("dashboardUrl",): "the stack's CloudWatch dashboard",
    ("deploymentFileSystemId",): (
        "the EFS file system of `repository/deployment/server` (only with `deploymentSynchronizer` `efs`)"
    ),
    ("vpcId", "region"): "where it runs",
}
NAMES = tuple(name for names in OUTPUTS for name in names)
# The outputs a stack has only in some configurations: name -> when.
CONDITIONAL = {"serviceUrlHttp": "httpMode forward", "deploymentFileSystemId": "deploymentSynchronizer efs"}
