"""Shared by the tests that call AWS through boto3 (against moto or botocore's Stubber)."""

from __future__ import annotations

import pytest

_MACHINE_SETTINGS = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_REGION",
    "AWS_ENDPOINT_URL",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
)


def isolate_aws_environment(monkeypatch: pytest.MonkeyPatch, tmp_path, region: str) -> None:
    """Dummy credentials in `region`; no profile, endpoint or config file of the machine leaks in."""
    for name in _MACHINE_SETTINGS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", region)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))


class FakeClock:
    """clock() and sleep(): sleeping advances the clock; every sleep is recorded. No test sleeps."""

    def __init__(self, start: float = 1000.0):
        self.start = self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    @property
    def elapsed(self) -> float:
        return self.now - self.start
