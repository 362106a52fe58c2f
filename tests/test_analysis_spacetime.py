"""``spacetime``: lanes and hops of a run, filtered by message, room, client and window."""

from __future__ import annotations

from roomsim.analysis import Hop, Lane, Mark, spacetime
from roomsim.analysis.spacetime import BROKER
from roomsim.runner import run_scenario
from roomsim.scenario import parse_scenario
from roomsim.trace import Trace

SCENARIO = """
cluster: {nodes: [n1, n2], adapter: redis}
latency: {client_ms: 5, adapter_ms: 2}
clients:
  - {name: alice, node: n1, rooms: [lobby]}
  - {name: bob, node: n2, rooms: [lobby]}
  - {name: carol, node: n2}
timeline:
  - {at: 10, emit: {id: m1, from: alice, to: [lobby], event: chat}}
  - {at: 20, emit: {id: m2, from: n2, event: news}}
  - {at: 30, join: {client: carol, rooms: [game]}}
  - {at: 40, emit: {id: m3, from: n1, to: [game], event: tick}}
"""

A, B, C = ("client", "alice"), ("client", "bob"), ("client", "carol")
N1, N2 = ("node", "n1"), ("node", "n2")


def run(text: str) -> Trace:
    return run_scenario(parse_scenario(text)).trace


def test_lanes_put_the_broker_between_the_nodes() -> None:
    """n1's clients above n1, the broker in the middle, n2's clients below n2."""
    data = spacetime(run(SCENARIO))
    assert data.lanes == [
        Lane(A, "client", "alice", "n1"),
        Lane(N1, "node", "n1"),
        Lane(BROKER, "broker", "broker"),
        Lane(N2, "node", "n2"),
        Lane(B, "client", "bob", "n2"),
        Lane(C, "client", "carol", "n2"),
    ]
    assert data.messages == ["m1", "m2", "m3"]
    assert (data.start_ms, data.end_ms) == (0, 47)


def test_one_message_hop_by_hop() -> None:
    """emit (alice's socket on n1) -> publish -> relay to each node -> deliver to bob."""
    data = spacetime(run(SCENARIO), msg="m1")
    assert data.hops == [
        Hop("m1", "emit", A, N1, 10, 10, "sent"),
        Hop("m1", "publish", N1, BROKER, 10, 11, "published"),
        Hop("m1", "relay", BROKER, N1, 11, 12, "ignored"),
        Hop("m1", "relay", BROKER, N2, 11, 12, "relayed"),
        Hop("m1", "deliver", N2, B, 12, 17, "delivered"),
    ]
    assert data.marks == [Mark(A, 10, "emit", "m1", "m1")]
    assert [lane.name for lane in data.lanes] == ["alice", "n1", "broker", "n2", "bob"]
    assert (data.start_ms, data.end_ms) == (10, 17)


def test_the_emitting_node_delivers_from_the_emit() -> None:
    """A broadcast from n2: its own clients are written at the emit, n1's at the relay."""
    data = spacetime(run(SCENARIO), msg="m2")
    delivers = [h for h in data.hops if h.kind == "deliver"]
    assert delivers == [
        Hop("m2", "deliver", N2, B, 20, 25, "delivered"),
        Hop("m2", "deliver", N2, C, 20, 25, "delivered"),
        Hop("m2", "deliver", N1, A, 22, 27, "delivered"),
    ]


def test_filter_by_room_keeps_its_messages_and_its_joins() -> None:
    """room=game: only m3 (sent to game) and carol's join of game."""
    data = spacetime(run(SCENARIO), room="game")
    assert {h.msg for h in data.hops} == {"m3"}
    assert [m for m in data.marks if m.msg is None] == [Mark(C, 30, "join", "+game", room="game")]
    assert Hop("m3", "deliver", N2, C, 42, 47, "delivered") in data.hops


def test_filter_by_client_keeps_its_way_only() -> None:
    """client=alice: what alice sent and was sent, not the deliveries to others."""
    data = spacetime(run(SCENARIO), client="alice")
    assert {h.msg for h in data.hops} == {"m1", "m2"}
    assert all(h.dst == A for h in data.hops if h.kind == "deliver")
    # the way of m2 to alice: relayed to n1 only
    assert [h.dst for h in data.hops if h.msg == "m2" and h.kind == "relay"] == [N1]
    assert {m.kind for m in data.marks if m.msg is None} == {"connect", "join"}
    assert B not in {lane.key for lane in data.lanes}


def test_window_keeps_hops_that_overlap_it() -> None:
    """A hop that starts before the window and ends in it is kept; the window is as asked."""
    data = spacetime(run(SCENARIO), start=15, end=26)
    assert (data.start_ms, data.end_ms) == (15, 26)
    assert {h.msg for h in data.hops} == {"m1", "m2"}
    assert all(h.t1_ms >= 15 and h.t0_ms <= 26 for h in data.hops)
    assert len(data.lanes) == 6  # no filter: every lane


def test_no_cap_on_hops() -> None:
    """Every deliver of a large broadcast is a hop (nothing is sampled away)."""
    clients = "\n".join(f"  - {{name: c{i}, node: n{1 + i % 2}}}" for i in range(300))
    trace = run(
        f"""
cluster: {{nodes: [n1, n2], adapter: redis}}
clients:
{clients}
timeline: [{{at: 10, emit: {{id: all, from: n1, event: news}}}}]
"""
    )
    data = spacetime(trace)
    assert sum(h.kind == "deliver" for h in data.hops) == 300


def test_client_to_server_events_are_hops() -> None:
    """A client's event to its node is a client_emit hop ending at the receive."""
    import roomsim

    sim = roomsim.Cluster(nodes=1, client_ms=3)
    alice = sim.connect("alice", node="n1")
    alice.emit("hello", msg_id="c1")
    sim.run()
    data = spacetime(sim.trace)
    assert data.hops == [Hop("c1", "client_emit", A, N1, 0, 3, "received")]
