"""What the broker and the nodes carried: broker messages over time, and load per node."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import roomsim.vocabulary as vocab
from roomsim.analysis.records import as_records, natural_key
from roomsim.trace import discarded

__all__ = ["LOAD_KEYS", "BrokerTraffic", "broker_traffic", "nice_bin", "node_load"]

#: The counts of :func:`node_load`, in drawing order.
LOAD_KEYS = ("deliveries", "relays", "discarded")


def nice_bin(span: float, most: int) -> float:
    """The smallest 1, 2 or 5 times a power of ten that cuts ``span`` into at most ``most`` bins.

    Examples
    --------
    >>> nice_bin(90, 50), nice_bin(1000, 60), nice_bin(0, 50)
    (2, 20, 1)
    """
    if span <= 0:
        return 1
    raw = span / most
    power = 10 ** math.floor(math.log10(raw))
    for step in (1, 2, 5, 10):
        if step * power >= raw:
            width = step * power
            return int(width) if float(width).is_integer() else width
    return 10 * power  # pragma: no cover


@dataclass
class BrokerTraffic:
    """Broker messages per time bin.

    Attributes
    ----------
    bin_ms : float
        Width of a bin.
    starts_ms : list of float
        Start of each bin.
    published : list of int
        ``publish`` records (a node handing a message to the broker) per bin.
    relayed : list of int
        ``relay`` records (a copy reaching a node) per bin.
    discarded : list of int
        Relayed copies a node threw away (its own, an unknown room, or no recipient).
    """

    bin_ms: float
    starts_ms: list[float]
    published: list[int]
    relayed: list[int]
    discarded: list[int]


def broker_traffic(
    trace: Iterable[dict[str, Any]],
    bin_ms: float | None = None,
    start: float | None = None,
    end: float | None = None,
) -> BrokerTraffic:
    """Count ``publish`` and ``relay`` records per time bin.

    Parameters
    ----------
    trace : Trace or iterable of dict
    bin_ms : float, optional
        Bin width (default: a round width giving at most 50 bins).
    start, end : float, optional
        The window (default: from 0 to the last record).

    Examples
    --------
    >>> from roomsim.trace import Trace
    >>> trace = Trace()
    >>> trace.record(0, "publish", msg="m1", node="n1", channel="c")
    >>> trace.record(1, "relay", msg="m1", node="n1", channel="c", targets=0, ignored="own message")
    >>> trace.record(1, "relay", msg="m1", node="n2", channel="c", targets=3)
    >>> trace.record(12, "publish", msg="m2", node="n2", channel="c")
    >>> b = broker_traffic(trace, bin_ms=10)
    >>> b.starts_ms, b.published, b.relayed, b.discarded
    ([0, 10], [1, 1], [2, 0], [1, 0])
    """
    records = as_records(trace)
    lo = start if start is not None else 0
    hi = end if end is not None else (records[-1]["t"] if records else 0)
    width = bin_ms if bin_ms is not None else nice_bin(hi - lo, 50)
    if width <= 0:
        raise ValueError(f"bin_ms must be > 0, got {bin_ms}")
    n = max(1, math.ceil((hi - lo) / width))
    counts = {"publish": [0] * n, "relay": [0] * n, "discarded": [0] * n}
    for rec in records:
        kind, t = rec["kind"], rec["t"]
        if kind not in (vocab.PUBLISH, vocab.RELAY) or not lo <= t <= hi:
            continue
        i = min(int((t - lo) // width), n - 1)
        counts[kind][i] += 1
        if kind == vocab.RELAY and discarded(rec):
            counts["discarded"][i] += 1
    return BrokerTraffic(
        width,
        [lo + i * width for i in range(n)],
        counts["publish"],
        counts["relay"],
        counts["discarded"],
    )


def node_load(trace: Iterable[dict[str, Any]]) -> dict[str, dict[str, int]]:
    """Per node (in natural order): ``deliveries``, ``relays`` received, and ``discarded`` copies.

    A discarded copy is a relayed one the node threw away: its own, a room it
    does not have, or no local recipient.

    Examples
    --------
    >>> from roomsim.trace import Trace
    >>> trace = Trace()
    >>> trace.record(0, "connect", client="a", node="n1", sid="s1")
    >>> trace.record(1, "relay", msg="m1", node="n1", channel="c", targets=0, ignored="own message")
    >>> trace.record(1, "relay", msg="m1", node="n2", channel="c", targets=2)
    >>> trace.add_deliveries(5, "m1", "n2", "e", ["b", "c"])
    >>> node_load(trace)
    {'n1': {'deliveries': 0, 'relays': 1, 'discarded': 1},
     'n2': {'deliveries': 2, 'relays': 1, 'discarded': 0}}
    """
    load: dict[str, dict[str, int]] = {}
    for rec in trace:
        node = rec.get("node")
        if node is None:
            continue
        counts = load.get(node)
        if counts is None:
            counts = load[node] = dict.fromkeys(LOAD_KEYS, 0)
        kind = rec["kind"]
        if kind == vocab.DELIVER:
            counts["deliveries"] += 1
        elif kind == vocab.RELAY:
            counts["relays"] += 1
            if discarded(rec):
                counts["discarded"] += 1
    return {node: load[node] for node in sorted(load, key=natural_key)}
