"""Who was where, when: sockets and their rooms, replayed from the records alone.

A ``connect`` record opens a socket (in its own room, named by its id); each
``join`` and ``leave`` changes one room of the client's socket on that node;
the ``disconnect`` record closes it (``disconnecting`` still sees the rooms).
Rooms belong to one node and one namespace.  Positions in the trace order
things that happened at the same time.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import roomsim.vocabulary as vocab
from roomsim.analysis.records import as_records, natural_key

__all__ = ["History", "SocketLife"]

Record = dict[str, Any]


@dataclass
class SocketLife:
    """One socket, from its ``connect`` record to its ``disconnect`` record.

    Attributes
    ----------
    client, sid, node, namespace : str
        Whose socket, its id (also its own room), where.
    connect_seq, connect_ms
        Position and time of the ``connect`` record.
    end_seq, end_ms, reason
        Position, time and reason of the ``disconnect`` record (None while open).
    changes : list of (seq, t, kind, room)
        Its ``join`` and ``leave`` records, in order.
    """

    client: str
    sid: str
    node: str
    namespace: str
    connect_seq: int
    connect_ms: float
    end_seq: int | None = None
    end_ms: float | None = None
    reason: str | None = None
    changes: list[tuple[int, float, str, str]] = field(default_factory=list)

    def alive(self, seq: int) -> bool:
        """Whether the socket was connected (server side) when record ``seq`` happened."""
        return self.connect_seq < seq and (self.end_seq is None or self.end_seq >= seq)

    def rooms_at(self, seq: int) -> dict[str, float]:
        """room -> time joined, just before record ``seq`` (own room first).

        Examples
        --------
        >>> life = SocketLife("alice", "s1", "n1", "/", 0, 0, changes=[
        ...     (1, 5, "join", "a"), (2, 7, "join", "b"), (3, 9, "leave", "a")])
        >>> life.rooms_at(3), life.rooms_at(4)
        ({'s1': 0, 'a': 5, 'b': 7}, {'s1': 0, 'b': 7})
        """
        rooms: dict[str, float] = {self.sid: self.connect_ms}
        for s, t, kind, room in self.changes:
            if s >= seq:
                break
            if kind == vocab.JOIN:
                rooms.setdefault(room, t)
            else:
                rooms.pop(room, None)
        return rooms


class History:
    """Every socket of a run and its rooms over time.

    Parameters
    ----------
    trace : Trace or iterable of dict
        The records, in trace order.

    Attributes
    ----------
    sockets : list of SocketLife
        In connection order.
    nodes : list of str
        Every node named in the trace, in natural order (n2 before n10).
    clients : list of str
        Every client that connected, in order of first connection.
    end_ms : float
        Time of the last record.

    Examples
    --------
    >>> from roomsim.trace import Trace
    >>> trace = Trace()
    >>> trace.record(0, "connect", client="alice", node="n1", sid="s1", namespace="/")
    >>> trace.record(5, "join", client="alice", node="n1", room="lobby")
    >>> trace.record(9, "disconnect", client="alice", node="n1", sid="s1",
    ...              reason="transport close", rooms=[])
    >>> h = History(trace)
    >>> life = h.by_client["alice"][0]
    >>> sorted(life.rooms_at(h.cutoff(5))), life.alive(h.cutoff(5)), life.alive(h.cutoff(9))
    (['lobby', 's1'], True, False)
    """

    def __init__(self, trace: Iterable[Record]) -> None:
        records = as_records(trace)
        self.sockets: list[SocketLife] = []
        self.by_client: dict[str, list[SocketLife]] = {}
        self.by_sid: dict[str, SocketLife] = {}
        self._times = [r["t"] for r in records]
        self.end_ms: float = self._times[-1] if self._times else 0
        current: dict[tuple[str, str], SocketLife] = {}
        nodes: dict[str, None] = {}
        life: SocketLife | None
        for seq, rec in enumerate(records):
            node: Any = rec.get("node")
            if node is not None:
                nodes[node] = None
            kind = rec["kind"]
            if kind == vocab.CONNECT:
                life = SocketLife(
                    rec["client"],
                    rec["sid"],
                    node,
                    rec.get("namespace", "/"),
                    seq,
                    rec["t"],
                )
                self.sockets.append(life)
                self.by_client.setdefault(life.client, []).append(life)
                self.by_sid[life.sid] = life
                current[(life.client, node)] = life
            elif kind == vocab.JOIN or kind == vocab.LEAVE:
                life = current.get((rec["client"], node))
                if life is not None:
                    life.changes.append((seq, rec["t"], kind, rec["room"]))
            elif kind == vocab.DISCONNECT:
                life = self.by_sid.get(rec.get("sid", "")) or current.get((rec["client"], node))
                if life is not None and life.end_seq is None:
                    life.end_seq, life.end_ms, life.reason = seq, rec["t"], rec.get("reason")
                    if current.get((life.client, life.node)) is life:
                        del current[(life.client, life.node)]
        self.nodes = sorted(nodes, key=natural_key)
        self.clients = list(self.by_client)

    def cutoff(self, t: float) -> int:
        """The position just after every record at or before time ``t``."""
        return bisect.bisect_right(self._times, t)

    def home(self, client: str) -> str:
        """The node of the client's first connection."""
        return self.by_client[client][0].node

    def owner(self, sid: str) -> str | None:
        """The client whose socket had id ``sid`` (None if no socket had it)."""
        life = self.by_sid.get(sid)
        return life.client if life is not None else None

    def alive_at(self, seq: int) -> list[SocketLife]:
        """Sockets connected just before record ``seq``, in connection order."""
        return [life for life in self.sockets if life.alive(seq)]
