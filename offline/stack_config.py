"""Read a stack's configuration from Pulumi.yaml and Pulumi.<stack>.yaml as the Pulumi CLI does.

The CLI hands a program string values keyed `namespace:key`: project keys without a namespace
get the project's, declared defaults fill unset keys, arrays and objects arrive as JSON.
Encrypted values (`secure:`) cannot be decrypted offline; they become labelled placeholders.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent


class StackFileError(Exception):
    """A stack or project file that cannot be read; the message is one line."""


@dataclass(frozen=True)
class StackConfig:
    project: str
    stack: str
    values: dict[str, str]
    secret_keys: tuple[str, ...]
    placeholders: tuple[str, ...]  # keys whose encrypted value was replaced offline


def as_cli_string(value: Any) -> str:
    if value is None:  # `key:` with no value
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    return str(value)


def _read_yaml(path: Path) -> dict:
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except FileNotFoundError:
        raise StackFileError(f"{path.name}: no such file (stacks here: {', '.join(list_stacks(path.parent))})") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise StackFileError(f"{path.name}:{where}: not valid YAML ({getattr(error, 'problem', error)})") from None
    if not isinstance(data, dict):
        raise StackFileError(f"{path.name}: must be a YAML mapping")
    return data


def list_stacks(directory: Path = ROOT) -> list[str]:
    return sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in directory.glob("Pulumi.*.yaml"))


def load_stack_config(stack: str, directory: Path = ROOT) -> StackConfig:
    project_file = _read_yaml(directory / "Pulumi.yaml")
    project = project_file["name"]
    values: dict[str, str] = {}
    secret_keys: list[str] = []
    placeholders: list[str] = []

    def qualified(key: str) -> str:
        return key if ":" in key else f"{project}:{key}"

    for key, declaration in (project_file.get("config") or {}).items():
        if isinstance(declaration, dict) and ("type" in declaration or "default" in declaration or "value" in declaration):
            if "value" in declaration:
                values[qualified(key)] = as_cli_string(declaration["value"])
            elif "default" in declaration:
                values[qualified(key)] = as_cli_string(declaration["default"])
        else:
            values[qualified(key)] = as_cli_string(declaration)

    stack_file = _read_yaml(directory / f"Pulumi.{stack}.yaml")
    stack_values = stack_file.get("config") or {}
    if not isinstance(stack_values, dict):
        raise StackFileError(f"Pulumi.{stack}.yaml: config must be a mapping of keys to values")
    for key, value in stack_values.items():
        key = qualified(str(key))
        if isinstance(value, dict) and set(value) == {"secure"}:
            values[key] = f"OFFLINE-PLACEHOLDER-{key.split(':')[-1]}"
            secret_keys.append(key)
            placeholders.append(key)
        else:
            values[key] = as_cli_string(value)
    return StackConfig(project, stack, values, tuple(secret_keys), tuple(placeholders))
