"""The figures of a run, and the short human summary printed from them.

:func:`run_figures` gathers every number a summary shows into one plain dict
(what ``roomsim run --json`` prints); :func:`format_summary` renders that
dict as text.  Both the text and the JSON therefore show the same figures.

Numbers are written one way everywhere: counts with thousands separators,
times and fractions with a fixed number of decimals per column
(:data:`DECIMALS`), and ``-`` for a figure that does not exist.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from roomsim.analysis.metrics import run_metrics
from roomsim.trace import Tally, format_time

__all__ = [
    "BUSIEST",
    "DECIMALS",
    "LOAD_COLUMNS",
    "NODE_COLUMNS",
    "NODE_ROWS",
    "format_number",
    "format_summary",
    "plural",
    "run_figures",
    "summarize",
]

#: the per-node columns of a summary, in order
NODE_COLUMNS = ("connects", "emits", "deliveries", "published", "received", "discarded")
#: a node table longer than this shows min / median / max and the busiest nodes
NODE_ROWS = 20
#: how many of the busiest nodes (by deliveries) a shortened node table shows
BUSIEST = 5
#: decimals of the columns that are not counts (every other column is a count)
DECIMALS: dict[str, int] = {
    "useful_fraction": 3,
    "mean_latency_ms": 1,
    "max_latency_ms": 1,
    "p50": 1,
    "p95": 1,
    "p99": 1,
    "max": 1,
}


def plural(count: int, noun: str, many: str | None = None) -> str:
    """``count`` and ``noun``, with the noun in the plural unless the count is 1.

    Examples
    --------
    >>> plural(1, "node"), plural(2, "node"), plural(1_200, "client"), plural(0, "copy", "copies")
    ('1 node', '2 nodes', '1,200 clients', '0 copies')
    """
    word = noun if count == 1 else (many or noun + "s")
    return f"{count:,} {word}"


def format_number(value: Any, decimals: int = 0) -> str:
    """One cell: a count with thousands separators, else ``decimals`` decimals.

    Examples
    --------
    >>> format_number(1234567), format_number(0.25, 3), format_number(5, 1), format_number(None)
    ('1,234,567', '0.250', '5.0', '-')
    >>> format_number(2.0), format_number(True)
    ('2', 'yes')
    """
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)):
        if decimals == 0:
            return f"{round(value):,}"
        return f"{value:,.{decimals}f}"
    return str(value)


def _node_rows(tally: Tally, nodes: Sequence[str]) -> list[dict[str, Any]]:
    counters = {
        "connects": tally.clients_by_node,
        "emits": tally.emits_by_node,
        "deliveries": tally.deliveries_by_node,
        "published": tally.publishes_by_node,
        "received": tally.relays_by_node,
        "discarded": tally.discarded_by_node,
    }
    return [
        {"node": node, **{column: counters[column][node] for column in NODE_COLUMNS}}
        for node in nodes
    ]


def run_figures(
    tally: Tally,
    *,
    title: str | None = None,
    nodes: Iterable[str] = (),
    adapter: str | None = None,
    seed: int | None = None,
    delivery: Mapping[str, Mapping[str, Any]] | None = None,
    violations: Sequence[Any] | None = None,
    load: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Every figure of a run's summary, as plain JSON-ready values.

    Parameters
    ----------
    tally : Tally
        The trace's running counts.
    title, nodes, adapter, seed
        The run's name, its nodes (default: those the trace mentions), its
        adapter and seed.
    delivery : dict, optional
        :func:`~roomsim.analysis.delivery_summary` of the trace, when known.
    violations : list, optional
        What the checks found (``None``: the checks did not run).
    load : dict, optional
        :func:`~roomsim.loop.load_figures` of a run with costs: each node's
        loop and the broker's utilisation, longest backlog and saturation.

    Returns
    -------
    dict
        ``title``, ``nodes`` (the count), ``adapter``, ``seed``, the totals of
        :func:`~roomsim.analysis.run_metrics` (``clients``, ``emits``,
        ``deliveries``, ``drops``, ``errors``, ``published``, ``received``,
        ``discarded``, ...), ``drops_by_reason``, ``node_rows`` (one dict per
        node with :data:`NODE_COLUMNS`), ``error_records``, ``delivery``
        and ``checks`` (``None``, or ``{"ok": bool, "violations": [str]}``).

    Examples
    --------
    >>> from roomsim.trace import Trace
    >>> trace = Trace()
    >>> trace.record(0, "connect", client="alice", node="n1", sid="s1")
    >>> trace.record(1, "emit", msg="m1", node="n1", event="news")
    >>> trace.add_deliveries(3, "m1", "n1", "news", ["alice"])
    >>> figures = run_figures(trace.tally, title="demo", adapter="memory", seed=0)
    >>> figures["nodes"], figures["deliveries"], figures["node_rows"][0]["connects"]
    (1, 1, 1)
    """
    nodes = list(nodes) or sorted(
        set(tally.deliveries_by_node)
        | set(tally.emits_by_node)
        | set(tally.relays_by_node)
        | set(tally.clients_by_node)
    )
    figures: dict[str, Any] = {
        "title": title or "run",
        "nodes": len(nodes),
        "adapter": adapter,
        "seed": seed,
    }
    figures.update(run_metrics(tally))
    figures["end_ms"] = format_time(tally.end_time)
    figures["drops_by_reason"] = dict(sorted(tally.drops_by_reason.items()))
    figures["node_rows"] = _node_rows(tally, nodes)
    figures["error_records"] = [
        {key: err.get(key) for key in ("t", "step", "action", "message")} for err in tally.errors
    ]
    figures["delivery"] = (
        None if delivery is None else {kind: dict(row) for kind, row in delivery.items()}
    )
    figures["checks"] = (
        None
        if violations is None
        else {"ok": not violations, "violations": [str(v) for v in violations]}
    )
    figures["load"] = None if load is None else dict(load)
    return figures


