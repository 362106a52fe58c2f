"""``why_not``: each reason a client did or did not get a message, from a run made for it.

Each test plays a tiny scenario (or a few lines of the Python API), then asks
the question of the trace alone; the rule is the test's docstring.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import roomsim
from roomsim.analysis import REASONS, NotInTrace, explain, why_not
from roomsim.analysis.history import History
from roomsim.runner import run_scenario
from roomsim.scenario import load_scenario, parse_scenario
from roomsim.trace import Trace

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def run(text: str) -> Trace:
    return run_scenario(parse_scenario(text)).trace


def reason(trace: Trace, msg: str, client: str) -> str:
    return explain(trace, msg, client).reason


TWO_NODES = """
cluster: {nodes: [n1, n2], adapter: redis}
latency: {client_ms: 5, adapter_ms: 2}
"""


def test_delivered_says_when_and_through_which_node() -> None:
    """A delivered message: the time it arrived, the node, and when that node picked it."""
    trace = run(
        TWO_NODES
        + """
clients: [{name: alice, node: n1, rooms: [game]}, {name: bob, node: n2, rooms: [game]}]
timeline: [{at: 10, emit: {id: m1, from: n1, to: [game], event: tick}}]
"""
    )
    assert why_not(trace, "m1", "bob") == (
        "bob got m1: delivered at t=17 ms via n2, which picked its recipients at t=12 ms."
    )
    assert why_not(trace, "m1", "alice") == (
        "alice got m1: delivered at t=15 ms via n1, which picked its recipients at t=10 ms."
    )


def test_the_sender_is_left_out() -> None:
    """socket.to(room) leaves the sending socket out, even when it is in the room."""
    trace = run(
        """
cluster: {nodes: [n1]}
clients: [{name: alice, node: n1, rooms: [a]}, {name: bob, node: n1, rooms: [a]}]
timeline: [{at: 10, emit: {id: m1, from: alice, to: [a], event: chat}}]
"""
    )
    e = explain(trace, "m1", "alice")
    assert e.reason == "sender"
    assert e.sentence == (
        "alice did not get m1: alice sent it, and socket.to and socket.broadcast leave the"
        " sender out."
    )


def test_not_in_any_target_room() -> None:
    """A socket in none of the ``to`` rooms when its node picks is not a recipient."""
    trace = run(
        """
cluster: {nodes: [n1]}
clients: [{name: alice, node: n1, rooms: [a]}, {name: bob, node: n1, rooms: [b]}]
timeline: [{at: 10, emit: {id: m1, from: n1, to: [a, c], event: news}}]
"""
    )
    assert why_not(trace, "m1", "bob") == (
        "bob did not get m1: bob was in none of m1's target rooms (a, c) on n1 when n1"
        " (the emitting node) picked the recipients at t=10 ms."
    )


def test_a_private_message_names_the_owner_of_the_socket_id() -> None:
    """A socket id in ``to`` is that client's own room; others are not in it."""
    trace = run(
        """
cluster: {nodes: [n1]}
clients: [{name: alice, node: n1}, {name: bob, node: n1}, {name: carol, node: n1}]
timeline: [{at: 10, emit: {id: pm, from: alice, to: [bob], event: private message}}]
"""
    )
    e = explain(trace, "pm", "carol")
    assert e.reason == "not in room"
    assert "(bob's own room)" in e.sentence
    assert reason(trace, "pm", "bob") == "delivered"


def test_excluded_by_except() -> None:
    """``except`` is taken away after the union: a member of an excepted room is left out."""
    trace = run(
        """
cluster: {nodes: [n1]}
clients: [{name: ada, node: n1, rooms: [p1]}, {name: cy, node: n1, rooms: [p1, p3]}]
timeline: [{at: 10, emit: {id: m1, from: n1, to: [p1], except: [p3], event: news}}]
"""
    )
    assert why_not(trace, "m1", "cy") == (
        "cy did not get m1: cy was in p3, which m1 leaves out (except: p3)."
    )
    assert reason(trace, "m1", "ada") == "delivered"


