"""Which input changes replace a resource, as the Terraform providers behind pulumi-aws, -random and
-tls decide: the ForceNew fields (`replacements.json`, each with its source file and line) and the
conditional ones the providers decide in CustomizeDiff/ModifyPlan, written out here. The cloud
double answers the real engine's Diff with them; the offline preview marks replacements with them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable, Iterable

from components.aws_facts import is_graviton

REPLACEMENTS = json.loads(Path(__file__).with_name("replacements.json").read_text())


def value_at(value: Any, path: list[str]) -> Any:
    """The value at a dotted path; through a list (a block such as rootBlockDevice), each item's."""
    if not path:
        return value
    if isinstance(value, list):
        return [value_at(item, path) for item in value]
    return value_at(value.get(path[0]) if isinstance(value, dict) else None, path[1:])


def _conditional_replaces(type_: str, olds: dict, news: dict) -> set[str]:
    """Replacements the providers decide in CustomizeDiff/ModifyPlan (replacements.json
    `_conditional`, each with its source): the keys that replace for this old -> new change."""
    if type_ == "aws:ec2/instance:Instance":
        found = {"userData", "userDataBase64"} if news.get("userDataReplaceOnChange") else set()
        old_type, new_type = olds.get("instanceType"), news.get("instanceType")
        if isinstance(old_type, str) and isinstance(new_type, str) and is_graviton(old_type) != is_graviton(new_type):
            found.add("instanceType")  # no shared CPU architecture: a new instance
        return found
    if type_ in (
        "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
        "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
    ):

        def kind(props: dict) -> str:
            return "cidrIpv4" if props.get("cidrIpv4") else "referencedSecurityGroupId"

        return {"cidrIpv4", "referencedSecurityGroupId"} if olds and kind(olds) != kind(news) else set()
    if type_ == "tls:index/selfSignedCert:SelfSignedCert":
        return {"privateKeyPem"}  # RequiresReplaceIf the prior value is a PEM, which it always is here
    return set()


def replacing_keys(
    type_: str, olds: dict, news: dict, changed: Iterable[str], differs: Callable[[str, list[str]], bool]
) -> list[str]:
    """Of the `changed` top-level keys, those whose change replaces the resource. `differs(key,
    path)` says whether the value at `path` inside `key` changed (a nested ForceNew field)."""
    changed = set(changed)
    replaces = _conditional_replaces(type_, olds, news) & changed
    for path in REPLACEMENTS.get(type_, {}):
        key, *nested = path.split(".")
        if key in changed and differs(key, nested):
            replaces.add(key)
    return sorted(replaces)
