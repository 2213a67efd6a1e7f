"""The modelled time to a serving cluster, and the service's unavailability during a change that
replaces every node, from the declared resources and a model of a node's boot.

Creation times come from `critical_path.CREATE_SECONDS`; a node's boot is the phases below, each
with its source. They are assumptions, not measurements (there is no AWS account here). The same
model is applied to the program's graph with and without its health gates, so the cost of the
gates is measured under the model, not guessed.
"""

from __future__ import annotations

from dataclasses import dataclass

from bench.critical_path import longest_chains
from components.drain import DEREGISTRATION_DELAY_SECONDS
from offline.engine import Inventory
from offline.waves import launch_waves

INSTANCE = "aws:ec2/instance:Instance"
RDS_ALIAS = "aws:route53/record:Record"
LISTENER = "aws:lb/listener:Listener"
TARGET_GROUP = "aws:lb/targetGroup:TargetGroup"
ATTACHMENT = "aws:lb/targetGroupAttachment:TargetGroupAttachment"
HEALTH_GATE = "pulumi-python:dynamic/wso2:HealthGate"

# A node's boot (userdata/templates/boot.sh.j2), in seconds, and where each figure comes from.
BOOT_PHASES: dict[str, tuple[float, str]] = {
    "cloud-init": (30, "cloud-init's final stage starts wso2-boot.service tens of seconds after `running`"),
    "packages": (60, "dnf: Corretto 8 JDK, MariaDB client, unzip, CloudWatch agent (~150 MB from in-region mirrors)"),
    "product": (25, "the ~220 MB product zip from S3 in the region (~50 MB/s) and its unpacking"),
    "configure": (5, "secrets from Secrets Manager, apply-config on six files"),
    "schema": (20, "the manager runs dbscripts/mysql.sql (39 tables, 17 indexes) into two databases"),
    "start": (120, "WSO2 AS 5.3.0 (Carbon 4.4.1) reports 'Carbon server started' in 1-2 minutes on 2 vCPUs"),
    "admin": (
        30,
        "the manager's first start creates the admin account when its user realm initialises (kernel "
        "4.4.1 AbstractUserStoreManager.addInitialAdminData), before its deployers and transports start",
    ),
    "healthy": (10, "the target groups' health checks: 2 successes 5 s apart (load_balancer.HEALTH_CHECK)"),
    "drain": (DEREGISTRATION_DELAY_SECONDS, "a leaving node's deregistration delay (components/drain.py)"),
}
PREPARE = ("cloud-init", "packages", "product", "configure")  # before the node needs the database
REPLACE_SECONDS = 45 + 30  # terminate the old instance (delete before replace) and launch the new one
REQUEST_RATE = 100.0  # requests per second the service gets, for the dropped-requests model


def phase(name: str) -> float:
    return BOOT_PHASES[name][0]


@dataclass(frozen=True)
class ServingTime:
    seconds: float  # from the first `pulumi up` until every node is healthy behind the load balancer
    database_ready: float  # the private alias of the database exists (RDS is available)
    last_node_running: float  # the last instance is running


def time_to_serving(inventory: Inventory, with_gates: bool = True) -> ServingTime:
    """The first deploy under the model. `with_gates=False` leaves the health gates out of every
    chain: the program's graph as it would be without rolling changes."""
    without = frozenset() if with_gates else frozenset(r.urn for r in inventory.of_type(HEALTH_GATE))
    chains = longest_chains(inventory, without)
    running = {r.urn: chains[r.urn].seconds for r in inventory.of_type(INSTANCE)}
    database = max(chains[r.urn].seconds for r in inventory.of_type(RDS_ALIAS) if "mysql." in str(r.inputs["name"]))
    load_balancer = max(chains[r.urn].seconds for r in inventory.of_type(LISTENER))
    prepare = sum(phase(p) for p in PREPARE)
    roles = {r.urn: r.inputs["tags"]["wso2:role"] for r in inventory.of_type(INSTANCE)}
    (manager,) = [urn for urn, role in roles.items() if role == "manager"]
    # The manager makes the schemas once the database answers, then starts, creating the admin
    # account early in its start. A worker needs both (its own first start would otherwise create
    # the admin too, and one of the two would fail), not the manager's Hazelcast member
    # (tests/verify/hazelcast/test_workers_first.py) nor its finished start.
    schemas = max(running[manager] + prepare, database) + phase("schema")
    healthy = [max(schemas + phase("start"), load_balancer) + phase("healthy")]
    for urn, role in roles.items():
        if role == "worker":
            started = max(running[urn] + prepare, schemas + phase("admin")) + phase("start")
            healthy.append(max(started, load_balancer) + phase("healthy"))
    return ServingTime(max(healthy), database, max(running.values()))


@dataclass(frozen=True)
class Rollout:
    service_unavailable: float  # seconds during which no worker serves
    console_unavailable: float  # seconds during which the manager does not serve
    duration: float  # the whole change, until the last node is healthy again
    batches: int


def drains(inventory: Inventory) -> bool:
    """Whether every registration waits for its node to drain before the node stops."""
    attachments = inventory.of_type(ATTACHMENT)
    return bool(attachments) and all(a.options.get("hooks", {}).get("after_delete") for a in attachments)


def replace_seconds(inventory: Inventory) -> float:
    """One node's replacement: drained (when the program drains), terminated, launched, booted
    and healthy."""
    return (
        (phase("drain") if drains(inventory) else 0)
        + REPLACE_SECONDS
        + sum(phase(p) for p in PREPARE)
        + phase("start")
        + phase("healthy")
    )


def requests_dropped(inventory: Inventory, drained: bool, rate: float = REQUEST_RATE) -> float:
    """Requests lost while every worker is replaced once, at `rate` requests a second spread over
    the workers. Drained, none: a node gets no new request once deregistered, and those in flight
    finish within the delay. Otherwise a stopped node keeps getting its share until the load
    balancer has seen it fail `unhealthyThreshold` checks `interval` apart."""
    if drained:
        return 0.0
    check = inventory.of_type(TARGET_GROUP)[0].inputs["healthCheck"]
    detection = float(check.get("interval", 30)) * float(check.get("unhealthyThreshold", 3))
    return rate * detection  # each of the W workers: rate / W for `detection` seconds


def replace_every_node(inventory: Inventory) -> tuple[Rollout, Rollout]:
    """A change that replaces every node (e.g. a new product zip), the database already there:
    (as the program rolls it, as it would go with every node replaced at once)."""
    per_node = replace_seconds(inventory)
    waves = launch_waves(inventory)
    workers = sum(len(wave) for wave in waves[1:])
    # No worker serves while a wave holds every one of them.
    service_down = per_node * sum(1 for wave in waves[1:] if len(wave) == workers)
    rolling = Rollout(service_down, per_node, len(waves) * per_node, len(waves))
    return rolling, Rollout(per_node, per_node, per_node, 1)