REDIS_TIMING = """
cluster: {nodes: [n1, n2], adapter: redis}
latency: {client_ms: 1, adapter_ms: 10}
clients:
  - {name: local-late, node: n1}
  - {name: remote-leaver, node: n2, rooms: [game]}
  - {name: remote-late, node: n2}
  - {name: remote-gone, node: n2, rooms: [game]}
timeline:
  - {at: 10, emit: {id: round1, from: n1, to: [game], event: tick}}
  - {at: 12, join: {client: local-late, rooms: [game]}}
  - {at: 12, join: {client: remote-late, rooms: [game]}}
  - {at: 14, leave: {client: remote-leaver, rooms: [game]}}
  - {at: 15, disconnect: {client: remote-gone}}
"""


def test_joined_after_its_node_picked_the_recipients() -> None:
    """The emitting node picks at once: a join 2 ms later is too late."""
    trace = run(REDIS_TIMING)
    assert why_not(trace, "round1", "local-late") == (
        "local-late did not get round1: local-late joined game at t=12 ms, after n1 (the"
        " emitting node) picked the recipients at t=10 ms."
    )
    # the same join on the remote node comes before the broker's copy, so it counts
    assert reason(trace, "round1", "remote-late") == "delivered"


def test_left_before_its_node_picked_the_recipients() -> None:
    """A remote node picks when the broker's copy arrives: a leave before that counts."""
    trace = run(REDIS_TIMING)
    assert why_not(trace, "round1", "remote-leaver") == (
        "remote-leaver did not get round1: remote-leaver left game at t=14 ms, before n2"
        " picked the recipients at t=20 ms."
    )


def test_disconnected_before_its_node_picked_the_recipients() -> None:
    """A socket gone before the broker's copy reaches its node is not picked at all."""
    trace = run(REDIS_TIMING)
    assert why_not(trace, "round1", "remote-gone") == (
        "remote-gone did not get round1: remote-gone disconnected from n2 at t=15 ms, before"
        " n2 picked the recipients at t=20 ms."
    )


def test_disconnected_while_in_flight() -> None:
    """Picked, then gone before it arrived: a drop with reason ``disconnected``."""
    trace = run((EXAMPLES / "disconnection.yaml").read_text())
    assert why_not(trace, "in-flight", "bob") == (
        "bob did not get in-flight: n1 wrote it to bob at t=45 ms, but bob disconnected at"
        " t=50 ms while it was in flight, so it was dropped at t=55 ms."
    )


def test_not_connected_when_it_was_emitted() -> None:
    """Before a client connects, or after it has gone, nothing reaches it."""
    trace = run(
        """
cluster: {nodes: [n1]}
clients: [{name: alice, node: n1}, {name: bob, node: n1}, {name: carol, node: n1, connect_at: 50}]
timeline:
  - {at: 10, disconnect: {client: bob}}
  - {at: 20, emit: {id: m1, from: n1, event: news}}
"""
    )
    assert why_not(trace, "m1", "carol") == (
        "carol did not get m1: carol was not connected when it was emitted at t=20 ms (it"
        " connected to n1 at t=50 ms)."
    )
    assert why_not(trace, "m1", "bob") == (
        "bob did not get m1: bob was not connected when it was emitted at t=20 ms (it"
        " disconnected at t=10 ms)."
    )


def test_connecting_to_a_remote_node_before_it_picks_is_in_time() -> None:
    """A remote node picks when the broker's copy comes: a client connecting there between
    the emit and that moment gets the message; one connecting after it does not."""
    trace = run(
        """
cluster: {nodes: [n1, n2], adapter: redis}
latency: {client_ms: 5, adapter_ms: 2}
clients:
  - {name: alice, node: n1}
  - {name: bob, node: n2, connect_at: 21}
  - {name: carol, node: n2, connect_at: 23}
timeline: [{at: 20, emit: {id: m1, from: n1, event: news}}]
"""
    )
    assert why_not(trace, "m1", "bob") == (
        "bob got m1: delivered at t=27 ms via n2, which picked its recipients at t=22 ms."
    )
    assert why_not(trace, "m1", "carol") == (
        "carol did not get m1: carol was not connected when it was emitted at t=20 ms (it"
        " connected to n2 at t=23 ms)."
    )


