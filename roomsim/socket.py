"""The server-side socket: one client's connection to one namespace on one node."""

from __future__ import annotations

from collections.abc import Callable, KeysView, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from roomsim._sched import call_later, run_handler
from roomsim.broadcast import BroadcastOperator, Rooms, _rooms, check_event
from roomsim.packet import BroadcastOptions, Packet, wire_size
from roomsim.recovery import RECOVERABLE_REASONS, Session
from roomsim.vocabulary import CLIENT_SIDE_REASONS as CLIENT_SIDE_REASONS
from roomsim.vocabulary import DISCONNECT, DISCONNECTED, DISCONNECTING, EMIT, JOIN, LEAVE, RECEIVE

if TYPE_CHECKING:
    from roomsim.client import Client
    from roomsim.namespace import Namespace

__all__ = ["CLIENT_SIDE_REASONS", "Socket", "SocketFlags"]

#: Server-side disconnect reasons whose cause is on the client's side (or the
#: transport's): the client is gone at once.  For the others the server tells
#: the client, which learns of it one link latency later (after what the
#: server wrote before: a connection keeps its order).


#: What the socket's handlers see for a reason asked of the server: over
#: WebSocket, ``Client.close()`` closes the transport first, so the socket
#: gets ``forced close`` before ``forced server close`` is ever looked at.
SEEN_AS = {"forced server close": "forced close"}

_EMPTY: dict[str, None] = {}


#: the handlers of a socket or client that has none yet (a dict of its own on the first)
NO_HANDLERS: Mapping[str, list[Callable[..., Any]]] = MappingProxyType({})


