"""Posture: what the configuration allows but is unwise, one line each (the preview prints them,
`pulumi up` logs them as warnings)."""

from __future__ import annotations

import ipaddress

from components.config.report import qualified
from components.config.rules import admin_password_weakness
from components.config.schema import ClusterConfig


def posture_warnings(config: ClusterConfig) -> list[str]:
    """The warnings for `config`, in a fixed order."""
    warnings = []
    if config.product_artifact_sha256 is None:
        warnings.append(f"{qualified('productArtifactSha256')} is not set: nodes install the product zip unchecked")
    if config.admin_password is not None and not config.prod_like:
        weakness = admin_password_weakness(config.admin_password.get_secret_value(), config.admin_username)
        if weakness:
            warnings.append(
                f"{qualified('adminPassword')} {weakness}: a stack with deletion protection would refuse it"
            )
    if config.prod_like:
        if config.http_mode == "forward" and any(
            ipaddress.IPv4Network(c).prefixlen == 0 for c in config.allowed_client_cidrs
        ):
            warnings.append(
                f"{qualified('httpMode')} forward serves plain HTTP to the internet (0.0.0.0/0) "
                "on a stack with deletion protection"
            )
        if config.jdbc_driver_sha256 is None:
            warnings.append(f"{qualified('jdbcDriverSha256')} is not set: nodes install the JDBC driver unchecked")
        if config.worker_count == 1:
            warnings.append(
                f"{qualified('workerCount')} is 1 on a stack with deletion protection: a change that "
                "replaces the worker takes the service down while it boots"
            )
        elif config.max_unavailable >= config.worker_count:
            warnings.append(
                f"{qualified('maxUnavailableWorkers')} is {config.max_unavailable} on a stack with "
                "deletion protection: a change that replaces nodes takes every worker, and the service, "
                "down at once"
            )
    return warnings
