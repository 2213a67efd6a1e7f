"""The real program run once per (stack, config overrides) in each test process.

An Inventory is plain data that the tests only read, so every test that reads the same
configuration shares one run; a test about the run itself (determinism, mocks) calls
offline.program.run_stack instead.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from offline.engine import Inventory
from offline.program import run_stack


@lru_cache(maxsize=None)
def _run(stack_name: str, frozen_overrides: tuple) -> Inventory:
    return run_stack(stack_name, dict(frozen_overrides))


def stack(stack_name: str = "dev", **overrides: Any) -> Inventory:
    """run_stack(stack_name, overrides), memoised."""
    return _run(stack_name, tuple(sorted(overrides.items())))
