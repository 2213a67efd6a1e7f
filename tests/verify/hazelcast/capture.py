"""Capture what `verify` reads from real Hazelcast 3.5 members: the fixtures of the membership tests.

    venv/bin/python -m tests.verify.hazelcast.capture [DIR]   (default: tests/verify/captured)

The stack's three nodes run as real members (cluster.py): manager 127.0.0.2, worker-1 127.0.0.3,
worker-2 127.0.0.4, all on port 5701, with the WKA list the project renders and no
hazelcast.properties (as on the nodes: Hazelcast 3.5's REST endpoint is on by default). For each
scenario every running node's answer to GET /hazelcast/rest/cluster is written to
DIR/<scenario>/<node>.rest, exactly as received; the healthy scenario also keeps each node's
wso2carbon.log (DIR/healthy/<node>.log). Scenarios, in the order they run:

- healthy: the three form one cluster;
- stray: a member of the right domain on another address and port (127.0.0.9:5702), in nobody's
  WKA list, joins anyway (the WKA list says whom a starting member asks, it admits anyone);
- worker-2-down: worker-2 has left (the stray too); the manager and worker-1 remain;
- split: worker-2 restarted with another cluster domain: a cluster of its own.

`test_real_members.py::test_the_committed_captures_are_what_members_print_now` checks that the
committed files still are what real members print (addresses, counts, layout; not timestamps).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from tests.verify.hazelcast.cluster import Cluster, Member, wait_until, write_axis2_xml

DOMAIN, PORT = "wso2.as.domain", 5701
NODES = {"manager": "127.0.0.2", "worker-1": "127.0.0.3", "worker-2": "127.0.0.4"}
STRAY = ("127.0.0.9", 5702)
DEFAULT_DIR = Path(__file__).resolve().parents[1] / "captured"
SETTLE_SECONDS = 60


def _axis2(workdir: Path, name: str, ip: str, port: int = PORT, domain: str = DOMAIN) -> Path:
    wka = [f"{other}:{PORT}" for other in NODES.values() if other != ip]
    return write_axis2_xml(workdir / f"{name}-axis2.xml", domain=domain, host=ip, port=port, wka=wka)


def _settle(members: list[Member], count: int) -> None:
    wait_until(
        lambda: all(len(m.members()) == count for m in members),
        SETTLE_SECONDS,
        what=f"{[m.name for m in members]} each listing {count} members",
    )


def _write(target: Path, scenario: str, members: list[Member]) -> None:
    folder = target / scenario
    folder.mkdir(parents=True, exist_ok=True)
    for member in members:
        (folder / f"{member.name}.rest").write_text(member.rest_cluster())


def capture(target: Path, workdir: Path) -> None:
    with Cluster(workdir) as cluster:
        nodes = {name: cluster.add(name, _axis2(workdir, name, ip)) for name, ip in NODES.items()}
        three = list(nodes.values())
        cluster.start(*three)
        _settle(three, 3)
        _write(target, "healthy", three)
        for member in three:
            (target / "healthy" / f"{member.name}.log").write_text(member.log_text())

        stray = cluster.add("stray", _axis2(workdir, "stray", STRAY[0], port=STRAY[1]))
        cluster.start(stray)
        _settle(three, 4)
        _write(target, "stray", three)

        cluster.stop(stray, nodes["worker-2"])
        _settle(three[:2], 2)
        _write(target, "worker-2-down", three[:2])

        outsider = cluster.add(
            "worker-2", _axis2(workdir, "worker-2-other-domain", NODES["worker-2"], domain="another.domain")
        )
        cluster.start(outsider)
        _settle([outsider], 1)
        _settle(three[:2], 2)
        _write(target, "split", [*three[:2], outsider])


def main(argv: list[str]) -> int:
    target = Path(argv[0]) if argv else DEFAULT_DIR
    with tempfile.TemporaryDirectory(prefix="hazelcast-capture-") as workdir:
        capture(target, Path(workdir))
    print(f"captured into {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
