"""The Socket.IO rooms page (https://socket.io/docs/v4/rooms/), rule by rule.

Each test builds a tiny simulation, runs it and checks exactly who got what
(and when, where timing is the rule).  The rule is the test's docstring; where
the page is silent, /work/shared/socketio-semantics.md (real Socket.IO's code)
decides.

Timing used throughout: ``client_ms=5`` one way between a client and its
node, ``adapter_ms=2`` from a node through Redis to another node (1 ms a
hop).  So a broadcast emitted at t reaches the emitting node's clients at
t+5 and the other nodes' clients at t+7.
"""

from __future__ import annotations

from collections.abc import Callable

import roomsim

CLIENT_MS = 5
ADAPTER_MS = 2
REMOTE = ADAPTER_MS + CLIENT_MS  # emit on one node -> client of another node


def one_node(**kwargs: object) -> roomsim.Cluster:
    return roomsim.Cluster(nodes=1, adapter="memory", seed=7, client_ms=CLIENT_MS, **kwargs)


def redis(nodes: int | list[str] = 2, **kwargs: object) -> roomsim.Cluster:
    return roomsim.Cluster(
        nodes=nodes, adapter="redis", seed=7, client_ms=CLIENT_MS, adapter_ms=ADAPTER_MS, **kwargs
    )


def got(sim: roomsim.Cluster, msg: str) -> list[str]:
    """Who received ``msg``, sorted (a client twice would show twice)."""
    return sorted(r["client"] for r in sim.trace.records("deliver", msg=msg))


def timeline(sim: roomsim.Cluster, msg: str) -> list[tuple[float, str]]:
    """``(time, client)`` of every delivery of ``msg``, sorted."""
    return sorted((r["t"], r["client"]) for r in sim.trace.records("deliver", msg=msg))


def at(sim: roomsim.Cluster, t: float, action: Callable[[], object]) -> None:
    """Run ``action()`` at simulated time ``t``."""

    def proc(env):
        yield env.timeout(t - env.now)
        action()

    sim.process(proc)


def room_log(nsp: roomsim.Namespace) -> list[tuple[str, ...]]:
    """Record every adapter room event of ``nsp`` as ``(event, *args)``."""
    log: list[tuple[str, ...]] = []
    for name in ("create-room", "delete-room", "join-room", "leave-room"):
        nsp.adapter.on(name, lambda *args, name=name: log.append((name, *args)))
    return log


# -- joining and leaving -------------------------------------------------------------


def test_join_and_leave() -> None:
    """``socket.join(room)`` puts the socket in the room and ``socket.leave(room)``
    takes it out: a broadcast to the room reaches exactly its members at the time.
    Joining twice changes nothing; leaving a room one is not in changes nothing."""
    sim = one_node()
    io = sim.io("n1")
    alice = sim.connect("alice", node="n1")
    bob = sim.connect("bob", node="n1")
    carol = sim.connect("carol", node="n1")
    sent = {}

    def step1() -> None:
        alice.socket.join("room1")
        alice.socket.join("room1")
        bob.socket.join(["room1", "room2"])
        sent["both"] = io.to("room1").emit("news")

    def step2() -> None:
        alice.socket.leave("room1")
        carol.socket.leave("room1")  # never joined it
        sent["bob only"] = io.to("room1").emit("news")

    at(sim, 10, step1)
    at(sim, 20, step2)
    sim.run()

    assert timeline(sim, sent["both"]) == [(15, "alice"), (15, "bob")]
    assert timeline(sim, sent["bob only"]) == [(25, "bob")]
    assert list(alice.socket.rooms) == [alice.id]
    assert list(bob.socket.rooms) == [bob.id, "room1", "room2"]
    assert list(carol.socket.rooms) == [carol.id]
    assert dict(io.sockets.adapter.rooms["room1"]) == {bob.id: None}


