"""A window of the real cluster's load harness, played on roomsim.

:func:`replay` turns a :class:`~roomsim.real.load.Load` (its rate per node,
payload, targets) and the harness's clients into a scenario of explicit
emits on roomsim, plays it with a cost profile, and measures it the way the
harness measures the real cluster: each delivery's latency from its emit,
and the delivery throughput (:func:`~roomsim.real.load.throughput`).
Nothing here needs Node.js or Redis: ``roomsim calibrate`` uses it to fit
``sched_ms``, and ``benchmarks/capacity.py validate --real`` to compare.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from roomsim.real.load import SERIES_MS, Load, throughput

__all__ = ["replay", "scenario_of"]

#: when the first emit of a replayed window is (after the clients' connections)
START_MS = 1000.0


def scenario_of(
    load: Load,
    clients: Sequence[tuple[int, Sequence[str]]],
    nodes: int,
    profile: dict[str, Any],
    seed: int = 1,
) -> dict[str, Any]:
    """The scenario (plain data) of one window of ``load``: the clients (node
    index, rooms) and every emit at its time, node ``i``'s emits 0.05 ms after
    node ``i - 1``'s.

    Examples
    --------
    >>> load = Load("room", 10, 20, rooms=("r",), seconds=0.2)
    >>> data = scenario_of(load, [(0, ["r"]), (1, ["r"])], 2, {"emit_ms": 0.1})
    >>> len(data["timeline"]), data["timeline"][1]["at"], data["timeline"][1]["emit"]["to"]
    (4, 1000.05, ['r'])
    """
    import random

    if load.kind not in ("all", "room", "random"):
        raise ValueError(f"only broadcasts replay (all, room, random), not {load.kind!r}")
    machine = profile.get("machine") or {}
    costs = {k: v for k, v in profile.items() if k != "machine"}
    rand = random.Random(seed)
    interval = 1000.0 / load.rate
    emitting = range(nodes) if load.nodes is None else load.nodes
    steps: list[dict[str, Any]] = []
    for k in range(round(load.rate * load.seconds)):
        for i in emitting:
            emit: dict[str, Any] = {"from": f"n{i + 1}", "event": "load", "data": "x" * load.bytes}
            if load.kind == "room":
                emit["to"] = [load.rooms[0]]
            elif load.kind == "random":
                emit["to"] = [rand.choice(load.rooms)]
            steps.append({"at": round(START_MS + k * interval + 0.05 * i, 3), "emit": emit})
    return {
        "seed": seed,
        "cluster": {"nodes": nodes, "adapter": "redis"},
        "latency": {
            "client_ms": machine.get("client_ms", 0.1),
            "adapter_ms": machine.get("adapter_ms", 0.1),
        },
        "costs": costs,
        "clients": [
            {"name": f"c{j}", "node": f"n{node + 1}", "rooms": list(rooms)}
            for j, (node, rooms) in enumerate(clients)
        ],
        "timeline": steps,
    }


def replay(
    load: Load,
    clients: Sequence[tuple[int, Sequence[str]]],
    nodes: int,
    profile: dict[str, Any],
    seed: int = 1,
) -> dict[str, float]:
    """Play one window of ``load`` on roomsim: p50, p95 and p99 delivery latency
    (ms) and the delivery throughput (per second).

    Examples
    --------
    >>> load = Load("all", 10, 20, seconds=0.5)
    >>> got = replay(load, [(0, []), (1, [])], 2, {"emit_ms": 0.5, "machine": {"client_ms": 1.0}})
    >>> got["p50"] > 1.5        # the emit, two client hops... on every delivery
    True
    """
    import numpy as np

    from roomsim.runner import run_scenario
    from roomsim.scenario import scenario_from_dict

    cluster = run_scenario(scenario_from_dict(scenario_of(load, clients, nodes, profile, seed)))
    emitted: dict[str, float] = {}
    latencies: list[float] = []
    arrivals: list[float] = []
    for rec in cluster.trace:
        kind = rec["kind"]
        if kind == "emit":
            emitted[rec["msg"]] = rec["t"]
        elif kind == "deliver" and rec["msg"] in emitted:
            latencies.append(rec["t"] - emitted[rec["msg"]])
            arrivals.append(rec["t"])
    if not latencies:
        return {"p50": 0.0, "p95": 0.0, "p99": 0.0, "throughput": 0.0}
    slots = np.bincount(((np.asarray(arrivals) - START_MS) // SERIES_MS).astype(int))
    p50, p95, p99 = (float(v) for v in np.percentile(np.asarray(latencies), [50, 95, 99]))
    return {"p50": p50, "p95": p95, "p99": p99, "throughput": throughput(list(slots), SERIES_MS)}
