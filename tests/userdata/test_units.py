"""The two systemd units: checked by the real `systemd-analyze verify` (in a root of their own, so
it neither needs a running systemd nor sees this machine's units), and their semantics read
back exactly: the boot retries until it succeeds, the product is started only by the boot."""

from __future__ import annotations

import configparser
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from userdata import render_user_data

from .conftest import make_settings

UNITS = ("wso2-boot.service", "wso2as.service")
# what the units' default dependencies and their own After=/Wants=/WantedBy= name
TARGETS = ("sysinit.target", "basic.target", "shutdown.target", "network-online.target", "multi-user.target")


def unit_files() -> dict:
    files = render_user_data(make_settings()).files
    return {name: files[f"/opt/wso2-cluster/{name}"].decode() for name in UNITS}


def parse(text: str) -> dict:
    parser = configparser.ConfigParser(strict=True, interpolation=None, delimiters=("=",))
    parser.optionxform = str  # keys are case-sensitive
    parser.read_string(text)
    return {section: dict(parser[section]) for section in parser.sections()}


def systemd_analyze() -> str:
    # Debian's systemd package has it (.ci/run installs it; CI must not skip).
    exe = shutil.which("systemd-analyze")
    if exe is None:
        if os.environ.get("CI"):
            pytest.fail("systemd-analyze is not installed, and CI is set: the unit check must run")
        pytest.skip("systemd-analyze not found (apt-get install systemd)")
    return exe


def verify_root(tmp_path: Path, units: dict) -> Path:
    """A root holding the units where the runcmd (boot unit) and the boot (product unit) install
    them, the programs they start, and the targets they refer to."""
    root = tmp_path / "root"
    for name, text in units.items():
        (root / "etc/systemd/system").mkdir(parents=True, exist_ok=True)
        (root / "etc/systemd/system" / name).write_text(text)
    for program in ("opt/wso2-cluster/bin/boot", "opt/wso2as/bin/wso2server.sh"):
        (root / program).parent.mkdir(parents=True, exist_ok=True)
        (root / program).write_text("#!/bin/sh\n")
        (root / program).chmod(0o755)
    (root / "usr/lib/systemd/system").mkdir(parents=True)
    for target in TARGETS:
        (root / "usr/lib/systemd/system" / target).write_text(f"[Unit]\nDescription={target}\n")
    return root


def run_verify(root: Path, *names: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [systemd_analyze(), "verify", f"--root={root}", *(f"/etc/systemd/system/{name}" for name in names)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_systemd_analyze_verifies_both_units(tmp_path):
    root = verify_root(tmp_path, unit_files())
    r = run_verify(root, *UNITS)
    assert (r.returncode, r.stdout, r.stderr) == (0, "", "")  # not even a warning


@pytest.mark.parametrize(
    "breakage,complaint",
    [
        (("wso2-boot.service", "Type=oneshot", "Type=oneshott"), "Failed to parse service type"),
        (("wso2as.service", "SuccessExitStatus=143", "SuccessExitStatus=143\nRestartSecs=30"), "Unknown key"),
        (("wso2-boot.service", "Restart=on-failure", "Restart=always"), "Restart= set to either always or on-success"),
    ],
)
def test_the_verification_would_catch_a_broken_unit(tmp_path, breakage, complaint):
    """(So the check above is not vacuous: the same run notices real mistakes.)"""
    units = unit_files()
    name, old, new = breakage
    units[name] = units[name].replace(old, new)
    r = run_verify(verify_root(tmp_path, units), name)
    assert complaint in r.stderr


def test_a_missing_program_is_reported(tmp_path):
    root = verify_root(tmp_path, unit_files())
    (root / "opt/wso2-cluster/bin/boot").unlink()
    r = run_verify(root, "wso2-boot.service")
    assert r.returncode != 0 and "/opt/wso2-cluster/bin/boot" in r.stderr


def test_the_boot_unit_retries_until_it_succeeds():
    assert parse(unit_files()["wso2-boot.service"]) == {
        "Unit": {
            "Description": "Boot the WSO2 AS cluster node (/opt/wso2-cluster/node.json)",
            "Wants": "network-online.target",
            "After": "network-online.target",
            "StartLimitIntervalSec": "0",  # no start limit: it may retry for hours
        },
        "Service": {
            "Type": "oneshot",
            "RemainAfterExit": "yes",
            "ExecStart": "/opt/wso2-cluster/bin/boot",
            "Restart": "on-failure",
            "RestartSec": "30",
            "TimeoutStartSec": "infinity",  # the database may take over an hour
        },
        "Install": {"WantedBy": "multi-user.target"},  # runs at every boot
    }


def test_the_product_unit_is_started_by_the_boot_only():
    text = unit_files()["wso2as.service"]
    assert parse(text) == {
        "Unit": {
            "Description": "WSO2 Application Server (/opt/wso2-cluster/node.json)",
            "Wants": "network-online.target",
            "After": "network-online.target",
        },
        "Service": {
            "User": "wso2",
            "Group": "wso2",
            "EnvironmentFile": "/opt/wso2-cluster/wso2as.env",  # JAVA_HOME, WSO2_OPTS (-DworkerNode=true), JAVA_OPTS
            "ExecStart": "/opt/wso2as/bin/wso2server.sh $WSO2_OPTS",
            "SuccessExitStatus": "143",
            "Restart": "on-failure",
            "RestartSec": "30",
            "TimeoutStopSec": "120",
            "LimitNOFILE": "65536",
        },
    }
    assert "[Install]" not in text  # nothing enables it: not started before the node is configured
