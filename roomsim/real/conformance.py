"""Seeded scenarios for checking the simulation against the real Socket.IO.

:func:`sequential_scenario` writes a small scenario over every key the
real runner plays in sequential mode: rooms, unions and exceptions,
broadcasts from nodes and from sockets, private messages, ``local`` and
``volatile``, namespaces, acknowledgements with and without answers,
joins and leaves, every playable disconnect reason, reconnections and
``connect`` steps, the five cluster utilities, steps that fail (a client
not connected, a reserved event name) and connection state recovery.
Its steps are far enough apart (:data:`GAP_MS`) that every message, answer
and reconnection of a step is over before the next one, in the simulation
as on the real thing, so who gets what is decided by Socket.IO's rules.

:func:`agreement` plays one scenario on both and returns the differences.

Examples
--------
>>> a, b = sequential_scenario(3), sequential_scenario(3)
>>> a == b, a["cluster"]["adapter"] in ("memory", "redis", "sharded-redis")
(True, True)
"""

from __future__ import annotations

import random
from typing import Any

__all__ = [
    "ADAPTER_CYCLE",
    "GAP_MS",
    "agreement",
    "fault_scenario",
    "sequential_scenario",
    "timed_scenario",
]

#: Scenario ms between two steps: more than any message, answer or reconnection takes.
GAP_MS = 300
#: The adapters, in turn by seed.
ADAPTER_CYCLE = ("memory", "redis", "sharded-redis")
#: Acknowledgement time-out of the generated emits (ms): long enough for every answer.
ACK_TIMEOUT_MS = 150
ROOMS = ("r1", "r2", "r3", "r4")
REASONS = (
    "client namespace disconnect",
    "server namespace disconnect",
    "forced close",
    "forced server close",
    "server shutting down",
    "transport close",
)


