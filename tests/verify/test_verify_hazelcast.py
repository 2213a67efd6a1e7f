"""The Hazelcast member-list parser on its own (pure: no AWS)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from verify_cluster_kit import REPO_ROOT, captured, log_events

from verify.hazelcast import Member, UnparseableMemberList, parse_member_list

# Hazelcast 3.5 in WSO2 Carbon 4.4.1, as wso2carbon.log has it (tabs before each member line).
SAMPLE = (
    "TID: [-1] [] [2026-11-25 10:00:01,234]  INFO {com.hazelcast.cluster.ClusterService} -  "
    "[10.0.1.10]:5701 [wso2.as.domain] [3.5] \n"
    "\n"
    "Members [3] {\n"
    "\tMember [10.0.1.10]:5701 this\n"
    "\tMember [10.0.2.10]:5701\n"
    "\tMember [10.0.3.10]:5701\n"
    "}\n"
    " {com.hazelcast.cluster.ClusterService}\n"
)


def test_parses_the_logged_member_list():
    parsed = parse_member_list(SAMPLE)
    assert parsed.members == (
        Member("10.0.1.10", 5701, True),
        Member("10.0.2.10", 5701, False),
        Member("10.0.3.10", 5701, False),
    )
    assert parsed.ips == {"10.0.1.10", "10.0.2.10", "10.0.3.10"}
    assert parsed.this == Member("10.0.1.10", 5701, True)


def test_the_header_and_the_prefix_address_are_not_members():
    # "[10.0.1.10]:5701" in the prefix and "Members [3]" must not be read as member lines
    parsed = parse_member_list(SAMPLE.replace("\tMember [10.0.1.10]:5701 this\n", "").replace("[3]", "[2]"))
    assert parsed.ips == {"10.0.2.10", "10.0.3.10"}
    assert parsed.this is None


def test_tolerates_crlf_spaces_and_a_list_without_this():
    text = "Members [2] {\r\n    Member [10.0.2.10]:5702\r\n  Member [10.0.3.10]:5701   \r\n}\r\n"
    parsed = parse_member_list(text)
    assert parsed.members == (Member("10.0.2.10", 5702, False), Member("10.0.3.10", 5701, False))
    assert parsed.this is None


def test_parses_what_real_members_print():
    """Hazelcast 3.5's REST answer and its log event (tests/verify/captured, from real members)."""
    (event,) = [e for e in log_events(captured("healthy", "worker-1", "log")) if "Members [" in e]
    from_log = parse_member_list(event)
    assert sorted(from_log.members, key=lambda m: m.ip) == [  # listed in join order, which varies
        Member("127.0.0.2", 5701, False),
        Member("127.0.0.3", 5701, True),
        Member("127.0.0.4", 5701, False),
    ]
    assert set(parse_member_list(captured("healthy", "worker-1")).members) == set(from_log.members)
    assert parse_member_list(captured("split", "worker-2")).members == (Member("127.0.0.4", 5701, True),)
    assert parse_member_list(captured("stray", "manager")).members[-1] == Member("127.0.0.9", 5702, False)


@pytest.mark.parametrize(
    "text, reason",
    [
        pytest.param(
            SAMPLE.replace("\tMember [10.0.3.10]:5701\n", ""),
            "header says 3 members but 2 member lines follow",
            id="count-above-lines",
        ),
        pytest.param(
            SAMPLE.replace("Members [3]", "Members [4]"),
            "header says 4 members but 3 member lines follow",
            id="count-mismatch",
        ),
        pytest.param(
            SAMPLE.split("\tMember [10.0.2.10]")[0],
            "header says 3 members but 1 member lines follow",
            id="truncated-event",
        ),
        pytest.param(
            "TID: [-1] [] [2026-11-25 10:00:01,234]  INFO {x} -  Members joined {x}",
            "no 'Members [n] {' header",
            id="no-header",
        ),
        pytest.param("", "no 'Members [n] {' header", id="empty"),
    ],
)
def test_unparseable_lists_say_why(text, reason):
    with pytest.raises(UnparseableMemberList) as error:
        parse_member_list(text)
    assert str(error.value) == reason


def test_only_the_first_block_is_read():
    """Members of a second block (an interleaved event) are not counted into the first."""
    parsed = parse_member_list(SAMPLE + SAMPLE.replace("10.0.3.10", "10.0.9.9"))
    assert parsed.ips == {"10.0.1.10", "10.0.2.10", "10.0.3.10"}


def test_parser_module_needs_no_aws_libraries():
    code = (
        "import sys, verify.hazelcast as h\n"
        "assert h.parse_member_list('Members [1] {\\n Member [10.0.0.1]:5701 this\\n}').this.ip == '10.0.0.1'\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('boto3', 'botocore', 'pydantic'))\n"
        "assert not loaded, loaded\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
