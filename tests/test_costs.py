"""What fan-out costs: counts of a small run worked out by hand, and the sizing result.

A broadcast costs one publish; the broker hands a copy to every node
subscribed to its channel (the emitting node's own echo included); a copy
is *discarded* when the node throws it away (its own echo, a room it does
not have, or no local recipient).  The classic Redis adapter hands every
broadcast to every node (§7.2 of /work/shared/socketio-semantics.md); the
sharded adapter in ``dynamic`` mode only to the nodes that have the room
(§7.3).
"""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

import roomsim
from roomsim.analysis import run_metrics
from roomsim.analysis.costs import emit_costs

KEYS = ("published", "received", "discarded", "useful_fraction", "deliveries", "broker_bytes")


def small_run(adapter: str) -> roomsim.Cluster:
    """n1: a in r.  n2: b in r, c in s.  n3: d in no room.  At t=10:
    m1 = n1 to r ("hello"), m2 = n2 to everyone, m3 = n3 to s."""
    sim = roomsim.Cluster(nodes=3, adapter=adapter, seed=0, client_ms=5, adapter_ms=2)
    sim.connect("a", node="n1", rooms=["r"])
    sim.connect("b", node="n2", rooms=["r"])
    sim.connect("c", node="n2", rooms=["s"])
    sim.connect("d", node="n3")
    sim.run(until=10)
    sim.io("n1").to("r").emit("ev", "hello")
    sim.io("n2").emit("ev")
    sim.io("n3").to("s").emit("ev")
    sim.run()
    return sim


def classic_message_bytes(uid: str, data: list[Any], rooms: list[str]) -> int:
    """Bytes of a broadcast as the classic Redis adapter publishes it: compact JSON of
    ``[uid, {type: 2, data, nsp}, {rooms, except, flags}]`` (socket.io-redis-adapter's
    message, written from the format, not from roomsim's encoder)."""
    packet = {"type": 2, "data": data, "nsp": "/"}
    opts = {"rooms": rooms, "except": [], "flags": {}}
    return len(json.dumps([uid, packet, opts], separators=(",", ":")).encode("utf-8"))


def sharded_message_bytes(uid: str, data: list[Any], rooms: list[str]) -> int:
    """Bytes of a broadcast as the sharded adapter publishes it: a ClusterAdapter
    message ``{uid, nsp, type: 3 (BROADCAST), data: {opts, packet}}``, the packet
    without its ``nsp``, in compact JSON."""
    opts = {"rooms": rooms, "except": [], "flags": {}}
    body = {"opts": opts, "packet": {"type": 2, "data": data}}
    message = {"uid": uid, "nsp": "/", "type": 3, "data": body}
    return len(json.dumps(message, separators=(",", ":")).encode("utf-8"))


def metrics(sim: roomsim.Cluster) -> dict[str, Any]:
    m = run_metrics(sim.trace.tally)
    return {k: m[k] for k in KEYS}


