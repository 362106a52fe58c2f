"""A node is one thing: its context, and the one way a socket ends.

Rules: every object of a node (server, namespaces, their adapters) reads the
same :class:`roomsim.node.NodeContext`; a crashed node's context is down and
a restarted node gets a new one.  A socket ends through ``Socket.end`` in one
order: ``disconnecting`` with the rooms, leave all, ``disconnect`` with none,
then the client hears of it, and what is still in flight to it is dropped.
"""

from __future__ import annotations

import roomsim


def test_a_node_objects_share_one_context_and_a_restart_makes_a_new_one() -> None:
    """Server, namespace and adapter of n1 share one context; after a crash it is
    down, and the restarted node's new context is up."""
    sim = roomsim.Cluster(nodes=["n1", "n2"], adapter="redis")
    server = sim.io("n1")
    nsp = server.of("/admin")
    assert server.ctx is nsp.ctx is nsp.adapter.ctx
    assert (server.ctx.name, server.ctx.up, server.ctx.loop) == ("n1", True, None)
    sim.crash("n1")
    assert not server.ctx.up and not server.alive
    sim.restart("n1")
    assert sim.io("n1").ctx is not server.ctx and sim.io("n1").ctx.up


def test_message_ids_are_unique_across_nodes_and_clients() -> None:
    """Ids come from one source for the whole run: m1, m2, m3 in emit order, whoever emits."""
    sim = roomsim.Cluster(nodes=["n1", "n2"], adapter="redis")
    alice = sim.connect("alice", node="n1")
    ids = [sim.io("n1").emit("a"), sim.io("n2").emit("b"), alice.emit("c")]
    assert ids == ["m1", "m2", "m3"]


def test_a_socket_ends_in_one_documented_order() -> None:
    """disconnecting (rooms intact), leave all, disconnect (no rooms); a message
    in flight to a client that has gone is dropped as ``disconnected``, and one
    written after the end picks no one."""
    sim = roomsim.Cluster(client_ms=5)
    seen: list[tuple[str, list[str]]] = []

    @sim.on("connection")
    def on_connection(socket):  # type: ignore[no-untyped-def]
        socket.join("r")
        socket.on(
            "disconnecting", lambda reason: seen.append(("disconnecting", sorted(socket.rooms)))
        )
        socket.on("disconnect", lambda reason: seen.append(("disconnect", sorted(socket.rooms))))

    alice = sim.connect("alice")
    sid = alice.sid

    def script(env):  # type: ignore[no-untyped-def]
        yield env.timeout(10)
        alice.disconnect()  # the client is gone now; the server hears of it at 15
        sim.io("n1").to("r").emit("in flight")  # written at 10, arrives at 15
        yield env.timeout(5)
        sim.io("n1").to("r").emit("after")  # the socket has left every room

    sim.process(script)
    sim.run()
    assert seen == [("disconnecting", sorted([sid, "r"])), ("disconnect", [])]
    kinds = [
        (r["kind"], r.get("reason"))
        for r in sim.trace
        if r["kind"] in ("disconnecting", "disconnect", "drop")
    ]
    assert kinds == [
        ("disconnecting", "client namespace disconnect"),
        ("disconnect", "client namespace disconnect"),
        ("drop", "disconnected"),  # "in flight" reached a client that had gone
    ]
    assert [r["targets"] for r in sim.trace.records("pick")] == [1, 0]  # "after": no one