class Socket:
    """A connected client as its node sees it (Socket.IO's server ``Socket``).

    Attributes
    ----------
    id : str
        Random-looking and unique; also the name of the socket's own room.
    client : Client
        The simulated client at the other end.
    data : dict
        Free storage for the application.
    connected : bool
        True until the socket has disconnected.
    """

    def __init__(self, nsp: Namespace, client: Client, sid: str) -> None:
        self.nsp = nsp
        self.client = client
        self.id = sid
        self._data: dict[str, Any] | None = None  # made on first use: most sockets keep none
        self.connected = True
        #: True when connection state recovery gave this socket back its session
        self.recovered = False
        self._handlers = NO_HANDLERS

    def __repr__(self) -> str:
        state = "connected" if self.connected else "disconnected"
        return f"<Socket {self.id} of {self.client.name!r} on {self.node}{self.nsp.name} {state}>"

    @property
    def node(self) -> str:
        """The name of the node this socket is connected to."""
        return self.nsp.node

    @property
    def rooms(self) -> KeysView[str]:
        """The rooms this socket is in (its own id first), a live, ordered view."""
        return self.nsp.adapter.sids.get(self.id, _EMPTY).keys()

    # -- rooms ---------------------------------------------------------------
    def join(self, rooms: Rooms) -> None:
        """Join a room or a list of rooms.  After disconnection it does nothing."""
        names = _rooms(rooms)
        if not self.connected:
            return
        self.nsp.adapter.add_all(self.id, names)
        if (loop := self.nsp.ctx.loop) is not None:
            loop.charge(loop.profile.join_ms * len(names), "join")
        self._record(JOIN, names)

    def leave(self, room: str) -> None:
        """Leave one room; leaving a room one is not in changes nothing."""
        if not isinstance(room, str):
            raise TypeError(f"leave() takes one room (a string), got {room!r}")
        if not self.connected:
            return
        self.nsp.adapter.delete(self.id, room)
        if (loop := self.nsp.ctx.loop) is not None:
            loop.charge(loop.profile.join_ms, "join")
        self._record(LEAVE, (room,))

    def _record(self, kind: str, rooms: tuple[str, ...]) -> None:
        nsp = self.nsp
        now, name, node = nsp.env.now, self.client.name, nsp.node
        for room in rooms:
            nsp.trace.record(now, kind, client=name, node=node, room=room)

    # -- broadcasting from this socket -----------------------------------------
    def _operator(self, **flags: Any) -> BroadcastOperator:
        return BroadcastOperator(self.nsp, BroadcastOptions(except_rooms=(self.id,), **flags), self)

    def to(self, rooms: Rooms) -> BroadcastOperator:
        """Target rooms; this socket never gets the message, even if it is a member."""
        return self._operator().to(rooms)

    in_ = to

    def except_(self, rooms: Rooms) -> BroadcastOperator:
        """Everyone but the members of ``rooms`` and this socket."""
        return self._operator().except_(rooms)

    @property
    def broadcast(self) -> BroadcastOperator:
        """Every socket of the namespace but this one."""
        return self._operator()

    @property
    def local(self) -> BroadcastOperator:
        """Like :attr:`broadcast`, on this node only."""
        return self._operator(local=True)

    @property
    def volatile(self) -> SocketFlags:
        """The next emit may be dropped if the client cannot take it now."""
        return SocketFlags(self, volatile=True)

    def timeout(self, ms: float) -> SocketFlags:
        """The next emit's acknowledgement waits at most ``ms`` (then an error)."""
        return SocketFlags(self, timeout=ms)

    # -- talking to this socket's client ----------------------------------------
    def emit(
        self,
        event: str,
        *args: Any,
        ack: Callable[..., Any] | None = None,
        msg_id: str | None = None,
    ) -> str:
        """Send ``event`` to this socket's client only; return the message id.

        With ``ack``, the client's handler gets an acknowledgement function
        as its last argument, and ``ack(*answer)`` runs when its answer comes
        back.
        """
        return self._emit(event, args, ack, msg_id)

    def _emit(
        self,
        event: str,
        args: tuple[Any, ...],
        ack: Callable[..., Any] | None,
        msg_id: str | None,
        timeout: float | None = None,
        volatile: bool = False,
    ) -> str:
        check_event(event)
        nsp = self.nsp
        env = nsp.env
        msg = nsp.ctx.new_msg_id(msg_id)
        record: dict[str, Any] = {"from": nsp.node, "to": [self.id], "except": []}
        if volatile:
            record["volatile"] = True
        nsp.trace.record(env.now, EMIT, msg=msg, node=nsp.node, event=event, **record)
        answer = None
        if ack is not None:
            answer = _single_answer(env, ack, timeout)
        packet = Packet(msg, event, args, nsp.name, answer)
        if self.connected and nsp.adapter.sessions is not None and answer is None:
            nsp.adapter.broadcast(packet, BroadcastOptions((self.id,), volatile=volatile))
        elif self.connected:
            nsp.write(packet, [self.id], volatile)
        else:
            nsp.trace.drop(env.now, msg, DISCONNECTED, client=self.client.name, node=nsp.node)
        return msg

    def send(self, *args: Any, msg_id: str | None = None) -> str:
        """Emit a ``message`` event."""
        return self.emit("message", *args, msg_id=msg_id)

    def on(self, event: str, handler: Callable[..., Any] | None = None) -> Any:
        """Register a handler for an event the client sends; usable as a decorator.

        ``disconnecting`` and ``disconnect`` handlers get the reason.  A
        handler that is a generator runs as a SimPy process.
        """

        def register(fn: Callable[..., Any]) -> Callable[..., Any]:
            handlers = self._handlers
            if not isinstance(handlers, dict):
                handlers = self._handlers = {}
            handlers.setdefault(event, []).append(fn)
            return fn

        return register(handler) if handler is not None else register

    @property
    def data(self) -> dict[str, Any]:
        """What the application keeps on this socket (``socket.data``)."""
        data = self._data
        if data is None:
            data = self._data = {}
        return data

    @data.setter
    def data(self, value: dict[str, Any]) -> None:
        self._data = value

    def _fire(self, event: str, *args: Any) -> None:
        for handler in self._handlers.get(event, ()):
            run_handler(self.nsp.env, handler, *args)

    # -- disconnection -----------------------------------------------------------
    def disconnect(self, close: bool = False) -> None:
        """Disconnect this socket from the server side (``server namespace disconnect``).

        With ``close=True`` the whole connection closes too; for a client
        with one namespace, as here, it ends the same way.
        """
        self.close("server namespace disconnect")

    def close(self, reason: str) -> None:
        """End this socket with ``reason``, handlers and all (see :meth:`end`)."""
        self.end(reason)

    def lose(self, reason: str) -> None:
        """The node died under this socket: it ends with no handler (see :meth:`end`)."""
        self.end(reason, node_lost=True)

    def end(self, reason: str, *, node_lost: bool = False) -> None:
        """The one way a socket ends.  Idempotent.

        The sequence, always in this order:

        1. ``disconnecting``: the record and the handlers, rooms still intact
           (and the session kept when connection state recovery is on);
        2. leave all: the socket leaves every room and its namespace;
        3. ``disconnect``: the record (rooms empty) and the handlers;
        4. the client hears of it (:meth:`~roomsim.client.Client.server_ended`):
           at once for a reason on the client's side, else one trip later,
           after what the node wrote before; from then on, packets still
           in flight to this socket are dropped (``disconnected``, or
           ``node down`` when the node was lost).

        With ``node_lost`` (the node crashed) no handler runs: step 1 is
        skipped, and the ``disconnect`` record says ``crash``; what the node
        wrote before still reaches the client, which hears of the close
        one trip later.  ``forced server close`` reaches the handlers as
        ``forced close`` (the WebSocket transport closes first, as in
        Socket.IO 4.8).
        """
        if not self.connected:
            return
        nsp = self.nsp
        trace, now = nsp.trace, nsp.env.now
        if not node_lost:
            reason = SEEN_AS.get(reason, reason)
        fields = {"client": self.client.name, "node": nsp.node, "sid": self.id, "reason": reason}
        # 1. disconnecting
        if not node_lost:
            trace.record(now, DISCONNECTING, **fields, rooms=list(self.rooms))
            self._fire("disconnecting", reason)
            sessions = nsp.adapter.sessions
            if sessions is not None and reason in RECOVERABLE_REASONS and self.client.pid:
                sessions.keep(
                    Session(self.id, self.client.pid, list(self.rooms), self.data, 0.0), now
                )
        # 2. leave all
        nsp.adapter.delete_all(self.id)
        nsp.sockets.pop(self.id, None)
        self.connected = False
        # 3. disconnect
        if node_lost:
            trace.record(now, DISCONNECT, **fields, rooms=[], crash=True)
        else:
            trace.record(now, DISCONNECT, **fields, rooms=[])
            self._fire("disconnect", reason)
        # 4. the client hears of it; in-flight packets are dropped from then on
        self.client.server_ended(self.id, reason, node_lost=node_lost)

    def handle_packet(self, packet: Packet) -> None:
        """A packet from the client reaches the node: where a node handles a
        client's packet (a ``receive`` record, then the socket's handlers), or
        drops it when this socket has gone meanwhile."""
        nsp = self.nsp
        name, now = self.client.name, nsp.env.now
        if not self.connected:
            nsp.trace.drop(now, packet.msg, DISCONNECTED, client=name, node=nsp.node)
            return
        nsp.trace.record(
            now, RECEIVE, msg=packet.msg, client=name, node=nsp.node, event=packet.event
        )
        self._receive(packet)

    def _receive(self, packet: Packet) -> None:
        """A packet from the client reached this socket (its handler runs when
        the node's loop has decoded it)."""
        loop = self.nsp.ctx.loop
        if loop is not None:
            done = loop.charge(loop.profile.packet_cost(wire_size(packet.wire())), "packet")
            if done > self.nsp.env.now:
                call_later(self.nsp.env, done - self.nsp.env.now, self._handle, packet)
                return
        self._handle(packet)

    def _handle(self, packet: Packet) -> None:
        if not self.connected:
            return
        args = packet.args
        if packet.ack is not None:
            answered = False

            def ack(*answer: Any) -> None:
                nonlocal answered
                if not answered and self.connected:
                    answered = True
                    packet.ack(self.id, answer)  # type: ignore[misc]

            args = (*args, ack)
        self._fire(packet.event, *args)


