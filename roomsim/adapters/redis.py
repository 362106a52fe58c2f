"""Socket.IO's classic Redis adapter, on the simulated broker.

Every node pattern-subscribes to ``socket.io#<nsp>#*``.  A broadcast is
delivered to the emitting node's own sockets at once and published as
``[uid, packet, {rooms, except, flags}]``: on ``socket.io#<nsp>#<room>#`` when
it names exactly one room, else on ``socket.io#<nsp>#``.  Every subscribed node
gets every message, its own included: it throws away its own (same uid) and
single-room messages for a room it does not have, and otherwise picks its
recipients from its rooms *as they are when the message arrives*.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from roomsim.adapters.broker_adapter import BrokerAdapter
from roomsim.broker import Broker, BrokerMessage
from roomsim.packet import BroadcastOptions, Packet

if TYPE_CHECKING:
    from roomsim.namespace import Namespace

__all__ = ["RedisAdapter"]


class RedisAdapter(BrokerAdapter):
    """The classic (pub/sub) Redis adapter of one namespace on one node."""

    def __init__(self, nsp: Namespace, broker: Broker, uid: str, key: str = "socket.io"):
        super().__init__(nsp, broker, uid)
        self.channel = f"{key}#{nsp.name}#"
        broker.psubscribe(self.channel + "*", self.on_message, node=nsp.node)

    def channel_for(self, opts: BroadcastOptions) -> str:
        """The channel a broadcast is published on.

        Examples
        --------
        >>> from types import SimpleNamespace
        >>> adapter = RedisAdapter.__new__(RedisAdapter)
        >>> adapter.channel = "socket.io#/#"
        >>> adapter.channel_for(BroadcastOptions(("room1",)))
        'socket.io#/#room1#'
        >>> adapter.channel_for(BroadcastOptions(("room1", "room2")))
        'socket.io#/#'
        """
        if len(opts.rooms) == 1:
            return f"{self.channel}{opts.rooms[0]}#"
        return self.channel

    def broadcast(self, packet: Packet, opts: BroadcastOptions) -> None:
        if not opts.local:
            payload = [self.uid, packet.wire(), opts.wire()]
            self.publish(self.channel_for(opts), payload, packet.msg)
        self.deliver_local(packet, opts)

    def on_message(self, channel: str, message: BrokerMessage) -> None:
        """A copy of a published broadcast reaches this node."""
        nsp = self.nsp
        room = channel[len(self.channel) : -1]
        uid, wire_packet, wire_opts = message.payload
        ignored = None
        if room and room not in self.rooms:
            ignored = "unknown room"
        elif uid == self.uid:
            ignored = "own message"
        elif wire_packet.get("nsp", "/") != nsp.name:
            ignored = "other namespace"
        if ignored is not None:
            self.relay(message, channel, 0, ignored)
            return
        event, *args = wire_packet["data"]
        packet = Packet(message.msg or "", event, tuple(args), nsp.name)
        sids = self.registry.select(tuple(wire_opts["rooms"]), tuple(wire_opts["except"]))
        self.relay(message, channel, len(sids), None)
        nsp.write(packet, sids)
