"""The cluster adapters, behaviour by behaviour: who gets what, when, through which channel.

Each test runs a tiny cluster and asserts on the trace (or on what the
broker saw).  The rules come from /work/shared/socketio-semantics.md (§2.4
local delivery timing, §3 acknowledgements, §6 utility methods, §7 the
Redis adapters); the section is named in each docstring.

Unless a test says otherwise: ``client_ms=5`` (node <-> client, one way) and
``adapter_ms=2`` (node -> broker -> node, so one hop is 1 ms), the broker's
own service times are 0, and nodes are n1, n2, n3.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

import roomsim
from roomsim.adapters.requests import RemoteSocket

NODES = ["n1", "n2", "n3"]
MAIN = "socket.io#/#"
REQUEST = "socket.io-request#/#"
TIMEOUT_ERROR = "operation has timed out"


def make(adapter: str, *, nodes: list[str] | None = None, **options: Any) -> roomsim.Cluster:
    """A cluster with the defaults of this file (memory: one node, n1)."""
    options.setdefault("client_ms", 5)
    options.setdefault("adapter_ms", 2)
    if nodes is None:
        nodes = ["n1"] if adapter == "memory" else NODES
    return roomsim.Cluster(nodes=nodes, adapter=adapter, seed=0, **options)


def at(sim: roomsim.Cluster, *steps: tuple[float, Callable[[], Any]]) -> None:
    """Run each ``(time, action)`` at its time (times ascending)."""

    def script(env: Any) -> Any:
        for t, action in steps:
            yield env.timeout(t - env.now)
            action()

    sim.process(script)


def deliveries(sim: roomsim.Cluster, **match: Any) -> list[tuple[float, str, str]]:
    """``(t, msg, client)`` of every delivery, in trace order."""
    return [(r["t"], r["msg"], r["client"]) for r in sim.trace.records("deliver", **match)]


def publishes(sim: roomsim.Cluster) -> list[tuple[float, str, str]]:
    """``(t, node, channel)`` of every publish record."""
    return [(r["t"], r["node"], r["channel"]) for r in sim.trace.records("publish")]


def sid(sim: roomsim.Cluster, client: str) -> str:
    return sim.client(client).sid  # type: ignore[return-value]


def uid(sim: roomsim.Cluster, node: str) -> str:
    return sim.io(node).sockets.adapter.uid  # type: ignore[attr-defined]


def silence(sim: roomsim.Cluster, node: str, channel: str) -> None:
    """Make ``node`` deaf to ``channel``: still subscribed (NUMSUB counts it), never answers."""
    subs = [s for s in sim.broker.subscribers(channel) if s.node == node]
    assert len(subs) == 1
    subs[0].listener = lambda _channel, _message: None


# -- 1. local delivery timing (§2.4) -----------------------------------------------


@pytest.mark.parametrize(
    ("adapter", "expected"),
    [
        ("memory", [(15, "m1", "a")]),
        ("redis", [(15, "m1", "a"), (17, "m1", "b")]),
        ("sharded-redis", [(17, "m1", "b"), (17, "m1", "a")]),
    ],
)
def test_local_delivery_waits_for_the_publish_only_with_the_sharded_adapter(adapter, expected):
    """§2.4: the in-memory and classic Redis adapters deliver to the emitting
    node's own sockets inside ``emit`` (arrival: emit_t + client_ms = 15); the
    sharded adapter (a ClusterAdapter) awaits its SPUBLISH first, so its own
    sockets get the message a broker round trip later (emit_t + adapter_ms +
    client_ms = 17), together with the other nodes' sockets."""
    sim = make(adapter)
    sim.connect("a", node="n1", rooms=["r"])
    if adapter != "memory":
        sim.connect("b", node="n2", rooms=["r"])
    at(sim, (10, lambda: sim.io("n1").to("r").emit("ev")))
    sim.run()
    assert deliveries(sim) == expected


@pytest.mark.parametrize(
    ("adapter", "expected"),
    [
        ("redis", [(15, "m1", "a"), (17, "m1", "b")]),
        (
            "sharded-redis",
            [(17, "m1", "b"), (17, "m1", "a"), (17, "m1", "same"), (17, "m1", "soon")],
        ),
    ],
)
def test_a_join_on_the_emitting_node_during_the_publish_counts_only_for_sharded(adapter, expected):
    """§2.4: the sharded adapter picks its local recipients when the publish
    returns (emit_t + adapter_ms = 12), so sockets that join the room on the
    emitting node at the emit's own instant (``same``, t=10) or within the
    round trip (``soon``, t=11.5) still get it; one joining after (``late``,
    t=12.5) does not.  The classic adapter picked them inside ``emit``: none
    of the three gets it (and its own echo, at t=12, is thrown away)."""
    sim = make(adapter)
    sim.connect("a", node="n1", rooms=["r"])
    sim.connect("b", node="n2", rooms=["r"])

    def emit_then_join() -> None:
        sim.io("n1").to("r").emit("ev")
        sim.connect("same", node="n1", rooms=["r"])

    at(
        sim,
        (10, emit_then_join),
        (11.5, lambda: sim.connect("soon", node="n1", rooms=["r"])),
        (12.5, lambda: sim.connect("late", node="n1", rooms=["r"])),
    )
    sim.run()
    assert deliveries(sim) == expected