def test_to_and_in_are_the_same() -> None:
    """``to`` and ``in`` are the same thing: ``io.in_(r)``, ``io.to(r)`` and
    ``socket.in_(r)``/``socket.to(r)`` pick the same recipients."""
    sim = one_node()
    io = sim.io("n1")
    sim.connect("alice", node="n1", rooms=["r"])
    sim.connect("bob", node="n1", rooms=["r", "s"])
    sim.connect("carol", node="n1", rooms=["s"])
    dave = sim.connect("dave", node="n1", rooms=["r"])
    by_to = io.to("r").emit("ev")
    by_in = io.in_("r").emit("ev")
    mixed = io.in_("r").to("s").emit("ev")
    sock_to = dave.socket.to("r").emit("ev")
    sock_in = dave.socket.in_("r").emit("ev")
    sim.run()

    assert got(sim, by_to) == got(sim, by_in) == ["alice", "bob", "dave"]
    assert got(sim, mixed) == ["alice", "bob", "carol", "dave"]
    assert got(sim, sock_to) == got(sim, sock_in) == ["alice", "bob"]


def test_several_rooms_are_a_union_delivered_once() -> None:
    """``io.to(["a", "b"])`` and ``io.to("a").to("b")`` reach every socket in
    at least one of the rooms, and a socket in both gets the event once, on
    the emitting node and on the others alike."""
    sim = redis(["n1", "n2"])
    io = sim.io("n1")
    sim.connect("alice", node="n1", rooms=["a"])
    sim.connect("bob", node="n1", rooms=["a", "b"])
    sim.connect("carol", node="n2", rooms=["b", "a"])
    sim.connect("dave", node="n2", rooms=["b"])
    sim.connect("erin", node="n2", rooms=["c"])
    as_list = io.to(["a", "b"]).emit("ev")
    chained = io.to("a").to("b").emit("ev")
    repeated = io.to(["a", "a"]).emit("ev")
    sim.run()

    for msg in (as_list, chained):
        assert timeline(sim, msg) == [
            (CLIENT_MS, "alice"),
            (CLIENT_MS, "bob"),
            (REMOTE, "carol"),
            (REMOTE, "dave"),
        ]
    assert timeline(sim, repeated) == [(CLIENT_MS, "alice"), (CLIENT_MS, "bob"), (REMOTE, "carol")]


# -- broadcasting from a socket --------------------------------------------------


def test_socket_to_leaves_the_sender_out() -> None:
    """``socket.to(room).emit`` reaches every member of the room except the
    sender, even when the sender is a member and even when the sender's own id
    is named among the rooms; ``socket.broadcast`` is everyone but the sender."""
    sim = one_node()
    heard: list[tuple[str, str]] = []

    @sim.on("connection")
    def on_connection(socket):
        socket.join("room1")

        @socket.on("chat")
        def chat(text):
            heard.append(("room", socket.to("room1").emit("chat", text)))
            heard.append(("named", socket.to(["room1", socket.id]).emit("chat", text)))
            heard.append(("broadcast", socket.broadcast.emit("chat", text)))

    alice = sim.connect("alice", node="n1")
    sim.connect("bob", node="n1")
    sim.connect("carol", node="n1")
    alice.emit("chat", "hello")
    sim.run()

    msgs = dict(heard)
    assert set(msgs) == {"room", "named", "broadcast"}
    for msg in msgs.values():
        # client -> server (5 ms), then server -> clients (5 ms)
        assert timeline(sim, msg) == [(2 * CLIENT_MS, "bob"), (2 * CLIENT_MS, "carol")]


def test_except_subtracts_after_the_union_and_accepts_a_socket_id() -> None:
    """``except_`` takes its rooms away after the union of the ``to`` rooms
    (a socket in a target room and an excluded room gets nothing); a socket id
    works as a room; with no ``to`` it is everyone minus the excluded; from a
    socket the sender is left out too."""
    sim = redis(["n1", "n2"])
    io = sim.io("n1")
    alice = sim.connect("alice", node="n1", rooms=["a"])
    bob = sim.connect("bob", node="n2", rooms=["a", "c"])
    sim.connect("carol", node="n2", rooms=["b"])
    sim.connect("dave", node="n1", rooms=["b", "c"])
    sim.connect("erin", node="n1", rooms=["x"])
    union_minus_c = io.to(["a", "b"]).except_("c").emit("ev")
    minus_socket = io.to("a").except_(bob.id).emit("ev")
    everyone_minus = io.except_(["c", "x"]).emit("ev")
    except_named_too = io.to("a").except_("a").emit("ev")
    from_socket = alice.socket.except_("c").emit("ev")
    sim.run()

    assert got(sim, union_minus_c) == ["alice", "carol"]
    assert got(sim, minus_socket) == ["alice"]
    assert got(sim, everyone_minus) == ["alice", "carol"]
    assert got(sim, except_named_too) == []
    assert got(sim, from_socket) == ["carol", "erin"]


