"""What travels: a Socket.IO event packet and the options of a broadcast."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["RESERVED_EVENTS", "BroadcastOptions", "Packet", "wire_size"]

#: Event names Socket.IO refuses to emit (they are its own).
RESERVED_EVENTS = frozenset(
    {
        "connect",
        "connect_error",
        "disconnect",
        "disconnecting",
        "newListener",
        "removeListener",
    }
)


@dataclass(frozen=True, slots=True)
class Packet:
    """An EVENT packet: ``event`` with ``args`` in namespace ``nsp``.

    ``msg`` is the simulation's own id for the message, so that the trace can
    say what happened to it; it is not part of the wire format.  ``ack``, when
    set, asks each receiver for an acknowledgement: it is called with the
    receiving socket's id and the arguments of its answer.
    """

    msg: str
    event: str
    args: tuple[Any, ...]
    nsp: str = "/"
    ack: Callable[[str, tuple[Any, ...]], None] | None = field(
        default=None, compare=False, repr=False
    )
    #: the packet's place in the recovery log, when connection state recovery is on
    offset: str | None = field(default=None, compare=False)

    def wire(self, with_nsp: bool = True) -> dict[str, Any]:
        """The packet as Socket.IO encodes it: ``{type: 2, data: [event, ...args], nsp}``.

        ClusterAdapter-based adapters publish it before ``nsp`` is set
        (``with_nsp=False``).

        Examples
        --------
        >>> Packet("m1", "news", ({"x": 1},)).wire()
        {'type': 2, 'data': ['news', {'x': 1}], 'nsp': '/'}
        >>> Packet("m1", "news", ()).wire(with_nsp=False)
        {'type': 2, 'data': ['news']}
        """
        wire: dict[str, Any] = {"type": 2, "data": [self.event, *self.args]}
        if with_nsp:
            wire["nsp"] = self.nsp
        return wire


@dataclass(frozen=True, slots=True)
class BroadcastOptions:
    """Who a broadcast is for: ``rooms`` (empty: everyone), minus ``except_rooms``."""

    rooms: tuple[str, ...] = ()
    except_rooms: tuple[str, ...] = ()
    local: bool = False
    volatile: bool = False
    compress: bool = True
    timeout: float | None = None

    def wire(self) -> dict[str, Any]:
        """The options as the Redis adapter publishes them.

        Examples
        --------
        >>> BroadcastOptions(("a",), ("s1",)).wire()
        {'rooms': ['a'], 'except': ['s1'], 'flags': {}}
        """
        flags: dict[str, Any] = {}
        if self.volatile:
            flags["volatile"] = True
        if not self.compress:
            flags["compress"] = False
        if self.timeout is not None:
            flags["timeout"] = self.timeout
        return {
            "rooms": list(self.rooms),
            "except": list(self.except_rooms),
            "flags": flags,
        }


_compact = json.JSONEncoder(separators=(",", ":"), default=repr).encode


def wire_size(payload: Any) -> int:
    """Bytes of ``payload`` encoded compactly (JSON; the real adapters' msgpack is close).

    Examples
    --------
    >>> wire_size(["abc123", {"type": 2, "data": ["news"], "nsp": "/"}])
    47
    """
    return len(_compact(payload).encode())
