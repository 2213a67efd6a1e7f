"""Post-deploy verification of the WSO2 AS worker/manager cluster (issue 6).

Run ``python -m verify --help``. The stack outputs it reads are validated by
:mod:`verify.outputs`; the AWS checks live in :mod:`verify.checks`, the HTTP probes in
:mod:`verify.probes`, the printing in :mod:`verify.report`.
"""

from verify.checks import CheckResult

__all__ = ["CheckResult"]
