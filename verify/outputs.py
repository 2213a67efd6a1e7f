"""Load and validate the Pulumi stack outputs that `verify` depends on.

The keys are the contract with the Pulumi program (``pulumi stack output --json``).
Every problem is reported as :class:`OutputsError` with a one-line message.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Optional

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, field_validator, model_validator
from pydantic_core import PydanticCustomError

NonEmpty = Annotated[str, StringConstraints(min_length=1)]

TARGET_GROUP_KEYS = ("workersHttps", "managerHttps")  # always present
# The workers' HTTP group exists only when HTTP is forwarded to the workers (httpMode forward),
# which is also when `serviceUrlHttp` is an output: the two come and go together.
WORKERS_HTTP_KEY = "workersHttp"
# logGroupNames is optional (stacks older than issue #12 step 4 lack it); when present, verify reads
# the CloudWatch agent's copy of wso2carbon.log from its `carbon` group (one stream per instance id).
CARBON_LOG_KEY = "carbon"
PULUMI_TIMEOUT_SECONDS = 120


class OutputsError(Exception):
    """The outputs could not be obtained or do not satisfy the contract (exit status 2)."""


class StackOutputs(BaseModel):
    """The stack outputs, validated strictly (no coercion: `"5701"` is not a port)."""

    model_config = ConfigDict(strict=True, frozen=True, extra="ignore", populate_by_name=True)

    region: NonEmpty
    manager_instance_id: NonEmpty = Field(alias="managerInstanceId")
    manager_private_ip: NonEmpty = Field(alias="managerPrivateIp")
    worker_instance_ids: list[NonEmpty] = Field(alias="workerInstanceIds")
    worker_private_ips: list[NonEmpty] = Field(alias="workerPrivateIps")
    node_security_group_id: NonEmpty = Field(alias="nodeSecurityGroupId")
    node_security_group_name: NonEmpty = Field(alias="nodeSecurityGroupName")
    database_security_group_id: NonEmpty = Field(alias="databaseSecurityGroupId")
    cluster_port: int = Field(alias="clusterPort", ge=1, le=65535)
    discovery_tag_key: NonEmpty = Field(alias="discoveryTagKey")
    discovery_tag_value: str = Field(alias="discoveryTagValue")
    target_group_arns: dict[str, NonEmpty] = Field(alias="targetGroupArns")
    database_instance_id: NonEmpty = Field(alias="databaseInstanceId")
    service_url_http: Optional[NonEmpty] = Field(default=None, alias="serviceUrlHttp")
    # Needed only by the HTTP probes, which report their absence as a failed check.
    service_url_https: Optional[NonEmpty] = Field(default=None, alias="serviceUrlHttps")
    management_console_url: Optional[NonEmpty] = Field(default=None, alias="managementConsoleUrl")
    # {"boot": ..., "carbon": ..., "access": ...}: exact group names; the membership check reports
    # its absence as a failed check. Only `carbon` is consumed, so only it is required when present.
    log_group_names: Optional[dict[str, NonEmpty]] = Field(default=None, alias="logGroupNames")
    # {"userStore": ..., "registry": ...}: the WSO2 databases the schema check expects. Optional
    # (stacks older than it lack it); the schema check reports its absence as a failed check.
    database_names: Optional[dict[str, NonEmpty]] = Field(default=None, alias="databaseNames")
    # Who may reach the console through the load balancer; named when the console answers 403.
    management_allowed_cidrs: Optional[list[NonEmpty]] = Field(default=None, alias="managementAllowedCidrs")

    @field_validator("target_group_arns")
    @classmethod
    def _has_target_groups(cls, value: dict[str, str]) -> dict[str, str]:
        missing = [key for key in TARGET_GROUP_KEYS if key not in value]
        if missing:
            raise PydanticCustomError("missing_keys", "missing {keys}", {"keys": missing})
        return value

    @field_validator("log_group_names")
    @classmethod
    def _has_carbon_group(cls, value: Optional[dict[str, str]]) -> Optional[dict[str, str]]:
        if value is not None and CARBON_LOG_KEY not in value:
            raise PydanticCustomError("missing_keys", "missing {keys}", {"keys": [CARBON_LOG_KEY]})
        return value

    @property
    def carbon_log_group(self) -> Optional[str]:
        """The CloudWatch Logs group holding every node's wso2carbon.log, if the stack says."""
        return None if self.log_group_names is None else self.log_group_names[CARBON_LOG_KEY]

    @model_validator(mode="after")
    def _http_group_when_http_is_served(self) -> "StackOutputs":
        if self.service_url_http is not None and WORKERS_HTTP_KEY not in self.target_group_arns:
            raise PydanticCustomError(
                "missing_keys", "missing {keys}", {"keys": [f"targetGroupArns.{WORKERS_HTTP_KEY}"]}
            )
        return self

    @model_validator(mode="after")
    def _workers_line_up(self) -> "StackOutputs":
        if len(self.worker_instance_ids) != len(self.worker_private_ips):
            raise ValueError(
                f"workerInstanceIds has {len(self.worker_instance_ids)} entries but "
                f"workerPrivateIps has {len(self.worker_private_ips)}"
            )
        return self

    def nodes(self) -> list["Node"]:
        """The manager then the workers, labelled as the operator knows them."""
        nodes = [Node("manager", self.manager_instance_id, self.manager_private_ip)]
        for index, (instance_id, ip) in enumerate(zip(self.worker_instance_ids, self.worker_private_ips), start=1):
            nodes.append(Node(f"worker-{index}", instance_id, ip))
        return nodes


