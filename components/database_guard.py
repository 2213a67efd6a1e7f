"""A guard in front of the RDS instance: it refuses, before anything is touched, a change that
would replace the database (and so lose its data) unless `dbAllowReplacement` allows it, or that
RDS cannot make (an engine downgrade); and it tells the database when a change is an engine
major upgrade, the only change for which `allow_major_version_upgrade` is set.

A program cannot see its previous inputs; a resource provider can. This small dynamic provider
compares the old and new values of what matters in `check`, which Pulumi runs for every resource
while it plans (`pulumi preview`, and the preview that starts `pulumi up`), so a refused change
stops the plan with one line and nothing is updated. The RDS instance and the first nodes depend
on the guard, so even `pulumi up --skip-preview` touches neither before the guard has passed.
"""

from __future__ import annotations

from typing import Any, Optional

import pulumi
import pulumi.dynamic
from pulumi.dynamic.dynamic import PROVIDER_KEY

from components.aws_facts import mysql_major

# Inputs whose change makes RDS replace the instance (they are create-only in the provider's
# schema) and the config key each comes from.
REPLACING_INPUTS = {"username": "dbUsername"}


def _major(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in mysql_major(version).split("."))


def problems(olds: dict[str, Any], news: dict[str, Any]) -> list[tuple[str, str]]:
    """(input, reason) for each refused change from `olds` to `news` (empty for a create)."""
    found = []
    if not olds:
        return found
    for key, config_key in REPLACING_INPUTS.items():
        if olds.get(key) != news.get(key) and not news.get("allowReplacement"):
            found.append(
                (
                    key,
                    f"changing wso2-cluster:{config_key} from {olds.get(key)} to {news.get(key)} would "
                    "replace the database and lose its data; set wso2-cluster:dbAllowReplacement true "
                    "to allow it (take a snapshot first)",
                )
            )
    if _major(news["engineVersion"]) < _major(olds["engineVersion"]):
        found.append(
            (
                "engineVersion",
                f"RDS cannot downgrade MySQL {mysql_major(olds['engineVersion'])} to "
                f"{mysql_major(news['engineVersion'])} (wso2-cluster:dbEngineVersion); "
                "restore a snapshot into a new stack instead",
            )
        )
    return found


def _inputs(props: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in props.items() if k not in (PROVIDER_KEY, "majorUpgrade")}


class DatabaseGuardProvider(pulumi.dynamic.ResourceProvider):
    serialize_as_secret_always = False

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.CheckResult:
        failures = [pulumi.dynamic.CheckFailure(key, reason) for key, reason in problems(_inputs(olds), _inputs(news))]
        return pulumi.dynamic.CheckResult(news, failures)

    def create(self, props: dict[str, Any]) -> pulumi.dynamic.CreateResult:
        return pulumi.dynamic.CreateResult(id_="database-guard", outs={**_inputs(props), "majorUpgrade": False})

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.DiffResult:
        changed = _inputs(olds) != _inputs(news)
        return pulumi.dynamic.DiffResult(changes=changed, replaces=[], delete_before_replace=False)

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.UpdateResult:
        upgrade = _major(news["engineVersion"]) > _major(olds["engineVersion"])
        return pulumi.dynamic.UpdateResult(outs={**_inputs(news), "majorUpgrade": upgrade})


class DatabaseGuard(pulumi.dynamic.Resource, module="wso2", name="DatabaseGuard"):
    majorUpgrade: pulumi.Output[bool]  # true only in the update that raises the engine's major version

    def __init__(
        self,
        name: str,
        *,
        username: str,
        engine_version: str,
        allow_replacement: bool,
        opts: Optional[pulumi.ResourceOptions] = None,
    ):
        super().__init__(
            DatabaseGuardProvider(),
            name,
            {
                "username": username,
                "engineVersion": engine_version,
                "allowReplacement": allow_replacement,
                "majorUpgrade": None,
            },
            opts,
        )
