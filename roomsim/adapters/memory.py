"""The in-memory adapter: rooms of one namespace on one node, local broadcast."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from roomsim.packet import BroadcastOptions, Packet
from roomsim.rooms import RoomRegistry

if TYPE_CHECKING:
    from roomsim.namespace import Namespace

__all__ = ["InMemoryAdapter"]


class InMemoryAdapter:
    """Socket.IO's default adapter: it knows only this node's sockets.

    Attributes
    ----------
    rooms : dict
        room -> ordered set (dict) of socket ids, on this node.
    sids : dict
        socket id -> ordered set of rooms, on this node.
    """

    #: whether this adapter reaches other nodes' sockets
    joins_nodes = False

    def __init__(self, nsp: Namespace) -> None:
        self.nsp = nsp
        self.registry = RoomRegistry()
        self.rooms = self.registry.rooms
        self.sids = self.registry.sids

    def on(self, event: str, listener: Callable[..., Any]) -> None:
        """Listen to ``create-room``, ``join-room``, ``leave-room``, ``delete-room``."""
        self.registry.on(event, listener)

    def add_all(self, sid: str, rooms: Iterable[str]) -> None:
        self.registry.add_all(sid, rooms)

    def delete(self, sid: str, room: str) -> None:
        self.registry.delete(sid, room)

    def delete_all(self, sid: str) -> None:
        self.registry.delete_all(sid)

    def broadcast(self, packet: Packet, opts: BroadcastOptions) -> None:
        """Send ``packet`` to the matching sockets of this node."""
        self.deliver_local(packet, opts)

    def deliver_local(self, packet: Packet, opts: BroadcastOptions) -> int:
        """Write ``packet`` to this node's matching sockets now; return how many."""
        sids = self.registry.select(opts.rooms, opts.except_rooms)
        self.nsp.write(packet, sids)
        return len(sids)

    def close(self) -> None:
        """Stop taking part in the cluster (nothing to do in memory)."""
