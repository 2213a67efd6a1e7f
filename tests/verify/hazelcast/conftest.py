"""Fixtures for tests against real Hazelcast 3.5 members (cluster.py): `real_cluster`, module-scoped."""

from __future__ import annotations

import os
from typing import Iterator

import pytest

from tests.verify.hazelcast.cluster import Cluster, HarnessUnavailable, check_loopback, classpath

LOOPBACK_HOSTS = [f"127.0.0.{i}" for i in range(2, 12)]  # enough for every scenario here


def require_harness() -> None:
    """Skip (fail when $CI is set: CI must run these) unless java, javac, the jars and 127.0.0.x are there."""
    try:
        classpath()  # java/javac on PATH, jars fetched, CarbonMember compiled
        check_loopback(LOOPBACK_HOSTS)
    except HarnessUnavailable as error:
        if os.environ.get("CI"):
            pytest.fail(f"real Hazelcast members cannot run in CI: {error}")
        pytest.skip(f"real Hazelcast members cannot run here: {error}")


@pytest.fixture(scope="module")
def real_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """An empty Cluster in a fresh directory; every member still running is ended after the module."""
    require_harness()
    with Cluster(tmp_path_factory.mktemp("hazelcast")) as cluster:
        yield cluster
