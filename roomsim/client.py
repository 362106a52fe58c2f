"""The simulated client: socket.io-client's side of one socket."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, Protocol

from roomsim._sched import call_later, run_handler
from roomsim.broadcast import check_event
from roomsim.ids import socket_id
from roomsim.packet import Packet
from roomsim.reconnect import RETRIED_REASONS, Backoff
from roomsim.socket import CLIENT_SIDE_REASONS, NO_HANDLERS
from roomsim.vocabulary import CLIENT_EMIT, NOT_CONNECTED, RECONNECT_FAILED

if TYPE_CHECKING:
    import random

    import simpy

    from roomsim.network import ClientLinks
    from roomsim.socket import Socket
    from roomsim.trace import Trace

__all__ = ["Client", "ClientWorld"]


class ClientWorld(Protocol):
    """What a client needs from the world around it: the clock, the trace, the
    links, message ids, and the load balancer it dials (the cluster is one)."""

    env: simpy.Environment
    trace: Trace
    links: ClientLinks
    seed: int
    #: True once nothing scheduled from outside is left (a client then stops retrying)
    settled: bool

    def new_msg_id(self, explicit: str | None = None) -> str: ...

    def rng(self, stream: str) -> random.Random: ...

    def pick_node(self, client: Client | None = None) -> str | None: ...

    def connect(
        self, name: str, node: str | None = None, *, namespace: str = "/", rooms: Iterable[str] = ()
    ) -> Client: ...


#: What the client side calls each server-side reason.
CLIENT_REASONS = {
    "client namespace disconnect": "io client disconnect",
    "server namespace disconnect": "io server disconnect",
    "forced server close": "transport close",
    "server shutting down": "transport close",
    "forced close": "transport close",
}


#: no socket lost to a crash (shared by every client until one is)
_NONE: frozenset[str] = frozenset()


class Client:
    """A browser (or app) holding one Socket.IO socket, to one node at a time.

    Made by :meth:`roomsim.Cluster.connect`.  The client keeps its name across
    reconnections; each connection is a new socket with a new :attr:`id`.

    Attributes
    ----------
    name : str
        The client's name in traces and scenario files.
    namespace : str
        The namespace it connects to ("/" by default).
    node : str or None
        The node of the current (or last) connection.
    sid : str or None
        The current (or last) socket id; None before the first connection.
    connected : bool
        Whether the client holds an open socket (its own view).
    """

    def __init__(self, world: ClientWorld, name: str, namespace: str = "/") -> None:
        #: the load balancer and links this client dials through
        self.world = world
        self.name = name
        self.namespace = namespace
        self.node: str | None = None
        self.sid: str | None = None
        self.connected = False
        self.connections = 0
        self.socket: Socket | None = None
        #: socket ids this client lost because their node went down
        self._lost_to_crash: set[str] | frozenset[str] = _NONE  # a set of its own once one is
        #: socket.io-client's reconnection options
        self.reconnection = True
        #: connection state recovery: the private session id and the last offset seen
        self.pid: str | None = None
        self.last_offset: str | None = None
        self._backoff: Backoff | None = None  # made on first use, as its random stream
        self._reconnecting = False
        self._handlers = NO_HANDLERS

    def __repr__(self) -> str:
        state = f"connected to {self.node} as {self.sid}" if self.connected else "disconnected"
        return f"<Client {self.name!r} {state}>"

    @property
    def id(self) -> str | None:
        """The socket id of the current connection (as ``socket.id`` in socket.io-client)."""
        return self.sid if self.connected else None

    # -- handlers -------------------------------------------------------------
    def on(self, event: str, handler: Callable[..., Any] | None = None) -> Any:
        """Run ``handler(*args)`` when ``event`` arrives; usable as a decorator.

        ``connect`` and ``disconnect`` (with the client-side reason) are the
        client's own events.
        """

        def register(fn: Callable[..., Any]) -> Callable[..., Any]:
            handlers = self._handlers
            if not isinstance(handlers, dict):
                handlers = self._handlers = {}
            handlers.setdefault(event, []).append(fn)
            if self.sid is not None:
                self.world.links.watch(self.sid, self)
            return fn

        return register(handler) if handler is not None else register

    @property
    def has_handlers(self) -> bool:
        return bool(self._handlers)

    def handles(self, event: str) -> bool:
        """Whether some handler listens to ``event``."""
        return event in self._handlers

    def dispatch(self, event: str, args: tuple[Any, ...]) -> None:
        """Run the handlers of ``event`` with ``args``."""
        env = self.world.env
        for handler in self._handlers.get(event, ()):
            run_handler(env, handler, *args)

    # -- connection -------------------------------------------------------------
    def connect(self, node: str | None = None, rooms: list[str] | tuple[str, ...] = ()) -> Client:
        """Connect again (a new socket, a new id), to ``node`` or the next in turn."""
        return self.world.connect(self.name, node=node, namespace=self.namespace, rooms=rooms)

    @property
    def backoff(self) -> Backoff:
        """The delays between this client's reconnection attempts (socket.io-client's
        defaults until a scenario sets them: 1,000 to 5,000 ms, jitter 0.5)."""
        backoff = self._backoff
        if backoff is None:
            backoff = self._backoff = Backoff()
        return backoff

    def _opened(self, socket: Socket, recovered: bool = False) -> None:
        self.socket = socket
        self.node = socket.node
        self.sid = socket.id
        self.connected = True
        self.connections += 1
        self.world.links.opened(socket.id, self)
        if socket.nsp.adapter.sessions is not None:
            if not recovered:
                self.pid = socket_id(self.world.seed, "pid", self.name, self.connections)
                self.last_offset = None
            self.world.links.watch(socket.id, self)  # to see each packet's offset
        if "connect" in self._handlers:
            self.world.links.carry(self, "down", self._fire_connect, socket.id)

    def _fire_connect(self, sid: str) -> None:
        if self.sid == sid and self.connected:
            self.dispatch("connect", ())

    def disconnect(self) -> None:
        """Close the socket from the client side; the server hears of it one latency later."""
        if not self.connected:
            return
        socket = self.socket
        self._closed(self.sid, "io client disconnect")  # type: ignore[arg-type]
        self.world.links.carry(
            self,
            "up",
            socket.close,  # type: ignore[union-attr]
            "client namespace disconnect",
        )

    def server_ended(self, sid: str, reason: str, *, node_lost: bool = False) -> None:
        """The server side of socket ``sid`` has ended (the last step of
        :meth:`roomsim.socket.Socket.end`); the client hears of it.

        A reason on the client's side closes it at once; any other reason,
        and a lost node, one trip later, after what the node wrote before.
        """
        if node_lost:
            if self._lost_to_crash is _NONE:
                self._lost_to_crash = set()
            self._lost_to_crash.add(sid)  # type: ignore[union-attr]
            self.world.links.carry(self, "down", self._closed, sid, reason)
            return
        client_reason = CLIENT_REASONS.get(reason, reason)
        if reason in CLIENT_SIDE_REASONS:
            self._closed(sid, client_reason)
        else:
            self.world.links.carry(self, "down", self._closed, sid, client_reason)

    def hear_close_now(self) -> None:
        """The server side of the current socket has ended and the news is still
        on its way: the client hears it now (it is connecting again)."""
        if not self.connected or self.sid is None:
            return
        reason = "transport close" if self.lost_node(self.sid) else "io server disconnect"
        self._closed(self.sid, reason)

    def lost_node(self, sid: str) -> bool:
        """Whether socket ``sid`` ended because its node went down."""
        return sid in self._lost_to_crash

    def _closed(self, sid: str, reason: str) -> None:
        """The client side of socket ``sid`` is closed: nothing more reaches it.

        The only place the client side closes: from now on every packet still
        in flight to ``sid`` is looked at on arrival (``links.watch``) and
        dropped.
        """
        if self.sid != sid or not self.connected:
            return
        self.connected = False
        self.world.links.watch(sid, self)
        self.dispatch("disconnect", (reason,))
        if self.reconnection and reason in RETRIED_REASONS:
            self._schedule_reconnect()

    # -- reconnection ------------------------------------------------------------------
    def _schedule_reconnect(self) -> None:
        if self._reconnecting:
            return
        self._reconnecting = True
        if self.backoff.stream is None:
            self.backoff.stream = self.world.rng(f"reconnect:{self.name}")
        call_later(self.world.env, self.backoff.duration(), self._try_reconnect)

    def _try_reconnect(self) -> None:
        self._reconnecting = False
        if self.connected:  # connected meanwhile (a scenario step, a manual connect)
            return
        node = self.world.pick_node(self)
        if node is None:
            if self.world.settled:  # no node is up and nothing will start one
                self.world.trace.record(
                    self.world.env.now,
                    RECONNECT_FAILED,
                    client=self.name,
                    attempts=self.backoff.attempts,
                )
                return
            self._schedule_reconnect()
            return
        attempts = self.backoff.attempts
        self.backoff.reset()
        self._reconnect_attempts = attempts
        self.world.connect(self.name, node, namespace=self.namespace)

    # -- client to server ---------------------------------------------------------
    def emit(
        self,
        event: str,
        *args: Any,
        ack: Callable[..., Any] | None = None,
        msg_id: str | None = None,
    ) -> str:
        """Send ``event`` to the server side of the socket; return the message id.

        It reaches the server one latency later, where the socket's handler
        for ``event`` runs.  With ``ack``, the handler gets an acknowledgement
        function last, and ``ack(*answer)`` runs here when the answer is back.
        Sent while disconnected, it is dropped.
        """
        check_event(event)
        world = self.world
        msg = world.new_msg_id(msg_id)
        now = world.env.now
        if not self.connected:
            world.trace.drop(now, msg, NOT_CONNECTED, client=self.name)
            return msg
        world.trace.record(now, CLIENT_EMIT, msg=msg, client=self.name, node=self.node, event=event)
        answer = None
        if ack is not None:
            sid = self.sid

            def answer(_sid: str, reply: tuple[Any, ...]) -> None:
                world.links.carry(self, "down", self._answered, sid, ack, reply)

        packet = Packet(msg, event, args, self.namespace, answer)
        world.links.carry(self, "up", self._reach_server, self.socket, packet)
        return msg

    def send(self, *args: Any, msg_id: str | None = None) -> str:
        """Emit a ``message`` event to the server."""
        return self.emit("message", *args, msg_id=msg_id)

    def _answered(self, sid: str, ack: Callable[..., Any], reply: tuple[Any, ...]) -> None:
        if self.sid == sid and self.connected:
            run_handler(self.world.env, ack, *reply)

    def _reach_server(self, socket: Socket, packet: Packet) -> None:
        socket.handle_packet(packet)
