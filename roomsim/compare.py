"""The same scenario and seed on several adapters, side by side.

Every adapter sees the same clients, the same socket ids and the same steps;
only how the nodes reach each other changes, and with it what crosses the
broker and what the nodes throw away.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from roomsim.analysis.metrics import run_metrics
from roomsim.runner import run_scenario
from roomsim.scenario import Scenario
from roomsim.summary import DECIMALS, format_number
from roomsim.trace import Trace

__all__ = ["COLUMNS", "compare_adapters", "format_comparison"]

#: the metrics a comparison shows, in order
COLUMNS = (
    "deliveries",
    "drops",
    "published",
    "received",
    "discarded",
    "useful_fraction",
    "broker_bytes",
    "mean_latency_ms",
    "max_latency_ms",
)


def with_adapter(scenario: Scenario, adapter: str) -> Scenario:
    """``scenario`` with its cluster's adapter replaced."""
    cluster = scenario.cluster.model_copy(update={"adapter": adapter})
    return scenario.model_copy(update={"cluster": cluster})


def compare_adapters(
    scenario: Scenario, adapters: Sequence[str], *, seed: int | None = None
) -> dict[str, dict[str, Any]]:
    """Run ``scenario`` once per adapter; metrics keyed by adapter.

    Each value holds :func:`~roomsim.analysis.run_metrics`'s keys plus
    ``deliveries_by_node`` and ``same_deliveries`` (whether exactly the
    same (message, client) pairs were delivered as with the first adapter).

    Examples
    --------
    >>> from roomsim.scenario import parse_scenario
    >>> sc = parse_scenario('''
    ... cluster: {nodes: 3}
    ... clients: [{name: a, node: n1, rooms: [r]}, {name: b, node: n2, rooms: [r]}]
    ... timeline: [{at: 10, emit: {from: n1, to: r}}]
    ... ''')
    >>> result = compare_adapters(sc, ["redis", "sharded-redis"])
    >>> [(name, m["received"], m["discarded"]) for name, m in result.items()]
    [('redis', 3, 2), ('sharded-redis', 2, 1)]
    >>> result["sharded-redis"]["same_deliveries"]
    True
    """
    results: dict[str, dict[str, Any]] = {}
    first: set[tuple[str, str]] | None = None
    for adapter in adapters:
        trace = Trace()
        run_scenario(with_adapter(scenario, adapter), seed=seed, trace=trace)
        delivered = trace.deliveries()
        first = delivered if first is None else first
        metrics = run_metrics(trace.tally)
        metrics["deliveries_by_node"] = dict(sorted(trace.tally.deliveries_by_node.items()))
        metrics["same_deliveries"] = delivered == first
        results[adapter] = metrics
    return results


def format_comparison(results: dict[str, dict[str, Any]]) -> str:
    """A plain-text table: one row per metric, one column per adapter.

    Numbers are written as in ``roomsim run``'s summary (the same names, the
    same decimals per metric: :data:`roomsim.summary.DECIMALS`).

    Examples
    --------
    >>> print(format_comparison({"redis": {"deliveries": 2_000, "useful_fraction": 0.25}}))
    metric                      redis
    deliveries                  2,000
    useful_fraction             0.250
    """
    names = list(results)
    width = max([15, *map(len, names)]) + 2
    lines = ["metric".ljust(20) + "".join(n.rjust(width) for n in names)]
    for column in COLUMNS:
        if not any(column in r for r in results.values()):
            continue
        decimals = DECIMALS.get(column, 0)
        cells = [format_number(results[n].get(column), decimals).rjust(width) for n in names]
        lines.append(column.ljust(20) + "".join(cells))
    return "\n".join(lines)