def test_sharded_local_delivery_waits_for_the_broker_queue_too():
    """§2.4 with a busy broker: the publish returns after one hop to the
    broker, its service time (publish_ms + copies * copy_ms) and one hop back;
    only then are the emitting node's sockets written to.  Here 2 copies
    (n1 and n2 hold room r): 10 + 1 + (3 + 2*1) + 1 = 17, + client_ms = 22.
    The copy for n2 leaves after publish_ms + 2*copy_ms: 10+1+3+2+1 = 17, +5."""
    sim = make("sharded-redis", publish_ms=3, copy_ms=1)
    sim.connect("a", node="n1", rooms=["r"])
    sim.connect("b", node="n2", rooms=["r"])
    at(sim, (10, lambda: sim.io("n1").to("r").emit("ev")))
    sim.run()
    assert [(r["t"], r["node"]) for r in sim.trace.records("relay")] == [(16, "n1"), (17, "n2")]
    assert deliveries(sim) == [(22, "m1", "b"), (22, "m1", "a")]


# -- 2. the loss window of dynamic subscriptions (§7.3, §7.6) ----------------------


def test_dynamic_mode_loses_single_room_broadcasts_until_the_subscription_is_in_place():
    """§7.3 loss window: in ``dynamic`` mode a node SSUBSCRIBEs a room's
    channel when the room appears on it (b joins r on n2 at t=10); the
    subscription counts from the moment the SSUBSCRIBE reaches the broker,
    one hop later (t=11; measured on Socket.IO 4.8.4 + node-redis 4.7: a
    join made before a remote emit is reached).  A single-room broadcast the
    broker handles before then (m1 emitted at 9.5, handled at 10.5; m2 at
    9.9, handled at 10.9) is not forwarded to n2: n2 gets a node-level
    ``drop`` and each of its members of r a client-level one, reason ``not
    subscribed``, at the time the broker handled it.  m3, emitted at 10 just
    after the join, reaches the broker at 11 just after the SSUBSCRIBE and
    gets through, as m4 (10.5) does.  n1's member a, subscribed since t=0,
    gets all four (adapter_ms + client_ms after each emit)."""
    sim = make("sharded-redis", subscription_mode="dynamic")
    sim.connect("a", node="n1", rooms=["r"])
    emit = lambda: sim.io("n1").to("r").emit("ev")  # noqa: E731
    at(
        sim,
        (9.5, emit),
        (9.9, emit),
        (10, lambda: sim.connect("b", node="n2", rooms=["r"])),
        (10, emit),
        (10.5, emit),
    )
    sim.run()
    channel = "socket.io#/#r#"
    assert [
        (r["t"], r["msg"], r.get("client"), r["node"], r["reason"])
        for r in sim.trace.records("drop")
    ] == [
        (10.5, "m1", None, "n2", "not subscribed"),
        (10.5, "m1", "b", "n2", "not subscribed"),
        (10.9, "m2", None, "n2", "not subscribed"),
        (10.9, "m2", "b", "n2", "not subscribed"),
    ]
    assert [r["channel"] for r in sim.trace.records("drop") if "client" not in r] == [channel] * 2
    assert [(r["t"], r["msg"]) for r in sim.trace.records("relay", node="n2")] == [
        (12, "m3"),
        (12.5, "m4"),
    ]
    assert sorted(deliveries(sim, client="b")) == [(17, "m3", "b"), (17.5, "m4", "b")]
    assert deliveries(sim, client="a") == [
        (16.5, "m1", "a"),
        (16.9, "m2", "a"),
        (17, "m3", "a"),
        (17.5, "m4", "a"),
    ]


@pytest.mark.parametrize(("adapter", "mode"), [("sharded-redis", "static"), ("redis", "dynamic")])
def test_static_mode_and_the_classic_adapter_have_no_loss_window(adapter, mode):
    """§7.3/§7.2: ``static`` mode uses only the main channel, subscribed at
    start, and the classic adapter pattern-subscribes to every broadcast at
    start: a room appearing on n2 at t=10 needs no new subscription, and n2
    picks recipients when the message reaches it (t=12 for m1), where b is
    already a member.  So the same emits as in the loss-window test all reach
    b: no drop at all."""
    sim = make(adapter, subscription_mode=mode)
    sim.connect("a", node="n1", rooms=["r"])
    emit = lambda: sim.io("n1").to("r").emit("ev")  # noqa: E731
    at(
        sim,
        (10, lambda: sim.connect("b", node="n2", rooms=["r"])),
        (10, emit),
        (10.9, emit),
        (11, emit),
        (13, emit),
    )
    sim.run()
    assert sim.trace.records("drop") == []
    assert deliveries(sim, client="b") == [
        (17, "m1", "b"),
        (17.9, "m2", "b"),
        (18, "m3", "b"),
        (20, "m4", "b"),
    ]


def test_a_room_recreated_on_a_node_opens_a_new_loss_window():
    """§7.3: on ``delete-room`` the node SUNSUBSCRIBEs, on the next
    ``create-room`` it SSUBSCRIBEs again, and that subscription too counts
    from the moment it reaches the broker (one hop).  b leaves r on n2 at
    t=10 (room deleted; the SUNSUBSCRIBE's reply is back at 12) and joins
    again at t=20: a broadcast emitted at 19.5 (handled at 20.5) is lost for
    n2, one emitted at 20 after the join (handled at 21, after the
    SSUBSCRIBE) is not."""
    sim = make("sharded-redis")
    sim.connect("a", node="n1", rooms=["r"])
    b = sim.connect("b", node="n2", rooms=["r"])
    emit = lambda: sim.io("n1").to("r").emit("ev")  # noqa: E731
    at(
        sim,
        (10, lambda: b.socket.leave("r")),
        (19.5, emit),
        (20, lambda: b.socket.join("r")),
        (20, emit),
    )
    sim.run()
    assert [(r["t"], r["msg"]) for r in sim.trace.records("drop", client="b")] == [(20.5, "m1")]
    assert deliveries(sim, client="b") == [(27, "m2", "b")]


