"""Runs the real Pulumi CLI on a copy of this project, with the cloud double as AWS.

Each `Workspace` is a temporary project directory (the program, Pulumi.yaml and the stack files,
the repository's virtualenv linked in), a local `file://` backend, a passphrase secrets
provider, and its own double cloud. The CLI (`make engine`) and the double's plugins are found
on PATH, as a user's installed CLI and plugins are. Nothing reaches the network.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional, Sequence

ROOT = Path(__file__).resolve().parent.parent
ENGINE_BIN = ROOT / "build" / "engine" / "bin"
DOUBLE_BIN = ROOT / "e2e" / "double" / "bin"
PROGRAM_FILES = ("Pulumi.yaml", "__main__.py", "components", "userdata")
PASSPHRASE = "e2e-passphrase"  # the throw-away stacks' secrets passphrase, not a credential


def engine_built() -> bool:
    return (ENGINE_BIN / "pulumi").exists()


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


class Workspace:
    def __init__(
        self, directory: Path, *, source: Path = ROOT, moto_url: Optional[str] = None, region: str = "eu-west-1"
    ):
        self.dir = directory
        self.project = directory / "project"
        self.project.mkdir(parents=True)
        for name in PROGRAM_FILES:
            src = source / name
            if src.is_dir():
                shutil.copytree(src, self.project / name, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                shutil.copy2(src, self.project / name)
        for stack_file in source.glob("Pulumi.*.yaml"):
            shutil.copy2(stack_file, self.project / stack_file.name)
        (self.project / "venv").symlink_to(ROOT / "venv")
        (directory / "state").mkdir()
        self.cloud_dir = directory / "cloud"
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("PULUMI_", "AWS_"))},
            "PATH": f"{ENGINE_BIN}:{DOUBLE_BIN}:{os.environ.get('PATH', '')}",
            "PULUMI_HOME": str(directory / "home"),
            "PULUMI_BACKEND_URL": f"file://{directory / 'state'}",
            "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE,
            "PULUMI_SKIP_UPDATE_CHECK": "true",
            "PULUMI_DEBUG_COMMANDS": "true",  # enables `--event-log`, the engine's own record of its steps
            "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
            "PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK": "true",
            "WSO2_DOUBLE_DIR": str(self.cloud_dir),
            "AWS_REGION": region,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "NO_COLOR": "1",
        }
        if moto_url:
            self.env.update(WSO2_DOUBLE_MOTO=moto_url, AWS_ENDPOINT_URL=moto_url)

    def pulumi(self, *args: str, check: bool = True, timeout: float = 900) -> Result:
        completed = subprocess.run(
            [str(ENGINE_BIN / "pulumi"), *args, "--non-interactive"],
            cwd=self.project,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        result = Result(completed.returncode, completed.stdout, completed.stderr)
        if check and result.code != 0:
            raise AssertionError(f"pulumi {' '.join(args)} exited {result.code}:\n{result.output[-6000:]}")
        return result

    def new_stack(self, stack: str, secrets: Optional[dict[str, str]] = None) -> None:
        self.pulumi("stack", "init", stack, "--secrets-provider", "passphrase")
        for key, value in (secrets or {}).items():
            self.pulumi("config", "set", "--secret", key, value, "--stack", stack)

    def set_config(self, stack: str, key: str, value: Any) -> None:
        """`pulumi config set` as a user types it (a list item by item, with --path)."""
        if isinstance(value, list):
            for index, item in enumerate(value):
                self.pulumi("config", "set", "--stack", stack, "--path", f"{key}[{index}]", str(item))
        else:
            text = str(value).lower() if isinstance(value, bool) else str(value)
            self.pulumi("config", "set", "--stack", stack, key, text)

    def up(self, stack: str, *extra: str, check: bool = True, event_log: Optional[Path] = None) -> Result:
        args = ["up", "--stack", stack, "--yes", "--skip-preview", *extra]
        if event_log:
            args += ["--event-log", str(event_log)]
        return self.pulumi(*args, check=check)

    def preview(self, stack: str, *extra: str, check: bool = True) -> Result:
        return self.pulumi("preview", "--stack", stack, *extra, check=check)

    def outputs(self, stack: str) -> dict[str, Any]:
        return json.loads(self.pulumi("stack", "output", "--stack", stack, "--json").stdout)

    def state(self, stack: str) -> list[dict[str, Any]]:
        exported = json.loads(self.pulumi("stack", "export", "--stack", stack).stdout)
        return exported["deployment"].get("resources") or []

    def cloud(self, package: str = "aws") -> dict[str, Any]:
        path = self.cloud_dir / f"{package}.json"
        return json.loads(path.read_text())["resources"] if path.exists() else {}


def events(path: Path) -> list[dict[str, Any]]:
    """The engine's event log (`--event-log`), one JSON event per line."""
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def steps(log: Sequence[dict[str, Any]]) -> list[tuple[str, str, str]]:
    """(event kind, op, urn) of each resource step event, in the engine's order."""
    found = []
    for event in log:
        for kind in ("resourcePreEvent", "resOutputsEvent", "resOpFailedEvent"):
            if kind in event:
                metadata = event[kind]["metadata"]
                found.append((kind, metadata["op"], metadata["urn"]))
    return found