def test_classic_costs_by_hand():
    """Classic Redis adapter, every node pattern-subscribed to every broadcast:

    ====  ==========  ====================================  =========  ==========
    msg   channel     copies (node: what it makes of it)    discarded  delivered
    ====  ==========  ====================================  =========  ==========
    m1    ...#r#      n1 own echo, n2 b, n3 unknown room    2          a, b
    m2    ...#        n1 a, n2 own echo, n3 d               1          b, c, a, d
    m3    ...#s#      n1 unknown room, n2 c, n3 unknown     2          c
    ====  ==========  ====================================  =========  ==========

    (n3 lacks s, so its own m3 is thrown away as an unknown room before the
    uid is looked at.)  published 3, received 9, discarded 5, useful 4/9,
    deliveries 7.

    Bytes, compact JSON ``[uid, packet, opts]`` with a 6-character uid:
    ``["xxxxxx",`` 10 + packet + ``,`` 1 + opts + ``]`` 1, where the packet
    ``{"type":2,`` 10 + ``"data":[...],`` + ``"nsp":"/"}`` 10 and the opts
    ``{"rooms":[...],`` + ``"except":[],`` 12 + ``"flags":{}}`` 11.

    - m1: data ``["ev","hello"]`` -> ``"data":["ev","hello"],`` 22, packet 42;
      rooms ``["r"]`` -> ``{"rooms":["r"],`` 15, opts 38; 10+42+1+38+1 = 92.
    - m2: data ``["ev"]`` -> 14, packet 34; rooms ``[]`` -> 12, opts 35; 81.
    - m3: packet 34; rooms ``["s"]`` -> opts 38; 84.

    broker_bytes = 92 + 81 + 84 = 257.  The sizes are computed below from the
    message itself (each node's adapter uid and the format), then checked
    against these hand counts.
    """
    sim = small_run("redis")
    uid = {node: sim.io(node).of("/").adapter.uid for node in ("n1", "n2", "n3")}
    assert {len(u) for u in uid.values()} == {6}
    size = {
        "m1": classic_message_bytes(uid["n1"], ["ev", "hello"], ["r"]),
        "m2": classic_message_bytes(uid["n2"], ["ev"], []),
        "m3": classic_message_bytes(uid["n3"], ["ev"], ["s"]),
    }
    assert size == {"m1": 92, "m2": 81, "m3": 84}  # the hand counts above
    assert metrics(sim) == {
        "published": 3,
        "received": 9,
        "discarded": 5,
        "useful_fraction": 4 / 9,
        "deliveries": 7,
        "broker_bytes": sum(size.values()),
    }
    assert emit_costs(list(sim.trace)) == [
        {
            "msg": "m1",
            "node": "n1",
            "published": 1,
            "bytes": size["m1"],
            "received": 3,
            "discarded": 2,
            "useful_fraction": 1 / 3,
            "deliveries": 2,
        },
        {
            "msg": "m2",
            "node": "n2",
            "published": 1,
            "bytes": size["m2"],
            "received": 3,
            "discarded": 1,
            "useful_fraction": 2 / 3,
            "deliveries": 4,
        },
        {
            "msg": "m3",
            "node": "n3",
            "published": 1,
            "bytes": size["m3"],
            "received": 3,
            "discarded": 2,
            "useful_fraction": 1 / 3,
            "deliveries": 1,
        },
    ]
    assert [
        (r["msg"], r["node"], r["targets"], r.get("ignored")) for r in sim.trace.records("relay")
    ] == [
        ("m1", "n1", 0, "own message"),
        ("m1", "n2", 1, None),
        ("m1", "n3", 0, "unknown room"),
        ("m2", "n1", 1, None),
        ("m2", "n2", 0, "own message"),
        ("m2", "n3", 1, None),
        ("m3", "n1", 0, "unknown room"),
        ("m3", "n2", 1, None),
        ("m3", "n3", 0, "unknown room"),
    ]
    publish_bytes = sum(r["bytes"] for r in sim.trace.records("publish"))
    assert publish_bytes == sum(sim.broker.bytes.values()) == sum(size.values())
    assert dict(sim.broker.received_by_node) == {"n1": 3, "n2": 3, "n3": 3}
    assert dict(sim.broker.published_by_node) == {"n1": 1, "n2": 1, "n3": 1}


def test_sharded_dynamic_costs_by_hand():
    """Sharded adapter, ``dynamic`` mode: n1 and n2 subscribe r's channel,
    n2 s's; everyone the main channel.

    ====  ==========  ====================================  =========  ==========
    msg   channel     copies                                discarded  delivered
    ====  ==========  ====================================  =========  ==========
    m1    ...#r#      n1 own echo, n2 b                     1          b, a
    m2    ...#        n1 a, n2 own echo, n3 d               1          a, d, b, c
    m3    ...#s#      n2 c (n3 is not subscribed: no echo)  0          c
    ====  ==========  ====================================  =========  ==========

    published 3, received 6, discarded 2, useful 4/6, deliveries 7 (the same
    seven as the classic adapter).  Bytes: each message's size computed from
    the ClusterAdapter message (the wire packet itself is pinned in
    test_adapters.py).
    """
    sim = small_run("sharded-redis")
    uid = {node: sim.io(node).of("/").adapter.uid for node in ("n1", "n2", "n3")}
    size = {
        "m1": sharded_message_bytes(uid["n1"], ["ev", "hello"], ["r"]),
        "m2": sharded_message_bytes(uid["n2"], ["ev"], []),
        "m3": sharded_message_bytes(uid["n3"], ["ev"], ["s"]),
    }
    m = metrics(sim)
    assert m == {
        "published": 3,
        "received": 6,
        "discarded": 2,
        "useful_fraction": 4 / 6,
        "deliveries": 7,
        "broker_bytes": sum(size.values()),
    }
    publish_bytes = sum(r["bytes"] for r in sim.trace.records("publish"))
    assert m["broker_bytes"] == publish_bytes == sum(sim.broker.bytes.values())
    rows = emit_costs(list(sim.trace))
    assert [
        (
            r["msg"],
            r["published"],
            r["received"],
            r["discarded"],
            r["useful_fraction"],
            r["deliveries"],
        )
        for r in rows
    ] == [
        ("m1", 1, 2, 1, 0.5, 2),
        ("m2", 1, 3, 1, 2 / 3, 4),
        ("m3", 1, 1, 0, 1.0, 1),
    ]
    assert sum(r["bytes"] for r in rows) == publish_bytes
    assert {r["msg"]: r["bytes"] for r in rows} == size
    assert dict(sim.broker.received_by_node) == {"n1": 2, "n2": 3, "n3": 1}
    assert sim.trace.deliveries() == small_run("redis").trace.deliveries()


