"""Failures and network realism, one small scenario per rule, losses worked out by hand.

Each test plays a tiny scenario (a YAML text, or the Python API), works out
in its docstring which ``(message, client)`` pairs are delivered and which
are dropped with which reason, and asserts exactly that, with the node-level
``drop`` records (a copy a whole node never got).  Every run must also pass
:func:`roomsim.analysis.check.check`: nothing lost silently, at most once,
per-connection order, no delivery to a non-member or a disconnected socket.

The rules: ``docs/scenario-format.md`` ("Network and failures", "Timing",
"Trace kinds roomsim adds") and ``/work/shared/socketio-semantics.md`` §2.3,
§2.4, §5, §7.6, §8.

Times below: ``client_ms`` is one way client <-> node; ``adapter_ms`` is node
-> broker -> node, half of it each hop (``hop``).
"""

from __future__ import annotations

import math
import random
import textwrap
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from roomsim import Cluster
from roomsim.analysis.check import check
from roomsim.cli import main
from roomsim.reconnect import Backoff
from roomsim.runner import run_scenario
from roomsim.scenario import load_scenario, parse_scenario

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


# -- helpers --------------------------------------------------------------------------
def play(text: str, **options: Any) -> Cluster:
    """Run a scenario given as YAML text; check the trace on the way."""
    sim = run_scenario(parse_scenario(textwrap.dedent(text)), **options)
    assert check(sim.trace) == []
    return sim


def fates(sim: Cluster, *msgs: str) -> dict[tuple[str, str], str]:
    """``(msg, client) -> "deliver"`` or the drop's reason; a pair ends once at most."""
    out: dict[tuple[str, str], str] = {}
    for r in sim.trace:
        if r["kind"] == "deliver" or (r["kind"] == "drop" and "client" in r):
            if msgs and r["msg"] not in msgs:
                continue
            key = (r["msg"], r["client"])
            assert key not in out, f"{key} ended twice"
            out[key] = "deliver" if r["kind"] == "deliver" else r["reason"]
    return out


def node_drops(sim: Cluster) -> set[tuple[str, str, str]]:
    """``(msg, node, reason)`` of every drop of a whole node's copy."""
    return {
        (r["msg"], r["node"], r["reason"])
        for r in sim.trace
        if r["kind"] == "drop" and "client" not in r
    }


def arrivals(sim: Cluster, client: str) -> list[tuple[float, str]]:
    """``(t, msg)`` of every delivery to ``client``, in arrival order."""
    return [(r["t"], r["msg"]) for r in sim.trace.records("deliver", client=client)]


def emit_times(sim: Cluster) -> dict[str, float]:
    """msg -> the time of its ``emit`` record."""
    return {r["msg"]: r["t"] for r in sim.trace.records("emit")}


def connects(sim: Cluster, client: str) -> list[tuple[float, str, str, bool]]:
    """``(t, node, sid, recovered)`` of each connection of ``client``."""
    return [
        (r["t"], r["node"], r["sid"], r.get("recovered", False))
        for r in sim.trace.records("connect", client=client)
    ]


def delivered(msg: str, *clients: str) -> dict[tuple[str, str], str]:
    """The fates of ``msg`` delivered to each of ``clients``."""
    return {(msg, c): "deliver" for c in clients}


def lost(msg: str, reason: str, *clients: str) -> dict[tuple[str, str], str]:
    """The fates of ``msg`` dropped for each of ``clients`` with ``reason``."""
    return {(msg, c): reason for c in clients}


# -- node crash -----------------------------------------------------------------------
CRASH = """\
    cluster: {{nodes: [n1, n2, n3], adapter: {adapter}, sticky: false}}
    latency: {{client_ms: 10, adapter_ms: 4}}
    clients:
      - {{name: a, node: n1, rooms: [r]}}
      - {{name: b, node: n2, rooms: [r], reconnection_delay: 1000, randomization_factor: 0}}
      - {{name: c, node: n2, rooms: [r], reconnect: false}}
      - {{name: e, node: n2, rooms: [r], reconnection_delay: 1000, randomization_factor: 0}}
      - {{name: d, node: n3, rooms: [r]}}
    timeline:
      - {{at: 10, emit: {{id: early, from: n1, to: [r], event: ev}}}}
      - {{at: 15, emit: {{id: from-n2, from: n2, to: [r], event: ev}}}}
      - {{at: 17, emit: {{id: late-copy, from: n1, to: [r], event: ev}}}}
      - {{at: 20, crash: {{node: n2}}}}
      - {{at: 30, emit: {{id: after, from: n1, to: [r], event: ev}}}}
      - {{at: 2000, emit: {{id: room-again, from: n1, to: [r], event: ev}}}}
      - {{at: 2000, emit: {{id: everyone, from: n3, event: ev}}}}
"""


@pytest.mark.parametrize("adapter", ["redis", "sharded-redis"])
def test_crash_closes_sockets_and_loses_what_is_in_flight(adapter: str) -> None:
    """A crashed node's sockets close with ``transport close`` (a ``disconnect``
    record with ``crash: true``, no ``disconnecting``: no handler runs on a dead
    node); what the node had already written to its clients still arrives (the
    kernel sends it before the connection closes: measured on Socket.IO 4.8.4
    with a SIGKILLed node behind a 100 ms link, the packet written before the
    kill arrived 100 ms later, then ``transport close``); a broker copy
    reaching the dead node is a node-level ``node down`` drop; after the crash
    the node is no longer subscribed, so nothing is recorded for it.

    client_ms 10, hop 2; a (n1), b, c, e (n2), d (n3), all in r; n2 dies at 20.

    * early (n1, t=10): n2 writes b, c, e when the copy arrives (14), before
      the crash: they get it at 24; a, d get it.
    * from-n2 (n2, t=15): n2 writes b, c, e (at 15, or at 19 when the sharded
      publish returns), before the crash: they get it; the published copy
      left n2 before the crash (broker at 17): a, d get it.
    * late-copy (n1, t=17): the broker hands the copies out at 19; n2's arrives
      at 21, on a dead node: a node-level drop; a, d get it.
    * after (n1, t=30): n2 has no subscription any more: a, d, nothing else.
    """
    sim = play(CRASH.format(adapter=adapter))
    crash_records = [
        (r["t"], r["client"], r["reason"], r.get("crash"))
        for r in sim.trace
        if r["kind"] in ("disconnect", "disconnecting")
    ]
    assert crash_records == [
        (20, "b", "transport close", True),
        (20, "c", "transport close", True),
        (20, "e", "transport close", True),
    ]
    assert fates(sim, "early", "from-n2", "late-copy", "after") == {
        **delivered("early", "a", "d", "b", "c", "e"),
        **delivered("from-n2", "a", "d", "b", "c", "e"),
        **delivered("late-copy", "a", "d"),
        **delivered("after", "a", "d"),
    }
    assert node_drops(sim) == {("late-copy", "n2", "node down")}


