"""The pictures of a run (``roomsim run --out``): who got which message, each node's load, ...

Up to :data:`~roomsim.analysis.aggregate.DETAIL_CLIENTS` clients every
picture draws each client; beyond, the timeline and the outcome grid become
aggregates (per node over time, per room) and the delivery graph groups the
clients of each node, each title saying so.  Every picture then takes a
pass or two over the records, in memory that does not grow with deliveries.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from roomsim.analysis.aggregate import DETAIL_CLIENTS, count_clients
from roomsim.analysis.outcomes import OUTCOMES, outcome_table
from roomsim.drawing.colours import OUTCOME_COLOURS, OUTCOME_HATCHES, OUTCOME_MARKERS
from roomsim.drawing.output import new_axes

__all__ = ["OVERVIEW_FILES", "draw_outcomes", "save_outcomes", "save_overview"]

#: The marker colour on each cell's fill (white on dark blue, black on orange).
_MARKER_COLOURS = {"delivered": "white", "dropped": "black"}


def draw_outcomes(
    records: Iterable[dict[str, Any]], ax: Any = None, *, aggregate: bool | None = None
) -> Any:
    """Draw a grid of clients (rows) by messages (columns), one cell per pair.

    With more than :data:`~roomsim.analysis.aggregate.DETAIL_CLIENTS`
    clients (or ``aggregate=True``) it draws
    :func:`~roomsim.drawing.aggregate.draw_target_outcomes` instead:
    deliveries and drops per room, with a title that says so.

    A cell tells its fate three ways: its colour (a colour-blind-safe palette,
    :data:`~roomsim.drawing.colours.OUTCOME_COLOURS`), a marker (a dot for
    delivered, a cross for dropped, nothing when not targeted) and, for
    dropped, a hatch; white gridlines separate the cells.

    Returns the matplotlib ``Axes``.
    """
    import matplotlib.pyplot as plt
    from matplotlib.colors import ListedColormap
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch, Rectangle

    if aggregate is None:
        records = records if iter(records) is not records else list(records)
        aggregate = count_clients(records) > DETAIL_CLIENTS
    if aggregate:
        from roomsim.analysis.aggregate import target_outcomes
        from roomsim.drawing.aggregate import draw_target_outcomes

        return draw_target_outcomes(target_outcomes(records), ax=new_axes((10, 6), ax))
    msgs, clients, fate = outcome_table(records)
    if ax is None:
        _, ax = plt.subplots(figsize=(max(4, 0.5 * len(msgs) + 2), max(2, 0.35 * len(clients) + 1)))
    code = {name: i for i, name in enumerate(OUTCOMES)}
    names = [[fate.get((m, c), "not targeted") for m in msgs] for c in clients]
    if names and msgs:
        cmap = ListedColormap([OUTCOME_COLOURS[name] for name in OUTCOMES])
        grid = [[code[name] for name in row] for row in names]
        ax.imshow(grid, cmap=cmap, vmin=0, vmax=len(OUTCOMES) - 1, aspect="auto")
    for name in OUTCOMES:
        cells = [(x, y) for y, row in enumerate(names) for x, n in enumerate(row) if n == name]
        if not cells:
            continue
        if OUTCOME_HATCHES[name]:
            for x, y in cells:
                ax.add_patch(
                    Rectangle(
                        (x - 0.5, y - 0.5),
                        1,
                        1,
                        fill=False,
                        hatch=OUTCOME_HATCHES[name],
                        edgecolor="#5a3d00",
                        linewidth=0,
                    )
                )
        if OUTCOME_MARKERS[name]:
            ax.scatter(
                [x for x, _ in cells],
                [y for _, y in cells],
                marker=OUTCOME_MARKERS[name],
                s=36,
                c=_MARKER_COLOURS[name],
                zorder=3,
                gid=f"outcome:{name}",
            )
    ax.set_xticks(range(len(msgs)), msgs, rotation=90 if len(msgs) > 12 else 0)
    ax.set_yticks(range(len(clients)), clients)
    ax.set_xticks([x - 0.5 for x in range(1, len(msgs))], minor=True)
    ax.set_yticks([y - 0.5 for y in range(1, len(clients))], minor=True)
    ax.grid(which="minor", color="white", linewidth=1.5)
    ax.tick_params(which="both", length=0)
    ax.set_xlabel("message")
    ax.set_ylabel("client")
    ax.set_title("who got which message")
    handles: list[Any] = []
    for name in OUTCOMES:
        colour = OUTCOME_COLOURS[name]
        if OUTCOME_MARKERS[name]:
            handles.append(
                Line2D(
                    [],
                    [],
                    marker=OUTCOME_MARKERS[name],
                    linestyle="",
                    markersize=10,
                    markerfacecolor=colour,
                    markeredgecolor="#333333",
                    label=name,
                )
            )
        else:
            handles.append(Patch(facecolor=colour, edgecolor="#999999", label=name))
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False)
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
    step = max(1, -(-len(names) // 40))
    ax.set_xticks(list(xs)[::step], names[::step], rotation=90 if len(names) > 12 else 0,
                  fontsize=8 if len(names) > 12 else None)  # fmt: skip
    ax.set_xlabel("node")
    ax.set_ylabel("messages (deliveries, broker copies)")
    ax.set_title("load per node")
    ax.legend(frameon=False)
    return ax


#: the files :func:`save_overview` writes
OVERVIEW_FILES = ("timeline.png", "latency.png", "delivery.png", "outcomes.png", "nodes.png")


def save_overview(
    trace: Iterable[dict[str, Any]],
    out_dir: str | Path,
    title: str = "",
    *,
    progress: bool | None = None,
) -> list[Path]:
    """Write the pictures of a run into ``out_dir``: ``timeline.png`` (space-time),
    ``latency.png``, ``delivery.png`` (the first message's way), ``outcomes.png``
    (who got which message) and ``nodes.png`` (load per node).

    Beyond :data:`~roomsim.analysis.aggregate.DETAIL_CLIENTS` clients the
    timeline shows deliveries and drops per node over time and the outcomes
    per room, and the delivery graph groups clients per node (the titles say
    so).  ``progress`` shows a bar (default: when standard error is a terminal).

    Each picture is written whole or not at all; when one cannot be written,
    the :class:`~roomsim.outputs.OutputError` raised lists in ``written`` the
    pictures written before it."""
    from tqdm.auto import tqdm

    from roomsim.outputs import OutputError

    records = trace if iter(trace) is not trace else list(trace)
    big = count_clients(records) > DETAIL_CLIENTS
    out = Path(out_dir)
    written: list[Path] = []
    steps = [
        ("timeline.png", _timeline),
        ("latency.png", _latency),
        ("delivery.png", _delivery),
        ("outcomes.png", _outcomes),
        ("nodes.png", _nodes),
    ]
    try:
        with tqdm(
            total=len(steps),
            unit="picture",
            desc="pictures",
            disable=None if progress is None else not progress,
        ) as bar:
            for name, draw in steps:
                bar.set_postfix_str(name)
                path = draw(records, out / name, big, title)
                if path is not None:
                    written.append(path)
                bar.update(1)
    except OutputError as err:
        raise OutputError(str(err), written) from None
    return written


def _timeline(records: Iterable[dict[str, Any]], path: Path, big: bool, title: str) -> Path:
    from roomsim.drawing.output import draw_to_file

    if big:
        from roomsim.analysis.aggregate import activity
        from roomsim.drawing.aggregate import activity_figsize, draw_activity

        data = activity(records)
        return draw_to_file(draw_activity, data, path, activity_figsize(data))
    from roomsim.analysis import spacetime
    from roomsim.drawing.spacetime import draw_spacetime, spacetime_figsize

    lanes = spacetime(records)
    return draw_to_file(draw_spacetime, lanes, path, spacetime_figsize(lanes))


def _latency(records: Iterable[dict[str, Any]], path: Path, big: bool, title: str) -> Path:
    from roomsim.analysis import latency_cdf
    from roomsim.drawing.metrics import draw_latency_cdf
    from roomsim.drawing.output import draw_to_file

    return draw_to_file(draw_latency_cdf, latency_cdf(records), path)


def _delivery(records: Iterable[dict[str, Any]], path: Path, big: bool, title: str) -> Path | None:
    from roomsim.analysis import delivery_graph
    from roomsim.drawing.graph import delivery_figsize, draw_delivery_graph
    from roomsim.drawing.output import draw_to_file

    first = next((r["msg"] for r in records if r["kind"] == "emit"), None)
    if first is None:
        return None
    # only what the graph needs: the first message's records and the connects
    mine = [r for r in records if r.get("msg") == first or r["kind"] == "connect"]
    graph = delivery_graph(mine, first)
    return draw_to_file(draw_delivery_graph, graph, path, delivery_figsize(graph))


def _outcomes(records: Iterable[dict[str, Any]], path: Path, big: bool, title: str) -> Path:
    return _one_axes(lambda ax: draw_outcomes(records, ax=ax, aggregate=big), path, title,
                     (10, 6) if big else (8, 4.5))  # fmt: skip


def _nodes(records: Iterable[dict[str, Any]], path: Path, big: bool, title: str) -> Path:
    return _one_axes(lambda ax: _draw_node_load(records, ax), path, title, (8, 4.5))


def _one_axes(draw: Any, path: Path, title: str, size: tuple[float, float]) -> Path:
    from matplotlib.figure import Figure

    from roomsim.drawing.output import save_figure

    fig = Figure(figsize=size)
    draw(fig.subplots())
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return save_figure(fig, path)


def save_outcomes(records: Iterable[dict[str, Any]], path: str | Path, *, aggregate: bool) -> Path:
    """Write :func:`draw_outcomes` of ``records`` to ``path``, sized to its rows and columns."""
    from matplotlib.figure import Figure

    from roomsim.drawing.output import save_figure

    if aggregate:
        fig = Figure(figsize=(10, 6))
    else:
        records = records if iter(records) is not records else list(records)
        msgs, clients, _ = outcome_table(records)
        fig = Figure(
            figsize=(max(5, 0.4 * len(msgs) + 3), min(40, max(2.5, 0.3 * len(clients) + 1.5)))
        )
    draw_outcomes(records, ax=fig.subplots(), aggregate=aggregate)
    fig.tight_layout()
    return save_figure(fig, Path(path))
