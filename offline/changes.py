"""What a preview changes against the previous preview of the same stack, marked as Pulumi marks
it: `+` create, `~` update, `+-` replace, `-` delete.

Each preview keeps its declared inputs in `build/<stack>/plan.json`; the next one compares. An
update replaces when a changed input is one the provider replaces on (offline/replacements.py) or
one the program asks to replace on (`replaceOnChanges`). The mock engine's ids do not change when
a resource is replaced, so a resource that only reads a replaced one's id is not marked, where
`pulumi preview` shows it as an update with unknown values.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from offline.engine import Inventory
from offline.replacements import replacing_keys, value_at
from offline.summary import natural_order

SNAPSHOT = "plan.json"


@dataclass(frozen=True)
class Change:
    mark: str  # "+", "~", "+-" or "-"
    type: str
    name: str
    keys: tuple[str, ...] = ()  # the changed inputs (update, replace)


def snapshot(inventory: Inventory) -> dict[str, Any]:
    """What the next preview compares with: each custom resource's type, inputs and replaceOnChanges."""
    return {
        resource.urn: {
            "type": resource.type,
            "name": resource.name,
            "inputs": resource.inputs,
            "replaceOnChanges": list(resource.options.get("replaceOnChanges") or []),
        }
        for resource in inventory.resources
        if resource.custom
    }


def read_snapshot(build_dir: Path) -> Optional[dict[str, Any]]:
    path = build_dir / SNAPSHOT
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def changes(previous: dict[str, Any], current: dict[str, Any]) -> list[Change]:
    """The changes from `previous` to `current` (both from `snapshot`), by type, then by name."""
    found = []
    for urn in sorted(set(previous) | set(current)):
        old, new = previous.get(urn), current.get(urn)
        if old is None:
            found.append(Change("+", new["type"], new["name"]))
        elif new is None:
            found.append(Change("-", old["type"], old["name"]))
        else:
            olds, news = _plain(old["inputs"]), _plain(new["inputs"])

            def differs(key: str, path: list[str]) -> bool:
                return value_at(olds.get(key), path) != value_at(news.get(key), path)

            changed = sorted(key for key in set(olds) | set(news) if differs(key, []))
            if changed:
                replaces = set(replacing_keys(new["type"], olds, news, changed, differs))
                replaces |= set(changed) & set(new["replaceOnChanges"])
                found.append(Change("+-" if replaces else "~", new["type"], new["name"], tuple(changed)))
    return sorted(found, key=lambda change: (change.type, natural_order(change.name)))


def _plain(inputs: dict[str, Any]) -> dict[str, Any]:
    """Inputs as JSON would keep them (tuples as lists), so a reread snapshot compares equal."""
    return json.loads(json.dumps(inputs, default=str))
