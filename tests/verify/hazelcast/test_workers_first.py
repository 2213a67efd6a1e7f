"""Workers need no running manager to cluster: on a first deploy they may start before it.

The workers start once the schemas and the admin account exist (boot.sh.j2), which can be before
the manager's own Hazelcast member is up. Real Hazelcast 3.5 members, configured as Carbon 4.4.1
configures them (WKA: the first 3 nodes, the manager first): (a) three workers started at once,
the manager not running, form one cluster (worker-3, in no WKA list, asks worker-1 and worker-2);
(b) the manager started afterwards joins them: one cluster of 4.
"""

from __future__ import annotations

import pytest

from tests.verify.hazelcast.cluster import Cluster, Member, write_axis2_xml
from tests.verify.hazelcast.test_real_members import PORT, addresses, settle

pytestmark = pytest.mark.hazelcast

NODES = {"manager": "127.0.0.2", "worker-1": "127.0.0.3", "worker-2": "127.0.0.4", "worker-3": "127.0.0.5"}
WKA = ["manager", "worker-1", "worker-2"]


@pytest.fixture(scope="module")
def nodes(real_cluster: Cluster) -> dict[str, Member]:
    def axis2(name: str, ip: str):
        wka = [f"{NODES[n]}:{PORT}" for n in WKA if NODES[n] != ip]
        return write_axis2_xml(
            real_cluster.workdir / f"{name}-axis2.xml", domain="wso2.as.domain", host=ip, port=PORT, wka=wka
        )

    return {name: real_cluster.add(name, axis2(name, ip)) for name, ip in NODES.items()}


def test_a_the_workers_form_one_cluster_without_the_manager(real_cluster, nodes):
    workers = [nodes[f"worker-{i}"] for i in (1, 2, 3)]
    real_cluster.start(*workers)
    settle(workers, addresses(*workers))


def test_b_the_manager_started_later_joins_them(real_cluster, nodes):
    real_cluster.start(nodes["manager"])
    settle(list(nodes.values()), addresses(*nodes.values()))
