"""Names of resources: logical names and the few physical names AWS needs short and stable."""

from __future__ import annotations

import re


def aws_name(*parts: str, limit: int = 32) -> str:
    """A physical name from parts, e.g. aws_name("wso2", "dev", "alb") -> "wso2-dev-alb".

    Load balancer and target group names allow letters, digits and single hyphens, at most 32
    characters, no leading or trailing hyphen. The first part that is too long is cut, so the
    distinguishing suffix (e.g. "wh-9763") always survives.
    """
    cleaned = [re.sub(r"-{2,}", "-", re.sub(r"[^A-Za-z0-9-]", "-", p)).strip("-") for p in parts]
    cleaned = [p for p in cleaned if p]
    overflow = len("-".join(cleaned)) - limit
    if overflow > 0:
        # shorten the longest part (the stack name, in practice) rather than dropping a suffix
        i = max(range(len(cleaned)), key=lambda k: len(cleaned[k]))
        cleaned[i] = cleaned[i][: max(1, len(cleaned[i]) - overflow)].rstrip("-")
    name = "-".join(cleaned)[:limit].strip("-")
    return name
