"""Physical names AWS restricts: load balancer and target group names, snapshot identifiers."""

from __future__ import annotations

import re

from components.database import snapshot_identifier
from components.naming import aws_name

LB_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?")


def test_short_names_pass_through():
    assert aws_name("wso2-dev", "wh", "9763") == "wso2-dev-wh-9763"


def test_long_stack_names_are_cut_but_keep_the_suffix():
    name = aws_name("wso2-a-very-long-stack-name-for-staging_eu", "ms", "9443")
    assert len(name) <= 32 and LB_NAME.fullmatch(name) and "--" not in name
    assert name.endswith("-ms-9443")


def test_invalid_characters_become_single_hyphens():
    assert aws_name("wso2-my_stack.v2", "alb") == "wso2-my-stack-v2-alb"


def test_snapshot_identifier_starts_with_a_letter():
    assert snapshot_identifier("wso2-cluster", "prod", "final") == "wso2-cluster-prod-final"
    assert snapshot_identifier("1st", "final").startswith("db-1st")
