"""Helpers for the configuration tests: build raw stack config, parse it, read the problems."""

from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import Any, Mapping, Optional

from components.config.load import parse_config
from components.config.schema import ConfigError
from offline.engine import AwsMocks
from offline.program import stack_values
from offline.stack_config import as_cli_string

P = "wso2-cluster"
CERT = "arn:aws:acm:eu-west-1:123456789012:certificate/0b6bd5a8-3c55-4f3c-9a1e-2f8d4c1e7a90"
SHA_A, SHA_B, SHA_C = "a" * 64, "b" * 64, "c" * 64
# What every problem line looks like: the key (ours, or aws:*), the value shown, what is allowed.
LINE = re.compile(
    r"invalid config (?P<key>wso2-cluster:[A-Za-z0-9]+|aws:[A-Za-z0-9]+) = (?P<value>.*?): (?P<allowed>\S.*)"
)
SVN = {  # a complete, valid SVN deployment synchronizer
    "deploymentSynchronizer": "svn",
    "svnUrl": "https://svn.example.com/repos/wso2",
    "svnUser": "wso2sync",
    "svnPassword": "s3cret-pass",
    "svnKitSha256": SHA_A,
    "trileadSshSha256": SHA_B,
}


@lru_cache(maxsize=None)
def _stack_file(stack: str) -> tuple[tuple[str, str], ...]:
    return tuple(stack_values(stack).values.items())


def values(overrides: Optional[Mapping[str, Any]] = None, stack: str = "dev") -> dict[str, str]:
    """The stack file's config with `overrides` on top (None removes a key), as the CLI passes it:
    what offline.program.stack_values gives, with the stack file read once."""
    result = dict(_stack_file(stack))
    for key, value in (overrides or {}).items():
        key = key if ":" in key else f"{P}:{key}"
        if value is None:
            result.pop(key, None)
        else:
            result[key] = value if isinstance(value, str) else as_cli_string(value)
    return result


def parse(overrides: Optional[Mapping[str, Any]] = None, stack: str = "dev", **kwargs):
    return parse_config(values(overrides, stack), **kwargs)


def problems(overrides: Optional[Mapping[str, Any]] = None, stack: str = "dev", **kwargs) -> list[str]:
    """The problem lines of the config, [] when it is accepted. Anything but a ConfigError fails."""
    try:
        parse(overrides, stack, **kwargs)
    except ConfigError as error:
        return str(error).split("\n")
    return []


def shown(value: Any) -> str:
    """A value as a problem line shows it (overrides give strings, lists or dicts)."""
    if value is None:
        return "(not set)"
    if isinstance(value, (list, tuple)):
        return json.dumps(list(value))
    if isinstance(value, dict):
        return json.dumps(value)
    if value == "":
        return '""'
    # control characters and line breaks escaped (\\n, \\t, \\x00): one problem stays one line
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in str(value))


def line(key: str, value: Any, allowed: str) -> str:
    qualified = key if ":" in key else f"{P}:{key}"
    return f"invalid config {qualified} = {shown(value)}: {allowed}"


def key_of(problem: str) -> str:
    match = LINE.fullmatch(problem)
    assert match, f"not a problem line: {problem!r}"
    return match.group("key")


def url_of_length(prefix: str, length: int, suffix: str = ".zip") -> str:
    """A valid URL of exactly `length` characters: prefix, a path of 60-character segments, suffix."""
    filler = length - len(prefix) - len(suffix)
    assert filler > 0
    path = "".join("/" if (i + 1) % 61 == 0 else "f" for i in range(filler))
    url = prefix + path[:-1] + "g" + suffix
    assert len(url) == length, (len(url), url)
    return url


def host_of_length(length: int, domain: str = "example.com") -> str:
    """A valid lower-case host name of exactly `length` characters under `domain`."""
    labels, remaining = [], length - len(domain)
    while remaining > 0:
        size = min(62, remaining - 1)  # "label." takes size + 1
        if size < 1:  # one character left over: the previous label (at most 62) takes it
            labels[-1] += "x"
            break
        labels.append(chr(ord("a") + len(labels)) * size)
        remaining -= size + 1
    host = ".".join(labels + [domain])
    assert len(host) == length and all(0 < len(label) <= 63 for label in host.split(".")), (len(host), host)
    return host


class CountingMocks(AwsMocks):
    """The offline engine's mocks, counting every resource the program registers."""

    def __init__(self, region: str = "eu-west-1"):
        super().__init__(region)
        self.declared: list[str] = []

    def new_resource(self, args):
        self.declared.append(args.typ)
        return super().new_resource(args)


class PartitionMocks(AwsMocks):
    """The offline engine's mocks, with S3 bucket ARNs in the region's partition (AwsMocks writes
    arn:aws:s3::: whatever the region), so that a scan for arn:aws: finds only the program's."""

    def new_resource(self, args):
        rid, out = super().new_resource(args)
        if args.typ == "aws:s3/bucket:Bucket":
            out["arn"] = f"arn:{self.partition}:s3:::{rid}"
        return rid, out
