"""The real Pulumi CLI and the cloud double (e2e/): shared fixtures.

These tests need the CLI built from its Go module (`make engine`). Without it they skip, saying
so; with CI set they fail instead, as CI always builds it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from moto.server import ThreadedMotoServer

from e2e.harness import Workspace, engine_built


@pytest.fixture(autouse=True)
def _engine_required():
    if not engine_built():
        if os.environ.get("CI"):
            pytest.fail("the Pulumi CLI is not built (build/engine/bin/pulumi), and CI is set: run `make engine`")
        pytest.skip("the Pulumi CLI is not built: `make engine` builds it from its Go module (needs Go)")


@pytest.fixture(scope="session")
def moto_url():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def workspace(tmp_path: Path, moto_url: str) -> Workspace:
    return Workspace(tmp_path, moto_url=moto_url)
