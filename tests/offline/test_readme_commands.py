"""Every `make preview` command of the README, run as written in a copy of this repository.

The deploy commands run on the real CLI in tests/e2e/test_readme_commands.py; `make test`,
`make test-engine`, `make lint` and `make engine` are what CI itself runs. The product the
README's `--product-zip` line reads from ~/Downloads is this repository's small fixture product,
zipped into a HOME of the test's own. The `--product-home /opt/wso2as-5.3.0` line needs that
folder, which a test does not create; it runs where the folder exists.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from offline.stack_config import ROOT

FIXTURE_PRODUCT = ROOT / "tests" / "fixtures" / "wso2"
PRODUCT_HOME = Path("/opt/wso2as-5.3.0")


def preview_commands() -> list[str]:
    """The README's `make preview` commands, comments dropped, in the order they appear."""
    blocks = re.findall(r"^```sh\n(.*?)^```", (ROOT / "README.md").read_text(), flags=re.S | re.M)
    lines = [line.split(" #", 1)[0].strip() for block in blocks for line in block.splitlines()]
    return [line for line in lines if line.startswith("make preview")]


def test_the_readme_lists_these_preview_commands():
    assert preview_commands() == [
        "make preview",
        "make preview STACK=prod",
        'make preview ARGS="--product-zip ~/Downloads/wso2as-5.3.0.zip"',
        'make preview ARGS="--product-home /opt/wso2as-5.3.0"',
    ]


@pytest.fixture(scope="module")
def clone(tmp_path_factory) -> Path:
    """The repository's tracked files, its venv linked in, and a HOME with the product zip."""
    root = tmp_path_factory.mktemp("clone")
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True)
    for name in tracked.stdout.splitlines():
        if (ROOT / name).is_file():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, root / name)
    (root / "venv").symlink_to(ROOT / "venv")
    downloads = root / "home" / "Downloads"
    downloads.mkdir(parents=True)
    with zipfile.ZipFile(downloads / "wso2as-5.3.0.zip", "w") as product:
        for path in sorted(FIXTURE_PRODUCT.rglob("*")):
            if path.is_file() and "broken" not in path.parts:
                product.write(path, Path("wso2as-5.3.0") / path.relative_to(FIXTURE_PRODUCT))
    return root


@pytest.mark.parametrize("command", preview_commands())
def test_each_preview_command_of_the_readme_works_as_written(clone: Path, command: str):
    if "--product-home" in command and not PRODUCT_HOME.is_dir():
        pytest.skip(f"{PRODUCT_HOME} is not here (an unpacked product; the --product-zip line covers apply-config)")
    env = {**os.environ, "HOME": str(clone / "home")}
    result = subprocess.run(["bash", "-c", command], cwd=clone, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    stack = "prod" if "STACK=prod" in command else "dev"
    assert f"Offline preview of stack '{stack}'" in result.stdout and "Traceback" not in result.stderr
    assert (clone / "build" / stack / "plan.json").is_file()
    if "--product-zip" in command:
        conf = clone / "build" / "dev" / "dev-worker-1" / "product" / "repository" / "conf"
        assert "HazelcastClusteringAgent" in (conf / "axis2" / "axis2.xml").read_text()
