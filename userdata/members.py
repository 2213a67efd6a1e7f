"""Which nodes are the cluster's well-known members (WKA mode): a pure, stable choice.

The well-known set is the first `count` nodes in a fixed order (manager first, then workers by
index), so adding a worker at the end changes no other node's member list once the cluster has at
least `count` nodes.
"""

from __future__ import annotations

import ipaddress
from typing import Sequence, Tuple

DEFAULT_WELL_KNOWN = 3


def well_known_members(node_ips: Sequence[str], count: int = DEFAULT_WELL_KNOWN) -> Tuple[str, ...]:
    """The well-known members: the first `count` of `node_ips` (all of them if fewer)."""
    if count < 1:
        raise ValueError(f"well-known member count must be at least 1, got {count}")
    ips = [str(ipaddress.IPv4Address(ip)) for ip in node_ips]
    if len(set(ips)) != len(ips):
        raise ValueError(f"duplicate node IPs: {list(node_ips)}")
    return tuple(ips[:count])


def wka_members_for(private_ip: str, well_known: Sequence[str]) -> Tuple[str, ...]:
    """A node's `NodeSettings.wka_members`: the well-known members other than itself."""
    return tuple(ip for ip in well_known if ip != private_ip)