@pytest.mark.parametrize(
    ("mode", "lost", "delivered"),
    [
        ("dynamic-private", [(11, "m1")], [(21.5, "m2", "b")]),
        ("dynamic", [], [(19, "m1", "b"), (21.5, "m2", "b")]),
    ],
)
def test_dynamic_private_has_a_loss_window_for_private_messages(mode, lost, delivered):
    """§7.3: ``dynamic-private`` also gives each socket-id room a channel, so
    a private message (``io.to(sid)``) to a socket that has just connected on
    another node (b on n2 at t=10; n2's link to the broker is slow, 3 ms a
    hop, so its channel is in place at 13) is lost if the broker handles it
    before then (m1 from n1, handled at 11); m2, handled at 13.5, arrives.
    Plain ``dynamic`` sends private messages on the main channel:
    nothing is lost."""
    sim = make("sharded-redis", subscription_mode=mode)
    sim.connect("a", node="n1")
    private = lambda: sim.io("n1").to(sid(sim, "b")).emit("ev")  # noqa: E731
    sim.set_node_latency("n2", adapter_ms=6)
    at(sim, (10, lambda: sim.connect("b", node="n2")), (10, private), (12.5, private))
    sim.run()
    assert [(r["t"], r["msg"]) for r in sim.trace.records("drop", client="b")] == lost
    assert deliveries(sim) == delivered


# -- 3. channel routing (§7.2, §7.3) ----------------------------------------------

ROUTED_EMITS = ("one room", "two rooms", "everyone", "socket id", "20-char room", "with ack")


def emit_each_form(sim: roomsim.Cluster) -> dict[str, str]:
    """Emit each form of ``ROUTED_EMITS`` from n1; return the channel each went out on."""
    io = sim.io("n1")
    forms: dict[str, Callable[[], str]] = {
        "one room": lambda: io.to("r").emit("ev"),
        "two rooms": lambda: io.to(["r", "s"]).emit("ev"),
        "everyone": lambda: io.emit("ev"),
        "socket id": lambda: io.to(sid(sim, "b")).emit("ev"),
        "20-char room": lambda: io.to("x" * 20).emit("ev"),
        "with ack": lambda: io.timeout(50).to("r").emit("ev", ack=lambda err, res: None),
    }
    channels = {}
    for name in ROUTED_EMITS:
        msg = forms[name]()
        (record,) = sim.trace.records("publish", msg=msg)
        channels[name] = record["channel"]
    return channels


@pytest.mark.parametrize(
    ("adapter", "mode", "expected"),
    [
        (
            "redis",
            "dynamic",
            {
                "one room": "socket.io#/#r#",
                "two rooms": MAIN,
                "everyone": MAIN,
                "socket id": "socket.io#/#{b}#",
                "20-char room": f"socket.io#/#{'x' * 20}#",
                "with ack": REQUEST,
            },
        ),
        (
            "sharded-redis",
            "dynamic",
            {
                "one room": "socket.io#/#r#",
                "two rooms": MAIN,
                "everyone": MAIN,
                "socket id": MAIN,
                "20-char room": MAIN,
                "with ack": MAIN,
            },
        ),
        (
            "sharded-redis",
            "dynamic-private",
            {
                "one room": "socket.io#/#r#",
                "two rooms": MAIN,
                "everyone": MAIN,
                "socket id": "socket.io#/#{b}#",
                "20-char room": f"socket.io#/#{'x' * 20}#",
                "with ack": MAIN,
            },
        ),
        ("sharded-redis", "static", dict.fromkeys(ROUTED_EMITS, MAIN)),
    ],
)
def test_broadcast_channels(adapter, mode, expected):
    """§7.2: the classic adapter publishes a broadcast naming exactly one room
    on ``socket.io#/#<room>#`` (a socket id is a room like any other), every
    other broadcast on ``socket.io#/#``; a broadcast with acknowledgements is
    a request, on ``socket.io-request#/#``.  §7.3: the sharded adapter uses
    the room's channel only for a broadcast without ack to exactly one room,
    and in ``dynamic`` mode only if the room does not look like a socket id
    (20 characters); ``dynamic-private`` also for those; ``static`` never."""
    sim = make(adapter, subscription_mode=mode)
    sim.connect("a", node="n1", rooms=["r"])
    sim.connect("b", node="n2", rooms=["r", "s"])
    sim.run(until=10)
    expected = {k: v.format(b=sid(sim, "b")) for k, v in expected.items()}
    assert emit_each_form(sim) == expected


@pytest.mark.parametrize(
    ("mode", "room_channels"),
    [
        ("dynamic", {"socket.io#/#r#": 2, "socket.io#/#{a}#": 0, "socket.io#/#{b}#": 0}),
        ("dynamic-private", {"socket.io#/#r#": 2, "socket.io#/#{a}#": 1, "socket.io#/#{b}#": 1}),
        ("static", {"socket.io#/#r#": 0, "socket.io#/#{a}#": 0, "socket.io#/#{b}#": 0}),
    ],
)
def test_sharded_subscriptions_per_mode(mode, room_channels):
    """§7.3: every node SSUBSCRIBEs the main channel and its own response
    channel; ``dynamic`` adds one channel per public room present on the node
    (r on n1 and n2), ``dynamic-private`` also one per local socket id,
    ``static`` none.  Counted with SHARDNUMSUB once the subscriptions are in
    place."""
    sim = make("sharded-redis", subscription_mode=mode)
    sim.connect("a", node="n1", rooms=["r"])
    sim.connect("b", node="n2", rooms=["r"])
    sim.run(until=10)
    counts = {ch.format(a=sid(sim, "a"), b=sid(sim, "b")): n for ch, n in room_channels.items()}
    assert {ch: sim.broker.numsub(ch) for ch in counts} == counts
    assert sim.broker.numsub(MAIN) == 3
    assert [sim.broker.numsub(f"{MAIN}{uid(sim, n)}#") for n in NODES] == [1, 1, 1]


