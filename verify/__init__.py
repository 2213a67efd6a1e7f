"""Post-deploy verification of the WSO2 AS worker/manager cluster (issue 6).

Run ``python -m verify --help``. The stack outputs it reads are validated by
:mod:`verify.outputs`; the AWS checks live in :mod:`verify.checks`, the HTTP probes in
:mod:`verify.probes`, cluster membership from the nodes' logs in :mod:`verify.membership` (the
Hazelcast member-list parser, pure, in :mod:`verify.hazelcast`), the database schemas through SSM
in :mod:`verify.schema`, the printing in :mod:`verify.report`.
"""

from typing import Any

__all__ = ["CheckResult"]


def __getattr__(name: str) -> Any:
    # Imported on first use, so that `verify.hazelcast` (stdlib only) imports without botocore.
    if name == "CheckResult":
        from verify.checks import CheckResult

        return CheckResult
    raise AttributeError(f"module 'verify' has no attribute {name!r}")
