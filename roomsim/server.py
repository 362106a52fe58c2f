"""The Socket.IO server of one node (``io``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from roomsim.broadcast import BroadcastOperator, Rooms
from roomsim.namespace import Namespace
from roomsim.socket import Socket

if TYPE_CHECKING:
    from roomsim.node import NodeContext

__all__ = ["Server", "normalize_namespace"]


def normalize_namespace(name: str) -> str:
    """``""`` and ``"/"`` are the main namespace; others start with ``/``.

    Examples
    --------
    >>> normalize_namespace(""), normalize_namespace("admin"), normalize_namespace("/chat")
    ('/', '/admin', '/chat')
    """
    return "/" + name.lstrip("/") if name.strip("/") else "/"


class Server:
    """``io`` on one node: its namespaces, and shortcuts to the main one (``/``)."""

    def __init__(self, ctx: NodeContext) -> None:
        #: the node's context (clock, trace, links, ids, up or down), made by the cluster
        self.ctx = ctx
        self.node = ctx.name
        self.nsps: dict[str, Namespace] = {}
        #: the node's event loop charging the cost profile (None: an ideal node)
        self.loop = ctx.loop
        self.sockets = self.of("/")

    @property
    def alive(self) -> bool:
        """False once the node has crashed (a restarted node is a new Server)."""
        return self.ctx.up

    def __repr__(self) -> str:
        return f"<Server {self.node}: namespaces {sorted(self.nsps)}>"

    def of(self, name: str) -> Namespace:
        """The namespace ``name`` on this node, made on first use.

        Every node runs the same application, so a namespace used on one node
        is declared on every node that is up (and on a node that restarts):
        its adapter counts in cluster-wide requests and acknowledgements.
        """
        name = normalize_namespace(name)
        nsp = self.nsps.get(name)
        if nsp is None:
            nsp = self.nsps[name] = Namespace(self, name)
            self.ctx.declare_namespace(name)
        return nsp

    def on(self, event: str, handler: Callable[..., Any] | None = None) -> Any:
        """``io.on(...)``: a handler of the main namespace."""
        return self.sockets.on(event, handler)

    def to(self, rooms: Rooms) -> BroadcastOperator:
        return self.sockets.to(rooms)

    in_ = to

    def except_(self, rooms: Rooms) -> BroadcastOperator:
        return self.sockets.except_(rooms)

    @property
    def local(self) -> BroadcastOperator:
        return self.sockets.local

    @property
    def volatile(self) -> BroadcastOperator:
        return self.sockets.volatile

    def timeout(self, ms: float) -> BroadcastOperator:
        return self.sockets.timeout(ms)

    def emit(self, event: str, *args: Any, msg_id: str | None = None) -> str:
        """``io.emit``: every socket of the main namespace."""
        return self.sockets.emit(event, *args, msg_id=msg_id)

    def send(self, *args: Any, msg_id: str | None = None) -> str:
        return self.sockets.send(*args, msg_id=msg_id)

    def sockets_join(self, rooms: Rooms) -> None:
        self.sockets.sockets_join(rooms)

    def sockets_leave(self, rooms: Rooms) -> None:
        self.sockets.sockets_leave(rooms)

    def disconnect_sockets(self, close: bool = False) -> None:
        self.sockets.disconnect_sockets(close)

    def fetch_sockets(self) -> Any:
        return self.sockets.fetch_sockets()

    def server_side_emit(
        self, event: str, *args: Any, ack: Callable[..., Any] | None = None
    ) -> None:
        """``io.serverSideEmit``: the main namespace on every other node."""
        self.sockets.server_side_emit(event, *args, ack=ack)

    def socket(self, sid: str, namespace: str = "/") -> Socket | None:
        """The connected socket with this id on this node, if any."""
        return self.of(namespace).sockets.get(sid)
