"""How a configuration problem reads: one line naming the key, the value given (never a secret)
and what is allowed.

    invalid config wso2-cluster:workerCount = 0: must be an integer from 1 to 50
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import SecretStr, ValidationError

from components.config.schema import PROJECT, SECRET_KEYS


def qualified(key: str) -> str:
    return one_line(key if ":" in key else f"{PROJECT}:{key}")


def one_line(text: str) -> str:
    """Line breaks and other control characters escaped (\\n, \\r, \\u2028, ...): one problem, one line."""
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


def shown(key: str, value: Any) -> str:
    if value is None or value == ():
        return "(not set)"
    if key in SECRET_KEYS or isinstance(value, SecretStr):
        return "[secret]"
    if value == "":
        return '""'
    if isinstance(value, (list, tuple)):
        return json.dumps(list(value))
    if isinstance(value, dict):
        return json.dumps(value)
    if isinstance(value, bool):
        return str(value).lower()
    return one_line(str(value))  # keep each problem on one line


def invalid_line(key: str, value: Any, allowed: str) -> str:
    return f"invalid config {qualified(key)} = {shown(key, value)}: {one_line(allowed)}"


def error_text(error: ValidationError) -> str:
    """What the key's parser said is allowed (pydantic wraps the parser's ValueError)."""
    problem = error.errors()[0]
    return str(problem.get("ctx", {}).get("error", problem["msg"]))