@pytest.mark.parametrize("adapter", ["redis", "sharded-redis"])
def test_crashed_clients_reconnect_round_robin_over_live_nodes_as_new_sockets(
    adapter: str,
) -> None:
    """After ``transport close`` (seen one trip after the crash: 30) a client
    with ``reconnect: true`` comes back by itself after the backoff (1000 ms,
    no jitter: at 1030) through the load
    balancer, round robin over the nodes that are up: b takes the first node
    in turn (n1), e the next one that is up (n2 is down, so n3).  Each is a new
    socket with a new id, in no room but its own.  c (``reconnect: false``)
    stays away.

    * room-again (n1 to r, t=2000): only a and d are still in r;
    * everyone (io.emit from n3, t=2000): a, b, d, e -- not c.
    """
    sim = play(CRASH.format(adapter=adapter))
    old = {name: connects(sim, name)[0][2] for name in "bce"}
    assert connects(sim, "b")[1:] == [(1030, "n1", sim.client("b").sid, False)]
    assert connects(sim, "e")[1:] == [(1030, "n3", sim.client("e").sid, False)]
    assert connects(sim, "c")[1:] == []
    assert sim.client("b").sid != old["b"] and sim.client("e").sid != old["e"]
    for name in "be":
        client = sim.client(name)
        assert list(client.socket.rooms) == [client.sid]
    assert not sim.client("c").connected
    assert fates(sim, "room-again", "everyone") == {
        **delivered("room-again", "a", "d"),
        **delivered("everyone", "a", "b", "d", "e"),
    }


@pytest.mark.parametrize(
    ("sticky", "restart", "node"),
    [(True, True, "n2"), (True, False, "n1"), (False, True, "n1")],
)
def test_sticky_load_balancer_sends_a_client_back_to_its_node_when_up(
    sticky: bool, restart: bool, node: str
) -> None:
    """With ``sticky: true`` a reconnecting client goes back to its last node if
    it is up (n2, restarted at 500, before b's attempt at 1021: the close is
    seen one trip after the crash, then the 1000 ms backoff); if that node is
    still down, or without ``sticky``, the load balancer goes round robin over
    the nodes that are up, starting with n1."""
    restart_step = "- {at: 500, restart: {node: n2}}" if restart else ""
    sim = play(
        f"""\
        cluster: {{nodes: [n1, n2, n3], adapter: redis, sticky: {str(sticky).lower()}}}
        latency: {{client_ms: 1, adapter_ms: 2}}
        clients:
          - {{name: b, node: n2, reconnection_delay: 1000, randomization_factor: 0}}
        timeline:
          - {{at: 20, crash: {{node: n2}}}}
          {restart_step}
        """
    )
    assert [(t, n) for t, n, _, _ in connects(sim, "b")] == [(0, "n2"), (1021, node)]


def test_a_connect_step_to_a_crashed_node_is_an_error_and_the_run_goes_on() -> None:
    """A step that cannot be done is an ``error`` record, not a crash, and the
    run goes on (format: "A step whose client is not connected ... is an error
    the trace records").  ``connect`` to a node that is down cannot be done: b
    (``reconnect: false``) asks for n2 at 30 while n2 is down; the run goes on
    and the emit at 40 reaches a."""
    sim = play(
        """\
        cluster: {nodes: [n1, n2], adapter: redis}
        latency: {client_ms: 10, adapter_ms: 4}
        clients:
          - {name: a, node: n1, rooms: [r]}
          - {name: b, node: n2, rooms: [r], reconnect: false}
        timeline:
          - {at: 5, crash: {node: n2}}
          - {at: 30, connect: {client: b, node: n2}}
          - {at: 40, emit: {id: m1, from: n1, to: [r], event: ev}}
        """
    )
    errors = [(r["t"], r["step"], r["action"]) for r in sim.trace.records("error")]
    assert errors == [(30, "timeline[1]", "connect")]
    assert fates(sim) == {("m1", "a"): "deliver"}


def test_a_client_whose_first_connection_failed_keeps_its_own_settings() -> None:
    """A client's own link settings (``latency_ms``, ``loss``, ``transport_ms``)
    and reconnection options hold for each of its connections, the first one
    that succeeds included.  c's node is down at its ``connect_at`` (30): an
    ``error``; c connects at 50 (n2 is back at 40), and m1, written by n2 at 60,
    takes c's own 100 ms, arriving at 160, not the default 5."""
    sim = play(
        """\
        cluster: {nodes: [n1, n2], adapter: redis}
        latency: {client_ms: 5, adapter_ms: 2}
        clients:
          - {name: c, node: n2, connect_at: 30, latency_ms: 100}
        timeline:
          - {at: 10, crash: {node: n2}}
          - {at: 40, restart: {node: n2}}
          - {at: 50, connect: {client: c}}
          - {at: 60, emit: {id: m1, from: n2, to: [c], event: ev}}
        """
    )
    assert [(r["t"], r["step"]) for r in sim.trace.records("error")] == [(30, "clients[0]")]
    assert arrivals(sim, "c") == [(160, "m1")]


