"""Checks a trace against Socket.IO's guarantees, and the accounting of every message.

:func:`check` reports, as :class:`Violation` s:

- ``duplicate``: a client got the same message twice (at most once);
- ``order``: a connection got two messages of one node out of the order
  that node wrote them (per-connection order);
- ``disconnected``: a message reached a socket that was not connected when
  its node picked the recipients;
- ``non-member``: a socket in none of the target rooms, or in an excluded one;
- ``sender``: the socket that sent a ``socket.to(...)``/``broadcast`` got it;
- ``accounting``: a node picked more (or fewer) sockets than ended as
  ``deliver`` or ``drop`` records: something was lost silently.

The checks read the records only, so they work on a saved trace too.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from roomsim.analysis.history import History
from roomsim.analysis.records import as_records

__all__ = ["AFTER_PICK", "Violation", "check"]

#: drop reasons of a socket that was picked (the others: its node never got the message)
AFTER_PICK = frozenset({"disconnected", "node down", "volatile", "loss"})


@dataclass(frozen=True)
class Violation:
    """One broken rule: its ``rule``, the message and client, and what happened."""

    rule: str
    msg: str
    client: str | None
    detail: str

    def __str__(self) -> str:
        who = f", client {self.client}" if self.client else ""
        return f"{self.rule}: message {self.msg}{who}: {self.detail}"


def check(trace: Iterable[dict[str, Any]], *, complete: bool = True) -> list[Violation]:
    """Every violation in ``trace`` (an empty list when all is well).

    ``complete=False`` skips the accounting of messages still in flight at
    the end of the trace (a run stopped by ``until``).

    Examples
    --------
    >>> import roomsim
    >>> sim = roomsim.Cluster(nodes=2, client_ms=5, adapter_ms=2)
    >>> a = sim.connect("a", node="n1", rooms=["r"]); b = sim.connect("b", node="n2")
    >>> _ = sim.io("n2").to("r").emit("news")
    >>> sim.run()
    >>> check(sim.trace)
    []
    >>> records = list(sim.trace) + [dict(list(sim.trace.records("deliver"))[0])]
    >>> [v.rule for v in check(records)]
    ['duplicate', 'accounting']
    """
    if isinstance(trace, str):
        raise TypeError(
            f"check(trace) checks a trace against Socket.IO's rules; {trace!r} is not a trace."
            " To check an exercise answer, call"
            " roomsim.exercises.check_answer(exercise_id, answer)."
        )
    records = as_records(trace)
    history = History(records)
    violations: list[Violation] = []
    emits: dict[str, dict[str, Any]] = {}
    picks: dict[tuple[str, str], list[tuple[int, dict[str, Any]]]] = defaultdict(list)
    picked: Counter[tuple[str, str]] = Counter()
    ended: Counter[tuple[str, str]] = Counter()
    seen: Counter[tuple[str, str]] = Counter()
    last: dict[tuple[str, str], tuple[int, str]] = {}  # (sid, node) -> (pick seq, msg)
    for seq, rec in enumerate(records):
        kind = rec["kind"]
        if kind == "emit":
            emits[rec["msg"]] = rec
        elif kind == "pick":
            key = (rec["msg"], rec["node"])
            picks[key].append((seq, rec))
            picked[key] += rec["targets"]
        elif kind == "relay" and not rec.get("ignored"):
            picks[(rec["msg"], rec["node"])].append((seq, rec))
        elif kind == "drop" and "client" in rec and rec.get("reason") in AFTER_PICK:
            ended[(rec["msg"], rec["node"])] += 1
        elif kind == "deliver":
            msg, client, node = rec["msg"], rec["client"], rec["node"]
            ended[(msg, node)] += 1
            seen[(msg, client)] += 1
            if seen[(msg, client)] == 2 and not emits.get(msg, {}).get("ack"):
                # (a broadcast with acknowledgements whose request outlives its
                # timeout reaches the classic Redis adapter's own sockets twice,
                # as in Socket.IO: not counted)
                violations.append(
                    Violation("duplicate", msg, client, f"delivered again at t={rec['t']}")
                )
            _check_delivery(
                rec, seq, emits.get(msg), picks.get((msg, node), []), history, last, violations
            )
    for key, count in picked.items():
        if ended[key] != count and (complete or ended[key] > count):
            msg, node = key
            violations.append(
                Violation(
                    "accounting",
                    msg,
                    None,
                    f"node {node} picked {count} sockets but {ended[key]} ended as deliver or drop",
                )
            )
    for key, count in ended.items():
        if key not in picked:
            violations.append(
                Violation(
                    "accounting", key[0], None, f"{count} outcomes on node {key[1]} without a pick"
                )
            )
    return violations


def _check_delivery(
    rec: dict[str, Any],
    seq: int,
    emit: dict[str, Any] | None,
    picks: list[tuple[int, dict[str, Any]]],
    history: History,
    last: dict[tuple[str, str], tuple[int, str]],
    violations: list[Violation],
) -> None:
    msg, client, node = rec["msg"], rec["client"], rec["node"]
    earlier = [p for p in picks if p[0] < seq]
    if emit is None or not earlier:
        return
    pick_seq, pick = earlier[-1]
    if pick.get("recovered"):
        return
    life = next(
        (s for s in history.by_client.get(client, []) if s.node == node and s.alive(pick_seq)),
        None,
    )
    if life is None:
        violations.append(
            Violation(
                "disconnected",
                msg,
                client,
                f"not connected to {node} when it picked recipients at t={pick['t']}",
            )
        )
        return
    rooms = life.rooms_at(pick_seq)
    if life.sid in emit.get("except", ()) and emit.get("from") == client:
        violations.append(Violation("sender", msg, client, "the sender got its own broadcast"))
    elif emit.get("to") and rooms.keys().isdisjoint(emit["to"]):
        violations.append(Violation("non-member", msg, client, f"in none of {emit['to']}"))
    elif not rooms.keys().isdisjoint(emit.get("except", ())):
        violations.append(
            Violation("non-member", msg, client, f"in an excluded room {emit['except']}")
        )
    key = (life.sid, node)
    previous = last.get(key)
    if previous is not None and previous[0] > pick_seq:
        violations.append(
            Violation(
                "order", msg, client, f"arrived after {previous[1]}, which {node} wrote later"
            )
        )
    last[key] = (pick_seq, msg)
