"""The committed captures (tests/verify/captured, the membership tests' fixtures) are what real
Hazelcast 3.5 members print now: capture.py runs again into a temporary directory and every file
must match, up to what changes from run to run (member order after a parallel start, connection
counts, timestamps and member UUIDs)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.verify.hazelcast.capture import DEFAULT_DIR, capture
from tests.verify.hazelcast.conftest import require_harness
from tests.verify.hazelcast.test_real_members import MEMBERS_EVENT
from verify.hazelcast import parse_member_list

pytestmark = pytest.mark.hazelcast

COUNTS = re.compile(r"(?m)^(ConnectionCount|AllConnectionCount): \d+$")
MEMBER_LINE = re.compile(r"\tMember \[")


def rest_layout(text: str) -> list[str]:
    """The REST answer with member lines sorted (join order varies) and connection counts elided."""
    lines = COUNTS.sub(r"\1: N", text).split("\n")
    members = iter(sorted(line for line in lines if MEMBER_LINE.match(line)))
    return [next(members) if MEMBER_LINE.match(line) else line for line in lines]


def logged_views(text: str) -> list[tuple[str, frozenset[tuple[str, int]], tuple[str, int]]]:
    """Each member-list event in Carbon's layout: (domain, listed addresses, this member) — what
    verify reads from the log, and proof the committed log still has the layout real members write."""
    views = []
    for event in MEMBERS_EVENT.finditer(text):
        listed = parse_member_list(event.group(0))
        views.append(
            (event["domain"], frozenset((m.ip, m.port) for m in listed.members), (listed.this.ip, listed.this.port))
        )
    return views


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> Path:
    require_harness()
    target = tmp_path_factory.mktemp("captured")
    capture(target, tmp_path_factory.mktemp("members"))
    return target


def test_the_committed_captures_are_what_members_print_now(fresh):
    committed = sorted(p.relative_to(DEFAULT_DIR) for p in DEFAULT_DIR.rglob("*.*"))
    assert committed == sorted(p.relative_to(fresh) for p in fresh.rglob("*.*"))
    for path in committed:
        old, new = (DEFAULT_DIR / path).read_text(), (fresh / path).read_text()
        if path.suffix == ".rest":
            assert rest_layout(old) == rest_layout(new), path
        else:
            assert logged_views(old), f"{path}: no member-list event in Carbon's layout"
            assert logged_views(old)[-1] == logged_views(new)[-1], path  # the newest view: what verify takes
