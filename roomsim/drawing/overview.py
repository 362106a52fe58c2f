"""An overview picture of a run: who got which message, and each node's load."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from roomsim.analysis.outcomes import OUTCOMES, outcome_table

__all__ = ["OVERVIEW_FILES", "draw_outcomes", "save_overview"]

COLOURS = {"not targeted": "#eeeeee", "delivered": "#2e8b57", "dropped": "#c0392b"}


def draw_outcomes(records: Iterable[dict[str, Any]], ax: Any = None) -> Any:
    """Draw a grid of clients (rows) by messages (columns), coloured by fate.

    Returns the matplotlib ``Axes``.
    """
    import matplotlib.pyplot as plt
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    msgs, clients, fate = outcome_table(records)
    if ax is None:
        _, ax = plt.subplots(figsize=(max(4, 0.5 * len(msgs) + 2), max(2, 0.35 * len(clients) + 1)))
    code = {name: i for i, name in enumerate(OUTCOMES)}
    grid = [[code[fate.get((m, c), "not targeted")] for m in msgs] for c in clients]
    cmap = ListedColormap([COLOURS[name] for name in OUTCOMES])
    if grid and msgs:
        ax.imshow(grid, cmap=cmap, vmin=0, vmax=len(OUTCOMES) - 1, aspect="auto")
    ax.set_xticks(range(len(msgs)), msgs, rotation=90 if len(msgs) > 12 else 0)
    ax.set_yticks(range(len(clients)), clients)
    ax.set_xlabel("message")
    ax.set_ylabel("client")
    ax.set_title("who got which message")
    ax.legend(
        handles=[Patch(color=COLOURS[n], label=n) for n in OUTCOMES],
        loc="upper left",
        bbox_to_anchor=(1.01, 1),
        frameon=False,
    )
    return ax


def _draw_node_load(records: Iterable[dict[str, Any]], ax: Any) -> Any:
    deliveries: Counter[str] = Counter()
    relays: Counter[str] = Counter()
    nodes: dict[str, None] = {}
    for rec in records:
        kind = rec["kind"]
        if kind in ("deliver", "relay", "emit", "connect"):
            nodes[rec["node"]] = None
        if kind == "deliver":
            deliveries[rec["node"]] += 1
        elif kind == "relay":
            relays[rec["node"]] += 1
    names = list(nodes)
    xs = range(len(names))
    ax.bar([x - 0.2 for x in xs], [deliveries[n] for n in names], 0.4, label="deliveries")
    ax.bar(
        [x + 0.2 for x in xs],
        [relays[n] for n in names],
        0.4,
        label="broker copies received",
    )
    ax.set_xticks(list(xs), names)
    ax.set_xlabel("node")
    ax.set_ylabel("messages (deliveries, broker copies)")
    ax.set_title("load per node")
    ax.legend(frameon=False)
    return ax


def _save_views(records: list[dict[str, Any]], out: Path, written: list[Path]) -> None:
    """The space-time diagram, the latency CDF and the first message's delivery graph."""
    from roomsim.analysis import delivery_graph, latency_cdf, spacetime
    from roomsim.drawing.graph import delivery_figsize, draw_delivery_graph
    from roomsim.drawing.metrics import draw_latency_cdf
    from roomsim.drawing.output import draw_to_file
    from roomsim.drawing.spacetime import draw_spacetime, spacetime_figsize

    lanes = spacetime(records)
    written.append(
        draw_to_file(draw_spacetime, lanes, out / "timeline.png", spacetime_figsize(lanes))
    )
    written.append(draw_to_file(draw_latency_cdf, latency_cdf(records), out / "latency.png"))
    first = next((r["msg"] for r in records if r["kind"] == "emit"), None)
    if first is not None:
        graph = delivery_graph(records, first)
        written.append(
            draw_to_file(draw_delivery_graph, graph, out / "delivery.png", delivery_figsize(graph))
        )


#: the files :func:`save_overview` writes
OVERVIEW_FILES = ("timeline.png", "latency.png", "delivery.png", "outcomes.png", "nodes.png")


def save_overview(
    trace: Iterable[dict[str, Any]], out_dir: str | Path, title: str = ""
) -> list[Path]:
    """Write the pictures of a run into ``out_dir``: ``timeline.png`` (space-time),
    ``latency.png``, ``delivery.png`` (the first message's way), ``outcomes.png``
    (who got which message) and ``nodes.png`` (load per node).

    Each picture is written whole or not at all; when one cannot be written,
    the :class:`~roomsim.outputs.OutputError` raised lists in ``written`` the
    pictures written before it."""
    from matplotlib.figure import Figure

    from roomsim.drawing.output import save_figure
    from roomsim.outputs import OutputError

    records = list(trace)
    out = Path(out_dir)
    written: list[Path] = []
    try:
        _save_views(records, out, written)
        for name, draw in (("outcomes.png", draw_outcomes), ("nodes.png", _draw_node_load)):
            fig = Figure(figsize=(8, 4.5))
            ax = fig.subplots()
            draw(records, ax=ax)
            if title:
                fig.suptitle(title)
            fig.tight_layout()
            written.append(save_figure(fig, out / name))
    except OutputError as err:
        raise OutputError(str(err), written) from None
    return written
