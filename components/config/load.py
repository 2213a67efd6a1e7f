"""Loading: the stack's raw configuration in, one validated `ClusterConfig` out, or every problem
at once, one line each.

Validation runs in three passes: each key on its own (schema); then every cross-key rule whose
keys are all valid (rules); then, when nothing is wrong yet, a trial render of the nodes' user
data, so that no check the renderer makes can fail later, halfway through `pulumi up`.
`load_config()` raises `ConfigError` (a `pulumi.RunError`, which the Pulumi CLI prints without a
traceback) before the program declares any resource.
"""

from __future__ import annotations

import difflib
import json
import os
from typing import Any, Collection, Mapping, Optional

import pulumi
from pydantic import ValidationError

from components.config import rules
from components.config.report import error_text, invalid_line, one_line, qualified
from components.config.schema import (
    ADAPTERS,
    FIELDS_BY_ALIAS,
    PROJECT,
    PROJECT_KEYS,
    REQUIRED,
    SECRET_KEYS,
    ClusterConfig,
    ConfigError,
)
from components.node_settings import trial_render_problems


def _looks_like(namespace: str, expected: str) -> bool:
    return difflib.SequenceMatcher(None, namespace.lower(), expected).ratio() >= 0.75


def parse_config(
    raw: Mapping[str, Any], *, project: str = PROJECT, stack: str = "dev", secret_keys: Optional[Collection[str]] = None
) -> ClusterConfig:
    """Validate raw config, keys as the CLI names them (`wso2-cluster:workerCount`, `aws:region`).

    Keys of other namespaces (e.g. `aws:profile`) are left to their providers, unless they look
    like one of ours in the wrong or a misspelt namespace. `project` and `stack` name the nodes
    of the trial render. `secret_keys`, when given, are the keys the stack holds encrypted: a
    secret key (dbPassword, adminPassword, svnPassword) set in plain text is refused.
    """
    given: dict[str, Any] = {}
    lines: list[str] = []
    default_tags = _default_tags_of(raw.get("aws:defaultTags"))
    for key, value in raw.items():
        if not isinstance(key, str):
            continue
        namespace, _, name = key.partition(":")
        if key == "aws:region":
            given[key] = value
        elif namespace == PROJECT and name in PROJECT_KEYS:
            given[name] = value
        elif namespace == PROJECT or name in PROJECT_KEYS or _looks_like(namespace, PROJECT):
            close = difflib.get_close_matches(name, PROJECT_KEYS, n=1)
            hint = f"; did you mean {qualified(close[0])}?" if close else ""
            lines.append(invalid_line(key, value, "unknown key" + hint + " (see README: Configuration)"))
        if secret_keys is not None and name in SECRET_KEYS and namespace == PROJECT and key not in secret_keys:
            allowed = f"must be encrypted: set it with `pulumi config set --secret {name}`"
            lines.append(invalid_line(name, value, allowed))

    # Pass 1: every key on its own.
    parsed: dict[str, Any] = {}
    invalid: set[str] = set()
    for key, adapter in ADAPTERS.items():
        if key not in given:
            if key in REQUIRED:
                lines.append(invalid_line(key, None, f"required: {REQUIRED[key]}"))
                invalid.add(key)
            continue
        try:
            parsed[key] = adapter.validate_python(given[key])
        except ValidationError as error:
            lines.append(invalid_line(key, given[key], error_text(error)))
            invalid.add(key)
        except (TypeError, AttributeError):  # a value of a type no parser expects (not from the CLI)
            lines.append(invalid_line(key, given[key], "has the wrong type (see README: Configuration)"))
            invalid.add(key)

    # Pass 2: every cross-key rule whose keys are valid.
    values = rules.Values(parsed, invalid, {"aws:defaultTags": default_tags})
    lines.extend(invalid_line(key, value, allowed) for key, value, allowed in rules.problems(values))
    if lines:
        raise ConfigError("\n".join(sorted(set(lines))))

    config = ClusterConfig.model_construct(**{FIELDS_BY_ALIAS[k]: v for k, v in parsed.items()})
    # Pass 3: what the renderer checks, checked now.
    try:
        problems = trial_render_problems(config, project=project, stack=stack)
    except Exception as error:  # noqa: BLE001 - a renderer failure must still be one clean line
        problems = [f"the nodes' user data could not be rendered: {type(error).__name__}: {one_line(str(error))}"]
    if problems:
        raise ConfigError("\n".join(f"invalid config: {p}" for p in problems))
    return config


def _default_tags_of(value: Any) -> dict[str, str]:
    """The AWS provider's default tags (`aws:defaultTags`, {"tags": {...}}), when readable; the
    provider reports a value it cannot read itself."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            return {}
    tags = value.get("tags") if isinstance(value, dict) else None
    if not isinstance(tags, dict):
        return {}
    return {str(k): "" if v is None else str(v) for k, v in tags.items()}


def read_pulumi_config() -> dict[str, Any]:
    """All config the Pulumi engine handed to this program, keyed `namespace:key`."""
    # The SDK exposes single keys only; the full map lives in the environment (PULUMI_CONFIG)
    # and in the runtime's CONFIG (set_all_config: language host, mocks, offline preview).
    raw = dict(pulumi.runtime.config.get_config_env())
    raw.update(pulumi.runtime.config.CONFIG.get())
    if "aws:region" not in raw:
        region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
        if region:
            raw["aws:region"] = region
    return raw


def load_config() -> ClusterConfig:
    raw = read_pulumi_config()
    secret_keys = {key for key in raw if pulumi.runtime.is_config_secret(key)}
    return parse_config(raw, project=pulumi.get_project(), stack=pulumi.get_stack(), secret_keys=secret_keys)
