"""``delivery_graph``: one message's way, nodes, edges and attributes asserted exactly."""

from __future__ import annotations

import networkx as nx
import pytest

import roomsim
from roomsim.analysis import NotInTrace, delivery_graph
from roomsim.runner import run_scenario
from roomsim.scenario import parse_scenario
from roomsim.trace import Trace

THREE_NODES = """
cluster: {nodes: [n1, n2, n3], adapter: redis}
latency: {client_ms: 5, adapter_ms: 2}
clients:
  - {name: alice, node: n1, rooms: [lobby]}
  - {name: bob, node: n2, rooms: [lobby]}
  - {name: carol, node: n3}
timeline:
  - {at: 10, emit: {id: m1, from: alice, to: [lobby], event: chat}}
  - {at: 20, emit: {id: m2, from: n1, to: [lobby, other], event: news}}
"""


def run(text: str) -> Trace:
    return run_scenario(parse_scenario(text)).trace


def sid(trace: Trace, client: str) -> str:
    return trace.records("connect", client=client)[0]["sid"]


def test_a_room_message_from_a_client_through_the_broker() -> None:
    """socket.to("lobby") from alice on n1: n1 publishes on the lobby channel; n1 ignores its
    own copy, n3 (no lobby there) ignores it as an unknown room, n2 picks bob 2 ms after
    the emit, who gets it 5 ms later."""
    trace = run(THREE_NODES)
    G = delivery_graph(trace, "m1")
    channel = "socket.io#/#lobby#"
    assert G.graph == {
        "msg": "m1",
        "event": "chat",
        "sender": "alice",
        "origin": "n1",
        "t_ms": 10,
        "to": ["lobby"],
        "except": [sid(trace, "alice")],
        "namespace": "/",
        "local": False,
        "emit_kind": "room",
    }
    assert dict(G.nodes(data=True)) == {
        ("client", "alice"): {
            "kind": "client",
            "name": "alice",
            "fate": "sender",
            "t_ms": 10,
            "node": "n1",
            "reason": None,
        },
        ("node", "n1"): {
            "kind": "node",
            "name": "n1",
            "fate": "origin",
            "t_ms": 10,
            "targets": 0,
            "reason": None,
        },
        ("broker", channel): {
            "kind": "broker",
            "name": channel,
            "fate": "published",
            "t_ms": 10,
            "reason": None,
        },
        ("node", "n2"): {
            "kind": "node",
            "name": "n2",
            "fate": "relayed",
            "t_ms": 12,
            "targets": 1,
            "reason": None,
        },
        ("node", "n3"): {
            "kind": "node",
            "name": "n3",
            "fate": "ignored",
            "t_ms": 12,
            "targets": 0,
            "reason": "unknown room",
        },
        ("client", "bob"): {
            "kind": "client",
            "name": "bob",
            "fate": "delivered",
            "t_ms": 17,
            "node": "n2",
            "reason": None,
            "latency_ms": 7,
        },
    }
    relay = {"kind": "relay", "t_ms": 12, "targets": 0}
    assert {(u, v): d for u, v, d in G.edges(data=True)} == {
        (("client", "alice"), ("node", "n1")): {
            "kind": "emit",
            "t_ms": 10,
            "fate": "sent",
            "reason": None,
        },
        (("node", "n1"), ("broker", channel)): {
            "kind": "publish",
            "t_ms": 10,
            "fate": "published",
            "reason": None,
        },
        (("broker", channel), ("node", "n1")): {
            **relay,
            "fate": "ignored",
            "reason": "own message",
        },
        (("broker", channel), ("node", "n2")): {
            **relay,
            "targets": 1,
            "fate": "relayed",
            "reason": None,
        },
        (("broker", channel), ("node", "n3")): {
            **relay,
            "fate": "ignored",
            "reason": "unknown room",
        },
        (("node", "n2"), ("client", "bob")): {
            "kind": "deliver",
            "t_ms": 17,
            "fate": "delivered",
            "reason": None,
            "sent_ms": 12,
            "latency_ms": 7,
        },
    }


def test_a_union_of_rooms_is_discarded_where_nobody_is_in_them() -> None:
    """io.to([lobby, other]) names two rooms, so it goes on the namespace channel; every
    other node picks its recipients, and one with none discards its copy.  Bob has left
    by then."""
    trace = run(THREE_NODES + "  - {at: 21, disconnect: {client: bob}}\n")
    G = delivery_graph(trace, "m2")
    channel = "socket.io#/#"
    assert sorted(G.nodes(data="fate")) == [
        (("broker", channel), "published"),
        (("client", "alice"), "delivered"),
        (("node", "n1"), "origin"),
        (("node", "n2"), "discarded"),
        (("node", "n3"), "discarded"),
    ]
    assert G.nodes["node", "n1"]["targets"] == 1
    assert sorted(
        (u[1], v[1], d["kind"], d["t_ms"], d["fate"]) for u, v, d in G.edges(data=True)
    ) == [
        ("n1", "alice", "deliver", 25, "delivered"),
        ("n1", channel, "publish", 20, "published"),
        (channel, "n1", "relay", 22, "ignored"),
        (channel, "n2", "relay", 22, "discarded"),
        (channel, "n3", "relay", 22, "discarded"),
    ]
    assert G.graph["sender"] == G.graph["origin"] == "n1"