# -- the default room ------------------------------------------------------------


def test_each_socket_starts_in_the_room_named_by_its_id() -> None:
    """Each socket is in a room named by its id, and only that one when the
    ``connection`` handler runs; ids differ per socket."""
    sim = one_node()
    seen: list[list[str]] = []
    sim.on("connection", lambda socket: seen.append(list(socket.rooms)))
    alice = sim.connect("alice", node="n1")
    bob = sim.connect("bob", node="n1")
    sim.run()

    assert alice.id != bob.id
    assert seen == [[alice.id], [bob.id]]
    assert alice.socket.id == alice.id
    assert dict(sim.io("n1").sockets.adapter.rooms[bob.id]) == {bob.id: None}


def test_private_message_to_another_socket_id_across_nodes() -> None:
    """Private message: ``socket.to(anotherSocketId).emit(...)`` reaches that
    socket wherever it is connected (here another node), and no one else."""
    sim = redis(["n1", "n2"])
    inbox: list[tuple[float, str, tuple]] = []

    @sim.on("connection")
    def on_connection(socket):
        @socket.on("private message")
        def relay(another_socket_id, text):
            socket.to(another_socket_id).emit("private message", socket.id, text)

    alice = sim.connect("alice", node="n1")
    bob = sim.connect("bob", node="n2")
    carol = sim.connect("carol", node="n2")
    dave = sim.connect("dave", node="n1")
    for client in (alice, bob, carol, dave):
        client.on(
            "private message",
            lambda *args, name=client.name: inbox.append((sim.now, name, args)),
        )
    alice.emit("private message", bob.id, "hi bob")
    sim.run()

    # alice -> n1 (5) -> Redis -> n2 (2) -> bob (5)
    assert inbox == [(CLIENT_MS + REMOTE, "bob", (alice.id, "hi bob"))]


def test_socket_to_own_id_reaches_nobody_but_io_to_id_reaches_the_socket() -> None:
    """``socket.to(socket.id)`` reaches nobody (the sender is always left out);
    ``io.to(socket.id)`` reaches that one socket, from any node."""
    sim = redis(["n1", "n2"])
    alice = sim.connect("alice", node="n1")
    sim.connect("bob", node="n2")
    sim.connect("carol", node="n1")
    to_self = alice.socket.to(alice.id).emit("ev")
    from_same_node = sim.io("n1").to(alice.id).emit("ev")
    from_other_node = sim.io("n2").to(alice.id).emit("ev")
    sim.run()

    assert got(sim, to_self) == []
    assert timeline(sim, from_same_node) == [(CLIENT_MS, "alice")]
    assert timeline(sim, from_other_node) == [(REMOTE, "alice")]


def test_the_id_room_goes_with_the_socket() -> None:
    """The id room lives and dies with its socket: after a disconnection
    ``io.to(oldId)`` reaches nobody (nothing is queued), and the reconnected
    client has a new socket with a new id, which ``io.to(newId)`` reaches."""
    sim = redis(["n1", "n2"])
    alice = sim.connect("alice", node="n1")
    old_id = alice.id
    at(sim, 1, alice.disconnect)  # the server hears of it at t=6
    sent = {}
    at(sim, 10, lambda: sent.setdefault("old, gone", sim.io("n2").to(old_id).emit("ev")))
    at(sim, 10, lambda: alice.connect(node="n2"))
    at(sim, 20, lambda: sent.setdefault("old, back", sim.io("n1").to(old_id).emit("ev")))
    at(sim, 20, lambda: sent.setdefault("new", sim.io("n1").to(alice.id).emit("ev")))
    sim.run()

    assert alice.id != old_id
    assert alice.socket.node == "n2"
    assert got(sim, sent["old, gone"]) == got(sim, sent["old, back"]) == []
    assert timeline(sim, sent["new"]) == [(20 + REMOTE, "alice")]
    assert sim.trace.records("drop") == []