def _single_answer(
    env: Any, ack: Callable[..., Any], timeout: float | None
) -> Callable[[str, tuple[Any, ...]], None]:
    """The acknowledgement of a one-socket emit: ``ack(*answer)``, or with a
    timeout ``ack(None, *answer)`` / ``ack(TimeoutError(...))``, once."""
    if timeout is None:
        return lambda _sid, answer: run_handler(env, ack, *answer)
    settled = False

    def on_answer(_sid: str, answer: tuple[Any, ...]) -> None:
        nonlocal settled
        if not settled:
            settled = True
            run_handler(env, ack, None, *answer)

    def on_timeout() -> None:
        nonlocal settled
        if not settled:
            settled = True
            run_handler(env, ack, TimeoutError("operation has timed out"))

    call_later(env, timeout, on_timeout)
    return on_answer


class SocketFlags:
    """``socket.timeout(ms)`` or ``socket.volatile``: flags for what comes next.

    ``.emit(...)`` sends to this socket's client; ``.to(...)``,
    ``.broadcast`` and friends start a broadcast that carries the flags.
    """

    def __init__(self, socket: Socket, **flags: Any) -> None:
        self._socket = socket
        self._flags = flags

    def timeout(self, ms: float) -> SocketFlags:
        return SocketFlags(self._socket, **{**self._flags, "timeout": ms})

    @property
    def volatile(self) -> SocketFlags:
        return SocketFlags(self._socket, **{**self._flags, "volatile": True})

    def emit(
        self,
        event: str,
        *args: Any,
        ack: Callable[..., Any] | None = None,
        msg_id: str | None = None,
    ) -> str:
        return self._socket._emit(event, args, ack, msg_id, **self._flags)

    def to(self, rooms: Rooms) -> BroadcastOperator:
        return self._socket._operator(**self._flags).to(rooms)

    in_ = to

    def except_(self, rooms: Rooms) -> BroadcastOperator:
        return self._socket._operator(**self._flags).except_(rooms)

    @property
    def broadcast(self) -> BroadcastOperator:
        return self._socket._operator(**self._flags)
