"""Secrets Manager secrets: database passwords, the admin password, the SVN password and the
discovery key pair.

Nodes receive only each secret's ARN and the version they must read, and fetch the values at
boot through their instance role, so no secret value is ever part of user data (which EC2 stores
in clear text). Carrying the version makes a changed value change the nodes' user data, so the
change rolls through the nodes. Values are stored by whoever creates them: here for passwords,
by `Identity` for the discovery key, and by `Database` for the master password once RDS has it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Optional

import pulumi
import pulumi_aws as aws
import pulumi_random as random

from userdata.settings import (
    SECRET_ADMIN_PASSWORD,
    SECRET_DB_MASTER_PASSWORD,
    SECRET_DB_PASSWORD,
    SECRET_DISCOVERY_ACCESS_KEY,
    SECRET_DISCOVERY_SECRET_KEY,
    SECRET_SVN_PASSWORD,
)

# RDS master passwords may not contain / @ " ' or space; SQL and shell quoting (the manager
# sets the application user's password in a quoted SQL literal) rule out \ ` and $ as well.
SAFE_SPECIALS = "!#%&*()-_=+[]{}<>:?"
DESCRIPTIONS = {
    SECRET_DB_MASTER_PASSWORD: "WSO2 AS database master password (the manager creates databases and users with it)",
    SECRET_DB_PASSWORD: "WSO2 AS database application user password (the datasources use it)",
    SECRET_ADMIN_PASSWORD: "WSO2 AS admin console password",
    SECRET_SVN_PASSWORD: "WSO2 AS deployment synchronizer SVN password",
    SECRET_DISCOVERY_ACCESS_KEY: "WSO2 AS cluster discovery access key id",
    SECRET_DISCOVERY_SECRET_KEY: "WSO2 AS cluster discovery secret access key",
}


@dataclass
class SecretsArgs:
    db_master_password: Optional[pulumi.Input[str]]  # from config (already secret); None generates one
    admin_password: Optional[pulumi.Input[str]] = None  # from config; None generates one
    svn_password: Optional[pulumi.Input[str]] = None  # only with the SVN deployment synchronizer
    discovery_key: bool = False  # aws membership with accessKey credentials
    # 7 days of recovery by default; 0 deletes at once, so a throw-away stack can be recreated
    # with the same names right away.
    recovery_window_in_days: int = 7
    tags: Mapping[str, str] = field(default_factory=dict)


class Secrets(pulumi.ComponentResource):
    db_master_password: pulumi.Output[str]  # secret: RDS's master password
    secrets: dict[str, aws.secretsmanager.Secret]  # by name (userdata.settings.SECRET_*)
    refs: dict[str, pulumi.Output[dict]]  # name -> {"arn", "versionId"}, for the nodes' settings
    # Stored values the nodes need before they boot (all but the master password's, which RDS
    # must have first; the manager's boot waits for it).
    versions: list[aws.secretsmanager.SecretVersion]

    def __init__(self, name: str, args: SecretsArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("wso2:cluster:Secrets", name, None, opts)
        self._name, self._args = name, args
        self.secrets, self.refs, self.versions = {}, {}, []
        self._suffixes: dict[str, str] = {}

        self.db_master_password = self._given_or_generated("db-password", args.db_master_password)
        self._secret(SECRET_DB_MASTER_PASSWORD, "db-password")
        self._secret(SECRET_DB_PASSWORD, "db-app-password")
        self.store(SECRET_DB_PASSWORD, self._given_or_generated("db-app-password", None))
        self._secret(SECRET_ADMIN_PASSWORD, "admin-password")
        self.store(SECRET_ADMIN_PASSWORD, self._given_or_generated("admin-password", args.admin_password))
        if args.svn_password is not None:
            self._secret(SECRET_SVN_PASSWORD, "svn-password")
            self.store(SECRET_SVN_PASSWORD, pulumi.Output.secret(args.svn_password))
        if args.discovery_key:
            self._secret(SECRET_DISCOVERY_ACCESS_KEY, "discovery-access-key")
            self._secret(SECRET_DISCOVERY_SECRET_KEY, "discovery-secret-key")
        self.register_outputs({"arns": {key: secret.arn for key, secret in self.secrets.items()}})

    def _given_or_generated(self, suffix: str, given: Optional[pulumi.Input[str]]) -> pulumi.Output[str]:
        if given is not None:
            return pulumi.Output.secret(given)
        generated = random.RandomPassword(
            f"{self._name}-{suffix}",
            length=24,  # within every consumer's limits (RDS 41, the WSO2 user store 30)
            special=True,
            override_special=SAFE_SPECIALS,
            min_lower=1,
            min_upper=1,
            min_numeric=1,
            opts=pulumi.ResourceOptions(parent=self),
        )
        return pulumi.Output.secret(generated.result)

    def _secret(self, key: str, suffix: str) -> None:
        self._suffixes[key] = suffix
        self.secrets[key] = aws.secretsmanager.Secret(
            f"{self._name}-{suffix}",
            description=DESCRIPTIONS[key],
            recovery_window_in_days=self._args.recovery_window_in_days,
            tags=dict(self._args.tags),
            opts=pulumi.ResourceOptions(parent=self),
        )

    def arn(self, key: str) -> pulumi.Output[str]:
        return self.secrets[key].arn

    def store(
        self,
        key: str,
        value: pulumi.Input[str],
        *,
        pin_version: bool = True,
        opts: Optional[pulumi.ResourceOptions] = None,
    ) -> aws.secretsmanager.SecretVersion:
        """Store a secret's value. With `pin_version`, nodes read exactly this version (a new
        value rolls them) and boot only once it exists."""
        secret = self.secrets[key]
        version = aws.secretsmanager.SecretVersion(
            f"{self._name}-{self._suffixes[key]}-value",
            secret_id=secret.id,
            secret_string=pulumi.Output.secret(value),
            opts=pulumi.ResourceOptions.merge(pulumi.ResourceOptions(parent=self), opts),
        )
        if pin_version:
            self.versions.append(version)
            self.refs[key] = pulumi.Output.all(secret.arn, version.version_id).apply(
                lambda values: {"arn": values[0], "versionId": values[1]}
            )
        else:
            self.refs[key] = secret.arn.apply(lambda arn: {"arn": arn, "versionId": None})
        return version