# -- the page's use cases -------------------------------------------------------


def test_broadcast_to_all_the_connected_devices_of_a_user() -> None:
    """Each device socket joins a room named by its user id; ``io.to(userId)``
    reaches every device of that user, on every node, and no one else's.  A
    device that disconnects leaves the user's room by itself."""
    sim = redis(["n1", "n2"])
    owner = {"phone-a": "alice", "laptop-a": "alice", "tablet-a": "alice", "phone-b": "bob"}

    @sim.on("connection")
    def on_connection(socket):
        socket.join(owner[socket.client.name])  # the user id from the handshake

    phone = sim.connect("phone-a", node="n1")
    sim.connect("laptop-a", node="n2")
    sim.connect("tablet-a", node="n2")
    sim.connect("phone-b", node="n1")
    all_devices = sim.io("n1").to("alice").emit("notification", "new mail")
    at(sim, 10, phone.disconnect)  # the server hears of it at t=15
    sent = {}
    at(sim, 20, lambda: sent.setdefault("after", sim.io("n1").to("alice").emit("notification")))
    sim.run()

    assert timeline(sim, all_devices) == [
        (CLIENT_MS, "phone-a"),
        (REMOTE, "laptop-a"),
        (REMOTE, "tablet-a"),
    ]
    assert timeline(sim, sent["after"]) == [(20 + REMOTE, "laptop-a"), (20 + REMOTE, "tablet-a")]
    assert "alice" not in sim.io("n1").sockets.adapter.rooms
    assert "bob" in sim.io("n1").sockets.adapter.rooms


def test_send_notifications_about_a_given_entity() -> None:
    """Each socket joins the rooms of the projects it watches; ``io.to(projectIds)``
    notifies every socket watching at least one of them, once."""
    sim = redis(["n1", "n2"])

    @sim.on("connection")
    def on_connection(socket):
        socket.on("watch", lambda project_ids: socket.join(project_ids))

    watching = {"alice": ["p1"], "bob": ["p1", "p2"], "carol": ["p3"], "dave": ["p2", "p3"]}
    for i, (name, projects) in enumerate(watching.items()):
        sim.connect(name, node=f"n{i % 2 + 1}").emit("watch", projects)
    sent = {}
    # the watch requests reach the server at t=5; notify later
    at(sim, 10, lambda: sent.setdefault("p1 p2", sim.io("n2").to(["p1", "p2"]).emit("update")))
    at(sim, 10, lambda: sent.setdefault("p3", sim.io("n1").to("p3").emit("update")))
    sim.run()

    assert got(sim, sent["p1 p2"]) == ["alice", "bob", "dave"]
    assert got(sim, sent["p3"]) == ["carol", "dave"]


# -- disconnection -----------------------------------------------------------------


def test_client_disconnect_disconnecting_sees_rooms_disconnect_sees_none() -> None:
    """On disconnection ``disconnecting`` fires while the socket is still in its
    rooms; then the rooms are left automatically and ``disconnect`` sees none.
    A client-side disconnect reaches the server one latency later, with reason
    ``client namespace disconnect``; the client itself says ``io client disconnect``."""
    sim = one_node()
    log: list[tuple] = []

    @sim.on("connection")
    def on_connection(socket):
        socket.join("room1")
        socket.on(
            "disconnecting", lambda r: log.append((sim.now, "disconnecting", r, [*socket.rooms]))
        )
        socket.on("disconnect", lambda r: log.append((sim.now, "disconnect", r, [*socket.rooms])))

    alice = sim.connect("alice", node="n1")
    alice.on("disconnect", lambda r: log.append((sim.now, "client disconnect", r)))
    sid = alice.sid
    at(sim, 3, alice.disconnect)
    sim.run()

    assert log == [
        (3, "client disconnect", "io client disconnect"),
        (3 + CLIENT_MS, "disconnecting", "client namespace disconnect", [sid, "room1"]),
        (3 + CLIENT_MS, "disconnect", "client namespace disconnect", []),
    ]
    [disconnecting] = sim.trace.records("disconnecting", client="alice")
    [disconnect] = sim.trace.records("disconnect", client="alice")
    assert disconnecting["rooms"] == [sid, "room1"]
    assert disconnect["rooms"] == []
    assert "room1" not in sim.io("n1").sockets.adapter.rooms
    assert not alice.connected and not alice.socket.connected