def test_only_the_nodes_with_the_room_receive_a_sharded_single_room_broadcast():
    """§7.3: with a channel per room, a broadcast to r reaches only the nodes
    subscribed to r's channel (n1 -- its own echo -- and n2), not n3; the
    classic adapter hands the same broadcast to all three nodes."""
    handed = {}
    for adapter in ("redis", "sharded-redis"):
        sim = make(adapter)
        sim.connect("a", node="n1", rooms=["r"])
        sim.connect("b", node="n2", rooms=["r"])
        sim.connect("c", node="n3")
        at(sim, (10, lambda sim=sim: sim.io("n1").to("r").emit("ev")))
        sim.run()
        handed[adapter] = dict(sim.broker.received_by_node)
    assert handed == {"redis": {"n1": 1, "n2": 1, "n3": 1}, "sharded-redis": {"n1": 1, "n2": 1}}


# -- 4. the published message (§7.2, §7.3) ------------------------------------------


def spy(sim: roomsim.Cluster) -> list[tuple[float, str, Any]]:
    """Every message the broker handles: ``(t, channel, payload)``, ``t`` when
    the spy's copy arrives (one hop after the broker handled it)."""
    seen: list[tuple[float, str, Any]] = []
    sim.broker.psubscribe("*", lambda ch, m: seen.append((sim.now, ch, m.payload)), node="spy")
    return seen


def test_classic_broadcast_message():
    """§7.2: the classic adapter publishes ``[uid, packet, opts]`` with the
    packet ``{type: 2, data: [event, ...args], nsp}`` and the options
    ``{rooms, except, flags}``; uid is 6 characters, one per node."""
    sim = make("redis")
    sim.connect("a", node="n1", rooms=["r"])
    seen = spy(sim)
    at(
        sim,
        (10, lambda: sim.io("n1").to("r").except_("x").emit("ev", 1, {"k": "v"})),
        (20, lambda: sim.io("n2").volatile.to(["r", "s"]).emit("ev")),
    )
    sim.run()
    assert seen == [
        (
            12,
            "socket.io#/#r#",
            [
                uid(sim, "n1"),
                {"type": 2, "data": ["ev", 1, {"k": "v"}], "nsp": "/"},
                {"rooms": ["r"], "except": ["x"], "flags": {}},
            ],
        ),
        (
            22,
            MAIN,
            [
                uid(sim, "n2"),
                {"type": 2, "data": ["ev"], "nsp": "/"},
                {"rooms": ["r", "s"], "except": [], "flags": {"volatile": True}},
            ],
        ),
    ]
    assert [len(uid(sim, n)) for n in NODES] == [6, 6, 6]
    assert len({uid(sim, n) for n in NODES}) == 3


def test_sharded_broadcast_message():
    """§7.3: the sharded adapter publishes a ClusterAdapter message
    ``{uid, nsp, type: 3 (BROADCAST), data: {opts, packet}}``; opts as for the
    classic adapter; the packet carries the event and its arguments.  uid is
    one per node (16 characters, as long as randomBytes(8) in hex)."""
    sim = make("sharded-redis")
    sim.connect("a", node="n1", rooms=["r"])
    seen = spy(sim)
    at(sim, (10, lambda: sim.io("n1").to("r").except_("x").emit("ev", 1, {"k": "v"})))
    sim.run()
    [(t, channel, payload)] = seen
    assert (t, channel) == (12, "socket.io#/#r#")
    packet = payload["data"].pop("packet")
    assert payload == {
        "uid": uid(sim, "n1"),
        "nsp": "/",
        "type": 3,
        "data": {"opts": {"rooms": ["r"], "except": ["x"], "flags": {}}},
    }
    assert (packet["type"], packet["data"]) == (2, ["ev", 1, {"k": "v"}])
    assert [len(uid(sim, n)) for n in NODES] == [16, 16, 16]
    assert len({uid(sim, n) for n in NODES}) == 3


def test_sharded_broadcast_packet_is_published_before_the_namespace_is_set():
    """§7.3 with the sources: ``BroadcastOperator.emit`` builds the packet as
    ``{type: 2, data: [...]}``; ``ClusterAdapter.broadcast`` encodes and
    publishes it (``publishAndReturnOffset``) *before* ``super.broadcast``
    sets ``packet.nsp`` -- the receiver takes the namespace from the
    message's own ``nsp``.  So the sharded wire packet has no ``nsp`` key,
    unlike the classic adapter's, which sets it before encoding (RA
    ``broadcast``).  The difference shows in broker bytes (10 per message)."""
    sim = make("sharded-redis")
    seen = spy(sim)
    at(sim, (10, lambda: sim.io("n1").to("r").emit("ev", 1)))
    sim.run()
    [(_, _, payload)] = seen
    assert payload["data"]["packet"] == {"type": 2, "data": ["ev", 1]}


def test_sharded_broadcast_with_ack_message():
    """§7.3: a broadcast with acknowledgements carries a ``requestId`` in its
    data and its flags carry the timeout; it goes on the main channel."""
    sim = make("sharded-redis")
    sim.connect("a", node="n1", rooms=["r"])
    seen = spy(sim)
    at(sim, (10, lambda: sim.io("n1").timeout(50).to("r").emit("ev", ack=lambda e, r: None)))
    sim.run(until=12.5)
    [(t, channel, payload)] = seen
    assert (t, channel, payload["type"]) == (12, MAIN, 3)
    assert payload["data"]["opts"] == {"rooms": ["r"], "except": [], "flags": {"timeout": 50}}
    assert sorted(payload["data"]) == ["opts", "packet", "requestId"]


