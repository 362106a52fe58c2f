"""The template of every broker-backed adapter (Socket.IO's ClusterAdapter).

The shared part publishes with a ``publish`` record, waits for answers,
decides what each cluster-wide operation (``sockets_join``, ``fetch_sockets``,
``server_side_emit``, broadcasts with acknowledgements, ...) sends, and
dispatches a decoded request or answer (:meth:`BrokerAdapter.handle`).  A
subclass supplies only the wire: which channel, the envelope and type
numbers (:meth:`~BrokerAdapter.send`, :meth:`~BrokerAdapter.respond`), its
subscriptions, and how a plain broadcast travels.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

import simpy

from roomsim._sched import call_later, run_handler
from roomsim.adapters.memory import Answer, Count, InMemoryAdapter
from roomsim.adapters.requests import PendingRequest, RemoteSocket, describe, settle
from roomsim.broker import Broker, BrokerMessage
from roomsim.packet import BroadcastOptions, Packet, wire_size
from roomsim.vocabulary import PUBLISH

if TYPE_CHECKING:
    from roomsim.adapters.interface import AdapterNamespace

__all__ = ["OPERATIONS", "BrokerAdapter", "decode_options", "decode_packet"]

#: a request's or answer's fields, as published
Fields = dict[str, Any]
#: what runs when a publish returns (None: nothing)
Reply = Callable[[], None] | None

# -- the cluster-wide operations every broker adapter speaks (ClusterAdapter's names) ------
SOCKETS_JOIN = "SOCKETS_JOIN"
SOCKETS_LEAVE = "SOCKETS_LEAVE"
DISCONNECT_SOCKETS = "DISCONNECT_SOCKETS"
FETCH_SOCKETS = "FETCH_SOCKETS"
FETCH_SOCKETS_RESPONSE = "FETCH_SOCKETS_RESPONSE"
SERVER_SIDE_EMIT = "SERVER_SIDE_EMIT"
SERVER_SIDE_EMIT_RESPONSE = "SERVER_SIDE_EMIT_RESPONSE"
BROADCAST = "BROADCAST"  #: a broadcast with acknowledgements
BROADCAST_CLIENT_COUNT = "BROADCAST_CLIENT_COUNT"
BROADCAST_ACK = "BROADCAST_ACK"
#: every operation, requests then answers
OPERATIONS = (
    SOCKETS_JOIN,
    SOCKETS_LEAVE,
    DISCONNECT_SOCKETS,
    FETCH_SOCKETS,
    SERVER_SIDE_EMIT,
    BROADCAST,
    FETCH_SOCKETS_RESPONSE,
    SERVER_SIDE_EMIT_RESPONSE,
    BROADCAST_CLIENT_COUNT,
    BROADCAST_ACK,
)


class BrokerAdapter(InMemoryAdapter):
    """An adapter that reaches the other nodes through the simulated broker."""

    joins_nodes = True
    #: the prefix of every channel name
    KEY: ClassVar[str] = "socket.io"

    def __init__(self, nsp: AdapterNamespace, broker: Broker, uid: str) -> None:
        super().__init__(nsp)
        self.broker = broker
        self.uid = uid
        self._requests_made = 0
        #: requests waiting for other nodes' answers, by request id
        self.requests: dict[str, PendingRequest] = {}
        #: broadcasts with acknowledgements this node started, by request id
        self.ack_requests: dict[str, tuple[Callable[[int], None], Callable[[Any], None]]] = {}

    def publish(
        self,
        channel: str,
        payload: Any,
        msg: str | None,
        on_reply: Callable[[], None] | None = None,
        kind: str | None = None,
        on_failed: Callable[[], None] | None = None,
    ) -> None:
        """Publish ``payload`` on ``channel``, with a ``publish`` record.

        ``kind`` names a request or response (``"REMOTE_JOIN"``, ...); a
        broadcast has none.
        """
        ctx = self.ctx
        size = wire_size(payload)
        extra = {"type": kind} if kind is not None else {}
        ctx.trace.record(
            ctx.env.now, PUBLISH, msg=msg, node=ctx.name, channel=channel, bytes=size, **extra
        )
        message = BrokerMessage(payload, msg, ctx.name, size)
        loop = ctx.loop
        if loop is not None and loop.busy_until > ctx.env.now:  # sent when the loop gets to it
            wait = loop.busy_until - ctx.env.now
            call_later(ctx.env, wait, self.broker.publish, channel, message, on_reply, on_failed)
            return
        self.broker.publish(channel, message, on_reply, on_failed)

    def received(self, message: BrokerMessage) -> None:
        """The node's loop decodes a broker message (used or thrown away)."""
        loop = self.ctx.loop
        if loop is not None:
            loop.charge(loop.profile.message_cost(message.size), "message")

    def new_request_id(self) -> str:
        """A request id, unique in this run and the same for the same seed."""
        self._requests_made += 1
        return f"{self.uid}-{self._requests_made}"

    def ask(
        self,
        expected: int,
        timeout_ms: float,
        on_done: Callable[[list[Any]], None],
        on_timeout: Callable[[BaseException, list[Any]], None],
        answers: list[Any] | None = None,
        timeout_message: str | None = None,
    ) -> str:
        """Wait for ``expected`` answers to a new request; return its id.

        On time-out, ``on_timeout`` gets ``TimeoutError(timeout_message)``
        (default: ClusterAdapter's "timeout reached: only X responses
        received out of Y") and the answers so far.
        """
        request_id = self.new_request_id()

        def done(found: list[Any]) -> None:
            self.requests.pop(request_id, None)
            on_done(found)

        def late(found: list[Any], received: int) -> None:
            self.requests.pop(request_id, None)
            text = timeout_message or (
                f"timeout reached: only {received} responses received out of {expected}"
            )
            on_timeout(TimeoutError(text), found)

        self.requests[request_id] = PendingRequest(
            self.ctx.env, expected, timeout_ms, done, late, answers
        )
        return request_id

    def with_server_count(self, then: Callable[[int], None]) -> None:
        """``then(server_count)``: at once while the broker is reachable; else
        when the ``NUMSUB`` command, queued or held like any other, is answered
        (so a request made while Redis is down counts the nodes back by then)."""
        broker, node = self.broker, self.ctx.name
        if broker.reachable(node):
            then(self.server_count())
            return
        counted: list[int] = []
        broker.command(node, lambda: counted.append(self.server_count()), lambda: then(counted[0]))

    def fetch_from_others(
        self,
        opts: BroadcastOptions,
        timeout_ms: float,
        send: Callable[[str], None],
        timeout_message: str | None = None,
    ) -> simpy.Event:
        """``fetch_sockets``: this node's matching sockets plus every other node's
        answer; ``send(request_id)`` publishes the request."""
        event = self.ctx.env.event()
        local = self._matching(opts)  # Socket.IO looks at its own sockets first
        if opts.local:
            settle(event, local)
            return event

        def go(servers: int) -> None:
            if servers - 1 <= 0:
                settle(event, local)
                return
            request_id = self.ask(
                servers - 1,
                timeout_ms,
                lambda found: settle(event, found),
                lambda error, _found: settle(event, error=error),
                answers=list(local),
                timeout_message=timeout_message,
            )
            send(request_id)

        self.with_server_count(go)
        return event

    def ask_others(
        self, ack: Callable[..., Any], timeout_ms: float, send: Callable[[str], None]
    ) -> None:
        """``server_side_emit`` with an acknowledgement: one answer per other node,
        ``ack(err, answers)``; ``send(request_id)`` publishes the request."""
        env = self.ctx.env

        def go(servers: int) -> None:
            if servers - 1 <= 0:
                run_handler(env, ack, None, [])
                return
            request_id = self.ask(
                servers - 1,
                timeout_ms,
                lambda answers: run_handler(env, ack, None, answers),
                lambda error, answers: run_handler(env, ack, error, answers),
            )
            send(request_id)

        self.with_server_count(go)

    def track_acks(
        self,
        opts: BroadcastOptions,
        client_count: Callable[[int], None],
        ack: Callable[[Any], None],
    ) -> str:
        """Remember a broadcast with acknowledgements until its time-out; return its id."""
        request_id = self.new_request_id()
        self.ack_requests[request_id] = (client_count, ack)
        call_later(self.ctx.env, opts.timeout or 0, self.ack_requests.pop, request_id, None)
        return request_id

    def on_ack_response(self, request_id: str, count: int | None, answer: Any = None) -> None:
        """Another node reported its recipients (``count``) or one client's answer."""
        callbacks = self.ack_requests.get(request_id)
        if callbacks is not None:
            if count is not None:
                callbacks[0](count)
            else:
                callbacks[1](answer)

    def remote_sockets(self, descriptions: list[dict[str, Any]]) -> list[RemoteSocket]:
        """Other nodes' answers to ``fetch_sockets``, as :class:`RemoteSocket`."""
        return [
            RemoteSocket(d["id"], set(d["rooms"]), d["data"], d["node"], self.nsp)
            for d in descriptions
        ]

    # -- the template: cluster-wide operations, encoded and published by the subclass --
    #: operation -> this adapter's type number on the wire
    TYPES: ClassVar[dict[str, int]] = {}
    #: the wire name of ``server_side_emit``'s ``[event, *args]`` and of its answer
    EMIT_FIELD: ClassVar[str] = "packet"
    #: True: the sender applies its own join/leave/disconnect when the publish
    #: returns (ClusterAdapter); False: when its own request comes back (classic)
    APPLY_OWN_ON_REPLY: ClassVar[bool] = False
    #: how long ``fetch_sockets`` and ``server_side_emit`` wait for answers
    requests_timeout_ms: float = 5000.0
    #: the error of a ``fetch_sockets`` that timed out (None: ClusterAdapter's)
    FETCH_TIMEOUT_MESSAGE: ClassVar[str | None] = None

    def send(self, op: str, fields: Fields, msg: str | None = None, on_reply: Reply = None) -> None:
        """Publish request ``op`` with ``fields`` to the other nodes (the subclass
        chooses the channel and the envelope)."""
        raise NotImplementedError

    def respond(self, requester: str, op: str, fields: dict[str, Any]) -> None:
        """Publish the answer ``op`` to a request of the node whose adapter is ``requester``."""
        raise NotImplementedError

    def wire_options(self, opts: BroadcastOptions) -> dict[str, Any]:
        """Broadcast options as a request carries them."""
        return opts.wire()

    def wire_packet(self, packet: Packet) -> dict[str, Any]:
        """A packet as a broadcast with acknowledgements carries it."""
        return packet.wire(with_nsp=False)

    def fetch_timeout_ms(self, opts: BroadcastOptions) -> float:
        """How long ``fetch_sockets`` waits for the other nodes."""
        return self.requests_timeout_ms

    def _utility(
        self, op: str, opts: BroadcastOptions, fields: Fields, here: Callable[..., None], arg: Any
    ) -> None:
        """A cluster-wide utility: ``here(self, opts, arg)`` on this node only when
        ``local``, else request ``op`` of every node (this one applies it when its
        publish returns, or when its own request comes back)."""
        if opts.local:
            here(self, opts, arg)
            return
        on_reply = (lambda: here(self, opts, arg)) if self.APPLY_OWN_ON_REPLY else None
        self.send(op, {"opts": self.wire_options(opts), **fields}, on_reply=on_reply)

    def add_sockets(self, opts: BroadcastOptions, rooms: list[str]) -> None:
        self._utility(SOCKETS_JOIN, opts, {"rooms": rooms}, InMemoryAdapter.add_sockets, rooms)

    def del_sockets(self, opts: BroadcastOptions, rooms: list[str]) -> None:
        self._utility(SOCKETS_LEAVE, opts, {"rooms": rooms}, InMemoryAdapter.del_sockets, rooms)

    def disconnect_sockets(self, opts: BroadcastOptions, close: bool) -> None:
        here = InMemoryAdapter.disconnect_sockets
        self._utility(DISCONNECT_SOCKETS, opts, {"close": close}, here, close)

    def fetch_sockets(self, opts: BroadcastOptions) -> simpy.Event:
        return self.fetch_from_others(
            opts,
            self.fetch_timeout_ms(opts),
            lambda rid: self.send(
                FETCH_SOCKETS, {"requestId": rid, "opts": self.wire_options(opts)}
            ),
            self.FETCH_TIMEOUT_MESSAGE,
        )

    def server_side_emit(
        self, event: str, args: tuple[Any, ...], ack: Callable[..., Any] | None
    ) -> None:
        field = self.EMIT_FIELD
        if ack is None:
            self.send(SERVER_SIDE_EMIT, {field: [event, *args]})
        else:
            self.ask_others(
                ack,
                self.requests_timeout_ms,
                lambda rid: self.send(SERVER_SIDE_EMIT, {"requestId": rid, field: [event, *args]}),
            )

    def broadcast_with_ack(
        self, packet: Packet, opts: BroadcastOptions, client_count: Count, ack: Answer
    ) -> None:
        if not opts.local:
            request_id = self.track_acks(opts, client_count, ack)
            fields = {
                "packet": self.wire_packet(packet),
                "requestId": request_id,
                "opts": self.wire_options(opts),
            }
            self.send(BROADCAST, fields, packet.msg)
        super().broadcast_with_ack(packet, opts, client_count, ack)

    def handle(self, op: str, sender: str | None, f: dict[str, Any], msg: str | None) -> None:
        """Act on request or answer ``op`` from the adapter ``sender``, with fields ``f``
        (the subclass decoded the envelope and threw away what is not for this node)."""
        if op == SOCKETS_JOIN:
            InMemoryAdapter.add_sockets(self, decode_options(f["opts"]), f["rooms"])
        elif op == SOCKETS_LEAVE:
            InMemoryAdapter.del_sockets(self, decode_options(f["opts"]), f["rooms"])
        elif op == DISCONNECT_SOCKETS:
            InMemoryAdapter.disconnect_sockets(self, decode_options(f["opts"]), f["close"])
        elif op == FETCH_SOCKETS:
            if f["requestId"] in self.requests:
                return  # our own request
            opts = decode_options(f["opts"])
            found = describe(
                self.nsp, self.sids, self.registry.select(opts.rooms, opts.except_rooms)
            )
            self.respond(
                sender or "",
                FETCH_SOCKETS_RESPONSE,
                {"requestId": f["requestId"], "sockets": found},
            )
        elif op == SERVER_SIDE_EMIT:
            if sender == self.uid:
                return
            event, *args = f[self.EMIT_FIELD]
            if "requestId" in f:
                args.append(self._answer_once(sender or "", f["requestId"]))
            self.nsp.on_server_side_emit(event, tuple(args))
        elif op == BROADCAST:
            self._broadcast_with_ack_here(sender or "", f, msg)
        elif op == FETCH_SOCKETS_RESPONSE:
            request = self.requests.get(f["requestId"])
            if request is not None:
                request.answer(*self.remote_sockets(f["sockets"]))
        elif op == SERVER_SIDE_EMIT_RESPONSE:
            request = self.requests.get(f["requestId"])
            if request is not None:
                request.answer(f[self.EMIT_FIELD])
        elif op == BROADCAST_CLIENT_COUNT:
            self.on_ack_response(f["requestId"], f["clientCount"])
        elif op == BROADCAST_ACK:
            self.on_ack_response(f["requestId"], None, f["packet"])

    def _broadcast_with_ack_here(self, requester: str, f: dict[str, Any], msg: str | None) -> None:
        request_id = f["requestId"]
        if request_id in self.ack_requests:
            return  # our own request
        InMemoryAdapter.broadcast_with_ack(
            self,
            decode_packet(f["packet"], msg, self.nsp.name),
            decode_options(f["opts"]),
            lambda n: self.respond(
                requester, BROADCAST_CLIENT_COUNT, {"requestId": request_id, "clientCount": n}
            ),
            lambda answer: self.respond(
                requester, BROADCAST_ACK, {"requestId": request_id, "packet": answer}
            ),
        )

    def _answer_once(self, requester: str, request_id: str) -> Callable[..., None]:
        answered = False

        def answer(*args: Any) -> None:
            nonlocal answered
            if not answered:
                answered = True
                self.respond(
                    requester,
                    SERVER_SIDE_EMIT_RESPONSE,
                    {"requestId": request_id, self.EMIT_FIELD: args[0] if args else None},
                )

        return answer

    # -- what a broadcast that never arrived leaves in the trace ---------------------------
    def broadcast_in(
        self, channel: str, message: BrokerMessage, any_room: bool = False
    ) -> BroadcastOptions | None:
        """The options of ``message`` if it is a broadcast this node would act on
        (``any_room``: even for a room it does not have, as a dead node has none)."""
        raise NotImplementedError

    def missed(self, channel: str, message: BrokerMessage, reason: str) -> None:
        """A broadcast meant for this node never reached it (``reason``).

        The node gets a ``drop`` record, and so does each of its sockets the
        broadcast would have reached (chosen as if it had arrived now).
        """
        opts = self.broadcast_in(channel, message, any_room=not self.ctx.up)
        if opts is not None:
            self.record_missed(opts, channel, message, reason)

    def record_missed(
        self, opts: BroadcastOptions, channel: str, message: BrokerMessage, reason: str
    ) -> None:
        """The ``drop`` records of a broadcast with options ``opts`` that never reached
        this node: one for the node, one for each socket it would have reached."""
        ctx = self.ctx
        now, node, msg, trace = ctx.env.now, ctx.name, message.msg, ctx.trace
        trace.drop(now, msg, reason, node=node, channel=channel)
        if not ctx.up:
            return
        names = ctx.links.names
        for sid in self.registry.select(opts.rooms, opts.except_rooms):
            trace.drop(now, msg, reason, client=names[sid], node=node)

    def relay(
        self, message: BrokerMessage, channel: str, targets: int, ignored: str | None
    ) -> None:
        """Record what this node made of a copy the broker handed it."""
        ctx = self.ctx
        ctx.trace.relay(ctx.env.now, message.msg, ctx.name, channel, targets, ignored)


def decode_options(wire: dict[str, Any]) -> BroadcastOptions:
    """Broadcast options from their published form (``{rooms, except, flags}``)."""
    flags = wire.get("flags") or {}
    return BroadcastOptions(
        tuple(wire.get("rooms", ())),
        tuple(wire.get("except", ())),
        volatile=bool(flags.get("volatile")),
        timeout=flags.get("timeout"),
    )


def decode_packet(wire: dict[str, Any], msg: str | None, nsp: str) -> Packet:
    """A packet from its published form (``{type: 2, data: [event, ...args], nsp}``)."""
    event, *args = wire["data"]
    return Packet(msg or "", event, tuple(args), nsp)
