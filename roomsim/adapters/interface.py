"""What an adapter needs from its namespace, and nothing more.

An adapter is written against :class:`AdapterNamespace`, not against
:class:`~roomsim.namespace.Namespace`, so that it can run on its own against
a small stand-in (``tests/test_adapters.py`` does, as socket.io-adapter tests
its adapters).  Everything else a node has (clock, trace, links, whether it
is up) the adapter reads from the namespace's :class:`~roomsim.node.NodeContext`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

from roomsim.packet import Packet

if TYPE_CHECKING:
    from roomsim.node import NodeContext

__all__ = ["AdapterNamespace", "AdapterSocket"]


class AdapterSocket(Protocol):
    """A connected socket, as the cluster-wide utilities use it."""

    id: str
    data: dict[str, Any]

    def join(self, rooms: str | list[str] | tuple[str, ...]) -> None: ...

    def leave(self, room: str) -> None: ...

    def disconnect(self, close: bool = False) -> None: ...


class AdapterNamespace(Protocol):
    """One namespace of one node, as its adapter sees it."""

    #: the namespace's name (``/``, ``/admin``, ...)
    name: str
    #: the node it lives on
    node: str
    #: the node's context: clock, trace, links, ids, up or down
    ctx: NodeContext

    @property
    def sockets(self) -> Mapping[str, Any]:
        """The connected sockets of this namespace on this node, by id."""
        ...

    def write(
        self, packet: Packet, sids: list[str], volatile: bool = False, recovered: bool = False
    ) -> None:
        """Write ``packet`` to these sockets of this node (the local delivery)."""
        ...

    def on_server_side_emit(self, event: str, args: tuple[Any, ...]) -> None:
        """Another node's ``server_side_emit`` reached this namespace."""
        ...

    def to(self, rooms: Any) -> Any:
        """A broadcast operator (what a :class:`RemoteSocket` goes through)."""
        ...

    def in_(self, rooms: Any) -> Any:
        """The same as :meth:`to`."""
        ...
