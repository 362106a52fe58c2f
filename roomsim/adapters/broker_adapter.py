"""What every broker-backed adapter shares: publishing and recording relays."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import simpy

from roomsim._sched import call_later, run_handler
from roomsim.adapters.memory import InMemoryAdapter
from roomsim.adapters.requests import PendingRequest, RemoteSocket, settle
from roomsim.broker import Broker, BrokerMessage
from roomsim.packet import BroadcastOptions, Packet, wire_size

if TYPE_CHECKING:
    from roomsim.namespace import Namespace

__all__ = ["BrokerAdapter", "decode_options", "decode_packet"]


class BrokerAdapter(InMemoryAdapter):
    """An adapter that reaches the other nodes through the simulated broker."""

    joins_nodes = True

    def __init__(self, nsp: Namespace, broker: Broker, uid: str) -> None:
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
        nsp = self.nsp
        size = wire_size(payload)
        extra = {"type": kind} if kind is not None else {}
        nsp.trace.record(
            nsp.env.now, "publish", msg=msg, node=nsp.node, channel=channel, bytes=size, **extra
        )
        message = BrokerMessage(payload, msg, nsp.node, size)
        loop = nsp.server.loop
        if loop is not None and loop.busy_until > nsp.env.now:  # sent when the loop gets to it
            wait = loop.busy_until - nsp.env.now
            call_later(nsp.env, wait, self.broker.publish, channel, message, on_reply, on_failed)
            return
        self.broker.publish(channel, message, on_reply, on_failed)

    def received(self, message: BrokerMessage) -> None:
        """The node's loop decodes a broker message (used or thrown away)."""
        loop = self.nsp.server.loop
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
            self.nsp.env, expected, timeout_ms, done, late, answers
        )
        return request_id

    def with_server_count(self, then: Callable[[int], None]) -> None:
        """``then(server_count)``: at once while the broker is reachable; else
        when the ``NUMSUB`` command, queued or held like any other, is answered
        (so a request made while Redis is down counts the nodes back by then)."""
        broker, node = self.broker, self.nsp.node
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
        event = self.nsp.env.event()
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
        env = self.nsp.env

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
        call_later(self.nsp.env, opts.timeout or 0, self.ack_requests.pop, request_id, None)
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
        opts = self.broadcast_in(channel, message, any_room=not self.nsp.server.alive)
        if opts is not None:
            self.record_missed(opts, channel, message, reason)

    def record_missed(
        self, opts: BroadcastOptions, channel: str, message: BrokerMessage, reason: str
    ) -> None:
        """The ``drop`` records of a broadcast with options ``opts`` that never reached
        this node: one for the node, one for each socket it would have reached."""
        nsp = self.nsp
        now, node, msg = nsp.env.now, nsp.node, message.msg
        nsp.trace.record(now, "drop", msg=msg, node=node, reason=reason, channel=channel)
        if not nsp.server.alive:
            return
        names = nsp.cluster.links.names
        for sid in self.registry.select(opts.rooms, opts.except_rooms):
            nsp.trace.record(now, "drop", msg=msg, client=names[sid], node=node, reason=reason)

    def relay(
        self, message: BrokerMessage, channel: str, targets: int, ignored: str | None
    ) -> None:
        """Record what this node made of a copy the broker handed it."""
        nsp = self.nsp
        extra = {"ignored": ignored} if ignored is not None else {}
        nsp.trace.record(
            nsp.env.now,
            "relay",
            msg=message.msg,
            node=nsp.node,
            channel=channel,
            targets=targets,
            **extra,
        )


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
