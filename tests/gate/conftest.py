"""Every gate and drain test runs with dummy AWS credentials in eu-west-1, nothing of the machine's."""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import Stubber

from tests.aws_support import isolate_aws_environment

REGION = "eu-west-1"


@pytest.fixture(autouse=True)
def aws_env(monkeypatch, tmp_path):
    isolate_aws_environment(monkeypatch, tmp_path, REGION)


@pytest.fixture
def stubbed():
    """A real elbv2 client with botocore's Stubber: unexpected or extra calls raise."""
    client = boto3.client("elbv2", region_name=REGION)
    with Stubber(client) as stubber:
        yield client, stubber