def test_server_disconnect_reason_names() -> None:
    """``socket.disconnect()`` on the server gives ``server namespace disconnect``
    on the server at once, and ``io server disconnect`` on the client one latency later."""
    sim = one_node()
    log: list[tuple] = []

    @sim.on("connection")
    def on_connection(socket):
        socket.join("room1")
        socket.on(
            "disconnecting", lambda r: log.append((sim.now, "disconnecting", r, [*socket.rooms]))
        )
        socket.on("disconnect", lambda r: log.append((sim.now, "disconnect", r, [*socket.rooms])))

    alice = sim.connect("alice", node="n1")
    alice.on("disconnect", lambda r: log.append((sim.now, "client disconnect", r)))
    sid = alice.sid
    at(sim, 3, alice.socket.disconnect)
    sim.run()

    assert log == [
        (3, "disconnecting", "server namespace disconnect", [sid, "room1"]),
        (3, "disconnect", "server namespace disconnect", []),
        (3 + CLIENT_MS, "client disconnect", "io server disconnect"),
    ]


def test_disconnecting_handler_can_still_reach_the_rooms() -> None:
    """In ``disconnecting`` the socket is still in its rooms, so the page's
    "user has left" ``socket.to(room).emit`` reaches the other members."""
    sim = one_node()
    sent: list[str] = []

    @sim.on("connection")
    def on_connection(socket):
        @socket.on("disconnecting")
        def bye(reason):
            for room in socket.rooms:
                if room != socket.id:
                    sent.append(socket.to(room).emit("user has left", socket.id))

    alice = sim.connect("alice", node="n1", rooms=["room1"])
    sim.connect("bob", node="n1", rooms=["room1"])
    sim.connect("carol", node="n1", rooms=["room1"])
    sim.connect("dave", node="n1", rooms=["elsewhere"])
    at(sim, 3, alice.socket.disconnect)
    sim.run()

    [msg] = sent
    assert timeline(sim, msg) == [(3 + CLIENT_MS, "bob"), (3 + CLIENT_MS, "carol")]


def test_disconnect_leaves_every_room_with_room_events() -> None:
    """Disconnection leaves every room, in the order joined (own id first), with
    ``leave-room`` for each and ``delete-room`` for each room left empty."""
    sim = one_node()
    log = room_log(sim.io("n1").sockets)
    alice = sim.connect("alice", node="n1", rooms=["solo", "shared"])
    bob = sim.connect("bob", node="n1", rooms=["shared"])
    a, b = alice.id, bob.id
    del log[:]
    at(sim, 1, alice.socket.disconnect)
    sim.run()

    assert log == [
        ("leave-room", a, a),
        ("delete-room", a),
        ("leave-room", "solo", a),
        ("delete-room", "solo"),
        ("leave-room", "shared", a),
    ]
    assert {room: list(m) for room, m in sim.io("n1").sockets.adapter.rooms.items()} == {
        b: [b],
        "shared": [b],
    }
    assert a not in sim.io("n1").sockets.adapter.sids


def test_join_after_disconnect_is_a_no_op() -> None:
    """After disconnection ``join`` does nothing: no room, no room event, and a
    broadcast to that room reaches nobody.  This covers a ``join`` in the
    ``disconnect`` handler and one from a slow lookup that ends after the
    client has gone."""
    sim = one_node()
    nsp = sim.io("n1").sockets
    log = room_log(nsp)

    @sim.on("connection")
    def on_connection(socket):
        socket.on("disconnect", lambda reason: socket.join("from disconnect"))
        yield sim.env.timeout(10)  # a slow lookup
        socket.join("after lookup")

    alice = sim.connect("alice", node="n1")
    at(sim, 2, alice.disconnect)  # the server hears of it at t=7, before the lookup ends
    sent = {}
    at(sim, 20, lambda: sent.setdefault("a", sim.io("n1").to("from disconnect").emit("ev")))
    at(sim, 20, lambda: sent.setdefault("b", sim.io("n1").to("after lookup").emit("ev")))
    sim.run()

    assert list(alice.socket.rooms) == []
    assert nsp.adapter.rooms == {}
    assert [e for e in log if e[1] in ("from disconnect", "after lookup")] == []
    assert got(sim, sent["a"]) == got(sim, sent["b"]) == []