def test_a_crashed_node_emits_nothing() -> None:
    """A dead node runs no code: an emit step ``from`` a crashed node cannot be
    done (an ``error`` record with the step's ``msg``); nothing is published,
    nobody on another node gets it, and no pair is recorded for the dead node's
    old sockets."""
    sim = play(
        """\
        cluster: {nodes: [n1, n2], adapter: redis}
        latency: {client_ms: 10, adapter_ms: 4}
        clients:
          - {name: a, node: n1, rooms: [r]}
          - {name: b, node: n2, rooms: [r], reconnect: false}
        timeline:
          - {at: 5, crash: {node: n2}}
          - {at: 10, emit: {id: ghost, from: n2, to: [r], event: ev}}
        """
    )
    errors = [(r["t"], r["action"], r.get("msg")) for r in sim.trace.records("error")]
    assert errors == [(10, "emit", "ghost")]
    assert sim.trace.records("publish", msg="ghost") == []
    assert fates(sim) == {}


# -- restart ----------------------------------------------------------------------------
def test_restart_brings_back_an_empty_node_running_the_same_application() -> None:
    """A restarted node is empty (no socket, no room) and runs the same
    application: the cluster-wide ``connection`` handler joins a new socket of
    the restarted node to ``lobby``; the node is on the broker again both ways.

    client_ms 5, hop 1.  a on n1, b on n2 (no reconnection).  n2 dies at 10 and
    comes back at 20; c connects to n2 at 30 (joins lobby in the handler).
    n1 emits to lobby at 40: a at 45, c at 40 + 1 + 1 + 5 = 47; b, gone, nothing.
    n2 emits to everyone at 50: c at 55, a at 50 + 2 + 5 = 57.
    """
    sim = Cluster(nodes=["n1", "n2"], adapter="redis", client_ms=5, adapter_ms=2)
    seen: list[tuple[float, str, str]] = []

    @sim.on("connection")
    def on_connection(socket: Any) -> None:
        socket.join("lobby")
        seen.append((sim.now, socket.node, socket.client.name))

    sim.connect("a", node="n1")
    sim.connect("b", node="n2").reconnection = False
    old = sim.io("n2")
    state: dict[str, Any] = {}
    msgs: dict[str, str] = {}

    def script(env: Any) -> Any:
        yield env.timeout(10)
        sim.crash("n2")
        yield env.timeout(10)
        sim.restart("n2")
        nsp = sim.io("n2").sockets
        state["after restart"] = (dict(nsp.sockets), dict(nsp.adapter.rooms))
        yield env.timeout(10)
        sim.connect("c", node="n2")
        yield env.timeout(10)
        msgs["lobby"] = sim.io("n1").to("lobby").emit("news")
        yield env.timeout(10)
        msgs["all"] = sim.io("n2").emit("news")

    sim.process(script)
    sim.run()
    assert check(sim.trace) == []
    assert state["after restart"] == ({}, {})
    assert sim.io("n2") is not old and not old.alive and sim.io("n2").alive
    assert seen == [(0, "n1", "a"), (0, "n2", "b"), (30, "n2", "c")]
    assert arrivals(sim, "a") == [(45, msgs["lobby"]), (57, msgs["all"])]
    assert arrivals(sim, "c") == [(47, msgs["lobby"]), (55, msgs["all"])]
    assert arrivals(sim, "b") == []
    assert node_drops(sim) == set()


# -- broker down and up ---------------------------------------------------------------------
BROKER = """\
    cluster: {{nodes: [n1, n2], adapter: {adapter}, requests_timeout_ms: 1000}}
    latency: {{client_ms: 10, adapter_ms: 4}}
    clients:
      - {{name: a, node: n1, rooms: [r]}}
      - {{name: a2, node: n1, rooms: [r]}}
      - {{name: b, node: n2, rooms: [r]}}
    timeline:
      - {{at: 5, broker: down}}
      - {{at: 10, emit: {{id: m1, from: n1, to: [r], event: ev}}}}
      - {{at: 11, emit: {{id: m1b, from: a, to: [r], event: ev}}}}
      - {{at: 12, fetch_sockets: {{from: n1, to: [r], timeout: 1000}}}}
      - {{at: 50, broker: up}}
      - {{at: 51, emit: {{id: m2, from: n1, to: [r], event: ev}}}}
      - {{at: 60, emit: {{id: m3, from: n1, to: [r], event: ev}}}}
      - {{at: 70, fetch_sockets: {{from: n1, to: [r], timeout: 1000}}}}
"""


