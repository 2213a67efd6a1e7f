"""python -m e2e.run --stack dev: deploy a throw-away copy of a stack, verify it, destroy it.

For a real AWS account (the credentials of the environment): a new stack named
`<stack>-e2e-<random>` gets the config of `Pulumi.<stack>.yaml` (its secrets too, re-encrypted
for the new stack), `pulumi up` deploys it through the Automation API, `python -m verify` checks
it, and `pulumi destroy` and `pulumi stack rm` remove it whatever happened. A prod-like stack
(deletion protection on the database or the load balancer) is refused: this is for stacks that
may be thrown away. Exit status: 0 all went well, 1 a step failed, 2 refused before anything was
made. The same code runs in the tests against the cloud double (tests/e2e/test_real_account_path.py).
"""

from __future__ import annotations

import argparse
import json
import secrets
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Optional, Sequence

from pulumi import automation as auto

from components.config.load import parse_config
from components.config.schema import ConfigError
from offline.stack_config import ROOT, StackFileError, load_stack_config

EXIT_OK, EXIT_FAILED, EXIT_REFUSED = 0, 1, 2


def throwaway_name(stack: str) -> str:
    return f"{stack}-e2e-{secrets.token_hex(3)}"


def refusal(stack: str, work_dir: Path) -> Optional[str]:
    """Why `stack` may not be used for a throw-away deployment, or None."""
    try:
        loaded = load_stack_config(stack, work_dir)
        config = parse_config(loaded.values, project=loaded.project, stack=stack)
    except (StackFileError, ConfigError) as error:
        return f"stack {stack}: {str(error).splitlines()[0]}"
    if config.prod_like:
        return (
            f"stack {stack} is prod-like (dbDeletionProtection or loadBalancerDeletionProtection is true): "
            "e2e deploys only stacks that may be thrown away"
        )
    return None


def source_config(stack: str, work_dir: Path) -> dict[str, auto.ConfigValue]:
    """The stack's config, secrets decrypted by the CLI, from the stack in the backend; a stack
    file that is not (yet) a stack there has no secrets, and its values are taken as they are."""
    try:
        return auto.select_stack(stack_name=stack, work_dir=str(work_dir)).get_all_config()
    except auto.errors.StackNotFoundError:
        loaded = load_stack_config(stack, work_dir)
        return {key: auto.ConfigValue(loaded.values[key]) for key in loaded.stack_keys}


def copy_config(stack: auto.Stack, values: dict[str, auto.ConfigValue]) -> None:
    """Set `values` on `stack`; a list arrives as JSON and is set item by item (`--path`), so the
    stack holds a list, as Pulumi.yaml's `type: array` requires."""
    for key, config_value in values.items():
        try:
            parsed = json.loads(config_value.value)
        except (TypeError, json.JSONDecodeError):
            parsed = None
        if isinstance(parsed, list):
            for index, item in enumerate(parsed):
                stack.set_config(f"{key}[{index}]", auto.ConfigValue(str(item), config_value.secret), path=True)
        else:
            stack.set_config(key, config_value)


def deploy_and_verify(stack: auto.Stack, verify: bool, work_dir: Path) -> int:
    try:
        stack.up(on_output=print)
    except auto.errors.CommandError as error:
        print(f"e2e: pulumi up failed: {_last_line(error)}", file=sys.stderr)
        return EXIT_FAILED
    if not verify:
        return EXIT_OK
    outputs = {key: value.value for key, value in stack.outputs().items()}
    with tempfile.NamedTemporaryFile("w", suffix=".json") as saved:
        json.dump(outputs, saved)
        saved.flush()
        checked = subprocess.run([sys.executable, "-m", "verify", "--outputs", saved.name], cwd=work_dir)
    if checked.returncode != 0:
        print(f"e2e: verify found a problem (exit {checked.returncode})", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def remove(stack: auto.Stack) -> bool:
    try:
        stack.destroy(on_output=print, run_program=True)  # the nodes drain in the program's delete hooks
        stack.workspace.remove_stack(stack.name)
    except auto.errors.CommandError as error:
        print(f"e2e: destroying {stack.name} failed, destroy it by hand: {_last_line(error)}", file=sys.stderr)
        return False
    print(f"e2e: stack {stack.name} destroyed and removed")
    return True


def _last_line(error: Exception) -> str:
    lines = [line for line in str(error).splitlines() if line.strip()]
    return lines[-1].strip() if lines else type(error).__name__


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m e2e.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--stack", default="dev", help="the stack file to copy (default: dev)")
    parser.add_argument(
        "--verify",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="run python -m verify on the deployed stack (default: on)",
    )
    parser.add_argument("--work-dir", type=Path, default=ROOT, help="the project directory (default: this one)")
    args = parser.parse_args(argv)

    problem = refusal(args.stack, args.work_dir)
    if problem:
        print(f"e2e: {problem}", file=sys.stderr)
        return EXIT_REFUSED
    values = source_config(args.stack, args.work_dir)
    stack = auto.create_stack(stack_name=throwaway_name(args.stack), work_dir=str(args.work_dir))
    print(f"e2e: stack {stack.name} (a copy of {args.stack})")
    try:
        copy_config(stack, values)
        result = deploy_and_verify(stack, args.verify, args.work_dir)
    finally:
        removed = remove(stack)
    return result if removed else EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
