"""Run the real `__main__.py` of this project offline, for a stack, as the Pulumi CLI would."""

from __future__ import annotations

import runpy
import sys
from typing import Any, Mapping, Optional

import pulumi

from components.config.schema import SECRET_KEYS
from offline.engine import Inventory, run_program
from offline.stack_config import ROOT, StackConfig, as_cli_string, load_stack_config

MAIN = ROOT / "__main__.py"


def program() -> None:
    # The Python language host runs the project's __main__.py the same way.
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    runpy.run_path(str(MAIN), run_name="__main__")


def stack_values(stack: str, overrides: Optional[Mapping[str, Any]] = None) -> StackConfig:
    """The stack's config, with `overrides` (`key` or `namespace:key` -> value) applied on top;
    an override of a secret key is a secret, as `pulumi config set --secret` makes it."""
    loaded = load_stack_config(stack)
    values, secret_keys = dict(loaded.values), list(loaded.secret_keys)
    for key, value in (overrides or {}).items():
        key = key if ":" in key else f"{loaded.project}:{key}"
        if value is None:
            values.pop(key, None)
        else:
            values[key] = value if isinstance(value, str) else as_cli_string(value)
            if key.split(":", 1)[1] in SECRET_KEYS and key.startswith(f"{loaded.project}:"):
                secret_keys.append(key)
    return StackConfig(loaded.project, stack, values, tuple(secret_keys), loaded.placeholders, loaded.stack_keys)


def run_stack(
    stack: str = "dev",
    overrides: Optional[Mapping[str, Any]] = None,
    *,
    secret_keys: tuple[str, ...] = (),
    mocks: Optional[pulumi.runtime.Mocks] = None,
) -> Inventory:
    config = stack_values(stack, overrides)
    return run_program(
        program,
        config.values,
        secret_keys=tuple(config.secret_keys) + tuple(secret_keys),
        project=config.project,
        stack=stack,
        mocks=mocks,
    )
