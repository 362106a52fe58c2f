"""Where roomsim once differed from the real Socket.IO, each rule as measured.

Each rule below was measured on real Socket.IO 4.8.4, socket.io-client 4.8.4,
@socket.io/redis-adapter 8.3.0, node-redis 4.7 and Redis 7.0 (WebSocket
transport; delaying TCP proxies on the nodes' Redis connections for the
timed rules; ``kill -9`` for crashes and Redis outages).  The docstrings say
what the real run showed; each test plays the same situation on the
simulation alone and asserts that it does the same.  Comparing both sides on
generated scenarios is the conformance test's job (``roomsim real``).

Rules: ``/work/shared/socketio-semantics.md`` §5.1, §7.3, §9 and §9.1.
"""

from __future__ import annotations

import textwrap
from typing import Any

import pytest

from roomsim import Cluster
from roomsim.analysis.check import check
from roomsim.runner import run_scenario
from roomsim.scenario import parse_scenario


def play(text: str, **options: Any) -> Cluster:
    """Run a scenario given as YAML text; the trace must pass the checks."""
    sim = run_scenario(parse_scenario(textwrap.dedent(text)), **options)
    assert check(sim.trace) == []
    return sim


def fates(sim: Cluster) -> dict[tuple[str, str], tuple[str, float]]:
    """``(msg, client) -> ("deliver" or the drop's reason, t)``."""
    out: dict[tuple[str, str], tuple[str, float]] = {}
    for r in sim.trace:
        if r["kind"] == "deliver" or (r["kind"] == "drop" and "client" in r):
            key = (r["msg"], r["client"])
            assert key not in out, f"{key} ended twice"
            out[key] = ("deliver" if r["kind"] == "deliver" else r["reason"], r["t"])
    return out


def got(sim: Cluster) -> set[tuple[str, str]]:
    """The ``(msg, client)`` pairs delivered."""
    return {(m, c) for (m, c), (fate, _) in fates(sim).items() if fate == "deliver"}


# -- namespaces: every node runs the same application -------------------------------------
NAMESPACE = """\
    cluster: {{nodes: [n1, n2], adapter: {adapter}}}
    clients: [{{name: a, node: n1}}]
    timeline:
      - {{at: 10, emit: {{id: local, from: n1, namespace: /x, local: true, ack: true,
                         timeout: 500, event: e}}}}
      - {{at: 1000, emit: {{id: cluster, from: n1, namespace: /x, ack: true, timeout: 500,
                           event: e}}}}
"""


@pytest.mark.parametrize("adapter", ["redis", "sharded-redis"])
def test_a_namespace_named_by_one_step_exists_on_every_node(adapter: str) -> None:
    """Real run: with ``/x`` declared on both nodes (the same application on
    each) and no client in it, ``io.of("/x").local.timeout(500).emit(...)`` on
    n1 timed out after 500 ms with no responses (the ack waits for every
    node's count, and only n1 reports: it is local), while the same emit
    without ``local`` answered at once with ``[]``; with ``/x`` on n1 only,
    both answered at once.  roomsim declares a namespace on every node as soon
    as it is used on one, so the local one times out (at 510) and the other
    answers at once (1000)."""
    sim = play(NAMESPACE.format(adapter=adapter))
    results = [
        (r["t"], r["msg"], r["error"], r["responses"]) for r in sim.trace.records("ack_result")
    ]
    assert results == [
        (510, "local", "operation has timed out", []),
        (1000, "cluster", None, []),
    ]
    assert all("/x" in server.nsps for server in sim.nodes.values())


def test_a_restarted_node_declares_every_namespace_again() -> None:
    """The same application starts again on a restarted node: namespace
    ``/x``, used on n1 only, exists on the restarted n2 (so a local ack
    emit in it waits for n2 too and times out)."""
    sim = Cluster(nodes=["n1", "n2"], adapter="redis")
    sim.io("n1").of("/x")
    sim.crash("n2")
    sim.restart("n2")
    assert "/x" in sim.io("n2").nsps
    results = []
    sim.io("n1").of("/x").local.timeout(100).emit(
        "e", ack=lambda err, r: results.append((sim.now, str(err), r))
    )
    sim.run()
    assert results == [(100, "operation has timed out", [])]