@dataclass(frozen=True)
class Node:
    label: str  # "manager", "worker-1", ...
    instance_id: str
    private_ip: str


def _describe(value: Any) -> str:
    if value == "[secret]":
        return "a secret ('[secret]'; verify runs with --show-secrets=false)"
    text = json.dumps(value) if not isinstance(value, str) else repr(value)
    if len(text) > 40:
        text = text[:37] + "..."
    return f"{type(value).__name__} {text}"


def _summarise(error: ValidationError) -> str:
    missing: list[str] = []
    invalid: list[str] = []
    for item in error.errors():
        loc = ".".join(str(part) for part in item["loc"])
        if item["type"] == "missing":
            missing.append(loc)
            continue
        if item["type"] == "missing_keys":  # keys missing inside an object, e.g. targetGroupArns
            missing.extend(f"{loc}.{key}" if loc else key for key in item["ctx"]["keys"])
            continue
        message = item["msg"].removeprefix("Value error, ")
        if loc:
            invalid.append(f"{loc}: {message} (got {_describe(item['input'])})")
        else:
            invalid.append(message)
    parts = []
    if missing:
        parts.append("missing key(s): " + ", ".join(missing))
    if invalid:
        parts.append("invalid: " + "; ".join(invalid))
    return "stack outputs " + "; ".join(parts)


def parse_outputs(data: Any) -> StackOutputs:
    """Validate a decoded JSON document against the contract."""
    if not isinstance(data, dict):
        raise OutputsError(f"stack outputs must be a JSON object, got {type(data).__name__}")
    try:
        return StackOutputs.model_validate(data)
    except ValidationError as error:
        raise OutputsError(_summarise(error)) from None


def _decode(text: str, source: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise OutputsError(f"{source} is not valid JSON: {error}") from None


def load_file(path: str) -> StackOutputs:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or str(error)
        raise OutputsError(f"cannot read outputs file {path}: {reason}") from None
    return parse_outputs(_decode(text, f"outputs file {path}"))


def load_from_pulumi(stack: Optional[str] = None) -> StackOutputs:
    """Run ``pulumi stack output --json --show-secrets=false [--stack STACK]``."""
    pulumi = shutil.which("pulumi")
    if pulumi is None:
        raise OutputsError("the pulumi CLI was not found on PATH; install it or pass --outputs FILE")
    command = [pulumi, "stack", "output", "--json", "--show-secrets=false"]
    if stack:
        command += ["--stack", stack]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=PULUMI_TIMEOUT_SECONDS, check=False)
    except subprocess.TimeoutExpired:
        raise OutputsError(f"`pulumi stack output` did not finish within {PULUMI_TIMEOUT_SECONDS}s") from None
    except OSError as error:
        raise OutputsError(f"cannot run the pulumi CLI: {error}") from None
    if done.returncode != 0:
        lines = [line.strip() for line in done.stderr.splitlines() if line.strip()]
        reason = lines[-1] if lines else "no error output"
        raise OutputsError(f"`pulumi stack output` failed (exit {done.returncode}): {reason}")
    return parse_outputs(_decode(done.stdout, "`pulumi stack output`"))
