"""Offline preview: run the real program for a stack against the built-in mock engine.

    python -m offline.preview [--stack dev] [--out build] [--product-zip ZIP | --product-home DIR]

Prints the warnings about the stack's posture, the declared resources by component, the stack
outputs, every node's user-data size, and the operations each node gets (where its logs go and
its alarms); writes build/<stack>/<node>/ with the user data as EC2 receives it, the decoded
cloud-config, the files it installs and, given a product, the configuration files after
apply-config.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from components.config.schema import ConfigError
from offline.engine import DeclaredResource, Inventory
from offline.program import run_stack
from offline.stack_config import ROOT, StackFileError, load_stack_config
from userdata import EC2_USER_DATA_LIMIT
from userdata.settings import ALL_SECRETS
from userdata.unpack import UnpackedUserData, unpack_user_data

INSTANCE = "aws:ec2/instance:Instance"
APPLY_CONFIG = "/opt/wso2-cluster/bin/apply-config"
# Stand-ins for the values a node fetches from Secrets Manager at boot.
PLACEHOLDER_SECRETS = {name: f"PLACEHOLDER-{name}" for name in ALL_SECRETS}
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"


@dataclass(frozen=True)
class Node:
    name: str
    role: str
    instance_id: str
    private_ip: str
    user_data_base64: str  # exactly what the instance declares, i.e. what EC2 receives
    user_data: UnpackedUserData


def nodes_of(inventory: Inventory) -> list[Node]:
    nodes = []
    for instance in inventory.of_type(INSTANCE):
        tags = instance.inputs.get("tags") or {}
        nodes.append(
            Node(
                name=tags.get("Name", instance.name),
                role=tags.get("wso2:role", "?"),
                instance_id=instance.id,
                private_ip=instance.outputs.get("privateIp", ""),
                user_data_base64=instance.inputs["userDataBase64"],
                user_data=unpack_user_data(instance.inputs["userDataBase64"]),
            )
        )
    return sorted(nodes, key=lambda n: (n.role != "manager", _natural(n.name)))


def _natural(name: str) -> tuple:
    head, _, tail = name.rpartition("-")
    return (head, int(tail)) if tail.isdigit() else (name, 0)


def _component_of(resource: DeclaredResource, by_urn: dict[str, DeclaredResource]) -> str:
    parent = by_urn.get(resource.parent)
    while parent is not None and parent.custom:
        parent = by_urn.get(parent.parent)
    return parent.type if parent is not None else "(stack)"


def print_plan(inventory: Inventory, nodes: list[Node], out=sys.stdout) -> None:
    by_urn = {r.urn: r for r in inventory.resources}
    groups: dict[str, Counter] = defaultdict(Counter)
    for resource in inventory.resources:
        if resource.custom:
            groups[_component_of(resource, by_urn)][resource.type] += 1
    total = sum(sum(c.values()) for c in groups.values())
    print(f"Resources: {total} cloud resources in {len(groups)} components", file=out)
    for component in sorted(groups):
        counts = groups[component]
        print(f"  {component}  ({sum(counts.values())})", file=out)
        for type_token, count in sorted(counts.items()):
            print(f"    {count:3d}  {type_token}", file=out)
    print("\nOutputs:", file=out)
    for key in sorted(inventory.outputs):
        print(f"  {key}: {json.dumps(inventory.outputs[key])}", file=out)
    print(f"\nNodes: {len(nodes)} (user data sent to EC2, against its {EC2_USER_DATA_LIMIT}-byte limit)", file=out)
    for node in nodes:
        sent = len(node.user_data.payload)
        print(
            f"  {node.name:<16} {node.role:<8} {node.private_ip:<15} "
            f"{sent:6d} bytes ({100 * sent / EC2_USER_DATA_LIMIT:4.1f}% of limit; "
            f"{len(node.user_data.cloud_config.encode())} bytes decoded)",
            file=out,
        )


def print_warnings(inventory: Inventory, out=sys.stdout) -> None:
    if inventory.warnings:
        print("Warnings:", file=out)
        for warning in inventory.warnings:
            print(f"  warning: {warning}", file=out)
        print(file=out)


def print_operations(inventory: Inventory, nodes: list[Node], out=sys.stdout) -> None:
    """Per node: the log groups its CloudWatch agent ships to, and the alarms that watch it."""
    parameters = {p.inputs["name"]: p.inputs["value"] for p in inventory.of_type("aws:ssm/parameter:Parameter")}
    print("\nOperations per node (log groups the node ships to; alarms on it):", file=out)
    for node in nodes:
        settings = json.loads(node.user_data.files["/opt/wso2-cluster/node.json"].content)
        agent = json.loads(parameters[settings["logAgentParameter"]])
        print(f"  {node.name}", file=out)
        for entry in agent["logs"]["logs_collected"]["files"]["collect_list"]:
            print(f"    log    {entry['log_group_name']} (stream {node.instance_id}) <- {entry['file_path']}", file=out)
        alarms = [
            a
            for a in inventory.of_type(ALARM)
            if (a.inputs.get("dimensions") or {}).get("InstanceId") == node.instance_id
        ]
        for alarm in sorted(alarms, key=lambda a: a.inputs["metricName"]):  # registration order varies
            ec2_actions = [a.rsplit(":", 1)[1] for a in alarm.inputs["alarmActions"] if ":automate:" in a]
            then = f" -> {', '.join(ec2_actions)}" if ec2_actions else ""
            print(f"    alarm  {alarm.inputs['metricName']}: {alarm.inputs['alarmDescription']}{then}", file=out)


def write_build(inventory: Inventory, nodes: list[Node], build_dir: Path) -> None:
    if build_dir.exists():
        shutil.rmtree(build_dir)
    build_dir.mkdir(parents=True)
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


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="preview", description=__doc__.split("\n\n")[0])
    parser.add_argument("--stack", default="dev", help="stack name: reads Pulumi.<stack>.yaml (default: dev)")
    parser.add_argument("--out", type=Path, default=ROOT / "build", help="output folder (default: build/)")
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
    print(f"Offline preview of stack '{args.stack}' (mock engine; no AWS calls)")
    for key in stack.placeholders:
        print(
            f"  note: {key} is encrypted and PULUMI_CONFIG_PASSPHRASE is not set (or the stack's secrets are not "
            "passphrase-based): a placeholder that every secret key accepts stands in for it"
        )
    nodes = nodes_of(inventory)
    print_warnings(inventory)
    print_plan(inventory, nodes)
    print_operations(inventory, nodes)
    build_dir = args.out / args.stack
    write_build(inventory, nodes, build_dir)
    print(f"\nWrote {build_dir}/<node>/: user-data.base64 (as sent to EC2), cloud-config.yaml, files/")
    if args.product_zip or args.product_home:
        with tempfile.TemporaryDirectory() as scratch:
            home = product_conf_from_zip(args.product_zip, Path(scratch)) if args.product_zip else args.product_home
            apply_product_config(nodes, home, build_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