def test_message_in_flight_to_a_client_that_has_gone_is_dropped() -> None:
    """A server-side write at t arrives at t+client_ms; if the client let go of
    that socket meanwhile, it is a ``drop`` with reason ``disconnected``, while
    the other recipients get it.  A direct ``socket.emit`` behaves the same."""
    sim = one_node()
    alice = sim.connect("alice", node="n1", rooms=["r"])
    sim.connect("bob", node="n1", rooms=["r"])
    broadcast = sim.io("n1").to("r").emit("news")
    direct = alice.socket.emit("hello")
    at(sim, 2, alice.disconnect)  # before the packets arrive at t=5
    sim.run()

    assert timeline(sim, broadcast) == [(CLIENT_MS, "bob")]
    assert got(sim, direct) == []
    drops = [(r["t"], r["msg"], r["client"], r["reason"]) for r in sim.trace.records("drop")]
    assert sorted(drops) == sorted(
        [
            (CLIENT_MS, broadcast, "alice", "disconnected"),
            (CLIENT_MS, direct, "alice", "disconnected"),
        ]
    )


def test_messages_written_before_a_server_disconnect_still_arrive() -> None:
    """A write made before ``socket.disconnect()`` travels ahead of the
    disconnection and is delivered; after it the socket is in no room."""
    sim = one_node()
    alice = sim.connect("alice", node="n1", rooms=["r"])
    before = sim.io("n1").to("r").emit("ev")
    alice.socket.disconnect()
    after = sim.io("n1").to("r").emit("ev")
    sim.run()

    assert timeline(sim, before) == [(CLIENT_MS, "alice")]
    assert got(sim, after) == []


# -- room events ---------------------------------------------------------------------


def test_room_events_in_socket_io_order() -> None:
    """Adapter room events: ``join(["a", "b"])`` on new rooms gives create-room a,
    join-room a, create-room b, join-room b; joining an existing room gives only
    join-room; re-joining or leaving a room one is not in gives nothing; leaving
    gives leave-room, then delete-room when the room is empty."""
    sim = one_node()
    log = room_log(sim.io("n1").sockets)
    alice = sim.connect("alice", node="n1")
    a = alice.id
    assert log == [("create-room", a), ("join-room", a, a)]
    bob = sim.connect("bob", node="n1")
    b = bob.id
    del log[:]

    alice.socket.join(["a", "b"])
    bob.socket.join("a")
    alice.socket.join("a")
    bob.socket.leave("b")
    alice.socket.leave("a")
    alice.socket.leave("a")
    bob.socket.leave("a")
    alice.socket.leave("b")
    sim.run()

    assert log == [
        ("create-room", "a"),
        ("join-room", "a", a),
        ("create-room", "b"),
        ("join-room", "b", a),
        ("join-room", "a", b),
        ("leave-room", "a", a),
        ("leave-room", "a", b),
        ("delete-room", "a"),
        ("leave-room", "b", a),
        ("delete-room", "b"),
    ]
    assert set(sim.io("n1").sockets.adapter.rooms) == {a, b}


def test_room_events_are_local_to_each_node() -> None:
    """Room events are emitted by each node's adapter for its own sockets only."""
    sim = redis(["n1", "n2"])
    log1 = room_log(sim.io("n1").sockets)
    log2 = room_log(sim.io("n2").sockets)
    alice = sim.connect("alice", node="n1", rooms=["r"])
    bob = sim.connect("bob", node="n2", rooms=["r"])
    sim.run()

    assert log1 == [
        ("create-room", alice.id),
        ("join-room", alice.id, alice.id),
        ("create-room", "r"),
        ("join-room", "r", alice.id),
    ]
    assert log2 == [
        ("create-room", bob.id),
        ("join-room", bob.id, bob.id),
        ("create-room", "r"),
        ("join-room", "r", bob.id),
    ]