def test_local_broadcasts_publish_nothing():
    """§2.2/§2.3: ``local`` keeps the broadcast on this node, with every
    adapter: nothing reaches the broker."""
    for adapter in ("redis", "sharded-redis"):
        sim = make(adapter)
        sim.connect("a", node="n1", rooms=["r"])
        sim.connect("b", node="n2", rooms=["r"])
        at(sim, (10, lambda sim=sim: sim.io("n1").local.to("r").emit("ev")))
        sim.run()
        assert (adapter, publishes(sim), deliveries(sim)) == (adapter, [], [(15, "m1", "a")])


# -- 5. sockets_join and friends (§6, §7.2, §7.3) -----------------------------------


def joins(sim: roomsim.Cluster, room: str) -> list[tuple[float, str]]:
    return [(r["t"], r["client"]) for r in sim.trace.records("join", room=room)]


@pytest.mark.parametrize(
    ("adapter", "channel", "kind", "order"),
    [
        ("redis", REQUEST, "REMOTE_JOIN", ["a", "b"]),
        ("sharded-redis", MAIN, "SOCKETS_JOIN", ["b", "a"]),
    ],
)
def test_sockets_join_is_applied_a_round_trip_later_everywhere(adapter, channel, kind, order):
    """§6/§7.2: the classic adapter only publishes a REMOTE_JOIN request;
    every node, the sender included, applies it when the request comes back
    from the broker (t = 10 + adapter_ms; nodes in subscription order: a on
    n1 first).  §7.3: the sharded adapter publishes SOCKETS_JOIN, applies it
    on the sender when the publish returns and the others apply it on
    receipt: the same instant here, the copies to the other nodes leaving
    the broker before its reply to the sender (b first).  Only the members of
    r join x (c, on n3, is not in r)."""
    sim = make(adapter)
    sim.connect("a", node="n1", rooms=["r"])
    sim.connect("b", node="n2", rooms=["r"])
    sim.connect("c", node="n3")
    rooms_at_11 = {}

    def look() -> None:
        rooms_at_11.update(a=list(sim.client("a").socket.rooms))

    at(sim, (10, lambda: sim.io("n1").in_("r").sockets_join("x")), (11, look))
    sim.run()
    assert [(r["t"], r["node"], r["channel"], r["type"]) for r in sim.trace.records("publish")] == [
        (10, "n1", channel, kind)
    ]
    assert rooms_at_11 == {"a": [sid(sim, "a"), "r"]}
    assert joins(sim, "x") == [(12, name) for name in order]
    assert list(sim.client("a").socket.rooms) == [sid(sim, "a"), "r", "x"]


@pytest.mark.parametrize("adapter", ["redis", "sharded-redis"])
def test_local_sockets_join_is_applied_at_once_and_not_published(adapter):
    """§6: with ``local`` the utility methods act on this node's sockets
    only, synchronously, and nothing is published."""
    sim = make(adapter)
    sim.connect("a", node="n1", rooms=["r"])
    sim.connect("b", node="n2", rooms=["r"])
    at(sim, (10, lambda: sim.io("n1").local.in_("r").sockets_join("y")))
    sim.run()
    assert publishes(sim) == []
    assert joins(sim, "y") == [(10, "a")]


def test_memory_sockets_join_is_synchronous():
    """§6: in memory, ``socketsJoin`` is synchronous (IMA ``addSockets``)."""
    sim = make("memory")
    sim.connect("a", node="n1", rooms=["r"])
    sim.connect("b", node="n1")
    at(sim, (10, lambda: sim.io("n1").in_("r").sockets_join("y")))
    sim.run()
    assert joins(sim, "y") == [(10, "a")]


@pytest.mark.parametrize(("adapter", "leave_order"), [("redis", "ab"), ("sharded-redis", "ba")])
def test_sockets_leave_and_disconnect_sockets_travel_like_sockets_join(adapter, leave_order):
    """§6/§7.2/§7.3: ``socketsLeave`` (from n1 at 10) and
    ``disconnectSockets`` (from n2 at 20) go through the broker like
    ``socketsJoin``: applied on every node, the sender's included, adapter_ms
    later (same-instant order as for ``socketsJoin``: the sharded sender
    last); a disconnected socket's server side reports ``server namespace
    disconnect``, its client learns of it client_ms later (``io server
    disconnect``)."""
    sim = make(adapter)
    a = sim.connect("a", node="n1", rooms=["r", "s"])
    b = sim.connect("b", node="n2", rooms=["r", "s"])
    sim.connect("c", node="n3", rooms=["s"])
    reasons: list[tuple[float, str, str]] = []
    a.on("disconnect", lambda reason: reasons.append((sim.now, "a", reason)))
    b.on("disconnect", lambda reason: reasons.append((sim.now, "b", reason)))
    at(
        sim,
        (10, lambda: sim.io("n1").in_("r").sockets_leave("s")),
        (20, lambda: sim.io("n2").in_("r").disconnect_sockets()),
    )
    sim.run()
    assert [(r["t"], r["client"]) for r in sim.trace.records("leave", room="s")] == [
        (12, name) for name in leave_order
    ]
    assert [(r["t"], r["client"], r["reason"]) for r in sim.trace.records("disconnect")] == [
        (22, "a", "server namespace disconnect"),
        (22, "b", "server namespace disconnect"),
    ]
    assert reasons == [(27, "a", "io server disconnect"), (27, "b", "io server disconnect")]
    assert sim.client("c").connected


# -- 6. broadcasts with acknowledgements (§3) ---------------------------------------


def acker(sim: roomsim.Cluster, name: str) -> None:
    """``name`` answers every ``ev`` with its name in capitals (and a second
    argument, which a broadcast ack ignores)."""
    sim.client(name).on("ev", lambda _x, ack: ack(name.upper(), "extra"))


