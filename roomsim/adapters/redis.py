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

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import simpy

from roomsim.adapters.broker_adapter import BrokerAdapter, decode_options, decode_packet
from roomsim.adapters.memory import InMemoryAdapter
from roomsim.adapters.requests import describe
from roomsim.broker import Broker, BrokerMessage
from roomsim.packet import BroadcastOptions, Packet

if TYPE_CHECKING:
    from roomsim.namespace import Namespace

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
REMOTE_JOIN, REMOTE_LEAVE, REMOTE_DISCONNECT, REMOTE_FETCH = 2, 3, 4, 5
SERVER_SIDE_EMIT, BROADCAST, BROADCAST_CLIENT_COUNT, BROADCAST_ACK = 6, 7, 8, 9


class RedisAdapter(BrokerAdapter):
    """The classic (pub/sub) Redis adapter of one namespace on one node."""

    def __init__(
        self,
        nsp: Namespace,
        broker: Broker,
        uid: str,
        key: str = "socket.io",
        requests_timeout_ms: float = 5000.0,
    ) -> None:
        super().__init__(nsp, broker, uid)
        self.channel = f"{key}#{nsp.name}#"
        self.request_channel = f"{key}-request#{nsp.name}#"
        self.response_channel = f"{key}-response#{nsp.name}#"
        self.requests_timeout_ms = requests_timeout_ms
        node = nsp.node
        broker.psubscribe(self.channel + "*", self.on_message, node=node, on_missed=self.missed)
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
        if not nsp.server.alive:
            self.missed(channel, message, "node down")
            return
        self.received(message)
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
        opts = decode_options(wire_opts)
        sids = self.registry.select(opts.rooms, opts.except_rooms)
        self.relay(message, channel, len(sids), None)
        nsp.write(packet, sids, opts.volatile)

    # -- requests ----------------------------------------------------------------------
    def _request(self, kind: int, msg: str | None = None, **fields: Any) -> None:
        payload = {"uid": self.uid, "type": kind, **fields}
        self.publish(self.request_channel, payload, msg, kind=REQUEST_TYPES[kind])

    def _respond(self, kind: int, **fields: Any) -> None:
        payload = {"type": kind, **fields}
        self.publish(self.response_channel, payload, None, kind=REQUEST_TYPES[kind])

    def server_count(self) -> int:
        """``PUBSUB NUMSUB`` of the request channel: every node of the namespace."""
        return self.broker.numsub(self.request_channel)

    def add_sockets(self, opts: BroadcastOptions, rooms: list[str]) -> None:
        if opts.local:
            super().add_sockets(opts, rooms)
        else:
            self._request(REMOTE_JOIN, opts=_wire(opts), rooms=rooms)

    def del_sockets(self, opts: BroadcastOptions, rooms: list[str]) -> None:
        if opts.local:
            super().del_sockets(opts, rooms)
        else:
            self._request(REMOTE_LEAVE, opts=_wire(opts), rooms=rooms)

    def disconnect_sockets(self, opts: BroadcastOptions, close: bool) -> None:
        if opts.local:
            super().disconnect_sockets(opts, close)
        else:
            self._request(REMOTE_DISCONNECT, opts=_wire(opts), close=close)

    def fetch_sockets(self, opts: BroadcastOptions) -> simpy.Event:
        return self.fetch_from_others(
            opts,
            self.requests_timeout_ms,
            lambda rid: self._request(REMOTE_FETCH, requestId=rid, opts=_wire(opts)),
            "timeout reached while waiting for fetchSockets response",
        )

    def server_side_emit(
        self, event: str, args: tuple[Any, ...], ack: Callable[..., Any] | None
    ) -> None:
        if ack is None:
            self._request(SERVER_SIDE_EMIT, data=[event, *args])
        else:
            self.ask_others(
                ack,
                self.requests_timeout_ms,
                lambda rid: self._request(SERVER_SIDE_EMIT, requestId=rid, data=[event, *args]),
            )

    def broadcast_with_ack(
        self,
        packet: Packet,
        opts: BroadcastOptions,
        client_count: Callable[[int], None],
        ack: Callable[[Any], None],
    ) -> None:
        if not opts.local:
            request_id = self.track_acks(opts, client_count, ack)
            self._request(
                BROADCAST, packet.msg, requestId=request_id, packet=packet.wire(), opts=_wire(opts)
            )
        super().broadcast_with_ack(packet, opts, client_count, ack)

    def missed_request(self, channel: str, message: BrokerMessage, reason: str) -> None:
        """A request that never reached this node: a broadcast with acknowledgements
        is recorded as lost for the node and each socket it would have reached."""
        p = message.payload
        if p.get("type") == BROADCAST and p.get("uid") != self.uid:
            self.record_missed(decode_options(p["opts"]), channel, message, reason)

    def on_request(self, channel: str, message: BrokerMessage) -> None:
        """A request reaches this node (its own included)."""
        self.received(message)
        p = message.payload
        kind = p["type"]
        if kind == REMOTE_JOIN:
            InMemoryAdapter.add_sockets(self, decode_options(p["opts"]), p["rooms"])
        elif kind == REMOTE_LEAVE:
            InMemoryAdapter.del_sockets(self, decode_options(p["opts"]), p["rooms"])
        elif kind == REMOTE_DISCONNECT:
            InMemoryAdapter.disconnect_sockets(self, decode_options(p["opts"]), p["close"])
        elif kind == REMOTE_FETCH:
            if p["requestId"] in self.requests:
                return  # our own request
            opts = decode_options(p["opts"])
            found = describe(self.nsp, self.registry.select(opts.rooms, opts.except_rooms))
            self._respond(REMOTE_FETCH, requestId=p["requestId"], sockets=found)
        elif kind == SERVER_SIDE_EMIT:
            if p["uid"] == self.uid:
                return
            event, *args = p["data"]
            if "requestId" in p:
                args.append(self._answer_once(p["requestId"]))
            self.nsp.on_server_side_emit(event, tuple(args))
        elif kind == BROADCAST:
            request_id = p["requestId"]
            if request_id in self.ack_requests:
                return  # our own request
            packet = decode_packet(p["packet"], message.msg, self.nsp.name)
            InMemoryAdapter.broadcast_with_ack(
                self,
                packet,
                decode_options(p["opts"]),
                lambda n: self._respond(
                    BROADCAST_CLIENT_COUNT, requestId=request_id, clientCount=n
                ),
                lambda answer: self._respond(BROADCAST_ACK, requestId=request_id, packet=answer),
            )

    def _answer_once(self, request_id: str) -> Callable[..., None]:
        answered = False

        def answer(*args: Any) -> None:
            nonlocal answered
            if not answered:
                answered = True
                self._respond(
                    SERVER_SIDE_EMIT, requestId=request_id, data=args[0] if args else None
                )

        return answer

    def on_response(self, channel: str, message: BrokerMessage) -> None:
        """An answer reaches this node; it keeps those to its own requests."""
        self.received(message)
        p = message.payload
        kind, request_id = p["type"], p["requestId"]
        if kind == REMOTE_FETCH:
            request = self.requests.get(request_id)
            if request is not None:
                request.answer(*self.remote_sockets(p["sockets"]))
        elif kind == SERVER_SIDE_EMIT:
            request = self.requests.get(request_id)
            if request is not None:
                request.answer(p["data"])
        elif kind == BROADCAST_CLIENT_COUNT:
            self.on_ack_response(request_id, p["clientCount"])
        elif kind == BROADCAST_ACK:
            self.on_ack_response(request_id, None, p["packet"])


def _wire(opts: BroadcastOptions) -> dict[str, list[str]]:
    return {"rooms": list(opts.rooms), "except": list(opts.except_rooms)}
