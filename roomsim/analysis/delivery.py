"""Delivery results by kind of emit: targeted, delivered, lost, latency quantiles.

An emit is ``room`` (to rooms), ``broadcast`` (to the whole namespace) or
``private`` (to socket ids only, a direct ``socket.emit`` included).  A
(message, client) pair is targeted when its node picked it (it then ends as
a ``deliver`` or a ``drop``) or when a copy meant for its node was lost on
the way (a ``drop`` all the same).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from roomsim.analysis.records import as_records

__all__ = ["EMIT_KINDS", "delivery_summary", "emit_kind", "format_delivery_summary"]

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


def _quantile(sorted_values: list[float], q: float) -> float | None:
    if not sorted_values:
        return None
    rank = max(1, math.ceil(q * len(sorted_values)))
    return sorted_values[rank - 1]


def delivery_summary(trace: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per kind of emit: ``targeted``, ``delivered``, ``lost``, ``p50``, ``p95``,
    ``p99`` and ``max`` delivery latency (ms, emit to delivery; None when nothing
    was delivered).

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
    records = as_records(trace)
    sids = {r["sid"] for r in records if r["kind"] == "connect"}
    kinds: dict[str, str] = {}
    sent: dict[str, float] = {}
    latencies: dict[str, list[float]] = {k: [] for k in EMIT_KINDS}
    lost = dict.fromkeys(EMIT_KINDS, 0)
    for rec in records:
        kind = rec["kind"]
        if kind == "emit":
            kinds[rec["msg"]] = emit_kind(rec, sids)
            sent[rec["msg"]] = rec["t"]
        elif kind == "deliver" and rec["msg"] in kinds:
            latencies[kinds[rec["msg"]]].append(rec["t"] - sent[rec["msg"]])
        elif kind == "drop" and "client" in rec and rec["msg"] in kinds:
            lost[kinds[rec["msg"]]] += 1
    summary = {}
    for name in EMIT_KINDS:
        values = sorted(latencies[name])
        summary[name] = {
            "targeted": len(values) + lost[name],
            "delivered": len(values),
            "lost": lost[name],
            "p50": _quantile(values, 0.5),
            "p95": _quantile(values, 0.95),
            "p99": _quantile(values, 0.99),
            "max": values[-1] if values else None,
        }
    return summary


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