def test_a_local_emit_stays_on_its_node() -> None:
    """``io.local`` reaches only the emitting node's sockets."""
    trace = run(
        TWO_NODES
        + """
clients: [{name: alice, node: n1, rooms: [a]}, {name: bob, node: n2, rooms: [a]}]
timeline: [{at: 10, emit: {id: m1, from: n1, to: [a], local: true, event: news}}]
"""
    )
    assert why_not(trace, "m1", "bob") == (
        "bob did not get m1: it was a local emit on n1 (only that node's sockets), and bob"
        " was on n2."
    )


def test_the_node_ignored_the_brokers_copy() -> None:
    """A single-room message for a room a node does not have is thrown away there."""
    trace = run(
        TWO_NODES
        + """
clients: [{name: alice, node: n1, rooms: [room1]}, {name: carol, node: n1, rooms: [room1]},
          {name: bob, node: n2, rooms: [lobby]}]
timeline: [{at: 10, emit: {id: m1, from: alice, to: [room1], event: chat}}]
"""
    )
    assert why_not(trace, "m1", "bob") == (
        "bob did not get m1: n2, bob's node, ignored the broker's copy at t=12 ms (unknown"
        " room: no socket on n2 was in room1)."
    )


def test_joined_a_room_after_the_node_ignored_the_copy() -> None:
    """A join after the copy was ignored for an unknown room is named as the cause."""
    trace = run(
        """
cluster: {nodes: [n1, n2], adapter: redis}
latency: {client_ms: 1, adapter_ms: 10}
clients: [{name: alice, node: n1, rooms: [game]}, {name: bob, node: n2}]
timeline:
  - {at: 10, emit: {id: m1, from: n1, to: [game], event: tick}}
  - {at: 25, join: {client: bob, rooms: [game]}}
"""
    )
    assert why_not(trace, "m1", "bob") == (
        "bob did not get m1: bob joined game at t=25 ms, after n2 picked the recipients at t=20 ms."
    )


def test_other_namespace() -> None:
    """Rooms and broadcasts are per namespace: ``io.emit`` does not reach ``/chat``."""
    trace = run(
        """
cluster: {nodes: [n1]}
clients: [{name: alice, node: n1}, {name: carol, node: n1, namespace: /chat}]
timeline: [{at: 10, emit: {id: m1, from: n1, event: news}}]
"""
    )
    assert why_not(trace, "m1", "carol") == (
        "carol did not get m1: carol is in namespace /chat, and m1 was emitted in / (rooms"
        " and broadcasts are per namespace)."
    )


def test_a_step_that_failed_never_emitted() -> None:
    """An emit step whose sender is not connected is an error record, not a message."""
    trace = run(
        """
cluster: {nodes: [n1]}
clients: [{name: alice, node: n1}, {name: carol, node: n1, connect_at: 50}]
timeline: [{at: 10, emit: {id: m1, from: carol, event: chat}}]
"""
    )
    assert why_not(trace, "m1", "alice") == (
        "alice did not get m1: it was never emitted (timeline[0]: client 'carol' is not connected)."
    )


def test_the_run_ended_first() -> None:
    """With ``until``, a message still in flight, or a copy not yet relayed, is said so."""
    trace = run(
        """
cluster: {nodes: [n1, n2], adapter: redis}
latency: {client_ms: 10, adapter_ms: 10}
until: 15
clients: [{name: alice, node: n1}, {name: bob, node: n2}]
timeline: [{at: 10, emit: {id: m1, from: n1, event: news}}]
"""
    )
    assert reason(trace, "m1", "alice") == "in flight at end"
    assert reason(trace, "m1", "bob") == "not relayed"
    assert why_not(trace, "m1", "bob") == (
        "bob did not get m1: n2, bob's node, never received the broker's copy (the trace's"
        " last record is at t=10 ms)."
    )


