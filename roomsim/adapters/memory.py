"""The in-memory adapter: rooms of one namespace on one node, local broadcast."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import simpy

from roomsim.adapters.requests import settle
from roomsim.packet import BroadcastOptions, Packet
from roomsim.recovery import SessionStore
from roomsim.rooms import RoomRegistry

if TYPE_CHECKING:
    from roomsim.adapters.interface import AdapterNamespace
    from roomsim.socket import Socket

__all__ = ["Answer", "Count", "InMemoryAdapter"]

#: ``client_count(n)``: how many sockets of a node a broadcast with acknowledgements asked
Count = Callable[[int], None]
#: ``ack(answer)``: one socket's answer
Answer = Callable[[Any], None]


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

    def __init__(self, nsp: AdapterNamespace) -> None:
        self.nsp = nsp
        #: the node's context: clock, trace, links, up or down
        self.ctx = nsp.ctx
        self.registry = RoomRegistry()
        self.rooms = self.registry.rooms
        self.sids = self.registry.sids
        #: the packet log and kept sessions, when connection state recovery is on
        self.sessions: SessionStore | None = None

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
        if self.sessions is not None and not opts.volatile and packet.ack is None:
            packet = replace(packet, offset=self.sessions.log(packet, opts))
        self.deliver_local(packet, opts)

    def deliver_local(self, packet: Packet, opts: BroadcastOptions) -> int:
        """Write ``packet`` to this node's matching sockets now; return how many."""
        sids = self.registry.select(opts.rooms, opts.except_rooms)
        self.nsp.write(packet, sids, opts.volatile)
        return len(sids)

    # -- acknowledgements -----------------------------------------------------------
    def server_count(self) -> int:
        """How many nodes take part (here: this one)."""
        return 1

    def broadcast_with_ack(
        self, packet: Packet, opts: BroadcastOptions, client_count: Count, ack: Answer
    ) -> None:
        """Broadcast asking each recipient for an acknowledgement.

        ``client_count(n)`` tells how many sockets of this node got it;
        ``ack(answer)`` runs once per answer (its first argument).
        """
        sids = self.registry.select(opts.rooms, opts.except_rooms)
        asking = replace(packet, ack=lambda _sid, answer: ack(answer[0] if answer else None))
        self.nsp.write(asking, sids)
        client_count(len(sids))

    # -- utility methods (``io.in_(room).sockets_join(...)`` and friends) -------------
    def _matching(self, opts: BroadcastOptions) -> list[Socket]:
        sockets = self.nsp.sockets
        return [
            sockets[sid]
            for sid in self.registry.select(opts.rooms, opts.except_rooms)
            if sid in sockets
        ]

    def add_sockets(self, opts: BroadcastOptions, rooms: list[str]) -> None:
        """Make the matching sockets join ``rooms``."""
        for socket in self._matching(opts):
            socket.join(rooms)

    def del_sockets(self, opts: BroadcastOptions, rooms: list[str]) -> None:
        """Make the matching sockets leave ``rooms``."""
        for socket in self._matching(opts):
            for room in rooms:
                socket.leave(room)

    def disconnect_sockets(self, opts: BroadcastOptions, close: bool) -> None:
        """Disconnect the matching sockets (``server namespace disconnect``)."""
        for socket in self._matching(opts):
            socket.disconnect(close)

    def fetch_sockets(self, opts: BroadcastOptions) -> simpy.Event:
        """An event whose value is the list of matching sockets."""
        event = self.ctx.env.event()
        settle(event, self._matching(opts))
        return event

    def server_side_emit(
        self, event: str, args: tuple[Any, ...], ack: Callable[..., Any] | None
    ) -> None:
        """The in-memory adapter has no other node to tell: nothing happens."""

    def close(self) -> None:
        """Stop taking part in the cluster (nothing to do in memory)."""
