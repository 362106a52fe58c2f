"""``roomsim capacity``: the highest load that meets a latency objective.

The load is one number of the scenario (``load.rate`` by default: the rate
of every ``load`` entry).  Each point is one run with the scenario's cost
profile; the search doubles the load until the objective fails, then
bisects between the last point that met it and the first that did not.  At
the first failing point it says what saturates first (which node's loop or
the broker) and why, from the busy time by kind of work.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Objective", "Point", "capacity", "measure", "parse_slo", "why_saturated"]

_SLO = re.compile(r"^\s*(p50|p90|p95|p99|p999|max|mean)\s*<\s*([0-9.]+)\s*(ms|s)?\s*$")


@dataclass(frozen=True)
class Objective:
    """A latency objective: the statistic ``stat`` of delivery latency below ``limit_ms``."""

    stat: str
    limit_ms: float

    def __str__(self) -> str:
        return f"{self.stat}<{self.limit_ms:g}ms"


def parse_slo(text: str) -> Objective:
    """An objective from its text (``p99<100ms``, ``p50<5ms``, ``max<1s``).

    Examples
    --------
    >>> parse_slo("p99<100ms"), parse_slo("p50 < 0.5s")
    (Objective(stat='p99', limit_ms=100.0), Objective(stat='p50', limit_ms=500.0))
    >>> parse_slo("p99>3")
    Traceback (most recent call last):
    ...
    ValueError: expected an objective such as 'p99<100ms', got 'p99>3'
    """
    m = _SLO.match(text)
    if m is None:
        raise ValueError(f"expected an objective such as 'p99<100ms', got {text!r}")
    stat, value, unit = m.groups()
    return Objective(stat, float(value) * (1000.0 if unit == "s" else 1.0))


@dataclass
class Point:
    """One run of the search: the load, its latency figures and its loops' figures."""

    value: float
    latency: dict[str, float]
    deliveries: int
    throughput: float
    load: dict[str, Any] | None = field(default=None, repr=False)

    def meets(self, objective: Objective) -> bool:
        got = self.latency.get(objective.stat)
        return got is not None and got < objective.limit_ms


def _set(data: dict[str, Any], dotted: str, value: Any) -> None:
    """Set ``dotted`` in ``data``; ``load.<key>`` sets it in every load entry."""
    parts = dotted.split(".")
    if parts[0] == "load" and len(parts) == 2:
        loads = data.get("load")
        if not isinstance(loads, list) or not loads:
            raise ValueError("--vary load.<key> needs a scenario with a 'load' list")
        for entry in loads:
            entry[parts[1]] = value
        return
    node: Any = data
    for key in parts[:-1]:
        node = node[int(key)] if isinstance(node, list) else node.setdefault(key, {})
    if isinstance(node, list):
        node[int(parts[-1])] = value
    else:
        node[parts[-1]] = value


def latency_figures(trace: Any) -> tuple[dict[str, float], int, float]:
    """Delivery latency percentiles (ms), deliveries, and deliveries per second."""
    import numpy as np

    emitted: dict[str, float] = {}
    lat: list[float] = []
    first = last = None
    for rec in trace:
        kind = rec["kind"]
        if kind == "emit":
            emitted.setdefault(rec["msg"], rec["t"])
        elif kind == "deliver":
            t0 = emitted.get(rec["msg"])
            if t0 is not None:
                lat.append(rec["t"] - t0)
                first = rec["t"] if first is None else first
                last = rec["t"]
    if not lat:
        return {}, 0, 0.0
    a = np.asarray(lat)
    pct = np.percentile(a, [50, 90, 95, 99, 99.9])
    figures = {
        "p50": float(pct[0]),
        "p90": float(pct[1]),
        "p95": float(pct[2]),
        "p99": float(pct[3]),
        "p999": float(pct[4]),
        "max": float(a.max()),
        "mean": float(a.mean()),
    }
    span = (last - first) if last is not None and first is not None else 0.0
    return figures, len(lat), (len(lat) / span * 1000.0 if span > 0 else 0.0)


def measure(base: Mapping[str, Any], vary: str, value: float, seed: int | None = None) -> Point:
    """Run ``base`` (scenario data) with ``vary`` set to ``value``; one point."""
    from roomsim.loop import load_figures
    from roomsim.runner import run_scenario
    from roomsim.scenario import scenario_from_dict

    data = copy.deepcopy(dict(base))
    _set(data, vary, value)
    scenario = scenario_from_dict(data, path=f"<{vary}={value:g}>")
    cluster = run_scenario(scenario, seed=seed)
    lat, n, rate = latency_figures(cluster.trace)
    return Point(value, lat, n, rate, load_figures(cluster))


_WHY = {
    "message": "every node decodes every broadcast it is sent (the classic adapter sends"
    " each one to every node, its own and rooms it lacks included)",
    "write": "writing one frame per recipient socket: too many recipients per node",
    "emit": "encoding each broadcast",
    "packet": "decoding and handling client packets",
    "connect": "connections and their handshakes",
    "join": "joins and leaves",
    "ack": "acknowledgements",
}


