"""The offline preview and the real CLI agree on which stacks they accept.

Each case is a stack the CLI itself writes (`pulumi stack init`, `pulumi config set [--secret]`);
the offline reader then reads that same stack file. The CLI must refuse what the offline preview
refuses, and the offline preview must never accept what the CLI refuses.
"""

from __future__ import annotations

import pytest

from components.config.schema import SECRET_KEYS, ConfigError
from e2e.harness import PASSPHRASE, Workspace
from offline.engine import run_program
from offline.program import program
from offline.stack_config import StackFileError, load_stack_config
from tests.config.test_config import EVERYDAY

pytestmark = pytest.mark.engine

ARTIFACT = {"productArtifactUrl": "s3://example-wso2-artifacts/wso2as-5.3.0.zip", "selfSignedCertificate": "true"}
# name -> (plain keys, secret keys); every stack also has aws:region eu-west-1.
CASES = {
    "only-region": ({}, {}),
    "minimal": (ARTIFACT, {}),
    "secrets-as-the-readme-sets-them": (ARTIFACT, {"adminPassword": "Adm1n-pass-2026", "dbPassword": "Db-pass-123"}),
    "admin-password-in-plain-text": ({**ARTIFACT, "adminPassword": "Adm1n-pass-2026"}, {}),
    "admin-password-too-long": (ARTIFACT, {"adminPassword": "x" * 31}),
    "worker-count-zero": ({**ARTIFACT, "workerCount": "0"}, {}),
    "worker-count-not-a-number": ({**ARTIFACT, "workerCount": "two"}, {}),
    "region-typo": ({**ARTIFACT, "aws:region": "eu-west1"}, {}),
    "misspelt-key": ({**ARTIFACT, "workerCont": "3"}, {}),
    "bad-cidr": ({**ARTIFACT, "managementAllowedCidrs": "10.0.0.0/33"}, {}),
}


@pytest.fixture(scope="module")
def parity_workspace(tmp_path_factory, moto_url) -> Workspace:
    workspace = Workspace(tmp_path_factory.mktemp("parity"), moto_url=moto_url)
    del workspace.env["AWS_REGION"]  # the program's fallback for aws:region; the offline side has none either
    return workspace


@pytest.fixture(autouse=True)
def _offline_environment(monkeypatch):
    monkeypatch.setenv("PULUMI_CONFIG_PASSPHRASE", PASSPHRASE)
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)


def _offline_accepts(workspace: Workspace, stack: str) -> tuple[bool, str]:
    """Reads the stack file the CLI wrote, decrypting its secrets with the stack's passphrase."""
    try:
        loaded = load_stack_config(stack, workspace.project)
        run_program(program, loaded.values, secret_keys=loaded.secret_keys, project=loaded.project, stack=stack)
    except (StackFileError, ConfigError) as refusal:
        return False, str(refusal)
    return True, ""


def _stack_file(workspace: Workspace, stack: str, plain: dict, secrets: dict) -> None:
    workspace.new_stack(stack, secrets=secrets)
    for key, value in {"aws:region": "eu-west-1", **plain}.items():
        workspace.set_config(stack, key, value)


@pytest.mark.parametrize("committed", ["dev", "prod"])
def test_committed_stacks_are_accepted_by_both(parity_workspace: Workspace, committed: str):
    workspace = parity_workspace
    workspace.pulumi("stack", "init", committed, "--secrets-provider", "passphrase")
    cli = workspace.preview(committed, check=False)
    offline, why = _offline_accepts(workspace, committed)
    assert (cli.code, offline) == (0, True), (cli.output[-3000:], why)


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_cli_and_the_offline_preview_agree(parity_workspace: Workspace, case: str):
    workspace = parity_workspace
    plain, secrets = CASES[case]
    _stack_file(workspace, case, plain, secrets)

    cli = workspace.preview(case, check=False)
    offline, why = _offline_accepts(workspace, case)

    assert (cli.code == 0) == offline, (case, cli.output[-3000:], why)
    if not offline:
        assert "\n" not in why.strip(), why  # one problem, one line
        assert "Traceback" not in cli.output


def test_the_offline_reader_gives_the_clis_words_for_a_missing_key(parity_workspace: Workspace):
    workspace = parity_workspace
    _stack_file(workspace, "words", {}, {})
    cli = workspace.preview("words", check=False)
    offline, why = _offline_accepts(workspace, "words")
    assert not offline and why in cli.output, (why, cli.output[-2000:])


@pytest.mark.parametrize("index", range(len(EVERYDAY)), ids=[",".join(o) for o, _ in EVERYDAY])
def test_the_everyday_config_cases_are_judged_alike(parity_workspace: Workspace, index: int):
    """tests/config's everyday table, each case the dev stack with its overrides, set with the CLI."""
    workspace = parity_workspace
    overrides, expected = EVERYDAY[index]
    stack = f"everyday-{index}"
    (workspace.project / f"Pulumi.{stack}.yaml").write_text((workspace.project / "Pulumi.dev.yaml").read_text())
    workspace.pulumi("stack", "init", stack, "--secrets-provider", "passphrase")
    for key, value in overrides.items():
        if value is None:
            workspace.pulumi("config", "rm", "--stack", stack, key)
        elif key in SECRET_KEYS:
            workspace.pulumi("config", "set", "--secret", "--stack", stack, key, value)
        else:
            workspace.set_config(stack, key, value)

    cli = workspace.preview(stack, check=False)
    offline, why = _offline_accepts(workspace, stack)

    assert (cli.code == 0, offline) == (expected == [], expected == []), (cli.output[-3000:], why)
