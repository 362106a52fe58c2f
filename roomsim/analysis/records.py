"""A trace's records as a list, and every record of one message.

Analysis functions take a :class:`~roomsim.trace.Trace` (run in memory, or
read back with :meth:`~roomsim.trace.Trace.read_jsonl`) or any iterable of
records.  A record's *position* in the trace (its ``seq``) orders things that
happened at the same simulated time: a join recorded before an emit counts
for it, one recorded after does not.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import roomsim.vocabulary as vocab

__all__ = [
    "Message",
    "NotInTrace",
    "as_records",
    "check_client",
    "message_records",
    "natural_key",
    "round_ms",
]

Record = dict[str, Any]


class NotInTrace(ValueError):
    """A message or client the trace does not know (the text is one line)."""


def as_records(trace: Iterable[Record]) -> list[Record]:
    """The records of ``trace`` as a list, in trace order (a list is returned as is).

    Examples
    --------
    >>> from roomsim.trace import Trace
    >>> trace = Trace()
    >>> trace.record(0, "connect", client="alice", node="n1", sid="s1")
    >>> [r["kind"] for r in as_records(trace)]
    ['connect']
    """
    return trace if isinstance(trace, list) else list(trace)


def round_ms(t: float) -> int | float:
    """A time for people to read: to the microsecond, an int when whole.

    Examples
    --------
    >>> round_ms(12.978964428), round_ms(25.0), round_ms(0.1 + 0.2)
    (12.979, 25, 0.3)
    """
    t = round(t, 3)
    return int(t) if float(t).is_integer() else t


def natural_key(name: str) -> tuple[Any, ...]:
    """Sort key that puts ``n2`` before ``n10``.

    Examples
    --------
    >>> sorted(["n10", "n2", "n1"], key=natural_key)
    ['n1', 'n2', 'n10']
    """
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", name))


@dataclass
class Message:
    """Every record of one message, each with its position in the trace.

    Attributes
    ----------
    msg : str
        The message id.
    emit : dict or None
        Its ``emit`` record (None for a client-to-server event or a failed step).
    emit_seq : int
        The position of the ``emit`` record (-1 without one).
    publishes, relays, delivers, drops : list of (seq, record)
        Its ``publish``, ``relay``, ``deliver`` and ``drop`` records.
    client_emit : dict or None
        Its ``client_emit`` record (a client sent it to its node).
    receives : list of (seq, record)
        Its ``receive`` records (it reached the server).
    errors : list of dict
        ``error`` records of a step that would have sent it.
    """

    msg: str
    emit: Record | None = None
    emit_seq: int = -1
    publishes: list[tuple[int, Record]] = field(default_factory=list)
    relays: list[tuple[int, Record]] = field(default_factory=list)
    delivers: list[tuple[int, Record]] = field(default_factory=list)
    drops: list[tuple[int, Record]] = field(default_factory=list)
    client_emit: Record | None = None
    receives: list[tuple[int, Record]] = field(default_factory=list)
    errors: list[Record] = field(default_factory=list)
    picks: list[tuple[int, Record]] = field(default_factory=list)

    def pick_times(self) -> dict[str, tuple[int, float]]:
        """node -> (seq, t) of the moment it picked its recipients.

        The emitting node picks at the ``emit`` (the classic Redis adapter
        delivers locally at once); another node at the ``relay`` of the
        broker's copy, unless it threw that copy away.  With an adapter built
        like Socket.IO's ``ClusterAdapter`` (its ``publish`` record has a
        ``type``, as the sharded adapter's does), the emitting node delivers
        locally only when its publish returns, at the moment its own copy
        comes back: the ``relay`` record of its own message stands for that.
        """
        picks: dict[str, tuple[int, float]] = {}
        for seq, rec in self.picks:  # exact, when the trace has ``pick`` records
            if not rec.get("recovered"):
                picks.setdefault(rec["node"], (seq, rec["t"]))
        if picks:
            return picks
        emit = self.emit
        if emit is not None:
            picks[emit["node"]] = (self.emit_seq, emit["t"])
            if self.awaits_publish():
                own = [
                    (seq, rec)
                    for seq, rec in self.relays
                    if rec["node"] == emit["node"] and rec.get("ignored") == vocab.OWN_MESSAGE
                ]
                if own:
                    picks[emit["node"]] = (own[0][0], own[0][1]["t"])
        for seq, rec in self.relays:
            if not rec.get("ignored") and rec["node"] not in picks:
                picks[rec["node"]] = (seq, rec["t"])
        return picks

    def awaits_publish(self) -> bool:
        """Whether the emitting node waited for its publish to return before delivering."""
        emit = self.emit
        return emit is not None and any(
            rec.get("type") and rec["node"] == emit["node"] for _, rec in self.publishes
        )

    def node_drops(self) -> dict[str, dict[str, Any]]:
        """node -> the ``drop`` record of a broker copy that never reached it."""
        return {rec["node"]: rec for _, rec in self.drops if "client" not in rec and "node" in rec}


_LISTS = {
    vocab.PUBLISH: "publishes",
    vocab.RELAY: "relays",
    vocab.DELIVER: "delivers",
    vocab.DROP: "drops",
    vocab.PICK: "picks",
}


def message_records(records: list[Record], msg: str) -> Message:
    """Collect the records of message ``msg``.

    Raises
    ------
    NotInTrace
        If no record names ``msg``.

    Examples
    --------
    >>> from roomsim.trace import Trace
    >>> trace = Trace()
    >>> trace.record(0, "emit", msg="m1", node="n1", event="news", to=[], **{"except": []})
    >>> trace.add_deliveries(5, "m1", "n1", "news", ["alice", "bob"])
    >>> m = message_records(list(trace), "m1")
    >>> m.emit["node"], [r["client"] for _, r in m.delivers], m.pick_times()
    ('n1', ['alice', 'bob'], {'n1': (0, 0)})
    >>> message_records(list(trace), "m9")
    Traceback (most recent call last):
    ...
    roomsim.analysis.records.NotInTrace: no message 'm9' in the trace (messages: m1)
    """
    found = Message(msg)
    seen = False
    for seq, rec in enumerate(records):
        if rec.get("msg") != msg:
            continue
        seen = True
        kind = rec["kind"]
        if kind == vocab.EMIT and found.emit is None:
            found.emit, found.emit_seq = rec, seq
        elif kind in _LISTS:
            getattr(found, _LISTS[kind]).append((seq, rec))
        elif kind == vocab.CLIENT_EMIT:
            found.client_emit = rec
        elif kind == vocab.RECEIVE:
            found.receives.append((seq, rec))
        elif kind == vocab.ERROR:
            found.errors.append(rec)
    if not seen:
        raise NotInTrace(f"no message {msg!r} in the trace ({_known(records, 'msg', 'messages')})")
    return found


def _known(records: list[Record], key: str, what: str, most: int = 8) -> str:
    names = list(dict.fromkeys(r[key] for r in records if key in r))
    if not names:
        return f"it has no {what}"
    shown = ", ".join(names[:most])
    more = f", ... ({len(names)} in all)" if len(names) > most else ""
    return f"{what}: {shown}{more}"


def check_client(records: list[Record], client: str) -> None:
    """Raise :class:`NotInTrace` unless some record names ``client``.

    Examples
    --------
    >>> check_client([{"t": 0, "kind": "connect", "client": "alice"}], "bob")
    Traceback (most recent call last):
    ...
    roomsim.analysis.records.NotInTrace: no client 'bob' in the trace (clients: alice)
    """
    if not any(r.get("client") == client for r in records):
        raise NotInTrace(
            f"no client {client!r} in the trace ({_known(records, 'client', 'clients')})"
        )
