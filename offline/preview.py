"""Offline preview: run the real program for a stack against the built-in mock engine.

    python -m offline.preview [--stack dev] [--out build] [--json] [--product-zip ZIP | --product-home DIR]

Prints, in lines of at most 120 characters: the warnings about the stack's posture, the changes
since the previous preview (offline/changes.py), the declared resources by component, the nodes,
the security-group and listener rules (offline/summary.py), the stack outputs with what AWS
assigns shown as unknown (offline/known.py), and the operations each node gets; or all of it as
JSON. Writes build/<stack>/ with each node's user data as EC2 receives it, the decoded
cloud-config, the files it installs and, given a product, the configuration files after
apply-config; the outputs (outputs.json) and the declared inputs (plan.json).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import textwrap
import zipfile
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Optional

from components.config.schema import ConfigError
from offline.changes import SNAPSHOT, Change, changes, read_snapshot, snapshot
from offline.engine import DeclaredResource, Inventory
from offline.known import UNKNOWN, as_previewed, computed_strings
from offline.program import run_stack
from offline.stack_config import ROOT, StackFileError, load_stack_config
from offline.summary import NodeRow, as_json, firewall_rows, listener_rows, node_rows, node_rows_with_instances
from offline.waves import launch_waves
from userdata import EC2_USER_DATA_LIMIT
from userdata.settings import ALL_SECRETS
from userdata.unpack import UnpackedUserData, unpack_user_data

INSTANCE = "aws:ec2/instance:Instance"
APPLY_CONFIG = "/opt/wso2-cluster/bin/apply-config"
# Stand-ins for the values a node fetches from Secrets Manager at boot.
PLACEHOLDER_SECRETS = {name: f"PLACEHOLDER-{name}" for name in ALL_SECRETS}
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
WIDTH = 120  # the longest line the preview prints
MARKS = (("+", "create"), ("~", "update"), ("+-", "replace"), ("-", "delete"))  # as Pulumi marks them


@dataclass(frozen=True)
class Node:
    row: NodeRow  # name, role, type, AZ, subnet, IP (offline/summary.py)
    instance_id: str
    user_data_base64: str  # exactly what the instance declares, i.e. what EC2 receives
    user_data: UnpackedUserData

    @property
    def name(self) -> str:
        return self.row.name


def nodes_of(inventory: Inventory) -> list[Node]:
    """The nodes, the manager first, with their user data unpacked."""
    return [
        Node(row, instance.id, instance.inputs["userDataBase64"], unpack_user_data(instance.inputs["userDataBase64"]))
        for row, instance in node_rows_with_instances(inventory)
    ]


def _component_of(resource: DeclaredResource, by_urn: dict[str, DeclaredResource]) -> str:
    parent = by_urn.get(resource.parent)
    while parent is not None and parent.custom:
        parent = by_urn.get(parent.parent)
    return parent.type if parent is not None else "(stack)"


def resource_counts(inventory: Inventory) -> dict[str, dict[str, int]]:
    """Cloud resources by component, then by type."""
    by_urn = {r.urn: r for r in inventory.resources}
    groups: dict[str, Counter] = defaultdict(Counter)
    for resource in inventory.resources:
        if resource.custom:
            groups[_component_of(resource, by_urn)][resource.type] += 1
    return {component: dict(sorted(groups[component].items())) for component in sorted(groups)}


def emit(line: str = "") -> None:
    """Print a line of at most WIDTH characters: a longer one wraps at spaces, indented under its start."""
    if len(line) > WIDTH:
        indent = " " * (len(line) - len(line.lstrip()) + 4)
        line = "\n".join(
            textwrap.wrap(line, WIDTH, subsequent_indent=indent, break_long_words=False, break_on_hyphens=False)
        )
    print(line)


def print_warnings(inventory: Inventory) -> None:
    if inventory.warnings:
        emit("Warnings:")
        for warning in inventory.warnings:
            emit(f"  warning: {warning}")
        emit()


def print_changes(found: Optional[list[Change]], waves: list[list[str]], total: int) -> None:
    if found is None:
        emit(f"Changes: no previous preview of this stack under build/: every resource is new (+ {total})")
        return
    if not found:
        emit("Changes: none since the previous preview")
        return
    counts = Counter(change.mark for change in found)
    emit(
        "Changes since the previous preview: "
        + ", ".join(f"{counts[mark]} to {verb} ({mark})" for mark, verb in MARKS if counts[mark])
    )
    alike: dict[tuple, list[str]] = defaultdict(list)  # a change many resources share is one line
    for change in found:
        alike[(change.mark, change.type, change.keys)].append(change.name)
    for (mark, type_token, keys), names in alike.items():
        shown = ", ".join(names) if len(names) <= 3 else f"{names[0]} ... {names[-1]} ({len(names)})"
        emit(f"  {mark:<2} {type_token} {shown}" + (f": {', '.join(keys)}" if keys else ""))
    replaced = {change.name for change in found if change.type == INSTANCE and change.mark == "+-"}
    if replaced:
        # an instance's logical name is "<stack label>-<node>-instance"
        order = [
            [node for node in wave if any(name.endswith(f"-{node}-instance") for name in replaced)] for wave in waves
        ]
        emit("  Nodes replaced, in rolling order: " + " | ".join(", ".join(wave) for wave in order if wave))


def print_plan(inventory: Inventory, nodes: list[Node]) -> None:
    counts = resource_counts(inventory)
    total = sum(sum(types.values()) for types in counts.values())
    emit(f"Resources: {total} cloud resources in {len(counts)} components")
    for component, types in counts.items():
        emit(f"  {component}  ({sum(types.values())})")
        for type_token, count in types.items():
            emit(f"    {count:3d}  {type_token}")

    emit()
    emit(f"Nodes: {len(nodes)} (user data as sent to EC2, against its {EC2_USER_DATA_LIMIT}-byte limit)")
    emit(f"  {'name':<16} {'role':<7} {'type':<12} {'AZ':<11} {'subnet':<15} {'private IP*':<15} user data")
    for node in nodes:
        row, sent = node.row, len(node.user_data.payload)
        emit(
            f"  {node.name:<16} {row.role:<7} {row.instance_type:<12} {row.availability_zone or '-':<11} "
            f"{row.subnet:<15} {row.private_ip:<15} {sent} B ({100 * sent / EC2_USER_DATA_LIMIT:.1f}%)"
        )
    emit("  * a stand-in: AWS assigns the address when the node's network interface is created; the user data")
    emit("    under build/ is rendered with it")

    emit()
    emit("Security-group rules:")
    for rule in firewall_rows(inventory):
        emit(f"  {rule.group:<16} {rule.direction:<3} {rule.port:>5}  {rule.peer:<18} {rule.description}")
    emit("Listener rules (the first rule that matches, by priority; else the default):")
    for rule in listener_rows(inventory):
        conditions = f"{rule.conditions} " if rule.conditions else ""
        emit(f"  {rule.listener:<9} {rule.priority:>7}  {conditions}-> {rule.action}")

    emit()
    emit(f"Outputs ({UNKNOWN}: AWS assigns it, and `pulumi preview` shows it as unknown):")
    for key, value in as_previewed(inventory.outputs, computed_strings(inventory)).items():
        print_value(key, value, "  ")


def print_value(key: str, value: object, indent: str) -> None:
    """One output: a scalar on its line, a mapping key by key, a list of unknowns counted."""
    if isinstance(value, dict):
        emit(f"{indent}{key}:")
        for inner_key, inner in value.items():
            print_value(inner_key, inner, indent + "  ")
    elif isinstance(value, list) and value and all(item == UNKNOWN for item in value):
        emit(f"{indent}{key}: {len(value)} x {UNKNOWN}")
    else:
        text = json.dumps(value) if not isinstance(value, str) else value
        line = f"{indent}{key}: {text}"
        if len(line) > WIDTH:  # a long URL keeps its own line, whole
            emit(f"{indent}{key}:")
            line = f"{indent}  {text}"
        emit(line)


def print_operations(inventory: Inventory, nodes: list[Node], stack: str) -> None:
    """Per node: the log groups its CloudWatch agent ships to, and the alarms that watch it. Nodes
    whose operations differ only by their name and instance are shown once."""
    parameters = {p.inputs["name"]: p.inputs["value"] for p in inventory.of_type("aws:ssm/parameter:Parameter")}
    emit()
    emit("Operations per node (log groups it ships to, one stream per instance id; alarms on it):")
    shown: dict[tuple[str, ...], str] = {}
    for node in nodes:
        settings = json.loads(node.user_data.files["/opt/wso2-cluster/node.json"].content)
        agent = json.loads(parameters[settings["logAgentParameter"]])
        lines = [
            f"    log    {entry['log_group_name']} <- {entry['file_path']}"
            for entry in agent["logs"]["logs_collected"]["files"]["collect_list"]
        ]
        alarms = [
            a
            for a in inventory.of_type(ALARM)
            if (a.inputs.get("dimensions") or {}).get("InstanceId") == node.instance_id
        ]
        own = node.name.removeprefix(f"{stack}-")  # "worker-1": the alarms' texts name it
        for alarm in sorted(alarms, key=lambda a: a.inputs["metricName"]):  # registration order varies
            ec2_actions = [a.rsplit(":", 1)[1] for a in alarm.inputs["alarmActions"] if ":automate:" in a]
            then = f" -> {', '.join(ec2_actions)}" if ec2_actions else ""
            lines.append(f"    alarm  {alarm.inputs['metricName']}: {alarm.inputs['alarmDescription']}{then}")
        pattern = tuple(line.replace(own, "<node>") for line in lines)
        if pattern in shown:
            emit(f"  {node.name}: the same as {shown[pattern]}, for itself")
            continue
        shown[pattern] = node.name
        emit(f"  {node.name}")
        for line in lines:
            emit(line)


def write_build(inventory: Inventory, nodes: list[Node], build_dir: Path) -> None:
    if build_dir.exists():
        shutil.rmtree(build_dir)
    build_dir.mkdir(parents=True)
    (build_dir / SNAPSHOT).write_text(json.dumps(snapshot(inventory), sort_keys=True) + "\n")
    for node in nodes:
        node_dir = build_dir / node.name
        node_dir.mkdir()
        (node_dir / "user-data.base64").write_text(node.user_data_base64)
        (node_dir / "cloud-config.yaml").write_text(node.user_data.cloud_config)
        node.user_data.write_tree(node_dir / "files")
    (build_dir / "outputs.json").write_text(json.dumps(inventory.outputs, indent=2, sort_keys=True) + "\n")


def product_conf_from_zip(product_zip: Path, into: Path) -> Path:
    """Extract only repository/conf of a product zip; return the product home."""
    with zipfile.ZipFile(product_zip) as archive:
        members = [m for m in archive.namelist() if "/repository/conf/" in m]
        if not members:
            raise SystemExit(f"preview: {product_zip}: no repository/conf/ inside; is it a WSO2 product zip?")
        archive.extractall(into, members)
        return into / members[0].split("/repository/conf/")[0]


def apply_product_config(nodes: list[Node], product_home: Path, build_dir: Path) -> None:
    secrets = build_dir / "placeholder-secrets.json"
    secrets.write_text(json.dumps(PLACEHOLDER_SECRETS, indent=2, sort_keys=True) + "\n")
    for node in nodes:
        home = build_dir / node.name / "product"
        shutil.copytree(product_home / "repository" / "conf", home / "repository" / "conf")
        script = build_dir / node.name / "files" / APPLY_CONFIG.lstrip("/")
        result = subprocess.run(
            [sys.executable, str(script), "--product-home", str(home), "--secrets", str(secrets)],
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            raise SystemExit(f"preview: {node.name}: {result.stderr.strip() or result.stdout.strip()}")
        print(f"  {node.name}: configured {home / 'repository' / 'conf'}")


def _product_problem(product_zip: Optional[Path], product_home: Optional[Path]) -> Optional[str]:
    """What is wrong with --product-zip/--product-home, checked before anything is printed."""
    if product_zip is not None and not zipfile.is_zipfile(product_zip):
        return f"--product-zip {product_zip}: no such zip file"
    if product_home is not None and not (product_home / "repository" / "conf").is_dir():
        return f"--product-home {product_home}: no repository/conf inside; is it an unpacked WSO2 product?"
    return None


def preview_document(inventory: Inventory, stack: str, found: Optional[list[Change]]) -> dict:
    """What --json prints: the text preview's content, for machines."""
    return {
        "stack": stack,
        "warnings": inventory.warnings,
        "changes": None if found is None else [asdict(change) for change in found],
        "resources": resource_counts(inventory),
        "nodes": as_json(node_rows(inventory)),
        "securityGroupRules": as_json(firewall_rows(inventory)),
        "listenerRules": as_json(listener_rows(inventory)),
        "outputs": as_previewed(inventory.outputs, computed_strings(inventory)),
    }


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="preview", description=__doc__.split("\n\n")[0])
    parser.add_argument("--stack", default="dev", help="stack name: reads Pulumi.<stack>.yaml (default: dev)")
    parser.add_argument("--out", type=Path, default=ROOT / "build", help="output folder (default: build/)")
    parser.add_argument("--json", action="store_true", help="print the preview as one JSON document")
    product = parser.add_mutually_exclusive_group()
    product.add_argument("--product-zip", type=Path, help="a real wso2as-5.3.0.zip: also write the configured files")
    product.add_argument("--product-home", type=Path, help="an unpacked product: also write the configured files")
    args = parser.parse_args(argv)
    product_problem = _product_problem(args.product_zip, args.product_home)
    if product_problem:
        print(f"preview: {product_problem}", file=sys.stderr)
        return 1

    try:
        stack = load_stack_config(args.stack)
        inventory = run_stack(args.stack)
    except (StackFileError, ConfigError) as error:
        print(f"preview: {args.stack}: {error}" if isinstance(error, StackFileError) else str(error), file=sys.stderr)
        return 1
    build_dir = args.out / args.stack
    previous = read_snapshot(build_dir)
    found = None if previous is None else changes(previous, snapshot(inventory))
    nodes = nodes_of(inventory)
    write_build(inventory, nodes, build_dir)
    if args.json:
        print(json.dumps(preview_document(inventory, args.stack, found), indent=2))
        return 0

    emit(f"Offline preview of stack '{args.stack}' (mock engine; no AWS calls)")
    for key in stack.placeholders:
        emit(
            f"  note: {key} is encrypted and PULUMI_CONFIG_PASSPHRASE is not set (or the stack's secrets are not "
            "passphrase-based): a placeholder that every secret key accepts stands in for it"
        )
    print_warnings(inventory)
    total = sum(1 for resource in inventory.resources if resource.custom)
    print_changes(found, launch_waves(inventory), total)
    emit()
    print_plan(inventory, nodes)
    print_operations(inventory, nodes, args.stack)
    emit()
    emit(f"Wrote {build_dir}/<node>/: user-data.base64 (as sent to EC2), cloud-config.yaml, files/")
    if args.product_zip or args.product_home:
        with tempfile.TemporaryDirectory() as scratch:
            home = product_conf_from_zip(args.product_zip, Path(scratch)) if args.product_zip else args.product_home
            apply_product_config(nodes, home, build_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
