"""Delivery results by kind of emit: targeted, delivered, lost, latency quantiles.

An emit is ``room`` (to rooms), ``broadcast`` (to the whole namespace) or
``private`` (to socket ids only, a direct ``socket.emit`` included).  A
(message, client) pair is targeted when its node picked it (it then ends as
a ``deliver`` or a ``drop``) or when a copy meant for its node was lost on
the way (a ``drop`` all the same).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from typing import Any

import roomsim.vocabulary as vocab

__all__ = [
    "EMIT_KINDS",
    "DeliverySummary",
    "delivery_summary",
    "emit_kind",
    "format_delivery_summary",
]

EMIT_KINDS = ("room", "broadcast", "private")


def emit_kind(emit: dict[str, Any], sids: set[str]) -> str:
    """``room``, ``broadcast`` or ``private`` for an ``emit`` record.

    Examples
    --------
    >>> sids = {"s1"}
    >>> emit_kind({"to": []}, sids), emit_kind({"to": ["s1"]}, sids), emit_kind({"to": ["a"]}, sids)
    ('broadcast', 'private', 'room')
    """
    to = emit.get("to") or []
    if not to:
        return "broadcast"
    return "private" if all(room in sids for room in to) else "room"


#: distinct latencies kept exactly; beyond, they are kept to 6 significant digits
EXACT_LATENCIES = 100_000


class _Latencies:
    """A multiset of latencies in bounded memory: exact while they are few."""

    __slots__ = ("count", "exact", "values")

    def __init__(self) -> None:
        self.values: Counter[float] = Counter()
        self.count = 0
        self.exact = True

    def add(self, value: float, times: int = 1) -> None:
        if not self.exact:
            value = _rounded(value)
        self.values[value] += times
        self.count += times
        if self.exact and len(self.values) > EXACT_LATENCIES:
            self.exact = False
            binned: Counter[float] = Counter()
            for v, n in self.values.items():
                binned[_rounded(v)] += n
            self.values = binned

    def quantiles(self, *qs: float) -> list[float | None]:
        """The ``q`` quantiles (the smallest value with at least ``q`` of them at or below)."""
        if not self.count:
            return [None] * len(qs)
        ranks = [max(1, math.ceil(q * self.count)) for q in qs]
        out: list[float | None] = [None] * len(qs)
        seen = 0
        for value in sorted(self.values):
            seen += self.values[value]
            for i, rank in enumerate(ranks):
                if out[i] is None and seen >= rank:
                    out[i] = value
        return out


def _rounded(value: float) -> float:
    return value if value.__class__ is int else float(f"{value:.6g}")


class DeliverySummary:
    """:func:`delivery_summary`, fed one record at a time (for a trace of any size)."""

    def __init__(self) -> None:
        self._sids: set[str] = set()
        self._kinds: dict[str, str] = {}
        self._sent: dict[str, float] = {}
        self._latencies = {k: _Latencies() for k in EMIT_KINDS}
        self._lost = dict.fromkeys(EMIT_KINDS, 0)

    def add(self, rec: dict[str, Any]) -> None:
        kind = rec["kind"]
        if kind == vocab.DELIVER:
            msg = rec["msg"]
            of = self._kinds.get(msg)
            if of is not None:
                self._latencies[of].add(rec["t"] - self._sent[msg])
        elif kind == vocab.CONNECT:
            self._sids.add(rec["sid"])
        elif kind == vocab.EMIT:
            self._kinds[rec["msg"]] = emit_kind(rec, self._sids)
            self._sent[rec["msg"]] = rec["t"]
        elif kind == vocab.DROP and "client" in rec and rec.get("msg") in self._kinds:
            self._lost[self._kinds[rec["msg"]]] += 1

    def add_relays(self, t: float, msg: str, nodes: list[str], channel: str, ignored: str) -> None:
        """Copies nodes threw away: nothing the figures count."""

    def add_deliveries(self, t: float, msg: str, node: str, event: str, clients: list[str]) -> None:
        """One ``deliver`` record per client, as :meth:`add` of each would count them."""
        of = self._kinds.get(msg)
        if of is not None:
            self._latencies[of].add(t - self._sent[msg], len(clients))

    def result(self) -> dict[str, dict[str, Any]]:
        summary = {}
        for name in EMIT_KINDS:
            values = self._latencies[name]
            p50, p95, p99, top = values.quantiles(0.5, 0.95, 0.99, 1.0)
            summary[name] = {
                "targeted": values.count + self._lost[name],
                "delivered": values.count,
                "lost": self._lost[name],
                "p50": p50,
                "p95": p95,
                "p99": p99,
                "max": top,
            }
        return summary


def delivery_summary(trace: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per kind of emit: ``targeted``, ``delivered``, ``lost``, ``p50``, ``p95``,
    ``p99`` and ``max`` delivery latency (ms, emit to delivery; None when nothing
    was delivered).  One pass over the records, in bounded memory.

    Examples
    --------
    >>> import roomsim
    >>> sim = roomsim.Cluster(nodes=1, client_ms=5)
    >>> a = sim.connect("a", rooms=["r"]); b = sim.connect("b")
    >>> _ = sim.io("n1").to("r").emit("x"); _ = sim.io("n1").emit("y")
    >>> sim.run()
    >>> s = delivery_summary(sim.trace)
    >>> s["room"]["delivered"], s["broadcast"]["delivered"], s["broadcast"]["p99"]
    (1, 2, 5)
    """
    summary = DeliverySummary()
    for rec in trace:
        summary.add(rec)
    return summary.result()


def format_delivery_summary(summary: dict[str, dict[str, Any]], adapter: str = "") -> str:
    """The summary as a small table (one row per kind of emit that occurred)."""

    def ms(value: float | None) -> str:
        return "-" if value is None else f"{value:,.1f}"  # as roomsim run's summary

    label = f" ({adapter})" if adapter else ""
    lines = [
        f"{'emit kind' + label:<22}{'targeted':>10}{'delivered':>11}{'lost':>7}"
        f"{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'max ms':>9}"
    ]
    for name, row in summary.items():
        if row["targeted"] == 0:
            continue
        lines.append(
            f"{name:<22}{row['targeted']:>10,}{row['delivered']:>11,}{row['lost']:>7,}"
            f"{ms(row['p50']):>9}{ms(row['p95']):>9}{ms(row['p99']):>9}{ms(row['max']):>9}"
        )
    return "\n".join(lines)
