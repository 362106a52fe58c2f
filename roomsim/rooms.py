"""The room registry of one namespace on one node.

Two insertion-ordered maps, as Socket.IO's in-memory adapter keeps them:
``rooms`` (room -> socket ids) and ``sids`` (socket id -> rooms).  A Python
``dict`` with ``None`` values is the ordered set.  Empty rooms are deleted
at once, and the adapter room events fire in Socket.IO's order.  Pure
Python: no SimPy here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

__all__ = ["ROOM_EVENTS", "RoomRegistry"]

ROOM_EVENTS = ("create-room", "join-room", "leave-room", "delete-room")


class RoomRegistry:
    """Who is in which room, on one node, for one namespace.

    Examples
    --------
    >>> reg = RoomRegistry()
    >>> log = []
    >>> for name in ROOM_EVENTS:
    ...     reg.on(name, lambda *args, name=name: log.append((name, *args)))
    >>> reg.add_all("s1", ["s1", "a"])
    >>> reg.add_all("s1", ["a"])          # already in: nothing happens
    >>> reg.delete("s1", "a")
    >>> log  # doctest: +NORMALIZE_WHITESPACE
    [('create-room', 's1'), ('join-room', 's1', 's1'),
     ('create-room', 'a'), ('join-room', 'a', 's1'),
     ('leave-room', 'a', 's1'), ('delete-room', 'a')]
    >>> list(reg.rooms), list(reg.sids["s1"])
    (['s1'], ['s1'])
    """

    __slots__ = ("_listeners", "rooms", "sids")

    def __init__(self) -> None:
        self.rooms: dict[str, dict[str, None]] = {}
        self.sids: dict[str, dict[str, None]] = {}
        self._listeners: dict[str, list[Callable[..., Any]]] = {}

    def on(self, event: str, listener: Callable[..., Any]) -> None:
        """Call ``listener(room[, sid])`` on each room event (see ROOM_EVENTS)."""
        if event not in ROOM_EVENTS:
            raise ValueError(f"unknown room event {event!r}; expected one of {ROOM_EVENTS}")
        self._listeners.setdefault(event, []).append(listener)

    def _fire(self, event: str, *args: str) -> None:
        for listener in self._listeners.get(event, ()):
            listener(*args)

    def add_all(self, sid: str, rooms: Iterable[str]) -> None:
        """Put ``sid`` in each room, in order (Socket.IO ``addAll``)."""
        mine = self.sids.get(sid)
        if mine is None:
            mine = self.sids[sid] = {}
        listening = bool(self._listeners)
        for room in rooms:
            mine[room] = None
            members = self.rooms.get(room)
            if members is None:
                members = self.rooms[room] = {}
                if listening:
                    self._fire("create-room", room)
            if sid not in members:
                members[sid] = None
                if listening:
                    self._fire("join-room", room, sid)

    def delete(self, sid: str, room: str) -> None:
        """Take ``sid`` out of ``room``; leaving a room one is not in does nothing."""
        mine = self.sids.get(sid)
        if mine is not None:
            mine.pop(room, None)
        self._remove(room, sid)

    def _remove(self, room: str, sid: str) -> None:
        members = self.rooms.get(room)
        if members is None:
            return
        if sid in members:
            del members[sid]
            if self._listeners:
                self._fire("leave-room", room, sid)
        if not members:
            del self.rooms[room]
            if self._listeners:
                self._fire("delete-room", room)

    def delete_all(self, sid: str) -> None:
        """Take ``sid`` out of every room, in the order it joined them."""
        mine = self.sids.pop(sid, None)
        if mine is None:
            return
        for room in mine:
            self._remove(room, sid)

    def select(self, rooms: tuple[str, ...], except_rooms: tuple[str, ...]) -> list[str]:
        """Socket ids a broadcast reaches here: the union of ``rooms`` minus ``except_rooms``.

        No rooms means every socket.  Each id appears once, in Socket.IO's
        order (rooms in the order given, members in the order they joined).

        Examples
        --------
        >>> reg = RoomRegistry()
        >>> for sid, rooms in [("s1", ["a"]), ("s2", ["a", "b"]), ("s3", ["b", "c"])]:
        ...     reg.add_all(sid, [sid, *rooms])
        >>> reg.select(("a", "b"), ())
        ['s1', 's2', 's3']
        >>> reg.select(("a", "b"), ("c",))
        ['s1', 's2']
        >>> reg.select((), ("s2",))
        ['s1', 's3']
        """
        all_rooms = self.rooms
        if not rooms:
            targets: Any = self.sids
        elif len(rooms) == 1:
            targets = all_rooms.get(rooms[0], ())
        else:
            targets = {}
            for room in rooms:
                members = all_rooms.get(room)
                if members:
                    targets.update(members)
        if except_rooms:
            excluded: set[str] = set()
            for room in except_rooms:
                members = all_rooms.get(room)
                if members:
                    excluded.update(members)
            if excluded:
                return [sid for sid in targets if sid not in excluded]
        return list(targets)
