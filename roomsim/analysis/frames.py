"""A run cut into time bins, one animation frame each: what moved, who got what."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import roomsim.vocabulary as vocab
from roomsim.analysis.history import History
from roomsim.analysis.records import as_records
from roomsim.analysis.spacetime import hops_and_marks
from roomsim.analysis.traffic import nice_bin

__all__ = ["Frames", "delivery_frames"]

Key = tuple[str, str]


@dataclass
class Frames:
    """What :func:`delivery_frames` computes and :func:`~roomsim.drawing.animate_deliveries` plays.

    Attributes
    ----------
    nodes : list of str
        Every node, in natural order.
    clients : dict
        client -> the node of its first connection (where it is drawn).
    broker : bool
        Whether anything was published (a broker is drawn).
    edges_ms : list of float
        Frame ``i`` covers ``edges_ms[i] <= t < edges_ms[i + 1]`` (the last
        one includes its end).
    hops : list of dict
        Per frame, ``(src, dst, fate) -> count`` of the hops that arrived in
        it (keys as in :class:`~roomsim.analysis.spacetime.Hop`).
    delivered, dropped : list of dict
        Per frame, client -> deliveries (drops) that arrived in it.
    """

    nodes: list[str] = field(default_factory=list)
    clients: dict[str, str] = field(default_factory=dict)
    broker: bool = False
    edges_ms: list[float] = field(default_factory=list)
    hops: list[dict[tuple[Key, Key, str], int]] = field(default_factory=list)
    delivered: list[dict[str, int]] = field(default_factory=list)
    dropped: list[dict[str, int]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.hops)


def delivery_frames(
    trace: Iterable[dict[str, Any]],
    max_frames: int = 60,
    start: float | None = None,
    end: float | None = None,
) -> Frames:
    """Cut a run into at most ``max_frames`` time bins of a round width.

    Parameters
    ----------
    trace : Trace or iterable of dict
    max_frames : int
        At most this many frames (bins of 1, 2 or 5 times a power of ten ms).
    start, end : float, optional
        The window (default: from 0 to the last record).

    Examples
    --------
    >>> from roomsim.trace import Trace
    >>> trace = Trace()
    >>> trace.record(0, "connect", client="alice", node="n1", sid="s1")
    >>> trace.record(10, "emit", msg="m1", node="n1", event="e", **{"from": "n1"},
    ...              to=[], **{"except": []})
    >>> trace.add_deliveries(15, "m1", "n1", "e", ["alice"])
    >>> f = delivery_frames(trace, max_frames=3)
    >>> f.edges_ms, f.delivered
    ([0, 5, 10, 15], [{}, {}, {'alice': 1}])
    >>> f.hops[2]
    {(('node', 'n1'), ('client', 'alice'), 'delivered'): 1}
    """
    if max_frames < 1:
        raise ValueError(f"max_frames must be >= 1, got {max_frames}")
    records = as_records(trace)
    history = History(records)
    hops, _ = hops_and_marks(records)
    lo = start if start is not None else 0
    hi = end if end is not None else history.end_ms
    width = nice_bin(hi - lo, max_frames)
    n = max(1, math.ceil((hi - lo) / width))
    frames = Frames(
        nodes=list(history.nodes),
        clients={c: history.home(c) for c in history.clients},
        broker=any(r["kind"] == vocab.PUBLISH for r in records),
        edges_ms=[lo + i * width for i in range(n + 1)],
        hops=[{} for _ in range(n)],
        delivered=[{} for _ in range(n)],
        dropped=[{} for _ in range(n)],
    )
    for hop in hops:
        t = hop.t1_ms
        if not lo <= t <= hi:
            continue
        i = min(int((t - lo) // width), n - 1)
        key = (hop.src, hop.dst, hop.fate)
        frames.hops[i][key] = frames.hops[i].get(key, 0) + 1
        if hop.kind in ("deliver", "drop"):
            per = frames.delivered[i] if hop.kind == "deliver" else frames.dropped[i]
            per[hop.dst[1]] = per.get(hop.dst[1], 0) + 1
    return frames