# -- the sizing result -----------------------------------------------------------------

N_NODES, PER_NODE, ROOM_SIZE, EMITS = 100, 100, 10, 100


@pytest.fixture(scope="module")
def population() -> dict[str, Any]:
    """100 nodes with 100 clients each; the 10,000 clients shuffled into
    1,000 rooms of 10 (so a room's members sit on about 9.6 nodes); 100
    single-room broadcasts, each from a random node to a random room."""
    rng = random.Random(20240607)
    nodes = [f"n{i}" for i in range(1, N_NODES + 1)]
    node_of = {f"c{i}": nodes[i // PER_NODE] for i in range(N_NODES * PER_NODE)}
    order = list(node_of)
    rng.shuffle(order)
    rooms = {
        f"room{k}": order[k * ROOM_SIZE : (k + 1) * ROOM_SIZE]
        for k in range(len(order) // ROOM_SIZE)
    }
    room_of = {client: room for room, members in rooms.items() for client in members}
    emits = [(rng.choice(nodes), rng.choice(list(rooms))) for _ in range(EMITS)]
    return {"nodes": nodes, "node_of": node_of, "room_of": room_of, "rooms": rooms, "emits": emits}


def sizing_run(population: dict[str, Any], adapter: str, mode: str = "dynamic") -> roomsim.Cluster:
    sim = roomsim.Cluster(
        nodes=population["nodes"], adapter=adapter, subscription_mode=mode, adapter_ms=2
    )
    room_of = population["room_of"]
    for client, node in population["node_of"].items():
        sim.connect(client, node=node, rooms=[room_of[client]])
    sim.run(until=10)
    for node, room in population["emits"]:
        sim.io(node).to(room).emit("ev")
    sim.run()
    return sim


@pytest.mark.slow
def test_classic_discards_most_of_what_nodes_receive_and_sharding_almost_nothing(population):
    """The sizing result: with rooms much smaller than the cluster, the
    classic adapter hands each broadcast to all 100 nodes, of which only the
    ~9.6 holding a member (minus the emitter, which already delivered it)
    use it: about 90 % of what nodes receive is discarded.  Sharding with a
    channel per room (``dynamic``, ``dynamic-private``) hands it only to
    the nodes holding a member; they discard only the emitter's own echo
    when the emitter holds a member too.  ``static`` sharding uses the main
    channel: the classic adapter's cost.  Every adapter delivers exactly the
    same (message, client) pairs: each broadcast to its room's 10 members.

    Exact counts from the population, per emit from node e to room R whose
    members sit on nodes N(R): classic and static receive 100 copies and
    discard 100 - |N(R) - {e}|; dynamic receives |N(R)| and discards 1 if
    e is in N(R), else 0.
    """
    node_of, rooms = population["node_of"], population["rooms"]
    member_nodes = [{node_of[c] for c in rooms[room]} for _, room in population["emits"]]
    emitters = [node for node, _ in population["emits"]]
    expected_pairs = {
        (f"m{k + 1}", client)
        for k, (_, room) in enumerate(population["emits"])
        for client in rooms[room]
    }
    all_copies = {
        "received": N_NODES * EMITS,
        "discarded": sum(
            N_NODES - len(n - {e}) for n, e in zip(member_nodes, emitters, strict=True)
        ),
    }
    per_room = {
        "received": sum(len(n) for n in member_nodes),
        "discarded": sum(e in n for n, e in zip(member_nodes, emitters, strict=True)),
    }
    expected = {
        ("redis", "dynamic"): all_copies,
        ("sharded-redis", "static"): all_copies,
        ("sharded-redis", "dynamic"): per_room,
        ("sharded-redis", "dynamic-private"): per_room,
    }
    got = {}
    for adapter, mode in expected:
        sim = sizing_run(population, adapter, mode)
        m = run_metrics(sim.trace.tally)
        assert (adapter, mode, sim.trace.deliveries()) == (adapter, mode, expected_pairs)
        assert (m["published"], m["deliveries"], m["drops"]) == (EMITS, EMITS * ROOM_SIZE, 0)
        got[adapter, mode] = {"received": m["received"], "discarded": m["discarded"]}
    assert got == expected
    fraction = {key: c["discarded"] / c["received"] for key, c in got.items()}
    assert 0.85 <= fraction["redis", "dynamic"] <= 0.95
    assert 0.85 <= fraction["sharded-redis", "static"] <= 0.95
    assert fraction["sharded-redis", "dynamic"] < 0.15
    assert fraction["sharded-redis", "dynamic-private"] < 0.15