# -- disconnect reasons -------------------------------------------------------------------
def test_forced_server_close_reaches_the_socket_as_forced_close() -> None:
    """Real run (WebSocket): ``socket.client.close()`` (Socket.IO's
    ``forced server close``) gave the socket's ``disconnecting`` (rooms still
    there) and ``disconnect`` handlers the reason ``forced close``, because
    the transport closes first; a packet the server emitted just before
    still arrived; the client saw ``transport close`` and reconnected by
    itself.  roomsim: the step ``disconnect: {reason: forced server close}``
    is recorded as ``forced close``, m1 (emitted at 10, link 5 ms) reaches a
    at 15, a sees ``transport close`` at 15, after m1, and comes back after
    its backoff (1000 ms, no jitter) as a new socket."""
    sim = play(
        """\
        cluster: {nodes: [n1]}
        latency: {client_ms: 5}
        clients: [{name: a, node: n1, rooms: [r], randomization_factor: 0}]
        timeline:
          - {at: 10, emit: {id: m1, from: n1, to: [a], event: ev}}
          - {at: 10, disconnect: {client: a, reason: forced server close}}
        """
    )
    records = [
        (r["t"], r["kind"], r["reason"], r["rooms"][1:])
        for r in sim.trace
        if r["kind"] in ("disconnecting", "disconnect")
    ]
    assert records == [
        (10, "disconnecting", "forced close", ["r"]),
        (10, "disconnect", "forced close", []),
    ]
    assert fates(sim)[("m1", "a")] == ("deliver", 15)
    assert [r["t"] for r in sim.trace.records("connect", client="a")] == [0, 1015]


def test_the_client_sees_transport_close_one_trip_later() -> None:
    """The client side of a forced close: the socket.io-client ``disconnect``
    event with ``transport close``, one link latency after the server closed
    (the close travels behind what was written before)."""
    sim = Cluster(nodes=["n1"], client_ms=5)
    seen: list[tuple[float, str]] = []
    a = sim.connect("a")
    a.reconnection = False
    a.on("disconnect", lambda reason: seen.append((sim.now, reason)))
    sim.io("n1").socket(a.sid).close("forced server close")  # type: ignore[union-attr]
    sim.run()
    assert seen == [(5, "transport close")]


# -- the sharded adapter's subscriptions --------------------------------------------------
def sharded(hop: float = 50) -> tuple[Cluster, Any]:
    """Two sharded nodes, ``hop`` ms each way to Redis; client c on n1."""
    sim = Cluster(nodes=["n1", "n2"], adapter="sharded-redis", adapter_ms=2 * hop)
    c = sim.connect("c", node="n1")
    return sim, c


def at(sim: Cluster, t: float, fn: Any) -> None:
    def later(env: Any) -> Any:
        yield env.timeout(t - env.now)
        fn()

    sim.process(later)


def test_a_sharded_room_subscription_counts_one_hop_after_the_join() -> None:
    """Real run, 50 ms each way on both nodes' Redis connections: c joins a
    new room on n1 at t0 and n2 emits to that room at t0 + x.  For x = -20
    and -8 c got nothing; for x = 8, 20, 40, 60 and 120 c got the message
    (about 100 ms after the emit): the SSUBSCRIBE counts when it reaches Redis,
    one hop after the join, not when its reply is back.  roomsim: the same
    offsets, the same outcome; the lost ones are ``not subscribed`` drops."""
    sim, c = sharded()
    offsets = [-20, -8, 8, 20, 40, 60, 120]
    msgs = {}
    for i, x in enumerate(offsets):
        t0, room = 1000 * (i + 1), f"j{i}"
        at(sim, t0, lambda room=room: c.socket.join(room))
        emit = lambda room=room, x=x: msgs.__setitem__(x, sim.io("n2").to(room).emit("m"))  # noqa: E731
        at(sim, t0 + x, emit)
    sim.run()
    outcome = fates(sim)
    assert {x: outcome[(msgs[x], "c")][0] for x in offsets} == {
        -20: "not subscribed",
        -8: "not subscribed",
        8: "deliver",
        20: "deliver",
        40: "deliver",
        60: "deliver",
        120: "deliver",
    }


def test_a_left_room_stops_reaching_the_node_when_sunsubscribe_reaches_redis() -> None:
    """Real run, 50 ms each way: c leaves a room on n1 at t0 (room deleted:
    SUNSUBSCRIBE) and joins it again at t0 + 20; n2 emits to it at t0 + x.
    x = -30 and -10 (reaching Redis before the SUNSUBSCRIBE): delivered, n1
    picks c, a member again when the copy arrives; x = 10: lost.  roomsim
    agrees on these three."""
    sim, c = sharded()
    msgs = {}
    for i, x in enumerate([-30, -10, 10]):
        t0, room = 1000 * (i + 1), f"l{i}"
        c.socket.join(room)
        at(sim, t0, lambda room=room: c.socket.leave(room))
        at(sim, t0 + 20, lambda room=room: c.socket.join(room))
        emit = lambda room=room, x=x: msgs.__setitem__(x, sim.io("n2").to(room).emit("m"))  # noqa: E731
        at(sim, t0 + x, emit)
    sim.run()
    outcome = fates(sim)
    assert {x: outcome[(m, "c")][0] for x, m in msgs.items()} == {
        -30: "deliver",
        -10: "deliver",
        10: "not subscribed",
    }


