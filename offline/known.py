"""Which values `pulumi preview` would know before anything exists.

The mock engine makes up every id, ARN, address and auto-generated name so that the program can
run; a real preview shows those as unknown. A value is a stand-in when it holds something a
resource computed (an output its inputs did not give: ids, ARNs, IPs, generated names and random
suffixes) — whether directly or inside a string built from it.
"""

from __future__ import annotations

import re
from typing import Any

from offline.engine import Inventory

UNKNOWN = "(known after deploy)"
# Computed strings worth matching inside others: ids, ARNs, IPs and hex suffixes all hold a digit
# and are at least 6 characters long (a random 3-byte suffix); words such as "available" do not.
_WORTH_MATCHING = re.compile(r"(?=.*\d).{6,}")


def _strings(value: Any) -> set[str]:
    """The strings worth matching anywhere inside `value`."""
    if isinstance(value, str):
        return {value} if _WORTH_MATCHING.fullmatch(value) else set()
    items = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
    return set().union(*(_strings(item) for item in items))


def computed_strings(inventory: Inventory) -> frozenset[str]:
    """Every string a declared resource computed: in an output whose key is not among its inputs,
    and not itself one of its input values (a log group's id is its name)."""
    found: set[str] = set()
    for resource in inventory.resources:
        if resource.custom:
            computed = {key: value for key, value in resource.outputs.items() if key not in resource.inputs}
            found |= _strings(computed) - _strings(resource.inputs)
    return frozenset(found)


def as_previewed(value: Any, computed: frozenset[str]) -> Any:
    """`value` with every leaf that holds a computed string replaced by UNKNOWN."""
    if isinstance(value, dict):
        return {key: as_previewed(item, computed) for key, item in sorted(value.items())}
    if isinstance(value, list):
        return [as_previewed(item, computed) for item in value]
    if isinstance(value, str) and any(part in value for part in computed):
        return UNKNOWN
    return value