def sequential_scenario(seed: int, *, steps: int = 14) -> dict[str, Any]:
    """A sequential scenario (plain data) drawn from ``seed``; the same seed, the same one."""
    rng = random.Random(seed)
    adapter = ADAPTER_CYCLE[seed % len(ADAPTER_CYCLE)]
    nodes = ["n1"] if adapter == "memory" else [f"n{i}" for i in range(1, rng.randint(2, 3) + 1)]
    cluster: dict[str, Any] = {"nodes": nodes, "adapter": adapter}
    if adapter == "sharded-redis":
        cluster["subscription_mode"] = rng.choice(("dynamic", "static", "dynamic-private"))
    namespaces = ["/"] if rng.random() < 0.6 else ["/", "/chat"]
    clients = []
    for i in range(1, rng.randint(3, 6) + 1):
        spec: dict[str, Any] = {"name": f"c{i}", "node": rng.choice(nodes)}
        if rng.random() < 0.5:
            spec["rooms"] = rng.sample(ROOMS, rng.randint(1, 2))
        if len(namespaces) > 1 and rng.random() < 0.4:
            spec["namespace"] = "/chat"
        if rng.random() < 0.2:
            spec["ack"] = False
        if rng.random() < 0.2:
            spec["connect_at"] = GAP_MS * rng.randint(1, steps // 2) + GAP_MS // 2
        spec.update(reconnection_delay=20, reconnection_delay_max=40, randomization_factor=0.5)
        clients.append(spec)
    names = [c["name"] for c in clients]
    emits = 0
    timeline = []

    def targets(k: int) -> list[str]:
        pool = list(ROOMS) + names
        return rng.sample(pool, min(len(pool), k))

    for i in range(steps):
        at = GAP_MS * (i + 1)
        kind = rng.choices(
            (
                "join",
                "leave",
                "emit_node",
                "emit_client",
                "disconnect",
                "connect",
                "utility",
                "side",
            ),
            weights=(3, 2, 5, 4, 2, 2, 3, 1),
        )[0]
        client = rng.choice(names)
        if kind in ("join", "leave"):
            step = {kind: {"client": client, "rooms": rng.sample(ROOMS, rng.randint(1, 2))}}
        elif kind in ("emit_node", "emit_client"):
            emits += 1
            body: dict[str, Any] = {"id": f"m{emits}", "event": rng.choice(("news", "chat"))}
            if kind == "emit_node":
                body["from"] = rng.choice(nodes)
                if len(namespaces) > 1 and rng.random() < 0.4:
                    body["namespace"] = "/chat"
            else:
                body["from"] = client
            roll = rng.random()
            if roll < 0.55:
                body["to"] = targets(rng.randint(1, 3))
            elif roll < 0.65 and kind == "emit_client":
                body["broadcast"] = True
            if rng.random() < 0.25:
                body["except"] = targets(1)
            if rng.random() < 0.15:
                body["local"] = True
            if rng.random() < 0.1:
                body["volatile"] = True
            if rng.random() < 0.25:
                body["ack"] = True
                body["timeout"] = ACK_TIMEOUT_MS
            if rng.random() < 0.3:
                body["data"] = {"n": i}
            if rng.random() < 0.03:
                body["event"] = "disconnect"  # reserved: an error record
            step = {"emit": body}
        elif kind == "disconnect":
            step = {"disconnect": {"client": client, "reason": rng.choice(REASONS)}}
        elif kind == "connect":
            body = {"client": client}
            if rng.random() < 0.5:
                body["node"] = rng.choice(nodes)
            if rng.random() < 0.4:
                body["rooms"] = rng.sample(ROOMS, 1)
            step = {"connect": body}
        elif kind == "utility":
            what = rng.choice(("sockets_join", "sockets_leave", "disconnect_sockets", "fetch"))
            body = {"from": rng.choice([*nodes, client])}
            if rng.random() < 0.8:
                body["to"] = targets(rng.randint(1, 2))
            if rng.random() < 0.2:
                body["local"] = True
            if what in ("sockets_join", "sockets_leave"):
                body["rooms"] = rng.sample(ROOMS, 1)
            elif what == "disconnect_sockets":
                body["close"] = rng.random() < 0.3
            if what == "fetch":
                what = "fetch_sockets"
            step = {what: body}
        else:
            body = {"from": rng.choice(nodes), "event": "ping", "ack": rng.random() < 0.6}
            step = {"server_side_emit": body}
        timeline.append({"at": at, **step})
    scenario: dict[str, Any] = {
        "name": f"sequential conformance {seed} ({adapter})",
        "seed": seed,
        "cluster": cluster,
        "latency": {"client_ms": 5, "adapter_ms": 2},
        "clients": clients,
        "timeline": timeline,
    }
    if adapter == "memory" and rng.random() < 0.3:
        scenario["connection_state_recovery"] = {"max_disconnection_duration": 60000}
    return scenario


#: Timed scenarios: ms between two episodes, the latencies, and the offsets
#: (after an emit) at which an episode's join, leave or disconnect happens:
#: each at least 1 ms from the instants that decide (the copy reaching the
#: broker at 2, a remote node picking at 4, arrivals at 5 and 9).
EPISODE_MS, TIMED_CLIENT_MS, TIMED_ADAPTER_MS = 40, 5, 4
OFFSETS = (-3, 1, 3, 7, 11)
#: A client-side disconnect reaches the server one client latency after the
#: client has closed: these offsets keep every arrival out of that window.
CLIENT_DISCONNECT_OFFSETS = (-3, 1, 3, 17)
#: The scale timed conformance runs use (real ms per scenario ms).
TIMED_SCALE = 20.0


def timed_scenario(seed: int, *, episodes: int = 4) -> dict[str, Any]:
    """A scenario where timing decides, drawn from ``seed``: in each episode a
    room emit, and a join, a leave or a disconnect shortly before or while it
    is in flight, at offsets (:data:`OFFSETS`) clear of the deciding instants.

    Examples
    --------
    >>> timed_scenario(1) == timed_scenario(1)
    True
    """
    rng = random.Random(10_000 + seed)
    adapter = ADAPTER_CYCLE[seed % len(ADAPTER_CYCLE)]
    nodes = ["n1"] if adapter == "memory" else ["n1", "n2"]
    cluster: dict[str, Any] = {"nodes": nodes, "adapter": adapter}
    if adapter == "sharded-redis":
        cluster["subscription_mode"] = rng.choice(("dynamic", "static"))
    clients = [
        {"name": f"c{i}", "node": nodes[i % len(nodes)], "rooms": ["r1"] if i % 2 else []}
        for i in range(1, 6)
    ]
    names = [str(c["name"]) for c in clients]
    timeline: list[dict[str, Any]] = []
    connected: set[str] = set(names)
    for k in range(episodes):
        t = EPISODE_MS * (k + 1)
        sender = rng.choice(nodes)
        timeline.append({"at": t, "emit": {"id": f"m{k + 1}", "from": sender, "to": ["r1"]}})
        who = rng.choice(sorted(connected))
        what = rng.choice(("join", "leave", "disconnect", "server disconnect"))
        d = rng.choice(CLIENT_DISCONNECT_OFFSETS if what == "disconnect" else OFFSETS)
        if what in ("join", "leave"):
            step: dict[str, Any] = {what: {"client": who, "rooms": ["r1"]}}
        else:
            reason = "client namespace disconnect"
            if what == "server disconnect":
                reason = "server namespace disconnect"
            step = {"disconnect": {"client": who, "reason": reason}}
            connected.discard(who)
        timeline.append({"at": t + d, **step})
    timeline.sort(key=lambda s: s["at"])
    return {
        "name": f"timed conformance {seed} ({adapter})",
        "seed": seed,
        "cluster": cluster,
        "latency": {"client_ms": TIMED_CLIENT_MS, "adapter_ms": TIMED_ADAPTER_MS},
        "clients": clients,
        "timeline": timeline,
    }


def fault_scenario(seed: int, *, steps: int = 12) -> dict[str, Any]:
    """A sequential scenario with failures, drawn from ``seed``: node crashes
    and restarts (clients reconnecting through the load balancer, or not),
    the broker down and up, partitions and heals, with emits between.

    While the broker is down only ``local`` emits are drawn: where a publish
    made meanwhile ends up is a race on the real thing (node-redis queues it);
    and no restart, which on the real thing waits for Redis.

    Examples
    --------
    >>> fault_scenario(4) == fault_scenario(4)
    True
    """
    rng = random.Random(20_000 + seed)
    adapter = ("redis", "sharded-redis")[seed % 2]
    nodes = ["n1", "n2", "n3"]
    reconnect = rng.random() < 0.6
    clients = [
        {
            "name": f"c{i}",
            "node": nodes[(i - 1) % 3],
            "rooms": rng.sample(ROOMS[:2], 1),
            "reconnect": reconnect,
            # no jitter, and 30 ms between clients: who reconnects first (and so
            # where the load balancer sends it) is no race
            "reconnection_delay": 30 * i,
            "reconnection_delay_max": 30 * i,
            "randomization_factor": 0,
        }
        for i in range(1, 6)
    ]
    up = set(nodes)
    broker = "up"
    cut: set[str] = set()
    timeline: list[dict[str, Any]] = []
    emits = 0
    for i in range(steps):
        at = GAP_MS * (i + 1)
        roll = rng.random()
        if roll < 0.45 or not up:
            emits += 1
            body: dict[str, Any] = {"id": f"m{emits}", "from": rng.choice(sorted(up or nodes))}
            if rng.random() < 0.5:
                body["to"] = [rng.choice(ROOMS[:2])]
            if broker == "down":
                body["local"] = True
            step: dict[str, Any] = {"emit": body}
        elif roll < 0.6:
            down = sorted(set(nodes) - up)
            # a restart waits for Redis on the real thing (the documented start-up):
            # none is drawn while the broker is down
            if down and broker == "down":
                emits += 1
                step = {"emit": {"id": f"m{emits}", "from": rng.choice(sorted(up)), "local": True}}
            elif down and rng.random() < 0.6:
                node = rng.choice(down)
                up.add(node)
                step = {"restart": {"node": node}}
            else:
                node = rng.choice(sorted(up))
                up.discard(node)
                step = {"crash": {"node": node}}
        elif roll < 0.7:
            step = {"connect": {"client": rng.choice(clients)["name"]}}
        elif roll < 0.85 and not cut:
            broker = "down" if broker == "up" else "up"
            step = {"broker": broker}
        elif broker == "up":
            if cut:
                step = {"heal": {"node": cut.pop()}}
            else:
                node = rng.choice(nodes)
                cut.add(node)
                direction = rng.choice(("both", "to-broker", "from-broker"))
                step = {"partition": {"node": node, "direction": direction}}
        else:
            broker = "up"
            step = {"broker": "up"}
        timeline.append({"at": at, **step})
    return {
        "name": f"fault conformance {seed} ({adapter})",
        "seed": seed,
        "cluster": {"nodes": nodes, "adapter": adapter},
        "latency": {"client_ms": 5, "adapter_ms": 2},
        "clients": clients,
        "timeline": timeline,
    }


def agreement(scenario: Any, **real_options: Any) -> list[str]:
    """Play ``scenario`` (a :class:`~roomsim.scenario.Scenario`) simulated and
    real; return the differences (empty when they agree)."""
    from roomsim.real.diff import diff_traces
    from roomsim.real.runner import run_real
    from roomsim.runner import run_scenario

    sim = run_scenario(scenario)
    if real_options.get("timed") and real_options.get("scale") is None:
        real_options["scale"] = TIMED_SCALE
    real = run_real(scenario, **real_options)
    races: list[str] = []
    return diff_traces(list(sim.trace), real.records, names=("simulated", "real"), races=races)
