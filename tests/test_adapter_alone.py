"""Each adapter runs on its own, against a tiny stand-in namespace.

An adapter depends only on :class:`roomsim.adapters.interface.AdapterNamespace`
(a name, a node, the node's context, its sockets, ``write`` and
``on_server_side_emit``), not on :class:`roomsim.namespace.Namespace`, so it
can be tested as socket.io-adapter tests its adapters: no server, no client,
no cluster, only what the adapter writes and what reaches the other nodes.
"""

from __future__ import annotations

from typing import Any

import simpy

from roomsim.adapters import InMemoryAdapter, RedisAdapter, ShardedRedisAdapter
from roomsim.adapters.interface import AdapterNamespace
from roomsim.broker import Broker
from roomsim.network import ClientLinks
from roomsim.node import MessageIds, NodeContext
from roomsim.packet import BroadcastOptions, Packet
from roomsim.trace import Trace


class FakeSocket:
    def __init__(self, sid: str, data: dict[str, Any] | None = None) -> None:
        self.id = sid
        self.data = data or {}
        self.calls: list[tuple[str, Any]] = []

    def join(self, rooms: Any) -> None:
        self.calls.append(("join", rooms))

    def leave(self, room: str) -> None:
        self.calls.append(("leave", room))

    def disconnect(self, close: bool = False) -> None:
        self.calls.append(("disconnect", close))


class FakeNamespace:
    """What an adapter needs from a namespace, and a log of what it did with it."""

    def __init__(self, ctx: NodeContext, name: str = "/") -> None:
        self.ctx, self.name, self.node = ctx, name, ctx.name
        self.sockets: dict[str, FakeSocket] = {}
        #: (time, message id, socket ids) of every local write
        self.written: list[tuple[float, str, list[str]]] = []
        self.side: list[tuple[str, tuple[Any, ...]]] = []

    def write(
        self, packet: Packet, sids: list[str], volatile: bool = False, recovered: bool = False
    ) -> None:
        self.written.append((self.ctx.env.now, packet.msg, list(sids)))

    def on_server_side_emit(self, event: str, args: tuple[Any, ...]) -> None:
        self.side.append((event, args))

    def to(self, rooms: Any) -> Any:
        raise AssertionError("not used here")

    in_ = to


def nodes(names: list[str]) -> tuple[simpy.Environment, Trace, list[FakeNamespace]]:
    env, trace = simpy.Environment(), Trace()
    links, ids = ClientLinks(env, trace), MessageIds()
    return env, trace, [FakeNamespace(NodeContext(n, env, trace, links, ids)) for n in names]


def members(adapter: InMemoryAdapter, nsp: FakeNamespace, rooms: dict[str, list[str]]) -> None:
    for sid, joined in rooms.items():
        nsp.sockets[sid] = FakeSocket(sid, {"who": sid})
        adapter.add_all(sid, (sid, *joined))


def test_a_fake_namespace_is_what_an_adapter_needs() -> None:
    """The stand-in satisfies the adapter's interface (checked by mypy too)."""
    _, _, [nsp] = nodes(["n1"])
    typed: AdapterNamespace = nsp
    assert InMemoryAdapter(typed).nsp is nsp


def test_the_memory_adapter_writes_the_union_minus_the_excepted_once_each() -> None:
    """to(a, b).except_(c): every member of a or b not in c, each socket once, now."""
    _, _, [nsp] = nodes(["n1"])
    adapter = InMemoryAdapter(nsp)
    members(adapter, nsp, {"s1": ["a"], "s2": ["a", "b"], "s3": ["b", "c"], "s4": ["c"]})
    adapter.broadcast(Packet("m1", "ev", ()), BroadcastOptions(("a", "b"), ("c",)))
    assert nsp.written == [(0, "m1", ["s1", "s2"])]


def test_the_redis_adapter_alone_reaches_the_other_node_after_two_hops() -> None:
    """Classic Redis: the emitting node writes at once; the other node, one hop
    to the broker and one back later, writes to its own members of the room;
    a node without the room throws the copy away."""
    env, trace, (n1, n2, n3) = nodes(["n1", "n2", "n3"])
    broker = Broker(env, 1.0)
    a1, a2, a3 = (RedisAdapter(n, broker, f"uid{i}") for i, n in enumerate((n1, n2, n3), 1))
    members(a1, n1, {"s1": ["r"]})
    members(a2, n2, {"s2": ["r"], "s3": []})
    members(a3, n3, {"s4": ["other"]})
    a1.broadcast(Packet("m1", "ev", ()), BroadcastOptions(("r",)))
    env.run()
    assert (n1.written, n2.written, n3.written) == ([(0, "m1", ["s1"])], [(2, "m1", ["s2"])], [])
    relays = {r["node"]: r.get("ignored") for r in trace.records("relay")}
    assert relays == {"n1": "own message", "n2": None, "n3": "unknown room"}


def test_the_sharded_adapter_alone_runs_server_side_emit_on_the_others_only() -> None:
    """server_side_emit reaches every other node's namespace handlers, not the sender's."""
    env, _, (n1, n2) = nodes(["n1", "n2"])
    broker = Broker(env, 1.0)
    a1 = ShardedRedisAdapter(n1, broker, "u" * 16)
    ShardedRedisAdapter(n2, broker, "v" * 16)
    a1.server_side_emit("hello", (1, 2), None)
    env.run()
    assert (n1.side, n2.side) == ([], [("hello", (1, 2))])


def test_the_sharded_adapter_alone_fetches_the_other_nodes_sockets() -> None:
    """fetch_sockets: the asking node's matching sockets first, then the other
    node's as remote descriptions (id, rooms, data, node), one round trip later."""
    env, _, (n1, n2) = nodes(["n1", "n2"])
    broker = Broker(env, 1.0)
    a1 = ShardedRedisAdapter(n1, broker, "u" * 16)
    a2 = ShardedRedisAdapter(n2, broker, "v" * 16)
    members(a1, n1, {"s1": ["r"]})
    members(a2, n2, {"s2": ["r"], "s3": []})
    event = a1.fetch_sockets(BroadcastOptions(("r",)))
    answered: list[float] = []
    event.callbacks.append(lambda _: answered.append(env.now))
    env.run()
    local, remote = event.value  # type: ignore[misc]
    assert local is n1.sockets["s1"]
    assert (remote.id, remote.rooms, remote.data, remote.node) == (
        "s2",
        {"s2", "r"},
        {"who": "s2"},
        "n2",
    )
    assert answered == [4]  # two hops there, two hops back


def test_the_redis_adapter_alone_applies_a_remote_join_on_every_node() -> None:
    """sockets_join through Redis: every node, the sender included, makes its
    matching sockets join when the request comes back from the broker."""
    env, _, (n1, n2) = nodes(["n1", "n2"])
    broker = Broker(env, 1.0)
    a1, a2 = RedisAdapter(n1, broker, "uid1"), RedisAdapter(n2, broker, "uid2")
    members(a1, n1, {"s1": ["r"]})
    members(a2, n2, {"s2": ["r"], "s3": []})
    a1.add_sockets(BroadcastOptions(("r",)), ["new"])
    assert n1.sockets["s1"].calls == []  # not yet: the request is on its way
    env.run()
    assert [s.calls for s in (n1.sockets["s1"], n2.sockets["s2"], n2.sockets["s3"])] == [
        [("join", ["new"])],
        [("join", ["new"])],
        [],
    ]
