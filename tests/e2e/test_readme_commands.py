"""The README's "Deploying for real" commands, run as written on the real CLI and the cloud double.

The only differences from a user's shell are the environment the harness gives every e2e test
(a `file://` backend in PULUMI_BACKEND_URL, which `pulumi login` picks up; a passphrase secrets
provider; the cloud double as AWS) and PULUMI_SKIP_CONFIRMATIONS, the CLI's own switch for
answering its prompts when no terminal is attached. After them, the README's first command,
`make preview`, previews the stack whose secret was just set the README's way.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from e2e.harness import ROOT, Workspace
from verify.outputs import parse_outputs

pytestmark = pytest.mark.engine

ADMIN_PASSWORD = "Readme-admin-7"  # what a user types at `pulumi config set --secret adminPassword`
VERIFY = "make verify STACK=dev"  # reads RDS, CloudWatch Logs and SSM, which the double does not serve


def shell_blocks(markdown: str) -> list[list[str]]:
    """Each ```sh block of the README as its commands, comments and blank lines dropped."""
    blocks = re.findall(r"^```sh\n(.*?)^```", markdown, flags=re.S | re.M)
    return [[line.split(" #", 1)[0].strip() for line in block.splitlines() if line.strip()] for block in blocks]


def deploy_commands() -> list[str]:
    (block,) = [b for b in shell_blocks((ROOT / "README.md").read_text()) if "pulumi up" in b]
    return block


def bash(command: str, workspace: Workspace, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", "-euo", "pipefail", "-c", command],
        cwd=workspace.project,
        input=stdin,
        env={**workspace.env, "PULUMI_SKIP_CONFIRMATIONS": "true"},
        capture_output=True,
        text=True,
        timeout=900,
    )


def test_the_deploy_commands_work_as_written_and_make_preview_reads_the_secret(tmp_path: Path, moto_url: str):
    workspace = Workspace(tmp_path, moto_url=moto_url)
    for name in ("Makefile", "offline", "requirements.txt", "requirements-dev.txt", "constraints.txt"):
        source = ROOT / name
        (
            shutil.copytree(source, workspace.project / name, ignore=shutil.ignore_patterns("__pycache__"))
            if source.is_dir()
            else shutil.copy2(source, workspace.project / name)
        )
    with zipfile.ZipFile(workspace.project / "wso2as-5.3.0.zip", "w") as product:  # what sha256sum reads
        product.writestr("wso2as-5.3.0/bin/wso2server.sh", "#!/bin/sh\n")

    commands = deploy_commands()
    assert commands[0] == "pulumi login" and commands[-1] == VERIFY
    for command in commands[:-1]:
        secret = command.startswith("pulumi config set --secret")
        result = bash(command, workspace, stdin=ADMIN_PASSWORD + "\n" if secret else None)
        assert result.returncode == 0, f"{command}:\n{result.stdout[-3000:]}{result.stderr[-3000:]}"

    stack_file = (workspace.project / "Pulumi.dev.yaml").read_text()
    assert "wso2-cluster:adminPassword:\n    secure: " in stack_file and ADMIN_PASSWORD not in stack_file
    outputs = json.loads((workspace.project / "dev-outputs.json").read_text())
    handed = parse_outputs(outputs)  # what application teams and `make verify` read
    assert handed.region == "eu-west-1" and len(handed.worker_instance_ids) == 2

    preview = bash("make preview", workspace)
    assert preview.returncode == 0, preview.stderr[-3000:]
    assert "Offline preview of stack 'dev'" in preview.stdout
    assert "placeholder" not in preview.stdout  # the passphrase decrypted the real secret
    assert ADMIN_PASSWORD not in preview.stdout + preview.stderr
