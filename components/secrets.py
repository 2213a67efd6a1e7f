"""Secrets Manager secrets: the database password, the SVN password, the discovery key pair.

Nodes receive only the ARNs and fetch the values at boot through their instance role, so no
secret value is ever part of user data (which EC2 stores in clear text).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Optional

import pulumi
import pulumi_aws as aws
import pulumi_random as random

from userdata.settings import (
    SECRET_DB_PASSWORD,
    SECRET_DISCOVERY_ACCESS_KEY,
    SECRET_DISCOVERY_SECRET_KEY,
    SECRET_SVN_PASSWORD,
)

# RDS MySQL master passwords may not contain / @ " ' or space.
RDS_SAFE_SPECIALS = "!#$%&*()-_=+[]{}<>:?"


@dataclass
class SecretsArgs:
    db_password: Optional[pulumi.Input[str]]  # from config (already secret); None generates one
    svn_password: Optional[pulumi.Input[str]] = None  # only with the SVN deployment synchronizer
    discovery_key: bool = False  # aws membership with accessKey credentials
    # 7 days of recovery by default; 0 deletes at once, so a throw-away stack can be recreated
    # with the same names right away.
    recovery_window_in_days: int = 7
    tags: Mapping[str, str] = field(default_factory=dict)


class Secrets(pulumi.ComponentResource):
    db_password: pulumi.Output[str]  # secret; also the RDS master password
    db_password_secret: aws.secretsmanager.Secret
    discovery_access_key_secret: Optional[aws.secretsmanager.Secret] = None
    discovery_secret_key_secret: Optional[aws.secretsmanager.Secret] = None
    versions: list[aws.secretsmanager.SecretVersion]  # values the nodes need at boot

    def __init__(self, name: str, args: SecretsArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("wso2:cluster:Secrets", name, None, opts)
        self._name, self._args = name, args
        self.versions = []
        self._secrets: dict[str, aws.secretsmanager.Secret] = {}

        if args.db_password is not None:
            self.db_password = pulumi.Output.secret(args.db_password)
        else:
            generated = random.RandomPassword(
                f"{name}-db-password",
                length=32,
                special=True,
                override_special=RDS_SAFE_SPECIALS,
                min_lower=1,
                min_upper=1,
                min_numeric=1,
                opts=pulumi.ResourceOptions(parent=self),
            )
            self.db_password = pulumi.Output.secret(generated.result)
        self.db_password_secret = self._secret(SECRET_DB_PASSWORD, "db-password", "WSO2 AS database master password",
                                               self.db_password)
        if args.svn_password is not None:
            self._secret(SECRET_SVN_PASSWORD, "svn-password", "WSO2 AS deployment synchronizer SVN password",
                         pulumi.Output.secret(args.svn_password))
        if args.discovery_key:
            # Values are written by Identity, which creates the key (see Identity.store_in).
            self.discovery_access_key_secret = self._secret(
                SECRET_DISCOVERY_ACCESS_KEY, "discovery-access-key", "WSO2 AS cluster discovery access key id", None
            )
            self.discovery_secret_key_secret = self._secret(
                SECRET_DISCOVERY_SECRET_KEY, "discovery-secret-key", "WSO2 AS cluster discovery secret access key", None
            )
        self.arns: dict[str, pulumi.Output[str]] = {key: s.arn for key, s in self._secrets.items()}
        self.register_outputs({"arns": self.arns})

    def _secret(self, key: str, suffix: str, description: str,
                value: Optional[pulumi.Output[str]]) -> aws.secretsmanager.Secret:
        secret = aws.secretsmanager.Secret(
            f"{self._name}-{suffix}",
            description=description,
            recovery_window_in_days=self._args.recovery_window_in_days,
            tags=dict(self._args.tags),
            opts=pulumi.ResourceOptions(parent=self),
        )
        if value is not None:
            self.versions.append(self.put_value(f"{self._name}-{suffix}", secret, value, parent=self))
        self._secrets[key] = secret
        return secret

    @staticmethod
    def put_value(name: str, secret: aws.secretsmanager.Secret, value: pulumi.Input[str],
                  parent: pulumi.Resource) -> aws.secretsmanager.SecretVersion:
        return aws.secretsmanager.SecretVersion(
            f"{name}-value",
            secret_id=secret.id,
            secret_string=pulumi.Output.secret(value),
            opts=pulumi.ResourceOptions(parent=parent),
        )
