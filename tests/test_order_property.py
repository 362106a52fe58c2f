"""Property: a link keeps its packets in the order they were written, whatever its latency.

The rules (``docs/scenario-format.md``, "Network and failures": "a link keeps
its packets in order"; Socket.IO's per-connection order):

* a client's connection gets the messages of its node in the order that node
  wrote them (its ``pick`` records), with any latency distribution, any loss
  and any transport speed;
* a node gets the broadcasts another node published in the order they were
  published (the publisher's link to the broker, the broker's queue and the
  broker's link to the receiving node are each first in, first out);
* a client's events reach the server in the order it sent them, and its
  disconnection after them;
* latency streams: another client's messages change no one's latency.

Hypothesis draws the latency distributions, loss, transport times, seeds and
emit times that are not whole milliseconds (with whole times and whole
latencies the floating-point sums are exact and nothing can go wrong).
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import roomsim
from roomsim.analysis.check import check
from roomsim.runner import run_scenario
from roomsim.scenario import scenario_from_dict

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def distributions() -> st.SearchStrategy[Any]:
    """A latency as a file writes it: a constant or a distribution with a wide spread."""
    return st.one_of(
        st.floats(0, 5).map(lambda x: round(x, 3)),
        st.tuples(st.floats(0, 2), st.floats(5, 30)).map(lambda p: {"uniform": list(p)}),
        st.floats(0.5, 10).map(lambda m: {"exponential": m}),
        st.tuples(st.floats(0.5, 10), st.sampled_from([0.5, 1.0, 2.0])).map(
            lambda p: {"lognormal": {"median": p[0], "sigma": p[1]}}
        ),
    )


@st.composite
def scenarios(draw: Any) -> dict[str, Any]:
    nodes = ["n1", "n2"] if draw(st.booleans()) else ["n1"]
    adapter = draw(st.sampled_from(["redis", "sharded-redis"])) if len(nodes) > 1 else "memory"
    clients = []
    for i in range(draw(st.integers(1, 3))):
        spec: dict[str, Any] = {"name": f"c{i}", "node": nodes[i % len(nodes)], "rooms": ["r"]}
        if draw(st.booleans()):
            spec["latency_ms"] = draw(distributions())
        if draw(st.integers(0, 3)) == 3:
            spec["loss"] = draw(st.sampled_from([0.1, 0.3]))
        if draw(st.integers(0, 3)) == 3:
            spec["transport_ms"] = draw(st.sampled_from([0.3, 1.7]))
        clients.append(spec)
    rnd = draw(st.randoms(use_true_random=False))
    span = draw(st.sampled_from([5, 30]))
    times = sorted(rnd.uniform(0, span) for _ in range(draw(st.integers(2, 60))))
    timeline = [
        {"at": at, "emit": {"from": rnd.choice(nodes), "to": ["r"], "event": "e"}} for at in times
    ]
    return {
        "seed": draw(st.integers(0, 2**16)),
        "cluster": {"nodes": nodes, "adapter": adapter},
        "latency": {"client_ms": draw(distributions()), "adapter_ms": draw(distributions())},
        "clients": clients,
        "timeline": timeline,
    }


def play(data: dict[str, Any]) -> list[dict[str, Any]]:
    return list(run_scenario(scenario_from_dict(data)).trace)


@SETTINGS
@given(scenarios())
def test_a_connection_gets_its_nodes_messages_in_write_order(data: dict[str, Any]) -> None:
    """Each (node, client) connection receives messages in the order its node picked them."""
    records = play(data)
    written: dict[str, dict[str, int]] = {}  # node -> msg -> position of its pick
    for seq, rec in enumerate(records):
        if rec["kind"] == "pick":
            written.setdefault(rec["node"], {}).setdefault(rec["msg"], seq)
    arrived: dict[tuple[str, str], list[int]] = {}
    for rec in records:
        if rec["kind"] == "deliver":
            key = (rec["node"], rec["client"])
            arrived.setdefault(key, []).append(written[rec["node"]][rec["msg"]])
    for key, order in arrived.items():
        assert order == sorted(order), f"connection {key} got its node's messages out of order"
    assert check(records) == []  # and the run passes its own checks


@SETTINGS
@given(scenarios().filter(lambda d: len(d["cluster"]["nodes"]) > 1))
def test_a_node_gets_anothers_broadcasts_in_publish_order(data: dict[str, Any]) -> None:
    """Node B relays the broadcasts node A published in the order A published them."""
    records = play(data)
    published: dict[str, tuple[str, int]] = {}  # msg -> (publisher, position)
    relayed: dict[tuple[str, str], list[int]] = {}  # (publisher, receiver) -> positions
    for seq, rec in enumerate(records):
        if rec["kind"] == "publish" and rec["msg"] not in published:
            published[rec["msg"]] = (rec["node"], seq)
        elif rec["kind"] == "relay" and rec["msg"] in published:
            sender, position = published[rec["msg"]]
            relayed.setdefault((sender, rec["node"]), []).append(position)
    for key, order in relayed.items():
        assert order == sorted(order), f"{key[1]} got {key[0]}'s broadcasts out of order"


# -- latency streams ------------------------------------------------------------------
def _latency_scenario(extra_emitter: bool) -> dict[str, Any]:
    clients: list[dict[str, Any]] = [
        {"name": "a", "node": "n1", "rooms": ["r"]},
        {"name": "b", "node": "n2", "rooms": ["r"]},
        {"name": "c", "node": "n3", "rooms": ["r"]},
    ]
    timeline: list[dict[str, Any]] = [
        {"at": at, "emit": {"id": f"e{i}", "from": "n1", "to": ["r"], "event": "news"}}
        for i, at in enumerate((10, 20, 30, 40), 1)
    ]
    if extra_emitter:
        clients.append({"name": "x", "node": "n3", "rooms": ["other"]})
        timeline.insert(0, {"at": 1, "emit": {"id": "x1", "from": "x", "to": ["other"]}})
    return {
        "seed": 5,
        "cluster": {"nodes": 3, "adapter": "redis"},
        "latency": {"client_ms": {"uniform": [1, 3]}, "adapter_ms": {"uniform": [1, 5]}},
        "clients": clients,
        "timeline": timeline,
    }


def test_another_clients_emits_leave_everyones_latencies_as_they_were() -> None:
    """Adding a client that emits (on another node, to a room nobody else is in,
    well before the others' messages) changes no other delivery's time: every
    link and every message's hop on a link draws its latency from its own
    seeded stream (``docs/scenario-format.md``, "Network and failures")."""
    plain = play(_latency_scenario(extra_emitter=False))
    extra = play(_latency_scenario(extra_emitter=True))
    assert any(r["kind"] == "relay" and r["msg"] == "x1" for r in extra)  # x1 crossed the broker

    def deliveries(records: list[dict[str, Any]]) -> list[tuple[str, str, float]]:
        return [(r["msg"], r["client"], r["t"]) for r in records if r["kind"] == "deliver"]

    got = deliveries(plain)
    assert len({t - 10 * int(m[1]) for m, _, t in got}) > 3  # the latencies are random
    assert deliveries(extra) == got


# -- client to server -------------------------------------------------------------------
@SETTINGS
@given(
    latency=distributions(),
    seed=st.integers(0, 2**16),
    rnd=st.randoms(use_true_random=False),
    count=st.integers(2, 40),
)
def test_a_clients_events_reach_the_server_in_the_order_it_sent_them(
    latency: Any, seed: int, rnd: Any, count: int
) -> None:
    """The events a client emits reach its socket's handler in the order it sent them,
    and its own disconnect reaches the server after all of them."""
    sim = roomsim.Cluster(nodes=1, client_ms=latency, seed=seed)
    heard: list[Any] = []

    @sim.on("connection")
    def on_connection(socket: Any) -> None:
        socket.on("e", heard.append)
        socket.on("disconnect", lambda reason: heard.append(reason))

    client = sim.connect("a")
    times = sorted(rnd.uniform(1, 20) for _ in range(count))

    def script(env: Any) -> Any:
        for i, at in enumerate(times):
            yield env.timeout(max(0.0, at - env.now))  # now + (at - now) can round past at
            client.emit("e", i)
        client.disconnect()

    sim.process(script)
    sim.run()
    assert heard == [*range(count), "client namespace disconnect"]


def test_a_link_set_while_packets_are_in_flight_keeps_them_in_order() -> None:
    """A node writes m1 over a 10 ms link, then the link becomes a 1 ms one and it
    writes m2: m2 still arrives after m1 (a connection is first in, first out)."""
    sim = roomsim.Cluster(nodes=1, client_ms=10)
    sim.connect("a")

    def script(env: Any) -> Any:
        sim.io("n1").emit("news", msg_id="m1")
        yield env.timeout(1)
        sim.links.configure(client="a", latency=1)
        sim.io("n1").emit("news", msg_id="m2")

    sim.process(script)
    sim.run()
    assert [(r["msg"], r["t"]) for r in sim.trace.records("deliver")] == [("m1", 10), ("m2", 10)]
