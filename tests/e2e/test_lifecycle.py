"""`pulumi preview`, `up`, a second `up` and `destroy` of the committed stacks on the real CLI."""

from __future__ import annotations

import json
import re

import pytest

from e2e.harness import Workspace
from offline.program import run_stack

pytestmark = pytest.mark.engine

# As the README sets them: `pulumi config set --secret adminPassword` (and dbPassword).
README_SECRETS = {"adminPassword": "Adm1n-e2e-pass", "dbPassword": "Db-e2e-pass-1"}
PACKAGES = ("aws", "random", "tls")


def _offline_outputs(stack: str) -> set[str]:
    return set(
        run_stack(
            stack,
            {k: v for k, v in README_SECRETS.items()},
            secret_keys=tuple(f"wso2-cluster:{k}" for k in README_SECRETS),
        ).outputs
    )


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_stack_previews_deploys_stays_unchanged_and_destroys(workspace: Workspace, stack: str):
    workspace.new_stack(stack, secrets=README_SECRETS)

    preview = workspace.preview(stack)
    assert "to create" in preview.stdout

    workspace.up(stack)
    outputs = workspace.outputs(stack)
    assert set(outputs) == _offline_outputs(stack)  # the same contract as the offline engine's
    assert README_SECRETS["adminPassword"] not in json.dumps(outputs)
    created = workspace.cloud("aws")
    workers = [
        rid
        for rid, r in created.items()
        if r["type"] == "aws:ec2/instance:Instance" and r["outputs"]["tags"]["wso2:role"] == "worker"
    ]
    assert sorted(workers) == sorted(outputs["workerInstanceIds"])

    second = workspace.up(stack, "--expect-no-changes", check=False)
    assert second.code == 0, second.output[-3000:]

    # the attachments' drain hook lives in the program: the CLI will not destroy without it
    hookless = workspace.pulumi("destroy", "--stack", stack, "--yes", check=False)
    assert hookless.code != 0 and "You must run with the `--run-program` flag" in hookless.output
    assert workspace.cloud("aws")  # nothing was deleted

    if stack == "prod":  # protected (Pulumi's protect and deletion protection), as documented
        refused = workspace.pulumi("destroy", "--stack", stack, "--yes", "--run-program", check=False)
        assert refused.code != 0 and "protected" in refused.output
        assert workspace.cloud("aws")  # nothing was deleted
        workspace.set_config(stack, "dbDeletionProtection", False)
        workspace.set_config(stack, "loadBalancerDeletionProtection", False)
        workspace.up(stack)

    destroyed = workspace.pulumi("destroy", "--stack", stack, "--yes", "--run-program")
    # every registration drained (moto answers a deregistered target `unused` at once)
    drained = set(re.findall(r"drained (i-[0-9a-f]+) from target group (\S+)", destroyed.output))
    assert {instance for instance, _ in drained} == {outputs["managerInstanceId"], *outputs["workerInstanceIds"]}
    assert len(drained) == len(outputs["workerInstanceIds"]) * (2 if stack == "dev" else 1) + 1, drained
    assert {package: workspace.cloud(package) for package in PACKAGES} == {package: {} for package in PACKAGES}


def test_scale_out_touches_no_existing_node(workspace: Workspace):
    workspace.new_stack("dev")
    workspace.up("dev")
    workspace.set_config("dev", "workerCount", 3)

    plan = json.loads(workspace.preview("dev", "--json").stdout)

    touched = {(s["op"], s["urn"].rsplit("::", 1)[1]) for s in plan["steps"] if s["op"] != "same"}
    node_parts = ("-manager-", "-worker-1-", "-worker-2-")
    assert not {t for t in touched if any(part in t[1] + "-" for part in node_parts)}
    assert {op for op, name in touched if "-worker-3-" in name + "-"} == {"create"}


def test_a_change_that_would_replace_the_database_stops_the_plan_in_one_line(workspace: Workspace):
    workspace.new_stack("dev")
    workspace.up("dev")
    workspace.set_config("dev", "dbUsername", "otheradmin")

    refused = workspace.preview("dev", check=False)

    assert refused.code != 0
    errors = [line.strip() for line in refused.output.splitlines() if line.strip().startswith("error:")]
    assert set(errors) == {
        "error: pulumi-python:dynamic/wso2:DatabaseGuard resource 'dev-database-guard': property username value "
        "{otheradmin} has a problem: changing wso2-cluster:dbUsername from wso2admin to otheradmin would replace "
        "the database and lose its data; set wso2-cluster:dbAllowReplacement true to allow it (take a snapshot first)"
    }
    assert "Traceback" not in refused.output