# -- several nodes -------------------------------------------------------------------


def test_redis_broadcast_reaches_every_node_and_local_only_this_one() -> None:
    """With the Redis adapter ``io.to(room).emit`` and ``io.emit`` reach the
    sockets of every node; ``io.local`` (and ``socket.local``) only this node's."""
    sim = redis(["n1", "n2", "n3"])
    alice = sim.connect("alice", node="n1", rooms=["r"])
    sim.connect("bob", node="n2", rooms=["r"])
    sim.connect("carol", node="n3", rooms=["r"])
    sim.connect("dave", node="n1")
    sim.connect("erin", node="n3")
    io = sim.io("n1")
    to_room = io.to("r").emit("ev")
    to_all = sim.io("n3").emit("ev")
    local_room = io.local.to("r").emit("ev")
    local_all = sim.io("n3").local.emit("ev")
    socket_local = alice.socket.local.emit("ev")
    sim.run()

    assert timeline(sim, to_room) == [(CLIENT_MS, "alice"), (REMOTE, "bob"), (REMOTE, "carol")]
    assert timeline(sim, to_all) == [
        (CLIENT_MS, "carol"),
        (CLIENT_MS, "erin"),
        (REMOTE, "alice"),
        (REMOTE, "bob"),
        (REMOTE, "dave"),
    ]
    assert timeline(sim, local_room) == [(CLIENT_MS, "alice")]
    assert timeline(sim, local_all) == [(CLIENT_MS, "carol"), (CLIENT_MS, "erin")]
    assert timeline(sim, socket_local) == [(CLIENT_MS, "dave")]
    assert sim.trace.records("publish", msg=local_room) == []


def test_remote_nodes_pick_recipients_when_the_broker_copy_arrives() -> None:
    """The emitting node picks its recipients at once; another node picks them
    from its rooms as they are when Redis hands it the message (adapter_ms
    later): a join (or a new connection) there before then counts, one after
    does not."""
    sim = redis(["n1", "n2", "n3"])
    sim.connect("alice", node="n1", rooms=["r"])
    late_local = sim.connect("late-local", node="n1")
    early = sim.connect("early", node="n2")
    late = sim.connect("late", node="n3")
    gone = sim.connect("gone", node="n2", rooms=["r"])
    to_room = sim.io("n1").to("r").emit("ev")  # t=0; the copies reach n2 and n3 at t=2
    to_all = sim.io("n1").emit("ev")
    at(sim, 1, lambda: early.socket.join("r"))
    at(sim, 1, lambda: late_local.socket.join("r"))
    at(sim, 1, lambda: gone.socket.leave("r"))
    at(sim, 1, lambda: sim.connect("new-local", node="n1"))
    at(sim, 1, lambda: sim.connect("new-remote", node="n2"))
    at(sim, 3, lambda: late.socket.join("r"))
    at(sim, 3, lambda: sim.connect("too-late", node="n3"))
    sim.run()

    assert timeline(sim, to_room) == [(CLIENT_MS, "alice"), (REMOTE, "early")]
    assert timeline(sim, to_all) == [
        (CLIENT_MS, "alice"),
        (CLIENT_MS, "late-local"),
        (REMOTE, "early"),
        (REMOTE, "gone"),
        (REMOTE, "late"),
        (REMOTE, "new-remote"),
    ]


# -- the broadcast operator --------------------------------------------------------------


def test_the_broadcast_operator_is_immutable() -> None:
    """Since v4 each ``to``/``except_``/``local`` returns a new operator:
    ``op = io.to("a"); op.to("b"); op.emit()`` reaches only "a", and a
    dangling ``io.to("a")`` does not narrow the next ``io.emit()``."""
    sim = one_node()
    io = sim.io("n1")
    alice = sim.connect("alice", node="n1", rooms=["a"])
    sim.connect("bob", node="n1", rooms=["b"])
    sim.connect("carol", node="n1")
    op = io.to("a")
    op.to("b")
    op.except_("a")
    op.local  # noqa: B018
    only_a = op.emit("ev")
    io.to("a")
    everyone = io.emit("ev")
    sop = alice.socket.to("b")
    sop.to("a")
    sop.except_("b")
    only_b = sop.emit("ev")
    sim.run()

    assert got(sim, only_a) == ["alice"]
    assert got(sim, everyone) == ["alice", "bob", "carol"]
    assert got(sim, only_b) == ["bob"]