@pytest.mark.parametrize("adapter", ["redis", "sharded-redis"])
@pytest.mark.parametrize(("seed", "first"), [(0, "n2"), (2, "n1")])
def test_broker_down_queues_publishes_until_the_node_reconnects(
    adapter: str, seed: int, first: str
) -> None:
    """Broker down (measured on Redis 7.0 + node-redis 4.7: SIGKILLed, started
    again): what a node publishes meanwhile waits in node-redis's offline
    queue and is sent when that node reconnects; it reaches the nodes that
    reconnected (and subscribed again) before it, which is a race: here the
    nodes reconnect a round trip after ``broker: up``, one after another in
    an order drawn from the seed (``first``).  The classic adapter delivers
    locally at once; the sharded one only when its publish returns, after the
    reconnection (semantics §9.1).

    hop 2; a, a2 on n1; b on n2; all in r.  Down from 5 to 50; the nodes are
    back at 54; n1 publishes m1 (10), m1b (11) and m2 (51, n1 not back yet):
    all three are sent at 54.

    * n2 back first: b gets m1, m1b, m2 at 54 + 2 + 10 = 66; n1 back first:
      they are lost for n2 and b (``broker down``).
    * a, a2 (classic): m1 at 20, m1b (a2) at 21, m2 at 61; (sharded): at 66,
      when the publish returns (54 + 2 hops + 10).
    * m3 (t=60): a, a2, b get it.
    """
    sim = play(BROKER.format(adapter=adapter), seed=seed)
    order = [first, "n1" if first == "n2" else "n2"]
    assert sim.broker.reconnect_order == order
    assert sim.trace.records("broker", state="up")[0]["reconnect_order"] == order
    local = (
        {"m1": 20, "m1b": 21, "m2": 61}
        if adapter == "redis"
        else dict.fromkeys(("m1", "m1b", "m2"), 66)
    )
    assert [(t, m) for t, m in arrivals(sim, "a2") if m != "m3"] == sorted(
        (t, m) for m, t in local.items()
    )
    expected = {
        **delivered("m1", "a", "a2"),
        **delivered("m1b", "a2"),
        **delivered("m2", "a", "a2"),
        **delivered("m3", "a", "a2", "b"),
    }
    if first == "n2":
        expected.update(delivered("m1", "b") | delivered("m1b", "b") | delivered("m2", "b"))
        assert [t for t, m in arrivals(sim, "b") if m != "m3"] == [66, 66, 66]
        assert node_drops(sim) == set()
    else:
        for msg in ("m1", "m1b", "m2"):
            expected.update(lost(msg, "broker down", "b"))
        assert node_drops(sim) == {(m, "n2", "broker down") for m in ("m1", "m1b", "m2")}
    assert fates(sim) == expected
    assert [(r["t"], r["state"]) for r in sim.trace.records("broker")] == [
        (5, "down"),
        (50, "up"),
    ]


@pytest.mark.parametrize("adapter", ["redis", "sharded-redis"])
@pytest.mark.parametrize(("seed", "first"), [(0, "n2"), (2, "n1")])
def test_a_request_made_while_the_broker_is_down_waits_for_the_reconnection(
    adapter: str, seed: int, first: str
) -> None:
    """A ``fetch_sockets`` at 12, while the broker is down: Socket.IO takes
    its own sockets (a, a2), then asks Redis how many nodes listen
    (``NUMSUB``), a command queued like any other until n1 reconnects (54).
    Measured: the answer counts the nodes back by then, and with none but
    itself the request ends at once with the local sockets only (no
    time-out).  So: if n2 is back first, NUMSUB (answered at 56) counts 2,
    the request goes out (broker at 58), n2 gets it at 60 and answers, and
    it ends at 64 with a, a2 and b; if n1 is back first, it counts 1 and the
    request ends at 56 with a and a2.  The same request at 70 finds a, a2
    and b."""
    sim = play(BROKER.format(adapter=adapter), seed=seed)
    results = {r["step"]: r for r in sim.trace.records("fetch_result")}
    during, after = results["timeline[3]"], results["timeline[7]"]
    found = (during["t"], sorted(during["sockets"]), during["error"])
    if first == "n2":
        assert found == (64, ["a", "a2", "b"], None)
    else:
        assert found == (56, ["a", "a2"], None)
    assert (sorted(after["sockets"]), after["error"]) == (["a", "a2", "b"], None)


# -- partitions ---------------------------------------------------------------------------
PARTITION = """\
    cluster: {{nodes: [n1, n2, n3], adapter: {adapter}}}
    latency: {{client_ms: 10, adapter_ms: 4}}
    clients:
      - {{name: a, node: n1, rooms: [r]}}
      - {{name: b, node: n2, rooms: [r]}}
      - {{name: c, node: n3, rooms: [r]}}
    timeline:
      - {{at: 5, partition: {{node: n3, direction: {direction}, lose: true}}}}
      - {{at: 10, emit: {{id: in, from: n1, to: [r], event: ev}}}}
      - {{at: 10, emit: {{id: out, from: n3, to: [r], event: ev}}}}
      - {{at: 50, heal: {{node: n3}}}}
      - {{at: 60, emit: {{id: in2, from: n1, to: [r], event: ev}}}}
      - {{at: 60, emit: {{id: out2, from: n3, to: [r], event: ev}}}}
"""


@pytest.mark.parametrize("adapter", ["redis", "sharded-redis"])
@pytest.mark.parametrize("direction", ["to-broker", "from-broker", "both"])
def test_partition_loses_one_direction_and_heal_restores_both(adapter: str, direction: str) -> None:
    """A partition long enough for the connections to give up (``lose: true``;
    a short one holds and loses nothing: ``test_real_differences``) cuts n3
    from the broker (reason ``partition``):
    ``to-broker`` loses what n3 publishes (``out``: a and b, and n1's and n2's
    copies); ``from-broker`` loses what n3 should receive (``in``: c, and n3's
    copy); ``both`` loses both.  n3's own sockets still get n3's own message
    (local delivery goes on, also for the sharded adapter whose publish fails).
    After ``heal`` (50) in2 and out2 reach everyone."""
    sim = play(PARTITION.format(adapter=adapter, direction=direction))
    expected = {
        **delivered("in", "a", "b", "c"),
        **delivered("out", "a", "b", "c"),
        **delivered("in2", "a", "b", "c"),
        **delivered("out2", "a", "b", "c"),
    }
    drops = set()
    if direction in ("to-broker", "both"):
        expected.update(lost("out", "partition", "a", "b"))
        drops |= {("out", "n1", "partition"), ("out", "n2", "partition")}
    if direction in ("from-broker", "both"):
        expected.update(lost("in", "partition", "c"))
        drops |= {("in", "n3", "partition")}
    assert fates(sim) == expected
    assert node_drops(sim) == drops


# -- volatile ---------------------------------------------------------------------------
def volatile_run(emits: list[str], transport_ms: float = 0) -> Cluster:
    """One client ``v`` on one node (client_ms 10); ``emits`` are timeline lines."""
    lines = "\n".join(f"  - {e}" for e in emits)
    return play(
        f"cluster: {{nodes: [n1]}}\nlatency: {{client_ms: 10}}\n"
        f"clients:\n  - {{name: v, node: n1, transport_ms: {transport_ms}}}\n"
        f"timeline:\n{lines}\n"
    )


