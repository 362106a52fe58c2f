"""Delivery latency (emit to deliver) per kind of emit: room, broadcast, private.

The kinds are :func:`roomsim.analysis.delivery.emit_kind`'s: no ``to`` is a
broadcast, a ``to`` of socket ids only is private, anything else a room emit.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import roomsim.vocabulary as vocab
from roomsim.analysis.delivery import EMIT_KINDS, emit_kind
from roomsim.trace import format_time

__all__ = ["delivery_latencies", "latency_cdf"]


def delivery_latencies(trace: Iterable[dict[str, Any]]) -> dict[str, list[float]]:
    """Sorted delivery latencies in ms (deliver time minus emit time) per kind of emit.

    Every kind of :data:`EMIT_KINDS` is a key, in that order.

    Examples
    --------
    >>> from roomsim.trace import Trace
    >>> trace = Trace()
    >>> trace.record(0, "connect", client="alice", node="n1", sid="s1")
    >>> trace.record(0, "connect", client="bob", node="n2", sid="s2")
    >>> trace.record(1, "emit", msg="m1", node="n1", event="e", to=[], **{"except": []})
    >>> trace.add_deliveries(6, "m1", "n1", "e", ["alice"])
    >>> trace.add_deliveries(8, "m1", "n2", "e", ["bob"])
    >>> trace.record(10, "emit", msg="m2", node="n1", event="e", to=["s2"], **{"except": []})
    >>> trace.add_deliveries(17, "m2", "n2", "e", ["bob"])
    >>> delivery_latencies(trace)
    {'room': [], 'broadcast': [5, 7], 'private': [7]}
    """
    sids: set[str] = set()
    sent: dict[str, tuple[float, str]] = {}
    out: dict[str, list[float]] = {kind: [] for kind in EMIT_KINDS}
    for rec in trace:
        kind = rec["kind"]
        if kind == vocab.DELIVER:
            emitted = sent.get(rec["msg"])
            if emitted is not None:
                out[emitted[1]].append(format_time(rec["t"] - emitted[0]))
        elif kind == vocab.CONNECT:
            sids.add(rec["sid"])
        elif kind == vocab.EMIT:
            sent.setdefault(rec["msg"], (rec["t"], emit_kind(rec, sids)))
    for values in out.values():
        values.sort()
    return out


def latency_cdf(trace: Iterable[dict[str, Any]]) -> dict[str, tuple[list[float], list[float]]]:
    """The empirical CDF of delivery latency per kind of emit: ``(latencies_ms, fractions)``.

    ``fractions[i]`` is the share of that kind's deliveries that took at most
    ``latencies_ms[i]``; kinds with no delivery have two empty lists.

    Examples
    --------
    >>> from roomsim.trace import Trace
    >>> trace = Trace()
    >>> trace.record(0, "emit", msg="m1", node="n1", event="e", to=["lobby"], **{"except": []})
    >>> trace.add_deliveries(5, "m1", "n1", "e", ["alice", "bob"])
    >>> trace.add_deliveries(7, "m1", "n2", "e", ["carol", "dan"])
    >>> latency_cdf(trace)["room"]
    ([5, 5, 7, 7], [0.25, 0.5, 0.75, 1.0])
    """
    out = {}
    for kind, values in delivery_latencies(trace).items():
        n = len(values)
        out[kind] = (values, [(i + 1) / n for i in range(n)])
    return out