# -- namespaces ----------------------------------------------------------------------------


def test_namespaces_have_separate_rooms() -> None:
    """Rooms belong to a namespace: the same room name in ``/`` and ``/admin``
    is two rooms, ``io.emit`` and ``io.to(room)`` stay in ``/``, and
    ``io.of("/admin")`` reaches only ``/admin``'s sockets, on every node."""
    sim = redis(["n1", "n2"])
    sim.on("connection", lambda socket: socket.join("r"))
    sim.on("connection", lambda socket: socket.join("r"), namespace="/admin")
    main_log = room_log(sim.io("n2").sockets)
    sim.connect("alice", node="n1")
    sim.connect("bob", node="n2")
    sim.connect("root", node="n1", namespace="/admin")
    admin2 = sim.connect("admin2", node="n2", namespace="/admin")
    io = sim.io("n1")
    main_room = io.to("r").emit("ev")
    main_all = io.emit("ev")
    admin_room = io.of("/admin").to("r").emit("ev")
    admin_all = io.of("admin").emit("ev")
    sim.run()

    assert timeline(sim, main_room) == [(CLIENT_MS, "alice"), (REMOTE, "bob")]
    assert timeline(sim, main_all) == [(CLIENT_MS, "alice"), (REMOTE, "bob")]
    assert timeline(sim, admin_room) == [(CLIENT_MS, "root"), (REMOTE, "admin2")]
    assert timeline(sim, admin_all) == [(CLIENT_MS, "root"), (REMOTE, "admin2")]
    assert admin2.id not in {arg for event in main_log for arg in event[1:]}
    assert list(sim.io("n2").of("/admin").adapter.rooms["r"]) == [admin2.id]


# -- asynchronous handlers -------------------------------------------------------------------


def test_generator_handler_joins_after_its_lookup() -> None:
    """A handler that waits (``const userId = await fetchUserId(socket)``) runs up
    to its first wait at once, then joins when the lookup ends: a broadcast
    before that misses the socket, one after reaches it."""
    sim = redis(["n1", "n2"])
    rooms_at_connection: list[list[str]] = []

    def fetch_user_id(socket):
        yield sim.env.timeout(10)
        return socket.client.name.split("-")[0]

    @sim.on("connection")
    def on_connection(socket):
        rooms_at_connection.append(list(socket.rooms))
        user_id = yield from fetch_user_id(socket)
        socket.join(user_id)

    phone = sim.connect("alice-phone", node="n1")
    laptop = sim.connect("alice-laptop", node="n2")
    sent = {}
    at(sim, 5, lambda: sent.setdefault("early", sim.io("n1").to("alice").emit("ev")))
    at(sim, 12, lambda: sent.setdefault("late", sim.io("n1").to("alice").emit("ev")))
    sim.run()

    assert rooms_at_connection == [[phone.id], [laptop.id]]
    assert got(sim, sent["early"]) == []
    assert timeline(sim, sent["late"]) == [
        (12 + CLIENT_MS, "alice-phone"),
        (12 + REMOTE, "alice-laptop"),
    ]
    assert list(laptop.socket.rooms) == [laptop.id, "alice"]


def test_client_can_reconnect_before_the_server_hears_of_its_disconnect():
    """socket.io-client may reconnect at once after disconnect(); the old socket
    closes on the server when the news arrives, the new one is a new socket."""
    sim = roomsim.Cluster(nodes=["n1", "n2"], adapter="redis", client_ms=5, adapter_ms=2)
    a = sim.connect("a", node="n1", rooms=["r"])
    old = a.sid
    a.disconnect()
    a.connect(node="n2")
    assert a.connected and a.sid != old
    sim.run()
    closes = [(r["t"], r["sid"]) for r in sim.trace.records("disconnect")]
    assert closes == [(5, old)]
    assert a.socket.connected and set(a.socket.rooms) == {a.sid}