def emit_line(msg: str, at: float, volatile: bool) -> str:
    flag = ", volatile: true" if volatile else ""
    return f"{{at: {at}, emit: {{id: {msg}, from: n1, to: [v], event: ev{flag}}}}}"


def test_two_volatile_emits_at_the_same_instant_deliver_one() -> None:
    """§2.3: a volatile packet is dropped for a transport written to at this
    very instant: of two volatile emits at t=10 the first is delivered (20), the
    second dropped (``volatile``)."""
    sim = volatile_run([emit_line("v1", 10, True), emit_line("v2", 10, True)])
    assert fates(sim) == {("v1", "v"): "deliver", ("v2", "v"): "volatile"}
    assert arrivals(sim, "v") == [(20, "v1")]


def test_a_regular_then_a_volatile_emit_deliver_one() -> None:
    """§2.3: a regular emit then a volatile one at the same instant: 1 delivered."""
    sim = volatile_run([emit_line("r1", 10, False), emit_line("v1", 10, True)])
    assert fates(sim) == {("r1", "v"): "deliver", ("v1", "v"): "volatile"}


def test_regular_volatile_regular_deliver_two() -> None:
    """§2.3: regular, volatile, regular at the same instant: 2 delivered, in order."""
    sim = volatile_run(
        [emit_line("r1", 10, False), emit_line("v1", 10, True), emit_line("r2", 10, False)]
    )
    assert fates(sim) == {("r1", "v"): "deliver", ("v1", "v"): "volatile", ("r2", "v"): "deliver"}
    assert arrivals(sim, "v") == [(20, "r1"), (20, "r2")]


def test_a_slow_transport_drops_volatile_packets_while_busy() -> None:
    """``transport_ms: 5``: writing one packet keeps v's transport busy 5 ms, then
    the packet travels client_ms (10).  s1 (regular, t=40) keeps it busy until
    45 and arrives at 55; sv1 (volatile, 43) finds it busy: dropped; sv2 (45)
    finds it free: busy until 50, arrives at 60; sv3 (46): busy, dropped."""
    sim = volatile_run(
        [
            emit_line("s1", 40, False),
            emit_line("sv1", 43, True),
            emit_line("sv2", 45, True),
            emit_line("sv3", 46, True),
        ],
        transport_ms=5,
    )
    assert fates(sim) == {
        ("s1", "v"): "deliver",
        ("sv1", "v"): "volatile",
        ("sv2", "v"): "deliver",
        ("sv3", "v"): "volatile",
    }
    assert arrivals(sim, "v") == [(55, "s1"), (60, "sv2")]
    assert [r["t"] for r in sim.trace.records("drop")] == [43, 46]


# -- loss ---------------------------------------------------------------------------------
def loss_run(seed: int) -> Cluster:
    """lossy (loss 0.3) and fine (no loss) get 40 broadcasts, one every 10 ms."""
    steps = "\n".join(f"  - {{at: {10 * i}, emit: {{id: m{i}, from: n1}}}}" for i in range(40))
    return play(
        f"seed: {seed}\ncluster: {{nodes: [n1]}}\nlatency: {{client_ms: 5}}\n"
        "clients:\n  - {name: lossy, node: n1, loss: 0.3}\n  - {name: fine, node: n1}\n"
        f"timeline:\n{steps}\n"
    )


def test_loss_is_seeded_and_every_lost_pair_is_a_loss_drop() -> None:
    """``loss: 0.3``: each packet to lossy is lost with probability 0.3, drawn
    from the link's seeded stream.  Every (message, lossy) pair ends as exactly
    one ``deliver`` or one ``drop`` with reason ``loss`` (recorded when the
    node writes, at the emit's time); fine gets all 40; the same seed loses the
    same packets, another seed others."""
    sim = loss_run(7)
    emitted = emit_times(sim)
    outcome = fates(sim)
    assert {outcome[(m, "fine")] for m in emitted} == {"deliver"}
    assert {outcome[(m, "lossy")] for m in emitted} == {"deliver", "loss"}
    lost_msgs = sorted(m for m in emitted if outcome[(m, "lossy")] == "loss")
    assert 0 < len(lost_msgs) < 40
    drops = [(r["t"], r["msg"]) for r in sim.trace.records("drop")]
    assert drops == sorted((emitted[m], m) for m in lost_msgs)
    assert [r["reason"] for r in sim.trace.records("drop")] == ["loss"] * len(lost_msgs)
    again = loss_run(7)
    assert list(again.trace.records("drop")) == list(sim.trace.records("drop"))
    assert list(loss_run(8).trace.records("drop")) != list(sim.trace.records("drop"))


# -- latency distributions ---------------------------------------------------------------
def latency_run(client_ms: str, emits: int, every: float, clients: str = "x, y") -> Cluster:
    names = [c.strip() for c in clients.split(",")]
    specs = "\n".join(f"  - {{name: {n}, node: n1}}" for n in names)
    steps = "\n".join(
        f"  - {{at: {every * i}, emit: {{id: m{i}, from: n1}}}}" for i in range(emits)
    )
    return play(
        f"seed: 3\ncluster: {{nodes: [n1]}}\nlatency: {{client_ms: {client_ms}}}\n"
        f"clients:\n{specs}\ntimeline:\n{steps}\n"
    )


def test_uniform_latency_stays_within_its_bounds() -> None:
    """``client_ms: {uniform: [2, 8]}``: every delivery comes between 2 and 8 ms
    after its emit (emits 10 ms apart, so the link's order never holds one
    back), and the latencies vary."""
    sim = latency_run("{uniform: [2, 8]}", emits=30, every=10)
    sent = emit_times(sim)
    latencies = [r["t"] - sent[r["msg"]] for r in sim.trace.records("deliver")]
    assert len(latencies) == 60
    assert all(2 <= ms <= 8 for ms in latencies)
    assert len({round(ms, 6) for ms in latencies}) > 30