@pytest.mark.parametrize(
    ("rejoin", "subscribed"), [(40, False), (80, False), (95, False), (110, True), (130, True)]
)
def test_a_room_created_again_before_the_sunsubscribe_reply_stays_unsubscribed(
    rejoin: float, subscribed: bool
) -> None:
    """Real run, 50 ms each way (a 100 ms round trip): c leaves a room on n1
    at t0 and joins it again at t0 + d.  For d = 40, 80 and 95 node-redis
    still held the channel's listeners (its SUNSUBSCRIBE not yet answered),
    sent no SSUBSCRIBE, and then forgot the channel when the reply came:
    SHARDNUMSUB stayed 0 and single-room broadcasts from n2 at d + 200 and
    d + 1000 never reached c, while a broadcast to two rooms (main channel)
    did.  For d = 110 and 130 everything arrived.  roomsim: the same, the
    lost ones as ``not subscribed``."""
    sim, c = sharded()
    c.socket.join("r")
    msgs: dict[str, str] = {}
    at(sim, 1000, lambda: c.socket.leave("r"))
    at(sim, 1000 + rejoin, lambda: c.socket.join("r"))
    for label, t in (("+200", 1200), ("+1000", 2000)):
        emit = lambda label=label: msgs.__setitem__(label, sim.io("n2").to("r").emit("m"))  # noqa: E731
        at(sim, t + rejoin, emit)
    at(sim, 2000 + rejoin, lambda: msgs.__setitem__("two", sim.io("n2").to(["r", "o"]).emit("m")))
    sim.run()
    outcome = fates(sim)
    single = "deliver" if subscribed else "not subscribed"
    assert {label: outcome[(m, "c")][0] for label, m in msgs.items()} == {
        "+200": single,
        "+1000": single,
        "two": "deliver",
    }


# -- connection ------------------------------------------------------------------------
def test_a_connections_rooms_are_joined_before_the_connection_handlers_run() -> None:
    """A client that connects with ``rooms`` (a scenario's ``rooms:``, as the
    reference runner's application joins them first thing) is in them, and
    in its own room, when the application's ``connection`` handlers run; the
    ``connect`` record comes before the ``join`` records."""
    sim = Cluster(nodes=["n1"])
    seen = []
    sim.on("connection", lambda socket: seen.append(list(socket.rooms)))
    a = sim.connect("a", rooms=["r", "s"])
    assert seen == [[a.sid, "r", "s"]]
    assert [r["kind"] for r in sim.trace][:3] == ["connect", "join", "join"]


# -- partitions healed within TCP's patience ------------------------------------------------
PARTITION = """\
    cluster: {{nodes: [n1, n3], adapter: {adapter}}}
    latency: {{client_ms: 1, adapter_ms: 2}}
    clients:
      - {{name: c1, node: n1}}
      - {{name: c3, node: n3, rooms: [r]}}
      - {{name: d3, node: n3}}
    timeline:
      - {{at: 10, partition: {{node: n3, direction: {direction}}}}}
      - {{at: 30, emit: {{id: e3, from: n3, event: m}}}}
      - {{at: 30, emit: {{id: e1, from: n1, event: m}}}}
      - {{at: 30, emit: {{id: r1, from: n1, to: [r], event: m}}}}
      - {{at: 50, leave: {{client: c3, rooms: [r]}}}}
      - {{at: 50, join: {{client: d3, rooms: [r, q]}}}}
      - {{at: 70, emit: {{id: q1, from: n1, to: [q], event: m}}}}
      - {{at: 270, heal: {{node: n3}}}}
      - {{at: 370, emit: {{id: q2, from: n1, to: [q], event: m}}}}
"""

