"""Connection state recovery (Socket.IO 4.6), for the adapters that support it.

With recovery on, the adapter logs every broadcast event packet that is not
volatile and asks for no acknowledgement (and every direct ``socket.emit``,
which then goes through the adapter), each with an offset.  When a socket
disconnects for a recoverable reason its session (id, private id, rooms,
data) is kept for ``max_disconnection_duration`` ms.  A client that comes
back with its private id and the offset of the last packet it received gets
its old id, its rooms and data, and the logged packets it missed, before
anything else.  It needs to have received one packet at least (an offset).
Only the ``memory`` adapter supports it here, as in Socket.IO (the classic
and sharded Redis adapters do not).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from roomsim.packet import BroadcastOptions, Packet

__all__ = ["RECOVERABLE_REASONS", "Session", "SessionStore"]

#: server-side reasons after which a session is kept
RECOVERABLE_REASONS = frozenset(
    {
        "transport error",
        "transport close",
        "forced close",
        "ping timeout",
        "server shutting down",
        "forced server close",
    }
)


@dataclass
class Session:
    """What a recoverable disconnection leaves behind."""

    sid: str
    pid: str
    rooms: list[str]
    data: dict[str, Any]
    expires_at: float


@dataclass
class SessionStore:
    """The packet log and the kept sessions of one namespace's adapter.

    Examples
    --------
    >>> store = SessionStore(max_disconnection_duration=1000)
    >>> a = store.log(Packet("m1", "news", ()), BroadcastOptions(("r",)))
    >>> b = store.log(Packet("m2", "news", ()), BroadcastOptions(("other",)))
    >>> store.keep(Session("s1", "p1", ["s1", "r"], {}, expires_at=0), now=0)
    >>> session, missed = store.restore("p1", a, now=10)
    >>> session.sid, [p.msg for p in missed]
    ('s1', [])
    >>> store.restore("p1", "no-such-offset", now=10) is None
    True
    """

    max_disconnection_duration: float = 120_000.0
    _log: list[tuple[str, Packet, BroadcastOptions]] = field(default_factory=list)
    _positions: dict[str, int] = field(default_factory=dict)
    _sessions: dict[str, Session] = field(default_factory=dict)

    def log(self, packet: Packet, opts: BroadcastOptions) -> str:
        """Log a packet; return its offset."""
        offset = str(len(self._log) + 1)
        self._positions[offset] = len(self._log)
        self._log.append((offset, packet, opts))
        return offset

    def keep(self, session: Session, now: float) -> None:
        """Keep ``session`` until ``now + max_disconnection_duration``."""
        session.expires_at = now + self.max_disconnection_duration
        self._sessions[session.pid] = session

    def restore(self, pid: str, offset: str, now: float) -> tuple[Session, list[Packet]] | None:
        """The session and the packets it missed since ``offset``, or None."""
        session = self._sessions.get(pid)
        if session is None or session.expires_at < now or offset not in self._positions:
            return None
        rooms = set(session.rooms)
        missed = [
            packet
            for _, packet, opts in self._log[self._positions[offset] + 1 :]
            if (not opts.rooms or rooms.intersection(opts.rooms))
            and rooms.isdisjoint(opts.except_rooms)
        ]
        return session, missed
