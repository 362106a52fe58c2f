"""Aggregate pictures of a large run: per node over time, per room, grouped graphs.

They draw what :mod:`roomsim.analysis.aggregate` counts, and every title says
it is an aggregate view, why (how many clients) and how to see a slice in
detail (``roomsim draw --client/--room/--msg/--node``).
"""

from __future__ import annotations

from typing import Any

from roomsim.analysis.aggregate import DETAIL_CLIENTS, Activity, TargetOutcomes
from roomsim.analysis.records import round_ms
from roomsim.drawing.colours import FATE_COLOURS, OUTCOME_COLOURS, OUTCOME_HATCHES
from roomsim.drawing.output import new_axes

__all__ = ["activity_figsize", "aggregate_note", "draw_activity", "draw_target_outcomes"]

#: Rows (targets) the per-room picture shows; the rest are summed in one row.
MOST_TARGETS = 25
#: Rows that get a tick label each; beyond, every k-th.
_MOST_TICKS = 40


def aggregate_note(clients: int) -> str:
    """The line a title gets when a picture is an aggregate.

    Examples
    --------
    >>> aggregate_note(20000)
    'aggregate view: 20,000 clients (more than 200); --client, --room, --msg or --node for detail'
    """
    return (
        f"aggregate view: {clients:,} clients (more than {DETAIL_CLIENTS});"
        " --client, --room, --msg or --node for detail"
    )


def activity_figsize(data: Activity) -> tuple[float, float]:
    """A figure size with a readable row per node (up to 100 nodes, then thinned labels)."""
    return (12.0, min(16.0, max(3.5, 0.22 * len(data.nodes) + 2.2)))