def ack_scenario(adapter: str, handlers: list[str], room: str = "r", timeout: float | None = 100):
    """a on n1, b on n2, c on n3 (memory: a and b on n1), all in r; the
    clients in ``handlers`` answer.  n2 (memory: n1) emits to ``room`` at
    t=10; returns the cluster and the callback's calls ``(t, err, responses)``."""
    sim = make(adapter)
    placing = {"a": "n1", "b": "n1"} if adapter == "memory" else {"a": "n1", "b": "n2", "c": "n3"}
    for name, node in placing.items():
        sim.connect(name, node=node, rooms=["r"])
    for name in handlers:
        if name in sim.clients:
            acker(sim, name)
    calls: list[tuple[float, str | None, list[Any]]] = []
    origin = "n1" if adapter == "memory" else "n2"

    def callback(err: BaseException | None, responses: list[Any]) -> None:
        calls.append((sim.now, None if err is None else str(err), responses))

    def emit() -> None:
        io = sim.io(origin)
        op = io.timeout(timeout) if timeout is not None else io
        op.to(room).emit("ev", 1, ack=callback)

    at(sim, (10, emit))
    sim.run()
    return sim, calls


@pytest.mark.parametrize(
    ("adapter", "expected"),
    [
        ("memory", [(20, None, ["A", "B"])]),
        ("redis", [(24, None, ["B", "A", "C"])]),
        ("sharded-redis", [(24, None, ["B", "A", "C"])]),
    ],
)
def test_broadcast_ack_completes_with_one_response_per_client(adapter, expected):
    """§3: every server reports how many of its clients it asked; each
    client's first ack argument is a response, in arrival order; the callback
    runs with ``err=None`` once every server reported and every asked client
    answered.  Times: b (local to n2) gets the message at 15 and its answer is
    back at 20; a and c get it at 17 (request via the broker), answer at 22 on
    their nodes, whose responses reach n2 at 24.  In memory a and b both
    answer at 20."""
    sim, calls = ack_scenario(adapter, ["a", "b", "c"])
    assert calls == expected
    [result] = sim.trace.records("ack_result")
    assert (result["t"], result["error"], result["responses"]) == expected[0]
    assert sorted(c for _, _, c in deliveries(sim)) == (
        ["a", "b"] if adapter == "memory" else ["a", "b", "c"]
    )


@pytest.mark.parametrize(
    ("adapter", "expected"),
    [
        ("memory", [(110, TIMEOUT_ERROR, ["A"])]),
        ("redis", [(110, TIMEOUT_ERROR, ["B", "A"])]),
        ("sharded-redis", [(110, TIMEOUT_ERROR, ["B", "A"])]),
    ],
)
def test_broadcast_ack_times_out_with_the_responses_so_far(adapter, expected):
    """§3: a recipient that never answers (no handler: b in memory, c on n3
    otherwise) makes the callback run at emit_t + timeout (110) with
    ``operation has timed out`` and the responses received so far."""
    handlers = ["a"] if adapter == "memory" else ["a", "b"]
    _, calls = ack_scenario(adapter, handlers)
    assert calls == expected


@pytest.mark.parametrize(
    ("adapter", "expected"),
    [
        ("memory", [(10, None, [])]),
        ("redis", [(14, None, [])]),
        ("sharded-redis", [(14, None, [])]),
    ],
)
def test_broadcast_ack_to_nobody_completes_once_every_server_reported(adapter, expected):
    """§3: no recipient anywhere -> ``(None, [])`` as soon as every server has
    reported 0: at once in memory; with Redis when the other two nodes'
    client counts are back (request at 10, counts published at 12, back at
    14), well before the timeout."""
    sim, calls = ack_scenario(adapter, ["a", "b", "c"], room="nobody")
    assert calls == expected
    assert deliveries(sim) == []


@pytest.mark.parametrize("adapter", ["memory", "redis", "sharded-redis"])
def test_broadcast_ack_without_timeout_fails_at_once(adapter):
    """§3: the timeout is mandatory; without ``timeout()`` the timer fires
    at once: the callback runs at the emit's instant with the timeout error
    and no responses, and later answers change nothing."""
    _, calls = ack_scenario(adapter, ["a", "b", "c"], timeout=None)
    assert calls == [(10, TIMEOUT_ERROR, [])]


def test_classic_ack_request_outliving_its_timeout_is_applied_by_the_sender_too():
    """§3/§7.2: the classic adapter skips its own BROADCAST request only while
    the request id is in ``ackRequests``, which it clears after the timeout
    (RA ``onrequest``: ``if (this.ackRequests.has(request.requestId)) return``).
    With a timeout shorter than the broker round trip (none at all here) the
    request comes back to the sender (t=12) after the entry is gone, so the
    sender's own member b is written to a second time (arrival 17, after the
    local delivery at 15).  The sharded adapter filters its own messages by
    uid: b gets it once."""
    deliveries_of_b = {}
    for adapter in ("redis", "sharded-redis"):
        sim, _ = ack_scenario(adapter, ["a", "b", "c"], timeout=None)
        deliveries_of_b[adapter] = deliveries(sim, client="b")
    assert deliveries_of_b == {
        "redis": [(15, "m1", "b"), (17, "m1", "b")],
        "sharded-redis": [(15, "m1", "b")],
    }


# -- 7. fetch_sockets (§6) --------------------------------------------------------------


def fetch_scenario(adapter: str, timeout: float | None = None, deaf: str | None = None):
    """a (n1) in r; b (n2) in r and s, with data; d (n2) not in r; c (n3) in r.
    n1 fetches the sockets in r at t=10; returns ``(t, outcome)`` pairs."""
    sim = make(adapter)
    sim.connect("a", node="n1", rooms=["r"])
    sim.connect("b", node="n2", rooms=["r", "s"]).socket.data["user"] = "bob"
    sim.connect("d", node="n2")
    sim.connect("c", node="n3", rooms=["r"])
    if deaf is not None:
        silence(sim, deaf, REQUEST if adapter == "redis" else MAIN)
    out: list[tuple[float, Any]] = []

    def fetch(env: Any) -> Any:
        yield env.timeout(10)
        io = sim.io("n1")
        op = io.timeout(timeout) if timeout is not None else io
        try:
            sockets = yield op.in_("r").fetch_sockets()
        except TimeoutError as error:
            out.append((env.now, str(error)))
        else:
            out.append((env.now, sockets))

    sim.process(fetch)
    sim.run()
    return sim, out


