"""The order in which a rolling change reaches the nodes, read from the declared graph (the bench
models its time; the tests check the program rolls as documented)."""

from __future__ import annotations

from offline.engine import Inventory

INSTANCE = "aws:ec2/instance:Instance"
HEALTH_GATE = "pulumi-python:dynamic/wso2:HealthGate"


def launch_waves(inventory: Inventory) -> list[list[str]]:
    """The nodes in the order a rolling change reaches them, read from the dependency graph: wave
    k holds the nodes whose instances depend on the health gates of wave k-1 (the first wave: on
    none). Raises ValueError when the graph is not such a sequence of waves."""
    gates = inventory.of_type(HEALTH_GATE)
    gate_node = {gate.urn: gate.inputs["node"] for gate in gates}
    # each node's gate watches that node's instance
    instance_node = {target["instanceId"]: gate.inputs["node"] for gate in gates for target in gate.inputs["targets"]}
    waits_for = {
        instance_node[instance.id]: {gate_node[d] for d in instance.dependencies if d in gate_node}
        for instance in inventory.of_type(INSTANCE)
    }
    waves, placed = [], set()
    while len(placed) < len(waits_for):
        wave = sorted((n for n, deps in waits_for.items() if n not in placed and deps <= placed), key=_node_order)
        if not wave:
            raise ValueError(f"a cycle among {sorted(set(waits_for) - placed)}")
        previous = set(waves[-1]) if waves else set()
        for node in wave:
            if waits_for[node] != previous:  # every node of a wave waits for the whole previous one
                raise ValueError(f"{node} waits for {sorted(waits_for[node])}, not for {sorted(previous)}")
        waves.append(wave)
        placed |= set(wave)
    return waves


def _node_order(node: str) -> tuple[int, int]:
    return (0, 0) if node == "manager" else (1, int(node.rsplit("-", 1)[1]))