def _thin(ax: Any, names: list[str]) -> None:
    step = max(1, -(-len(names) // _MOST_TICKS))
    ax.set_yticks(range(0, len(names), step), names[::step], fontsize=8 if step == 1 else 7)


def draw_activity(data: Activity, ax: Any = None, *, note: str | None = None) -> Any:
    """Draw deliveries per node and time bin as a heat map, and the bins with drops.

    The colour of a cell is the number of deliveries on a log scale (a
    colour bar gives it; white for none), so a burst does not hide the rest;
    a cell where clients lost messages carries an orange cross, larger for
    more drops (the legend gives the total).

    Returns the matplotlib ``Axes``; the image has ``gid`` ``aggregate:delivered``
    and the crosses ``aggregate:dropped``.

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> from roomsim.analysis.aggregate import Activity
    >>> data = Activity(["n1"], [0.0, 5.0, 10.0], [[3, 1]], [[0, 2]], clients=500)
    >>> ax = draw_activity(data, ax=Figure().subplots())
    >>> ax.get_title().splitlines()[0]
    'deliveries per node over time: 4 deliveries, 2 drops'
    """
    from matplotlib.lines import Line2D

    ax = new_axes(activity_figsize(data), ax)
    delivered, dropped = data.totals
    lo, hi = (data.edges[0], data.edges[-1]) if data.edges else (0.0, 1.0)
    if data.nodes:
        import matplotlib as mpl
        import numpy as np
        from matplotlib.colors import LogNorm

        counts = np.ma.masked_equal(np.array(data.delivered, dtype=float), 0)
        cmap = mpl.colormaps["Blues"].with_extremes(bad="white")
        image = ax.imshow(
            counts,
            aspect="auto",
            interpolation="nearest",
            cmap=cmap,
            norm=LogNorm(vmin=1, vmax=max(1.0, float(counts.max() or 1))),
            extent=(lo, hi, len(data.nodes) - 0.5, -0.5),
            gid="aggregate:delivered",
        )
        ax.figure.colorbar(
            image, ax=ax, label="deliveries per bin (log scale; white: none)", pad=0.01
        )
    width = (hi - lo) / max(1, len(data.edges) - 1)
    cells = [
        (lo + (j + 0.5) * width, i, n)
        for i, row in enumerate(data.dropped)
        for j, n in enumerate(row)
        if n
    ]
    if cells:
        most = max(n for *_, n in cells)
        ax.scatter(
            [x for x, _, _ in cells],
            [y for _, y, _ in cells],
            s=[20 + 80 * n / most for *_, n in cells],
            marker="X",
            c=FATE_COLOURS["dropped"],
            edgecolors="#333333",
            linewidths=0.5,
            zorder=3,
            gid="aggregate:dropped",
        )
    _thin(ax, data.nodes)
    ax.set_xlim(lo, hi)
    ax.set_xlabel(f"t (ms), bins of {round_ms(width)} ms")
    ax.set_ylabel("node")
    title = (
        f"deliveries per node over time: {delivered:,} deliver{'ies' if delivered != 1 else 'y'},"
        f" {dropped:,} drop{'s' * (dropped != 1)}"
    )
    ax.set_title(title + "\n" + (note or aggregate_note(data.clients)), fontsize=10)
    handles = [
        Line2D([], [], marker="X", ls="", color=FATE_COLOURS["dropped"], markeredgecolor="#333333",
               label=f"drops in the bin ({dropped:,} in all)"),
    ]  # fmt: skip
    ax.legend(
        handles=handles, loc="upper left", bbox_to_anchor=(0, -0.12), frameon=False, fontsize=8
    )
    return ax


def draw_target_outcomes(data: TargetOutcomes, ax: Any = None, *, note: str | None = None) -> Any:
    """Draw deliveries and drops per target (room) as stacked horizontal bars.

    The busiest :data:`MOST_TARGETS` targets get a bar each, the rest one bar
    together; dropped is orange and hatched (two cues), delivered dark blue;
    each bar ends with its counts.  Returns the matplotlib ``Axes``; the bars
    have ``gid`` ``aggregate:delivered`` and ``aggregate:dropped``.

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> from roomsim.analysis.aggregate import TargetOutcomes
    >>> data = TargetOutcomes(["lobby", "(everyone)"], [1, 1], [300, 0], [0, 5], clients=300)
    >>> ax = draw_target_outcomes(data, ax=Figure().subplots())
    >>> [t.get_text() for t in ax.get_yticklabels()]
    ['lobby (1 msg)', '(everyone) (1 msg)']
    """
    ax = new_axes((10, 6), ax)
    names = data.targets[:MOST_TARGETS]
    delivered = data.delivered[:MOST_TARGETS]
    dropped = data.dropped[:MOST_TARGETS]
    messages = data.messages[:MOST_TARGETS]
    rest = len(data.targets) - len(names)
    labels = [f"{n} ({m:,} msg{'s' * (m != 1)})" for n, m in zip(names, messages, strict=True)]
    if rest > 0:
        names = [*names, "others"]
        labels.append(f"{rest:,} other targets ({sum(data.messages[MOST_TARGETS:]):,} msgs)")
        delivered.append(sum(data.delivered[MOST_TARGETS:]))
        dropped.append(sum(data.dropped[MOST_TARGETS:]))
    ys = list(range(len(names)))
    ax.barh(ys, delivered, color=OUTCOME_COLOURS["delivered"], label="delivered",
            gid="aggregate:delivered")  # fmt: skip
    ax.barh(ys, dropped, left=delivered, color=OUTCOME_COLOURS["dropped"],
            hatch=OUTCOME_HATCHES["dropped"], edgecolor="#5a3d00", linewidth=0,
            label="dropped", gid="aggregate:dropped")  # fmt: skip
    for y, d, x in zip(ys, delivered, dropped, strict=True):
        ax.annotate(f" {d:,} delivered" + (f", {x:,} dropped" if x else ""),
                    (d + x, y), va="center", fontsize=7)  # fmt: skip
    ax.set_yticks(ys, labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, max([d + x for d, x in zip(delivered, dropped, strict=True)] + [1]) * 1.3)
    ax.set_xlabel("deliveries and drops (clients)")
    total_d, total_x = sum(data.delivered), sum(data.dropped)
    ax.set_title(
        f"who got the messages, per room: {total_d:,} delivered, {total_x:,} dropped\n"
        + (note or aggregate_note(data.clients)),
        fontsize=10,
    )
    ax.legend(loc="lower right", frameon=False, fontsize=8)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return ax
