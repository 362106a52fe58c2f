"""Socket.IO's classic Redis adapter, on the simulated broker.

Broadcasts
----------

Every node pattern-subscribes to ``socket.io#<nsp>#*``.  A broadcast is
delivered to the emitting node's own sockets at once and published as
``[uid, packet, {rooms, except, flags}]``: on ``socket.io#<nsp>#<room>#`` when
it names exactly one room, else on ``socket.io#<nsp>#``.  Every subscribed node
gets every message, its own included: it throws away its own (same uid) and
single-room messages for a room it does not have, and otherwise picks its
recipients from its rooms *as they are when the message arrives*.

Requests
--------
Cluster-wide utilities travel as JSON requests on ``socket.io-request#<nsp>#``
and answers on ``socket.io-response#<nsp>#``, both subscribed by every node.
``sockets_join``, ``sockets_leave`` and ``disconnect_sockets`` are only
published: every node, the sender included, applies them when the request
comes back from the broker.  ``fetch_sockets`` and broadcasts with
acknowledgements count the nodes as ``PUBSUB NUMSUB`` of the request channel;
``fetch_sockets`` gives up after ``requests_timeout_ms`` (5000) with
"timeout reached while waiting for fetchSockets response", and
``server_side_emit`` with "timeout reached: only X responses received out of Y".
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from roomsim.adapters.broker_adapter import (
    BROADCAST,
    BROADCAST_ACK,
    BROADCAST_CLIENT_COUNT,
    DISCONNECT_SOCKETS,
    FETCH_SOCKETS,
    FETCH_SOCKETS_RESPONSE,
    OPERATIONS,
    SERVER_SIDE_EMIT,
    SERVER_SIDE_EMIT_RESPONSE,
    SOCKETS_JOIN,
    SOCKETS_LEAVE,
    BrokerAdapter,
    Fields,
    Reply,
    decode_options,
)
from roomsim.broker import Broker, BrokerMessage, Subscription
from roomsim.packet import BroadcastOptions, Packet
from roomsim.vocabulary import NODE_DOWN, OTHER_NAMESPACE, OWN_MESSAGE, UNKNOWN_ROOM

if TYPE_CHECKING:
    from roomsim.adapters.interface import AdapterNamespace

__all__ = ["REQUEST_TYPES", "RedisAdapter"]

#: the classic adapter's request types, by number
REQUEST_TYPES = {
    0: "SOCKETS",
    1: "ALL_ROOMS",
    2: "REMOTE_JOIN",
    3: "REMOTE_LEAVE",
    4: "REMOTE_DISCONNECT",
    5: "REMOTE_FETCH",
    6: "SERVER_SIDE_EMIT",
    7: "BROADCAST",
    8: "BROADCAST_CLIENT_COUNT",
    9: "BROADCAST_ACK",
}
#: the template's operations -> the classic adapter's type numbers (answers to
#: ``fetch_sockets`` and ``server_side_emit`` reuse the request's number)
TYPES = {
    SOCKETS_JOIN: 2,
    SOCKETS_LEAVE: 3,
    DISCONNECT_SOCKETS: 4,
    FETCH_SOCKETS: 5,
    SERVER_SIDE_EMIT: 6,
    BROADCAST: 7,
    FETCH_SOCKETS_RESPONSE: 5,
    SERVER_SIDE_EMIT_RESPONSE: 6,
    BROADCAST_CLIENT_COUNT: 8,
    BROADCAST_ACK: 9,
}
#: type number -> operation, on the request channel and on the response channel
_REQUESTS = {TYPES[op]: op for op in OPERATIONS[:6]}
_RESPONSES = {TYPES[op]: op for op in OPERATIONS[6:]}


class RedisAdapter(BrokerAdapter):
    """The classic (pub/sub) Redis adapter of one namespace on one node."""

    TYPES = TYPES
    EMIT_FIELD = "data"
    FETCH_TIMEOUT_MESSAGE = "timeout reached while waiting for fetchSockets response"

    def __init__(
        self, nsp: AdapterNamespace, broker: Broker, uid: str, requests_timeout_ms: float = 5000.0
    ) -> None:
        super().__init__(nsp, broker, uid)
        self.channel = f"{self.KEY}#{nsp.name}#"
        self.request_channel = f"{self.KEY}-request#{nsp.name}#"
        self.response_channel = f"{self.KEY}-response#{nsp.name}#"
        self.requests_timeout_ms = requests_timeout_ms
        node = nsp.node
        broker.psubscribe(
            self.channel + "*",
            self.on_message,
            node=node,
            on_missed=self.missed,
            batch=RedisAdapter.on_copies,
            owner=self,
        )
        broker.subscribe(
            self.request_channel,
            self.on_request,
            node=node,
            immediate=True,
            on_missed=self.missed_request,
        )
        broker.subscribe(self.response_channel, self.on_response, node=node, immediate=True)

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

    def broadcast_in(
        self, channel: str, message: BrokerMessage, any_room: bool = False
    ) -> BroadcastOptions | None:
        room = channel[len(self.channel) : -1]
        uid, wire_packet, wire_opts = message.payload
        if (room and room not in self.rooms and not any_room) or uid == self.uid:
            return None
        if wire_packet.get("nsp", "/") != self.nsp.name:
            return None
        return decode_options(wire_opts)

    def on_message(self, channel: str, message: BrokerMessage) -> None:
        """A copy of a published broadcast reaches this node."""
        nsp = self.nsp
        if not self.ctx.up:
            self.missed(channel, message, NODE_DOWN)
            return
        self.received(message)
        room = channel[len(self.channel) : -1]
        uid, wire_packet, wire_opts = message.payload
        ignored = None
        if room and room not in self.rooms:
            ignored = UNKNOWN_ROOM
        elif uid == self.uid:
            ignored = OWN_MESSAGE
        elif wire_packet.get("nsp", "/") != nsp.name:
            ignored = OTHER_NAMESPACE
        if ignored is not None:
            self.relay(message, channel, 0, ignored)
            return
        event, *args = wire_packet["data"]
        packet = Packet(message.msg or "", event, tuple(args), nsp.name)
        opts = decode_options(wire_opts)
        sids = self.registry.select(opts.rooms, opts.except_rooms)
        self.relay(message, channel, len(sids), None)
        nsp.write(packet, sids, opts.volatile)

    @staticmethod
    def on_copies(channel: str, message: BrokerMessage, subs: list[Subscription]) -> None:
        """Copies of one broadcast reaching the nodes of ``subs`` at one instant:
        what :meth:`on_message` does on each, in order, with the relays of the
        nodes that have no socket in the room (and are up) recorded as one batch."""
        ctx = subs[0].owner.ctx
        now, trace, msg = ctx.env.now, ctx.trace, message.msg  # one instant, one trace
        costly = ctx.loop is not None  # a cluster's nodes all have loops, or none has
        owners: list[RedisAdapter] = [sub.owner for sub in subs]
        # a node skips the copy when the room is not one of its own (and it is up):
        # then it only decodes it (with costs) and records a relay, and those go as one batch
        skips = [
            len(channel) > len(a.channel) + 1
            and channel[len(a.channel) : -1] not in a.rooms
            and a.ctx.up
            for a in owners
        ]
        i, n = 0, len(owners)
        while i < n:
            if skips[i]:
                try:
                    j = skips.index(False, i)
                except ValueError:
                    j = n
                if costly:  # each node's loop decodes its copy first, in the same order
                    for a in owners[i:j]:
                        a.received(message)
                trace.relays(now, msg, [sub.node for sub in subs[i:j]], channel, UNKNOWN_ROOM)
                i = j
            else:
                owners[i].on_message(channel, message)
                i += 1

    # -- requests: the wire of the shared template -------------------------------------
    def send(self, op: str, fields: Fields, msg: str | None = None, on_reply: Reply = None) -> None:
        """A request ``{uid, type, ...}`` on the request channel (every node gets it)."""
        kind = self.TYPES[op]
        payload = {"uid": self.uid, "type": kind, **fields}
        self.publish(self.request_channel, payload, msg, kind=REQUEST_TYPES[kind])

    def respond(self, requester: str, op: str, fields: dict[str, Any]) -> None:
        """An answer ``{type, ...}`` on the response channel (every node gets it)."""
        kind = self.TYPES[op]
        self.publish(
            self.response_channel, {"type": kind, **fields}, None, kind=REQUEST_TYPES[kind]
        )

    def wire_options(self, opts: BroadcastOptions) -> dict[str, Any]:
        return _wire(opts)

    def wire_packet(self, packet: Packet) -> dict[str, Any]:
        return packet.wire()

    def server_count(self) -> int:
        """``PUBSUB NUMSUB`` of the request channel: every node of the namespace."""
        return self.broker.numsub(self.request_channel)

    def missed_request(self, channel: str, message: BrokerMessage, reason: str) -> None:
        """A request that never reached this node: a broadcast with acknowledgements
        is recorded as lost for the node and each socket it would have reached."""
        p = message.payload
        if p.get("type") == self.TYPES[BROADCAST] and p.get("uid") != self.uid:
            self.record_missed(decode_options(p["opts"]), channel, message, reason)

    def on_request(self, channel: str, message: BrokerMessage) -> None:
        """A request reaches this node (its own included)."""
        self.received(message)
        p = message.payload
        op = _REQUESTS.get(p["type"])
        if op is not None:
            self.handle(op, p.get("uid"), p, message.msg)

    def on_response(self, channel: str, message: BrokerMessage) -> None:
        """An answer reaches this node; it keeps those to its own requests."""
        self.received(message)
        p = message.payload
        op = _RESPONSES.get(p["type"])
        if op is not None:
            self.handle(op, None, p, None)


def _wire(opts: BroadcastOptions) -> dict[str, list[str]]:
    return {"rooms": list(opts.rooms), "except": list(opts.except_rooms)}
