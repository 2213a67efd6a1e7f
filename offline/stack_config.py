"""Read a stack's configuration from Pulumi.yaml and Pulumi.<stack>.yaml as the Pulumi CLI does.

The CLI hands a program string values keyed `namespace:key`: project keys without a namespace
get the project's, declared defaults fill unset keys, arrays and objects arrive as JSON. Before
that it refuses a stack that lacks a declared key without a default, holds a declared secret key
in plain text, or gives a declared key a value of another type; so does this reader, with the
CLI's own message (pulumi/pulumi pkg/workspace/config.go, `mergeConfig`). Encrypted values
(`secure:`) of a passphrase stack are decrypted as the CLI does when PULUMI_CONFIG_PASSPHRASE (or
PULUMI_CONFIG_PASSPHRASE_FILE) is set; otherwise, or with another secrets provider, one
placeholder that every secret key accepts stands in, and the preview says so.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

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
    stack_keys: tuple[str, ...] = ()  # the keys the stack file itself sets (the rest are defaults)


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
        raise StackFileError(
            f"{path.name}: no such file (stacks here: {', '.join(list_stacks(path.parent))})"
        ) from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise StackFileError(f"{path.name}:{where}: not valid YAML ({getattr(error, 'problem', error)})") from None
    if not isinstance(data, dict):
        raise StackFileError(f"{path.name}: must be a YAML mapping")
    return data


def list_stacks(directory: Path = ROOT) -> list[str]:
    return sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in directory.glob("Pulumi.*.yaml"))


def _passphrase() -> Optional[str]:
    if "PULUMI_CONFIG_PASSPHRASE" in os.environ:
        return os.environ["PULUMI_CONFIG_PASSPHRASE"]
    path = os.environ.get("PULUMI_CONFIG_PASSPHRASE_FILE")
    return Path(path).read_text() if path else None


WRONG_PASSPHRASE = "incorrect passphrase: PULUMI_CONFIG_PASSPHRASE does not open this stack's secrets"


@functools.lru_cache(maxsize=8)
def _passphrase_key(passphrase: str, salt_state: str) -> bytes:
    """The stack's AES-256-GCM key: PBKDF2-SHA256, 1,000,000 rounds over the stack's salt
    (pulumi/pulumi sdk/go/common/resource/config/crypt.go, NewSymmetricCrypterFromPassphrase);
    `salt_state` is `encryptionsalt`, v1:<salt>:<a value of "pulumi">, which proves the passphrase."""
    _, salt, check = salt_state.split(":", 2)
    key = hashlib.pbkdf2_hmac("sha256", passphrase.encode(), base64.b64decode(salt), 1_000_000, 32)
    if _decrypt(key, check) != "pulumi":
        raise StackFileError(WRONG_PASSPHRASE)
    return key


def _decrypt(key: bytes, value: str) -> str:
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    version, nonce, ciphertext = value.split(":")
    if version != "v1":
        raise StackFileError(f"unknown encrypted value version {version!r}")
    try:
        return AESGCM(key).decrypt(base64.b64decode(nonce), base64.b64decode(ciphertext), None).decode()
    except InvalidTag:
        raise StackFileError(WRONG_PASSPHRASE) from None


# Stands in for an encrypted value offline; valid for every secret key (5 to 30 characters, none
# of / @ " ' or spaces), so the program checks everything else as it would with the real value.
SECRET_PLACEHOLDER = "Offline-Placeholder-1"


def _quoted(keys: list[str]) -> str:
    keys = sorted(keys)
    if len(keys) == 1:
        return f"'{keys[0]}'"
    return ", ".join(f"'{k}'" for k in keys[:-1]) + f" and '{keys[-1]}'"


def _type_name(declaration: dict) -> str:
    items = declaration.get("items")
    return f"array<{_type_name(items)}>" if isinstance(items, dict) else str(declaration.get("type"))


def _has_type(declaration: dict, value: Any) -> bool:
    """The CLI's ValidateConfigValue: strings are any text; integers parse; booleans are true or
    false; arrays hold items of their type."""
    kind = declaration.get("type")
    if kind == "string":
        return isinstance(value, str)
    if kind == "integer":
        if isinstance(value, bool):
            return False
        if isinstance(value, int) or (isinstance(value, float) and value.is_integer()):
            return True
        return isinstance(value, str) and re.fullmatch(r"[+-]?[0-9]+", value) is not None  # Go's strconv.Atoi
    if kind == "boolean":
        return isinstance(value, bool) or value in ("true", "false")
    if kind == "object":
        return isinstance(value, dict)
    items = declaration.get("items")
    return isinstance(value, list) and isinstance(items, dict) and all(_has_type(items, v) for v in value)


def cli_refusal(project_file: dict, stack: str, stack_values: dict) -> Optional[str]:
    """What the Pulumi CLI says when it refuses the stack's config before running the program
    (None when it accepts it): missing keys first, then each declared key in name order."""
    project = project_file["name"]
    declared = {k: v for k, v in (project_file.get("config") or {}).items() if isinstance(v, dict)}

    def qualified(key: str) -> str:
        return key if ":" in key else f"{project}:{key}"

    missing = [
        k
        for k, d in declared.items()
        if qualified(k) not in stack_values
        and "default" not in d
        and "value" not in d
        and qualified(k).split(":")[0] == project
    ]
    if missing:
        return f"Stack '{stack}' is missing configuration value{'s' if len(missing) > 1 else ''} {_quoted(missing)}"
    for key in sorted(declared):
        declaration, value = declared[key], stack_values.get(qualified(key))
        secure = isinstance(value, dict) and set(value) == {"secure"}
        if value is None:
            continue
        if declaration.get("secret") and not secure:
            return f"Stack '{stack}' with configuration key '{key}' must be encrypted as it's secret"
        if "type" in declaration and not secure and not _has_type(declaration, _as_cli_value(value)):
            return f"Stack '{stack}' with configuration key '{key}' must be of type '{_type_name(declaration)}'"
    return None


def _as_cli_value(value: Any) -> Any:
    """A stack file value as the CLI checks it: scalars as their text, lists and maps as they are."""
    if isinstance(value, (list, dict)):
        return value
    return as_cli_string(value)


def load_stack_config(stack: str, directory: Path = ROOT) -> StackConfig:
    project_file = _read_yaml(directory / "Pulumi.yaml")
    project = project_file["name"]
    values: dict[str, str] = {}
    secret_keys: list[str] = []
    placeholders: list[str] = []

    def qualified(key: str) -> str:
        return key if ":" in key else f"{project}:{key}"

    for key, declaration in (project_file.get("config") or {}).items():
        if isinstance(declaration, dict) and (
            "type" in declaration or "default" in declaration or "value" in declaration
        ):
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
    refusal = cli_refusal(project_file, stack, {qualified(str(k)): v for k, v in stack_values.items()})
    if refusal:
        raise StackFileError(refusal)
    passphrase, salt = _passphrase(), stack_file.get("encryptionsalt")
    key_for_secrets = _passphrase_key(passphrase, salt) if passphrase is not None and salt else None
    for key, value in stack_values.items():
        key = qualified(str(key))
        if isinstance(value, dict) and set(value) == {"secure"}:
            secret_keys.append(key)
            if key_for_secrets is not None:
                values[key] = _decrypt(key_for_secrets, str(value["secure"]))
            else:
                values[key] = SECRET_PLACEHOLDER
                placeholders.append(key)
        else:
            values[key] = as_cli_string(value)
    stack_keys = tuple(qualified(str(k)) for k in stack_values)
    return StackConfig(project, stack, values, tuple(secret_keys), tuple(placeholders), stack_keys)
