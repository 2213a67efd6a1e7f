"""posture_warnings: what is allowed but unwise, one line each; the prod-only ones only on a
prod-like stack (deletion protection on the database or the load balancer)."""

from __future__ import annotations

from components.config.posture import posture_warnings
from tests.config.support import SHA_A, P, parse

PLAIN_HTTP = f"{P}:httpMode forward serves plain HTTP to the internet (0.0.0.0/0) on a stack with deletion protection"
NO_PRODUCT_SHA = f"{P}:productArtifactSha256 is not set: nodes install the product zip unchecked"
NO_DRIVER_SHA = f"{P}:jdbcDriverSha256 is not set: nodes install the JDBC driver unchecked"
ONE_WORKER = (
    f"{P}:workerCount is 1 on a stack with deletion protection: a change that replaces the worker takes "
    "the service down while it boots"
)
ALL_WORKERS = (
    f"{P}:maxUnavailableWorkers is 4 on a stack with deletion protection: a change that replaces nodes "
    "takes every worker, and the service, down at once"
)
CHECKED = {"productArtifactSha256": SHA_A, "jdbcDriverSha256": SHA_A}


def warnings(overrides=None, stack="prod"):
    return posture_warnings(parse(overrides, stack=stack))


def test_the_prod_example_has_no_warning():
    assert warnings() == []


def test_plain_http_to_the_internet_on_a_prod_like_stack():
    assert warnings({"httpMode": "forward"}) == [PLAIN_HTTP]
    assert warnings({"httpMode": "forward", "allowedClientCidrs": ["198.51.100.0/24"]}) == []


def test_either_protection_makes_a_stack_prod_like():
    only_lb = {"dbDeletionProtection": "false", "dbSkipFinalSnapshot": "true", "httpMode": "forward"}
    assert warnings(only_lb) == [PLAIN_HTTP]
    only_db = {"loadBalancerDeletionProtection": "false", "httpMode": "forward"}
    assert warnings(only_db) == [PLAIN_HTTP]


def test_a_rolling_change_that_takes_every_worker_on_a_prod_like_stack():
    assert warnings({"workerCount": "1"}) == [ONE_WORKER]
    assert warnings({"workerCount": "4", "maxUnavailableWorkers": "4"}) == [ALL_WORKERS]
    assert warnings({"workerCount": "4", "maxUnavailableWorkers": "3"}) == []
    assert warnings({**CHECKED, "workerCount": "1"}, stack="dev") == []


def test_no_product_checksum_on_any_stack():
    assert warnings({"productArtifactSha256": None}) == [NO_PRODUCT_SHA]
    assert warnings({**CHECKED, "productArtifactSha256": None}, stack="dev") == [NO_PRODUCT_SHA]
    assert warnings({"jdbcDriverSha256": None}) == [NO_DRIVER_SHA]


def test_none_of_the_prod_only_warnings_on_a_dev_like_stack():
    dev = {
        **CHECKED,
        "managementAllowedCidrs": ["0.0.0.0/0"],
        "httpMode": "forward",
        "allowedClientCidrs": ["0.0.0.0/0"],
        "workerCount": "1",
    }
    config = parse(dev, stack="dev")
    assert not config.prod_like
    assert posture_warnings(config) == []
    assert (
        posture_warnings(
            parse({"jdbcDriverSha256": None, **{k: v for k, v in dev.items() if k != "jdbcDriverSha256"}}, stack="dev")
        )
        == []
    )


def test_every_warning_at_once_one_line_each():
    found = warnings(
        {
            "httpMode": "forward",
            "productArtifactSha256": None,
            "jdbcDriverSha256": None,
            "workerCount": "1",
        }
    )
    assert sorted(found) == sorted([NO_PRODUCT_SHA, PLAIN_HTTP, NO_DRIVER_SHA, ONE_WORKER])
    assert all("\n" not in w for w in found)


def test_a_weak_admin_password_is_a_warning_on_a_throw_away_stack_only():
    weak = (
        f"{P}:adminPassword is a stock value or the admin user name: a stack with deletion protection would refuse it"
    )
    short = f"{P}:adminPassword has fewer than 12 characters: a stack with deletion protection would refuse it"
    assert warnings({**CHECKED, "adminPassword": "wso2carbon"}, stack="dev") == [weak]
    assert warnings({**CHECKED, "adminPassword": "Admin"}, stack="dev") == [weak]  # adminUsername, any case
    assert warnings({**CHECKED, "adminPassword": "Short-Pw-1"}, stack="dev") == [short]
    assert warnings({**CHECKED, "adminPassword": "Long-enough-Pw-1"}, stack="dev") == []
    assert warnings({"adminPassword": "Long-enough-Pw-1"}) == []  # prod refuses the weak ones outright
