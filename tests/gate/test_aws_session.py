"""The health gates' AWS session: the stack's AWS provider settings, against moto's STS."""

from __future__ import annotations

import json
import os

import pytest
from moto import mock_aws

from components import aws_session
from tests.aws_support import isolate_aws_environment

REGION = "eu-west-1"
ACCOUNT = "123456789012"  # moto's default account


@pytest.fixture
def aws(monkeypatch, tmp_path):
    isolate_aws_environment(monkeypatch, tmp_path, REGION)
    with mock_aws():
        yield tmp_path


def _caller(session) -> str:
    return session.client("sts").get_caller_identity()["Arn"]


def test_explicit_keys_are_used_as_given(aws):
    session = aws_session.from_stack_config(
        {
            "aws:region": REGION,
            "aws:accessKey": "AKIAEXPLICIT000000",
            "aws:secretKey": "explicit-secret",
            "aws:token": "a-token",
        }
    )
    credentials = session.get_credentials()
    assert (credentials.access_key, credentials.secret_key, credentials.token) == (
        "AKIAEXPLICIT000000",
        "explicit-secret",
        "a-token",
    )
    assert session.region_name == REGION


def test_the_profile_of_the_stack_is_used(aws, monkeypatch):
    (aws / "credentials").write_text("[ops]\naws_access_key_id = AKIAPROFILE0000000\naws_secret_access_key = s\n")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(aws / "credentials"))
    session = aws_session.from_stack_config({"aws:profile": "ops"}, region="us-east-1")
    assert session.get_credentials().access_key == "AKIAPROFILE0000000"
    assert session.region_name == "us-east-1"  # the gate's region wins over aws:region


def test_assume_roles_are_chained_in_order(aws):
    config = {
        "aws:region": REGION,
        "aws:assumeRoles": json.dumps(
            [
                {
                    "roleArn": f"arn:aws:iam::{ACCOUNT}:role/deployer",
                    "sessionName": "first",
                    "externalId": "x-1",
                    "duration": "1h",
                },
                {"roleArn": f"arn:aws:iam::{ACCOUNT}:role/gate-reader"},
            ]
        ),
    }
    session = aws_session.from_stack_config(config)
    assert _caller(session) == f"arn:aws:sts::{ACCOUNT}:assumed-role/gate-reader/{aws_session.DEFAULT_SESSION_NAME}"


def test_the_older_single_assume_role_is_honoured(aws):
    config = {
        "aws:region": REGION,
        "aws:assumeRole": json.dumps({"roleArn": f"arn:aws:iam::{ACCOUNT}:role/deployer", "sessionName": "ci"}),
    }
    assert _caller(aws_session.from_stack_config(config)) == f"arn:aws:sts::{ACCOUNT}:assumed-role/deployer/ci"


def test_without_settings_the_default_chain_is_used(aws):
    session = aws_session.from_stack_config({"aws:region": REGION})
    assert session.get_credentials().access_key == os.environ["AWS_ACCESS_KEY_ID"]  # as the provider falls back


@pytest.mark.parametrize("text,seconds", [("1h", 3600), ("15m", 900), ("900s", 900), ("1h30m", 5400), ("", None)])
def test_durations_read_like_the_providers(text, seconds):
    assert aws_session.duration_seconds(text) == seconds


def test_a_bad_duration_says_what_is_allowed():
    with pytest.raises(ValueError, match="not a duration like 1h or 15m"):
        aws_session.duration_seconds("an hour")
