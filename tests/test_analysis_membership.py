"""``membership_graph``: who is in which room at an instant, rebuilt from the trace alone."""

from __future__ import annotations

from roomsim.analysis import membership_graph
from roomsim.runner import run_scenario
from roomsim.scenario import parse_scenario
from roomsim.trace import Trace

SCENARIO = """
cluster: {nodes: [n1, n2], adapter: redis}
clients:
  - {name: alice, node: n1, rooms: [lobby]}
  - {name: bob, node: n2, rooms: [lobby, game]}
  - {name: carol, node: n1, namespace: /chat, rooms: [lobby]}
timeline:
  - {at: 10, join: {client: alice, rooms: [game]}}
  - {at: 20, leave: {client: bob, rooms: [lobby]}}
  - {at: 30, disconnect: {client: alice}}
"""


def run(text: str) -> Trace:
    return run_scenario(parse_scenario(text)).trace


def test_rooms_are_per_node_and_namespace() -> None:
    """lobby on n1 in /, lobby on n2 in /, and lobby on n1 in /chat are three rooms."""
    trace = run(SCENARIO)
    sids = {r["client"]: r["sid"] for r in trace.records("connect")}
    G = membership_graph(trace, 15)
    assert G.graph == {"t_ms": 15}
    assert dict(G.nodes(data=True)) == {
        ("node", "n1"): {"kind": "node", "name": "n1"},
        ("node", "n2"): {"kind": "node", "name": "n2"},
        ("client", "alice"): {
            "kind": "client",
            "name": "alice",
            "node": "n1",
            "sid": sids["alice"],
            "namespace": "/",
            "since_ms": 0,
            "bipartite": 0,
        },
        ("room", "n1", "/", "lobby"): {
            "kind": "room",
            "name": "lobby",
            "node": "n1",
            "namespace": "/",
            "members": 1,
            "own": False,
            "bipartite": 1,
        },
        ("room", "n1", "/", "game"): {
            "kind": "room",
            "name": "game",
            "node": "n1",
            "namespace": "/",
            "members": 1,
            "own": False,
            "bipartite": 1,
        },
        ("client", "bob"): {
            "kind": "client",
            "name": "bob",
            "node": "n2",
            "sid": sids["bob"],
            "namespace": "/",
            "since_ms": 0,
            "bipartite": 0,
        },
        ("room", "n2", "/", "lobby"): {
            "kind": "room",
            "name": "lobby",
            "node": "n2",
            "namespace": "/",
            "members": 1,
            "own": False,
            "bipartite": 1,
        },
        ("room", "n2", "/", "game"): {
            "kind": "room",
            "name": "game",
            "node": "n2",
            "namespace": "/",
            "members": 1,
            "own": False,
            "bipartite": 1,
        },
        ("client", "carol"): {
            "kind": "client",
            "name": "carol",
            "node": "n1",
            "sid": sids["carol"],
            "namespace": "/chat",
            "since_ms": 0,
            "bipartite": 0,
        },
        ("room", "n1", "/chat", "lobby"): {
            "kind": "room",
            "name": "lobby",
            "node": "n1",
            "namespace": "/chat",
            "members": 1,
            "own": False,
            "bipartite": 1,
        },
    }
    assert sorted((u, v, d["kind"], d["since_ms"]) for u, v, d in G.edges(data=True)) == sorted(
        [
            (("node", "n1"), ("client", "alice"), "connected", 0),
            (("client", "alice"), ("room", "n1", "/", "lobby"), "member", 0),
            (("client", "alice"), ("room", "n1", "/", "game"), "member", 10),
            (("node", "n2"), ("client", "bob"), "connected", 0),
            (("client", "bob"), ("room", "n2", "/", "lobby"), "member", 0),
            (("client", "bob"), ("room", "n2", "/", "game"), "member", 0),
            (("node", "n1"), ("client", "carol"), "connected", 0),
            (("client", "carol"), ("room", "n1", "/chat", "lobby"), "member", 0),
        ]
    )


def test_membership_changes_with_time() -> None:
    """Every record at or before t counts: a join at t is in, a leave at t is out."""
    trace = run(SCENARIO)

    def rooms(t: float) -> list[tuple[str, str]]:
        G = membership_graph(trace, t)
        return sorted((u[1], v[3]) for u, v, d in G.edges(data=True) if d["kind"] == "member")

    assert rooms(9) == [("alice", "lobby"), ("bob", "game"), ("bob", "lobby"), ("carol", "lobby")]
    assert ("alice", "game") in rooms(10)
    assert ("bob", "lobby") not in rooms(20)
    after = membership_graph(trace, 30)
    assert ("client", "alice") not in after
    assert ("room", "n1", "/", "game") not in after  # an empty room is gone
    assert ("node", "n1") in after


def test_own_rooms_on_request() -> None:
    """Every socket is in the room named by its own id; shown with own_rooms=True."""
    trace = run(SCENARIO)
    sid = trace.records("connect", client="bob")[0]["sid"]
    G = membership_graph(trace, 0, own_rooms=True)
    own = G.nodes["room", "n2", "/", sid]
    assert own["own"] is True and own["members"] == 1
    assert G.has_edge(("client", "bob"), ("room", "n2", "/", sid))
    assert ("room", "n2", "/", sid) not in membership_graph(trace, 0)
