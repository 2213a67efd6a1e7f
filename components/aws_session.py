"""A boto3 session with the credentials the stack's AWS provider uses.

The program's own AWS calls during `pulumi up` (the health gates) must act as the same principal
as the resources it deploys: the `aws:` keys of the stack's config (`aws:profile`, explicit
`aws:accessKey`/`aws:secretKey`/`aws:token`, and the role chain of `aws:assumeRoles`, or the
older single `aws:assumeRole`), else the environment's default credential chain, as the provider
itself falls back to.
"""

from __future__ import annotations

import json
import re
from typing import Any, Mapping, Optional

import boto3

DEFAULT_SESSION_NAME = "wso2-cluster-health-gate"


def duration_seconds(text: Any) -> Optional[int]:
    """`1h`, `15m`, `900s`, `1h30m` (the provider's Go durations) as seconds; None when unset."""
    if text in (None, ""):
        return None
    match = re.fullmatch(r"(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?", str(text).strip())
    if not match or not any(match.groups()):
        raise ValueError(f"aws:assumeRole duration {text!r} is not a duration like 1h or 15m")
    hours, minutes, seconds = (int(g or 0) for g in match.groups())
    return hours * 3600 + minutes * 60 + seconds


def _roles(config: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    def parsed(key: str) -> Any:
        value = config.get(key)
        return json.loads(value) if isinstance(value, str) and value.strip() else value

    roles = parsed("aws:assumeRoles")
    if roles:
        return list(roles)
    role = parsed("aws:assumeRole")
    return [role] if role else []


def from_stack_config(config: Mapping[str, Any], region: Optional[str] = None) -> boto3.session.Session:
    """A session for `region` (else `aws:region`) as the stack's AWS provider authenticates."""
    region = region or config.get("aws:region") or None
    if config.get("aws:accessKey") and config.get("aws:secretKey"):
        session = boto3.session.Session(
            aws_access_key_id=config["aws:accessKey"],
            aws_secret_access_key=config["aws:secretKey"],
            aws_session_token=config.get("aws:token") or None,
            region_name=region,
        )
    else:
        session = boto3.session.Session(profile_name=config.get("aws:profile") or None, region_name=region)
    for role in _roles(config):
        request: dict[str, Any] = {
            "RoleArn": role["roleArn"],
            "RoleSessionName": role.get("sessionName") or DEFAULT_SESSION_NAME,
        }
        if role.get("externalId"):
            request["ExternalId"] = role["externalId"]
        seconds = duration_seconds(role.get("duration"))
        if seconds:
            request["DurationSeconds"] = seconds
        credentials = session.client("sts").assume_role(**request)["Credentials"]
        session = boto3.session.Session(
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
            region_name=region,
        )
    return session