@pytest.mark.parametrize(
    "dist",
    ["{uniform: [1, 50]}", "{exponential: 20}", "{lognormal: {median: 10, sigma: 1}}"],
)
def test_random_latency_keeps_each_connection_in_order(dist: str) -> None:
    """§8: per connection, events arrive in emission order, even when each
    packet draws its own latency: 50 broadcasts 1 ms apart, latencies spread
    over tens of ms, still arrive at x and at y in the order sent, at
    non-decreasing times."""
    sim = latency_run(dist, emits=50, every=1)
    sent = emit_times(sim)
    order = [f"m{i}" for i in range(50)]
    for client in ("x", "y"):
        got = arrivals(sim, client)
        assert [m for _, m in got] == order
        assert [t for t, _ in got] == sorted(t for t, _ in got)
        assert max(t - sent[m] for t, m in got) - min(t - sent[m] for t, m in got) > 5


def test_adding_a_client_changes_no_one_elses_latencies() -> None:
    """Each link draws from its own seeded stream: with the same seed, adding z
    (connected first, so it draws before the others) leaves x's and y's
    arrival times exactly as they were."""
    before = latency_run("{lognormal: {median: 10, sigma: 1}}", emits=20, every=3)
    after = latency_run("{lognormal: {median: 10, sigma: 1}}", emits=20, every=3, clients="z, x, y")
    for client in ("x", "y"):
        assert arrivals(after, client) == arrivals(before, client)


def test_a_clients_latency_wins_over_its_nodes_which_wins_over_the_default() -> None:
    """``latency_ms`` of a client wins over ``latency.nodes.<node>.client_ms``,
    which wins over ``latency.client_ms``; a node's ``adapter_ms`` is its own
    link to the broker, half of it each hop.

    Default client_ms 5, adapter_ms 0; n2: client_ms 40, adapter_ms 6 (hop 3).
    a on n1, b on n2, c on n2 with latency_ms 1.  io.emit from n1 at 10: a at
    15; the broker hands n2 its copy after n2's hop (13): b at 53, c at 14.
    io.emit from n2 at 100: c at 101, b at 140; the broker gets it at 103 and
    n1 at once (hop 0): a at 108."""
    sim = play(
        """\
        cluster: {nodes: [n1, n2], adapter: redis}
        latency:
          client_ms: 5
          adapter_ms: 0
          nodes: {n2: {client_ms: 40, adapter_ms: 6}}
        clients:
          - {name: a, node: n1}
          - {name: b, node: n2}
          - {name: c, node: n2, latency_ms: 1}
        timeline:
          - {at: 10, emit: {id: m1, from: n1}}
          - {at: 100, emit: {id: m2, from: n2}}
        """
    )
    assert arrivals(sim, "a") == [(15, "m1"), (108, "m2")]
    assert arrivals(sim, "b") == [(53, "m1"), (140, "m2")]
    assert arrivals(sim, "c") == [(14, "m1"), (101, "m2")]


# -- connection state recovery ---------------------------------------------------------
RECOVERY = """\
    cluster: {{nodes: [n1], adapter: {adapter}}}
    latency: {{client_ms: 10}}
    connection_state_recovery: {{max_disconnection_duration: {keep}}}
    clients:
      - {{name: a, node: n1, rooms: [r, s], reconnection_delay: 1000, randomization_factor: 0}}
      - {{name: b, node: n1, rooms: [r]}}
    timeline:
      - {{at: 10, emit: {{id: m1, from: n1, to: [r], event: ev}}}}
      - {{at: 30, disconnect: {{client: a, reason: {reason}}}}}
      - {{at: 40, emit: {{id: m2, from: n1, to: [r], event: ev}}}}
      - {{at: 41, emit: {{id: m3, from: n1, to: [other], event: ev}}}}
      - {{at: 42, emit: {{id: m4, from: n1, event: ev}}}}
      - {{at: 43, emit: {{id: m5, from: n1, to: [r], except: [s], event: ev}}}}
      - {{at: 44, emit: {{id: m6, from: b, event: ev}}}}
      - {{at: 45, emit: {{id: m7, from: n1, to: [r], event: ev, volatile: true}}}}
      - {{at: 100, connect: {{client: a}}}}
      - {{at: 2000, emit: {{id: m8, from: n1, to: [s], event: ev}}}}
"""


def recovery_run(
    adapter: str = "memory", keep: float = 5000, reason: str = "transport close"
) -> Cluster:
    """RECOVERY with this adapter, session lifetime and reason for a's disconnection."""
    return play(RECOVERY.format(adapter=adapter, keep=keep, reason=reason))


def test_recovery_restores_the_id_the_rooms_and_the_missed_packets() -> None:
    """§8 on the memory adapter: a (in r, s) got m1 (so it has an offset), then
    lost its transport at 30 (a recoverable reason).  It comes back at 100 (the
    ``connect`` step; its own reconnection, due at 1030, then finds it
    connected) and gets back its id (``recovered: true``), its rooms r and s
    (``join`` records again) and the logged packets it missed whose rooms meet
    its saved rooms and whose ``except`` does not: m2 (r), m4 (everyone), m6
    (b's broadcast, except b); not m3 (other), m5 (except s), m7 (volatile:
    never logged).  They are written at once (``pick`` with ``recovered``) and
    arrive at 110; m8 (to s, at 2000) reaches it at 2010."""
    sim = recovery_run()
    first = connects(sim, "a")[0]
    assert connects(sim, "a") == [first, (100, "n1", first[2], True)]
    assert [r["room"] for r in sim.trace.records("join", client="a") if r["t"] == 100] == [
        "r",
        "s",
    ]
    assert arrivals(sim, "a") == [(20, "m1"), (110, "m2"), (110, "m4"), (110, "m6"), (2010, "m8")]
    assert [(r["msg"], r["targets"]) for r in sim.trace.records("pick") if r.get("recovered")] == [
        ("m2", 1),
        ("m4", 1),
        ("m6", 1),
    ]


