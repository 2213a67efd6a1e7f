"""The Secrets component on its own: which secrets it keeps, whose values it stores (the given one
or a generated one), and that every stored value is secret."""

from __future__ import annotations

import pytest

from components.secrets import DESCRIPTIONS, SAFE_SPECIALS, Secrets, SecretsArgs
from tests.components.support import run_component

SECRET = "aws:secretsmanager/secret:Secret"
VERSION = "aws:secretsmanager/secretVersion:SecretVersion"
PASSWORD = "random:index/randomPassword:RandomPassword"


def test_generated_passwords_where_none_is_given_and_only_the_secrets_the_args_ask_for():
    inventory = run_component(lambda: Secrets("s", SecretsArgs(db_master_password=None, recovery_window_in_days=0)))

    assert sorted(s.name for s in inventory.of_type(SECRET)) == [
        "s-admin-password",
        "s-db-app-password",
        "s-db-password",
    ]
    assert {s.inputs["recoveryWindowInDays"] for s in inventory.of_type(SECRET)} == {0}
    assert {s.inputs["description"] for s in inventory.of_type(SECRET)} <= set(DESCRIPTIONS.values())
    generated = {p.name: p.inputs for p in inventory.of_type(PASSWORD)}
    assert sorted(generated) == ["s-admin-password", "s-db-app-password", "s-db-password"]
    for inputs in generated.values():
        assert (inputs["length"], inputs["overrideSpecial"], inputs["minLower"], inputs["minUpper"]) == (
            24,
            SAFE_SPECIALS,
            1,
            1,
        )
    # the master password's value is stored by the database (RDS must have it first), not here
    stored = {v.name: v for v in inventory.of_type(VERSION)}
    assert sorted(stored) == ["s-admin-password-value", "s-db-app-password-value"]
    assert all("secretString" in v.secret_inputs for v in stored.values())


@pytest.mark.parametrize("svn,discovery", [(True, False), (False, True), (True, True)])
def test_given_passwords_are_stored_as_given_and_optional_secrets_follow_the_args(svn, discovery):
    args = SecretsArgs(
        db_master_password="given-master-1",
        admin_password="given-admin-1",
        svn_password="given-svn-1" if svn else None,
        discovery_key=discovery,
        tags={"team": "a"},
    )
    inventory = run_component(lambda: Secrets("s", args))

    assert [p.name for p in inventory.of_type(PASSWORD)] == ["s-db-app-password"]  # the only one not given
    expected = ["s-admin-password", "s-db-app-password", "s-db-password"]
    expected += ["s-svn-password"] if svn else []
    expected += ["s-discovery-access-key", "s-discovery-secret-key"] if discovery else []
    assert sorted(s.name for s in inventory.of_type(SECRET)) == sorted(expected)
    assert all(
        s.inputs["tags"] == {"team": "a"} and s.inputs["recoveryWindowInDays"] == 7 for s in inventory.of_type(SECRET)
    )
    stored = {v.name: v for v in inventory.of_type(VERSION)}
    assert stored["s-admin-password-value"].inputs["secretString"] == "given-admin-1"
    assert ("s-svn-password-value" in stored) == svn
    if svn:
        assert stored["s-svn-password-value"].inputs["secretString"] == "given-svn-1"
    assert all("secretString" in v.secret_inputs for v in stored.values())