@pytest.mark.parametrize("adapter", ["redis", "sharded-redis"])
def test_fetch_sockets_returns_local_sockets_and_remote_descriptions(adapter):
    """§6: ``fetchSockets`` returns the local matches as Socket objects, then
    every other node's matches as RemoteSocket descriptions (id, rooms, data;
    here also the node), in the order the answers arrive.  Request at 10,
    answers published at 12, back at 14."""
    sim, out = fetch_scenario(adapter)
    [(t, sockets)] = out
    assert t == 14
    local, *remote = sockets
    assert isinstance(local, roomsim.Socket)
    assert (local.id, local.client.name) == (sid(sim, "a"), "a")
    assert all(type(s) is RemoteSocket for s in remote)
    assert [(s.id, s.rooms, s.data, s.node) for s in remote] == [
        (sid(sim, "b"), {sid(sim, "b"), "r", "s"}, {"user": "bob"}, "n2"),
        (sid(sim, "c"), {sid(sim, "c"), "r"}, {}, "n3"),
    ]


def test_remote_sockets_act_through_the_cluster():
    """§6: a RemoteSocket's ``emit``, ``join`` and ``disconnect`` are
    operators on the room named by its id, so they travel through the broker
    (classic adapter: a broadcast on that room's channel, REMOTE_JOIN and
    REMOTE_DISCONNECT requests).  n1 fetches b (on n2) at 10 and has it at
    14; then makes it join z (applied at 16), sends it ``hi`` (arrives
    14 + 2 + 5 = 21) and, at 30, disconnects it (applied at 32)."""
    sim = make("redis")
    sim.connect("a", node="n1")
    sim.connect("b", node="n2", rooms=["r"])

    def use_remote(env: Any) -> Any:
        yield env.timeout(10)
        [remote] = yield sim.io("n1").in_("r").fetch_sockets()
        assert (env.now, type(remote), remote.id) == (14, RemoteSocket, sid(sim, "b"))
        remote.join("z")
        remote.emit("hi", msg_id="hi")
        yield env.timeout(16)
        remote.disconnect()

    sim.process(use_remote)
    sim.run()
    assert joins(sim, "z") == [(16, "b")]
    assert [r["channel"] for r in sim.trace.records("publish", msg="hi")] == [
        f"socket.io#/#{sid(sim, 'b')}#"
    ]
    assert deliveries(sim) == [(21, "hi", "b")]
    assert [(r["t"], r["client"]) for r in sim.trace.records("disconnect")] == [(32, "b")]


def test_fetch_sockets_in_memory_is_immediate():
    """§6: in memory, the matching local sockets, at once."""
    sim = make("memory")
    sim.connect("a", node="n1", rooms=["r"])
    sim.connect("b", node="n1")
    out = []

    def fetch(env: Any) -> Any:
        yield env.timeout(10)
        sockets = yield sim.io("n1").in_("r").fetch_sockets()
        out.append((env.now, [s.client.name for s in sockets]))

    sim.process(fetch)
    sim.run()
    assert out == [(10, ["a"])]


@pytest.mark.parametrize(
    ("adapter", "timeout", "expected"),
    [
        ("redis", None, (5010, "timeout reached while waiting for fetchSockets response")),
        ("redis", 100, (5010, "timeout reached while waiting for fetchSockets response")),
        ("sharded-redis", None, (5010, "timeout reached: only 1 responses received out of 2")),
        ("sharded-redis", 100, (110, "timeout reached: only 1 responses received out of 2")),
    ],
)
def test_fetch_sockets_times_out_when_a_node_does_not_answer(adapter, timeout, expected):
    """§6 table: n3 is subscribed (NUMSUB counts it) but never answers.  The
    classic adapter waits ``requestsTimeout`` (5000 ms, whatever
    ``timeout()`` says) and rejects with "timeout reached while waiting for
    fetchSockets response", without the partial answers; the sharded adapter
    waits ``timeout()`` or 5000 ms and rejects with "timeout reached: only X
    responses received out of Y"."""
    _, out = fetch_scenario(adapter, timeout=timeout, deaf="n3")
    assert out == [expected]


# -- 8. server_side_emit (§6) -----------------------------------------------------------


def sse_scenario(adapter: str, with_ack: bool, answering: tuple[str, ...] = NODES):
    """Each node's ``ping`` handler logs ``(t, node, args)`` and, on the nodes
    in ``answering``, acks ``pong-<node>``.  n1 sends ``ping 1`` at t=10."""
    sim = make(adapter)
    log: list[tuple[float, str, tuple[Any, ...]]] = []
    calls: list[tuple[float, str | None, list[Any]]] = []
    for node in sim.nodes:

        def ping(x: Any, ack: Any = None, node: str = node) -> None:
            log.append((sim.now, node, (x,) if ack is None else (x, "ack")))
            if ack is not None and node in answering:
                ack(f"pong-{node}", "ignored")

        sim.io(node).on("ping", ping)

    def callback(err: BaseException | None, responses: list[Any]) -> None:
        calls.append((sim.now, None if err is None else str(err), responses))

    at(
        sim,
        (10, lambda: sim.io("n1").server_side_emit("ping", 1, ack=callback if with_ack else None)),
    )
    sim.run()
    return log, calls


