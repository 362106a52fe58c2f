"""A short human summary of a run, from its trace's running counts."""

from __future__ import annotations

from collections.abc import Iterable

from roomsim.trace import Tally, format_time

__all__ = ["summarize"]


def summarize(
    tally: Tally,
    *,
    title: str | None = None,
    nodes: Iterable[str] = (),
    adapter: str | None = None,
    seed: int | None = None,
) -> str:
    """Clients, messages, deliveries, drops and errors, then a line per node.

    Examples
    --------
    >>> from roomsim.trace import Trace
    >>> trace = Trace()
    >>> trace.record(0, "connect", client="alice", node="n1", sid="s1")
    >>> trace.record(1, "emit", msg="m1", node="n1", event="news")
    >>> trace.add_deliveries(3, "m1", "n1", "news", ["alice"])
    >>> print(summarize(trace.tally, title="demo", nodes=["n1"], adapter="memory", seed=0))
    demo: 1 node (memory adapter), seed 0, ended at t=3 ms
    clients: 1   messages emitted: 1   deliveries: 1   drops: 0   errors: 0
    node   connects    emits  deliveries  published  relayed
    n1            1        1           1          0        0
    """
    nodes = list(nodes) or sorted(
        set(tally.deliveries_by_node) | set(tally.emits_by_node) | set(tally.relays_by_node)
    )
    kinds = tally.kinds
    drops = sum(tally.drops_by_reason.values())
    head = title or "run"
    where = f"{len(nodes)} node{'s' if len(nodes) != 1 else ''}"
    if adapter:
        where += f" ({adapter} adapter)"
    lines = [
        f"{head}: {where}, seed {seed}, ended at t={format_time(tally.end_time):.10g} ms",
        f"clients: {len(tally.clients)}   messages emitted: {kinds['emit']}"
        f"   deliveries: {kinds['deliver']}   drops: {drops}   errors: {len(tally.errors)}",
    ]
    if drops:
        lines.append(
            "drops by reason: "
            + ", ".join(f"{reason}: {n}" for reason, n in sorted(tally.drops_by_reason.items()))
        )
    lines.append(
        f"{'node':<6}{'connects':>9}{'emits':>9}{'deliveries':>12}{'published':>11}{'relayed':>9}"
    )
    for node in nodes:
        lines.append(
            f"{node:<6}{tally.clients_by_node[node]:>9}{tally.emits_by_node[node]:>9}"
            f"{tally.deliveries_by_node[node]:>12}{tally.publishes_by_node[node]:>11}"
            f"{tally.relays_by_node[node]:>9}"
        )
    for err in tally.errors:
        lines.append(f"error at t={err['t']} ms, {err['step']} ({err['action']}): {err['message']}")
    return "\n".join(lines)