def test_recovery_restores_the_sockets_data() -> None:
    """§8: the restored socket has the same id and ``data`` and ``recovered`` is
    true; the ``connection`` handler (run after the restore) sees them and the
    rooms it had (``lobby``).  A ``transport close`` at 30; the
    client comes back by itself after 1000 ms (no jitter), at 1030."""
    sim = Cluster(nodes=1, client_ms=10, connection_state_recovery=5000)
    seen: list[tuple[float, str, bool, dict[str, Any], list[str]]] = []

    @sim.on("connection")
    def on_connection(socket: Any) -> None:
        seen.append((sim.now, socket.id, socket.recovered, dict(socket.data), sorted(socket.rooms)))
        socket.data["visits"] = socket.data.get("visits", 0) + 1
        socket.join("lobby")

    client = sim.connect("a", node="n1")
    client.backoff.jitter = 0
    sid = client.sid

    def script(env: Any) -> Any:
        yield env.timeout(10)
        sim.io("n1").emit("hello")  # the client needs an offset to recover
        yield env.timeout(20)
        client.socket.close("transport close")

    sim.process(script)
    sim.run()
    assert check(sim.trace) == []
    assert seen == [
        (0, sid, False, {}, [sid]),
        (1030, sid, True, {"visits": 1}, sorted([sid, "lobby"])),
    ]
    assert client.socket.data == {"visits": 2}


def test_no_recovery_after_a_client_namespace_disconnect() -> None:
    """§8: ``client namespace disconnect`` (the default) keeps no session: a
    comes back (the ``connect`` step at 100; no automatic reconnection after a
    disconnection the client asked for) as a new socket, in no room, and misses
    m2..m7 for good; m8 (to s) does not reach it."""
    sim = recovery_run(reason="client namespace disconnect")
    first, second = connects(sim, "a")
    assert second[0] == 100 and second[2] != first[2] and second[3] is False
    assert arrivals(sim, "a") == [(20, "m1")]
    assert [r for r in sim.trace.records("pick") if r.get("recovered")] == []


def test_no_recovery_after_the_maximum_disconnection_duration() -> None:
    """§8: a session is kept ``max_disconnection_duration`` ms (here 50): a's,
    kept from 30, has expired when a comes back at 100: a new id, no room, no
    missed packet."""
    sim = recovery_run(keep=50)
    first, second = connects(sim, "a")
    assert second[0] == 100 and second[2] != first[2] and second[3] is False
    assert arrivals(sim, "a") == [(20, "m1")]


def test_no_recovery_on_the_redis_adapter() -> None:
    """§8: the classic Redis adapter does not support connection state recovery
    (pub/sub cannot keep packets): the setting changes nothing, a comes back as
    a new socket and misses m2..m7."""
    sim = recovery_run(adapter="redis")
    first, second = connects(sim, "a")
    assert second[0] == 100 and second[2] != first[2] and second[3] is False
    assert arrivals(sim, "a") == [(20, "m1")]


# -- reconnection backoff ---------------------------------------------------------------
class Rands:
    """A stand-in random stream giving fixed values."""

    def __init__(self, values: list[float]) -> None:
        self.values = iter(values)

    def random(self) -> float:
        return next(self.values)


def client_backoff(min_ms: float, max_ms: float, jitter: float, rands: list[float]) -> list[int]:
    """socket.io-client's ``Backoff.duration()``, written out (factor 2)::

    ms = min * 2 ** attempts++
    if jitter: rand = Math.random(); deviation = floor(rand * jitter * ms)
               ms = (floor(rand * 10) & 1) == 0 ? ms - deviation : ms + deviation
    return Math.min(ms, max) | 0
    """
    out = []
    for attempt, rand in enumerate(rands):
        ms = min_ms * 2**attempt
        if jitter:
            deviation = math.floor(rand * jitter * ms)
            ms = ms - deviation if math.floor(rand * 10) & 1 == 0 else ms + deviation
        out.append(int(min(ms, max_ms)))
    return out


def test_backoff_follows_the_socket_io_client_formula() -> None:
    """Delays double from ``reconnection_delay``, are jittered by
    ``randomization_factor`` (down when ``floor(rand * 10)`` is even, up when odd)
    and capped at ``reconnection_delay_max``; a success starts again from the
    shortest.  By hand, 1000/5000/0.5 with rands .25 .15 .15 .99 0: 1000 - 125,
    2000 + 150, 4000 + 300, min(8000 + 3960, 5000), min(16000, 5000)."""
    rands = [0.25, 0.15, 0.15, 0.99, 0.0]
    backoff = Backoff(1000, 5000, 0.5, Rands(rands))
    assert [backoff.duration() for _ in rands] == [875, 2150, 4300, 5000, 5000]
    assert client_backoff(1000, 5000, 0.5, rands) == [875, 2150, 4300, 5000, 5000]
    stream = random.Random(1)
    many = [stream.random() for _ in range(8)]
    for low, high, jitter in [(1000, 5000, 0.5), (300, 100_000, 0.9), (250, 700, 0.0)]:
        backoff = Backoff(low, high, jitter, Rands(many))
        assert [backoff.duration() for _ in many] == client_backoff(low, high, jitter, many)
    backoff.reset()
    assert backoff.attempts == 0


def test_reconnection_backs_off_while_no_node_is_up() -> None:
    """The only node dies at 10 and comes back at 2000.  Without jitter, a's
    attempts come after 300, 600, then 1000 (capped) and 1000: 310, 910, 1910
    (no node up yet), 2910 -- connected then.  Success resets the backoff: after
    a second crash at 3000 (restart 3100) a is back at 3300."""
    sim = play(
        """\
        cluster: {nodes: [n1]}
        clients:
          - {name: a, node: n1, reconnection_delay: 300, reconnection_delay_max: 1000,
             randomization_factor: 0}
        timeline:
          - {at: 10, crash: {node: n1}}
          - {at: 2000, restart: {node: n1}}
          - {at: 3000, crash: {node: n1}}
          - {at: 3100, restart: {node: n1}}
        """
    )
    assert [t for t, _, _, _ in connects(sim, "a")] == [0, 2910, 3300]


