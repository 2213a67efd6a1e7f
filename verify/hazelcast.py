"""Hazelcast member lists as WSO2 Carbon (Hazelcast 3.5) logs them. Pure: no AWS, stdlib only.

A node logs its view of the cluster whenever membership changes, as one multi-line log4j event::

    TID: [-1] [] [2026-11-25 10:00:01,234]  INFO {com.hazelcast.cluster.ClusterService} -  [10.0.1.10]:5701 [wso2.as.domain] [3.5]

    Members [3] {
        Member [10.0.1.10]:5701 this
        Member [10.0.2.10]:5701
        Member [10.0.3.10]:5701
    }
     {com.hazelcast.cluster.ClusterService}

:func:`parse_member_list` reads the first ``Members [n] {`` block of such a message; the count in
the brackets must equal the number of ``Member [ip]:port`` lines, else the message is unparseable
(a truncated or interleaved event is not a member list to trust).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

HEADER = re.compile(r"Members \[(\d+)\] \{")
MEMBER = re.compile(r"Member \[([0-9.]+)\]:(\d+)( this\b)?")


class UnparseableMemberList(ValueError):
    """The message holds no member list, or one whose count does not match its lines."""


@dataclass(frozen=True)
class Member:
    ip: str
    port: int
    this: bool  # marked " this": the member that logged the list


@dataclass(frozen=True)
class MemberList:
    members: tuple[Member, ...]

    @property
    def ips(self) -> frozenset[str]:
        return frozenset(m.ip for m in self.members)

    @property
    def this(self) -> Optional[Member]:
        return next((m for m in self.members if m.this), None)


def parse_member_list(message: str) -> MemberList:
    """The member list in `message`; raises UnparseableMemberList saying why there is none."""
    header = HEADER.search(message)
    if header is None:
        raise UnparseableMemberList("no 'Members [n] {' header")
    end = message.find("}", header.end())
    body = message[header.end() :] if end < 0 else message[header.end() : end]
    members = tuple(Member(m.group(1), int(m.group(2)), m.group(3) is not None) for m in MEMBER.finditer(body))
    count = int(header.group(1))
    if count != len(members):
        raise UnparseableMemberList(f"header says {count} members but {len(members)} member lines follow")
    return MemberList(members)
