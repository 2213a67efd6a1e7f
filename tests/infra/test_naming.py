"""Names derived from the stack: every logical name starts with a label that is valid in every
AWS name Pulumi derives from it, for any stack name Pulumi allows."""

from __future__ import annotations

import re

import pytest

from components.naming import LABEL_MAX, final_snapshot_identifier, rds_identifier, stack_label

SAFE = re.compile(r"[a-z][a-z0-9]*(-[a-z0-9]+)*")
# Stack names Pulumi allows: letters, digits, -, _ and ., at most 100 characters.
STACK_NAMES = [
    "dev",
    "prod",
    "staging-eu",
    "Prod",
    "my_stack.v2",
    "1st",
    "sg",
    "sg-blue",
    "internal",
    "internal-tools",
    "x-",
    "-",
    "_",
    "a" * 100,
    "A.B_C-D" * 14,
]


@pytest.mark.parametrize("stack", ["dev", "prod", "staging", "staging-eu", "team1-dev"])
def test_a_safe_stack_name_is_its_own_label(stack):
    assert stack_label(stack) == stack  # so existing stacks keep their resource names


@pytest.mark.parametrize("stack", STACK_NAMES)
def test_every_label_is_safe_for_aws_names(stack):
    label = stack_label(stack)
    assert SAFE.fullmatch(label) and len(label) <= LABEL_MAX, label
    # a security group's name may not start with sg-, a load balancer's with internal-
    assert not (label + "-").startswith(("sg-", "internal-")), label
    # RDS: 1-63 lower-case letters, digits and single hyphens, from a letter, no trailing hyphen
    identifier = rds_identifier(label, "a1b2c3")
    assert re.fullmatch(r"[a-z](?!.*--)[a-z0-9-]{0,61}[a-z0-9]", identifier) and len(identifier) <= 63
    assert len(final_snapshot_identifier(identifier)) <= 255
    # the auto-named resources with the tightest limits: a load balancer's and a target group's
    # 32 characters, of which Pulumi's random suffix takes 8
    for logical in (f"{label}-alb", f"{label}-ws", f"{label}-wh", f"{label}-ms"):
        assert len(logical) + 8 <= 32, logical


def test_labels_of_different_stacks_differ():
    labels = [stack_label(s) for s in STACK_NAMES]
    assert len(set(labels)) == len(labels)