@pytest.fixture(scope="module")
def api_trace() -> Trace:
    """A Python-API run: an old socket id, a client-to-server event, a dead socket's emit."""
    sim = roomsim.Cluster(nodes=["n1", "n2"], adapter="redis", client_ms=5, adapter_ms=2)
    alice = sim.connect("alice", node="n1")
    bob = sim.connect("bob", node="n2")
    old = bob.sid

    def script(env):
        yield env.timeout(10)
        bob.disconnect()  # the server hears of it at t=15
        yield env.timeout(10)
        sim.connect("bob", node="n2")  # a new socket, a new id
        yield env.timeout(5)
        sim.io("n1").to(old).emit("hi", msg_id="late")
        alice.emit("hello", msg_id="c1")
        sock = alice.socket
        yield env.timeout(5)
        alice.disconnect()
        yield env.timeout(10)
        sock.emit("welcome", msg_id="w1")  # the server socket of a client that has gone

    sim.process(script)
    sim.run()
    return sim.trace


def test_sent_to_an_old_socket_id(api_trace: Trace) -> None:
    """A reconnected client has a new id: a message to its old id reaches nobody."""
    e = explain(api_trace, "late", "bob")
    assert e.reason == "old socket id"
    assert "bob's earlier socket id" in e.sentence and "(since t=20 ms)" in e.sentence


def test_an_event_a_client_sent_to_its_node(api_trace: Trace) -> None:
    """``client.emit`` goes to the client's node, not to other clients."""
    assert why_not(api_trace, "c1", "bob") == (
        "bob did not get c1: it is an event alice sent to its node n1, not a message to clients."
    )
    assert why_not(api_trace, "c1", "alice") == (
        "alice sent c1 to its node n1 (an event for the server, not for clients): it reached"
        " n1 at t=30 ms."
    )


def test_dropped_and_not_published(api_trace: Trace) -> None:
    """``socket.emit`` to a socket already gone is a drop; it is never published."""
    assert why_not(api_trace, "w1", "alice") == (
        "alice did not get w1: it was dropped on n1 at t=40 ms (disconnected)."
    )
    assert why_not(api_trace, "w1", "bob") == (
        "bob did not get w1: n1 did not publish it to the broker, so no other node had it,"
        " and bob was on n2."
    )


def test_unknown_message_or_client_is_an_error() -> None:
    """A question about a name the trace does not know raises NotInTrace (one line)."""
    trace = run(
        """
cluster: {nodes: [n1]}
clients: [{name: alice, node: n1}]
timeline: [{at: 10, emit: {id: m1, from: n1, event: news}}]
"""
    )
    with pytest.raises(NotInTrace, match=r"^no message 'm9' in the trace \(messages: m1\)$"):
        why_not(trace, "m9", "alice")
    with pytest.raises(NotInTrace, match=r"^no client 'zed' in the trace \(clients: alice\)$"):
        why_not(trace, "m1", "zed")


@pytest.mark.parametrize("name", sorted(p.name for p in EXAMPLES.glob("*.yaml")))
def test_every_answer_agrees_with_who_got_what(name: str) -> None:
    """For every example, message and client: "delivered" exactly for the delivered pairs,
    and never an unexplained "in flight at end" in a run that went to its end."""
    trace = run_scenario(load_scenario(EXAMPLES / name)).trace
    records = list(trace)
    got = trace.deliveries()
    msgs = list(dict.fromkeys(r["msg"] for r in records if r.get("msg")))
    for msg in msgs:
        for client in History(records).clients:
            e = explain(records, msg, client)
            assert e.reason in REASONS
            assert (e.reason == "delivered") == ((msg, client) in got), e
            assert e.reason != "in flight at end", e
            assert e.sentence.startswith(client) and e.sentence.endswith(".")
