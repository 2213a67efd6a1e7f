"""Benchmarks of the program under the offline engine: `make bench` (or `python -m bench`).

Prints a Markdown report for the dev and prod stacks:
  1. program evaluation time for 2, 10 and 50 workers (median of --runs) and the marginal cost
     per worker, from the same run;
  2. user-data bytes per node: raw, gzipped (what EC2's 16,384-byte limit counts), base64;
  3. the modelled deployment critical path, to every node and overall;
  4. the scale-out blast radius, N -> N+1 workers;
  5. determinism of the rendered user data;
  6. the modelled time from a first `pulumi up` to a serving cluster, with and without the
     health gates, for the stack and for 50 workers;
  7. a change that replaces every node, modelled: per batch and in all; the service
     unavailability rolling (as the program does) and all at once; the requests dropped, with
     the drain and without;
and, once, the JVM heap the nodes get on common instance types.
"""

from __future__ import annotations

import argparse
import functools
import platform
import statistics
import sys
import time

from bench.critical_path import CREATE_SECONDS, DEFAULT_SECONDS, longest_chains, overall
from bench.scale import INSTANCE, added_resources, changed_resources, user_data_by_node
from bench.serving import (
    BOOT_PHASES,
    REPLACE_SECONDS,
    REQUEST_RATE,
    drains,
    replace_every_node,
    requests_dropped,
    time_to_serving,
)
from components.aws_facts import instance_memory_mib
from offline.engine import Inventory
from offline.program import run_stack
from userdata import EC2_USER_DATA_LIMIT
from userdata.jvm import default_heap_mib
from userdata.unpack import unpack_user_data

WORKER_COUNTS = (2, 10, 50)


def _node_name(instance) -> str:
    return instance.inputs["tags"]["Name"]


def timed_runs(stack: str, workers: int, runs: int) -> tuple[float, Inventory]:
    seconds = []
    inventory = None
    for _ in range(runs):
        start = time.perf_counter()
        inventory = run_stack(stack, {"workerCount": workers})
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds), inventory


def evaluation_time(stack: str, runs: int) -> list[str]:
    rows = ["| workers | resources | median seconds | runs |", "| ---: | ---: | ---: | ---: |"]
    medians = {}
    for workers in WORKER_COUNTS:
        median, inventory = timed_runs(stack, workers, runs)
        medians[workers] = median
        rows.append(f"| {workers} | {len(inventory.resources)} | {median:.3f} | {runs} |")
    lo, hi = WORKER_COUNTS[0], WORKER_COUNTS[-1]
    marginal = (medians[hi] - medians[lo]) / (hi - lo)
    rows.append("")
    rows.append(f"Marginal cost per worker ({lo} -> {hi} workers): {1000 * marginal:.1f} ms.")
    return rows


