"""The headline numbers of a run, as one flat mapping (a row of a results table)."""

from __future__ import annotations

from typing import Any

from roomsim.trace import Tally

__all__ = ["run_metrics"]


def run_metrics(tally: Tally) -> dict[str, Any]:
    """Counts and costs of one run, from its trace's running counts.

    Keys: ``clients``, ``emits``, ``deliveries``, ``drops``, ``errors``,
    ``published`` (messages nodes handed to the broker), ``received``
    (copies the broker handed to nodes, own echoes included), ``discarded``
    (copies a node threw away: its own, or with no local recipient),
    ``useful_fraction`` (received copies that reached someone),
    ``broker_bytes`` (bytes published), ``mean_latency_ms`` and
    ``max_latency_ms`` (emit to delivery), and ``end_ms``.

    Examples
    --------
    >>> from roomsim.trace import Trace
    >>> trace = Trace()
    >>> trace.record(0, "emit", msg="m1", node="n1", event="e")
    >>> trace.record(1, "relay", msg="m1", node="n1", channel="c", targets=0, ignored="own message")
    >>> trace.record(1, "relay", msg="m1", node="n2", channel="c", targets=2)
    >>> trace.add_deliveries(4, "m1", "n2", "e", ["a", "b"])
    >>> m = run_metrics(trace.tally)
    >>> m["deliveries"], m["received"], m["discarded"], m["useful_fraction"], m["mean_latency_ms"]
    (2, 2, 1, 0.5, 4.0)
    """
    kinds = tally.kinds
    received = sum(tally.relays_by_node.values())
    discarded = sum(tally.discarded_by_node.values())
    deliveries = kinds["deliver"]
    return {
        "clients": len(tally.clients),
        "emits": kinds["emit"],
        "deliveries": deliveries,
        "drops": sum(tally.drops_by_reason.values()),
        "errors": len(tally.errors),
        "published": sum(tally.publishes_by_node.values()),
        "received": received,
        "discarded": discarded,
        "useful_fraction": (received - discarded) / received if received else 1.0,
        "broker_bytes": sum(tally.bytes_by_node.values()),
        "mean_latency_ms": tally.latency_sum / deliveries if deliveries else 0.0,
        "max_latency_ms": tally.latency_max,
        "end_ms": tally.end_time,
    }
