"""Pulumi.yaml's typed config schema, OPTIONAL_KEYS, the config model and the README table say the same thing."""

from __future__ import annotations

import re
import typing

import pydantic
import pytest
import yaml

from components.config.schema import OPTIONAL_KEYS, SECRET_KEYS, ClusterConfig
from offline.stack_config import ROOT

SCHEMA = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["config"]
FIELDS = {f.alias: f for f in ClusterConfig.model_fields.values() if f.alias != "aws:region"}
PULUMI_TYPES = {int: "integer", bool: "boolean", tuple: "array", str: "string", pydantic.SecretStr: "string"}


def _python_type(annotation):
    if typing.get_origin(annotation) is typing.Union:  # Optional[X]
        annotation = next(a for a in typing.get_args(annotation) if a is not type(None))
    return typing.get_args(annotation)[0] if typing.get_origin(annotation) is typing.Annotated else annotation


def test_pulumi_yaml_declares_exactly_the_keys_the_cli_can_leave_unset_or_must_require():
    """The CLI requires every declared key without a default and refuses a declared secret key
    the stack lacks: so Pulumi.yaml declares the keys with a default and the required ones, and
    OPTIONAL_KEYS the others."""
    assert sorted(SCHEMA) == sorted(set(FIELDS) - set(OPTIONAL_KEYS))
    assert all("default" in d or FIELDS[k].is_required() for k, d in SCHEMA.items())
    assert all(FIELDS[k].default in (None, ()) and not FIELDS[k].is_required() for k in OPTIONAL_KEYS)
    assert not any(d.get("secret") for d in SCHEMA.values())
    assert SECRET_KEYS <= set(OPTIONAL_KEYS)
    assert all(len(text) > 20 for text in OPTIONAL_KEYS.values())


@pytest.mark.parametrize("key", sorted(SCHEMA))
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
    assert sorted(k for k in rows if k != "aws:region") == sorted(FIELDS)
    for key, (_, type_cell, default_cell, meaning) in rows.items():
        if key == "aws:region":
            continue
        if key in OPTIONAL_KEYS:
            secret = " (secret)" if key in SECRET_KEYS else ""
            assert (type_cell, default_cell, meaning) == (
                PULUMI_TYPES[_python_type(FIELDS[key].annotation)] + secret,
                "—",
                OPTIONAL_KEYS[key],
            ), key
            continue
        declared = SCHEMA[key]
        assert type_cell == declared["type"] + (" (secret)" if declared.get("secret") else "")
        expected_default = (
            f"`{yaml.safe_dump(declared['default'], default_flow_style=True).strip().removesuffix('...').strip()}`"
            if "default" in declared
            else "—"
        )
        assert default_cell == expected_default, key
        assert meaning == declared["description"], key


def test_the_instance_memory_table_is_ec2s_data_as_moto_ships_it():
    """components/data/ec2_memory_mib.json: DescribeInstanceTypes' MemoryInfo for every type
    botocore lists and moto describes (regenerate it from moto when botocore adds types)."""
    import gzip
    import json
    from pathlib import Path

    import moto

    from components import aws_facts

    described = json.loads(
        gzip.decompress((Path(moto.__file__).parent / "ec2/resources/instance_types.json.gz").read_bytes())
    )
    table = json.loads((Path(aws_facts.__file__).parent / "data/ec2_memory_mib.json").read_text())["memoryMiB"]
    assert set(table) <= aws_facts.ec2_instance_types()
    assert {t: described[t]["MemoryInfo"]["SizeInMiB"] for t in table} == table
    assert len(table) > 1000 and aws_facts.instance_memory_mib("t3.large") == 8192