def user_data_sizes(inventory: Inventory) -> list[str]:
    rows = [
        "| node | raw cloud-config bytes | gzipped bytes (sent) | base64 chars | % of 16,384 |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for resource in sorted(inventory.of_type(INSTANCE), key=lambda r: r.name):
        b64 = resource.inputs["userDataBase64"]
        unpacked = unpack_user_data(b64)
        sent = len(unpacked.payload)
        rows.append(
            f"| {_node_name(resource)} | {len(unpacked.cloud_config.encode())} | {sent} | {len(b64)} | "
            f"{100 * sent / EC2_USER_DATA_LIMIT:.1f} |"
        )
    return rows


def critical_path(inventory: Inventory) -> list[str]:
    chains = longest_chains(inventory)
    rows = ["| to | modelled seconds | chain (creation seconds) |", "| --- | ---: | --- |"]
    for resource in sorted(inventory.of_type(INSTANCE), key=lambda r: r.name):
        chain = chains[resource.urn]
        rows.append(f"| {_node_name(resource)} | {chain.seconds:.0f} | {chain.describe()} |")
    whole = overall(inventory)
    rows.append(f"| **whole stack** ({whole.resources[-1].name}) | {whole.seconds:.0f} | {whole.describe()} |")
    return rows


def blast_radius(stack: str, workers: int) -> list[str]:
    before = run_stack(stack, {"workerCount": workers})
    after = run_stack(stack, {"workerCount": workers + 1})
    changes = changed_resources(before, after)
    rows = [
        f"{workers} -> {workers + 1} workers: {len(added_resources(before, after))} resources added, "
        f"{len(changes)} existing resources with changed inputs."
    ]
    for change in changes:
        rows.append(f"- `{change.urn.split('::')[-1]}` ({change.type}): {', '.join(change.keys)}")
    return rows


def determinism(stack: str) -> list[str]:
    first = user_data_by_node(run_stack(stack))
    second = user_data_by_node(run_stack(stack))
    same = first == second
    return [f"Two runs of `{stack}`: user data of {len(first)} nodes " + ("byte-identical." if same else "DIFFERS.")]


@functools.lru_cache(maxsize=None)
def stack_with(stack: str, workers: int | None) -> tuple[Inventory, int]:
    """The stack as its file says (workers None) or with that many workers, and its worker count;
    sections 6 and 7 read the same runs."""
    inventory = run_stack(stack, {"workerCount": workers} if workers else None)
    return inventory, len(inventory.of_type(INSTANCE)) - 1


def serving_time(stack: str) -> list[str]:
    rows = [
        "| workers | with health gates (s) | without (s) | growth | database ready (s) | serving after it (s) "
        "| last node running, with / without (s) |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for workers in (None, 50):
        inventory, count = stack_with(stack, workers)
        gated, free = time_to_serving(inventory), time_to_serving(inventory, with_gates=False)
        rows.append(
            f"| {count} | {gated.seconds:.0f} | {free.seconds:.0f} | "
            f"{100 * (gated.seconds / free.seconds - 1):+.1f}% | {gated.database_ready:.0f} | "
            f"+{gated.seconds - gated.database_ready:.0f} | "
            f"{gated.last_node_running:.0f} / {free.last_node_running:.0f} |"
        )
    return rows


def unavailability(stack: str) -> list[str]:
    rows = [
        "| workers | batches | per batch (s) | whole change (s) "
        "| service down, rolling (s) | service down, all at once (s) "
        f"| requests dropped at {REQUEST_RATE:.0f}/s, drained / not (model) |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for workers in (None, 1, 50):
        inventory, count = stack_with(stack, workers)
        rolling, at_once = replace_every_node(inventory)
        dropped = requests_dropped(inventory, drains(inventory)), requests_dropped(inventory, drained=False)
        rows.append(
            f"| {count} | {rolling.batches} | {rolling.console_unavailable:.0f} | {rolling.duration:.0f} | "
            f"{rolling.service_unavailable:.0f} | {at_once.service_unavailable:.0f} | "
            f"{dropped[0]:.0f} / {dropped[1]:.0f} |"
        )
    return rows


HEAP_TYPES = ("t3.medium", "t3.large", "m7i.large", "m7i.xlarge", "m7i.2xlarge", "r7i.2xlarge", "m7g.4xlarge")


def heaps() -> list[str]:
    rows = [
        "| instance type | memory (MiB) | heap, -Xms = -Xmx (MiB) | heap / memory |",
        "| --- | ---: | ---: | ---: |",
    ]
    for instance_type in HEAP_TYPES:
        memory = instance_memory_mib(instance_type)
        heap = default_heap_mib(memory)
        rows.append(f"| {instance_type} | {memory} | {heap} | {100 * heap / memory:.0f}% |")
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench", description="Benchmarks of the program (offline).")
    parser.add_argument("--runs", type=int, default=5, help="runs per timing, the median is reported (default 5)")
    parser.add_argument("--stacks", nargs="+", default=["dev", "prod"])
    args = parser.parse_args(argv)

    print(
        f"Machine: {platform.machine()}, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}, {platform.processor() or 'cpu n/a'}"
    )
    print("\nCreation-time model of the critical path (assumed, not measured):\n")
    print("| resource type | seconds | source |\n| --- | ---: | --- |")
    for type_token, (seconds, source) in CREATE_SECONDS.items():
        print(f"| `{type_token}` | {seconds:.0f} | {source} |")
    print(f"| any other AWS resource | {DEFAULT_SECONDS:.0f} | a control-plane API call |")
    print("| random, tls, pulumi (stash, health gates' create) | 0 | computed by a provider, no cloud call |")
    print(
        "\nA node's boot (assumed, not measured; the manager makes the schemas, workers start once they and "
        "the admin account exist):\n"
    )
    print("| phase | seconds | source |\n| --- | ---: | --- |")
    print(f"| replace an instance | {REPLACE_SECONDS} | terminate (delete before replace) and launch |")
    for name, (seconds, source) in BOOT_PHASES.items():
        print(f"| {name} | {seconds:.0f} | {source} |")
    for stack in args.stacks:
        print(f"\n## Stack `{stack}`\n")
        print("### 1. Program evaluation time under mocks\n")
        print("\n".join(evaluation_time(stack, args.runs)))
        inventory = run_stack(stack)
        print("\n### 2. User data per node\n")
        print("\n".join(user_data_sizes(inventory)))
        print("\n### 3. Modelled deployment critical path\n")
        print("\n".join(critical_path(inventory)))
        print("\n### 4. Scale-out blast radius\n")
        workers = len(inventory.of_type(INSTANCE)) - 1
        print("\n".join(blast_radius(stack, workers)))
        print("\n### 5. Determinism\n")
        print("\n".join(determinism(stack)))
        print("\n### 6. Modelled time to a serving cluster (first deploy)\n")
        print("\n".join(serving_time(stack)))
        print("\n### 7. Modelled unavailability during a change that replaces every node\n")
        print("\n".join(unavailability(stack)))
        sys.stdout.flush()
    print("\n## JVM heap per instance type (before: 1024 MiB on every type)\n")
    print("\n".join(heaps()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
