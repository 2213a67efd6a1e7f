"""Pulumi.yaml's typed config schema, the config model and the README table say the same thing."""

from __future__ import annotations

import re
import typing

import pydantic
import pytest
import yaml

from components.config import SECRET_KEYS, ClusterConfig
from offline.stack_config import ROOT

SCHEMA = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["config"]
FIELDS = {f.alias: f for f in ClusterConfig.model_fields.values() if f.alias != "aws:region"}
PULUMI_TYPES = {int: "integer", bool: "boolean", tuple: "array", str: "string", pydantic.SecretStr: "string"}


def _python_type(annotation):
    if typing.get_origin(annotation) is typing.Union:  # Optional[X]
        annotation = next(a for a in typing.get_args(annotation) if a is not type(None))
    return typing.get_args(annotation)[0] if typing.get_origin(annotation) is typing.Annotated else annotation


def test_every_key_is_declared_once_in_both():
    assert sorted(SCHEMA) == sorted(FIELDS)


@pytest.mark.parametrize("key", sorted(FIELDS))
def test_type_default_description_and_secrecy_agree(key):
    declared, field = SCHEMA[key], FIELDS[key]
    assert declared["type"] == PULUMI_TYPES[_python_type(field.annotation)]
    assert len(declared.get("description", "")) > 20
    assert declared.get("secret", False) == (key in SECRET_KEYS)
    if declared["type"] == "array":
        assert declared["items"] == {"type": "string"}
    if "default" in declared:
        default = declared["default"]
        assert field.default == (tuple(default) if isinstance(default, list) else default)
    else:
        assert field.is_required() or field.default in (None, ())


def test_readme_configuration_table_matches_the_schema():
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        match = re.fullmatch(r"`([A-Za-z0-9:]+)`", cells[0]) if len(cells) == 4 else None
        if match:
            rows[match.group(1)] = cells
    assert sorted(k for k in rows if k != "aws:region") == sorted(SCHEMA)
    for key, (_, type_cell, default_cell, meaning) in rows.items():
        if key == "aws:region":
            continue
        declared = SCHEMA[key]
        assert type_cell == declared["type"] + (" (secret)" if declared.get("secret") else "")
        expected_default = f"`{yaml.safe_dump(declared['default'], default_flow_style=True).strip().removesuffix('...').strip()}`" if "default" in declared else "—"
        assert default_cell == expected_default, key
        assert meaning == declared["description"], key
