"""Properties: faults and a realistic network never break the accounting or the guarantees.

Hypothesis draws small clusters (1 to 4 nodes; the ``memory`` adapter on one
node, ``redis`` or ``sharded-redis`` on any), a few clients with random rooms
and link settings (constant or random latency, some loss, a slow transport,
reconnection on or off, sticky or round-robin load balancing), and a random
schedule of emits of every form (``io.emit``, ``io.to``, ``except``,
``local``, ``volatile``, with acknowledgements, from a socket, to one
client), joins and leaves, disconnections with every reason, connections,
node crashes and restarts, broker outages and partitions.  At the end every
fault is repaired (every node restarted, the broker up, every partition
healed), so that reconnecting clients find a node and the run ends.

The rules (``docs/scenario-format.md``, "Network and failures";
``/work/shared/socketio-semantics.md`` §7.6, §8):

* every (message, socket) pair a node picked ends as exactly one ``deliver``
  or ``drop``; at most once; per-connection order; no delivery to a
  non-member, to the excluded sender or to a disconnected socket --
  :func:`roomsim.analysis.check.check` finds no violation;
* every ``drop`` has one of the documented reasons;
* the emitting node always writes to its own matching sockets: the broker
  being down or out of reach stops cross-node delivery only ("local delivery
  goes on"), so every emit is followed by a ``pick`` on its own node;
* a crashed node does nothing (no emit, no publish) until it restarts.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from roomsim.analysis.check import check
from roomsim.runner import run_scenario
from roomsim.scenario import scenario_from_dict

SETTINGS = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],  # no slow "explain"
)

#: drop reasons the format documents ("Network and failures")
REASONS = {
    "disconnected",
    "node down",
    "broker down",
    "partition",
    "not subscribed",
    "volatile",
    "loss",
}
ROOMS = ("r1", "r2", "r3")
REASONS_TO_DISCONNECT = (
    "client namespace disconnect",
    "server namespace disconnect",
    "server shutting down",
    "transport close",
    "transport error",
    "ping timeout",
    "forced close",
    "forced server close",
)
EVENT = "ev"
HORIZON = 400  # steps happen in [0, HORIZON); repairs at HORIZON


# -- drawing a scenario ---------------------------------------------------------------
def latencies() -> st.SearchStrategy[Any]:
    """A latency as a file writes it: a number or a distribution."""
    ms = st.integers(0, 20)
    return st.one_of(
        ms,
        st.tuples(ms, st.integers(0, 20)).map(lambda p: {"uniform": [min(p), max(p)]}),
        st.integers(1, 10).map(lambda m: {"exponential": m}),
        st.tuples(st.integers(1, 10), st.sampled_from([0.25, 0.5, 1.0])).map(
            lambda p: {"lognormal": {"median": p[0], "sigma": p[1]}}
        ),
    )


@st.composite
def clients(draw: Any, nodes: list[str]) -> list[dict[str, Any]]:
    out = []
    for i in range(draw(st.integers(1, 6))):
        spec: dict[str, Any] = {
            "name": f"c{i}",
            "node": draw(st.sampled_from(nodes)),
            "rooms": draw(st.lists(st.sampled_from(ROOMS), unique=True, max_size=2)),
        }
        if draw(st.booleans()):
            spec["connect_at"] = draw(st.integers(0, 50))
        if draw(st.integers(0, 3)) == 3:
            spec["latency_ms"] = draw(latencies())
        if draw(st.integers(0, 3)) == 3:
            spec["loss"] = draw(st.sampled_from([0.1, 0.3, 0.5]))
        if draw(st.integers(0, 3)) == 3:
            spec["transport_ms"] = draw(st.sampled_from([0.5, 2, 5]))
        if draw(st.integers(0, 3)) == 3:
            spec["reconnect"] = False
        spec["reconnection_delay"] = draw(st.sampled_from([5, 20, 60]))
        spec["reconnection_delay_max"] = draw(st.sampled_from([60, 200]))
        spec["randomization_factor"] = draw(st.sampled_from([0, 0.5]))
        out.append(spec)
    return out


@st.composite
def emits(draw: Any, nodes: list[str], names: list[str], adapter: str) -> dict[str, Any]:
    """An emit of any form: from a node or a client, to rooms or clients, with flags.

    With acknowledgements on the classic adapter the timeout outlasts any broker
    round trip: a shorter one makes the sender apply its own request again when it
    comes back (as the real adapter does), a duplicate that is not a fault's doing.
    """
    body: dict[str, Any] = {"event": EVENT}
    body["from"] = draw(st.sampled_from(nodes + names))
    targets = st.sampled_from(list(ROOMS) + names)
    form = draw(st.sampled_from(["all", "to", "to", "except", "to+except"]))
    if form in ("to", "to+except"):
        body["to"] = draw(st.lists(targets, min_size=1, max_size=2, unique=True))
    if form in ("except", "to+except"):
        body["except"] = draw(st.lists(targets, min_size=1, max_size=2, unique=True))
    if draw(st.integers(0, 4)) == 4:
        body["local"] = True
    if draw(st.integers(0, 3)) == 3:
        body["volatile"] = True
    if draw(st.integers(0, 7)) == 7:
        body["ack"] = True
        body["timeout"] = 10_000 if adapter == "redis" else draw(st.sampled_from([0, 30, 200]))
    return body


@st.composite
def steps(draw: Any, nodes: list[str], names: list[str], adapter: str) -> list[dict[str, Any]]:
    kinds = ["emit"] * 6 + ["join", "leave", "disconnect", "connect", "crash", "restart"]
    if adapter != "memory":
        kinds += ["broker", "broker", "partition", "heal", "sockets_join"]
    node, name = st.sampled_from(nodes), st.sampled_from(names)
    rooms = st.lists(st.sampled_from(ROOMS), min_size=1, max_size=2, unique=True)
    out = []
    for _ in range(draw(st.integers(1, 25))):
        kind = draw(st.sampled_from(kinds))
        at = draw(st.integers(0, HORIZON - 1))
        if kind == "emit":
            step = {"emit": draw(emits(nodes, names, adapter))}
        elif kind in ("join", "leave"):
            step = {kind: {"client": draw(name), "rooms": draw(rooms)}}
        elif kind == "disconnect":
            reason = draw(st.sampled_from(REASONS_TO_DISCONNECT))
            step = {"disconnect": {"client": draw(name), "reason": reason}}
        elif kind == "connect":
            body: dict[str, Any] = {"client": draw(name)}
            if draw(st.booleans()):
                body["node"] = draw(node)
            if draw(st.booleans()):
                body["rooms"] = draw(rooms)
            step = {"connect": body}
        elif kind in ("crash", "restart", "heal"):
            step = {kind: {"node": draw(node)}}
        elif kind == "broker":
            step = {"broker": draw(st.sampled_from(["down", "up"]))}
        elif kind == "partition":
            direction = draw(st.sampled_from(["both", "to-broker", "from-broker"]))
            step = {"partition": {"node": draw(node), "direction": direction}}
        else:
            step = {"sockets_join": {"from": draw(node), "to": draw(rooms), "rooms": draw(rooms)}}
        out.append({"at": at, **step})
    out.sort(key=lambda s: s["at"])
    return out


def repairs(nodes: list[str], adapter: str) -> list[dict[str, Any]]:
    """Every fault undone at HORIZON (a restart of a live node is a harmless error)."""
    out: list[dict[str, Any]] = [{"at": HORIZON, "restart": {"node": n}} for n in nodes]
    if adapter != "memory":
        out.append({"at": HORIZON, "broker": "up"})
        out += [{"at": HORIZON, "heal": {"node": n}} for n in nodes]
    return out


@st.composite
def scenarios(draw: Any) -> dict[str, Any]:
    adapter = draw(st.sampled_from(["memory", "redis", "sharded-redis"]))
    nodes = (
        ["n1"] if adapter == "memory" else [f"n{i}" for i in range(1, draw(st.integers(1, 4)) + 1)]
    )
    cluster: dict[str, Any] = {"nodes": nodes, "adapter": adapter, "sticky": draw(st.booleans())}
    if adapter == "sharded-redis":
        cluster["subscription_mode"] = draw(
            st.sampled_from(["dynamic", "static", "dynamic-private"])
        )
    latency: dict[str, Any] = {"client_ms": draw(latencies()), "adapter_ms": draw(latencies())}
    if len(nodes) > 1 and draw(st.booleans()):
        latency["nodes"] = {
            nodes[-1]: {"client_ms": draw(latencies()), "adapter_ms": draw(latencies())}
        }
    specs = draw(clients(nodes))
    names = [c["name"] for c in specs]
    scenario: dict[str, Any] = {
        "seed": draw(st.integers(0, 2**16)),
        "cluster": cluster,
        "latency": latency,
        "clients": specs,
        "timeline": draw(steps(nodes, names, adapter)) + repairs(nodes, adapter),
    }
    if adapter == "memory" and draw(st.booleans()):
        scenario["connection_state_recovery"] = {
            "max_disconnection_duration": draw(st.sampled_from([10, 100, 1000]))
        }
    return scenario


def play(data: dict[str, Any]) -> list[dict[str, Any]]:
    """Run the scenario ``data`` (a file's keys) and return its records."""
    return list(run_scenario(scenario_from_dict(data)).trace)


# -- the properties -------------------------------------------------------------------
@pytest.mark.slow
@SETTINGS
@given(scenarios())
def test_faults_never_break_the_accounting_or_the_guarantees(data: dict[str, Any]) -> None:
    """Whatever fails, ``check(trace)`` finds no violation (at most once, order,
    recipients, every picked pair delivered or dropped) and every drop has a
    documented reason."""
    trace = play(data)
    assert check(trace) == []
    reasons = {r["reason"] for r in trace if r["kind"] == "drop"}
    assert reasons <= REASONS, reasons - REASONS


def crash_times(trace: list[dict[str, Any]]) -> dict[str, list[float]]:
    """node -> the times it crashed."""
    times: dict[str, list[float]] = {}
    for r in trace:
        if r["kind"] == "crash":
            times.setdefault(r["node"], []).append(r["t"])
    return times


@pytest.mark.slow
@SETTINGS
@given(scenarios())
def test_the_emitting_node_always_writes_to_its_own_sockets(data: dict[str, Any]) -> None:
    """Local delivery goes on whatever happens to the broker (format: "broker
    down ... local delivery goes on"; semantics §2.4: the sharded adapter
    delivers locally even when its publish fails): every emit of a node that
    does not crash afterwards is followed by a ``pick`` on that node (its own
    matching sockets, maybe none), even when its publish is lost."""
    trace = play(data)
    crashes = crash_times(trace)
    emitted = {
        (r["msg"], r["node"])
        for r in trace
        if r["kind"] == "emit" and not any(t >= r["t"] for t in crashes.get(r["node"], ()))
    }
    picked = {(r["msg"], r["node"]) for r in trace if r["kind"] == "pick"}
    assert emitted - picked == set()


@pytest.mark.slow
@SETTINGS
@given(scenarios())
def test_a_crashed_node_does_nothing_until_it_restarts(data: dict[str, Any]) -> None:
    """A node that is down runs no code: between its ``crash`` and its
    ``restart`` records it emits nothing and publishes nothing (a step ``from``
    it cannot be done: an ``error`` record)."""
    down: set[str] = set()
    for r in play(data):
        if r["kind"] == "crash":
            down.add(r["node"])
        elif r["kind"] == "restart":
            down.discard(r["node"])
        elif r["kind"] in ("emit", "publish"):
            assert r["node"] not in down, r