def why_saturated(load: Mapping[str, Any] | None, adapter: str | None = None) -> str:
    """What saturates first at a point (the busiest loop) and why.

    Examples
    --------
    >>> why = why_saturated({"nodes": {"n1": {"utilisation": 0.99,
    ...     "busy_by_kind": {"write": 3.0, "message": 7.0}}}, "broker": None}, "redis")
    >>> why.split(": ")[:2]
    ["node n1's event loop (peak utilisation 0.99)", '70% of its time decoding broker messages']
    """
    if not load:
        return "nothing: the run has no costs (add costs: default)"
    loops = dict(load.get("nodes", {}))
    if load.get("broker") is not None:
        loops["broker"] = load["broker"]
    if not loops:
        return "nothing"

    def rank(item: tuple[str, Any]) -> tuple[bool, float]:
        f = item[1]
        return (bool(f.get("saturated")), f.get("peak_utilisation", f["utilisation"]))

    name, busiest = max(loops.items(), key=rank)
    util = busiest.get("peak_utilisation", busiest["utilisation"])
    if name == "broker":
        return (
            f"the broker's queue (peak utilisation {util:.2f}): it handles every published"
            " message and hands a copy to every subscribed node"
        )
    kinds = busiest.get("busy_by_kind") or {}
    total = sum(kinds.values()) or 1.0
    kind, ms = max(kinds.items(), key=lambda item: item[1]) if kinds else ("other", 0.0)
    words = {"message": "decoding broker messages", "write": "writing frames"}.get(kind, kind)
    reason = _WHY.get(kind, kind)
    if kind == "message" and adapter == "sharded-redis":
        reason = "decoding broker messages (the sharded adapter sends a node only its rooms')"
    return (
        f"node {name}'s event loop (peak utilisation {util:.2f}): {ms / total:.0%} of its time"
        f" {words}: {reason}"
    )


def capacity(
    base: Mapping[str, Any],
    objective: Objective,
    vary: str = "load.rate",
    start: float | None = None,
    *,
    steps: int = 6,
    max_value: float = 1_000_000.0,
    seed: int | None = None,
    on_point: Callable[[Point], None] | None = None,
    workers: int = 1,
) -> tuple[Point | None, Point | None]:
    """The highest ``vary`` meeting ``objective``: ``(best point met, first point failed)``.

    The search starts at ``start`` (default: the scenario's own value, else 1),
    doubles until the objective fails (or halves until it holds), then
    bisects ``steps`` times.  ``None`` for a side that was never found.

    With ``workers`` > 1 each bisection step runs ``workers`` points evenly
    spaced between the two sides at once, on a local Dask cluster (the
    ``sweep`` extra), so a step narrows the bracket ``workers + 1`` times.
    """
    if start is None:
        start = _current(base, vary) or 1.0
    met: Point | None = None
    failed: Point | None = None

    def run(value: float) -> Point:
        point = measure(base, vary, value, seed)
        if on_point is not None:
            on_point(point)
        return point

    point = run(start)
    if point.meets(objective):
        met = point
        while failed is None and met.value * 2 <= max_value:
            point = run(met.value * 2)
            if point.meets(objective):
                met = point
            else:
                failed = point
    else:
        failed = point
        for _ in range(20):
            point = run(failed.value / 2)
            if point.meets(objective):
                met = point
                break
            failed = point
    if met is None or failed is None:
        return met, failed
    if workers > 1:
        return _parallel_bisection(
            base, objective, vary, met, failed, steps, seed, on_point, workers
        )
    for _ in range(steps):
        point = run((met.value + failed.value) / 2)
        if point.meets(objective):
            met = point
        else:
            failed = point
    return met, failed


def _parallel_bisection(
    base: Mapping[str, Any],
    objective: Objective,
    vary: str,
    met: Point,
    failed: Point,
    steps: int,
    seed: int | None,
    on_point: Callable[[Point], None] | None,
    workers: int,
) -> tuple[Point, Point]:
    """Bisection with ``workers`` points a step, on a local Dask cluster."""
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError as err:  # pragma: no cover - depends on the extra
        raise ImportError("--workers needs Dask: python -m pip install 'roomsim[sweep]'") from err
    from roomsim.sweep import _close, _local_cluster

    cluster = _local_cluster(LocalCluster, workers)
    client = Client(cluster)
    try:
        for _ in range(steps):
            lo, hi = met.value, failed.value
            values = [lo + (hi - lo) * k / (workers + 1) for k in range(1, workers + 1)]
            futures = [
                client.submit(measure, dict(base), vary, v, seed, pure=False) for v in values
            ]
            points = [f.result() for f in futures]
            for point in points:
                if on_point is not None:
                    on_point(point)
            for point in points:  # in increasing load: the last one met, the first failed
                if point.meets(objective):
                    met = point
                elif point.value < failed.value:
                    failed = point
                    break
    finally:
        _close(client, cluster)
    return met, failed


def _current(base: Mapping[str, Any], vary: str) -> float | None:
    parts = vary.split(".")
    node: Any = base
    try:
        if parts[0] == "load" and len(parts) == 2:
            return float(base["load"][0][parts[1]])
        for key in parts:
            node = node[int(key)] if isinstance(node, list) else node[key]
        return float(node)
    except (KeyError, IndexError, TypeError, ValueError):
        return None
