"""Socket.IO's sharded Redis adapter (Redis 7 ``SPUBLISH``/``SSUBSCRIBE``).

Built like every ``ClusterAdapter``: a broadcast is published first and
delivered to the node's own sockets only when the publish returns (a broker
round trip later), so a join on the emitting node in between still counts.

Channels: the main channel ``socket.io#<nsp>#``, the node's own response
channel ``socket.io#<nsp>#<uid>#``, and with ``subscription_mode``
``dynamic`` (the default) one channel per public room, ``socket.io#<nsp>#<room>#``,
subscribed when the room appears on the node and unsubscribed when it is
deleted; ``dynamic-private`` does the same for socket-id rooms; ``static``
uses only the first two.  A broadcast to exactly one room goes to the room's
channel (``dynamic``: unless the room looks like a socket id, 20
characters), everything else to the main channel.

A room's subscription counts from the moment its ``SSUBSCRIBE`` reaches the
broker, one hop after the room appears on the node (measured on Socket.IO
4.8.4 with node-redis 4.7: a join made before a remote emit is reached); a
single-room broadcast the broker handles before then is lost for that node,
and each of that node's sockets it was meant for is recorded as a ``drop``
with reason ``not subscribed``.  ``SUNSUBSCRIBE`` (the room deleted) takes
effect one hop later too, and node-redis forgets the channel only when its
reply is back: a room created again on the node before then sends no new
``SSUBSCRIBE`` (node-redis believes it is still subscribed), so that room
stays unsubscribed on that node until it is deleted and created again.

Utilities go on the main channel: ``sockets_join``, ``sockets_leave`` and
``disconnect_sockets`` are published, then applied on this node when the
publish returns, and by the other nodes when they receive them;
``fetch_sockets``, ``server_side_emit`` and broadcasts with acknowledgements
expect one answer per other node (``SHARDNUMSUB`` of the main channel, minus
one), sent to the asking node's own channel, and give up after the
operator's ``timeout`` (5000 ms by default) with "timeout reached: only X
responses received out of Y".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from roomsim.adapters.broker_adapter import (
    BROADCAST,
    OPERATIONS,
    BrokerAdapter,
    Fields,
    Reply,
    decode_options,
    decode_packet,
)
from roomsim.broker import Broker, BrokerMessage, Subscription
from roomsim.packet import BroadcastOptions, Packet
from roomsim.vocabulary import NODE_DOWN, OTHER_NAMESPACE, OWN_MESSAGE

if TYPE_CHECKING:
    from roomsim.adapters.interface import AdapterNamespace

__all__ = ["SUBSCRIPTION_MODES", "ShardedRedisAdapter"]

SUBSCRIPTION_MODES = ("static", "dynamic", "dynamic-private")

#: ClusterAdapter message types, by number
MESSAGE_TYPES = {
    1: "INITIAL_HEARTBEAT",
    2: "HEARTBEAT",
    3: "BROADCAST",
    4: "SOCKETS_JOIN",
    5: "SOCKETS_LEAVE",
    6: "DISCONNECT_SOCKETS",
    7: "FETCH_SOCKETS",
    8: "FETCH_SOCKETS_RESPONSE",
    9: "SERVER_SIDE_EMIT",
    10: "SERVER_SIDE_EMIT_RESPONSE",
    11: "BROADCAST_CLIENT_COUNT",
    12: "BROADCAST_ACK",
    13: "ADAPTER_CLOSE",
}
#: the template's operations -> ClusterAdapter's type numbers
TYPES = {name: kind for kind, name in MESSAGE_TYPES.items() if name in OPERATIONS}
#: type number -> operation
_OPERATIONS = {kind: name for name, kind in TYPES.items()}
BROADCAST_TYPE = TYPES[BROADCAST]
DEFAULT_TIMEOUT_MS = 5000.0


class ShardedRedisAdapter(BrokerAdapter):
    """The sharded Redis adapter of one namespace on one node."""

    TYPES = TYPES
    EMIT_FIELD = "packet"
    APPLY_OWN_ON_REPLY = True
    requests_timeout_ms = DEFAULT_TIMEOUT_MS

    def __init__(
        self, nsp: AdapterNamespace, broker: Broker, uid: str, subscription_mode: str = "dynamic"
    ) -> None:
        if subscription_mode not in SUBSCRIPTION_MODES:
            raise ValueError(
                f"unknown subscription_mode {subscription_mode!r}; expected one of"
                f" {SUBSCRIPTION_MODES}"
            )
        super().__init__(nsp, broker, uid)
        self.mode = subscription_mode
        self.channel = f"{self.KEY}#{nsp.name}#"
        self.response_channel = f"{self.channel}{uid}#"
        node = nsp.node
        broker.subscribe(
            self.channel, self.on_message, node=node, immediate=True, on_missed=self.missed
        )
        broker.subscribe(self.response_channel, self.on_message, node=node, immediate=True)
        self._room_subs: dict[str, Subscription] = {}
        #: room channels node-redis holds listeners for (SSUBSCRIBE answered,
        #: SUNSUBSCRIBE not yet answered)
        self._listening: set[str] = set()
        if subscription_mode != "static":
            self.registry.on("create-room", self._room_created)
            self.registry.on("delete-room", self._room_deleted)

    # -- dynamic subscriptions ----------------------------------------------------
    def _own_channel(self, room: str) -> bool:
        """Whether ``room`` gets a channel of its own on this node."""
        return self.mode == "dynamic-private" or room not in self.sids

    def _room_created(self, room: str) -> None:
        if not self._own_channel(room):
            return
        sub = self._room_subs.get(room)
        if sub is None:
            sub = self._room_subs[room] = self.broker.subscribe(
                f"{self.channel}{room}#",
                self.on_message,
                node=self.nsp.node,
                immediate=None,
                on_missed=self.missed,
            )
        sub.cancelled = False
        sub.stale = room in self._listening  # node-redis sends no SSUBSCRIBE then
        if not sub.stale:
            self.broker.command(
                self.nsp.node,
                lambda: self._ssubscribed(room, sub),
                lambda: self._listening.add(room),
            )

    def _ssubscribed(self, room: str, sub: Subscription) -> None:
        if self._room_subs.get(room) is sub:  # the broker has it (not yet forgotten)
            sub.active = True

    def _room_deleted(self, room: str) -> None:
        sub = self._room_subs.get(room)
        if sub is None:
            return
        sub.cancelled = True
        self.broker.command(
            self.nsp.node,
            lambda: self._sunsubscribed(room, sub),
            lambda: self._listening.discard(room),
        )

    def _sunsubscribed(self, room: str, sub: Subscription) -> None:
        sub.active = False
        if sub.cancelled:  # the room is still gone: the broker forgets the channel
            self.broker.remove(sub)
            if self._room_subs.get(room) is sub:
                del self._room_subs[room]

    # -- broadcasting ----------------------------------------------------------------
    def channel_for(self, opts: BroadcastOptions, with_ack: bool = False) -> str:
        """The channel a broadcast is published on.

        Examples
        --------
        >>> adapter = ShardedRedisAdapter.__new__(ShardedRedisAdapter)
        >>> adapter.channel, adapter.mode = "socket.io#/#", "dynamic"
        >>> adapter.channel_for(BroadcastOptions(("room1",)))
        'socket.io#/#room1#'
        >>> adapter.channel_for(BroadcastOptions(("a" * 20,)))   # looks like a socket id
        'socket.io#/#'
        >>> adapter.mode = "static"
        >>> adapter.channel_for(BroadcastOptions(("room1",)))
        'socket.io#/#'
        """
        rooms = opts.rooms
        if (
            self.mode != "static"
            and not with_ack
            and len(rooms) == 1
            and (self.mode == "dynamic-private" or len(rooms[0]) != 20)
        ):
            return f"{self.channel}{rooms[0]}#"
        return self.channel

    def message(self, kind: int, data: dict[str, Any]) -> dict[str, Any]:
        """A ClusterAdapter message: ``{uid, nsp, type, data}``."""
        return {"uid": self.uid, "nsp": self.nsp.name, "type": kind, "data": data}

    def _send(
        self,
        kind: int,
        data: dict[str, Any],
        msg: str | None = None,
        on_reply: Callable[[], None] | None = None,
        channel: str | None = None,
    ) -> None:
        """Publish a message; what waits for the reply runs at once if the publish
        fails (ClusterAdapter catches the error and goes on locally)."""
        self.publish(
            channel or self.channel,
            self.message(kind, data),
            msg,
            on_reply,
            kind=MESSAGE_TYPES[kind],
            on_failed=on_reply,
        )

    def send(self, op: str, fields: Fields, msg: str | None = None, on_reply: Reply = None) -> None:
        """A request on the main channel: every other node of the namespace gets it."""
        self._send(TYPES[op], fields, msg, on_reply)

    def respond(self, requester: str, op: str, fields: dict[str, Any]) -> None:
        """An answer on the asking node's own channel."""
        self._send(TYPES[op], fields, channel=f"{self.channel}{requester}#")

    def broadcast(self, packet: Packet, opts: BroadcastOptions) -> None:
        if opts.local:
            self.deliver_local(packet, opts)
            return
        self._send(
            BROADCAST_TYPE,
            {"opts": opts.wire(), "packet": packet.wire(with_nsp=False)},
            packet.msg,
            on_reply=lambda: self.deliver_local(packet, opts),  # type: ignore[arg-type]
            channel=self.channel_for(opts),
        )

    def broadcast_in(
        self, channel: str, message: BrokerMessage, any_room: bool = False
    ) -> BroadcastOptions | None:
        p = message.payload
        if p["type"] != BROADCAST_TYPE or p["uid"] == self.uid or p["nsp"] != self.nsp.name:
            return None
        return decode_options(p["data"]["opts"])

    def on_message(self, channel: str, message: BrokerMessage) -> None:
        """A copy of a published message reaches this node."""
        nsp = self.nsp
        if not self.ctx.up:
            self.missed(channel, message, NODE_DOWN)
            return
        self.received(message)
        p = message.payload
        kind = p["type"]
        ignored = None
        if p["uid"] == self.uid:
            ignored = OWN_MESSAGE
        elif p["nsp"] != nsp.name:
            ignored = OTHER_NAMESPACE
        if ignored is not None:
            if kind == BROADCAST_TYPE and "requestId" not in p["data"]:
                self.relay(message, channel, 0, ignored)
            return
        data = p["data"]
        if kind == BROADCAST_TYPE and "requestId" not in data:
            packet, opts = self._decode(message)
            sids = self.registry.select(opts.rooms, opts.except_rooms)
            self.relay(message, channel, len(sids), None)
            nsp.write(packet, sids, opts.volatile)
            return
        op = _OPERATIONS.get(kind)
        if op is not None:
            self.handle(op, p["uid"], data, message.msg)

    # -- utility methods -----------------------------------------------------------------
    def server_count(self) -> int:
        """``SHARDNUMSUB`` of the main channel: every node of the namespace."""
        return self.broker.numsub(self.channel)

    def fetch_timeout_ms(self, opts: BroadcastOptions) -> float:
        """The operator's ``timeout``, else 5000 ms."""
        return opts.timeout or DEFAULT_TIMEOUT_MS

    def _decode(self, message: BrokerMessage) -> tuple[Packet, BroadcastOptions]:
        data = message.payload["data"]
        packet = decode_packet(data["packet"], message.msg, self.nsp.name)
        return packet, decode_options(data["opts"])
