"""A namespace on one node: its sockets, its handlers and its adapter."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from roomsim._sched import run_handler
from roomsim.broadcast import BroadcastOperator, Rooms
from roomsim.packet import BroadcastOptions, Packet
from roomsim.socket import Socket
from roomsim.vocabulary import CONNECT, PICK

if TYPE_CHECKING:
    from roomsim.client import Client
    from roomsim.server import Server

__all__ = ["Namespace"]


class Namespace:
    """Socket.IO's ``Namespace`` on one node (``io.of(name)``).

    Rooms belong to a namespace: the same room name in two namespaces is two
    rooms.  ``io.emit`` reaches every socket of ``/`` and no other namespace.
    """

    def __init__(self, server: Server, name: str) -> None:
        self.server = server
        self.name = name
        #: the node's context: clock, trace, links, ids, up or down
        self.ctx = ctx = server.ctx
        self.env = ctx.env
        self.trace = ctx.trace
        self.node = ctx.name
        #: connected sockets, by id, in connection order
        self.sockets: dict[str, Socket] = {}
        self._handlers: dict[str, list[Callable[..., Any]]] = {}
        self.adapter = ctx.make_adapter(self)

    def __repr__(self) -> str:
        return f"<Namespace {self.name!r} on {self.node}: {len(self.sockets)} sockets>"

    def on(self, event: str, handler: Callable[..., Any] | None = None) -> Any:
        """Register a handler (``"connection"`` gets the new socket); a decorator too."""

        def register(fn: Callable[..., Any]) -> Callable[..., Any]:
            self._handlers.setdefault(event, []).append(fn)
            return fn

        return register(handler) if handler is not None else register

    # -- the broadcast operator's starting points --------------------------------
    def to(self, rooms: Rooms) -> BroadcastOperator:
        """Target a room or rooms, on every node the adapter reaches."""
        return BroadcastOperator(self).to(rooms)

    in_ = to

    def except_(self, rooms: Rooms) -> BroadcastOperator:
        """Everyone but the members of ``rooms``."""
        return BroadcastOperator(self).except_(rooms)

    @property
    def local(self) -> BroadcastOperator:
        """Only this node's sockets."""
        return BroadcastOperator(self, BroadcastOptions(local=True))

    @property
    def volatile(self) -> BroadcastOperator:
        """A volatile broadcast."""
        return BroadcastOperator(self, BroadcastOptions(volatile=True))

    def timeout(self, ms: float) -> BroadcastOperator:
        """A broadcast that waits ``ms`` for acknowledgements."""
        return BroadcastOperator(self, BroadcastOptions(timeout=ms))

    def emit(self, event: str, *args: Any, msg_id: str | None = None) -> str:
        """Send to every socket of the namespace; return the message id."""
        return BroadcastOperator(self).emit(event, *args, msg_id=msg_id)

    def send(self, *args: Any, msg_id: str | None = None) -> str:
        """Emit a ``message`` event to every socket of the namespace."""
        return self.emit("message", *args, msg_id=msg_id)

    # -- cluster-wide utility methods ------------------------------------------------
    def sockets_join(self, rooms: Rooms) -> None:
        """Every socket of the namespace, on every node, joins ``rooms``."""
        BroadcastOperator(self).sockets_join(rooms)

    def sockets_leave(self, rooms: Rooms) -> None:
        """Every socket of the namespace, on every node, leaves ``rooms``."""
        BroadcastOperator(self).sockets_leave(rooms)

    def disconnect_sockets(self, close: bool = False) -> None:
        """Disconnect every socket of the namespace, on every node."""
        BroadcastOperator(self).disconnect_sockets(close)

    def fetch_sockets(self) -> Any:
        """An event whose value is every socket of the namespace (see the operator's)."""
        return BroadcastOperator(self).fetch_sockets()

    def server_side_emit(
        self, event: str, *args: Any, ack: Callable[..., Any] | None = None
    ) -> None:
        """Send ``event`` to the same namespace on every *other* node.

        It runs their namespace-level handlers (``nsp.on(event)``).  With
        ``ack``, each handler gets an acknowledgement function last and
        ``ack(err, responses)`` runs with one answer per other node (or a
        ``TimeoutError`` and the answers so far).

        Raises
        ------
        ValueError
            For ``connect``, ``connection`` and ``new_namespace``.
        """
        if event in ("connect", "connection", "new_namespace"):
            raise ValueError(f'"{event}" is a reserved event name')
        self.adapter.server_side_emit(event, args, ack)

    def _recover(self, client: Client) -> tuple[Any, list[Packet]] | None:
        """The session ``client`` can take back, and what it missed, if any."""
        sessions = self.adapter.sessions
        if sessions is None or not client.pid or client.last_offset is None:
            return None
        return sessions.restore(client.pid, client.last_offset, self.env.now)

    def on_server_side_emit(self, event: str, args: tuple[Any, ...]) -> None:
        """Another node's ``server_side_emit`` reached this namespace."""
        for handler in self._handlers.get(event, ()):
            run_handler(self.env, handler, *args)

    # -- plumbing -----------------------------------------------------------------
    def write(
        self, packet: Packet, sids: list[str], volatile: bool = False, recovered: bool = False
    ) -> None:
        """Write ``packet`` to these sockets of this node; they get it one latency later.

        A ``pick`` record says when this node chose them, and how many.
        """
        extra = {"recovered": True} if recovered else {}
        self.trace.record(
            self.env.now, PICK, msg=packet.msg, node=self.node, targets=len(sids), **extra
        )
        self.ctx.links.send(packet, self.node, sids, volatile, self.ctx.loop)

    def add(self, client: Client, sid: str, rooms: tuple[str, ...] = ()) -> Socket:
        """Connect ``client`` as a new socket: it joins its own room, then
        ``connection`` handlers run (``rooms`` are joined first, as if by one)."""
        if (loop := self.ctx.loop) is not None:  # the connection and its handshake
            loop.charge(loop.profile.connect_ms, "connect")
        restored = self._recover(client)
        if restored is not None:
            session, missed = restored
            sid = session.sid
        socket = Socket(self, client, sid)
        self.sockets[sid] = socket
        self.adapter.add_all(sid, (sid,))
        client._opened(socket, recovered=restored is not None)
        extra = {"recovered": True} if restored is not None else {}
        self.trace.record(
            self.env.now,
            CONNECT,
            client=client.name,
            node=self.node,
            sid=sid,
            namespace=self.name,
            **extra,
        )
        if restored is not None:
            socket.data = session.data
            socket.recovered = True
            socket.join([room for room in session.rooms if room != sid])
            for packet in missed:  # written before anything else reaches the client
                self.write(packet, [sid], recovered=True)
        if rooms:
            socket.join(rooms)
        for handler in self._handlers.get("connection", ()):
            run_handler(self.env, handler, socket)
        return socket