def test_jittered_reconnection_stays_within_the_randomization_bounds() -> None:
    """With ``randomization_factor: 0.5`` the first attempt comes within
    ``1000 * (1 +- 0.5)`` ms of the transport close, a whole number of ms, the
    same for the same seed."""

    def reconnect_time(seed: int) -> float:
        sim = play(
            f"""\
            seed: {seed}
            cluster: {{nodes: [n1, n2], adapter: redis}}
            clients:
              - {{name: a, node: n1}}
            timeline:
              - {{at: 10, crash: {{node: n1}}}}
            """
        )
        return connects(sim, "a")[1][0]

    times = [reconnect_time(seed) for seed in range(6)]
    assert all(510 <= t <= 1510 and float(t - 10).is_integer() for t in times)
    assert len(set(times)) > 1
    assert reconnect_time(3) == times[3]


# -- the example and the command line --------------------------------------------------
def test_the_failures_example_passes_the_checks() -> None:
    """examples/failures.yaml: every pair targeted is delivered or dropped with a
    documented reason, and ``check`` finds nothing."""
    sim = run_scenario(load_scenario(EXAMPLES / "failures.yaml"))
    assert check(sim.trace) == []
    reasons = {r["reason"] for r in sim.trace.records("drop")}
    assert reasons <= {"disconnected", "node down", "broker down", "partition", "loss"}
    assert {"node down", "broker down", "partition", "loss"} <= reasons


def test_roomsim_run_on_the_failures_example_exits_0_and_shows_what_was_lost() -> None:
    """``roomsim run examples/failures.yaml`` exits 0 (no violation) and its
    summary has a ``lost`` column."""
    result = CliRunner().invoke(main, ["run", str(EXAMPLES / "failures.yaml")])
    assert result.exit_code == 0, result.output
    header = next(line for line in result.output.splitlines() if line.startswith("emit kind"))
    assert "lost" in header.split()
    assert "checks: ok" in result.output


# -- found by the property tests ---------------------------------------------------------
def test_check_accepts_the_sharded_adapters_late_local_delivery() -> None:
    """§2.4: with the sharded adapter a broadcast's local delivery waits for the
    publish round trip, so a later ``local`` emit can reach a socket first: m1
    (io.emit at 0) is written to x at 4 (hop 2), m2 (io.local.emit at 1) at 1.
    x gets m2 then m1, as in Socket.IO; the node wrote them in that order, so
    per-connection order holds and ``check`` must find nothing."""
    sim = run_scenario(
        parse_scenario(
            """\
            cluster: {nodes: [n1], adapter: sharded-redis}
            latency: {client_ms: 0, adapter_ms: 4}
            clients:
              - {name: x, node: n1}
            timeline:
              - {at: 0, emit: {id: m1, from: n1, event: ev}}
              - {at: 1, emit: {id: m2, from: n1, event: ev, local: true}}
            """
        )
    )
    assert arrivals(sim, "x") == [(1, "m2"), (4, "m1")]
    assert check(sim.trace) == []


def test_a_run_ends_when_no_node_can_come_back() -> None:
    """With every node down and no step left that could restart one, a client stops
    retrying after its next attempt (a ``reconnect_failed`` record) and the run ends."""
    sim = play(
        """\
        cluster: {nodes: 1}
        clients: [{name: a, node: n1}]
        timeline: [{at: 5, crash: {node: n1}}]
        """
    )
    failed = sim.trace.records("reconnect_failed")
    assert [(r["client"], r["attempts"]) for r in failed] == [("a", 1)]
    assert failed[0]["t"] > 5


@pytest.mark.parametrize("adapter", ["redis", "sharded-redis"])
def test_what_is_still_held_when_the_run_ends_is_dropped_not_lost(adapter: str) -> None:
    """A node cut ``to-broker`` and never healed holds its publishes to the end
    of the run (TCP keeps the bytes); a run that ends with them still held has
    lost them, so each socket they target on the other nodes gets a ``drop``
    with reason ``partition`` (nothing lost silently).  The node's own member
    still gets it at once with ``redis``; with ``sharded-redis`` local delivery
    waits for the publish, which never returns, so it gets nothing either (no
    outcome is owed to it: its node never picked)."""
    sim = play(
        f"""
        cluster: {{nodes: [n1, n2], adapter: {adapter}}}
        clients:
          - {{name: a, node: n1, rooms: [r]}}
          - {{name: b, node: n2, rooms: [r]}}
        timeline:
          - {{at: 10, partition: {{node: n1, direction: to-broker}}}}
          - {{at: 20, emit: {{id: m1, from: n1, to: [r]}}}}
        """
    )
    got = fates(sim, "m1")
    assert got[("m1", "b")] == "partition"
    if adapter == "redis":
        assert got[("m1", "a")] == "deliver"


@pytest.mark.parametrize("adapter", ["redis", "sharded-redis"])
def test_what_is_queued_for_a_broker_that_never_comes_back_is_dropped(adapter: str) -> None:
    """A publish made while the broker is down waits in the node's offline
    queue; if the run ends with the broker still down it never goes out, and
    each socket it targets on the other nodes gets a ``drop`` with reason
    ``broker down``."""
    sim = play(
        f"""
        cluster: {{nodes: [n1, n2], adapter: {adapter}}}
        clients:
          - {{name: a, node: n1, rooms: [r]}}
          - {{name: b, node: n2, rooms: [r]}}
        timeline:
          - {{at: 10, broker: down}}
          - {{at: 20, emit: {{id: m1, from: n1, to: [r]}}}}
        """
    )
    assert fates(sim, "m1")[("m1", "b")] == "broker down"