def _table(
    header: Sequence[str], rows: Iterable[Sequence[str]], first: int, widths: Sequence[int]
) -> list[str]:
    def line(cells: Sequence[str]) -> str:
        return cells[0].ljust(first) + "".join(
            c.rjust(w) for c, w in zip(cells[1:], widths, strict=True)
        )

    return [line(header), *(line(cells) for cells in rows)]


def _node_table(node_rows: list[dict[str, Any]], full: bool) -> list[str]:
    header = ["node", *NODE_COLUMNS]
    widths = [max(len(c), 8) + 2 for c in NODE_COLUMNS]

    def cells(label: str, row: Mapping[str, Any]) -> list[str]:
        return [label, *(format_number(row[c]) for c in NODE_COLUMNS)]

    if full or len(node_rows) <= NODE_ROWS:
        first = max([6, *(len(r["node"]) + 2 for r in node_rows)])
        return _table(header, [cells(r["node"], r) for r in node_rows], first, widths)
    stats = {
        name: {c: fn([r[c] for r in node_rows]) for c in NODE_COLUMNS}
        for name, fn in (("min", min), ("median", statistics.median_low), ("max", max))
    }
    busiest = sorted(node_rows, key=lambda r: (-r["deliveries"], r["node"]))[:BUSIEST]
    first = max([8, *(len(r["node"]) + 2 for r in busiest)])
    lines = [
        f"{plural(len(node_rows), 'node')}: min, median and max per node (--full for every row)"
    ]
    lines += _table(header, [cells(name, row) for name, row in stats.items()], first, widths)
    lines.append(f"the {plural(len(busiest), 'busiest node')}, by deliveries:")
    lines += _table(header, [cells(r["node"], r) for r in busiest], first, widths)[1:]
    return lines


def _delivery_table(delivery: Mapping[str, Mapping[str, Any]], adapter: str | None) -> list[str]:
    label = "emit kind" + (f" ({adapter})" if adapter else "")
    columns = [("targeted", "targeted"), ("delivered", "delivered"), ("lost", "lost")]
    columns += [(key, f"{key} ms") for key in ("p50", "p95", "p99", "max")]
    widths = [10, 11, 7, 9, 9, 9, 9]  # as analysis.format_delivery_summary
    rows = [
        [kind, *(format_number(row[key], DECIMALS.get(key, 0)) for key, _ in columns)]
        for kind, row in delivery.items()
        if row["targeted"]
    ]
    return _table([label, *(title for _, title in columns)], rows, 22, widths)


#: the columns of the loops' table of a run with costs
LOAD_COLUMNS = (
    "utilisation",
    "peak_utilisation",
    "busy_ms",
    "max_backlog_ms",
    "max_backlog_at",
    "max_queue",
)