def test_a_drop_in_flight_is_an_edge_with_its_reason() -> None:
    """On one node (no broker): alice gets it, bob disconnected while it was in flight."""
    trace = run(
        """
cluster: {nodes: [n1]}
latency: {client_ms: 10}
clients: [{name: alice, node: n1, rooms: [chat]}, {name: bob, node: n1, rooms: [chat]}]
timeline:
  - {at: 45, emit: {id: m1, from: n1, to: [chat], event: msg}}
  - {at: 50, disconnect: {client: bob}}
"""
    )
    G = delivery_graph(trace, "m1")
    assert set(G) == {("node", "n1"), ("client", "alice"), ("client", "bob")}
    assert G.nodes["client", "bob"] == {
        "kind": "client",
        "name": "bob",
        "fate": "dropped",
        "t_ms": 55,
        "node": "n1",
        "reason": "disconnected",
    }
    assert G.edges[("node", "n1"), ("client", "bob")] == {
        "kind": "drop",
        "t_ms": 55,
        "fate": "dropped",
        "reason": "disconnected",
        "sent_ms": 45,
        "latency_ms": 10,
    }
    assert G.edges[("node", "n1"), ("client", "alice")]["fate"] == "delivered"
    assert G.nodes["node", "n1"]["targets"] == 2
    assert G.graph["emit_kind"] == "room"


def test_a_client_to_server_event() -> None:
    """client.emit goes from the client to its node: one edge, received one latency later."""
    sim = roomsim.Cluster(nodes=1, client_ms=3)
    alice = sim.connect("alice", node="n1")
    alice.emit("hello", msg_id="c1")
    sim.run()
    G = delivery_graph(sim.trace, "c1")
    assert list(G.edges(data=True)) == [
        (
            ("client", "alice"),
            ("node", "n1"),
            {"kind": "client_emit", "t_ms": 3, "fate": "received", "reason": None, "sent_ms": 0},
        )
    ]
    assert G.nodes["client", "alice"]["fate"] == "sender"
    assert G.nodes["node", "n1"]["fate"] == "received"
    assert G.graph["emit_kind"] == "client"


def test_private_and_broadcast_kinds() -> None:
    """to: [a socket id] is private; no to at all is a broadcast."""
    trace = run(
        """
cluster: {nodes: [n1]}
clients: [{name: alice, node: n1}, {name: bob, node: n1}]
timeline:
  - {at: 10, emit: {id: pm, from: alice, to: [bob], event: private message}}
  - {at: 20, emit: {id: all, from: n1, event: news}}
"""
    )
    assert delivery_graph(trace, "pm").graph["emit_kind"] == "private"
    G = delivery_graph(trace, "all")
    assert G.graph["emit_kind"] == "broadcast"
    assert sorted(c for kind, c in G if kind == "client") == ["alice", "bob"]
    assert isinstance(G, nx.DiGraph)


def test_unknown_or_failed_messages_raise() -> None:
    """No record of the message, or only its failed step: NotInTrace, one line."""
    trace = run(
        """
cluster: {nodes: [n1]}
clients: [{name: alice, node: n1}, {name: bob, node: n1, connect_at: 50}]
timeline: [{at: 10, emit: {id: m1, from: bob, event: chat}}]
"""
    )
    with pytest.raises(NotInTrace, match="no message 'zz'"):
        delivery_graph(trace, "zz")
    with pytest.raises(NotInTrace, match=r"never emitted \(timeline\[0\]: client 'bob'"):
        delivery_graph(trace, "m1")


def test_a_copy_lost_before_a_node_subscribed() -> None:
    """Sharded adapter: n2 subscribes to game's channel when late joins (in place one hop
    later, 22); a message the broker handles before then (emitted at 19.5, handled at
    21.5) never reaches n2, a relay
    edge with fate dropped, and late's drop.  The emitting node delivers when its publish
    returns, the moment its own copy comes back."""
    trace = run(
        """
cluster: {nodes: [n1, n2], adapter: sharded-redis}
latency: {client_ms: 2, adapter_ms: 4}
clients:
  - {name: host, node: n1, rooms: [game]}
  - {name: late, node: n2, connect_at: 20}
timeline:
  - {at: 19.5, emit: {id: too-soon, from: n1, to: [game], event: tick}}
  - {at: 20, join: {client: late, rooms: [game]}}
"""
    )
    G = delivery_graph(trace, "too-soon")
    channel = ("broker", "socket.io#/#game#")
    assert G.nodes["node", "n2"] == {
        "kind": "node",
        "name": "n2",
        "fate": "dropped",
        "t_ms": 21.5,
        "targets": 0,
        "reason": "not subscribed",
    }
    assert G.edges[channel, ("node", "n2")] == {
        "kind": "relay",
        "t_ms": 21.5,
        "fate": "dropped",
        "targets": 0,
        "reason": "not subscribed",
    }
    assert G.edges[("node", "n2"), ("client", "late")]["fate"] == "dropped"
    assert G.edges[("node", "n1"), ("client", "host")] == {
        "kind": "deliver",
        "t_ms": 25.5,
        "fate": "delivered",
        "reason": None,
        "sent_ms": 23.5,
        "latency_ms": 6,
    }
