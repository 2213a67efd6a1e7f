"""`make e2e` (python -m e2e.run), the path to a real account, run here against the cloud double."""

from __future__ import annotations

import subprocess
import sys

import pytest

from e2e.harness import ROOT, Workspace

pytestmark = pytest.mark.engine


def _run(workspace: Workspace, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "e2e.run", "--work-dir", str(workspace.project), *args],
        cwd=ROOT,
        env={**workspace.env, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=900,
    )


def test_a_throwaway_copy_of_dev_is_deployed_and_then_leaves_nothing(workspace: Workspace):
    # verify reads AWS services the double does not serve (RDS, CloudWatch Logs, SSM): not here.
    result = _run(workspace, "--stack", "dev", "--no-verify")

    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    name = result.stdout.split("e2e: stack ", 1)[1].split()[0]
    assert name.startswith("dev-e2e-")
    assert f"e2e: stack {name} destroyed and removed" in result.stdout
    assert {package: workspace.cloud(package) for package in ("aws", "random", "tls")} == {
        "aws": {},
        "random": {},
        "tls": {},
    }
    assert name not in workspace.pulumi("stack", "ls").stdout
    assert not (workspace.project / f"Pulumi.{name}.yaml").exists()


def test_a_prod_like_stack_is_refused_before_anything_is_made(workspace: Workspace):
    result = _run(workspace, "--stack", "prod")

    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "e2e: stack prod is prod-like (dbDeletionProtection or loadBalancerDeletionProtection is true): "
        "e2e deploys only stacks that may be thrown away"
    ]
    assert not workspace.cloud_dir.exists()
