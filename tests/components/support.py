"""Run one component on its own through the offline engine: the component, its Args, nothing else."""

from __future__ import annotations

from typing import Callable

from offline.engine import Inventory, run_program


def run_component(declare: Callable[[], object], region: str = "eu-west-1") -> Inventory:
    """What `declare()` (which builds one component) declares, as the engine records it."""
    return run_program(declare, {"aws:region": region})