@pytest.mark.parametrize("adapter", ["redis", "sharded-redis"])
def test_server_side_emit_reaches_the_other_nodes_only(adapter):
    """§6: ``serverSideEmit`` runs the namespace handlers of every *other*
    node (request at 10, handled at 12), never the sender's."""
    log, calls = sse_scenario(adapter, with_ack=False)
    assert log == [(12, "n2", (1,)), (12, "n3", (1,))]
    assert calls == []


@pytest.mark.parametrize("adapter", ["redis", "sharded-redis"])
def test_server_side_emit_with_ack_gets_one_response_per_other_node(adapter):
    """§6: with an ack, each other node's handler gets an acknowledgement
    function last; the callback gets ``(None, responses)``, one first
    argument per other node, once all are back (answers published at 12,
    back at 14)."""
    log, calls = sse_scenario(adapter, with_ack=True)
    assert log == [(12, "n2", (1, "ack")), (12, "n3", (1, "ack"))]
    assert calls == [(14, None, ["pong-n2", "pong-n3"])]


@pytest.mark.parametrize("adapter", ["redis", "sharded-redis"])
def test_server_side_emit_ack_times_out_with_the_answers_so_far(adapter):
    """§6 table: a node that never answers makes the callback run after 5000
    ms with "timeout reached: only 1 responses received out of 2" and the
    answers so far (``timeout()`` plays no part)."""
    _, calls = sse_scenario(adapter, with_ack=True, answering=("n2",))
    assert calls == [(5010, "timeout reached: only 1 responses received out of 2", ["pong-n2"])]


def test_server_side_emit_with_no_other_node_acks_an_empty_list():
    """§6: no other server -> ``(None, [])`` (numSub - 1 = 0)."""
    sim = make("redis", nodes=["n1"])
    calls = []
    at(
        sim,
        (
            10,
            lambda: sim.io("n1").server_side_emit(
                "ping", ack=lambda e, r: calls.append((sim.now, e, r))
            ),
        ),
    )
    sim.run()
    assert calls == [(10, None, [])]


@pytest.mark.parametrize("with_ack", [False, True])
def test_server_side_emit_in_memory_does_nothing(with_ack):
    """§6: the in-memory adapter does not support ``serverSideEmit``: no
    handler runs (not even the sender's) and the ack is never called."""
    log, calls = sse_scenario("memory", with_ack=with_ack)
    assert (log, calls) == ([], [])


# -- 11. the broker's queue -------------------------------------------------------------


def burst(adapter: str, count: int) -> roomsim.Cluster:
    """a, b, c on n1, n2, n3, all in r; n1 emits ``count`` broadcasts to r
    at t=10; the broker takes publish_ms=1 per message and copy_ms=0.5 per
    copy (3 copies: the classic pattern subscriptions, or the sharded room
    channel on all three nodes)."""
    sim = make(adapter, publish_ms=1, copy_ms=0.5)
    for name, node in zip("abc", NODES, strict=True):
        sim.connect(name, node=node, rooms=["r"])

    def emit_all() -> None:
        for _ in range(count):
            sim.io("n1").to("r").emit("ev")

    at(sim, (10, emit_all))
    sim.run()
    return sim


def relay_times(sim: roomsim.Cluster) -> dict[str, list[tuple[float, str]]]:
    out: dict[str, list[tuple[float, str]]] = {}
    for r in sim.trace.records("relay"):
        out.setdefault(r["msg"], []).append((r["t"], r["node"]))
    return out


@pytest.mark.parametrize("adapter", ["redis", "sharded-redis"])
def test_a_message_reaching_a_busy_broker_waits_its_turn(adapter):
    """The broker serves one message at a time: S = publish_ms + copies *
    copy_ms = 1 + 3 * 0.5 = 2.5 ms each.  m1 reaches it at 11 and is served
    at once; its i-th copy leaves after publish_ms + i * copy_ms and takes a
    hop: 13.5, 14, 14.5.  m2, arriving at 11 too, waits 2.5 ms: every time
    2.5 later, and the longest wait is 2.5."""
    sim = burst(adapter, 2)
    assert relay_times(sim) == {
        "m1": [(13.5, "n1"), (14, "n2"), (14.5, "n3")],
        "m2": [(16, "n1"), (16.5, "n2"), (17, "n3")],
    }
    assert sim.broker.max_queue_ms == 2.5


@pytest.mark.parametrize("adapter", ["redis", "sharded-redis"])
def test_a_burst_queues_in_the_broker(adapter):
    """A burst of 4 messages reaching the broker at t=11: the k-th (k = 0..3)
    is handled k * S = k * 2.5 ms later (11, 13.5, 16, 18.5), so its copies
    reach the nodes at 13.5 + 2.5k, 14 + 2.5k, 14.5 + 2.5k, and the last one
    waited 3 * 2.5 = 7.5 ms in the queue."""
    sim = burst(adapter, 4)
    assert relay_times(sim) == {
        f"m{k + 1}": [(13.5 + 2.5 * k, "n1"), (14 + 2.5 * k, "n2"), (14.5 + 2.5 * k, "n3")]
        for k in range(4)
    }
    assert sim.broker.max_queue_ms == 7.5


def test_an_idle_broker_queues_nothing():
    """Messages that reach the broker after it is done with the previous one
    wait nothing: ``max_queue_ms`` stays 0 even with service times."""
    sim = make("redis", publish_ms=1, copy_ms=0.5)
    for name, node in zip("abc", NODES, strict=True):
        sim.connect(name, node=node, rooms=["r"])
    at(sim, (10, lambda: sim.io("n1").to("r").emit("ev")), (13, lambda: sim.io("n2").emit("ev")))
    sim.run()
    assert sim.broker.max_queue_ms == 0
    assert relay_times(sim) == {
        "m1": [(13.5, "n1"), (14, "n2"), (14.5, "n3")],
        "m2": [(16.5, "n1"), (17, "n2"), (17.5, "n3")],
    }
