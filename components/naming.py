"""Names: the label every resource name starts with, and the few physical names set explicitly.

Most resources are auto-named by Pulumi (their logical name plus a random suffix), so a
replacement never collides with the resource it replaces, nor one stack with another. Pulumi
neither shortens nor cleans a logical name when it auto-names, and AWS is strict: a load
balancer name has at most 32 characters, letters, digits and hyphens, and may not start with
"internal-"; a security group's may not start with "sg-"; RDS names are lower case and start
with a letter. So every logical name starts with `stack_label(stack)`, which is the stack name
itself when that is safe (dev, prod, staging) and otherwise a short, safe, unique form of it.
"""

from __future__ import annotations

import hashlib
import re

# The longest logical names are "<label>-workers-https" and "<label>-alb" on resources that
# AWS names with at most 32 characters, of which Pulumi's suffix takes 8: the label stays within
# 24 - len("-ws") = 21 characters (see load_balancer.py), kept at 20.
LABEL_MAX = 20
_SAFE = re.compile(r"[a-z][a-z0-9]*(-[a-z0-9]+)*")
# Prefixes AWS refuses: security group names (sg-), load balancer names (internal-) and S3 bucket
# names (the access-log bucket is <label>-alb-logs-...: sthree-, amzn-s3-demo-; xn-- cannot occur,
# a label never holds "--").
_RESERVED_PREFIXES = ("sg-", "internal-", "sthree-", "amzn-s3-demo-")


def stack_label(stack: str) -> str:
    """A name prefix valid for every AWS resource of the stack, unique per stack name."""
    if len(stack) <= LABEL_MAX and _SAFE.fullmatch(stack) and not _reserved(stack):
        return stack
    cleaned = re.sub(r"-{2,}", "-", re.sub(r"[^a-z0-9-]", "-", stack.lower())).strip("-")
    if not cleaned[:1].isalpha() or _reserved(cleaned):
        cleaned = "s-" + cleaned
    digest = hashlib.sha256(stack.encode()).hexdigest()[:6]
    head = cleaned[: LABEL_MAX - len(digest) - 1].rstrip("-")
    return f"{head}-{digest}"


def _reserved(label: str) -> bool:
    return any((label + "-").startswith(prefix) for prefix in _RESERVED_PREFIXES)


def log_group_prefix(project: str, label: str) -> str:
    """/wso2/<project>/<label>: log group and SSM parameter names allow the characters of both."""
    return f"/wso2/{project}/{label}"


def log_agent_parameter(project: str, label: str) -> str:
    """The SSM parameter holding the nodes' CloudWatch agent configuration."""
    return f"{log_group_prefix(project, label)}/cloudwatch-agent"


def discovery_tag_value(project: str, label: str) -> str:
    """The value of the tag Hazelcast's AWS discovery finds this stack's nodes by."""
    return f"{project}-{label}"


def database_host_name(private_zone_name: str) -> str:
    """The database's private alias, the name the nodes connect to."""
    return f"mysql.{private_zone_name}"


def dashboard_name(project: str, label: str) -> str:
    """CloudWatch dashboard names allow letters, digits, - and _ (at most 255)."""
    return f"{re.sub(r'[^A-Za-z0-9_-]', '-', project)}-{label}"[:255]


def rds_identifier(label: str, suffix: str) -> str:
    """RDS: 1-63 lower-case letters, digits and single hyphens, starting with a letter."""
    return f"{label}-mysql-{suffix}"


def final_snapshot_identifier(identifier: str) -> str:
    """Unique per database: the identifier carries a random suffix, new with each database."""
    return f"{identifier}-final"