def _load_table(load: Mapping[str, Any]) -> list[str]:
    """Each node's loop and the broker: busy fraction, longest backlog and when."""
    rows = [(name, f) for name, f in load["nodes"].items()]
    if load.get("broker") is not None:
        rows.append(("broker", load["broker"]))
    widths = [8, 11, 9, 10, 15, 12, 10]
    head = ["loop", "utilisation", "peak 1 s", "busy ms", "max backlog ms", "at ms", "max queue"]
    out = [
        "  ".join(
            h.ljust(w) if i == 0 else h.rjust(w)
            for i, (h, w) in enumerate(zip(head, widths, strict=True))
        )
    ]
    decimals = {
        "utilisation": 3,
        "peak_utilisation": 3,
        "busy_ms": 1,
        "max_backlog_ms": 2,
        "max_backlog_at": 1,
    }
    for name, f in rows:
        cells = [name] + [format_number(f[c], decimals.get(c, 0)) for c in LOAD_COLUMNS]
        out.append(
            "  ".join(
                c.ljust(w) if i == 0 else c.rjust(w)
                for i, (c, w) in enumerate(zip(cells, widths, strict=True))
            )
        )
    for name in load.get("saturated", ()):
        what = "the broker's queue" if name == "broker" else f"node {name}'s event loop"
        out.append(f"warning: {what} is saturated: its queue grows without bound over the run")
    return out


def format_summary(figures: Mapping[str, Any], *, full: bool = False) -> str:
    """The text of a summary, from :func:`run_figures`'s dict.

    A node table of more than :data:`NODE_ROWS` nodes is shortened to the
    minimum, median and maximum of each column and the :data:`BUSIEST`
    nodes by deliveries, unless ``full``.

    Examples
    --------
    >>> from roomsim.trace import Trace
    >>> trace = Trace()
    >>> for i in range(1, 31):
    ...     trace.record(0, "connect", client=f"c{i}", node=f"n{i}", sid=f"s{i}")
    >>> trace.record(1, "emit", msg="m1", node="n1", event="news")
    >>> trace.add_deliveries(3, "m1", "n7", "news", ["c7"])
    >>> text = format_summary(run_figures(trace.tally, seed=1))
    >>> print(text)  # doctest: +ELLIPSIS
    run: 30 nodes, seed 1, ended at t=3 ms
    clients: 30   messages emitted: 1   deliveries: 1   drops: 0   errors: 0
    30 nodes: min, median and max per node (--full for every row)
    node    connects     emits  deliveries  published  received  discarded
    min            1         0           0          0         0          0
    median         1         0           0          0         0          0
    max            1         1           1          0         0          0
    the 5 busiest nodes, by deliveries:
    n7             1         0           1          0         0          0
    n1             1         1           0          0         0          0
    ...
    >>> len(format_summary(run_figures(trace.tally), full=True).splitlines())
    33
    """
    where = plural(figures["nodes"], "node")
    if figures.get("adapter"):
        where += f" ({figures['adapter']} adapter)"
    lines = [
        f"{figures['title']}: {where}, seed {figures['seed']},"
        f" ended at t={figures['end_ms']:,.10g} ms",
        f"clients: {figures['clients']:,}   messages emitted: {figures['emits']:,}"
        f"   deliveries: {figures['deliveries']:,}   drops: {figures['drops']:,}"
        f"   errors: {figures['errors']:,}",
    ]
    if figures["drops_by_reason"]:
        lines.append(
            "drops by reason: "
            + ", ".join(f"{reason}: {n:,}" for reason, n in figures["drops_by_reason"].items())
        )
    lines += _node_table(figures["node_rows"], full)
    for err in figures["error_records"]:
        lines.append(f"error at t={err['t']} ms, {err['step']} ({err['action']}): {err['message']}")
    if figures.get("delivery") is not None:
        lines += _delivery_table(figures["delivery"], figures.get("adapter"))
    if figures.get("load") is not None:
        lines += _load_table(figures["load"])
    checks = figures.get("checks")
    if checks is not None:
        if checks["ok"]:
            lines.append("checks: ok (at most once, order, recipients, nothing lost silently)")
        else:
            found = checks["violations"]
            lines.append(f"checks: {plural(len(found), 'violation')}:")
            lines += [f"  {v}" for v in found[:50]]
            if len(found) > 50:
                lines.append(f"  ... and {len(found) - 50:,} more (--json lists every one)")
    return "\n".join(lines)


def summarize(
    tally: Tally,
    *,
    title: str | None = None,
    nodes: Iterable[str] = (),
    adapter: str | None = None,
    seed: int | None = None,
    full: bool = False,
) -> str:
    """Clients, messages, deliveries, drops and errors, then a line per node.

    The text of :func:`format_summary` for :func:`run_figures`.

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
    node    connects     emits  deliveries  published  received  discarded
    n1             1         1           1          0         0          0
    """
    figures = run_figures(tally, title=title, nodes=nodes, adapter=adapter, seed=seed)
    return format_summary(figures, full=full)