#: What the real run delivered after the heal (at 270 and a few ms), and
#: what never arrived, per adapter and direction; everything else was
#: delivered at once.  n3 is cut from Redis from 10 to 270; c3 leaves r and
#: d3 joins r and q at 50.
MEASURED = {
    ("redis", "to-broker"): ({("e3", "c1")}, set()),
    ("redis", "from-broker"): ({("e1", "c3"), ("e1", "d3"), ("r1", "d3"), ("q1", "d3")}, set()),
    ("redis", "both"): (
        {("e3", "c1"), ("e1", "c3"), ("e1", "d3"), ("r1", "d3"), ("q1", "d3")},
        set(),
    ),
    ("sharded-redis", "to-broker"): ({("e3", "c1"), ("e3", "c3"), ("e3", "d3")}, {("q1", "d3")}),
    ("sharded-redis", "from-broker"): (
        {("e3", "c3"), ("e3", "d3"), ("e1", "c3"), ("e1", "d3"), ("r1", "d3"), ("q1", "d3")},
        set(),
    ),
    ("sharded-redis", "both"): (
        {("e3", "c1"), ("e3", "c3"), ("e3", "d3"), ("e1", "c3"), ("e1", "d3"), ("r1", "d3")},
        {("q1", "d3")},
    ),
}


@pytest.mark.parametrize(("adapter", "direction"), sorted(MEASURED))
def test_a_healed_partition_delivers_what_it_held(adapter: str, direction: str) -> None:
    """Real run (n3's Redis connection held by a proxy from 10 to 270 ms):
    nothing was lost except a sharded room subscription made behind the cut.
    What crossed the cut arrived right after the heal; the classic adapter
    picked n3's recipients when a held copy arrived (r1 reached d3, who had
    joined r meanwhile, not c3, who had left); with the sharded adapter n3's
    own clients got n3's broadcast only when its publish returned (after the
    heal), and d3's SSUBSCRIBE for q made behind a to-broker cut was held too,
    so q1 (before the heal) never reached it, and q2 (after) did.  roomsim:
    the same pairs, late ones between 270 and 280, the lost one as ``not
    subscribed``."""
    sim = play(PARTITION.format(adapter=adapter, direction=direction))
    late, lost = MEASURED[adapter, direction]
    everyone = {"e3": {"c1", "c3", "d3"}, "e1": {"c1", "c3", "d3"}, "r1": {"c3"}, "q1": {"d3"}}
    outcome = fates(sim)
    for (msg, client), (fate, t) in outcome.items():
        if (msg, client) in lost:
            assert fate == "not subscribed", (msg, client)
        elif (msg, client) in late:
            assert fate == "deliver" and 270 < t < 280, (msg, client, fate, t)
        elif msg != "q2":
            assert fate == "deliver" and t < 80, (msg, client, fate, t)
    expected = {(m, c) for m, cs in everyone.items() for c in cs} - {("r1", "c3")}
    if direction == "to-broker":  # r1 reached n3 before c3 left
        expected.add(("r1", "c3"))
    expected |= {("r1", "d3")} & late
    assert got(sim) == (expected - lost) | {("q2", "d3")}
    assert not [r for r in sim.trace.records("drop") if r["reason"] == "partition"]


def test_a_partition_that_ends_the_connections_loses_what_crosses_it() -> None:
    """``lose: true``: a partition long enough for TCP to give up is a loss,
    reason ``partition``, and nothing arrives after the heal."""
    sim = play(
        PARTITION.format(adapter="redis", direction="both").replace(
            "direction: both}", "direction: both, lose: true}"
        )
    )
    outcome = fates(sim)
    assert outcome[("e3", "c1")][0] == "partition"
    assert outcome[("e1", "c3")][0] == "partition"
    assert all(t < 80 or m == "q2" for (m, _), (_, t) in outcome.items())


# -- node crash -------------------------------------------------------------------------
def test_what_a_crashed_node_had_written_still_arrives() -> None:
    """Real run: a node wrote a packet to a client 100 ms away and was
    killed (``kill -9``) right after: the packet arrived 100 ms later, then
    the client saw ``transport close``.  roomsim: m1 written at 10, n1 crashes
    at 11: a gets m1 at 110 and its ``disconnect`` (``transport close``) at
    111; m2, emitted to a by n2 through the broker after the crash, is lost."""
    sim = Cluster(nodes=["n1", "n2"], adapter="redis", client_ms=100)
    a = sim.connect("a", node="n1")
    a.reconnection = False
    seen: list[tuple[float, str]] = []
    a.on("disconnect", lambda reason: seen.append((sim.now, reason)))
    at(sim, 10, lambda: sim.io("n1").to(a.sid).emit("ev", msg_id="m1"))
    at(sim, 11, lambda: sim.crash("n1"))
    at(sim, 12, lambda: sim.io("n2").to(a.sid).emit("ev", msg_id="m2"))
    sim.run()
    assert [(r["t"], r["msg"]) for r in sim.trace.records("deliver")] == [(110, "m1")]
    assert seen == [(111, "transport close")]
    assert check(sim.trace) == []
