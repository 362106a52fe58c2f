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

A subscription takes a broker round trip to be in place: a single-room
broadcast the broker handles before then is lost for that node, and each of
that node's sockets it was meant for is recorded as a ``drop`` with reason
``not subscribed``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from roomsim.adapters.broker_adapter import BrokerAdapter
from roomsim.broker import Broker, BrokerMessage, Subscription
from roomsim.packet import BroadcastOptions, Packet

if TYPE_CHECKING:
    from roomsim.namespace import Namespace

__all__ = ["SUBSCRIPTION_MODES", "ShardedRedisAdapter"]

SUBSCRIPTION_MODES = ("static", "dynamic", "dynamic-private")

#: ClusterAdapter message types (the ones used here)
BROADCAST = 3


class ShardedRedisAdapter(BrokerAdapter):
    """The sharded Redis adapter of one namespace on one node."""

    def __init__(
        self,
        nsp: Namespace,
        broker: Broker,
        uid: str,
        key: str = "socket.io",
        subscription_mode: str = "dynamic",
    ) -> None:
        if subscription_mode not in SUBSCRIPTION_MODES:
            raise ValueError(
                f"unknown subscription_mode {subscription_mode!r}; expected one of"
                f" {SUBSCRIPTION_MODES}"
            )
        super().__init__(nsp, broker, uid)
        self.mode = subscription_mode
        self.channel = f"{key}#{nsp.name}#"
        self.response_channel = f"{self.channel}{uid}#"
        node = nsp.node
        broker.subscribe(self.channel, self.on_message, node=node, immediate=True)
        broker.subscribe(self.response_channel, self.on_message, node=node, immediate=True)
        self._room_subs: dict[str, Subscription] = {}
        if subscription_mode != "static":
            self.registry.on("create-room", self._room_created)
            self.registry.on("delete-room", self._room_deleted)

    # -- dynamic subscriptions ----------------------------------------------------
    def _own_channel(self, room: str) -> bool:
        """Whether ``room`` gets a channel of its own on this node."""
        return self.mode == "dynamic-private" or room not in self.sids

    def _room_created(self, room: str) -> None:
        if self._own_channel(room):
            self._room_subs[room] = self.broker.subscribe(
                f"{self.channel}{room}#",
                self.on_message,
                node=self.nsp.node,
                on_missed=self._missed,
            )

    def _room_deleted(self, room: str) -> None:
        sub = self._room_subs.pop(room, None)
        if sub is not None:
            self.broker.unsubscribe(sub)

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

    def broadcast(self, packet: Packet, opts: BroadcastOptions) -> None:
        if opts.local:
            self.deliver_local(packet, opts)
            return
        payload = self.message(BROADCAST, {"opts": opts.wire(), "packet": packet.wire()})
        self.publish(
            self.channel_for(opts),
            payload,
            packet.msg,
            on_reply=lambda: self.deliver_local(packet, opts),
        )

    def on_message(self, channel: str, message: BrokerMessage) -> None:
        """A copy of a published message reaches this node."""
        nsp = self.nsp
        payload = message.payload
        ignored = None
        if payload["uid"] == self.uid:
            ignored = "own message"
        elif payload["nsp"] != nsp.name:
            ignored = "other namespace"
        if ignored is not None:
            self.relay(message, channel, 0, ignored)
            return
        if payload["type"] == BROADCAST:
            packet, opts = self._decode(message)
            sids = self.registry.select(opts.rooms, opts.except_rooms)
            self.relay(message, channel, len(sids), None)
            nsp.write(packet, sids)

    def _decode(self, message: BrokerMessage) -> tuple[Packet, BroadcastOptions]:
        data = message.payload["data"]
        event, *args = data["packet"]["data"]
        wire = data["opts"]
        opts = BroadcastOptions(tuple(wire["rooms"]), tuple(wire["except"]))
        return Packet(message.msg or "", event, tuple(args), self.nsp.name), opts

    def _missed(self, channel: str, message: BrokerMessage) -> None:
        """A message on a room channel this node is still subscribing to was lost here."""
        payload = message.payload
        if payload["uid"] == self.uid or payload["type"] != BROADCAST:
            return
        nsp = self.nsp
        _, opts = self._decode(message)
        now, node, msg = nsp.env.now, nsp.node, message.msg
        nsp.trace.record(now, "drop", msg=msg, node=node, reason="not subscribed", channel=channel)
        names = nsp.cluster.links.names
        for sid in self.registry.select(opts.rooms, opts.except_rooms):
            nsp.trace.record(
                now, "drop", msg=msg, client=names[sid], node=node, reason="not subscribed"
            )
